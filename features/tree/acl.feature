@tree @acl
Feature: Access control lists on the device
  A server may act on a node only as the node's ACL, or the nearest ancestor's non-empty
  ACL, allows (facts §4.4); a refusal is 425.

  @id:ACL-001 @req:DMRD-6.1.1.3-1,DM-SEC-002 @client @must
  Scenario: A node whose ACL grants Get to another server refuses this server's Get (425)
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues a Replace of the ACL of "./Vendor" with "Add={server}&Delete={server}&Replace={server}&Get=someone-else"
    And the server queues a Get of "./Vendor"
    When the client starts a session
    Then the client answers the Replace of "./Vendor?prop=ACL" with 200
    And the client answers the Get of "./Vendor" with 425
    And the client returns no Results

  @id:ACL-002 @req:DMRD-6.1.1.3-1,DM-HLF-009 @client @must
  Scenario: A node without an ACL of its own inherits its parent's
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues a Replace of the ACL of "./Vendor" with "Add={server}&Delete={server}&Replace={server}&Get=someone-else"
    And the server queues a Get of "./Vendor/Color"
    When the client starts a session
    Then the client answers the Get of "./Vendor/Color" with 425
    And the client returns no Results

  @id:ACL-003 @req:DMRD-6.1.1.3-1 @client @must
  Scenario: A child's own ACL takes precedence over its parent's
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues a Replace of the ACL of "./Vendor/Color" with "Get={server}&Replace={server}"
    And the server queues a Replace of the ACL of "./Vendor" with "Add={server}&Delete={server}&Replace={server}&Get=someone-else"
    And the server queues a Get of "./Vendor/Color"
    When the client starts a session
    Then the client answers the Get of "./Vendor/Color" with 200
    And the client returns Results for "./Vendor/Color" with value "red"

  @id:ACL-004 @req:DMRD-6.3.1-3 @client @must
  Scenario: The ACL property of a node without its own ACL reads as empty
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues a Get of "./Vendor/Color?prop=ACL"
    When the client starts a session
    Then the client answers the Get of "./Vendor/Color?prop=ACL" with 200
    And the client returns Results for "./Vendor/Color?prop=ACL" with value ""

  @id:ACL-005 @req:DMRD-6.1.1.3-1,DM-SEC-002 @client @must
  Scenario: DevInfo may be read by any server but not replaced (a read-only node, facts §4.5, or its ACL, facts §4.4)
    Given the client has an account on the server
    And the server queues a Replace of "./DevInfo/Man" with value "forged"
    And the server queues a Get of "./DevInfo/Man"
    When the client starts a session
    Then the client answers the Replace of "./DevInfo/Man" with 405 or 425
    And the client returns Results for "./DevInfo/Man" with value "dmconf"

  @id:ACL-006 @req:DMRD-6.1.1.3-1 @client @must
  Scenario: A node whose ACL does not grant Delete to this server cannot be deleted
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues a Replace of the ACL of "./Vendor/Color" with "Get={server}&Replace={server}"
    And the server queues a Delete of "./Vendor/Color"
    And the server queues a Get of "./Vendor/Color"
    When the client starts a session
    Then the client answers the Delete of "./Vendor/Color" with 425
    And the client returns Results for "./Vendor/Color" with value "red"
