//! Per-rule tests of the tree engine: each case cites the fact-sheet section
//! (`shared/docs/omadm-facts.md`) whose rule it checks.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use dm_protocol::codes::StatusCode as S;
use dm_protocol::tnds::{Format, TndsDocument};
use dm_protocol::uri::{ListQuery, NodeUri, Property, TndsFilter};
use dm_tree::standard::{install, put_account, Account, AppAuth, DeviceIdentity};
use dm_tree::{
    ChangeKind, ExecOutcome, GetResult, ImportMode, ListOutput, ManualClock, NewNode, Principal,
    Tree, TreeConfig,
};
use rstest::rstest;

const T0: u64 = 994_869_497; // 2001-07-11T16:38:17Z, the facts §4.3 TStamp example

fn account(id: &str) -> Account {
    Account {
        node: id.into(),
        server_id: id.into(),
        name: id.into(),
        addr: format!("https://{id}.example/dm"),
        aauth_pref: "DIGEST".into(),
        auth: vec![AppAuth {
            level: "CLCRED".into(),
            auth_type: "DIGEST".into(),
            name: "dev".into(),
            secret: "s3cret".into(),
            data: b"nonce".to_vec(),
        }],
    }
}

fn uri(s: &str) -> NodeUri {
    NodeUri::parse(s).unwrap()
}

/// A device with the standard MOs, accounts srvA and srvB, and a vendor subtree:
/// `./Vendor` (ACL `Add=srvA&Delete=srvA&Get=srvA+srvB&Replace=srvA`) / `Cfg` (empty ACL) /
/// `Host` (chr) and `Port` (int); `./Vendor/Ro` (ACL `Get=*`); `./Vendor/Perm` (permanent);
/// `./Open` (every right to everyone).
fn device_with(config: TreeConfig) -> (Tree, ManualClock) {
    let clock = ManualClock::at(T0);
    let mut t = Tree::with_clock(config, Arc::new(clock.clone()));
    install(&mut t, &DeviceIdentity::default()).unwrap();
    put_account(&mut t, &account("srvA")).unwrap();
    put_account(&mut t, &account("srvB")).unwrap();
    let l = Principal::Local;
    t.add(&l, "./Vendor", NewNode::interior()).unwrap();
    t.replace_prop(
        &l,
        "./Vendor",
        Property::Acl,
        "Add=srvA&Delete=srvA&Get=srvA+srvB&Replace=srvA",
    )
    .unwrap();
    t.add(&l, "./Vendor/Cfg", NewNode::interior()).unwrap();
    t.add(&l, "./Vendor/Cfg/Host", NewNode::leaf("h")).unwrap();
    t.add(
        &l,
        "./Vendor/Cfg/Port",
        NewNode::leaf("80").format(Format::Int),
    )
    .unwrap();
    t.add(&l, "./Vendor/Ro", NewNode::leaf("ro")).unwrap();
    t.replace_prop(&l, "./Vendor/Ro", Property::Acl, "Get=*")
        .unwrap();
    t.add(&l, "./Vendor/Perm", NewNode::interior()).unwrap();
    t.set_permanent(&uri("./Vendor/Perm"), true).unwrap();
    t.add(&l, "./Open", NewNode::interior()).unwrap();
    t.replace_prop(
        &l,
        "./Open",
        Property::Acl,
        "Add=*&Delete=*&Exec=*&Get=*&Replace=*",
    )
    .unwrap();
    (t, clock)
}

fn device() -> Tree {
    device_with(TreeConfig::default()).0
}

