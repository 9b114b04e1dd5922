#![allow(clippy::unwrap_used)]
//! Persistence of the tree in a state directory (issue "Persistence"; facts §4.2–§4.4 for
//! what a node carries, §9.2 for TNDS import/export):
//!
//! - every persisted field (text and binary values, Format, Type, ACL, Title, TStamp, VerNo,
//!   the permanent flag, interior/leaf shape, renames, deletes of subtrees) survives a
//!   reopen, and node ids stay stable (renames keep the id, new nodes never reuse one); a
//!   ServerID scrub by local code (facts §4.4) is persisted too;
//! - a failed store commit answers `TreeError::Store` (510) and leaves both the in-memory
//!   tree and the store exactly as before;
//! - a rolled-back operation (failed TNDS import, failed implicit Add, failed `Atomic`
//!   through the `Processor`) writes nothing; a successful `Atomic` is exactly one commit;
//!   a rolled-back rename gives the moved subtree its MO definitions back;
//! - a damaged or incompatible database gives a clear `StoreError`, never a panic;
//! - DDF-derived permanence and definitions are recomputed when the standard DDFs are
//!   loaded again after a reopen, and `standard::install` keeps server-made changes;
//! - TNDS export of a subtree imported into a fresh tree at the same place exports the same.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use dm_protocol::codec::{decode, DecodeOptions};
use dm_protocol::codes::StatusCode;
use dm_protocol::tnds::{Format, MgmtTree, TndsDocument};
use dm_protocol::uri::{NodeUri, Property, TndsField, TndsFilter};
use dm_tree::standard::{install, put_account, Account, DeviceIdentity};
use dm_tree::store::{MemoryStore, SqliteStore, Store, StoredNode};
use dm_tree::{
    CommandOutcome, ImportMode, ManualClock, NewNode, NoHooks, NodeInfo, NodeKind, Principal,
    Processor, Tree, TreeConfig, TreeError,
};

const T0: u64 = 994_869_497;

fn clock() -> ManualClock {
    ManualClock::at(T0)
}

fn open(dir: &Path, clock: &ManualClock) -> Tree {
    Tree::open_dir(dir, TreeConfig::default(), Arc::new(clock.clone())).unwrap()
}

fn uri(s: &str) -> NodeUri {
    NodeUri::parse(s).unwrap()
}

/// Every node's snapshot in pre-order, the root first.
fn snapshot(t: &Tree) -> Vec<NodeInfo> {
    let mut out = Vec::new();
    let mut stack = vec![NodeUri::root()];
    while let Some(u) = stack.pop() {
        let info = t.info(&u).unwrap();
        if let NodeKind::Interior(children) = &info.kind {
            for c in children.iter().rev() {
                stack.push(u.child(c).unwrap());
            }
        }
        out.push(info);
    }
    out
}

/// [`snapshot`] without the history-dependent TStamp and VerNo.
fn shape(t: &Tree) -> Vec<NodeInfo> {
    snapshot(t)
        .into_iter()
        .map(|mut n| {
            n.tstamp = 0;
            n.ver_no = 0;
            n
        })
        .collect()
}

fn export(t: &Tree, at: &str) -> MgmtTree {
    t.export_tnds(&uri(at), &TndsFilter::All).unwrap()
}

/// Export without VerNo and TStamp, which record a node's history (read-only, facts §4.3)
/// and so cannot be carried over by an import.
fn export_no_history(t: &Tree, at: &str) -> MgmtTree {
    let filter = TndsFilter::Exclude(vec![
        TndsField::Prop(Property::VerNo),
        TndsField::Prop(Property::TStamp),
    ]);
    t.export_tnds(&uri(at), &filter).unwrap()
}

/// URI → row of every stored node.
fn stored_by_path(rows: &[StoredNode]) -> BTreeMap<String, StoredNode> {
    let by_id: BTreeMap<u64, &StoredNode> = rows.iter().map(|r| (r.id, r)).collect();
    rows.iter()
        .map(|r| {
            let mut names = Vec::new();
            let mut cur = r;
            while let Some(p) = cur.parent {
                names.push(cur.name.clone());
                cur = by_id[&p];
            }
            names.push(".".into());
            names.reverse();
            (names.join("/"), r.clone())
        })
        .collect()
}

fn load_rows(dir: &Path) -> Vec<StoredNode> {
    SqliteStore::open(dir).unwrap().load().unwrap()
}

