//! Abort, idle expiry, the server fault switches and the tester hooks, against the real
//! client engine (facts §1.4, §2.2–§2.4, §6.2).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod engine_common;

use std::sync::{Arc, Mutex};

use dm_client::session::{EndReason, Session, Step};
use dm_protocol::auth::{self, AuthType};
use dm_protocol::codec::{self, DecodeOptions, Encoding};
use dm_protocol::codes::{AlertCode, StatusCode};
use dm_protocol::model::{Command, SyncMl};
use dm_server::faults::ServerFaults;
use dm_server::model::{AuthKind, DeviceState, JobState, JobUpdate};
use dm_server::session::{ManualClock, Received, ServerSession, ServerTester};
use dm_tree::NoHooks;
use engine_common::*;

fn encode_decode(m: &SyncMl) -> (Vec<u8>, SyncMl) {
    let b = codec::encode(m, Encoding::Xml).unwrap();
    let d = codec::decode(&b, DecodeOptions::LENIENT).unwrap().message;
    (b, d)
}

fn feed(server: &mut ServerSession, m: &SyncMl) -> dm_server::session::Output {
    let (b, d) = encode_decode(m);
    server.handle(&Received {
        bytes: &b,
        hmac_header: None,
        msg: &d,
    })
}

fn one_job_server(clock: ManualClock, faults: ServerFaults) -> ServerSession {
    let mut s = setup(
        registered(),
        DeviceState::default(),
        vec![job(1, vec![get(&["./DevInfo/Man"])])],
    );
    s.faults = faults;
    ServerSession::new(s, Arc::new(clock)).unwrap()
}

/// facts §2.3: the device aborts with Alert 1223 → Status for the SyncHdr and the Alert
/// only, Final; the session ends and the unfinished job is Interrupted.
#[test]
fn device_abort_is_answered_and_ends() {
    let mut tree = device();
    let mut client = Session::new(client_config());
    let mut server = one_job_server(ManualClock::at(T0), ServerFaults::default());
    let p1 = client.start(&mut tree);
    let out = feed(&mut server, &p1);
    let (rb, reply) = encode_decode(out.reply.as_ref().unwrap());
    let step = client.handle_received(
        &mut tree,
        &dm_client::session::Received {
            bytes: &rb,
            hmac_header: None,
            msg: &reply,
        },
        &mut NoHooks,
    );
    let Step::Send(pending) = step else {
        panic!("a reply")
    };
    let abort = client.abort(*pending);
    let out = feed(&mut server, &abort);
    let reply = out.reply.unwrap();
    let alert_id = abort
        .body
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Alert(a) if a.code == Some(AlertCode::SessionAbort) => Some(a.cmd_id.clone()),
            _ => None,
        })
        .unwrap();
    let refs: Vec<(String, String)> = reply
        .body
        .commands
        .iter()
        .map(|c| match c {
            Command::Status(s) => (s.cmd.clone(), s.cmd_ref.clone()),
            other => panic!("only Statuses, got {}", other.name()),
        })
        .collect();
    assert_eq!(
        refs,
        vec![
            ("SyncHdr".to_owned(), "0".to_owned()),
            ("Alert".to_owned(), alert_id)
        ]
    );
    assert!(reply.body.final_);
    assert_eq!(out.ended.as_deref(), Some("aborted by the device"));
    // The Get's Status and Results were in the abort message (facts §2.3 allows them): the
    // job is complete, nothing is Interrupted.
    assert!(out.jobs.iter().any(|u| matches!(
        u,
        JobUpdate::State {
            job: 1,
            state: JobState::Done
        }
    )));
    assert!(!out.jobs.iter().any(|u| matches!(
        u,
        JobUpdate::State {
            state: JobState::Interrupted,
            ..
        }
    )));
}

/// The device vanishes: `expired` turns true after idle_timeout_secs without a message;
/// `time_out` ends the session, the sent job is Interrupted, later messages get no answer.
#[test]
fn idle_session_expires() {
    let clock = ManualClock::at(T0);
    let mut tree = device();
    let mut client = Session::new(client_config());
    let mut server = one_job_server(clock.clone(), ServerFaults::default());
    clock.advance(100);
    let p1 = client.start(&mut tree);
    let out = feed(&mut server, &p1);
    assert!(out.reply.is_some());
    assert!(!server.expired(T0 + 100 + 299));
    assert!(server.expired(T0 + 100 + 300));
    let out = server.time_out();
    assert_eq!(out.ended.as_deref(), Some("timed out"));
    assert!(out.jobs.contains(&JobUpdate::State {
        job: 1,
        state: JobState::Interrupted
    }));
    assert!(
        !server.expired(T0 + 10_000),
        "an ended session does not expire again"
    );
    let late = feed(&mut server, &p1);
    assert!(late.reply.is_none());
    assert!(late
        .deviations
        .iter()
        .any(|d| d.contains("after the session ended")));
}

