//! Command-level rules through `Processor` (facts §2.6 containers, §8 large objects,
//! §4.5/§4.6 Results layout).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use dm_protocol::codec::{decode, DecodeOptions};
use dm_protocol::codes::StatusCode as S;
use dm_protocol::model::{Alert, Command, Data};
use dm_tree::standard::{install, put_account, Account, DeviceIdentity};
use dm_tree::{
    AlertAnswer, CommandHooks, CommandOutcome, ManualClock, NewNode, NoHooks, Principal, Processor,
    Tree, TreeConfig,
};

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
    let l = Principal::Local;
    t.add(&l, "./Open", NewNode::interior()).unwrap();
    t.replace_prop(
        &l,
        "./Open",
        dm_protocol::uri::Property::Acl,
        "Add=*&Delete=*&Exec=*&Get=*&Replace=*",
    )
    .unwrap();
    t.add(&l, "./Open/A", NewNode::leaf("a")).unwrap();
    t
}

fn commands(body: &str) -> Vec<Command> {
    let msg = format!(
        r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>2</MsgID><Target><LocURI>IMEI:1</LocURI></Target><Source><LocURI>srvA</LocURI></Source></SyncHdr><SyncBody>{body}<Final/></SyncBody></SyncML>"#
    );
    decode(msg.as_bytes(), DecodeOptions::LENIENT)
        .unwrap()
        .message
        .body
        .commands
}

fn run(
    t: &mut Tree,
    p: &mut Processor,
    body: &str,
    hooks: &mut dyn CommandHooks,
) -> Vec<CommandOutcome> {
    let who = Principal::server("srvA");
    commands(body)
        .iter()
        .map(|c| p.process(t, &who, c, hooks))
        .collect()
}

fn codes(o: &CommandOutcome) -> Vec<u16> {
    o.children.iter().map(|c| c.code.as_u16()).collect()
}

#[test]
fn atomic_success_commits_all() {
    let mut t = device();
    let out = run(
        &mut t,
        &mut Processor::new(),
        r#"<Atomic><CmdID>1</CmdID>
      <Add><CmdID>2</CmdID><Item><Target><LocURI>./Open/B</LocURI></Target><Data>b</Data></Item></Add>
      <Replace><CmdID>3</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target><Data>a2</Data></Item></Replace>
    </Atomic>"#,
        &mut NoHooks,
    );
    assert_eq!(out[0].code, S::Ok);
    assert_eq!(codes(&out[0]), [200, 200]);
    assert_eq!(t.value_str("./Open/B").unwrap(), "b");
}

#[test]
fn atomic_failure_rolls_back_with_216_and_507() {
    // facts §2.6: failed child keeps its error, others 216, Atomic 507.
    let mut t = device();
    let out = run(
        &mut t,
        &mut Processor::new(),
        r#"<Atomic><CmdID>1</CmdID>
      <Add><CmdID>2</CmdID><Item><Target><LocURI>./Open/B</LocURI></Target><Data>b</Data></Item></Add>
      <Delete><CmdID>3</CmdID><Item><Target><LocURI>./Open/Missing</LocURI></Target></Item></Delete>
      <Replace><CmdID>4</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target><Data>x</Data></Item></Replace>
    </Atomic>"#,
        &mut NoHooks,
    );
    assert_eq!(out[0].code, S::AtomicFailed);
    assert_eq!(codes(&out[0]), [216, 404, 216]);
    assert!(!t.exists(&"./Open/B".parse().unwrap()));
    assert_eq!(t.value_str("./Open/A").unwrap(), "a");
}

#[test]
fn nested_atomic_get_and_exec_inside_atomic_are_500() {
    // facts §2.6: nested Atomic or Get inside Atomic → 500; Exec not in Atomic.
    for inner in [
        "<Atomic><CmdID>3</CmdID></Atomic>",
        "<Get><CmdID>3</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target></Item></Get>",
        "<Exec><CmdID>3</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target></Item></Exec>",
    ] {
        let mut t = device();
        let body = format!(
            r#"<Atomic><CmdID>1</CmdID><Add><CmdID>2</CmdID><Item><Target><LocURI>./Open/B</LocURI></Target><Data>b</Data></Item></Add>{inner}</Atomic>"#
        );
        let out = run(&mut t, &mut Processor::new(), &body, &mut NoHooks);
        assert_eq!(out[0].code, S::AtomicFailed, "{inner}");
        assert_eq!(codes(&out[0]), [216, 500], "{inner}");
        assert!(!t.exists(&"./Open/B".parse().unwrap()));
    }
}

