@tree @queries
Feature: Tree queries: ?list= and TNDS
  A server reads all or part of the tree with one cheap query and a compact answer
  (facts §4.6, §9.2).

  Background:
    Given the client has an account on the server
    And the server queues an Add of its own interior node "./Vendor"
    And the server queues an Add of "./Vendor/Color" with value "red"
    And the server queues an Add of "./Vendor/Size" with format "int" and value "9"

  @id:LIST-001 @req:DM-HLF-004 @client @must @ics:list-queries
  Scenario: ?list=Struct lists every node of the subtree
    Given the server queues a Get of "./Vendor?list=Struct"
    When the client starts a session
    Then the client answers the Get of "./Vendor?list=Struct" with 200
    And the client returns Results for "./Vendor/Color"
    And the client returns Results for "./Vendor/Size"

  @id:LIST-002 @req:DM-HLF-004 @client @must @ics:list-queries
  Scenario: ?list=StructData lists the subtree with the leaf values
    Given the server queues a Get of "./Vendor?list=StructData"
    When the client starts a session
    Then the client answers the Get of "./Vendor?list=StructData" with 200
    And the client returns Results for "./Vendor/Color" with value "red"
    And the client returns Results for "./Vendor/Size" with value "9"

  @id:LIST-003 @req:DM-HLF-004,DMRD-6.3.1-3 @client @must @ics:tnds
  Scenario: ?list=TNDS+Value returns the subtree as one TNDS document
    Given the server queues a Get of "./Vendor?list=TNDS+Value"
    When the client starts a session
    Then the client answers the Get of "./Vendor?list=TNDS+Value" with 200
    And the client returns Results for "./Vendor" containing "MgmtTree"
    And the client returns Results for "./Vendor" containing "red"

  @id:LIST-004 @req:DM-HLF-004 @client @must @ics:list-queries
  Scenario: An unknown ?list= value is refused (406)
    Given the server queues a Get of "./Vendor?list=Everything"
    When the client starts a session
    Then the client answers the Get of "./Vendor?list=Everything" with 406

  @id:LIST-005 @req:DMRD-6.3.1-6,DMRD-6.3.1-4 @client @must @ics:tnds
  Scenario: An Add carrying a TNDS document creates the whole subtree (one Status)
    Given the server queues these commands:
      """
      [{"Command": "Add", "CmdID": "0", "Items": [{"Target": {"LocURI": "."},
        "Meta": {"Format": "xml", "Type": "application/vnd.syncml.dmtnds+xml"},
        "Data": {"xml": "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD><Node><NodeName>Cfg</NodeName><Path>./Vendor</Path><RTProperties><Format><node/></Format><Type><DDFName/></Type></RTProperties><Node><NodeName>Host</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>h1</Value></Node></Node></MgmtTree>"}}]}]
      """
    And the server queues a Get of "./Vendor/Cfg/Host"
    When the client starts a session
    Then the client answers the Add of "." with 200
    And the client returns Results for "./Vendor/Cfg/Host" with value "h1"
