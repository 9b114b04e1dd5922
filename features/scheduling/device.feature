@scheduling
Feature: Schedules on the device
  A server puts a schedule on the device as the project-defined schedule MO
  (docs/scheduling.md): the device verifies it (the Add's status is the verdict), keeps it in
  its durable tree, runs it on its clock as the server that created it, with that server's
  rights, and reports each run with a Generic Alert urn:dmconf:at:schedule:1.0:Report. The
  scenarios move the device's clock (adapter actions set_clock, advance_clock), so they run
  in seconds.

  Background:
    Given the client has an account on the server
    And the client's clock is set to "20261203T120000Z"

  @id:SCHED-001 @req:DMRD-UC-5.6.1,DMRD-6.1.7-1,DMRD-6.3.1-42 @client @must @ics:scheduling
  Scenario: Proactive reporting: a periodic Get is accepted, run when due and reported
    Given the server creates the schedule "report" with:
      | commands | Get ./DevInfo/DevId |
      | at       | 20261203T130000Z    |
      | every    | 3600                |
    When the client starts a session
    Then the client answers the create of the schedule "report" with 200
    When the client's clock advances by 1800 seconds
    Then the client has sent no report of the schedule "report"
    When the client's clock advances by 1800 seconds
    Then the client reports run 1 of the schedule "report" with result 1200
    And the client's report of the schedule "report" contains "<LocURI>./DevInfo/DevId</LocURI>"
    When the client's clock advances by 3600 seconds
    Then the client reports run 2 of the schedule "report" with result 1200

  @id:SCHED-002 @req:DMRD-UC-5.6.2,DMRD-6.1.7-4 @client @must @ics:scheduling
  Scenario: Tool invocation: any management command can be scheduled (Add, Replace, Get, Delete)
    Given the server queues an Add of its own interior node "./Tool"
    And the server queues an Add of "./Tool/Level" with value "1"
    And the server creates the schedule "tool" with:
      | commands | Replace ./Tool/Level = 2; Add ./Tool/Log = ran; Get ./Tool/Level; Delete ./Tool/Log |
      | at       | 20261203T120500Z                                                                |
    When the client starts a session
    Then the client answers the create of the schedule "tool" with 200
    When the client's clock advances by 300 seconds
    Then the client reports run 1 of the schedule "tool" with result 1200
    And the client's report of the schedule "tool" contains "<Cmd>Add</Cmd><Target>./Tool/Log</Target><Code>200</Code>"
    And the client's report of the schedule "tool" contains "<Data>2</Data>"

  @id:SCHED-003 @req:DMRD-UC-5.6.3,DMRD-6.1.7-5 @client @must @ics:scheduling
  Scenario: Parameter adjustment: a change of a tree value activates the matching parameter group
    Given the server queues an Add of its own interior node "./Radio"
    And the server queues an Add of "./Radio/Battery" with value "80"
    And the server queues an Add of "./Radio/Mode" with value "normal"
    And the server creates the schedule "adjust" with:
      | commands     | Get ./Radio/Battery                             |
      | group a-low  | ./Radio/Battery < 20 => Replace ./Radio/Mode = saver  |
      | group b-high | ./Radio/Battery >= 20 => Replace ./Radio/Mode = normal |
      | on_change    | ./Radio/Battery                                 |
    When the client starts a session
    Then the client answers the create of the schedule "adjust" with 200
    And the client has sent no report of the schedule "adjust"
    Given the server queues a Replace of "./Radio/Battery" with value "15"
    When the client starts another session
    Then the client reports run 1 of the schedule "adjust" with result 1200
    And the client's report of the schedule "adjust" contains "<Group>a-low</Group>"
    Given the server queues a Get of "./Radio/Mode"
    When the client starts another session
    Then the client returns Results for "./Radio/Mode" with value "saver"

  @id:SCHED-004 @req:DMRD-6.1.7-5,DMRD-6.1.7-1 @client @must @ics:scheduling
  Scenario: A condition on a tree value triggers a run when it becomes true
    Given the server queues an Add of its own interior node "./Sensor"
    And the server queues an Add of "./Sensor/Temp" with value "20"
    And the server creates the schedule "hot" with:
      | commands | Get ./Sensor/Temp     |
      | when     | ./Sensor/Temp > 40    |
    When the client starts a session
    Then the client answers the create of the schedule "hot" with 200
    Given the server queues a Replace of "./Sensor/Temp" with value "30"
    When the client starts another session
    Then the client has sent no report of the schedule "hot"
    Given the server queues a Replace of "./Sensor/Temp" with value "45"
    When the client starts another session
    Then the client reports run 1 of the schedule "hot" with result 1200

  @id:SCHED-005 @req:DMRD-6.1.7-6,DMRD-6.3.1-42,DMRD-6.3.1.2-9 @client @must @ics:scheduling
  Scenario: A schedule acting on a node the server may not touch is refused (425)
    Given the server queues an Add of its own interior node "./Locked"
    And the server queues an Add of "./Locked/Pin" with value "1234"
    And the server queues a Replace of the ACL of "./Locked/Pin" with "Get=someone-else&Replace=someone-else"
    And the server creates the schedule "steal" with:
      | commands | Get ./Locked/Pin |
      | every    | 60               |
    When the client starts a session
    Then the client answers the create of the schedule "steal" with 425
    When the client's clock advances by 120 seconds
    Then the client has sent no report of the schedule "steal"

  @id:SCHED-006 @req:DMRD-6.3.1-42,DMRD-6.3.1.2-9 @client @must @ics:scheduling
  Scenario: A schedule the device cannot run is refused as unsupported (406)
    Given the server creates the schedule "odd" with:
      | commands | Get ./DevInfo/DevId |
      | every    | 60                  |
      | when     | ./DevInfo/DevId ~= x |
    When the client starts a session
    Then the client answers the create of the schedule "odd" with 406

  @id:SCHED-007 @req:DMRD-6.1.7-6 @client @must @ics:scheduling
  Scenario: A run checks the creator's rights again: a withdrawn right stops it (1425)
    Given the server queues an Add of its own interior node "./Volume"
    And the server queues an Add of "./Volume/Level" with value "5"
    And the server creates the schedule "loud" with:
      | commands | Replace ./Volume/Level = 9 |
      | every    | 60                         |
    When the client starts a session
    Then the client answers the create of the schedule "loud" with 200
    Given the server queues a Replace of the ACL of "./Volume/Level" with "Get={server}"
    When the client starts another session
    And the client's clock advances by 60 seconds
    Then the client reports run 1 of the schedule "loud" with result 1425
    Given the server queues a Get of "./Volume/Level"
    When the client starts another session
    Then the client returns Results for "./Volume/Level" with value "5"

  @id:SCHED-008 @req:DMRD-6.1.7-3,DMRD-6.3.1-43 @client @must @ics:scheduling
  Scenario: A schedule and its progress survive a restart of the device
    Given the server creates the schedule "keep" with:
      | commands | Get ./DevInfo/DevId |
      | every    | 600                 |
    When the client starts a session
    Then the client answers the create of the schedule "keep" with 200
    When the client's clock advances by 600 seconds
    Then the client reports run 1 of the schedule "keep" with result 1200
    When the client restarts
    And the client's clock advances by 600 seconds
    Then the client reports run 2 of the schedule "keep" with result 1200

  @id:SCHED-009 @req:DMRD-6.1.7-2,DMRD-6.3.1-41 @client @must @ics:scheduling
  Scenario: The server suspends, resumes and deletes a schedule
    Given the server creates the schedule "life" with:
      | commands | Get ./DevInfo/DevId |
      | every    | 600                 |
    When the client starts a session
    Then the client answers the create of the schedule "life" with 200
    Given the server suspends the schedule "life"
    When the client starts another session
    Then the client answers the suspend of the schedule "life" with 200
    When the client's clock advances by 1200 seconds
    Then the client has sent no report of the schedule "life"
    Given the server resumes the schedule "life"
    When the client starts another session
    And the client's clock advances by 600 seconds
    Then the client reports run 1 of the schedule "life" with result 1200
    And the client reports run 2 of the schedule "life" with result 1200
    Given the server deletes the schedule "life"
    When the client starts another session
    Then the client answers the delete of the schedule "life" with 200
    When the client's clock advances by 600 seconds
    Then the client has sent no report of the schedule "life" after run 2

  @id:SCHED-010 @req:DMRD-6.3.1-42,DMRD-6.1.7-2 @client @must @ics:scheduling @ics:ui-alerts
  Scenario: The user refuses a schedule that asks for consent (304)
    Given the user will reject
    And the server creates the schedule "ask" with:
      | commands | Get ./DevInfo/DevId |
      | every    | 60                  |
      | prompt   | create              |
    When the client starts a session
    Then the client answers the create of the schedule "ask" with 304

  @id:SCHED-011 @req:DMRD-6.1.7-2 @client @must @ics:scheduling
  Scenario: A schedule ends by itself after its run count
    Given the server creates the schedule "twice" with:
      | commands | Get ./DevInfo/DevId |
      | every    | 60                  |
      | count    | 2                   |
    When the client starts a session
    And the client's clock advances by 60 seconds
    And the client's clock advances by 60 seconds
    And the client's clock advances by 60 seconds
    Then the client reports run 2 of the schedule "twice" with result 1200
    And the client has sent no report of the schedule "twice" after run 2

  @id:SCHED-012 @req:DMRD-6.1.7-2,DMRD-6.3.1-41 @client @must @ics:scheduling
  Scenario: The server changes a schedule's period and the device follows the new one
    Given the server creates the schedule "tune" with:
      | commands | Get ./DevInfo/DevId |
      | every    | 3600                |
    When the client starts a session
    Then the client answers the create of the schedule "tune" with 200
    Given the server changes the schedule "tune" to:
      | commands | Get ./DevInfo/DevId |
      | every    | 60                  |
    When the client starts another session
    And the client's clock advances by 60 seconds
    Then the client reports run 1 of the schedule "tune" with result 1200