#[derive(Debug, Clone)]
enum Op {
    Get,
    Add(&'static str),
    AddInterior,
    Replace(&'static str),
    Delete,
    GetProp(Property),
    SetProp(Property, &'static str),
    CopyFrom(&'static str),
}

fn run(t: &mut Tree, who: &str, op: Op, at: &str) -> S {
    let who = if who == "local" {
        Principal::Local
    } else {
        Principal::server(who)
    };
    let r = match op {
        Op::Get => t.get(&who, at).map(|_| ()),
        Op::Add(v) => t.add(&who, at, NewNode::leaf(v)).map(|_| ()),
        Op::AddInterior => t.add(&who, at, NewNode::interior()).map(|_| ()),
        Op::Replace(v) => t.replace(&who, at, NewNode::leaf(v)),
        Op::Delete => t.delete(&who, at),
        Op::GetProp(p) => t.get_prop(&who, at, p).map(|_| ()),
        Op::SetProp(p, v) => t.replace_prop(&who, at, p, v),
        Op::CopyFrom(src) => t.copy(&who, src, at),
    };
    match r {
        Ok(()) => S::Ok,
        Err(e) => e.status(),
    }
}

#[rstest]
// facts §4.5 Add
#[case("srvA", Op::Add("x"), "./Vendor/Cfg/New", S::Ok)]
#[case("srvA", Op::Add("x"), "./Vendor/Cfg/Host", S::AlreadyExists)]
#[case("srvA", Op::Add("x"), "./Vendor/Cfg/Host/Sub", S::CommandNotAllowed)] // §4.2 child under leaf
#[case("srvB", Op::Add("x"), "./Vendor/Cfg/New", S::PermissionDenied)] // §4.4 Add on parent
#[case("srvA", Op::Add("x"), "./Vendor/A/B/C", S::Ok)] // §4.2 implicit ancestors
#[case("srvA", Op::AddInterior, "./Vendor/Cfg/Dir", S::Ok)]
#[case("srvA", Op::Add("x"), ".", S::AlreadyExists)]
#[case("srvA", Op::Add("x"), "./DevInfo/Extra", S::CommandNotAllowed)] // §9.1 not in the MO
#[case("srvA", Op::Add("x"), "./a//b", S::CommandFailed)] // §4.1 bad URI (IMPL 500)
// facts §4.5 Replace
#[case("srvA", Op::Replace("y"), "./Vendor/Cfg/Host", S::Ok)]
#[case("srvA", Op::Replace("y"), "./Vendor/Cfg/Missing", S::NotFound)]
#[case("srvA", Op::Replace("y"), "./Vendor/Cfg", S::CommandNotAllowed)] // interior (IMPL)
#[case("srvB", Op::Replace("y"), "./Vendor/Cfg/Host", S::PermissionDenied)]
#[case("srvA", Op::Replace("y"), "./DevInfo/Man", S::CommandNotAllowed)] // §5.2 Get-only
#[case(
    "srvA",
    Op::Replace("abc"),
    "./Vendor/Cfg/Port",
    S::UnsupportedMediaType
)] // int
#[case("srvA", Op::Replace("8080"), "./Vendor/Cfg/Port", S::Ok)]
// facts §4.5 Delete
#[case("srvA", Op::Delete, "./Vendor/Cfg", S::Ok)]
#[case("srvA", Op::Delete, ".", S::CommandNotAllowed)]
#[case("srvA", Op::Delete, "./DevInfo", S::CommandNotAllowed)] // §4.2 permanent
#[case("srvA", Op::Delete, "./Vendor/Perm", S::CommandNotAllowed)]
#[case("srvA", Op::Delete, "./Nope", S::NotFound)]
#[case("srvB", Op::Delete, "./Vendor/Cfg", S::PermissionDenied)]
// facts §4.5 Get, §5.5 Inbox
#[case("srvB", Op::Get, "./Vendor/Cfg/Host", S::Ok)]
#[case("srvC", Op::Get, "./Vendor/Cfg/Host", S::PermissionDenied)]
#[case("srvC", Op::Get, "./Vendor/Ro", S::Ok)]
#[case("srvA", Op::Get, "./Inbox", S::CommandNotAllowed)]
#[case("srvA", Op::Get, "./Inbox/x", S::CommandNotAllowed)]
#[case("srvA", Op::Get, "./Nope", S::NotFound)]
#[case(
    "srvA",
    Op::Get,
    "./DMAcc/srvA/AppAuth/1/AAuthSecret",
    S::CommandNotAllowed
)] // §5.4 No Get
#[case("srvB", Op::Get, "./DMAcc/srvA/ServerID", S::PermissionDenied)]
// facts §4.3 properties
#[case(
    "srvA",
    Op::GetProp(Property::Size),
    "./Vendor/Cfg",
    S::OptionalFeatureNotSupported
)]
#[case("srvA", Op::GetProp(Property::Size), "./Vendor/Cfg/Host", S::Ok)]
#[case(
    "srvA",
    Op::SetProp(Property::Format, "chr"),
    "./Vendor/Cfg/Host",
    S::CommandNotAllowed
)]
#[case(
    "srvA",
    Op::SetProp(Property::Type, "text/x"),
    "./Vendor/Cfg/Host",
    S::CommandNotAllowed
)]
#[case(
    "srvA",
    Op::SetProp(Property::Size, "3"),
    "./Vendor/Cfg/Host",
    S::CommandNotAllowed
)]
#[case(
    "srvA",
    Op::SetProp(Property::TStamp, "x"),
    "./Vendor/Cfg/Host",
    S::CommandNotAllowed
)]
#[case(
    "srvA",
    Op::SetProp(Property::VerNo, "3"),
    "./Vendor/Cfg/Host",
    S::CommandNotAllowed
)]
#[case("srvA", Op::SetProp(Property::Title, "t"), "./Vendor/Cfg/Host", S::Ok)]
#[case(
    "srvB",
    Op::SetProp(Property::Title, "t"),
    "./Vendor/Cfg/Host",
    S::PermissionDenied
)]
#[case(
    "srvA",
    Op::SetProp(Property::Name, "Port"),
    "./Vendor/Cfg/Host",
    S::AlreadyExists
)] // §4.3 418
#[case(
    "srvA",
    Op::SetProp(Property::Name, "Host2"),
    "./Vendor/Cfg/Host",
    S::Ok
)]
#[case(
    "srvA",
    Op::SetProp(Property::Name, "X"),
    "./Vendor/Perm",
    S::CommandNotAllowed
)] // permanent
#[case("srvA", Op::SetProp(Property::Name, "X"), ".", S::CommandNotAllowed)]
#[case(
    "srvA",
    Op::SetProp(Property::Name, "a/b"),
    "./Vendor/Cfg/Host",
    S::UnsupportedMediaType
)]
// facts §4.4 ACL property
#[case(
    "srvA",
    Op::SetProp(Property::Acl, "Get=srvA"),
    "./Vendor/Cfg/Host",
    S::Ok
)] // parent's Replace
#[case(
    "srvB",
    Op::SetProp(Property::Acl, "Get=srvB"),
    "./Vendor/Cfg/Host",
    S::PermissionDenied
)]
#[case("srvA", Op::SetProp(Property::Acl, "Get=*"), "./Vendor", S::Ok)] // interior: own Replace
#[case(
    "srvA",
    Op::SetProp(Property::Acl, "Get="),
    "./Vendor",
    S::UnsupportedMediaType
)] // malformed
#[case("local", Op::SetProp(Property::Acl, ""), ".", S::CommandNotAllowed)] // root never empty
#[case(
    "local",
    Op::SetProp(Property::Acl, "Get=*"),
    ".",
    S::CommandNotAllowed
)] // root Add stays *
#[case(
    "local",
    Op::SetProp(Property::Acl, "Add=*&Get=*&Replace=srvA"),
    ".",
    S::Ok
)]
#[case("srvA", Op::SetProp(Property::Acl, "Add=*"), ".", S::PermissionDenied)]
// facts §4.5 Copy
#[case("srvA", Op::CopyFrom("./Vendor/Cfg/Host"), "./Vendor/Cfg/Copy", S::Ok)]
#[case("srvA", Op::CopyFrom("./Vendor/Cfg/Host"), "./Vendor/Cfg/Port", S::Ok)] // free-form: Format travels
#[case(
    "srvA",
    Op::CopyFrom("./Vendor/Cfg"),
    "./Vendor/X",
    S::CommandNotAllowed
)] // leaf-only
#[case(
    "srvA",
    Op::CopyFrom("./Vendor/Cfg/Host"),
    "./Vendor/Cfg",
    S::CommandNotAllowed
)]
#[case(
    "srvC",
    Op::CopyFrom("./Vendor/Cfg/Host"),
    "./Open/X",
    S::PermissionDenied
)] // Get on source
#[case("srvC", Op::CopyFrom("./Vendor/Ro"), "./Open/X", S::Ok)]
fn operation_status(#[case] who: &str, #[case] op: Op, #[case] at: &str, #[case] want: S) {
    let mut t = device();
    assert_eq!(run(&mut t, who, op.clone(), at), want, "{who} {op:?} {at}");
}