fn run_faulty(faults: ServerFaults) -> Run {
    let mut tree = device();
    let mut client = Session::new(client_config());
    let mut server = one_job_server(ManualClock::at(T0), faults);
    run(
        &mut tree,
        &mut client,
        &mut server,
        Encoding::Xml,
        &mut NoHooks,
    )
}

/// `ignore_msg_ref` (breaks facts §1.4): the device notices the wrong MsgRef.
#[test]
fn fault_ignore_msg_ref_is_noticed() {
    let good = run_faulty(ServerFaults::default());
    assert!(good.client_deviations.is_empty());
    let bad = run_faulty(ServerFaults {
        ignore_msg_ref: true,
        ..Default::default()
    });
    assert!(
        bad.client_deviations.iter().any(|d| d.contains("MsgRef")),
        "{:?}",
        bad.client_deviations
    );
}

/// `never_final` (breaks facts §2.4/§2.2): the device never sees the end — it keeps asking
/// for the next message instead of ending Completed.
#[test]
fn fault_never_final_keeps_the_device_waiting() {
    let run = run_faulty(ServerFaults {
        never_final: true,
        ..Default::default()
    });
    assert!(run.server_msgs().iter().all(|m| !m.body.final_));
    assert_ne!(run.client_end, Some(EndReason::Completed));
    assert!(run
        .device_msgs()
        .last()
        .unwrap()
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Alert(a) if a.code == Some(AlertCode::NextMessage))));
}

/// `no_status_for_alerts` (breaks facts §2.4): package 2 has no Status for the device's
/// Alert 1201.
#[test]
fn fault_no_status_for_alerts() {
    let run = run_faulty(ServerFaults {
        no_status_for_alerts: true,
        ..Default::default()
    });
    let p2 = run.server_msgs()[0];
    assert!(!p2
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Status(s) if s.cmd == "Alert")));
    let good = run_faulty(ServerFaults::default());
    assert!(good.server_msgs()[0]
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Status(s) if s.cmd == "Alert")));
}

fn md5_run(faults: ServerFaults, client_pass: &str) -> (Run, Session) {
    let mut cfg = client_config();
    cfg.client_auth = Some(creds(AuthType::Md5, "dev", client_pass, b"n0"));
    let mut client = Session::new(cfg);
    let mut dev = registered();
    dev.client_auth = Some(secret(AuthKind::Md5, "dev", "devpass"));
    let mut s = setup(
        dev,
        DeviceState {
            client_nonce: b"n0".to_vec(),
            ..DeviceState::default()
        },
        vec![job(1, vec![get(&["./DevInfo/Man"])])],
    );
    s.faults = faults;
    let mut server = ServerSession::new(s, Arc::new(ManualClock::at(T0))).unwrap();
    let mut tree = device();
    let r = run(
        &mut tree,
        &mut client,
        &mut server,
        Encoding::Xml,
        &mut NoHooks,
    );
    (r, client)
}

/// `accept_bad_credentials` (breaks facts §6.2): a wrong password gets 212 and the job runs.
#[test]
fn fault_accept_bad_credentials() {
    let (good, _) = md5_run(ServerFaults::default(), "wrong");
    assert!(matches!(good.client_end, Some(EndReason::AuthFailed(_))));
    let (bad, _) = md5_run(
        ServerFaults {
            accept_bad_credentials: true,
            ..Default::default()
        },
        "wrong",
    );
    assert_eq!(bad.client_end, Some(EndReason::Completed));
    assert_eq!(bad.job_state(1), Some(JobState::Done));
}

