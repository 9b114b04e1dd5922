@scheduling
Feature: Schedules managed by the server
  The server builds schedules (docs/scheduling.md) and sends them to the device as ordinary
  jobs, controls their life (suspend, resume, end, delete), keeps each device's schedules and
  their state, and receives and keeps the reports of their runs. The tester device holds
  the project-defined schedule MO and verifies what it receives like any device.

  Background:
    Given the client has an account on the server

  @id:SCHED-101 @req:DMRD-6.3.4-35,DMRD-6.1.7-1,DMRD-6.3.4-36 @server @must @ics:scheduling
  Scenario: The server sends a schedule the device accepts, and keeps it
    Given the server creates the schedule "report" with:
      | commands | Get ./DevInfo/DevId |
      | every    | 600                 |
    When the client starts a session
    Then the client answers the create of the schedule "report" with 200
    And the client holds the schedule "report" with State "active"
    And the server keeps the schedule "report" as active with verdict 200

  @id:SCHED-102 @req:DMRD-6.1.7-2,DMRD-6.3.4-35 @server @must @ics:scheduling
  Scenario: The server suspends, resumes and deletes a schedule on the device
    Given the server creates the schedule "life" with:
      | commands | Get ./DevInfo/DevId |
      | every    | 600                 |
    When the client starts a session
    Given the server suspends the schedule "life"
    When the client starts another session
    Then the client answers the suspend of the schedule "life" with 200
    And the client holds the schedule "life" with State "suspended"
    And the server keeps the schedule "life" as suspended
    Given the server resumes the schedule "life"
    When the client starts another session
    Then the client holds the schedule "life" with State "active"
    Given the server deletes the schedule "life"
    When the client starts another session
    Then the client answers the delete of the schedule "life" with 200
    And the server keeps the schedule "life" as deleted

  @id:SCHED-103 @req:DMRD-6.3.4.1-10,DMRD-UC-5.6.1 @server @must @ics:scheduling
  Scenario: The server receives and keeps the reports of a schedule's runs
    Given the server creates the schedule "report" with:
      | commands | Get ./DevInfo/DevId |
      | at       | 20261203T130000Z    |
      | every    | 3600                |
    And the client's clock is set to "20261203T120000Z"
    When the client starts a session
    And the client's clock advances by 3600 seconds
    Then the client reports run 1 of the schedule "report" with result 1200
    And the server stores run 1 of the schedule "report" with result 1200

  @id:SCHED-104 @req:DMRD-6.3.4.1-10 @server @must @ics:scheduling
  Scenario: A report of a failed run is kept with its result code
    Given the server creates the schedule "r" with:
      | commands | Get ./DevInfo/DevId |
      | every    | 600                 |
    When the client starts a session
    And the client reports run 4 of the schedule "r" with result 1425 itself
    Then the server stores run 4 of the schedule "r" with result 1425

  @id:SCHED-105 @req:DMRD-6.3.4-36,DMRD-6.3.1.2-9 @server @must @ics:scheduling
  Scenario: The server keeps the device's refusal of a schedule as its verdict
    Given the server creates the schedule "odd" with:
      | commands | Get ./DevInfo/DevId  |
      | every    | 60                   |
      | when     | ./DevInfo/DevId ~= x |
    When the client starts a session
    Then the client answers the create of the schedule "odd" with 406
    And the server keeps the schedule "odd" as refused with verdict 406

  @id:SCHED-106 @req:DMRD-6.3.4-35,DMRD-6.1.7-2 @server @must @ics:scheduling
  Scenario: The server changes a schedule on the device
    Given the server creates the schedule "tune" with:
      | commands | Get ./DevInfo/DevId |
      | every    | 3600                |
    When the client starts a session
    Given the server changes the schedule "tune" to:
      | commands | Get ./DevInfo/DevId |
      | every    | 60                  |
      | report   | batch               |
    When the client starts another session
    Then the client holds the schedule "tune" with Trigger/Every "60"
    And the client holds the schedule "tune" with Report/Mode "batch"
    And the server keeps the schedule "tune" as active
