#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Tester hooks, fault switches, the injected clock and abort, end to end over a real
//! socket: each hook and each switch changes what the server observes on the wire.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    config, continuation, device, hdr_status, is_final, run, run_default, serve, server_xml,
    status_code, Reply,
};
use dm_client::driver::Direction;
use dm_client::session::{ClientFaults, EndReason, Session};
use dm_client::tester::{NoTester, SendAction, TesterHooks};
use dm_protocol::codec::Encoding;
use dm_protocol::model::{Command, SyncMl};
use dm_tree::standard::{put_account, Account};
use dm_tree::ManualClock;
use rstest::rstest;

/// Package 2 with a Get, then the generic continuation.
fn get_then_end(n: usize, req: &common::Request, url: &str) -> Reply {
    if n == 0 {
        let body = format!(
            "{}<Get><CmdID>3</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>",
            hdr_status(req, url, 200, "")
        );
        Reply::xml(server_xml(req, 1, url, "", &body, true))
    } else {
        continuation(n, req, url)
    }
}

/// A tester that does one thing to our message number `at` (1-based MsgID).
#[derive(Default)]
struct Script {
    at: String,
    wrong_msg_ref: bool,
    garbage: bool,
    hmac: Option<String>,
    action: SendAction,
    delay: Option<Duration>,
    received: Vec<(Vec<u8>, Option<String>)>,
}

impl TesterHooks for Script {
    fn before_encode(&mut self, msg: &mut SyncMl) {
        if self.wrong_msg_ref && msg.hdr.msg_id == self.at {
            for c in &mut msg.body.commands {
                if let Command::Status(s) = c {
                    s.msg_ref = "99".into();
                }
            }
        }
    }
    fn replace_bytes(&mut self, msg: &SyncMl, _encoded: &[u8]) -> Option<Vec<u8>> {
        (self.garbage && msg.hdr.msg_id == self.at).then(|| b"<SyncML>broken".to_vec())
    }
    fn edit_headers(&mut self, msg: &SyncMl, headers: &mut Vec<(String, String)>) {
        if let Some(h) = self.hmac.as_ref().filter(|_| msg.hdr.msg_id == self.at) {
            headers.push(("x-syncml-hmac".into(), h.clone()));
        }
    }
    fn send_action(&mut self, msg: &SyncMl) -> SendAction {
        if msg.hdr.msg_id == self.at {
            self.action
        } else {
            SendAction::Send
        }
    }
    fn delay_before_send(&mut self, msg: &SyncMl) -> Option<Duration> {
        self.delay.filter(|_| msg.hdr.msg_id == self.at)
    }
    fn on_received(&mut self, bytes: &[u8], decoded: Option<&SyncMl>) {
        self.received
            .push((bytes.to_vec(), decoded.map(|m| m.hdr.msg_id.clone())));
    }
}

#[tokio::test]
async fn before_encode_changes_the_wire_not_the_engine() {
    let server = serve(get_then_end).await;
    let mut tree = device(&server.url);
    let mut session = Session::new(config(&server.url));
    let mut t = Script {
        at: "2".into(),
        wrong_msg_ref: true,
        ..Script::default()
    };
    let run = run(&mut tree, &mut session, Encoding::Xml, &mut t)
        .await
        .unwrap();
    assert_eq!(run.end, EndReason::Completed);
    let reqs = server.requests();
    assert!(common::statuses(reqs[1].msg())
        .iter()
        .all(|s| s.msg_ref == "99"));
    // The transcript holds what went on the wire, the mutated message.
    assert_eq!(run.exchanges[2].bytes, reqs[1].bytes);
    assert_eq!(
        status_code(reqs[1].msg(), "3"),
        Some(200),
        "the Get still answered"
    );
}

#[tokio::test]
async fn replace_bytes_sends_a_malformed_message() {
    let server = serve(|n, req, url| {
        if req.msg.is_none() {
            // What a server may do with garbage: an HTTP-level error.
            return Reply {
                body: Vec::new(),
                headers: vec![],
                ..Reply::default()
            };
        }
        get_then_end(n, req, url)
    })
    .await;
    let mut tree = device(&server.url);
    let mut t = Script {
        at: "1".into(),
        garbage: true,
        ..Script::default()
    };
    let mut session = Session::new(config(&server.url));
    let result = run(&mut tree, &mut session, Encoding::Xml, &mut t).await;
    assert!(result.is_err(), "an empty answer is not a DM message");
    let reqs = server.requests();
    assert_eq!(reqs[0].bytes, b"<SyncML>broken");
    assert!(reqs[0].msg.is_none());
    assert_eq!(t.received.len(), 1);
    assert_eq!(
        t.received[0].1, None,
        "on_received saw the undecodable answer"
    );
}

