@notification
Feature: Package #0 (server-initiated sessions)
  The server wakes a device with a package #0 whose digest proves the server (facts §7).

  @id:PKG0-101 @req:DM-HLF-002,DMRD-6.3.1.2-2 @server @should @ics:notify.udp
  Scenario: The server sends a package #0 over UDP with a digest made with its credentials
    Given the server authenticates with md5
    And the client has an account on the server
    When the server wakes the client over UDP
    Then a valid package #0 arrived

  @id:PKG0-102 @req:DM-HLF-002,DMRD-6.3.1.2-5 @server @should @ics:notify.udp
  Scenario: The device answers the package #0 with a server-initiated session the server serves
    Given the server authenticates with md5
    And the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the server wakes the client over UDP
    And the client answers the package #0 with a session
    Then package 1 from the client contains an Alert 1200
    And every message of the session carries the SessionID of the package #0
    And the server answers the Alert with 200
    And the server records the result "dmconf"
    And the session completes
