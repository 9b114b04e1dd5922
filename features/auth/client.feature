@auth
Feature: Authentication, seen from the client under test
  The client proves who it is (basic, md5, HMAC), answers challenges with the newest nonce,
  and authenticates the server before it executes anything (facts §6.1–§6.3).

  @id:AUTH-001 @req:DMRD-6.3.1-29 @client @must @ics:auth.md5
  Scenario: The client's md5 credentials are accepted for the session (212)
    Given the client authenticates with md5
    And the client has an account on the server
    When the client starts a session
    Then the server's last Status for the SyncHdr is 212
    And the session completes

  @id:AUTH-003 @req:DMRD-6.3.1-29 @client @must @ics:auth.basic
  Scenario: The client's basic credentials are accepted for the session (212)
    Given the client authenticates with basic
    And the client has an account on the server
    When the client starts a session
    Then the server's last Status for the SyncHdr is 212
    And the session completes

  @id:AUTH-005 @req:DMRD-6.1.1.4-1 @client @must @ics:auth.hmac
  Scenario: With HMAC every client message carries a MAC the server accepts (200 per message)
    Given the client authenticates with hmac
    And the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the server's last Status for the SyncHdr is 200
    And every Status from the server references a command it received
    And the session completes

  @id:AUTH-007 @req:DMRD-6.3.1-29 @client @must @ics:auth.md5
  Scenario: Challenged with a new nonce, the client retries with it and is accepted
    Given the client authenticates with md5
    And the server expects a nonce the client does not know
    And the client has an account on the server
    When the client starts a session
    Then the server challenges with md5
    And the server's last Status for the SyncHdr is 212
    And the session completes

  @id:AUTH-009 @req:DMRD-6.1.1.2-1,DMRD-6.1.1.1-1,DM-SEC-001 @client @must @ics:auth.md5
  Scenario: A server with wrong credentials is refused and gets nothing executed
    Given the server authenticates with md5
    And the server presents a wrong secret
    And the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the client's first Status for the SyncHdr is 401
    And the client returns no Results

  @id:AUTH-011 @req:DMRD-6.1.1.2-1,DMRD-6.1.1.3-1,DM-HLF-015 @client @must @ics:auth.md5
  Scenario: A server that sends no credentials where they are required gets 407 and nothing executed
    Given the server authenticates with md5
    And the tester server misbehaves: no_server_credentials
    And the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the client's first Status for the SyncHdr is 407
    And the client returns no Results

  @id:AUTH-013 @req:DMRD-6.1.1.1-2 @client @must @ics:auth.md5
  Scenario: Server credentials replayed from an earlier session are refused
    Given the server authenticates with md5
    And the tester server misbehaves: replay_credentials
    And the client has an account on the server
    And the server queues a Get of "./DevInfo/Mod"
    When the client starts a session
    And the server queues a Get of "./DevInfo/Man"
    And the client starts another session
    Then the client's first Status for the SyncHdr is 401

  @id:AUTH-015 @req:DMRD-6.1.1.2-1,DM-SEC-001 @client @must @ics:auth.md5
  Scenario: A server with the right credentials is accepted (212) and served
    Given the server authenticates with md5
    And the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the client's last Status for the SyncHdr is 212
    And the client returns Results for "./DevInfo/Man"

  @id:AUTH-017 @req:DMRD-6.3.1-29 @client @must @ics:auth.md5
  Scenario: Refused credentials end the client's attempts: the session does not complete
    Given the client authenticates with md5
    And the server knows a wrong secret of the client
    And the client has an account on the server
    When the client starts a session
    Then the server challenges with md5
    And the session does not complete
