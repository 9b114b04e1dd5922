@tls
Feature: HTTPS: DM sessions kept confidential with TLS
  DM 1.2 runs its sessions over HTTP, and over TLS to keep them confidential (facts §6.4).
  The requirements ask that personal and confidential data between server and device be
  kept confidential (DMRD-6.1.1.5-1), that the server support HTTPS (DMRD-6.3.1.2-4) and
  that it can set up a secure connection to the device (DMRD-6.3.4-14).
  Which peers speak TLS is set by the profile: a client claiming `tls` meets a tester that
  serves HTTPS only and is told, at bootstrap, which CA to trust. A server claiming it is
  reached at its https:// URL, trusting the profile's trust_anchors. The harness speaks
  TLS 1.2 and 1.3. The TLS 1.0/SSL 3.0 suites that facts §6.4 lists are not tested
  (docs/tls.md).

  @id:TLS-001 @req:DMRD-6.1.1.5-1 @client @must @ics:tls
  Scenario: The client reaches the server over HTTPS and the session completes
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/DevId"
    When the client opens a session over HTTPS
    Then the exchange ran over TLS
    And the session completes

  @id:TLS-002 @req:DMRD-6.1.1.5-1 @client @must @ics:tls
  Scenario: The client sends nothing to a server whose certificate comes from a CA it does not trust
    # The first session proves the client does TLS with the CA it was given; then the same
    # endpoint presents another CA's certificate, and the client must refuse it with an
    # alert before any DM message leaves the device.
    Given the client has an account on the server
    When the client opens a session over HTTPS
    Then the session completes
    Given the tester server presents a certificate from a CA the client does not trust
    When the client tries to start another session
    Then the client refused the tester's certificate

  @id:TLS-003 @req:DMRD-6.1.1.5-1 @client @must @ics:tls
  Scenario: The client sends nothing to a server whose certificate names another host
    # A certificate from the trusted CA, but not for the host the client connects to: the
    # client must check the name as well as the issuer.
    Given the client has an account on the server
    When the client opens a session over HTTPS
    Then the session completes
    Given the tester server presents a certificate for another host name
    When the client tries to start another session
    Then the client refused the tester's certificate

  @id:TLS-101 @req:DMRD-6.3.1.2-4,DMRD-6.1.1.5-1 @server @must @ics:tls
  Scenario: The server serves a client-initiated session over HTTPS
    Given the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the client opens a session over HTTPS
    Then the exchange ran over TLS
    And the session completes
    And the server records the result "dmconf"

  @id:TLS-102 @req:DMRD-6.3.4-14 @server @must @ics:tls @ics:notify.udp
  Scenario: The server sets up a secure session with the device it wakes
    Given the server authenticates with md5
    And the client has an account on the server
    And the server queues a Get of "./DevInfo/Man"
    When the server wakes the client over UDP
    And the client answers the package #0 with a session
    Then the exchange ran over TLS
    And the server records the result "dmconf"