#[test]
fn faulty_atomic_keeps_changes_and_is_detectable() {
    // Fault injection: no rollback. The statuses still claim 216, the tree shows the lie.
    let mut t = device();
    t.set_faults(dm_tree::Faults {
        no_atomic_rollback: true,
        ..Default::default()
    });
    let out = run(
        &mut t,
        &mut Processor::new(),
        r#"<Atomic><CmdID>1</CmdID>
      <Add><CmdID>2</CmdID><Item><Target><LocURI>./Open/B</LocURI></Target><Data>b</Data></Item></Add>
      <Delete><CmdID>3</CmdID><Item><Target><LocURI>./Open/Missing</LocURI></Target></Item></Delete>
    </Atomic>"#,
        &mut NoHooks,
    );
    assert_eq!(out[0].code, S::AtomicFailed);
    assert!(t.exists(&"./Open/B".parse().unwrap()));
}

struct SayNo;
impl CommandHooks for SayNo {
    fn alert(&mut self, _t: &mut Tree, _a: &Alert) -> AlertAnswer {
        AlertAnswer {
            code: S::NotModified,
            results: vec![],
        }
    }
}

#[test]
fn sequence_runs_in_order_and_skips_after_no() {
    // facts §2.6: Sequence 200; children after a user's "No" get 215.
    let mut t = device();
    let out = run(
        &mut t,
        &mut Processor::new(),
        r#"<Sequence><CmdID>1</CmdID>
      <Add><CmdID>2</CmdID><Item><Target><LocURI>./Open/B</LocURI></Target><Data>b</Data></Item></Add>
      <Replace><CmdID>3</CmdID><Item><Target><LocURI>./Open/B</LocURI></Target><Data>b2</Data></Item></Replace>
      <Alert><CmdID>4</CmdID><Data>1101</Data><Item><Data>Continue?</Data></Item></Alert>
      <Delete><CmdID>5</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target></Item></Delete>
    </Sequence>"#,
        &mut SayNo,
    );
    assert_eq!(out[0].code, S::Ok);
    assert_eq!(codes(&out[0]), [200, 200, 304, 215]);
    assert_eq!(t.value_str("./Open/B").unwrap(), "b2");
    assert!(t.exists(&"./Open/A".parse().unwrap()));
}

#[test]
fn chunked_replace_commits_only_when_complete() {
    // facts §8: 213 per non-final chunk, Size on the first, commit at the end.
    let mut t = device();
    let mut p = Processor::new();
    let out = run(
        &mut t,
        &mut p,
        r#"
      <Replace><CmdID>1</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target><Meta><Size xmlns="syncml:metinf">6</Size></Meta><Data>abc</Data><MoreData/></Item></Replace>"#,
        &mut NoHooks,
    );
    assert_eq!(out[0].code, S::ChunkedItemAccepted);
    assert_eq!(t.value_str("./Open/A").unwrap(), "a");
    assert_eq!(p.pending_chunk(), Some("./Open/A"));
    let out = run(
        &mut t,
        &mut p,
        r#"
      <Replace><CmdID>2</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target><Data>def</Data></Item></Replace>"#,
        &mut NoHooks,
    );
    assert_eq!(out[0].code, S::Ok);
    assert_eq!(t.value_str("./Open/A").unwrap(), "abcdef");
}

#[test]
fn chunked_size_mismatch_is_424_and_nothing_commits() {
    let mut t = device();
    let mut p = Processor::new();
    let out = run(
        &mut t,
        &mut p,
        r#"
      <Add><CmdID>1</CmdID><Item><Target><LocURI>./Open/L</LocURI></Target><Meta><Size xmlns="syncml:metinf">10</Size></Meta><Data>abc</Data><MoreData/></Item></Add>
      <Add><CmdID>2</CmdID><Item><Target><LocURI>./Open/L</LocURI></Target><Data>def</Data></Item></Add>"#,
        &mut NoHooks,
    );
    assert_eq!(out[0].code, S::ChunkedItemAccepted);
    assert_eq!(out[1].code, S::SizeMismatch);
    assert!(!t.exists(&"./Open/L".parse().unwrap()));
    // Fault injection: the mismatch is ignored.
    t.set_faults(dm_tree::Faults {
        ignore_size_mismatch: true,
        ..Default::default()
    });
    let out = run(
        &mut t,
        &mut p,
        r#"
      <Add><CmdID>3</CmdID><Item><Target><LocURI>./Open/L</LocURI></Target><Meta><Size xmlns="syncml:metinf">10</Size></Meta><Data>abc</Data><MoreData/></Item></Add>
      <Add><CmdID>4</CmdID><Item><Target><LocURI>./Open/L</LocURI></Target><Data>def</Data></Item></Add>"#,
        &mut NoHooks,
    );
    assert_eq!(out[1].code, S::Ok);
}

