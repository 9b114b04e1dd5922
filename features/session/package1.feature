@session
Feature: Package 1 and the session frame
  The first package of a session, the message header and the rules that tie messages
  together (facts §1.3, §1.4, §2.1, §2.4, §2.5).

  @id:SESS-001 @req:DMRD-6.3.1-2 @client @must
  Scenario: A client-initiated session opens with Alert 1201 and the device's DevInfo
    Given the client has an account on the server
    When the client starts a session
    Then package 1 from the client contains an Alert 1201
    And package 1 from the client carries DevInfo
    And the session completes

  @id:SESS-002 @req:DMRD-6.3.1.2-5 @server @must
  Scenario: The server answers package 1 with a Status for the SyncHdr and for the Alert
    Given the client has an account on the server
    When the client starts a session
    Then every message from the server that answers one starts with a Status for the SyncHdr
    And the server answers the Alert with 200
    And the session completes
