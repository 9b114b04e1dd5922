@auth
Feature: Authentication, seen from the server under test
  The server checks the device's credentials, challenges with fresh nonces, refuses replays
  and authenticates itself when the device requires it (facts §6.1–§6.3).

  @id:AUTH-002 @req:DMRD-6.3.4-2,DMRD-6.1.1.2-3 @server @must @ics:auth.md5
  Scenario: Right md5 credentials are accepted for the session (212)
    Given the client authenticates with md5
    And the client has an account on the server
    When the client starts a session
    Then the server's last Status for the SyncHdr is 212
    And the session completes

  @id:AUTH-004 @req:DMRD-6.3.4-2,DMRD-6.1.1.1-1 @server @must @ics:auth.md5
  Scenario: Wrong md5 credentials get 401 with an md5 challenge and no commands
    Given the client authenticates with md5
    And the server knows a wrong secret of the client
    And the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the server's first Status for the SyncHdr is 401
    And the server challenges with md5
    And the server sends no further management command

  @id:AUTH-006 @req:DMRD-6.3.4-2 @server @must @ics:auth.md5
  Scenario: Missing credentials get 407 with a challenge
    Given the client authenticates with md5
    And the tester client misbehaves: no_credentials
    And the client has an account on the server
    When the client starts a session
    Then the server's first Status for the SyncHdr is 407
    And the server challenges with md5

  @id:AUTH-008 @req:DMRD-6.3.4-27 @server @must @ics:auth.md5
  Scenario: A stale nonce gets a challenge with a fresh one, and the retry is accepted
    Given the client authenticates with md5
    And the server expects a nonce the client does not know
    And the client has an account on the server
    When the client starts a session
    Then the server challenges with md5
    And the server's last Status for the SyncHdr is 212
    And the session completes

  @id:AUTH-010 @req:DMRD-6.3.4-2 @server @must @ics:auth.basic
  Scenario: Right basic credentials are accepted (212)
    Given the client authenticates with basic
    And the client has an account on the server
    When the client starts a session
    Then the server's last Status for the SyncHdr is 212
    And the session completes

  @id:AUTH-012 @req:DMRD-6.1.1.4-1 @server @must @ics:auth.hmac
  Scenario: With HMAC the server accepts each MAC'd message (200) and signs its own
    Given the client authenticates with hmac
    And the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the server's last Status for the SyncHdr is 200
    And every Status from the server references a command it received
    And the session completes

  @id:AUTH-014 @req:DMRD-6.1.1.1-2 @server @must @ics:auth.md5
  Scenario: Client credentials replayed from an earlier session are refused
    Given the client authenticates with md5
    And the tester client misbehaves: replay_credentials
    And the client has an account on the server
    When the client starts a session
    And the client starts another session
    Then the server's first Status for the SyncHdr is 401

  @id:AUTH-016 @req:DMRD-6.3.4-2,DMRD-6.3.4-27 @server @must @ics:auth.md5
  Scenario: A server the device must authenticate presents credentials the device accepts
    Given the client authenticates with md5
    And the server authenticates with md5
    And the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the client's last Status for the SyncHdr is 212
    And the server records the result "dmconf"

  @id:AUTH-018 @req:DMRD-6.1.1.1-2,DMRD-6.3.4-27 @server @must @ics:auth.md5
  Scenario: The server issues a different nonce for each session
    Given the client authenticates with md5
    And the server expects a nonce the client does not know
    And the client has an account on the server
    When the client starts a session
    And the client starts another session
    Then the server's challenge nonces all differ

  @id:AUTH-020 @req:DMRD-6.1.1.4-1 @server @must @ics:auth.hmac
  Scenario: A message with a wrong MAC is refused
    Given the client authenticates with hmac
    And the tester client misbehaves: bad_hmac
    And the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the server's first Status for the SyncHdr is 401
    And the server sends no further management command