/// `stale_nonce` (breaks facts §6.2): the Chal carries the old nonce again, which the device
/// stores for its next session.
#[test]
fn fault_stale_nonce() {
    let (good, client) = md5_run(ServerFaults::default(), "devpass");
    assert_ne!(client.client_nonce_to_store(), Some(&b"n0"[..]));
    assert_eq!(
        good.state.unwrap().used_client_nonces,
        vec![auth::b64(b"n0")]
    );
    let (bad, client) = md5_run(
        ServerFaults {
            stale_nonce: true,
            ..Default::default()
        },
        "devpass",
    );
    assert_eq!(client.client_nonce_to_store(), Some(&b"n0"[..]));
    assert_eq!(bad.state.unwrap().client_nonce, b"n0".to_vec());
}

/// `no_server_credentials` (breaks facts §6.2): the device requiring server credentials
/// answers 407 and executes nothing; the job never completes.
#[test]
fn fault_no_server_credentials() {
    let mut cfg = client_config();
    cfg.server_auth = Some(creds(AuthType::Basic, "srv", "srvpass", b""));
    let mut client = Session::new(cfg);
    let mut dev = registered();
    dev.server_auth = Some(secret(AuthKind::Basic, "srv", "srvpass"));
    let mut s = setup(
        dev,
        DeviceState::default(),
        vec![job(1, vec![get(&["./DevInfo/Man"])])],
    );
    s.faults.no_server_credentials = true;
    let mut server = ServerSession::new(s, Arc::new(ManualClock::at(T0))).unwrap();
    let mut tree = device();
    let r = run(
        &mut tree,
        &mut client,
        &mut server,
        Encoding::Xml,
        &mut NoHooks,
    );
    assert!(r.server_msgs().iter().all(|m| m.hdr.cred.is_none()));
    let refused = r.device_msgs()[1]
        .body
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Status(s) if s.cmd_ref == "0" => Some(s.code),
            _ => None,
        });
    assert_eq!(refused, Some(StatusCode::MissingCredentials));
    assert_ne!(r.job_state(1), Some(JobState::Done));
    assert!(r.job_results(1).is_empty());
}

/// `commands_in_next_message_response` (breaks facts §2.4): our answer to a non-final device
/// message carries management commands.
#[test]
fn fault_commands_in_next_message_response() {
    let mut tree = device();
    let mut cfg = client_config();
    cfg.alerts = (0..12)
        .map(|_| dm_protocol::model::Alert {
            code: Some(AlertCode::ClientEvent),
            items: vec![dm_protocol::model::Item {
                meta: Some(dm_protocol::model::Meta {
                    type_: Some("com.example.e".into()),
                    format: Some("chr".into()),
                    ..Default::default()
                }),
                data: Some(dm_protocol::model::Data::Text("x".repeat(40))),
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    let mut client = Session::new(cfg);
    let mut s = setup(
        registered(),
        DeviceState::default(),
        vec![job(1, vec![get(&["./DevInfo/Man"])])],
    );
    s.faults.commands_in_next_message_response = true;
    let mut server = ServerSession::new(s, Arc::new(ManualClock::at(T0))).unwrap();
    // Package 1 arrives split: feed its first half as a non-final message.
    let mut p1 = client.start(&mut tree);
    p1.body.final_ = false;
    let out = feed(&mut server, &p1);
    let reply = out.reply.unwrap();
    assert!(!reply.body.final_);
    assert!(reply
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Alert(a) if a.code == Some(AlertCode::NextMessage))));
    assert!(reply
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Get(_))));
}

/// The same non-final package 1 without the fault: Status + 1222 only (facts §2.4).
#[test]
fn next_message_response_without_fault() {
    let mut tree = device();
    let mut client = Session::new(client_config());
    let mut server = one_job_server(ManualClock::at(T0), ServerFaults::default());
    let mut p1 = client.start(&mut tree);
    p1.body.final_ = false;
    let reply = feed(&mut server, &p1).reply.unwrap();
    assert!(!reply.body.final_);
    assert!(reply
        .body
        .commands
        .iter()
        .all(|c| matches!(c, Command::Status(_))
            || matches!(c, Command::Alert(a) if a.code == Some(AlertCode::NextMessage))));
}

#[derive(Default)]
struct Seen {
    received: usize,
    injected_in: Option<String>,
}

struct Script(Arc<Mutex<Seen>>);

impl ServerTester for Script {
    fn on_received(&mut self, _bytes: &[u8], _msg: &SyncMl) {
        self.0.lock().unwrap().received += 1;
    }