/// A tree touching every persisted field.
fn populate(t: &mut Tree, clock: &ManualClock) {
    let l = Principal::Local;
    install(t, &DeviceIdentity::default()).unwrap();
    t.replace_prop(&l, ".", Property::Acl, "Add=*&Get=*&Replace=srvA")
        .unwrap();
    t.add(
        &l,
        "./Vendor",
        NewNode::interior().typed("com.acme/1.0/Cfg"),
    )
    .unwrap();
    t.replace_prop(
        &l,
        "./Vendor",
        Property::Acl,
        "Add=srvA&Delete=srvA&Get=*&Replace=srvA+srvB",
    )
    .unwrap();
    t.add(&l, "./Vendor/Cfg/Host", NewNode::leaf("mail.example"))
        .unwrap();
    for i in 0..3 {
        clock.advance(61);
        t.replace(
            &l,
            "./Vendor/Cfg/Host",
            NewNode::leaf(format!("mail{i}.example")),
        )
        .unwrap();
    }
    t.replace_prop(&l, "./Vendor/Cfg/Host", Property::Title, "Mail host ✓")
        .unwrap();
    t.replace_prop(&l, "./Vendor/Cfg/Host", Property::Acl, "Get=srvB")
        .unwrap();
    t.add(
        &l,
        "./Vendor/Cfg/Blob",
        NewNode::leaf(vec![0u8, 255, 1, 128, 0xfe, 0])
            .format(Format::Bin)
            .typed("application/octet-stream"),
    )
    .unwrap();
    t.add(
        &l,
        "./Vendor/Cfg/Port",
        NewNode::leaf("8080").format(Format::Int),
    )
    .unwrap();
    t.add(
        &l,
        "./Vendor/Cfg/On",
        NewNode::leaf("true").format(Format::Bool),
    )
    .unwrap();
    t.add(&l, "./Vendor/Cfg/Empty", NewNode::leaf("")).unwrap();
    t.add(
        &l,
        "./Vendor/Cfg/Doc",
        NewNode::leaf("<a>grüße</a>")
            .format(Format::Xml)
            .typed("text/xml"),
    )
    .unwrap();
    t.add(&l, "./Vendor/Hollow", NewNode::interior()).unwrap();
    t.add(&l, "./Vendor/a%20b", NewNode::leaf("spaced name"))
        .unwrap();
    t.replace_prop(&l, "./Vendor/Hollow", Property::Title, "nothing inside")
        .unwrap();
    t.add(&l, "./Vendor/Old/a/b", NewNode::leaf("moved"))
        .unwrap();
    t.replace_prop(&l, "./Vendor/Old", Property::Name, "Renamed")
        .unwrap();
    t.add(&l, "./Vendor/Gone/x/y", NewNode::leaf("deleted"))
        .unwrap();
    t.add(&l, "./Vendor/Gone/z", NewNode::interior()).unwrap();
    clock.advance(3600);
    t.delete(&l, "./Vendor/Gone").unwrap();
}

// ----- (a) every persisted field round-trips ------------------------------------------------

#[test]
fn every_field_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let (snap, full) = {
        let mut t = open(dir.path(), &c);
        populate(&mut t, &c);
        (snapshot(&t), export(&t, "."))
    };
    // Spot checks that the scenario really exercises each field.
    let host = snap.iter().find(|n| n.uri == "./Vendor/Cfg/Host").unwrap();
    assert_eq!(
        host.ver_no, 5,
        "added, then replaced three times, Title, ACL"
    );
    assert_eq!(host.title.as_deref(), Some("Mail host ✓"));
    assert_eq!(host.acl, "Get=srvB");
    assert!(snap.iter().any(|n| n.uri == "./Vendor/Renamed/a/b"));
    assert!(!snap.iter().any(|n| n.uri.starts_with("./Vendor/Gone")));
    assert!(!snap.iter().any(|n| n.uri.starts_with("./Vendor/Old")));
    assert!(snap.iter().any(|n| n.uri == "./DevInfo" && n.permanent));

    // Reopen with another clock time and another configured root ACL: the stored state wins,
    // and nothing is rewritten by opening.
    let later = ManualClock::at(T0 + 1_000_000);
    for _ in 0..2 {
        let config = TreeConfig {
            root_acl: "Get=*".into(),
            ..TreeConfig::default()
        };
        let t = Tree::open_dir(dir.path(), config, Arc::new(later.clone())).unwrap();
        assert_eq!(snapshot(&t), snap);
        assert_eq!(export(&t, "."), full);
        let root = t.info(&NodeUri::root()).unwrap();
        assert_eq!(root.acl, "Add=*&Get=*&Replace=srvA");
        assert!(root.permanent);
    }

    let t = open(dir.path(), &later);
    let blob = t.info(&uri("./Vendor/Cfg/Blob")).unwrap();
    assert_eq!(blob.format, Format::Bin);
    assert_eq!(blob.type_, "application/octet-stream");
    assert_eq!(
        blob.kind,
        NodeKind::Leaf(dm_tree::LeafValue(vec![0, 255, 1, 128, 0xfe, 0]))
    );
    assert_eq!(
        t.value_str("./Vendor/Cfg/Doc").as_deref(),
        Some("<a>grüße</a>")
    );
    assert_eq!(
        t.value_str("./Vendor/a%20b").as_deref(),
        Some("spaced name")
    );
    assert_eq!(t.value_str("./Vendor/Cfg/Empty").as_deref(), Some(""));
    assert_eq!(
        t.info(&uri("./Vendor/Hollow")).unwrap().kind,
        NodeKind::Interior(vec![])
    );
    assert_eq!(t.info(&uri("./Vendor")).unwrap().type_, "com.acme/1.0/Cfg");
    // A server sees the reloaded ACLs: the leaf's own ACL names only srvB (facts §4.4).
    assert!(t
        .get(&Principal::server("srvB"), "./Vendor/Cfg/Host")
        .is_ok());
    assert_eq!(
        t.get(&Principal::server("srvA"), "./Vendor/Cfg/Host")
            .unwrap_err()
            .status(),
        StatusCode::PermissionDenied
    );
}

