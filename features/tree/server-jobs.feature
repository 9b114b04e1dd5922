@tree @jobs
Feature: The server manages the device's tree
  The server under test queries and changes the tester device's tree through jobs and
  records what the device answered (DMRD-6.3.4: query, manipulate, record statuses).

  @id:JOB-001 @req:DMRD-6.3.4-3 @server @must
  Scenario: The server reads a device property and records the answer
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the server records status 200 for the Get
    And the server records the result "dmconf"
    And the session completes

  @id:JOB-002 @req:DMRD-6.3.4-5,DMRD-6.3.4-7 @server @must
  Scenario: The server adds, replaces and deletes nodes of its own
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues a Replace of "./Vendor/Color" with value "green"
    And the server queues a Get of "./Vendor/Color"
    When the client starts a session
    Then the client answers the Add of "./Vendor/Color" with 200
    And the client answers the Replace of "./Vendor/Color" with 200
    And the server records the result "green"

  @id:JOB-003 @req:DMRD-6.3.4-7 @server @must
  Scenario: The server deletes a node and records the device's status
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues a Delete of "./Vendor/Color"
    When the client starts a session
    Then the server records status 200 for the Delete

  @id:JOB-004 @req:DMRD-6.3.4-9,DMRD-6.3.4-21 @server @must
  Scenario: The server records a failed command's status
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/NoSuchNode"
    When the client starts a session
    Then the server records status 404 for the Get

  @id:JOB-005 @req:DMRD-6.3.4-5 @server @must
  Scenario: The server sends an Atomic and records its outcome
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues these commands:
      """
      [{"Command": "Atomic", "CmdID": "0", "Commands": [
        {"Command": "Add", "CmdID": "0", "Items": [{"Target": {"LocURI": "./Vendor/A"}, "Meta": {"Format": "chr"}, "Data": {"text": "1"}}]},
        {"Command": "Add", "CmdID": "0", "Items": [{"Target": {"LocURI": "./Vendor/B"}, "Meta": {"Format": "chr"}, "Data": {"text": "2"}}]}
      ]}]
      """
    When the client starts a session
    Then the server records status 200 for the Atomic
    And every Status from the server references a command it received

  @id:JOB-006 @req:DMRD-6.3.4-3,DMRD-6.3.4-26 @server @must
  Scenario: The server reads the device's capabilities (DevDetail)
    Given the client has an account on the server
    And the server queues a Get of "./DevDetail/LrgObj"
    When the client starts a session
    Then the server records status 200 for the Get
    And the client returns Results for "./DevDetail/LrgObj"

  @id:JOB-007 @req:DMRD-6.3.4-5 @server @must
  Scenario: Two jobs queued for a device both run in its next session
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Mod"
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the client answers the Get of "./DevInfo/Mod" with 200
    And the client answers the Get of "./DevInfo/Man" with 200
    And the server records the result "dmconf"

  @id:JOB-008 @req:DMRD-6.3.4-5 @server @must
  Scenario: A job interrupted by a lost connection is sent again in the next session
    Given the client has an account on the server
    And the tester client misbehaves: drop_second
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    And the client starts another session
    Then the server records the result "dmconf"
