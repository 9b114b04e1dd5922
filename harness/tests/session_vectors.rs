//! Session golden vectors: the exchange is normalized with the documented mask (volatile
//! values replaced, protocol values kept), both encodings give the same text, broken messages
//! are shown rather than panicking, and `compare` diffs, blesses and reports a missing vector.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use dm_protocol::codec::{self, Encoding};
use dm_protocol::codes::{AlertCode, StatusCode};
use dm_protocol::model::{
    Alert, Chal, Command, Cred, Data, Item, ItemCommand, Locator, Meta, Status, SyncBody, SyncHdr,
    SyncMl,
};
use dmconf::vectors::sessions::{self, MaskContext, Party, SessionVectorError};

/// What changes from one run to the next.
struct Run {
    session_id: &'static str,
    dev_id: &'static str,
    server_url: &'static str,
    cred: &'static str,
    nonce: &'static str,
    max_msg_size: u64,
    model: &'static str,
}

const RUN_A: Run = Run {
    session_id: "4A2F",
    dev_id: "IMEI:001234567890123",
    server_url: "https://dms.example/dm",
    cred: "Zz6EivR3yeaaENcRN6lpAQ==",
    nonce: "Tm9uY2U=",
    max_msg_size: 16384,
    model: "Phone-X1",
};

const RUN_B: Run = Run {
    session_id: "77",
    dev_id: "IMEI:359881030314356",
    server_url: "http://127.0.0.1:40123/dm",
    cred: "q1w2e3r4t5y6u7i8o9p0aa==",
    nonce: "MTIzNDU2Nzg5MGFiY2RlZg==",
    max_msg_size: 8192,
    model: "Tablet-Z",
};

fn ctx(run: &Run) -> MaskContext {
    MaskContext {
        dev_id: run.dev_id.into(),
        server_url: run.server_url.into(),
    }
}

fn meta_type(t: &str) -> Meta {
    Meta {
        type_: Some(t.into()),
        format: Some("b64".into()),
        ..Meta::default()
    }
}

fn hdr(run: &Run, msg_id: &str, from: Party) -> SyncHdr {
    let (target, source) = match from {
        Party::Client => (run.server_url, run.dev_id),
        Party::Server => (run.dev_id, run.server_url),
    };
    SyncHdr {
        ver_dtd: "1.2".into(),
        ver_proto: "DM/1.2".into(),
        session_id: run.session_id.into(),
        msg_id: msg_id.into(),
        target: Locator::uri(target),
        source: Locator::uri(source),
        ..SyncHdr::default()
    }
}

fn devinfo_item(node: &str, value: &str) -> Item {
    Item {
        source: Some(Locator::uri(format!("./DevInfo/{node}"))),
        data: Some(Data::Text(value.into())),
        ..Item::default()
    }
}

fn alert(cmd_id: &str, code: AlertCode) -> Command {
    Command::Alert(Alert {
        cmd_id: cmd_id.into(),
        code: Some(code),
        ..Alert::default()
    })
}

fn devinfo_replace(cmd_id: &str, run: &Run) -> Command {
    Command::Replace(ItemCommand {
        cmd_id: cmd_id.into(),
        items: vec![
            devinfo_item("DevId", run.dev_id),
            devinfo_item("Man", "Acme"),
            devinfo_item("Mod", run.model),
            devinfo_item("DmV", "1.0"),
            devinfo_item("Lang", "en-US"),
        ],
        ..ItemCommand::default()
    })
}

/// Client package 1: md5 Cred, MaxMsgSize/MaxObjSize, Alert 1201 and the DevInfo Replace.
fn client_package_1(run: &Run) -> SyncMl {
    let mut h = hdr(run, "1", Party::Client);
    h.source.loc_name = Some("dev-user".into());
    h.cred = Some(Cred {
        meta: Some(meta_type("syncml:auth-md5")),
        data: run.cred.into(),
    });
    h.meta = Some(Meta {
        max_msg_size: Some(run.max_msg_size),
        max_obj_size: Some(run.max_msg_size * 4),
        ..Meta::default()
    });
    SyncMl {
        hdr: h,
        body: SyncBody {
            commands: vec![
                alert("1", AlertCode::ClientInitiatedMgmt),
                devinfo_replace("2", run),
            ],
            final_: true,
        },
    }
}

fn status(cmd_id: &str, cmd_ref: &str, cmd: &str, code: StatusCode) -> Status {
    Status {
        cmd_id: cmd_id.into(),
        msg_ref: "1".into(),
        cmd_ref: cmd_ref.into(),
        cmd: cmd.into(),
        target_refs: Vec::new(),
        source_refs: Vec::new(),
        cred: None,
        chal: None,
        items: Vec::new(),
        code,
    }
}