#[test]
fn node_ids_stay_stable_across_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    {
        let mut t = open(dir.path(), &c);
        populate(&mut t, &c);
    }
    let before = stored_by_path(&load_rows(dir.path()));
    let max_before = before.values().map(|r| r.id).max().unwrap();
    assert_eq!(before["."].id, 0);
    {
        let mut t = open(dir.path(), &c);
        let l = Principal::Local;
        t.replace_prop(&l, "./Vendor/Renamed", Property::Name, "Again")
            .unwrap();
        t.add(&l, "./Vendor/Fresh", NewNode::leaf("new")).unwrap();
        t.delete(&l, "./Vendor/Hollow").unwrap();
    }
    let after = stored_by_path(&load_rows(dir.path()));
    for (path, row) in &before {
        let moved = path.replacen("./Vendor/Renamed", "./Vendor/Again", 1);
        match after.get(&moved) {
            Some(now) => assert_eq!(now.id, row.id, "{path} changed its id"),
            None => assert_eq!(path, "./Vendor/Hollow", "{path} disappeared"),
        }
    }
    assert!(
        after["./Vendor/Fresh"].id > max_before,
        "a new node reused an id"
    );
    assert_eq!(after.len(), before.len());
    // Behaviour after the second reopen: the renamed subtree, the new node and the
    // untouched rest are all there, with their values.
    let t = open(dir.path(), &c);
    assert_eq!(t.value_str("./Vendor/Again/a/b").as_deref(), Some("moved"));
    assert!(!t.exists(&uri("./Vendor/Renamed")));
    assert_eq!(t.value_str("./Vendor/Fresh").as_deref(), Some("new"));
    assert_eq!(
        t.value_str("./Vendor/Cfg/Host").as_deref(),
        Some("mail2.example")
    );
}

#[test]
fn scrubbing_a_server_id_is_persisted() {
    // facts §4.4: removing a ServerID scrubs it from every ACL. Local code may do it directly
    // (not only through a Delete of the account); the result must reach the store.
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    {
        let mut t = open(dir.path(), &c);
        let l = Principal::Local;
        t.add(&l, "./Vendor", NewNode::interior()).unwrap();
        t.replace_prop(&l, "./Vendor", Property::Acl, "Get=srvA+srvB&Replace=srvB")
            .unwrap();
        t.scrub_server("srvB").unwrap();
        assert_eq!(t.info(&uri("./Vendor")).unwrap().acl, "Get=srvA");
    }
    let t = open(dir.path(), &c);
    assert_eq!(t.info(&uri("./Vendor")).unwrap().acl, "Get=srvA");
}

// ----- (b) a failed store commit changes nothing ---------------------------------------------

type Shared = Arc<Mutex<MemoryStore>>;

fn memory_tree(store: &Shared, c: &ManualClock) -> Tree {
    Tree::open(
        TreeConfig::default(),
        Arc::new(c.clone()),
        Box::new(store.clone()),
    )
    .unwrap()
}

