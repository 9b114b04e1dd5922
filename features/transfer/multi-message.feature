@transfer @multi-message
Feature: Packages in several messages
  A package larger than the receiver's MaxMsgSize is split into messages; all but the last
  lack Final, the receiver asks for the next one with Alert 1222 and answers with statuses
  only (facts §2.4).

  @id:MSG-001 @req:DMRD-6.3.1.2-5 @client @must
  Scenario: The client splits a package that does not fit the server's MaxMsgSize
    Given the server announces a MaxMsgSize of 1500
    And the client has an account on the server
    And the server queues these commands:
      """
      [{"Command": "Get", "CmdID": "0", "Items": [
        {"Target": {"LocURI": "./DevInfo/DevId"}}, {"Target": {"LocURI": "./DevInfo/Man"}},
        {"Target": {"LocURI": "./DevInfo/Mod"}}, {"Target": {"LocURI": "./DevInfo/DmV"}},
        {"Target": {"LocURI": "./DevInfo/Lang"}}, {"Target": {"LocURI": "./DevDetail/LrgObj"}},
        {"Target": {"LocURI": "./DevDetail/DevTyp"}}, {"Target": {"LocURI": "./DevDetail/OEM"}},
        {"Target": {"LocURI": "./DevDetail/FwV"}}, {"Target": {"LocURI": "./DevDetail/SwV"}},
        {"Target": {"LocURI": "./DevDetail/HwV"}}, {"Target": {"LocURI": "./DevDetail/URI/MaxDepth"}}
      ]}]
      """
    When the client starts a session
    Then the client sends a package in more than one message
    And every message from the client fits in 1500 bytes
    And every Status from the client references a command it received
    And the client returns Results for "./DevDetail/URI/MaxDepth"
    And the session completes

  @id:MSG-002 @req:DMRD-6.3.1.2-5 @client @must
  Scenario: The client answers each message of a split server package with statuses and 1222
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Blob" with 30000 bytes
    When the client starts a session
    Then the server sends a package in more than one message
    And every answer of the client to a non-final message holds only Status and Alert 1222
    And the session completes

  @id:MSG-101 @req:DMRD-6.3.4-5 @server @must
  Scenario: The server splits a package that does not fit the device's MaxMsgSize
    Given the client announces a MaxMsgSize of 1500
    And the client has an account on the server
    And the server queues these commands:
      """
      [{"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevInfo/DevId"}}]},
       {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevInfo/Man"}}]},
       {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevInfo/Mod"}}]},
       {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevInfo/DmV"}}]},
       {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevInfo/Lang"}}]},
       {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevDetail/LrgObj"}}]},
       {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevDetail/DevTyp"}}]},
       {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevDetail/OEM"}}]},
       {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevDetail/FwV"}}]},
       {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevDetail/SwV"}}]},
       {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevDetail/HwV"}}]},
       {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevDetail/URI/MaxDepth"}}]}]
      """
    When the client starts a session
    Then the server sends a package in more than one message
    And every message from the server fits in 1500 bytes
    And every Status from the server references a command it received
    And the client returns Results for "./DevDetail/URI/MaxDepth"

  @id:MSG-102 @req:DMRD-6.3.4-5 @server @must
  Scenario: The server answers each message of a split device package with statuses and 1222
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Blob" with 30000 bytes
    And the server queues a Get of "./Vendor/Blob"
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the client sends a package in more than one message
    And every answer of the server to a non-final message holds only Status and Alert 1222

  @id:MSG-103 @req:DMRD-6.3.4-5 @server @must
  Scenario: While the device's package 1 goes on, the server sends no commands
    Given the client has an account on the server
    And the tester client leaves package 1 open (no Final)
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then every answer of the server to a non-final message holds only Status and Alert 1222
    And the server records the result "dmconf"
    And the session completes