/// Server package 2: the SyncHdr refused with 401 and an md5 challenge, the Alert and the
/// Replace acknowledged, a RespURI.
fn server_challenge(run: &Run) -> SyncMl {
    let mut h = hdr(run, "1", Party::Server);
    h.resp_uri = Some(format!("{}?s={}", run.server_url, run.session_id));
    let mut on_hdr = status("1", "0", "SyncHdr", StatusCode::InvalidCredentials);
    on_hdr.target_refs = vec![run.server_url.into()];
    on_hdr.source_refs = vec![run.dev_id.into()];
    on_hdr.chal = Some(Chal {
        meta: Meta {
            next_nonce: Some(run.nonce.into()),
            ..meta_type("syncml:auth-md5")
        },
    });
    SyncMl {
        hdr: h,
        body: SyncBody {
            commands: vec![
                Command::Status(on_hdr),
                Command::Status(status("2", "1", "Alert", StatusCode::Ok)),
                Command::Status(status("3", "2", "Replace", StatusCode::Ok)),
            ],
            final_: true,
        },
    }
}

fn exchange(run: &Run, encoding: Encoding) -> Vec<(Party, Vec<u8>)> {
    vec![
        (
            Party::Client,
            codec::encode(&client_package_1(run), encoding).unwrap(),
        ),
        (
            Party::Server,
            codec::encode(&server_challenge(run), encoding).unwrap(),
        ),
    ]
}

fn normalize(messages: &[(Party, Vec<u8>)], ctx: &MaskContext) -> String {
    let borrowed: Vec<(Party, &[u8])> = messages.iter().map(|(p, b)| (*p, b.as_slice())).collect();
    sessions::normalize(&borrowed, ctx)
}

/// The body lines of message `n` (1-based) of a normalized text.
fn message_body(text: &str, n: usize) -> String {
    text.split("--- message ")
        .nth(n)
        .and_then(|m| m.split_once('\n'))
        .map(|(_, body)| body.to_owned())
        .unwrap()
}

/// The removed and added lines of a unified diff, indentation dropped.
fn changed_lines(diff: &str) -> Vec<String> {
    diff.lines()
        .filter(|l| !l.starts_with("---") && !l.starts_with("+++"))
        .filter_map(|l| {
            let sign = l.chars().next().filter(|c| matches!(c, '-' | '+'))?;
            Some(format!("{sign}{}", l[1..].trim()))
        })
        .collect()
}

