//! Smoke tests of the tree engine: node operations with ACLs and the standard MOs, and the
//! processor with an Atomic that fails (facts §2.6, §4.4, §4.5).
#![allow(clippy::unwrap_used)]
use std::sync::Arc;

use dm_protocol::codec::{decode, DecodeOptions};
use dm_protocol::codes::StatusCode;
use dm_protocol::uri::Property;
use dm_tree::standard::{install, put_account, Account, DeviceIdentity};
use dm_tree::{ManualClock, NewNode, NoHooks, Principal, Processor, Tree, TreeConfig};

fn device() -> Tree {
    let mut t = Tree::with_clock(
        TreeConfig::default(),
        Arc::new(ManualClock::at(994_869_497)),
    );
    install(&mut t, &DeviceIdentity::default()).unwrap();
    put_account(
        &mut t,
        &Account {
            node: "srvA".into(),
            server_id: "srvA".into(),
            name: "A".into(),
            addr: "http://a.example/dm".into(),
            aauth_pref: "DIGEST".into(),
            auth: vec![],
        },
    )
    .unwrap();
    t
}

#[test]
fn basic_flow() {
    let mut t = device();
    let a = Principal::server("srvA");
    assert!(t.get(&a, "./DevInfo/DevId").is_ok());
    let e = t.delete(&a, "./DevInfo").unwrap_err();
    assert_eq!(e.status(), StatusCode::CommandNotAllowed, "{e}");
    // facts §4.4: an interior node added without Replace on the parent gets the creator ACL.
    t.add(&a, "./Vendor", NewNode::interior()).unwrap();
    assert_eq!(
        t.get_prop(&Principal::Local, "./Vendor", Property::Acl)
            .unwrap(),
        "Add=srvA&Delete=srvA&Replace=srvA"
    );
    // No Get in the creator ACL: the creator then sets its own (facts §4.4 recommendation).
    assert_eq!(
        t.get(&a, "./Vendor").unwrap_err().status(),
        StatusCode::PermissionDenied
    );
    t.replace_prop(
        &a,
        "./Vendor",
        Property::Acl,
        "Add=srvA&Delete=srvA&Get=srvA&Replace=srvA",
    )
    .unwrap();
    t.add(&a, "./Vendor/Cfg/Host", NewNode::leaf("x")).unwrap();
    assert_eq!(
        t.add(&a, "./Vendor/Cfg/Host", NewNode::leaf("x"))
            .unwrap_err()
            .status(),
        StatusCode::AlreadyExists
    );
    assert_eq!(
        t.get_prop(&a, "./Vendor/Cfg/Host", Property::VerNo)
            .unwrap(),
        "0"
    );
    t.replace(&a, "./Vendor/Cfg/Host", NewNode::leaf("y"))
        .unwrap();
    assert_eq!(
        t.get_prop(&a, "./Vendor/Cfg/Host", Property::VerNo)
            .unwrap(),
        "1"
    );
    assert_eq!(
        t.get_prop(&a, "./Vendor/Cfg/Host", Property::TStamp)
            .unwrap(),
        "20010711T163817Z"
    );
    let b = Principal::server("srvB");
    // root ACL Add=*&Get=*: srvB cannot Replace.
    assert_eq!(
        t.replace(&b, "./Vendor/Cfg/Host", NewNode::leaf("z"))
            .unwrap_err()
            .status(),
        StatusCode::PermissionDenied
    );
    assert_eq!(
        t.get(&a, "./Inbox").unwrap_err().status(),
        StatusCode::CommandNotAllowed
    );
    assert!(t.get(&a, "./DMAcc/srvA/AppAuth").is_ok());
}

#[test]
fn processor_atomic() {
    let mut t = device();
    let msg = br#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>2</MsgID><Target><LocURI>IMEI:1</LocURI></Target><Source><LocURI>srvA</LocURI></Source></SyncHdr><SyncBody>
<Atomic><CmdID>1</CmdID>
 <Add><CmdID>2</CmdID><Item><Target><LocURI>./X/a</LocURI></Target><Data>1</Data></Item></Add>
 <Add><CmdID>3</CmdID><Item><Target><LocURI>./DevInfo/Foo</LocURI></Target><Data>1</Data></Item></Add>
</Atomic>
<Get><CmdID>4</CmdID><Item><Target><LocURI>./X/a</LocURI></Target></Item></Get>
<Get><CmdID>5</CmdID><Item><Target><LocURI>./DevInfo?list=StructData</LocURI></Target></Item></Get>
<Final/></SyncBody></SyncML>"#;
    let d = decode(msg, DecodeOptions::LENIENT).unwrap();
    let mut p = Processor::new();
    let who = Principal::server("srvA");
    let outs: Vec<_> = d
        .message
        .body
        .commands
        .iter()
        .map(|c| p.process(&mut t, &who, c, &mut NoHooks))
        .collect();
    assert_eq!(outs[0].code, StatusCode::AtomicFailed);
    assert_eq!(outs[0].children[0].code, StatusCode::AtomicRollBackOk);
    assert_eq!(outs[0].children[1].code, StatusCode::CommandNotAllowed);
    assert_eq!(outs[1].code, StatusCode::NotFound);
    assert_eq!(outs[2].code, StatusCode::Ok);
    assert_eq!(outs[2].results.len(), 6, "{:?}", outs[2].results);
}
