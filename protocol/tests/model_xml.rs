//! The message model against hand-written XML in the shapes real peers send (facts §1, §2).
#![allow(clippy::unwrap_used)]

use dm_protocol::codes::{AlertCode, StatusCode};
use dm_protocol::dom::Pos;
use dm_protocol::model::{self, Command, Data};
use dm_protocol::xml;

const PKG1: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<SyncML xmlns="SYNCML:SYNCML1.2">
  <SyncHdr>
    <VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>
    <SessionID>1A2B</SessionID><MsgID>1</MsgID>
    <Target><LocURI>https://dms.example/dm</LocURI></Target>
    <Source><LocURI>IMEI:001234567890123</LocURI><LocName>dev-user</LocName></Source>
    <Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-md5</Type>
      <Format xmlns="syncml:metinf">b64</Format></Meta><Data>Zz6EivR3yeaaENcRN6lpAQ==</Data></Cred>
    <Meta><MaxMsgSize xmlns="syncml:metinf">16384</MaxMsgSize></Meta>
  </SyncHdr>
  <SyncBody>
    <Alert><CmdID>1</CmdID><Data>1201</Data></Alert>
    <Replace><CmdID>2</CmdID>
      <Item><Source><LocURI>./DevInfo/DevId</LocURI></Source><Data>IMEI:001234567890123</Data></Item>
      <Item><Source><LocURI>./DevInfo/Ext</LocURI></Source><Meta><Format xmlns="syncml:metinf">node</Format></Meta></Item>
    </Replace>
    <Final/>
  </SyncBody>
</SyncML>"#;

fn decode(xml_text: &str) -> (model::SyncMl, Vec<dm_protocol::violation::Violation>) {
    let root = xml::parse(xml_text.as_bytes()).unwrap();
    model::from_dom(&root).unwrap()
}

#[test]
fn package_one_decodes_without_violations() {
    let (msg, v) = decode(PKG1);
    assert!(v.is_empty(), "{v:?}");
    assert_eq!(msg.hdr.session_id, "1A2B");
    assert_eq!(msg.hdr.source.loc_name.as_deref(), Some("dev-user"));
    assert_eq!(msg.hdr.meta.as_ref().unwrap().max_msg_size, Some(16384));
    let cred = msg.hdr.cred.as_ref().unwrap();
    assert_eq!(
        cred.meta.as_ref().unwrap().type_.as_deref(),
        Some("syncml:auth-md5")
    );
    assert!(msg.body.final_);
    let Command::Alert(a) = &msg.body.commands[0] else {
        panic!()
    };
    assert_eq!(a.code, Some(AlertCode::ClientInitiatedMgmt));
    let Command::Replace(r) = &msg.body.commands[1] else {
        panic!()
    };
    assert_eq!(
        r.items[0].data,
        Some(Data::Text("IMEI:001234567890123".into()))
    );
    assert_eq!(
        r.items[1].meta.as_ref().unwrap().format.as_deref(),
        Some("node")
    );
}

#[test]
fn canonical_round_trip_is_stable() {
    let (msg, _) = decode(PKG1);
    let canonical = xml::write(&model::to_dom(&msg), xml::WriteOptions::CANONICAL).unwrap();
    let (again, v) = decode(&canonical);
    assert!(v.is_empty(), "{v:?}");
    assert_eq!(again, msg);
    let twice = xml::write(&model::to_dom(&again), xml::WriteOptions::CANONICAL).unwrap();
    assert_eq!(twice, canonical);
}

#[test]
fn misordered_synchdr_is_flagged_with_line_and_column() {
    let bad = PKG1.replace(
        "<VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>",
        "<VerProto>DM/1.2</VerProto><VerDTD>1.2</VerDTD>",
    );
    let (msg, v) = decode(&bad);
    assert_eq!(msg.hdr.ver_dtd, "1.2", "still decoded");
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].kind.name(), "wrong_order");
    assert_eq!(
        v[0].pos,
        Pos::Xml {
            line: 4,
            column: 32
        }
    );
    assert!(v[0]
        .to_string()
        .starts_with("4:32: <VerDTD> inside <SyncHdr> comes too early"));
}

#[test]
fn lenient_decoding_keeps_what_it_cannot_type() {
    let xml_text = r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>x</MsgID><Target><LocURI>a</LocURI></Target><Source><LocURI>b</LocURI></Source><Meta><MaxMsgSize>big</MaxMsgSize></Meta></SyncHdr><SyncBody><Sync><CmdID>1</CmdID></Sync><Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>OK</Data></Status><Status><CmdID>3</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>0</Data></Status></SyncBody></SyncML>"#;
    let (msg, v) = decode(xml_text);
    let kinds: Vec<&str> = v.iter().map(|v| v.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "bad_number",
            "wrong_namespace",
            "bad_number",
            "not_used_in_dm",
            "bad_number"
        ],
        "{v:#?}"
    );
    assert_eq!(msg.body.commands.len(), 3);
    assert!(matches!(&msg.body.commands[0], Command::Other(r) if r.element.name == "Sync"));
    assert!(matches!(&msg.body.commands[1], Command::Other(r) if r.element.name == "Status"));
    let Command::Status(s) = &msg.body.commands[2] else {
        panic!()
    };
    assert_eq!(s.code, StatusCode::Other(0), "unknown code kept");
    let extra = &msg.hdr.meta.as_ref().unwrap().extra;
    assert_eq!(
        extra.to_xml(),
        r#"<MaxMsgSize xmlns="SYNCML:SYNCML1.2">big</MaxMsgSize>"#
    );
    // Nothing lost: re-encoding keeps the raw elements.
    let out = xml::write(&model::to_dom(&msg), xml::WriteOptions::CANONICAL).unwrap();
    assert!(out.contains("<Sync><CmdID>1</CmdID></Sync>"));
    assert!(out.contains("<Data>OK</Data>"));
}

#[test]
fn embedded_tnds_is_kept_intact() {
    let xml_text = r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>2</MsgID><Target><LocURI>a</LocURI></Target><Source><LocURI>b</LocURI></Source></SyncHdr><SyncBody><Results><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>3</CmdRef><Item><Source><LocURI>./Acme</LocURI></Source><Meta><Format xmlns="syncml:metinf">xml</Format><Type xmlns="syncml:metinf">application/vnd.syncml.dmtnds+xml</Type></Meta><Data>
  <MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Node><NodeName>Acme</NodeName><RTProperties><Format><node/></Format><Type><DDFName>com.acme/1.0/Cfg</DDFName></Type></RTProperties></Node></MgmtTree>
</Data></Item></Results><Final/></SyncBody></SyncML>"#;
    let (msg, v) = decode(xml_text);
    assert!(v.is_empty(), "{v:?}");
    let Command::Results(r) = &msg.body.commands[0] else {
        panic!()
    };
    let Some(Data::Markup(raw)) = &r.items[0].data else {
        panic!("{:?}", r.items[0].data)
    };
    assert!(raw
        .to_xml()
        .starts_with(r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Node>"#));
    let json = serde_json::to_value(&msg).unwrap();
    let back: model::SyncMl = serde_json::from_value(json).unwrap();
    assert_eq!(back, msg, "JSON form round-trips");
}