#[test]
fn copy_overwrites_value_format_and_type() {
    // facts §4.5: the source value overwrites the target.
    let mut t = device();
    let a = Principal::server("srvA");
    t.copy(&a, "./Vendor/Cfg/Port", "./Vendor/Cfg/Host")
        .unwrap();
    assert_eq!(t.value_str("./Vendor/Cfg/Host").unwrap(), "80");
    assert_eq!(
        t.get_prop(&a, "./Vendor/Cfg/Host", Property::Format)
            .unwrap(),
        "int"
    );
}

#[test]
fn failed_implicit_add_leaves_no_ancestors() {
    // facts §4.2: implicit ancestors; a failure leaves the tree unchanged.
    let mut t = device();
    let a = Principal::server("srvA");
    let e = t
        .add(
            &a,
            "./Vendor/New/Deep/Leaf",
            NewNode::leaf("zz").format(Format::Int),
        )
        .unwrap_err();
    assert_eq!(e.status(), S::UnsupportedMediaType);
    assert!(!t.exists(&uri("./Vendor/New")));
}

#[test]
fn implicit_ancestors_get_empty_acl_and_no_implicit_add_gives_404() {
    // facts §4.2: implicitly created interior nodes get an empty ACL.
    let mut t = device();
    let a = Principal::server("srvA");
    t.add(&a, "./Vendor/I1/I2/Leaf", NewNode::leaf("v"))
        .unwrap();
    assert_eq!(t.get_prop(&a, "./Vendor/I1", Property::Acl).unwrap(), "");
    assert_eq!(
        t.get_prop(&a, "./Vendor/I1", Property::Format).unwrap(),
        "node"
    );
    let (mut t2, _) = device_with(TreeConfig {
        implicit_add: false,
        ..TreeConfig::default()
    });
    let e = t2
        .add(&a, "./Vendor/I1/Leaf", NewNode::leaf("v"))
        .unwrap_err();
    assert_eq!(e.status(), S::NotFound);
}

#[test]
fn creator_acl_only_without_replace_on_parent() {
    // facts §4.4: interior Add without Replace on the parent → creator gets Add, Delete,
    // Replace; with Replace on the parent the new node's ACL stays empty (inherits).
    let mut t = device();
    let c = Principal::server("srvC");
    t.add(&c, "./NewRoot", NewNode::interior()).unwrap();
    assert_eq!(
        t.get_prop(&Principal::Local, "./NewRoot", Property::Acl)
            .unwrap(),
        "Add=srvC&Delete=srvC&Replace=srvC"
    );
    let a = Principal::server("srvA");
    t.add(&a, "./Vendor/Sub", NewNode::interior()).unwrap();
    assert_eq!(t.get_prop(&a, "./Vendor/Sub", Property::Acl).unwrap(), "");
    // A leaf never gets a creator ACL.
    t.add(&c, "./NewLeaf", NewNode::leaf("x")).unwrap();
    assert_eq!(t.get_prop(&c, "./NewLeaf", Property::Acl).unwrap(), "");
}