/// A tree loaded from a copy of the store's rows: what a restart would see.
fn reloaded(store: &Shared, c: &ManualClock) -> Tree {
    let copy = Arc::new(Mutex::new(store.lock().unwrap().clone()));
    memory_tree(&copy, c)
}

fn run(t: &mut Tree, p: &mut Processor, who: &Principal, body: &str) -> Vec<CommandOutcome> {
    let msg = format!(
        r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>2</MsgID><Target><LocURI>IMEI:1</LocURI></Target><Source><LocURI>srvA</LocURI></Source></SyncHdr><SyncBody>{body}<Final/></SyncBody></SyncML>"#
    );
    let d = decode(msg.as_bytes(), DecodeOptions::LENIENT).unwrap();
    d.message
        .body
        .commands
        .iter()
        .map(|c| p.process(t, who, c, &mut NoHooks))
        .collect()
}

fn tnds(xml: &str) -> MgmtTree {
    TndsDocument::parse_xml(xml.as_bytes()).unwrap().tree
}

const IMPORT: &str = r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
<Node><NodeName>Imp</NodeName><Path>./Vendor</Path>
  <RTProperties><Format><node/></Format><Type><DDFName>com.acme/1.0/Imp</DDFName></Type><ACL>Get=*&amp;Replace=srvA</ACL></RTProperties>
  <Node><NodeName>k</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type><Title>key</Title></RTProperties><Value>v</Value></Node>
</Node></MgmtTree>"#;

#[allow(clippy::type_complexity)]
fn operations() -> Vec<(
    &'static str,
    Box<dyn Fn(&mut Tree) -> Result<(), TreeError>>,
)> {
    let l = Principal::Local;
    let a = Principal::server("srvA");
    vec![
        (
            "add with implicit ancestors",
            Box::new(move |t: &mut Tree| {
                t.add(&l, "./Vendor/New/Deep/leaf", NewNode::leaf("x"))
                    .map(|_| ())
            }),
        ),
        (
            "replace",
            Box::new(|t: &mut Tree| {
                t.replace(
                    &Principal::Local,
                    "./Vendor/Cfg/Host",
                    NewNode::leaf("other"),
                )
            }),
        ),
        (
            "delete subtree",
            Box::new(|t: &mut Tree| t.delete(&Principal::Local, "./Vendor/Cfg")),
        ),
        (
            "rename",
            Box::new(|t: &mut Tree| {
                t.replace_prop(&Principal::Local, "./Vendor/Cfg", Property::Name, "Conf")
            }),
        ),
        (
            "ACL",
            Box::new(|t: &mut Tree| {
                t.replace_prop(&Principal::Local, "./Vendor", Property::Acl, "Get=srvC")
            }),
        ),
        (
            "Title",
            Box::new(|t: &mut Tree| {
                t.replace_prop(&Principal::Local, "./Vendor/Cfg", Property::Title, "t")
            }),
        ),
        (
            "copy",
            Box::new(|t: &mut Tree| {
                t.copy(&Principal::Local, "./Vendor/Cfg/Host", "./Vendor/Cfg/Host2")
            }),
        ),
        (
            "TNDS import",
            Box::new(|t: &mut Tree| {
                t.import_tnds(&Principal::Local, ".", &tnds(IMPORT), ImportMode::Add)
                    .map(|_| ())
            }),
        ),
        (
            "Atomic",
            Box::new(move |t: &mut Tree| {
                let out = run(
                    t,
                    &mut Processor::new(),
                    &a,
                    r#"<Atomic><CmdID>1</CmdID>
 <Add><CmdID>2</CmdID><Item><Target><LocURI>./X/a</LocURI></Target><Data>1</Data></Item></Add>
 <Add><CmdID>3</CmdID><Item><Target><LocURI>./X/b</LocURI></Target><Data>2</Data></Item></Add>
</Atomic>"#,
                );
                match out[0].code {
                    StatusCode::Ok => Ok(()),
                    code => Err(TreeError::Failed {
                        uri: format!("Atomic answered {code:?}"),
                        reason: format!("{:?}", out[0].children),
                    }),
                }
            }),
        ),
    ]
}

fn base_tree(store: &Shared, c: &ManualClock) -> Tree {
    let mut t = memory_tree(store, c);
    let l = Principal::Local;
    t.add(&l, "./Vendor/Cfg/Host", NewNode::leaf("mail.example"))
        .unwrap();
    t.add(&l, "./Vendor/Cfg/Port", NewNode::leaf("25")).unwrap();
    t.replace_prop(&l, "./Vendor", Property::Acl, "Get=*&Replace=srvA")
        .unwrap();
    t
}

