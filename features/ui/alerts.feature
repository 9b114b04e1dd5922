@ui
Feature: User interaction alerts
  The server asks the user to see, confirm, type or choose; the device shows it and sends
  back the user's answer, matched to the prompt it answers (facts §3.4).

  @id:UI-001 @req:DMRD-6.3.1-7 @client @must @ics:ui-alerts
  Scenario: A display alert is shown and acknowledged (200)
    Given the client has an account on the server
    And the server queues a display alert "Maintenance tonight"
    When the client starts a session
    Then the client answers the Alert with 200

  @id:UI-002 @req:DMRD-6.3.1-8,DMRD-6.1.4-4 @client @must @ics:ui-alerts
  Scenario: A confirmation the user accepts is answered 200
    Given the client has an account on the server
    And the user will accept
    And the server queues a confirmation alert "Apply the new settings?"
    When the client starts a session
    Then the client answers the Alert with 200

  @id:UI-003 @req:DMRD-6.3.1-8,DMRD-6.1.4-4 @client @must @ics:ui-alerts
  Scenario: A confirmation the user rejects is answered 304
    Given the client has an account on the server
    And the user will reject
    And the server queues a confirmation alert "Apply the new settings?"
    When the client starts a session
    Then the client answers the Alert with 304

  @id:UI-004 @req:DMRD-6.3.1-8 @client @must @ics:ui-alerts
  Scenario: A text input alert returns what the user typed
    Given the client has an account on the server
    And the user will type "4711"
    And the server queues a text input alert "Enter your PIN"
    When the client starts a session
    Then the client answers the Alert with 200 carrying "4711"

  @id:UI-005 @req:DMRD-6.3.1-8 @client @must @ics:ui-alerts
  Scenario: A single choice alert returns the index of the chosen item
    Given the client has an account on the server
    And the user will accept
    And the server queues a single choice alert "Pick a colour"
    When the client starts a session
    Then the client answers the Alert with 200 carrying "1"

  @id:UI-006 @req:DMRD-6.3.1-8,DMRD-6.1.4-4 @client @must @ics:ui-alerts
  Scenario: A rejected confirmation inside a Sequence skips the rest of it (215)
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the user will reject
    And the server queues these commands:
      """
      [{"Command": "Sequence", "CmdID": "0", "Commands": [
        {"Command": "Alert", "CmdID": "0", "Data": 1101, "Items": [{"Data": {"text": "MAXDT=5"}}, {"Data": {"text": "Apply?"}}]},
        {"Command": "Add", "CmdID": "0", "Items": [{"Target": {"LocURI": "./Vendor/Applied"}, "Meta": {"Format": "chr"}, "Data": {"text": "yes"}}]}
      ]}]
      """
    And the server queues a Get of "./Vendor/Applied"
    When the client starts a session
    Then the client answers the Alert with 304
    And the client answers the Add of "./Vendor/Applied" with 215
    And the client answers the Get of "./Vendor/Applied" with 404

  @id:UI-007 @req:DMRD-6.1.3-3 @client @must @ics:ui-alerts
  Scenario: Answers to two prompts in one package are each matched to their prompt
    Given the client has an account on the server
    And the user will accept
    And the server queues a confirmation alert "First?"
    And the server queues a display alert "Second"
    When the client starts a session
    Then every Status from the client references a command it received
    And the client answers the Alert with 200

  @id:UI-101 @req:DMRD-6.3.4-11 @server @must @ics:ui-alerts
  Scenario: The server sends a confirmation request and records the user's answer
    Given the client has an account on the server
    And the server queues a confirmation alert "Apply the new settings?"
    When the client starts a session
    Then the server records status 200 for the Alert
    And every Status from the server references a command it received

  @id:UI-102 @req:DMRD-6.3.4-11,DMRD-6.1.3-3 @server @must @ics:ui-alerts
  Scenario: The server records a typed answer with the prompt it answers
    Given the client has an account on the server
    And the server queues a text input alert "Enter your name"
    When the client starts a session
    Then the server records status 200 for the Alert