#[test]
fn acl_inherits_from_nearest_non_empty_ancestor_whole() {
    // facts §4.4: inheritance takes the nearest non-empty ACL whole (no per-command merge);
    // Get ?prop=ACL returns the node's own (empty) value.
    let mut t = device();
    let l = Principal::Local;
    t.replace_prop(&l, "./Vendor/Cfg", Property::Acl, "Get=srvB")
        .unwrap();
    let a = Principal::server("srvA");
    let b = Principal::server("srvB");
    assert_eq!(
        t.get(&a, "./Vendor/Cfg/Host").unwrap_err().status(),
        S::PermissionDenied
    );
    assert!(t.get(&b, "./Vendor/Cfg/Host").is_ok());
    assert_eq!(
        t.get_prop(&b, "./Vendor/Cfg/Host", Property::Acl).unwrap(),
        ""
    );
    // srvA still has Replace on ./Vendor, so it can take the child back (two-step takeover).
    t.replace_prop(&a, "./Vendor/Cfg", Property::Acl, "Get=srvA&Replace=srvA")
        .unwrap();
    assert!(t.get(&a, "./Vendor/Cfg/Host").is_ok());
}

#[test]
fn removing_an_account_scrubs_its_server_id() {
    // facts §4.4: removing a ServerID scrubs it from every ACL; a command left without ids
    // is removed; on the root it becomes `*`.
    let mut t = device();
    let l = Principal::Local;
    t.replace_prop(&l, ".", Property::Acl, "Add=*&Get=*&Replace=srvB")
        .unwrap();
    t.replace_prop(&l, "./Open", Property::Acl, "Delete=srvB&Get=srvA+srvB")
        .unwrap();
    t.delete(&l, "./DMAcc/srvB").unwrap();
    assert_eq!(
        t.get_prop(&l, "./Vendor", Property::Acl).unwrap(),
        "Add=srvA&Delete=srvA&Get=srvA&Replace=srvA"
    );
    assert_eq!(t.get_prop(&l, "./Open", Property::Acl).unwrap(), "Get=srvA");
    assert_eq!(
        t.get_prop(&l, ".", Property::Acl).unwrap(),
        "Add=*&Get=*&Replace=*"
    );
    assert_eq!(t.account_server_ids(), vec!["srvA".to_string()]);
}

#[test]
fn last_account_cannot_be_deleted_by_a_server() {
    // docs/mo DMAcc: <X> is OneOrMore (facts §5.4 "1..n").
    let mut t = device();
    let l = Principal::Local;
    t.delete(&l, "./DMAcc/srvB").unwrap();
    let e = t
        .delete(&Principal::server("srvA"), "./DMAcc/srvA")
        .unwrap_err();
    assert_eq!(e.status(), S::CommandNotAllowed, "{e}");
}

#[test]
fn verno_increments_and_wraps_tstamp_follows_the_clock() {
    // facts §4.3: VerNo 16-bit, increments on change, wraps FFFF → 0000; TStamp ISO 8601.
    let (mut t, clock) = device_with(TreeConfig::default());
    let a = Principal::server("srvA");
    let v0: u32 = t
        .get_prop(&a, "./Vendor/Cfg/Host", Property::VerNo)
        .unwrap()
        .parse()
        .unwrap();
    clock.advance(3600);
    t.replace(&a, "./Vendor/Cfg/Host", NewNode::leaf("1"))
        .unwrap();
    assert_eq!(
        t.get_prop(&a, "./Vendor/Cfg/Host", Property::VerNo)
            .unwrap(),
        (v0 + 1).to_string()
    );
    assert_eq!(
        t.get_prop(&a, "./Vendor/Cfg/Host", Property::TStamp)
            .unwrap(),
        "20010711T173817Z"
    );
    for _ in 0..(65_536 - 1) {
        t.replace(&Principal::Local, "./Vendor/Cfg/Host", NewNode::leaf("1"))
            .unwrap();
    }
    assert_eq!(
        t.get_prop(&a, "./Vendor/Cfg/Host", Property::VerNo)
            .unwrap(),
        v0.to_string()
    );
}

#[test]
fn title_limits_and_unsupported_properties() {
    // facts §4.3: Title ≤ 255 bytes; optional properties unsupported → 406.
    let mut t = device();
    let a = Principal::server("srvA");
    let long = "x".repeat(256);
    let e = t
        .replace_prop(&a, "./Vendor/Cfg/Host", Property::Title, &long)
        .unwrap_err();
    assert_eq!(e.status(), S::RequestEntityTooLarge);
    t.replace_prop(&a, "./Vendor/Cfg/Host", Property::Title, &long[..255])
        .unwrap();
    let (mut t2, _) = device_with(TreeConfig {
        optional_props: Default::default(),
        ..TreeConfig::default()
    });
    for p in [
        Property::Size,
        Property::Title,
        Property::TStamp,
        Property::VerNo,
    ] {
        assert_eq!(
            t2.get_prop(&a, "./Vendor/Cfg/Host", p)
                .unwrap_err()
                .status(),
            S::OptionalFeatureNotSupported
        );
    }
    assert_eq!(
        t2.replace_prop(&a, "./Vendor/Cfg/Host", Property::Title, "t")
            .unwrap_err()
            .status(),
        S::OptionalFeatureNotSupported
    );
}

