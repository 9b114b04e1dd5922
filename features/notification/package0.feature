@notification
Feature: Package #0 (server-initiated sessions)
  The server wakes a device with a package #0 whose digest proves the server (facts §7).

  @id:PKG0-101 @req:DM-HLF-002,DMRD-6.3.1.2-2 @server @should @ics:notify.udp
  Scenario: The server sends a package #0 over UDP with a digest made with its credentials
    Given the server authenticates with md5
    And the client has an account on the server
    When the server wakes the client over UDP
    Then a valid package #0 arrived