#[test]
fn a_failed_store_commit_leaves_tree_and_store_as_they_were() {
    for (name, op) in operations() {
        let store: Shared = Arc::default();
        let c = clock();
        let mut t = base_tree(&store, &c);
        c.advance(10);
        let sub = t.subscribe(NodeUri::root());
        let tree_before = export(&t, ".");
        let snap_before = snapshot(&t);
        let (rows_before, commits_before) = {
            let s = store.lock().unwrap();
            (s.rows.clone(), s.commits)
        };

        store.lock().unwrap().fail_next = Some("disk full".into());
        match op(&mut t) {
            Err(e @ TreeError::Store(_)) => {
                assert_eq!(e.status(), StatusCode::DataStoreFailure, "{name}");
                assert_eq!(e.status().as_u16(), 510, "{name}");
                assert!(e.to_string().contains("disk full"), "{name}: {e}");
            }
            Err(TreeError::Failed { uri, .. }) if name == "Atomic" => {
                // The processor reports the failed commit as 507 with every child 216.
                assert!(uri.contains("AtomicFailed"), "{uri}");
            }
            other => panic!("{name}: expected a store failure, got {other:?}"),
        }
        assert_eq!(export(&t, "."), tree_before, "{name}: tree changed");
        assert_eq!(snapshot(&t), snap_before, "{name}: tree changed");
        assert!(t.take_events(sub).is_empty(), "{name}: events delivered");
        {
            let s = store.lock().unwrap();
            assert_eq!(s.rows, rows_before, "{name}: store changed");
            assert_eq!(s.commits, commits_before, "{name}: store committed");
        }

        // The same operation then succeeds, and the store mirrors the tree exactly (the
        // rolled-back attempt left nothing behind in memory or in the next batch).
        op(&mut t).unwrap();
        assert_eq!(store.lock().unwrap().commits, commits_before + 1, "{name}");
        assert!(!t.take_events(sub).is_empty(), "{name}: no events");
        assert_eq!(snapshot(&reloaded(&store, &c)), snapshot(&t), "{name}");
    }
}

#[test]
fn a_failed_atomic_commit_answers_507_with_every_child_rolled_back() {
    let store: Shared = Arc::default();
    let c = clock();
    let mut t = base_tree(&store, &c);
    let before = export(&t, ".");
    store.lock().unwrap().fail_next = Some("disk full".into());
    let out = run(
        &mut t,
        &mut Processor::new(),
        &Principal::server("srvA"),
        r#"<Atomic><CmdID>1</CmdID>
 <Add><CmdID>2</CmdID><Item><Target><LocURI>./X/a</LocURI></Target><Data>1</Data></Item></Add>
 <Replace><CmdID>3</CmdID><Item><Target><LocURI>./Vendor/Cfg/Host</LocURI></Target><Data>h</Data></Item></Replace>
</Atomic>"#,
    );
    assert_eq!(out[0].code, StatusCode::AtomicFailed);
    assert!(out[0]
        .children
        .iter()
        .all(|ch| ch.code == StatusCode::AtomicRollBackOk));
    assert_eq!(export(&t, "."), before);
    assert!(!t.exists(&uri("./X")));
}

// ----- (c) rolled-back work never reaches the store ------------------------------------------

#[test]
fn rolled_back_operations_write_nothing() {
    let store: Shared = Arc::default();
    let c = clock();
    let mut t = base_tree(&store, &c);
    let l = Principal::Local;
    let a = Principal::server("srvA");
    let rows = store.lock().unwrap().rows.clone();
    let commits = store.lock().unwrap().commits;
    let before = snapshot(&t);
    let unchanged = |t: &Tree, what: &str| {
        let s = store.lock().unwrap();
        assert_eq!(s.commits, commits, "{what} committed");
        assert_eq!(s.rows, rows, "{what} wrote rows");
        assert_eq!(snapshot(t), before, "{what} changed the tree");
    };

    // TNDS import whose second top-level node clashes: the first is already in when the
    // second fails (418), and the whole import is undone.
    let clash = r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
<Node><NodeName>Imp</NodeName><Path>./Vendor</Path><RTProperties><Format><node/></Format><Type><DDFName/></Type></RTProperties>
  <Node><NodeName>k</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>v</Value></Node></Node>
<Node><NodeName>Host</NodeName><Path>./Vendor/Cfg</Path><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>dup</Value></Node>
</MgmtTree>"#;
    let e = t
        .import_tnds(&l, ".", &tnds(clash), ImportMode::Add)
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::AlreadyExists, "{e}");
    unchanged(&t, "a failed TNDS import");

    // TNDS Replace that fails half-way (a bad bin value after a delete of undescribed nodes).
    let bad = r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