#[test]
fn rename_moves_the_subtree() {
    // facts §4.3: Name Replace renames.
    let mut t = device();
    let a = Principal::server("srvA");
    t.replace_prop(&a, "./Vendor/Cfg", Property::Name, "Conf")
        .unwrap();
    assert_eq!(t.value_str("./Vendor/Conf/Host").unwrap(), "h");
    assert!(!t.exists(&uri("./Vendor/Cfg")));
    assert_eq!(
        t.get_prop(&a, "./Vendor/Conf", Property::Name).unwrap(),
        "Conf"
    );
}

#[test]
fn get_interior_lists_children_escaped() {
    // facts §4.2: child names joined with `/`; names %-escaped (facts §4.1).
    let mut t = device();
    let l = Principal::Local;
    t.add(&l, "./Open/a%20b", NewNode::leaf("1")).unwrap();
    t.add(&l, "./Open/c", NewNode::leaf("2")).unwrap();
    match t.get(&Principal::server("srvA"), "./Open").unwrap() {
        GetResult::Interior { children, .. } => assert_eq!(children, vec!["a%20b", "c"]),
        other => panic!("{other:?}"),
    }
}

#[rstest]
// facts §4.1, §5.3: URI limits from DevDetail/URI → 414.
#[case("MaxDepth", "2", "./Open/a/b", S::UriTooLong)]
#[case("MaxDepth", "3", "./Open/a/b", S::Ok)]
#[case("MaxSegLen", "3", "./Open/abcd", S::UriTooLong)]
#[case("MaxSegLen", "4", "./Open/abcd", S::Ok)]
#[case("MaxTotLen", "10", "./Open/abcd", S::UriTooLong)]
#[case("MaxTotLen", "0", "./Open/abcd", S::Ok)]
fn uri_limits(#[case] leaf: &str, #[case] v: &str, #[case] at: &str, #[case] want: S) {
    let mut t = device();
    dm_tree::standard::put_leaf(&mut t, &format!("./DevDetail/URI/{leaf}"), v, Format::Chr)
        .unwrap();
    assert_eq!(run(&mut t, "srvA", Op::Add("x"), at), want);
}

#[test]
fn inbox_add_is_placed_by_mo_type() {
    // facts §5.5: a server Adds an MO to ./Inbox; the client places it by its MO identifier.
    let mut t = device();
    let c = Principal::server("srvC");
    let placed = t
        .add(
            &c,
            "./Inbox/acc3",
            NewNode::interior().typed(dm_tree::standard::mo::DMACC),
        )
        .unwrap();
    assert_eq!(placed.to_string(), "./DMAcc/acc3");
    let e = t
        .add(
            &c,
            "./Inbox/x",
            NewNode::interior().typed("urn:example:unknown"),
        )
        .unwrap_err();
    assert_eq!(e.status(), S::UnsupportedMediaType);
    assert!(!t.exists(&uri("./Inbox/x")));
}

fn tnds(xml: &str) -> dm_protocol::tnds::MgmtTree {
    TndsDocument::parse_xml(xml.as_bytes()).unwrap().tree
}

#[test]
fn tnds_add_is_all_or_nothing() {
    // facts §9.2: one status for the whole set, tree unchanged on failure.
    let mut t = device();
    let a = Principal::server("srvA");
    let doc = tnds(
        r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
        <Node><NodeName>T1</NodeName><Path>.</Path><RTProperties><Format><node/></Format><Type><DDFName/></Type></RTProperties>
          <Node><NodeName>L</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>v</Value></Node>
        </Node>
        <Node><NodeName>Host</NodeName><Path>Cfg</Path><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>dup</Value></Node>
        </MgmtTree>"#,
    );
    let before = t.export_tnds(&NodeUri::root(), &TndsFilter::All).unwrap();
    let e = t
        .import_tnds(&a, "./Vendor", &doc, ImportMode::Add)
        .unwrap_err();
    assert_eq!(e.status(), S::AlreadyExists);
    assert_eq!(
        t.export_tnds(&NodeUri::root(), &TndsFilter::All).unwrap(),
        before
    );
    // Without the clash it applies, paths relative to the target.
    let ok = tnds(
        r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
        <Node><NodeName>T1</NodeName><Path>.</Path><RTProperties><Format><node/></Format><Type><DDFName/></Type></RTProperties>
          <Node><NodeName>L</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>v</Value></Node>
        </Node></MgmtTree>"#,
    );
    t.import_tnds(&a, "./Vendor", &ok, ImportMode::Add).unwrap();
    assert_eq!(t.value_str("./Vendor/T1/L").unwrap(), "v");
}

#[test]
fn tnds_replace_replaces_the_subtree() {
    // facts §4.5: TNDS Replace creates new nodes, updates described ones, deletes the rest.
    let mut t = device();
    let a = Principal::server("srvA");
    let doc = tnds(
        r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
        <Node><NodeName>Cfg</NodeName><Path>.</Path><RTProperties><Format><node/></Format><Type><DDFName/></Type></RTProperties>
          <Node><NodeName>Host</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>new</Value></Node>
          <Node><NodeName>User</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>u</Value></Node>
        </Node></MgmtTree>"#,
    );
    t.import_tnds(&a, "./Vendor", &doc, ImportMode::Replace)
        .unwrap();
    assert_eq!(t.value_str("./Vendor/Cfg/Host").unwrap(), "new");
    assert_eq!(t.value_str("./Vendor/Cfg/User").unwrap(), "u");
    assert!(!t.exists(&uri("./Vendor/Cfg/Port")));
}