#[test]
fn volatile_fields_are_masked_and_protocol_values_kept() {
    let text = normalize(&exchange(&RUN_A, Encoding::Xml), &ctx(&RUN_A));

    // Header lines, in order.
    let headers: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("--- message"))
        .collect();
    assert_eq!(
        headers,
        [
            "--- message 1: client -> server",
            "--- message 2: server -> client"
        ]
    );

    // No volatile value survives.
    for volatile in [
        RUN_A.session_id,
        RUN_A.dev_id,
        RUN_A.server_url,
        RUN_A.cred,
        RUN_A.nonce,
        "16384",
        "65536",
        "Acme",
        RUN_A.model,
        "en-US",
    ] {
        assert!(!text.contains(volatile), "{volatile:?} not masked:\n{text}");
    }

    let client = message_body(&text, 1);
    assert!(client.starts_with("<?xml"), "{client}");
    assert!(client.contains("<SessionID>#SESSION-ID</SessionID>"));
    assert!(client.contains("<Target>\n      <LocURI>#SERVER-URL</LocURI>"));
    assert!(client.contains("<LocURI>#DEV-ID</LocURI>"));
    assert!(client.contains("<LocName>dev-user</LocName>"));
    assert!(client.contains("<Data>#CRED</Data>"));
    assert!(client.contains(r#"<Type xmlns="syncml:metinf">syncml:auth-md5</Type>"#));
    assert!(client.contains(r#"<MaxMsgSize xmlns="syncml:metinf">#SIZE</MaxMsgSize>"#));
    assert!(client.contains(r#"<MaxObjSize xmlns="syncml:metinf">#SIZE</MaxObjSize>"#));
    assert!(
        client.find("<MaxMsgSize").unwrap() < client.find("<MaxObjSize").unwrap(),
        "canonical MetInf order kept"
    );
    assert_eq!(client.matches("<Data>#DEVINFO</Data>").count(), 5);
    assert!(client.contains("<LocURI>./DevInfo/Mod</LocURI>"));
    assert!(client.contains("<Data>1201</Data>"));
    assert!(client.contains("<MsgID>1</MsgID>"));
    assert!(client.contains("<Final/>"));

    let server = message_body(&text, 2);
    assert!(server.contains("<SessionID>#SESSION-ID</SessionID>"));
    assert!(server.contains("<RespURI>#RESP-URI</RespURI>"));
    assert!(server.contains(r#"<NextNonce xmlns="syncml:metinf">#NONCE</NextNonce>"#));
    assert!(server.contains("<TargetRef>#SERVER-URL</TargetRef>"));
    assert!(server.contains("<SourceRef>#DEV-ID</SourceRef>"));
    for kept in [
        "<Data>401</Data>",
        "<Data>200</Data>",
        "<MsgRef>1</MsgRef>",
        "<CmdRef>0</CmdRef>",
        "<CmdRef>1</CmdRef>",
        "<CmdRef>2</CmdRef>",
        "<Cmd>SyncHdr</Cmd>",
        "<Cmd>Replace</Cmd>",
        "<CmdID>3</CmdID>",
    ] {
        assert!(server.contains(kept), "{kept} missing:\n{server}");
    }
    // Statuses stay in the order they were sent.
    assert!(server.find("<Data>401</Data>").unwrap() < server.find("<Cmd>Alert</Cmd>").unwrap());
}

#[test]
fn two_runs_with_different_volatile_values_normalize_identically() {
    let a = normalize(&exchange(&RUN_A, Encoding::Xml), &ctx(&RUN_A));
    let b = normalize(&exchange(&RUN_B, Encoding::Xml), &ctx(&RUN_B));
    assert_eq!(a, b);
    // Determinism: the same input gives the same text.
    assert_eq!(a, normalize(&exchange(&RUN_A, Encoding::Xml), &ctx(&RUN_A)));
}

#[test]
fn a_protocol_difference_survives_the_mask() {
    let a = normalize(&exchange(&RUN_A, Encoding::Xml), &ctx(&RUN_A));
    let mut reply = server_challenge(&RUN_B);
    if let Command::Status(s) = &mut reply.body.commands[0] {
        s.code = StatusCode::MissingCredentials;
    }
    let b = normalize(
        &[
            (
                Party::Client,
                codec::encode(&client_package_1(&RUN_B), Encoding::Xml).unwrap(),
            ),
            (Party::Server, codec::encode(&reply, Encoding::Xml).unwrap()),
        ],
        &ctx(&RUN_B),
    );
    assert_ne!(a, b);
    let diff = dmconf::vectors::unified_diff(&a, &b);
    assert_eq!(
        changed_lines(&diff),
        ["-<Data>401</Data>", "+<Data>407</Data>"]
    );
}

#[test]
fn wbxml_and_xml_encodings_normalize_identically() {
    let xml = exchange(&RUN_A, Encoding::Xml);
    let wbxml = exchange(&RUN_A, Encoding::Wbxml);
    assert_ne!(xml[0].1, wbxml[0].1);
    assert_eq!(wbxml[0].1.first(), Some(&0x02), "WBXML 1.2 version byte");
    assert_eq!(
        normalize(&xml, &ctx(&RUN_A)),
        normalize(&wbxml, &ctx(&RUN_A))
    );
}

#[test]
fn undecodable_messages_are_shown_with_their_length_without_panicking() {
    let good = codec::encode(&server_challenge(&RUN_A), Encoding::Xml).unwrap();
    let messages = [
        (Party::Client, b"<SyncML><SyncHdr>".to_vec()),
        (Party::Server, vec![0x03, 0x01, 0x6a, 0x00, 0xff, 0xff]),
        (Party::Client, Vec::new()),
        (Party::Server, good),
    ];
    let text = normalize(&messages, &ctx(&RUN_A));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "--- message 1: client -> server");
    assert!(
        lines[1].starts_with("!! not decodable: 17 bytes ("),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "--- message 2: server -> client");
    assert!(
        lines[3].starts_with("!! not decodable: 6 bytes ("),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], "--- message 3: client -> server");
    assert!(
        lines[5].starts_with("!! not decodable: 0 bytes ("),
        "{}",
        lines[5]
    );
    assert_eq!(lines[6], "--- message 4: server -> client");
    assert!(message_body(&text, 4).contains("<Data>401</Data>"));
}

#[test]
fn binary_data_falls_back_to_the_masked_model_as_json() {
    let mut msg = server_challenge(&RUN_A);
    msg.body.commands.push(Command::Replace(ItemCommand {
        cmd_id: "4".into(),
        items: vec![Item {
            target: Some(Locator::uri("./Vendor/Blob")),
            data: Some(Data::Binary(vec![0xff, 0x00, 0x10])),
            ..Item::default()
        }],
        ..ItemCommand::default()
    }));
    let bytes = codec::encode(&msg, Encoding::Wbxml).unwrap();
    let text = normalize(&[(Party::Server, bytes)], &ctx(&RUN_A));
    let body = message_body(&text, 1);
    assert!(body.starts_with("!! not writable as XML ("), "{body}");
    assert!(body.contains(r#""bytes_hex": "ff0010""#), "{body}");
    assert!(body.contains(r##""SessionID": "#SESSION-ID""##), "{body}");
    assert!(!body.contains(RUN_A.nonce));

    // The fallback is a well-formed vector too.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("binary.txt"), &text).unwrap();
    let outcomes = sessions::check(dir.path());
    assert_eq!(outcomes.len(), 1);
    assert!(outcomes[0].result.is_ok(), "{:?}", outcomes[0].result);
}

#[test]
fn devinfo_is_masked_in_every_client_package_1_and_nowhere_else() {
    let run = &RUN_A;
    // Package 1 over two messages: the Alert first (no Final), the DevInfo next.
    let mut first = client_package_1(run);
    first.body.commands.truncate(1);
    first.body.final_ = false;
    let mut next_message = server_challenge(run);
    next_message.body.commands = vec![
        Command::Status(status("1", "0", "SyncHdr", StatusCode::Ok)),
        alert("2", AlertCode::NextMessage),
    ];
    next_message.body.final_ = false;
    let mut second = client_package_1(run);
    second.hdr.msg_id = "2".into();
    second.body.commands = vec![devinfo_replace("1", run)];
    // The server may not Replace DevInfo, but what it sends is scenario data: kept.
    let mut server_replace = server_challenge(run);
    server_replace.body.commands = vec![Command::Replace(ItemCommand {
        cmd_id: "4".into(),
        items: vec![Item {
            target: Some(Locator::uri("./DevInfo/Lang")),
            data: Some(Data::Text("fr-FR".into())),
            ..Item::default()
        }],
        ..ItemCommand::default()
    })];
    // A client Replace of DevInfo outside package 1 is a protocol matter: shown as sent.
    let mut late = client_package_1(run);
    late.hdr.msg_id = "3".into();
    late.body.commands = vec![Command::Replace(ItemCommand {
        cmd_id: "1".into(),
        items: vec![devinfo_item("Mod", "Late-Model")],
        ..ItemCommand::default()
    })];
    // Package 1 sent again after a challenge.
    let mut retry = client_package_1(run);
    retry.hdr.msg_id = "4".into();

    let messages: Vec<(Party, Vec<u8>)> = [
        (Party::Client, first),
        (Party::Server, next_message),
        (Party::Client, second),
        (Party::Server, server_replace),
        (Party::Client, late),
        (Party::Client, retry),
    ]
    .into_iter()
    .map(|(p, m)| (p, codec::encode(&m, Encoding::Xml).unwrap()))
    .collect();
    let text = normalize(&messages, &ctx(run));

    assert_eq!(message_body(&text, 3).matches("#DEVINFO").count(), 5);
    assert!(message_body(&text, 4).contains("<Data>fr-FR</Data>"));
    assert!(message_body(&text, 5).contains("<Data>Late-Model</Data>"));
    assert_eq!(message_body(&text, 6).matches("#DEVINFO").count(), 5);
    assert!(!text.contains(run.model));
}

#[test]
fn compare_gives_a_diff_with_the_changed_line() {
    let dir = tempfile::tempdir().unwrap();
    let expected = normalize(&exchange(&RUN_A, Encoding::Xml), &ctx(&RUN_A));
    std::fs::write(dir.path().join("md5-challenge.txt"), &expected).unwrap();
    let actual = expected.replace("<Data>401</Data>", "<Data>407</Data>");

    let diff = sessions::compare(dir.path(), "md5-challenge", &actual, false)
        .unwrap()
        .expect("a mismatch gives a diff");
    assert!(diff.starts_with("--- expected\n+++ actual\n"), "{diff}");
    assert_eq!(
        changed_lines(&diff),
        ["-<Data>401</Data>", "+<Data>407</Data>"]
    );
    assert!(diff.contains("@@"), "{diff}");
}

#[test]
fn compare_is_none_when_equal_even_with_crlf_line_endings() {
    let dir = tempfile::tempdir().unwrap();
    let text = normalize(&exchange(&RUN_A, Encoding::Xml), &ctx(&RUN_A));
    std::fs::write(dir.path().join("a.txt"), &text).unwrap();
    std::fs::write(dir.path().join("b.txt"), text.replace('\n', "\r\n")).unwrap();
    assert_eq!(
        sessions::compare(dir.path(), "a", &text, false).unwrap(),
        None
    );
    assert_eq!(
        sessions::compare(dir.path(), "b", &text, false).unwrap(),
        None
    );
}

#[test]
fn bless_writes_the_vector_that_then_compares_equal_and_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sessions");
    let text = normalize(&exchange(&RUN_A, Encoding::Wbxml), &ctx(&RUN_A));

    assert_eq!(
        sessions::compare(&dir, "client-init", &text, true).unwrap(),
        None
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("client-init.txt")).unwrap(),
        text
    );
    // Blessing overwrites.
    let changed = text.replace("<Data>401</Data>", "<Data>407</Data>");
    assert_eq!(
        sessions::compare(&dir, "client-init", &changed, true).unwrap(),
        None
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("client-init.txt")).unwrap(),
        changed
    );
    assert!(sessions::compare(&dir, "client-init", &text, false)
        .unwrap()
        .is_some());
    // Run B, in the other encoding, matches what run A blessed.
    sessions::compare(&dir, "client-init", &text, true).unwrap();
    let run_b = normalize(&exchange(&RUN_B, Encoding::Xml), &ctx(&RUN_B));
    assert_eq!(
        sessions::compare(&dir, "client-init", &run_b, false).unwrap(),
        None
    );

    let outcomes = sessions::check(&dir);
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].id, "client-init");
    assert!(outcomes[0].result.is_ok(), "{:?}", outcomes[0].result);
}

#[test]
fn a_missing_vector_is_an_error_that_says_to_bless() {
    let dir = tempfile::tempdir().unwrap();
    let err = sessions::compare(
        dir.path(),
        "absent",
        "--- message 1: client -> server\n",
        false,
    )
    .unwrap_err();
    match &err {
        SessionVectorError::Missing { path } => {
            assert_eq!(path, &dir.path().join("absent.txt"));
        }
        other => panic!("expected Missing, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("--bless"), "{msg}");
    assert!(msg.contains("absent.txt"), "{msg}");
    assert!(!dir.path().join("absent.txt").exists());
}

#[test]
fn a_name_that_is_not_a_file_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["", "../escape", "a/b", ".hidden"] {
        let err = sessions::compare(dir.path(), name, "x", true).unwrap_err();
        assert!(
            matches!(err, SessionVectorError::InvalidName(ref n) if n == name),
            "{name:?}: {err:?}"
        );
    }
    assert!(!dir.path().join("../escape.txt").exists());
}

#[test]
fn check_rejects_malformed_vectors_and_ignores_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = normalize(&exchange(&RUN_A, Encoding::Xml), &ctx(&RUN_A));
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("README.md", "# not a vector\n");
    write("good.txt", &good);
    write(
        "bad-number.txt",
        &good.replace("--- message 2:", "--- message 3:"),
    );
    write(
        "bad-direction.txt",
        &good.replace("2: server -> client", "2: server -> server"),
    );
    write(
        "not-xml.txt",
        "--- message 1: client -> server\n<SyncML><oops\n",
    );
    write("preamble.txt", &format!("hello\n{good}"));
    write("empty.txt", "");

    let outcomes = sessions::check(dir.path());
    let result = |id: &str| {
        outcomes
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.result.clone())
            .unwrap()
    };
    assert_eq!(outcomes.len(), 6, "README.md is not a vector");
    assert_eq!(result("good"), Ok(()));
    assert!(result("bad-number")
        .unwrap_err()
        .contains("--- message 2: "));
    assert!(result("bad-direction").unwrap_err().contains("line "));
    assert!(result("not-xml").unwrap_err().starts_with("message 1: "));
    assert!(result("preamble").unwrap_err().contains("before the first"));
    assert!(result("empty").unwrap_err().contains("no messages"));
}

#[test]
fn the_repository_sessions_folder_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    assert!(root.join("sessions/README.md").is_file());
    let all = dmconf::vectors::check_dir(&root).unwrap();
    let (_, outcomes) = all.iter().find(|(name, _)| *name == "sessions").unwrap();
    let failures: Vec<_> = outcomes.iter().filter(|o| o.result.is_err()).collect();
    assert!(failures.is_empty(), "{failures:?}");
}
