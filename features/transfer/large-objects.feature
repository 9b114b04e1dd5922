@transfer @large-objects
Feature: Large objects
  A value larger than the receiver's MaxMsgSize travels in chunks: MoreData on every chunk but
  the last, the whole size in the first chunk's Meta Size, the receiver assembles it and
  answers 213 per chunk and 200 (or 424 on a size mismatch) at the end (facts §8).

  @id:LO-001 @req:DMRD-6.3.1-9,DMRD-6.3.1-30 @client @must @ics:large-objects
  Scenario: The client assembles a large value the server sends in chunks
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Blob" with 30000 bytes
    And the server queues a Get of "./Vendor/Blob"
    When the client starts a session
    Then the server sends the object in chunks
    And the client answers the Add of "./Vendor/Blob" with 200
    And the client returns Results for "./Vendor/Blob" with 30000 bytes

  @id:LO-002 @req:DMRD-6.3.1-26,DMRD-6.3.1-27 @client @must @ics:large-objects
  Scenario: A large object whose size does not match its declared Size is refused (424)
    Given the tester server misbehaves: wrong_size
    And the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Blob" with 30000 bytes
    And the server queues a Get of "./Vendor/Blob"
    When the client starts a session
    Then the client answers the Add of "./Vendor/Blob" with 424
    And the client answers the Get of "./Vendor/Blob" with 404

  @id:LO-003 @req:DMRD-6.3.1-9 @client @must @ics:large-objects
  Scenario: The client sends a large value in chunks that fit the server's MaxMsgSize
    Given the server announces a MaxMsgSize of 4096
    And the server announces a MaxObjSize of 1000000
    And the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Blob" with 20000 bytes
    And the server queues a Get of "./Vendor/Blob"
    When the client starts a session
    Then the client sends the object in chunks
    And every message from the client fits in 4096 bytes
    And the server records a result of 20000 bytes

  @id:LO-101 @req:DMRD-6.3.4-28 @server @must @ics:large-objects
  Scenario: The server sends a large value in chunks that fit the device's MaxMsgSize
    Given the client announces a MaxMsgSize of 4096
    And the client announces a MaxObjSize of 1000000
    And the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Blob" with 20000 bytes
    And the server queues a Get of "./Vendor/Blob"
    When the client starts a session
    Then the server sends the object in chunks
    And every message from the server fits in 4096 bytes
    And the client answers the Add of "./Vendor/Blob" with 200
    And the server records a result of 20000 bytes