#[test]
fn list_queries_skip_unreadable_nodes_and_filter_properties() {
    // facts §4.6: Struct/StructData list the readable nodes of the subtree; TNDS +/- filters.
    let mut t = device();
    t.replace_prop(
        &Principal::Local,
        "./Vendor/Cfg/Port",
        Property::Acl,
        "Get=srvA",
    )
    .unwrap();
    let b = Principal::server("srvB");
    let ListOutput::Items(items) = t.list(&b, "./Vendor", &ListQuery::StructData).unwrap() else {
        panic!("items expected")
    };
    let uris: Vec<&str> = items.iter().map(|i| i.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "./Vendor",
            "./Vendor/Cfg",
            "./Vendor/Cfg/Host",
            "./Vendor/Perm",
            "./Vendor/Ro"
        ]
    );
    assert_eq!(items[2].value.as_deref(), Some(&b"h"[..]));
    let ListOutput::Items(items) = t.list(&b, "./Vendor", &ListQuery::Struct).unwrap() else {
        panic!("items expected")
    };
    assert!(items.iter().all(|i| i.value.is_none()));
    let f: TndsFilter = "TNDS+Value".parse().unwrap();
    let ListOutput::Tnds(doc) = t.list(&b, "./Vendor/Cfg", &ListQuery::Tnds(f)).unwrap() else {
        panic!("tnds expected")
    };
    let flat = doc.flatten();
    assert_eq!(flat.len(), 2);
    assert_eq!(flat[0].uri, "./Vendor/Cfg");
    assert!(flat
        .iter()
        .all(|n| n.node.rt.as_ref().is_none_or(|rt| rt.format.is_none())));
    assert_eq!(flat[1].node.value(), Some("h"));
    let f: TndsFilter = "TNDS-Value-TStamp".parse().unwrap();
    let ListOutput::Tnds(doc) = t.list(&b, "./Vendor/Cfg", &ListQuery::Tnds(f)).unwrap() else {
        panic!("tnds expected")
    };
    let flat = doc.flatten();
    assert_eq!(flat[1].node.value(), None);
    let rt = flat[1].node.rt.as_ref().unwrap();
    assert!(rt.tstamp.is_none() && rt.format == Some(Format::Chr));
    // Inbox and unsupported queries.
    assert_eq!(
        t.list(&b, "./Inbox", &ListQuery::Struct)
            .unwrap_err()
            .status(),
        S::CommandNotAllowed
    );
    let (t2, _) = device_with(TreeConfig {
        list_queries: false,
        ..TreeConfig::default()
    });
    assert_eq!(
        t2.list(&b, "./Vendor", &ListQuery::Struct)
            .unwrap_err()
            .status(),
        S::OptionalFeatureNotSupported
    );
}

#[test]
fn exec_dispatch_sync_async_and_refusals() {
    // facts §4.5: Exec synchronous, or 202 and a later Generic Alert with the Correlator.
    let mut t = device();
    let l = Principal::Local;
    t.add(&l, "./Open/Op", NewNode::interior()).unwrap();
    t.add(&l, "./Open/Op/Run", NewNode::leaf("")).unwrap();
    t.add(&l, "./Open/Op/Later", NewNode::leaf("")).unwrap();
    t.add(&l, "./Open/Op/Fail", NewNode::leaf("")).unwrap();
    t.register_exec(
        "./Open/Op/Run",
        |tree: &mut Tree, call: &dm_tree::ExecCall| {
            let arg = String::from_utf8(call.data.clone().unwrap_or_default()).unwrap();
            dm_tree::standard::put_leaf(tree, "./Open/Op/Result", &arg, Format::Chr).unwrap();
            ExecOutcome::Done(S::Ok)
        },
    );
    t.register_exec(
        "./Open/*/Later",
        |tree: &mut Tree, call: &dm_tree::ExecCall| {
            tree.complete_exec(dm_tree::Completion {
                correlator: call.correlator.clone(),
                source: call.uri.clone(),
                alert_type: "urn:example:done".into(),
                format: "int".into(),
                mark: None,
                data: "1200".into(),
                server: call.by.server_id().map(str::to_owned),
            });
            ExecOutcome::Accepted
        },
    );
    t.register_exec(
        "./Open/Op/Fail",
        |tree: &mut Tree, _call: &dm_tree::ExecCall| {
            dm_tree::standard::put_leaf(tree, "./Open/Op/Partial", "x", Format::Chr).unwrap();
            ExecOutcome::Done(S::CommandFailed)
        },
    );
    let a = Principal::server("srvA");
    assert_eq!(
        t.exec(&a, "./Open/Op/Run", Some(b"go".to_vec()), None)
            .unwrap(),
        ExecOutcome::Done(S::Ok)
    );
    assert_eq!(t.value_str("./Open/Op/Result").unwrap(), "go");
    assert_eq!(
        t.exec(&a, "./Open/Op/Later", None, Some("c-1".into()))
            .unwrap(),
        ExecOutcome::Accepted
    );
    let done = t.take_completions();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].correlator.as_deref(), Some("c-1"));
    assert_eq!(done[0].server.as_deref(), Some("srvA"));
    // A failed handler's changes are undone.
    assert_eq!(
        t.exec(&a, "./Open/Op/Fail", None, None).unwrap(),
        ExecOutcome::Done(S::CommandFailed)
    );
    assert!(!t.exists(&uri("./Open/Op/Partial")));
    // No handler → 405; no Exec right → 425; missing → 404.
    assert_eq!(
        t.exec(&a, "./Open/Op", None, None).unwrap_err().status(),
        S::CommandNotAllowed
    );
    assert_eq!(
        t.exec(&a, "./Vendor/Cfg/Host", None, None)
            .unwrap_err()
            .status(),
        S::PermissionDenied
    );
    assert_eq!(
        t.exec(&a, "./Open/Nope", None, None).unwrap_err().status(),
        S::NotFound
    );
}

