@session
Feature: Session end and abort
  A session ends when the server's package holds no more commands, or when either side
  sends Alert 1223 (facts §2.2, §2.3).

  @id:END-001 @req:DMRD-6.3.1.2-5 @client @must
  Scenario: A server package without commands ends the session without a client answer
    Given the client has an account on the server
    When the client starts a session
    Then the session completes
    And the last message from the server carries Final

  @id:END-002 @req:DMRD-6.3.1.2-5 @client @must
  Scenario: The client executes nothing after the server aborts with Alert 1223
    Given the client has an account on the server
    And the server queues these commands:
      """
      [{"Command": "Alert", "CmdID": "0", "Data": 1223}]
      """
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the client returns no Results

  @id:END-101 @req:DMRD-6.3.1.2-5 @server @must
  Scenario: The server answers a client abort with statuses only and sends no new commands
    Given the client has an account on the server
    And the tester client misbehaves: abort_second
    And the server queues a Get of "./DevInfo/Man"
    And the server queues a Get of "./DevInfo/Mod"
    When the client starts a session
    Then the server sends no management command after the client's abort
