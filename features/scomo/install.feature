@scomo
Feature: Software components (SCOMO)
  The server publishes signed packages (docs/scomo-package.md) and asks the device to
  download and install them through the SCOMO MO (facts §10); the device verifies integrity,
  originator and targeting before it installs, asks the user, and reports each operation
  with a Generic Alert carrying the Exec's Correlator and a result code (facts §10.3).

  @id:SCOMO-001 @req:DMRD-6.3.1-40,DMRD-6.3.1-9,DMRD-6.3.1.2-8,DMRD-6.3.1-30 @client @must @ics:scomo
  Scenario: A package is downloaded, verified, installed and reported (1200)
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for the client
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    Then the client answers the Exec with 202
    And the client reports the operation complete with result 1200
    And the server records the operation result 1200

  @id:SCOMO-002 @req:DMRD-6.3.1-26,DMRD-6.1.1.4-5,DMRD-6.3.1-27 @client @must @ics:scomo
  Scenario: A package whose payload was changed is refused as a failed download (1402)
    Given the client has an account on the server
    And the server publishes a tampered package "Antivirus" version "2.0" for the client
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    Then the client reports the operation complete with result 1402

  @id:SCOMO-003 @req:DMRD-6.3.1-31,DMRD-6.3.1-28 @client @must @ics:scomo
  Scenario: A package signed by an originator the device does not trust is refused (1407)
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" signed by an unknown originator
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    Then the client reports the operation complete with result 1407

  @id:SCOMO-004 @req:DMRD-6.3.1-33 @client @must @ics:scomo
  Scenario: A package for another model is refused (1413)
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for another model
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    Then the client reports the operation complete with result 1413

  @id:SCOMO-005 @req:DMRD-6.1.4-14 @client @must @ics:scomo @ics:ui-alerts
  Scenario: The user refuses the install: nothing is installed (1401)
    Given the client has an account on the server
    And the user will reject
    And the server publishes a package "Antivirus" version "2.0" for the client
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    # The user lets the device report its applications (DMRD-6.1.4-16), so the read shows
    # what is installed.
    And the user will accept
    And the server queues a Get of the Version of the installed "Antivirus" version "2.0"
    And the client starts another session
    Then the client reports the operation complete with result 1401
    And the client has no installed "Antivirus" version "2.0"

  @id:SCOMO-006 @req:DMRD-6.3.1-39,DMRD-6.3.1-40 @client @must @ics:scomo
  Scenario: An installed component shows in the inventory with its version, active
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for the client
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    And the server queues a Get of the Version of the installed "Antivirus" version "2.0"
    And the server queues a Get of the State of the installed "Antivirus" version "2.0"
    And the client starts another session
    Then the client reports Version "2.0" for the installed "Antivirus" version "2.0"
    And the client reports State "20" for the installed "Antivirus" version "2.0"

  @id:SCOMO-007 @req:DMRD-6.3.1-40 @client @must @ics:scomo
  Scenario: An inactive install is activated later (State 10, then 20)
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for the client
    And the server queues an install_inactive of "Antivirus" version "2.0"
    When the client starts a session
    And the server queues a Get of the State of the installed "Antivirus" version "2.0"
    And the client starts another session
    And the server queues an activate of "Antivirus" version "2.0"
    And the client starts another session
    And the server queues a Get of the State of the installed "Antivirus" version "2.0"
    And the client starts another session
    Then the client reports State "10" for the installed "Antivirus" version "2.0"
    And the client reports State "20" for the installed "Antivirus" version "2.0"

  @id:SCOMO-008 @req:DMRD-6.3.1-40 @client @must @ics:scomo
  Scenario: A removed component leaves the inventory
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for the client
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    And the server queues a remove of "Antivirus" version "2.0"
    And the client starts another session
    And the server queues a Get of the Version of the installed "Antivirus" version "2.0"
    And the client starts another session
    Then the client has no installed "Antivirus" version "2.0"

  @id:SCOMO-009 @req:SCOMO-OSR-Device-XX @client @should @ics:scomo
  Scenario: The device asks for an install; the server serves it in the same session
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for the client
    When the client asks the server to install "Antivirus"
    Then package 1 from the client contains an Alert 1226
    And the client answers the Exec with 202
    And the client reports the operation complete with result 1200

  @id:SCOMO-101 @req:DMRD-6.3.4-28,DMRD-6.3.4.1-9 @server @must @ics:scomo
  Scenario: The server delivers a package the device verifies and records its success
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for the client
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    Then the client answers the Exec with 202
    And the client reports the operation complete with result 1200
    And the server records the operation result 1200

  @id:SCOMO-102 @req:DMRD-6.3.4.1-9 @server @must @ics:scomo
  Scenario: The server records a device's failure report
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for another model
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    Then the client reports the operation complete with result 1413
    And the server records the operation result 1413

  @id:SCOMO-103 @req:SCOMO-OSR-Device-XX @server @should @ics:scomo
  Scenario: The server answers a device's install request in the same session
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for the client
    When the client asks the server to install "Antivirus"
    Then the server answers the Alert with 200
    And the client answers the Exec with 202
    And the server records the operation result 1200

  @id:SCOMO-104 @req:DMRD-6.3.4-32,DMRD-6.3.4-34 @server @must @ics:scomo
  Scenario: The server asks the device for its software inventory
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for the client
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    And the server queues an inventory query
    And the client starts another session
    Then the client reports Version "2.0" for the installed "Antivirus" version "2.0"

  @id:SCOMO-010 @req:DMRD-6.1.1.4-4 @client @must @ics:scomo @ics:auth.hmac
  Scenario: The software inventory travels integrity-protected (HMAC on every message)
    Given the client authenticates with hmac
    And the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for the client
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    And the server queues an inventory query
    And the client starts another session
    Then the client reports Version "2.0" for the installed "Antivirus" version "2.0"
    And the server's last Status for the SyncHdr is 200
    And every Status from the server references a command it received

  @id:SCOMO-011 @req:DMRD-6.3.1-40 @client @should @ics:scomo
  Scenario: The client's install exchange matches the golden session vector
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for the client
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    Then the exchange matches its session vector

  @id:SCOMO-105 @req:DMRD-6.3.4-28 @server @should @ics:scomo
  Scenario: The server's install exchange matches the golden session vector
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for the client
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    Then the exchange matches its session vector

  @id:SCOMO-012 @req:DMRD-6.3.1-40 @client @must @ics:scomo
  Scenario: Installing a newer version of a component updates it in place
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "1.0" for the client
    And the server publishes a package "Antivirus" version "2.0" for the client
    And the server queues an install of "Antivirus" version "1.0"
    When the client starts a session
    And the server queues an install of "Antivirus" version "2.0"
    And the client starts another session
    And the server queues a Get of the Version of the installed "Antivirus" version "2.0"
    And the server queues a Get of "./SCOMO/Inventory/Deployed"
    And the client starts another session
    Then the client reports Version "2.0" for the installed "Antivirus" version "2.0"
    And the client returns Results listing the children "antivirus"

  @id:SCOMO-106 @req:DMRD-6.3.4-28 @server @must @ics:scomo
  Scenario: The server updates a component with a newer package
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "1.0" for the client
    And the server publishes a package "Antivirus" version "2.0" for the client
    And the server queues an install of "Antivirus" version "1.0"
    When the client starts a session
    And the server queues an install of "Antivirus" version "2.0"
    And the client starts another session
    And the server queues a Get of the Version of the installed "Antivirus" version "2.0"
    And the client starts another session
    Then the client reports Version "2.0" for the installed "Antivirus" version "2.0"
    And the server records the operation result 1200

  @id:SCOMO-013 @req:DMRD-6.3.1-39 @client @should @ics:scomo
  Scenario: The SCOMO MO after an install matches the golden snapshot (inventory query)
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for the client
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    And the server queues an inventory query
    And the client starts another session
    Then the client reports Version "2.0" for the installed "Antivirus" version "2.0"
    And the exchange matches its session vector

  # DMRD-6.1.4-16 (docs/scomo.md "Inventory consent"): the installed-application list leaves
  # the device only if the user enabled it or agrees when asked. The device is set to ask
  # (ICS scomo.inventory-consent). Without consent, the Get of the inventory is refused
  # (any status that is not 2xx; the reference client answers 425) and no Results carry it.
  @id:SCOMO-014 @req:DMRD-6.1.4-16 @client @must @ics:scomo @ics:ui-alerts @ics:scomo.inventory-consent
  Scenario: Without the user's consent the client does not send its installed-application list
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for the client
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    And the user will reject
    And the server queues a Get of "./SCOMO/Inventory/Deployed"
    And the client starts another session
    Then the client withholds "./SCOMO/Inventory/Deployed" from the Get

  @id:SCOMO-015 @req:DMRD-6.1.4-16,DMRD-6.3.1-39 @client @must @ics:scomo @ics:ui-alerts @ics:scomo.inventory-consent
  Scenario: With the user's consent the client sends its installed-application list
    Given the client has an account on the server
    And the server publishes a package "Antivirus" version "2.0" for the client
    And the server queues an install of "Antivirus" version "2.0"
    When the client starts a session
    And the user will accept
    And the server queues a Get of "./SCOMO/Inventory/Deployed"
    And the client starts another session
    Then the client answers the Get of "./SCOMO/Inventory/Deployed" with 200
    And the client returns Results for "./SCOMO/Inventory/Deployed"