#[test]
fn new_command_before_last_chunk_breaks_the_object() {
    // facts §8: a new command before the last chunk → Alert 1225, no commit.
    let mut t = device();
    let mut p = Processor::new();
    let out = run(
        &mut t,
        &mut p,
        r#"
      <Add><CmdID>1</CmdID><Item><Target><LocURI>./Open/L</LocURI></Target><Meta><Size xmlns="syncml:metinf">6</Size></Meta><Data>abc</Data><MoreData/></Item></Add>
      <Get><CmdID>2</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target></Item></Get>"#,
        &mut NoHooks,
    );
    assert_eq!(out[1].broken_chunk, Some((Some("./Open/L".into()), None)));
    assert_eq!(out[1].code, S::Ok);
    assert!(!t.exists(&"./Open/L".parse().unwrap()));
    assert_eq!(p.pending_chunk(), None);
}

#[test]
fn first_chunk_over_max_obj_size_is_413() {
    let mut t = device();
    let mut p = Processor::new();
    p.max_obj_size = Some(5);
    let out = run(
        &mut t,
        &mut p,
        r#"
      <Add><CmdID>1</CmdID><Item><Target><LocURI>./Open/L</LocURI></Target><Meta><Size xmlns="syncml:metinf">6</Size></Meta><Data>abc</Data><MoreData/></Item></Add>"#,
        &mut NoHooks,
    );
    assert_eq!(out[0].code, S::RequestEntityTooLarge);
}

#[test]
fn get_results_carry_source_and_meta() {
    // facts §4.5: Results Items carry Source/LocURI and Meta Format/Type unless defaults;
    // facts §4.2: interior → Format node, children joined by `/`.
    let mut t = device();
    let out = run(
        &mut t,
        &mut Processor::new(),
        r#"
      <Get><CmdID>1</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target></Item><Item><Target><LocURI>./DevDetail/LrgObj</LocURI></Target></Item></Get>
      <Get><CmdID>2</CmdID><Item><Target><LocURI>./Open</LocURI></Target></Item></Get>
      <Get><CmdID>3</CmdID><Item><Target><LocURI>./Open/A?prop=Format</LocURI></Target></Item></Get>
      <Get><CmdID>4</CmdID><Item><Target><LocURI>./Open?list=TNDS+Value</LocURI></Target></Item></Get>"#,
        &mut NoHooks,
    );
    let r = &out[0].results;
    assert_eq!(r[0].source.as_ref().unwrap().loc_uri, "./Open/A");
    assert!(r[0].meta.is_none());
    assert_eq!(r[0].data, Some(Data::Text("a".into())));
    assert_eq!(r[1].meta.as_ref().unwrap().format.as_deref(), Some("bool"));
    let r = &out[1].results[0];
    assert_eq!(r.meta.as_ref().unwrap().format.as_deref(), Some("node"));
    assert_eq!(r.data, Some(Data::Text("A".into())));
    assert_eq!(out[2].results[0].data, Some(Data::Text("chr".into())));
    let m = out[3].results[0].meta.as_ref().unwrap();
    assert_eq!(
        m.type_.as_deref(),
        Some("application/vnd.syncml.dmtnds+xml")
    );
    assert!(matches!(out[3].results[0].data, Some(Data::Markup(_))));
}

#[test]
fn an_unknown_list_attribute_is_an_unsupported_feature() {
    // facts §4.6: an unsupported `?list=` value is 406, not a command failure (500).
    let mut t = device();
    let out = run(
        &mut t,
        &mut Processor::new(),
        r#"<Get><CmdID>1</CmdID><Item><Target><LocURI>./Open?list=Everything</LocURI></Target></Item></Get>"#,
        &mut NoHooks,
    );
    assert_eq!(out[0].code, S::OptionalFeatureNotSupported);
    assert!(out[0].results.is_empty());
}

