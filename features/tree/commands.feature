@tree
Feature: Tree commands on the device
  Get, Add, Replace, Delete, Copy and Exec on the device's management tree, with the statuses
  of facts §3.2 and the semantics of facts §4.5. Where the server needs a node of its own it
  adds an interior node and gives itself every right on it (facts §4.4: "the creator sets an
  explicit ACL after Add"); children inherit that ACL.

  @id:TREE-001 @req:DMRD-6.3.1-24,DMRD-6.3.1-2 @client @must
  Scenario: Get of a leaf answers 200 and returns its value in Results
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/DevId"
    When the client starts a session
    Then the client answers the Get of "./DevInfo/DevId" with 200
    And the client returns Results for "./DevInfo/DevId" with value "IMEI:490154203237518"

  @id:TREE-002 @req:DMRD-6.3.1-24 @client @must
  Scenario: Get of a node that does not exist answers 404 and returns nothing
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/NoSuchNode"
    When the client starts a session
    Then the client answers the Get of "./DevInfo/NoSuchNode" with 404
    And the client returns no Results

  @id:TREE-003 @req:DMRD-6.3.1-6,DMRD-6.3.1-4 @client @must
  Scenario: Add creates a leaf the server can read back
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues a Get of "./Vendor/Color"
    When the client starts a session
    Then the client answers the Add of "./Vendor" with 200
    And the client answers the Add of "./Vendor/Color" with 200
    And the client returns Results for "./Vendor/Color" with value "red"

  @id:TREE-004 @req:DMRD-6.3.1-6 @client @must
  Scenario: Add of a node that exists answers 418 and keeps the old value
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues an Add of "./Vendor/Color" with value "blue"
    And the server queues a Get of "./Vendor/Color"
    When the client starts a session
    Then the client answers the Add of "./Vendor/Color" with 418
    And the client returns Results for "./Vendor/Color" with value "red"

  @id:TREE-005 @req:DMRD-6.3.1-6 @client @must
  Scenario: Replace of an existing leaf answers 200 and changes its value
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues a Replace of "./Vendor/Color" with value "green"
    And the server queues a Get of "./Vendor/Color"
    When the client starts a session
    Then the client answers the Replace of "./Vendor/Color" with 200
    And the client returns Results for "./Vendor/Color" with value "green"

  @id:TREE-006 @req:DMRD-6.3.1-6 @client @must
  Scenario: Replace never creates a node: 404 for a missing one
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues a Replace of "./Vendor/Missing" with value "x"
    And the server queues a Get of "./Vendor/Missing"
    When the client starts a session
    Then the client answers the Replace of "./Vendor/Missing" with 404
    And the client answers the Get of "./Vendor/Missing" with 404

  @id:TREE-007 @req:DMRD-6.3.1-6 @client @must
  Scenario: Delete removes a leaf
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues a Delete of "./Vendor/Color"
    And the server queues a Get of "./Vendor/Color"
    When the client starts a session
    Then the client answers the Delete of "./Vendor/Color" with 200
    And the client answers the Get of "./Vendor/Color" with 404

  @id:TREE-008 @req:DMRD-6.3.1-6 @client @must
  Scenario: A permanent node cannot be deleted (405) and stays
    Given the client has an account on the server
    And the server queues a Delete of "./DevInfo/Man"
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the client answers the Delete of "./DevInfo/Man" with 405
    And the client returns Results for "./DevInfo/Man"

  @id:TREE-009 @req:DMRD-6.3.1-6 @client @must
  Scenario: Delete of a node that does not exist answers 404
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues a Delete of "./Vendor/Missing"
    When the client starts a session
    Then the client answers the Delete of "./Vendor/Missing" with 404

  @id:TREE-010 @req:DMRD-6.3.1-6,DMRD-6.3.1-3 @client @must
  Scenario: Get of an interior node returns its child list
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues an Add of "./Vendor/Size" with value "9"
    And the server queues a Get of "./Vendor"
    When the client starts a session
    Then the client answers the Get of "./Vendor" with 200
    And the client returns Results listing the children "Color", "Size"

  @id:TREE-011 @req:DMRD-6.3.1-6 @client @must
  Scenario: Delete of an interior node removes its subtree
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues a Delete of "./Vendor"
    And the server queues a Get of "./Vendor/Color"
    When the client starts a session
    Then the client answers the Delete of "./Vendor" with 200
    And the client answers the Get of "./Vendor/Color" with 404

  @id:TREE-012 @req:DMRD-6.3.1-6 @client @must
  Scenario: Replace of an interior node's value is refused with 405
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues a Replace of "./Vendor" with value "x"
    When the client starts a session
    Then the client answers the Replace of "./Vendor" with 405

  @id:TREE-013 @req:DMRD-6.3.1-6 @client @must
  Scenario: Copy puts the source leaf's value into the target
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues an Add of "./Vendor/Copy" with value "none"
    And the server queues a Copy of "./Vendor/Color" to "./Vendor/Copy"
    And the server queues a Get of "./Vendor/Copy"
    When the client starts a session
    Then the client answers the Copy with 200
    And the client returns Results for "./Vendor/Copy" with value "red"

  @id:TREE-014 @req:DMRD-6.3.1-6 @client @must
  Scenario: Exec on a node that is not executable is refused
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues an Exec on "./Vendor/Color"
    When the client starts a session
    Then the client answers the Exec of "./Vendor/Color" with 405

  @id:TREE-015 @req:DMRD-6.3.1-3 @client @must
  Scenario: A node's Format property reads back as set
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Count" with format "int" and value "7"
    And the server queues a Get of "./Vendor/Count?prop=Format"
    When the client starts a session
    Then the client returns Results for "./Vendor/Count?prop=Format" with value "int"

  @id:TREE-016 @req:DMRD-6.3.1-6 @client @must
  Scenario: A node's version number changes when its value changes
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues a Get of "./Vendor/Color?prop=VerNo"
    When the client starts a session
    And the server queues a Replace of "./Vendor/Color" with value "blue"
    And the server queues a Get of "./Vendor/Color?prop=VerNo"
    And the client starts another session
    Then the client's Results for "./Vendor/Color?prop=VerNo" differ between the sessions

  @id:TREE-017 @req:DMRD-6.3.1-4 @client @must
  Scenario: What a server added is still there in the next session
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    When the client starts a session
    And the server queues a Get of "./Vendor/Color"
    And the client starts another session
    Then the client returns Results for "./Vendor/Color" with value "red"

  # facts §4.5 lists 405 for a permanent node. ./DevInfo's ACL (Get=*) refuses Delete too,
  # and no text orders the two checks, so a device answering 425 is not shown wrong: SHOULD.
  @id:TREE-018 @req:DMRD-6.3.1-6 @client @should
  Scenario: A permanent interior node cannot be deleted: 405 rather than an ACL refusal
    Given the client has an account on the server
    And the server queues a Delete of "./DevInfo"
    And the server queues a Get of "./DevInfo/Mod"
    When the client starts a session
    Then the client answers the Delete of "./DevInfo" with 405
    And the client returns Results for "./DevInfo/Mod"