<Node><NodeName>Cfg</NodeName><Path>./Vendor</Path><RTProperties><Format><node/></Format><Type><DDFName/></Type></RTProperties>
  <Node><NodeName>Host</NodeName><RTProperties><Format><bin/></Format><Type><MIME>application/octet-stream</MIME></Type></RTProperties><Value>!!not base64!!</Value></Node></Node>
</MgmtTree>"#;
    let e = t
        .import_tnds(&l, ".", &tnds(bad), ImportMode::Replace)
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::UnsupportedMediaType, "{e}");
    unchanged(&t, "a failed TNDS Replace");

    // Implicit Add whose last node is refused (415) after its ancestors were created.
    let e = t
        .add(
            &l,
            "./Vendor/N1/N2/n",
            NewNode::leaf("abc").format(Format::Int),
        )
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::UnsupportedMediaType, "{e}");
    unchanged(&t, "a failed implicit Add");

    // A failed Atomic through the processor: the first Add succeeds, the second is 418.
    let out = run(
        &mut t,
        &mut Processor::new(),
        &a,
        r#"<Atomic><CmdID>1</CmdID>
 <Add><CmdID>2</CmdID><Item><Target><LocURI>./X/a</LocURI></Target><Data>1</Data></Item></Add>
 <Replace><CmdID>3</CmdID><Item><Target><LocURI>./Vendor/Cfg/Host</LocURI></Target><Data>h</Data></Item></Replace>
 <Add><CmdID>4</CmdID><Item><Target><LocURI>./X/a</LocURI></Target><Data>1</Data></Item></Add>
</Atomic>"#,
    );
    assert_eq!(out[0].code, StatusCode::AtomicFailed);
    assert_eq!(out[0].children[2].code, StatusCode::AlreadyExists);
    unchanged(&t, "a failed Atomic");

    // A successful Atomic is one commit, whatever the number of commands in it.
    let out = run(
        &mut t,
        &mut Processor::new(),
        &a,
        r#"<Atomic><CmdID>1</CmdID>
 <Add><CmdID>2</CmdID><Item><Target><LocURI>./X/a</LocURI></Target><Data>1</Data></Item></Add>
 <Add><CmdID>3</CmdID><Item><Target><LocURI>./X/b</LocURI></Target><Data>2</Data></Item></Add>
 <Replace><CmdID>4</CmdID><Item><Target><LocURI>./Vendor/Cfg/Host</LocURI></Target><Data>h</Data></Item></Replace>
</Atomic>"#,
    );
    assert_eq!(out[0].code, StatusCode::Ok, "{out:?}");
    assert_eq!(store.lock().unwrap().commits, commits + 1);
    assert_eq!(snapshot(&reloaded(&store, &c)), snapshot(&t));
}

#[test]
fn a_rolled_back_rename_restores_the_subtree_definitions() {
    // Local code renames ./DevInfo (no checks for the device itself) inside a transaction
    // that then fails: the children must get their DDF definitions back, so a server is
    // still refused by the DDF AccessType (405), not merely by the ACL (425).
    let mut t = Tree::with_clock(TreeConfig::default(), Arc::new(clock()));
    install(&mut t, &DeviceIdentity::default()).unwrap();
    let a = Principal::server("srvA");
    let replace = |t: &mut Tree| {
        t.replace(&a, "./DevInfo/DevId", NewNode::leaf("x"))
            .unwrap_err()
            .status()
    };
    assert_eq!(replace(&mut t), StatusCode::CommandNotAllowed);
    let before = snapshot(&t);
    let e = t
        .atomically(|t| {
            t.replace_prop(&Principal::Local, "./DevInfo", Property::Name, "Moved")?;
            t.add(&Principal::Local, "./Moved", NewNode::leaf("clash"))
                .map(|_| ())
        })
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::AlreadyExists);
    assert_eq!(snapshot(&t), before);
    assert_eq!(replace(&mut t), StatusCode::CommandNotAllowed);
}

// ----- (d) damaged or incompatible state -------------------------------------------------------