#[test]
fn bin_values_travel_as_b64_in_xml() {
    // facts §4.3: bin over XML uses Meta Format b64; the tree keeps raw bytes (Size raw).
    let mut t = device();
    t.add(
        &Principal::Local,
        "./Open/Bin",
        NewNode::leaf(vec![0u8, 1, 2, 255]).format(dm_protocol::tnds::Format::Bin),
    )
    .unwrap();
    let out = run(
        &mut t,
        &mut Processor::new(),
        r#"
      <Get><CmdID>1</CmdID><Item><Target><LocURI>./Open/Bin</LocURI></Target></Item></Get>
      <Replace><CmdID>2</CmdID><Item><Target><LocURI>./Open/Bin</LocURI></Target><Meta><Format xmlns="syncml:metinf">b64</Format></Meta><Data>AAEC</Data></Item></Replace>
      <Get><CmdID>3</CmdID><Item><Target><LocURI>./Open/Bin?prop=Size</LocURI></Target></Item></Get>"#,
        &mut NoHooks,
    );
    assert_eq!(out[0].results[0].data, Some(Data::Text("AAEC/w==".into())));
    assert_eq!(
        out[0].results[0].meta.as_ref().unwrap().format.as_deref(),
        Some("b64")
    );
    assert_eq!(out[1].code, S::Ok);
    assert_eq!(out[2].results[0].data, Some(Data::Text("3".into())));
}

#[test]
fn property_commands_via_uri() {
    // facts §4.3: properties cannot be Added or Deleted (405); Replace ?prop=Title works.
    let mut t = device();
    let out = run(
        &mut t,
        &mut Processor::new(),
        r#"
      <Add><CmdID>1</CmdID><Item><Target><LocURI>./Open/A?prop=Title</LocURI></Target><Data>t</Data></Item></Add>
      <Delete><CmdID>2</CmdID><Item><Target><LocURI>./Open/A?prop=Title</LocURI></Target></Item></Delete>
      <Replace><CmdID>3</CmdID><Item><Target><LocURI>./Open/A?prop=Title</LocURI></Target><Data>Hello</Data></Item></Replace>
      <Get><CmdID>4</CmdID><Item><Target><LocURI>./Open/A?prop=Title</LocURI></Target></Item></Get>"#,
        &mut NoHooks,
    );
    let c: Vec<u16> = out.iter().map(|o| o.code.as_u16()).collect();
    assert_eq!(c, [405, 405, 200, 200]);
    assert_eq!(out[3].results[0].data, Some(Data::Text("Hello".into())));
}

#[test]
fn tnds_add_through_the_processor() {
    // facts §9.2: TNDS in Data with Meta Type dmtnds+xml, Format xml; one status.
    let mut t = device();
    let out = run(
        &mut t,
        &mut Processor::new(),
        r#"
      <Add><CmdID>1</CmdID><Item><Target><LocURI>./Open</LocURI></Target>
        <Meta><Format xmlns="syncml:metinf">xml</Format><Type xmlns="syncml:metinf">application/vnd.syncml.dmtnds+xml</Type></Meta>
        <Data><MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Node><NodeName>N</NodeName><Path>.</Path><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>v</Value></Node></MgmtTree></Data>
      </Item></Add>"#,
        &mut NoHooks,
    );
    assert_eq!(out[0].code, S::Ok, "{:?}", out[0].items);
    assert_eq!(t.value_str("./Open/N").unwrap(), "v");
}

#[test]
fn refused_large_object_never_commits_its_later_chunks() {
    // facts §8: no partial commit. An object refused at its first chunk (413 over MaxObjSize,
    // 424 without Meta/Size) answers every later chunk the same and writes nothing.
    for (max, first_meta, want) in [
        (
            Some(5),
            r#"<Meta><Size xmlns="syncml:metinf">6</Size></Meta>"#,
            S::RequestEntityTooLarge,
        ),
        (None, "", S::SizeMismatch),
    ] {
        let mut t = device();
        let mut p = Processor::new();
        p.max_obj_size = max;
        let body = format!(
            r#"<Replace><CmdID>1</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target>{first_meta}<Data>abc</Data><MoreData/></Item></Replace>
            <Replace><CmdID>2</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target><Data>de</Data><MoreData/></Item></Replace>
            <Replace><CmdID>3</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target><Data>f</Data></Item></Replace>"#
        );
        let out = run(&mut t, &mut p, &body, &mut NoHooks);
        let c: Vec<S> = out.iter().map(|o| o.code).collect();
        assert_eq!(c, [want, want, want]);
        assert_eq!(t.value_str("./Open/A").unwrap(), "a");
        assert_eq!(p.pending_chunk(), None);
    }
}

