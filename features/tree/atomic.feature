@tree @atomic
Feature: Atomic and Sequence
  Atomic is all-or-nothing; Sequence runs its children in order (facts §2.6).

  Background:
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"

  @id:ATOM-001 @req:DMRD-6.3.1-6,DMRD-6.3.4-9 @client @must
  Scenario: A failing Atomic rolls back its successful commands (507, 216)
    Given the server queues these commands:
      """
      [{"Command": "Atomic", "CmdID": "0", "Commands": [
        {"Command": "Add", "CmdID": "0", "Items": [{"Target": {"LocURI": "./Vendor/A"}, "Meta": {"Format": "chr"}, "Data": {"text": "1"}}]},
        {"Command": "Add", "CmdID": "0", "Items": [{"Target": {"LocURI": "./Vendor/A"}, "Meta": {"Format": "chr"}, "Data": {"text": "2"}}]}
      ]}]
      """
    And the server queues a Get of "./Vendor/A"
    When the client starts a session
    Then the client answers the Atomic with 507
    And the client answers the Add with 216
    And the client answers the Add with 418
    And the client answers the Get of "./Vendor/A" with 404

  @id:ATOM-002 @req:DMRD-6.3.1-6 @client @must
  Scenario: A successful Atomic applies every command (200)
    Given the server queues these commands:
      """
      [{"Command": "Atomic", "CmdID": "0", "Commands": [
        {"Command": "Add", "CmdID": "0", "Items": [{"Target": {"LocURI": "./Vendor/A"}, "Meta": {"Format": "chr"}, "Data": {"text": "1"}}]},
        {"Command": "Add", "CmdID": "0", "Items": [{"Target": {"LocURI": "./Vendor/B"}, "Meta": {"Format": "chr"}, "Data": {"text": "2"}}]}
      ]}]
      """
    And the server queues a Get of "./Vendor/B"
    When the client starts a session
    Then the client answers the Atomic with 200
    And the client returns Results for "./Vendor/B" with value "2"

  @id:ATOM-003 @req:DMRD-6.3.1-6 @client @must
  Scenario: A Get inside Atomic is refused (500)
    Given the server queues these commands:
      """
      [{"Command": "Atomic", "CmdID": "0", "Commands": [
        {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./DevInfo/Man"}}]}
      ]}]
      """
    When the client starts a session
    Then the client answers the Get of "./DevInfo/Man" with 500
    And the client returns no Results

  @id:ATOM-004 @req:DMRD-6.3.1-6 @client @must
  Scenario: Sequence runs its commands in order: an Add then a Get of the new node
    Given the server queues these commands:
      """
      [{"Command": "Sequence", "CmdID": "0", "Commands": [
        {"Command": "Add", "CmdID": "0", "Items": [{"Target": {"LocURI": "./Vendor/S"}, "Meta": {"Format": "chr"}, "Data": {"text": "first"}}]},
        {"Command": "Replace", "CmdID": "0", "Items": [{"Target": {"LocURI": "./Vendor/S"}, "Meta": {"Format": "chr"}, "Data": {"text": "second"}}]},
        {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": "./Vendor/S"}}]}
      ]}]
      """
    When the client starts a session
    Then the client answers the Sequence with 200
    And the client returns Results for "./Vendor/S" with value "second"