#[tokio::test]
async fn edit_headers_adds_a_wrong_hmac() {
    let server = serve(get_then_end).await;
    let mut tree = device(&server.url);
    let mut t = Script {
        at: "1".into(),
        hmac: Some("algorithm=MD5, username=\"x\", mac=AAAA".into()),
        ..Script::default()
    };
    let mut session = Session::new(config(&server.url));
    let run = run(&mut tree, &mut session, Encoding::Xml, &mut t)
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(
        reqs[0].header("x-syncml-hmac"),
        Some("algorithm=MD5, username=\"x\", mac=AAAA")
    );
    assert_eq!(reqs[1].header("x-syncml-hmac"), None);
    let sent = &run.exchanges[0];
    assert!(sent
        .headers
        .iter()
        .any(|(n, v)| n == "x-syncml-hmac" && v.contains("AAAA")));
}

#[rstest]
#[case::before(SendAction::DropBeforeSend, 1, 3)]
#[case::after(SendAction::DropAfterSend, 2, 3)]
#[tokio::test]
async fn dropping_the_connection(
    #[case] action: SendAction,
    #[case] server_saw: usize,
    #[case] exchanges: usize,
) {
    let server = serve(get_then_end).await;
    let mut tree = device(&server.url);
    let mut t = Script {
        at: "2".into(),
        action,
        ..Script::default()
    };
    let mut session = Session::new(config(&server.url));
    let run = run(&mut tree, &mut session, Encoding::Xml, &mut t)
        .await
        .unwrap();
    assert_eq!(server.requests().len(), server_saw);
    let dropped = run.dropped.expect("the run says it was dropped");
    assert_eq!(dropped.action, action);
    assert_eq!(dropped.msg_id, "2");
    assert!(matches!(run.end, EndReason::Protocol(_)));
    // Package 1, package 2 and (after send) our message 2, whose answer is not processed.
    let expect = if action == SendAction::DropAfterSend {
        exchanges
    } else {
        2
    };
    assert_eq!(run.exchanges.len(), expect);
    assert_eq!(
        t.received.len(),
        1,
        "the dropped message's answer is not observed"
    );
}