#[test]
fn nested_atomic_children_are_not_executed() {
    // facts §2.6: the nested Atomic is 500; its own commands never run (215, our choice).
    let mut t = device();
    let out = run(
        &mut t,
        &mut Processor::new(),
        r#"<Atomic><CmdID>1</CmdID>
      <Atomic><CmdID>2</CmdID><Add><CmdID>3</CmdID><Item><Target><LocURI>./Open/N</LocURI></Target><Data>n</Data></Item></Add></Atomic>
    </Atomic>"#,
        &mut NoHooks,
    );
    assert_eq!(out[0].code, S::AtomicFailed);
    assert_eq!(out[0].children[0].code, S::CommandFailed);
    assert_eq!(codes(&out[0].children[0]), [215]);
    assert!(!t.exists(&"./Open/N".parse().unwrap()));
}

#[test]
fn rollback_failure_is_reported_516() {
    // facts §2.6: children whose rollback failed answer 516 (fault injection makes it happen).
    let mut t = device();
    t.set_faults(dm_tree::Faults {
        fail_rollback: true,
        ..Default::default()
    });
    let out = run(
        &mut t,
        &mut Processor::new(),
        r#"<Atomic><CmdID>1</CmdID>
      <Add><CmdID>2</CmdID><Item><Target><LocURI>./Open/B</LocURI></Target><Data>b</Data></Item></Add>
      <Delete><CmdID>3</CmdID><Item><Target><LocURI>./Open/Missing</LocURI></Target></Item></Delete>
    </Atomic>"#,
        &mut NoHooks,
    );
    assert_eq!(out[0].code, S::AtomicFailed);
    assert_eq!(codes(&out[0]), [516, 404]);
    assert!(t.exists(&"./Open/B".parse().unwrap()));
}

struct Answer(S);
impl CommandHooks for Answer {
    fn alert(&mut self, _t: &mut Tree, _a: &Alert) -> AlertAnswer {
        AlertAnswer {
            code: self.0,
            results: vec![],
        }
    }
}

#[test]
fn declined_ui_alert_skips_a_sequence_and_fails_an_atomic() {
    // facts §3.4: "No" inside Atomic → Atomic fails and rolls back; inside Sequence the rest
    // is bypassed (215); MAXDT expiry (408) counts as cancelled.
    for code in [S::NotModified, S::OperationCancelled, S::RequestTimeout] {
        let mut t = device();
        let out = run(
            &mut t,
            &mut Processor::new(),
            r#"<Atomic><CmdID>1</CmdID>
          <Add><CmdID>2</CmdID><Item><Target><LocURI>./Open/B</LocURI></Target><Data>b</Data></Item></Add>
          <Alert><CmdID>3</CmdID><Data>1101</Data><Item><Data></Data></Item><Item><Data>OK?</Data></Item></Alert>
        </Atomic>
        <Sequence><CmdID>4</CmdID>
          <Alert><CmdID>5</CmdID><Data>1101</Data><Item><Data></Data></Item><Item><Data>OK?</Data></Item></Alert>
          <Add><CmdID>6</CmdID><Item><Target><LocURI>./Open/C</LocURI></Target><Data>c</Data></Item></Add>
        </Sequence>"#,
            &mut Answer(code),
        );
        assert_eq!(out[0].code, S::AtomicFailed, "{code:?}");
        assert_eq!(codes(&out[0]), [216, code.as_u16()]);
        assert!(!t.exists(&"./Open/B".parse().unwrap()));
        assert_eq!(codes(&out[1]), [code.as_u16(), 215]);
        assert!(!t.exists(&"./Open/C".parse().unwrap()));
    }
}

