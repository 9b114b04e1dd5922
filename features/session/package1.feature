@session
Feature: Package 1 and the session frame
  The first package of a session, the message header and the rules that tie the messages of
  a session together (facts §1.1, §1.3, §1.4, §2.1, §2.4, §2.5). Each rule is checked on the
  messages of the implementation under test; the tester's own messages follow the same rules.

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
    And the server answers the Replace with 200
    And the session completes

  @id:SESS-003 @req:DMRD-6.3.1.2-5 @client @must
  Scenario: The client numbers its messages from 1, one up per message
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then every message from the client has a MsgID one higher than the one before, starting at 1

  @id:SESS-004 @req:DMRD-6.3.1.2-5 @server @must
  Scenario: The server numbers its messages from 1, one up per message
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then every message from the server has a MsgID one higher than the one before, starting at 1

  @id:SESS-005 @req:DMRD-6.3.1.2-5 @client @must
  Scenario: Every command the client sends has a CmdID unique in its message
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    And the server queues a Get of "./DevInfo/Mod"
    When the client starts a session
    Then every message from the client has unique non-empty CmdIDs

  @id:SESS-006 @req:DMRD-6.3.1.2-5 @server @must
  Scenario: Every command the server sends has a CmdID unique in its message
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    And the server queues a Get of "./DevInfo/Mod"
    When the client starts a session
    Then every message from the server has unique non-empty CmdIDs

  @id:SESS-007 @req:DMRD-6.3.4-9 @client @must
  Scenario: Every Status from the client names the message and command it answers
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    And the server queues a Get of "./DevInfo/NoSuchNode"
    When the client starts a session
    Then every Status from the client references a command it received

  @id:SESS-008 @req:DMRD-6.3.4-21 @server @must
  Scenario: Every Status from the server names the message and command it answers
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then every Status from the server references a command it received

  @id:SESS-009 @req:DMRD-6.3.4-9 @client @must
  Scenario: Each message the client answers with starts with the Status for the server's SyncHdr
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Lang"
    When the client starts a session
    Then every message from the client that answers one starts with a Status for the SyncHdr

  @id:SESS-010 @req:DMRD-6.3.4-21 @server @must
  Scenario: Each message the server answers with starts with the Status for the client's SyncHdr
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Lang"
    When the client starts a session
    Then every message from the server that answers one starts with a Status for the SyncHdr

  @id:SESS-011 @req:DMRD-6.3.1.2-5 @client @must
  Scenario: The client closes each package with Final
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the last message from the client carries Final
    And the session completes

  @id:SESS-012 @req:DMRD-6.3.1.2-5 @server @must
  Scenario: The server closes each package with Final
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the last message from the server carries Final
    And the session completes

  @id:SESS-013 @req:DMRD-6.1.2-4 @client @must
  Scenario: All messages of a session carry the client's SessionID
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then every message of the session has the same SessionID

  @id:SESS-014 @req:DMRD-6.1.2-4 @server @must
  Scenario: The server keeps the client's SessionID for the whole session
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then every message of the session has the same SessionID

  @id:SESS-015 @req:DMRD-6.3.1.2-5 @client @must
  Scenario: The client speaks SyncML DM 1.2
    Given the client has an account on the server
    When the client starts a session
    Then every message from the client has VerDTD "1.2" and VerProto "DM/1.2"

  @id:SESS-016 @req:DMRD-6.3.1.2-5 @server @must
  Scenario: The server speaks SyncML DM 1.2
    Given the client has an account on the server
    When the client starts a session
    Then every message from the server has VerDTD "1.2" and VerProto "DM/1.2"

  @id:SESS-017 @req:DMRD-6.3.1-2 @client @must
  Scenario: The client names itself by its DevId in every message
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then every message from the client names the device by its DevId

  @id:SESS-019 @req:DMRD-6.1.2-4 @client @must
  Scenario: Two sessions of the client have different SessionIDs
    Given the client has an account on the server
    When the client starts a session
    And the client starts another session
    Then the two sessions have different SessionIDs

  @id:SESS-021 @req:DMRD-6.3.1.2-5 @client @must
  Scenario: A client sends only Replace (DevInfo), Results, Alert and Status
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    And the server queues a Replace of "./DevInfo/Man" with value "changed"
    When the client starts a session
    Then the client sends only Status, Results and Alert commands

  @id:SESS-023 @req:DMRD-6.3.1.2-5 @client @should
  Scenario: The client's exchange matches the golden session vector
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/DmV"
    And the server queues a Get of "./DevInfo/NoSuchNode"
    When the client starts a session
    Then the exchange matches its session vector

  @id:SESS-024 @req:DMRD-6.3.1.2-5 @server @should
  Scenario: The server's exchange matches the golden session vector
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/DmV"
    When the client starts a session
    Then the exchange matches its session vector

  @id:SESS-026 @req:DMRD-6.3.1.2-5 @server @must @ics:encoding.wbxml
  Scenario: A device speaking WBXML gets WBXML answers and its job done
    Given the client speaks WBXML
    And the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then every message from the server is encoded in WBXML
    And every Status from the server references a command it received
    And the server records the result "dmconf"
    And the session completes