#[tokio::test]
async fn delay_before_send_waits() {
    let server = serve(get_then_end).await;
    let mut tree = device(&server.url);
    let mut t = Script {
        at: "2".into(),
        delay: Some(Duration::from_millis(300)),
        ..Script::default()
    };
    let mut session = Session::new(config(&server.url));
    let start = Instant::now();
    run(&mut tree, &mut session, Encoding::Xml, &mut t)
        .await
        .unwrap();
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn on_received_sees_every_answer_and_exchanges_use_the_clock() {
    let server = serve(get_then_end).await;
    let mut tree = device(&server.url);
    let clock = ManualClock::at(1_700_000_000);
    let mut session = Session::new(config(&server.url)).with_clock(Arc::new(clock.clone()));
    let mut t = Script::default();
    let run = run(&mut tree, &mut session, Encoding::Wbxml, &mut t)
        .await
        .unwrap();
    let received: Vec<&Vec<u8>> = run
        .exchanges
        .iter()
        .filter(|e| e.direction == Direction::Received)
        .map(|e| &e.bytes)
        .collect();
    assert_eq!(t.received.len(), received.len());
    for ((bytes, id), exchanged) in t.received.iter().zip(&received) {
        assert_eq!(&bytes, exchanged);
        assert!(id.is_some());
    }
    assert!(run.exchanges.iter().all(|e| e.time == 1_700_000_000));
    assert!(run.exchanges.iter().all(|e| e
        .headers
        .iter()
        .any(|(n, v)| n == "content-type" && v == Encoding::Wbxml.content_type())));
}

/// Alert 1223 from the server: the client does not answer (facts §2.3).
#[tokio::test]
async fn abort_1223_is_not_answered() {
    let server = serve(|_, req, url| {
        let body = format!(
            "{}<Alert><CmdID>2</CmdID><Data>1223</Data></Alert>",
            hdr_status(req, url, 200, "")
        );
        Reply::xml(server_xml(req, 1, url, "", &body, true))
    })
    .await;
    let (_, session, run) = run_default(&server, &mut NoTester).await;
    assert_eq!(run.end, EndReason::AbortedByServer);
    assert_eq!(server.requests().len(), 1);
    assert!(session.is_finished());
}

/// Aborts instead of sending our message `at`.
struct AbortAt(&'static str);

impl TesterHooks for AbortAt {
    fn abort_instead(&mut self, msg: &SyncMl) -> bool {
        msg.hdr.msg_id == self.0
    }
}

/// The device aborts (facts §2.3): Status and Results of what it already executed, Alert
/// 1223, `Final`; the server's answer is not processed and nothing more is sent.
#[tokio::test]
async fn the_device_aborts_with_1223() {
    let server = serve(|n, req, url| {
        if n == 0 {
            get_then_end(n, req, url)
        } else {
            // A server that answers the abort with new commands: ignored (facts §2.3).
            let body = format!(
                "{}<Get><CmdID>2</CmdID><Item><Target><LocURI>./DevInfo/Mod</LocURI></Target></Item></Get>",
                hdr_status(req, url, 200, "")
            );
            Reply::xml(server_xml(req, n + 1, url, "", &body, true))
        }
    })
    .await;
    let mut tree = device(&server.url);
    let mut session = Session::new(config(&server.url));
    let run = run(&mut tree, &mut session, Encoding::Xml, &mut AbortAt("2"))
        .await
        .unwrap();
    assert_eq!(run.end, EndReason::AbortedByClient);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2, "nothing is sent after the abort");
    let m = reqs[1].msg();
    assert!(m.body.final_);
    let names: Vec<&str> = m.body.commands.iter().map(|c| c.name()).collect();
    assert_eq!(names, ["Status", "Status", "Results", "Alert"]);
    assert!(matches!(
        m.body.commands.last(),
        Some(Command::Alert(a)) if a.code == Some(dm_protocol::codes::AlertCode::SessionAbort)
    ));
    assert_eq!(status_code(m, "3"), Some(200));
    // CmdIDs stay 1, 2, 3… within the message (facts §1.3).
    let ids: Vec<&str> = m.body.commands.iter().filter_map(|c| c.cmd_id()).collect();
    assert_eq!(ids, ["1", "2", "3", "4"]);
    // The answer is in the transcript, but not processed.
    assert_eq!(run.exchanges.len(), 4);
    assert!(session.is_finished());
}

/// Package 2 with `body` (after the SyncHdr Status), then a Status-only package 4 that
/// ends the session. The device also has an account for a second server, `srvB`.
async fn session_with(
    body: &'static str,
    faults: ClientFaults,
) -> (Vec<common::Request>, dm_tree::Tree) {
    let server = serve(move |n, req, url| {
        let b = if n == 0 {
            format!("{}{body}", hdr_status(req, url, 200, ""))
        } else {
            hdr_status(req, url, 200, "")
        };
        Reply::xml(server_xml(req, n + 1, url, "", &b, true))
    })
    .await;
    let mut tree = device(&server.url);
    put_account(
        &mut tree,
        &Account {
            node: "srvB".into(),
            server_id: "srvB".into(),
            name: "B".into(),
            addr: "http://b.example/dm".into(),
            aauth_pref: String::new(),
            auth: vec![],
        },
    )
    .unwrap();
    let mut cfg = config(&server.url);
    cfg.faults = faults;
    let mut session = Session::new(cfg);
    run(&mut tree, &mut session, Encoding::Xml, &mut NoTester)
        .await
        .unwrap();
    (server.requests(), tree)
}

/// `ignore_acl`: a Replace of another server's account, which the ACL reserves to that
/// server (facts §4.4, §5.4), succeeds instead of 425.
#[rstest]
#[case::behaving(false, 425)]
#[case::ignore_acl(true, 200)]
#[tokio::test]
async fn ignore_acl_switch(#[case] on: bool, #[case] code: u16) {
    const BODY: &str = "<Replace><CmdID>2</CmdID><Item><Target><LocURI>./DMAcc/srvB/Name</LocURI></Target><Data>Evil</Data></Item></Replace>";
    let faults = ClientFaults {
        ignore_acl: on,
        ..ClientFaults::default()
    };
    let (reqs, tree) = session_with(BODY, faults).await;
    assert_eq!(status_code(reqs[1].msg(), "2"), Some(code));
    let name = tree.value_str("./DMAcc/srvB/Name").unwrap();
    assert_eq!(name == "Evil", on);
}

/// `commit_failed_atomic`: a failed Atomic keeps its successful child's change (facts §2.6:
/// all or nothing).
#[rstest]
#[case::behaving(false, "A")]
#[case::commit_failed_atomic(true, "Kept")]
#[tokio::test]
async fn commit_failed_atomic_switch(#[case] on: bool, #[case] name: &str) {
    const BODY: &str = "<Atomic><CmdID>2</CmdID>\
        <Replace><CmdID>3</CmdID><Item><Target><LocURI>./DMAcc/srvA/Name</LocURI></Target><Data>Kept</Data></Item></Replace>\
        <Replace><CmdID>4</CmdID><Item><Target><LocURI>./DMAcc/srvA/NoSuchLeaf</LocURI></Target><Data>x</Data></Item></Replace>\
        </Atomic>";
    let faults = ClientFaults {
        commit_failed_atomic: on,
        ..ClientFaults::default()
    };
    let (reqs, tree) = session_with(BODY, faults).await;
    assert_eq!(status_code(reqs[1].msg(), "2"), Some(507));
    assert_eq!(tree.value_str("./DMAcc/srvA/Name").unwrap(), name);
}

/// `no_final`: the client never closes its package (facts §2.4).
#[rstest]
#[case::behaving(false)]
#[case::no_final(true)]
#[tokio::test]
async fn no_final_switch(#[case] on: bool) {
    let faults = ClientFaults {
        no_final: on,
        ..ClientFaults::default()
    };
    let (reqs, _) = session_with(
        "<Get><CmdID>2</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>",
        faults,
    )
    .await;
    assert_eq!(is_final(&reqs[0]), !on, "package 1");
    assert_eq!(is_final(&reqs[1]), !on, "package 3");
}
