@migration
Feature: Device migration: backup and restore
  The server starts the device's backup application, which sends the selected subtrees to a
  server-given URL as a TNDS document; the server later has a device fetch a stored backup and
  apply it — the old device's configuration moves to the new one (seed 000, DM13-MIG-6.1.x;
  the project-defined ./Backup MO of docs/migration.md). Each operation is answered 202 and
  reported with a Generic Alert carrying the Exec's Correlator and a result code.

  @id:MIG-001 @req:DM13-MIG-6.1.1-1,DM13-MIG-6.1.1-2,DM13-MIG-6.1.1-3 @client @must @ics:migration
  Scenario: The backup application starts remotely and sends the selected subtree to the server
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    When the client starts a session
    And the server queues a backup of "./Vendor"
    And the client starts another session
    Then the client answers the Exec with 202
    And the client reports the backup complete with result 1200
    And the server holds a backup of the client containing "red"

  @id:MIG-002 @req:DM13-MIG-6.1.1-4,DM13-MIG-6.1.1-2 @client @must @ics:migration
  Scenario: A stored backup is fetched back and applied
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server holds a backup for the client setting "./Vendor/Color" to "blue"
    When the client starts a session
    And the server queues a restore of the client's latest backup
    And the client starts another session
    And the server queues a Get of "./Vendor/Color"
    And the client starts another session
    Then the client reports the restore complete with result 1200
    And the client returns Results for "./Vendor/Color" with value "blue"

  @id:MIG-003 @req:DM13-MIG-6.1.1-2 @client @must @ics:migration
  Scenario: A backup that cannot be applied is reported as failed and changes nothing (1405)
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server holds a malformed backup for the client
    When the client starts a session
    And the server queues a restore of the client's latest backup
    And the client starts another session
    And the server queues a Get of "./Vendor/Color"
    And the client starts another session
    Then the client reports the restore complete with result 1405
    And the client returns Results for "./Vendor/Color" with value "red"

  @id:MIG-101 @req:DM13-MIG-6.1.2-1 @server @must @ics:migration
  Scenario: The server starts a device's backup and keeps what it sends
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    When the client starts a session
    And the server queues a backup of "./Vendor"
    And the client starts another session
    Then the client reports the backup complete with result 1200
    And the server holds a backup of the client containing "red"

  @id:MIG-102 @req:DM13-MIG-6.1.2-1 @server @must @ics:migration
  Scenario: The server restores a device's backup: a changed value comes back
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    When the client starts a session
    And the server queues a backup of "./Vendor"
    And the client starts another session
    And the server queues a Replace of "./Vendor/Color" with value "green"
    And the client starts another session
    And the server queues a restore of the client's latest backup
    And the client starts another session
    And the server queues a Get of "./Vendor/Color"
    And the client starts another session
    Then the client reports the restore complete with result 1200
    And the client returns Results for "./Vendor/Color" with value "red"

  @id:MIG-103 @req:DM13-MIG-6.1.2-1,DM13-MIG-6.1.1-4 @server @must @ics:migration
  Scenario: Migration: the old device's backup configures the new device the same way
    Given the client has an account on the server
    And the server also knows a new client
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues an Add of "./Vendor/Size" with value "9"
    When the client starts a session
    And the server queues a backup of "./Vendor"
    And the client starts another session
    And the server queues a restore of the client's latest backup onto the new client
    And the new client starts a session
    And the server queues a Get of "./Vendor/Color" for the new client
    And the server queues a Get of "./Vendor/Size" for the new client
    And the new client starts a session
    Then the client reports the restore complete with result 1200
    And the client returns Results for "./Vendor/Color" with value "red"
    And the client returns Results for "./Vendor/Size" with value "9"