#[test]
fn observers_hear_committed_changes_only() {
    // Issue 4 item 7: local code is told what changed and by which server.
    let mut t = device();
    let sub = t.subscribe(uri("./Vendor/Cfg"));
    let a = Principal::server("srvA");
    t.replace(&a, "./Vendor/Cfg/Host", NewNode::leaf("n"))
        .unwrap();
    t.add(&a, "./Vendor/Other", NewNode::leaf("n")).unwrap(); // outside the subscription
    let ev = t.take_events(sub);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].uri.to_string(), "./Vendor/Cfg/Host");
    assert_eq!(ev[0].kind, ChangeKind::Replaced);
    assert_eq!(ev[0].by, a);
    // A failed all-or-nothing operation reports nothing.
    let _ = t.atomically(|tr| {
        tr.replace(&a, "./Vendor/Cfg/Host", NewNode::leaf("m"))?;
        tr.replace(&a, "./Vendor/Cfg/Port", NewNode::leaf("bad"))
    });
    assert!(t.take_events(sub).is_empty());
    assert_eq!(t.value_str("./Vendor/Cfg/Host").unwrap(), "n");
    // Deleting an ancestor is reported to a subscriber of a descendant.
    let host = t.subscribe(uri("./Vendor/Cfg/Host"));
    t.delete(&a, "./Vendor/Cfg").unwrap();
    let ev = t.take_events(host);
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].uri.to_string(), &ev[0].kind),
        ("./Vendor/Cfg".to_string(), &ChangeKind::Deleted)
    );
}

const CUSTOM_DDF: &str = r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
<Node><NodeName>Acme</NodeName>
  <DFProperties><AccessType><Get/><Add/></AccessType><DFFormat><node/></DFFormat><Occurrence><ZeroOrOne/></Occurrence><Scope><Dynamic/></Scope><DFType><DDFName>com.acme/1.0/Cfg</DDFName></DFType></DFProperties>
  <Node><NodeName>Mode</NodeName>
    <DFProperties><AccessType><Add/><Get/><Replace/></AccessType><DefaultValue>auto</DefaultValue><DFFormat><chr/></DFFormat><Occurrence><ZeroOrOne/></Occurrence><Scope><Dynamic/></Scope><CaseSense><CIS/></CaseSense><DFType><MIME>text/plain</MIME></DFType></DFProperties>
  </Node>
  <Node><NodeName>Level</NodeName>
    <DFProperties><AccessType><Add/><Get/></AccessType><DFFormat><int/></DFFormat><Occurrence><ZeroOrOne/></Occurrence><DFType><MIME>text/plain</MIME></DFType></DFProperties>
  </Node>
  <Node><NodeName></NodeName>
    <DFProperties><AccessType><Add/><Get/><Delete/></AccessType><DFFormat><node/></DFFormat><Occurrence><ZeroOrN>2</ZeroOrN></Occurrence><DFType><DDFName/></DFType></DFProperties>
  </Node>
</Node></MgmtTree>"#;

#[rstest]
// facts §9.1: the DDF decides what a server may add, and how.
#[case(Op::Add("x"), "./Acme/Mode", S::Ok)]
#[case(Op::Add("x"), "./Acme/Unknown", S::UnsupportedMediaType)] // facts §4.2: interior Add needs Format node
#[case(Op::Add("5"), "./Acme/Level", S::Ok)]
#[case(Op::Add("five"), "./Acme/Level", S::UnsupportedMediaType)] // DFFormat int
#[case(Op::AddInterior, "./Acme/Level", S::UnsupportedMediaType)] // Format node vs int
#[case(Op::AddInterior, "./Acme/Inst1", S::Ok)] // placeholder
fn ddf_add_rules(#[case] op: Op, #[case] at: &str, #[case] want: S) {
    let mut t = device();
    t.load_ddf(&tnds(CUSTOM_DDF)).unwrap();
    t.add(&Principal::server("srvA"), "./Acme", NewNode::interior())
        .unwrap();
    t.replace_prop(
        &Principal::Local,
        "./Acme",
        Property::Acl,
        "Add=srvA&Get=srvA&Replace=srvA&Delete=srvA",
    )
    .unwrap();
    assert_eq!(run(&mut t, "srvA", op.clone(), at), want, "{op:?} {at}");
}