/// The remaining fault switches each change a status or a property (facts §4.2, §4.3, §4.5),
/// so a faulty client built from them is observably faulty.
#[test]
fn fault_switches_change_what_the_server_sees() {
    let body_add = r#"<Add><CmdID>1</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target><Data>new</Data></Item></Add>"#;
    let body_del = r#"<Delete><CmdID>1</CmdID><Item><Target><LocURI>./Open/P</LocURI></Target></Item></Delete>"#;
    let body_rep = r#"<Replace><CmdID>1</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target><Data>x</Data></Item></Replace>"#;
    for on in [false, true] {
        let mut t = device();
        let p = "./Open/P".parse().unwrap();
        t.add(&Principal::Local, "./Open/P", NewNode::leaf("p"))
            .unwrap();
        t.set_permanent(&p, true).unwrap();
        t.set_faults(dm_tree::Faults {
            add_overwrites: on,
            delete_permanent: on,
            frozen_versions: on,
            ..Default::default()
        });
        // facts §4.5: Add on an existing node → 418 (the fault: 200, overwritten).
        let out = run(&mut t, &mut Processor::new(), body_add, &mut NoHooks);
        let want = if on { S::Ok } else { S::AlreadyExists };
        assert_eq!(out[0].code, want, "add_overwrites={on}");
        assert_eq!(
            t.value_str("./Open/A").unwrap(),
            if on { "new" } else { "a" }
        );
        // facts §4.2: a permanent node cannot be deleted by a server (the fault: it can).
        let out = run(&mut t, &mut Processor::new(), body_del, &mut NoHooks);
        assert_eq!(
            out[0].code == S::Ok,
            on,
            "delete_permanent={on}: {:?}",
            out[0].code
        );
        assert_eq!(t.exists(&p), !on);
        // facts §4.3: VerNo changes with every change of the node (the fault: frozen).
        let a = "./Open/A".parse().unwrap();
        let before = t.info(&a).unwrap().ver_no;
        let out = run(&mut t, &mut Processor::new(), body_rep, &mut NoHooks);
        assert_eq!(out[0].code, S::Ok);
        assert_eq!(
            t.info(&a).unwrap().ver_no == before,
            on,
            "frozen_versions={on}"
        );
    }
}

/// `CommandHooks::may_read` (docs/tree.md "Plug-in points"): a hook may withhold a Get item
/// with its own status and no Results; it sees the canonical node and whether a `?list=`
/// query asks for the subtree; the other items of the Get are read as usual.
#[test]
fn may_read_hook_withholds_get_items() {
    struct Withhold(Vec<(String, bool)>);
    impl CommandHooks for Withhold {
        fn alert(&mut self, tree: &mut Tree, alert: &Alert) -> AlertAnswer {
            NoHooks.alert(tree, alert)
        }
        fn may_read(&mut self, _t: &Tree, node: &str, listing: bool) -> Option<S> {
            self.0.push((node.to_owned(), listing));
            (node == "./Open/A").then_some(S::PermissionDenied)
        }
    }
    let mut t = device();
    let mut hooks = Withhold(Vec::new());
    let out = run(
        &mut t,
        &mut Processor::new(),
        r#"
      <Get><CmdID>1</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target></Item><Item><Target><LocURI>./DevDetail/LrgObj</LocURI></Target></Item></Get>
      <Get><CmdID>2</CmdID><Item><Target><LocURI>./Open?list=Struct</LocURI></Target></Item></Get>
      <Copy><CmdID>3</CmdID><Item><Target><LocURI>./Open/Leak</LocURI></Target><Source><LocURI>./Open/A</LocURI></Source></Item></Copy>"#,
        &mut hooks,
    );
    // A Copy reads its source: withheld, and nothing is copied.
    assert_eq!(out[2].items[0].code, S::PermissionDenied);
    assert!(t.value_str("./Open/Leak").is_none());
    let items =
        |o: &CommandOutcome| -> Vec<u16> { o.items.iter().map(|i| i.code.as_u16()).collect() };
    assert_eq!(items(&out[0]), [425, 200]);
    assert_eq!(out[0].results.len(), 1, "only the item read");
    assert_eq!(
        out[0].results[0].source.as_ref().unwrap().loc_uri,
        "./DevDetail/LrgObj"
    );
    assert_eq!(items(&out[1]), [200]);
    assert_eq!(
        hooks.0,
        [
            ("./Open/A".to_owned(), false),
            ("./DevDetail/LrgObj".to_owned(), false),
            ("./Open".to_owned(), true),
            ("./Open/A".to_owned(), false)
        ]
    );
}