fn damaged(sql: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    {
        let c = clock();
        let mut t = open(dir.path(), &c);
        t.add(&Principal::Local, "./A/b", NewNode::leaf("v"))
            .unwrap();
    }
    {
        let conn = rusqlite::Connection::open(dir.path().join(SqliteStore::FILE)).unwrap();
        conn.execute_batch(sql).unwrap();
    }
    match Tree::open_dir(dir.path(), TreeConfig::default(), Arc::new(clock())) {
        Ok(t) => panic!("{sql}: opened a damaged state: {t:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_damaged_or_incompatible_database_is_refused_with_a_clear_error() {
    let cases: &[(&str, &str)] = &[
        (
            "UPDATE meta SET value = 99 WHERE key = 'schema_version'",
            "layout version 99",
        ),
        (
            "INSERT INTO nodes VALUES (900, 800, 'orphan', 'chr', 'text/plain', '', NULL, 0, 0, 0, x'00')",
            "missing or leaf parent 800",
        ),
        (
            "INSERT INTO nodes SELECT 901, id, 'under-leaf', 'chr', '', '', NULL, 0, 0, 0, x'00' FROM nodes WHERE name = 'b'",
            "missing or leaf parent",
        ),
        ("DELETE FROM nodes WHERE id = 0", "missing or leaf parent 0"),
        (
            "DELETE FROM nodes WHERE id = 0; UPDATE nodes SET parent = NULL WHERE name = 'A'",
            "no root",
        ),
        (
            "UPDATE nodes SET parent = NULL WHERE name = 'A'",
            "not reachable from the root",
        ),
        ("UPDATE nodes SET format = 'bogus' WHERE name = 'b'", "bad format"),
        ("UPDATE nodes SET acl = 'Fly=*' WHERE name = 'b'", "bad ACL"),
        (
            "UPDATE nodes SET format = 'chr' WHERE name = 'A'",
            "shape",
        ),
        (
            // Two nodes that are each other's parent: unreachable from the root.
            "INSERT INTO nodes VALUES (910, 911, 'p', 'node', '', '', NULL, 0, 0, 0, NULL);
             INSERT INTO nodes VALUES (911, 910, 'q', 'node', '', '', NULL, 0, 0, 0, NULL);",
            "not reachable from the root",
        ),
        (
            // A second node of the same name under the same parent.
            "INSERT INTO nodes SELECT 920, parent, name, 'chr', '', '', NULL, 0, 0, 0, x'01' FROM nodes WHERE name = 'b'",
            "not reachable from the root",
        ),
        (
            "UPDATE nodes SET parent = 5 WHERE id = 0",
            "missing or leaf parent 5",
        ),
        (
            "DROP TABLE nodes; CREATE TABLE nodes (id INTEGER PRIMARY KEY, name TEXT)",
            "load nodes",
        ),
        ("UPDATE nodes SET tstamp = 'soon' WHERE name = 'b'", "load nodes"),
    ];
    for (sql, want) in cases {
        let msg = damaged(sql);
        assert!(msg.contains(want), "{sql}: {msg:?} lacks {want:?}");
    }

    // Not a database at all.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(SqliteStore::FILE),
        b"definitely not SQLite, just text",
    )
    .unwrap();
    let e = Tree::open_dir(dir.path(), TreeConfig::default(), Arc::new(clock())).unwrap_err();
    assert!(e.to_string().contains("tree.db"), "{e}");
    // The state directory cannot be created.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let e = Tree::open_dir(&file, TreeConfig::default(), Arc::new(clock())).unwrap_err();
    assert!(e.to_string().contains("state directory"), "{e}");
}

// ----- (e) DDF-derived state after a reopen ----------------------------------------------------

fn account() -> Account {
    Account {
        node: "srvA".into(),
        server_id: "srvA".into(),
        name: "A".into(),
        addr: "http://a.example/dm".into(),
        aauth_pref: "DIGEST".into(),
        auth: vec![],
    }
}

#[test]
fn standard_install_after_a_reopen_recomputes_ddf_state_and_keeps_server_changes() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let a = Principal::server("srvA");
    let (fresh_shape, fresh_export) = {
        let mut t = open(dir.path(), &c);
        install(&mut t, &DeviceIdentity::default()).unwrap();
        put_account(&mut t, &account()).unwrap();
        // DDF-declared permanence holds from the start, not only after a reload.
        assert!(t.info(&uri("./DevInfo")).unwrap().permanent);
        assert!(t.info(&uri("./DevInfo/DevId")).unwrap().permanent);
        assert!(!t.info(&uri("./DMAcc/srvA")).unwrap().permanent);
        // Server-made changes.
        t.replace(&a, "./DMAcc/srvA/Name", NewNode::leaf("renamed by server"))
            .unwrap();
        t.add(&a, "./DMAcc/srvA/Ext", NewNode::interior()).unwrap();
        t.add(&a, "./Vendor", NewNode::interior()).unwrap();
        t.replace_prop(
            &a,
            "./Vendor",
            Property::Acl,
            "Add=srvA&Get=srvA&Replace=srvA",
        )
        .unwrap();
        t.replace_prop(&a, "./Vendor", Property::Title, "server's")
            .unwrap();
        assert_eq!(
            t.replace(&a, "./DevInfo/DevId", NewNode::leaf("x"))
                .unwrap_err()
                .status(),
            StatusCode::CommandNotAllowed
        );
        (shape(&t), export_no_history(&t, "."))
    };

    let mut t = open(dir.path(), &c);
    // Without the DDFs the stored permanence still protects the MO roots...
    assert!(t.info(&uri("./DevInfo")).unwrap().permanent);
    assert_eq!(
        t.delete(&a, "./DevInfo").unwrap_err().status(),
        StatusCode::CommandNotAllowed
    );
    // ...but the AccessType of a definition needs the DDF: only the ACL refuses now.
    assert_eq!(
        t.replace(&a, "./DevInfo/DevId", NewNode::leaf("x"))
            .unwrap_err()
            .status(),
        StatusCode::PermissionDenied
    );

    install(&mut t, &DeviceIdentity::default()).unwrap();
    install(&mut t, &DeviceIdentity::default()).unwrap();
    assert_eq!(shape(&t), fresh_shape);
    assert_eq!(export_no_history(&t, "."), fresh_export);
    assert_eq!(
        t.value_str("./DMAcc/srvA/Name").as_deref(),
        Some("renamed by server")
    );
    assert!(t.exists(&uri("./DMAcc/srvA/Ext")));
    assert_eq!(
        t.info(&uri("./Vendor")).unwrap().title.as_deref(),
        Some("server's")
    );
    // The definitions are back: AccessType refuses (405) before the ACL would (425).
    assert_eq!(
        t.replace(&a, "./DevInfo/DevId", NewNode::leaf("x"))
            .unwrap_err()
            .status(),
        StatusCode::CommandNotAllowed
    );
    assert_eq!(
        t.replace(&a, "./DMAcc/srvA/AppID", NewNode::leaf("w9"))
            .unwrap_err()
            .status(),
        StatusCode::CommandNotAllowed
    );
    assert!(t
        .replace(&a, "./DMAcc/srvA/ServerID", NewNode::leaf("srvA"))
        .is_ok());

    // And all that survives one more reopen with the DDFs loaded again.
    drop(t);
    let mut t = open(dir.path(), &c);
    install(&mut t, &DeviceIdentity::default()).unwrap();
    assert_eq!(shape(&t), fresh_shape);
}