#[test]
fn ddf_occurrence_default_value_case_and_access_type() {
    let mut t = device();
    t.load_ddf(&tnds(CUSTOM_DDF)).unwrap();
    let a = Principal::server("srvA");
    t.add(&a, "./Acme", NewNode::interior()).unwrap();
    t.replace_prop(
        &Principal::Local,
        "./Acme",
        Property::Acl,
        "Add=srvA&Get=srvA&Replace=srvA&Delete=srvA",
    )
    .unwrap();
    // Occurrence ZeroOrOne at the top → a second Acme cannot exist; ZeroOrN 2 for instances.
    assert_eq!(
        t.add(&a, "./Acme/I1", NewNode::interior()).map(|_| ()),
        Ok(())
    );
    assert_eq!(
        t.add(&a, "./Acme/I2", NewNode::interior()).map(|_| ()),
        Ok(())
    );
    assert_eq!(
        t.add(&a, "./Acme/I3", NewNode::interior())
            .unwrap_err()
            .status(),
        S::CommandNotAllowed
    );
    // DefaultValue when the Add carries no data; Format/Type from the DDF.
    t.add(&a, "./Acme/Mode", NewNode::default()).unwrap();
    assert_eq!(t.value_str("./Acme/Mode").unwrap(), "auto");
    // CaseSense CIS: another case finds the node.
    assert!(t.get(&a, "./Acme/MODE").is_ok());
    assert_eq!(
        t.add(&a, "./Acme/mode", NewNode::leaf("x"))
            .unwrap_err()
            .status(),
        S::AlreadyExists
    );
    // AccessType: Level has no Replace, Acme has no Delete, instance name fixed by the DDF? no:
    // placeholders may be renamed, named nodes not.
    t.add(&a, "./Acme/Level", NewNode::leaf("1")).unwrap();
    assert_eq!(
        t.replace(&a, "./Acme/Level", NewNode::leaf("2"))
            .unwrap_err()
            .status(),
        S::CommandNotAllowed
    );
    assert_eq!(
        t.delete(&a, "./Acme").unwrap_err().status(),
        S::CommandNotAllowed
    );
    assert_eq!(
        t.replace_prop(&a, "./Acme/Mode", Property::Name, "Mode2")
            .unwrap_err()
            .status(),
        S::CommandNotAllowed
    );
    t.replace_prop(&a, "./Acme/I1", Property::Name, "I9")
        .unwrap();
    assert_eq!(
        t.replace_prop(&a, "./Acme/I9", Property::Name, "Level")
            .unwrap_err()
            .status(),
        S::AlreadyExists
    );
}

#[test]
fn validators_veto_server_changes_in_their_subtree() {
    // Plug-in point (issue 4 item 6): code-implemented MOs check server writes.
    let mut t = device();
    t.register_validator(
        uri("./Open"),
        |_t: &Tree, c: &dm_tree::ProposedChange<'_>| {
            if c.value == Some(&b"bad"[..]) {
                Err(dm_tree::TreeError::Forbidden {
                    uri: c.uri.to_string(),
                    reason: "refused by the MO".into(),
                })
            } else {
                Ok(())
            }
        },
    );
    let a = Principal::server("srvA");
    assert_eq!(
        t.add(&a, "./Open/X", NewNode::leaf("bad"))
            .unwrap_err()
            .status(),
        S::Forbidden
    );
    t.add(&a, "./Open/X", NewNode::leaf("good")).unwrap();
    assert_eq!(
        t.replace(&a, "./Open/X", NewNode::leaf("bad"))
            .unwrap_err()
            .status(),
        S::Forbidden
    );
    // Local code is not subject to validators; other subtrees neither.
    t.replace(&Principal::Local, "./Open/X", NewNode::leaf("bad"))
        .unwrap();
    t.add(&a, "./Vendor/Cfg/Y", NewNode::leaf("bad")).unwrap();
}

#[test]
fn tnds_path_absolute_when_a_full_device_uri() {
    // facts §9.2: Path relative to the Target; our reading: `./…` is a full device URI, as
    // `?list=TNDS` answers write it, so an export re-imported at any Target lands in place.
    let mut t = device();
    let a = Principal::server("srvA");
    let doc = tnds(
        r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
        <Node><NodeName>Abs</NodeName><Path>./Vendor/Cfg</Path><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>1</Value></Node>
        <Node><NodeName>Rel</NodeName><Path>Cfg</Path><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>2</Value></Node>
        </MgmtTree>"#,
    );
    t.import_tnds(&a, "./Vendor", &doc, ImportMode::Add)
        .unwrap();
    assert_eq!(t.value_str("./Vendor/Cfg/Abs").unwrap(), "1");
    assert_eq!(t.value_str("./Vendor/Cfg/Rel").unwrap(), "2");
}

#[test]
fn ext_subtrees_are_open_for_vendor_additions() {
    // facts §5.2–§5.4: Ext is the place for vendor additions; its DDF declares no children.
    let mut t = device();
    let a = Principal::server("srvA");
    t.add(&a, "./DMAcc/srvA/Ext", NewNode::interior()).unwrap();
    t.add(&a, "./DMAcc/srvA/Ext/Vendor/Opt", NewNode::leaf("1"))
        .unwrap();
    assert_eq!(t.value_str("./DMAcc/srvA/Ext/Vendor/Opt").unwrap(), "1");
    // Elsewhere in the MO undeclared names stay refused.
    assert_eq!(
        t.add(&a, "./DMAcc/srvA/Other", NewNode::leaf("1"))
            .unwrap_err()
            .status(),
        S::CommandNotAllowed
    );
}
