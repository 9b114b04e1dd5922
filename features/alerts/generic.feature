@alerts
Feature: Generic alerts
  A device reports an event with a Generic Alert (1226): Meta Type and Format and the Data;
  the server answers 200 or 202 (facts §3.5).

  @id:GEN-001 @req:DMRD-6.3.1-27 @client @must
  Scenario: The client's generic alert carries the type, format and data it reports
    Given the client has an account on the server
    When the client sends a generic alert of type "org.example.battery.low" with data "5"
    Then package 1 from the client contains an Alert 1226
    And the server receives a generic alert of type "org.example.battery.low" with data "5"
    And the session completes

  @id:GEN-101 @req:DMRD-6.3.4-12 @server @must
  Scenario: The server acknowledges a generic alert (200)
    Given the client has an account on the server
    When the client sends a generic alert of type "org.example.battery.low" with data "5"
    Then the server answers the Alert with 200 or 202
    And every Status from the server references a command it received