// ----- (f) TNDS export/import of a subtree ------------------------------------------------------

#[test]
fn tnds_export_then_import_into_a_fresh_tree_exports_the_same() {
    let c = clock();
    let mut src = Tree::with_clock(TreeConfig::default(), Arc::new(c.clone()));
    populate(&mut src, &c);
    for at in [
        "./Vendor",
        "./Vendor/Cfg",
        "./Vendor/Renamed/a",
        "./DevDetail",
    ] {
        let doc = export(&src, at);
        // Through the XML text, as a server would carry it.
        let xml = TndsDocument::from_tree(doc.clone()).to_xml(false).unwrap();
        let parsed = tnds(&xml);
        assert_eq!(parsed, doc, "{at}: XML round trip");

        let store: Shared = Arc::default();
        let mut dst = memory_tree(&store, &c);
        dst.import_tnds(&Principal::Local, ".", &parsed, ImportMode::Add)
            .unwrap();
        assert_eq!(
            export_no_history(&dst, at),
            export_no_history(&src, at),
            "{at}"
        );
        // The imported subtree is persisted like any other change.
        assert_eq!(
            export_no_history(&reloaded(&store, &c), at),
            export_no_history(&src, at),
            "{at}: after reload"
        );
        // Exporting the copy and importing that once more is a fixpoint, history included.
        let again = export(&dst, at);
        let mut third = Tree::with_clock(TreeConfig::default(), Arc::new(c.clone()));
        third
            .import_tnds(&Principal::Local, ".", &again, ImportMode::Add)
            .unwrap();
        assert_eq!(export(&third, at), again, "{at}: second generation");
    }
}