    fn inject(&mut self, next_msg_id: &str) -> Vec<Command> {
        let mut s = self.0.lock().unwrap();
        if s.injected_in.is_some() {
            return vec![];
        }
        s.injected_in = Some(next_msg_id.to_owned());
        vec![get(&["./DevInfo/Mod"])]
    }

    fn before_encode(&mut self, msg: &mut SyncMl) {
        msg.hdr.resp_uri = Some(format!("{SRV}?s=1"));
    }
}

/// Tester hooks: an injected Get is executed by the device (its Status and Results come
/// back, unattributed to jobs), `before_encode` changes what goes out (RespURI), and every
/// device message is observed.
#[test]
fn tester_hooks_inject_mutate_observe() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut tree = device();
    let mut client = Session::new(client_config());
    let mut server = server_for(vec![]);
    server.set_tester(Box::new(Script(seen.clone())));
    let r = run(
        &mut tree,
        &mut client,
        &mut server,
        Encoding::Xml,
        &mut NoHooks,
    );
    let s = seen.lock().unwrap();
    assert_eq!(s.received, r.device_msgs().len());
    assert_eq!(s.injected_in.as_deref(), Some("1"));
    assert_eq!(client.target_uri(), format!("{SRV}?s=1"));
    let answer = r.device_msgs()[1];
    assert!(answer
        .body
        .commands
        .iter()
        .any(|c| matches!(c, Command::Results(res)
        if res.items[0].data.as_ref().and_then(|d| d.as_text()).is_some())));
    assert!(r.updates.is_empty(), "injected commands belong to no job");
}

/// Real clients' quirk: Status code `0` (not a SyncML code, facts §3.1) is tolerated — the
/// job keeps the code as sent — and recorded as a deviation.
#[test]
fn status_code_zero_is_tolerated_and_recorded() {
    let mut tree = device();
    let mut client = Session::new(client_config());
    let mut server = one_job_server(ManualClock::at(T0), ServerFaults::default());
    let p1 = client.start(&mut tree);
    let out = feed(&mut server, &p1);
    let (rb, reply) = encode_decode(out.reply.as_ref().unwrap());
    let Step::Send(mut p3) = client.handle_received(
        &mut tree,
        &dm_client::session::Received {
            bytes: &rb,
            hmac_header: None,
            msg: &reply,
        },
        &mut NoHooks,
    ) else {
        panic!("a reply")
    };
    for c in &mut p3.body.commands {
        if let Command::Status(s) = c {
            if s.cmd == "Get" {
                s.code = StatusCode::from_u16(0);
            }
        }
    }
    let out = feed(&mut server, &p3);
    assert!(
        out.deviations
            .iter()
            .any(|d| d.contains("code 0, not a SyncML status code")),
        "{:?}",
        out.deviations
    );
    assert!(out.jobs.iter().any(|u| matches!(
        u,
        JobUpdate::Status { job: 1, status } if status.code == 0
    )));
}

/// Our reply cannot be encoded (a job Replace whose text holds U+0001, which XML 1.0 cannot
/// carry): no bytes to send, `internal_error` says why (the transport answers HTTP 500), the
/// session ends with an "internal error" reason and the job is Interrupted, not lost.
#[test]
fn unencodable_reply_is_an_internal_error() {
    let mut server = ServerSession::new(
        setup(
            registered(),
            DeviceState::default(),
            vec![job(1, vec![replace("./Big", "a\u{1}b")])],
        ),
        Arc::new(ManualClock::at(T0)),
    )
    .unwrap();
    let mut tree = device();
    let mut client = Session::new(client_config());
    let p1 = client.start(&mut tree);
    let out = feed(&mut server, &p1);
    assert_eq!(out.bytes, None, "nothing to send");
    let why = out.internal_error.as_deref().expect("an internal error");
    assert!(why.starts_with("internal error: "), "{why}");
    assert!(why.contains("U+0001"), "{why}");
    assert_eq!(out.ended.as_deref(), Some(why));
    assert!(out.headers.is_empty());
    assert!(out.jobs.iter().any(|u| matches!(
        u,
        JobUpdate::State {
            job: 1,
            state: JobState::Interrupted
        }
    )));
    // A good reply has no internal error.
    let ok = feed(
        &mut one_job_server(ManualClock::at(T0), ServerFaults::default()),
        &p1,
    );
    assert!(ok.internal_error.is_none() && ok.bytes.is_some());
}
