//! Authentication between the server engine and the real client engine: basic, md5 with
//! nonce rotation both ways, HMAC per message both ways, 401/407 and the retry, replay
//! refusal, the device refusing our credentials (facts §6.1–§6.3).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod engine_common;

use std::sync::Arc;

use dm_client::session::{ClientFaults, EndReason, Session};
use dm_protocol::auth::{self, AuthType};
use dm_protocol::codec::{self, DecodeOptions, Encoding};
use dm_protocol::codes::StatusCode;
use dm_protocol::model::{Command, SyncMl};
use dm_server::model::{AuthKind, DeviceState, JobState};
use dm_server::session::{ManualClock, Received, ServerSession, MAX_AUTH_FAILURES};
use dm_tree::NoHooks;
use engine_common::*;
use rstest::rstest;

fn hdr_status(m: &SyncMl) -> &dm_protocol::model::Status {
    m.body
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Status(s) if s.cmd_ref == "0" => Some(s),
            _ => None,
        })
        .expect("a SyncHdr Status")
}

struct Case {
    client: Session,
    server: ServerSession,
}

fn case(
    client_auth: Option<(AuthType, &str, &[u8])>,
    server_auth: Option<(AuthType, &str, &[u8])>,
    state: DeviceState,
) -> Case {
    let kind = |t: &AuthType| match t {
        AuthType::Basic => AuthKind::Basic,
        AuthType::Md5 => AuthKind::Md5,
        _ => AuthKind::Hmac,
    };
    let mut cfg = client_config();
    let mut dev = registered();
    if let Some((t, pass, nonce)) = &client_auth {
        cfg.client_auth = Some(creds(t.clone(), "dev", pass, nonce));
        dev.client_auth = Some(secret(kind(t), "dev", "devpass"));
    }
    if let Some((t, pass, nonce)) = &server_auth {
        cfg.server_auth = Some(creds(t.clone(), "srv", "srvpass", nonce));
        dev.server_auth = Some(secret(kind(t), "srv", pass));
    }
    Case {
        client: Session::new(cfg),
        server: ServerSession::new(
            setup(dev, state, vec![job(1, vec![get(&["./DevInfo/Man"])])]),
            Arc::new(ManualClock::at(T0)),
        )
        .unwrap(),
    }
}

fn state(client_nonce: &[u8], server_nonce: &[u8]) -> DeviceState {
    DeviceState {
        client_nonce: client_nonce.to_vec(),
        server_nonce: server_nonce.to_vec(),
        ..DeviceState::default()
    }
}

/// facts §6.1, §6.2: basic credentials → 212, the job runs; no Chal (basic has no nonce).
#[test]
fn basic_accepted_with_212() {
    let mut c = case(
        Some((AuthType::Basic, "devpass", b"")),
        None,
        state(b"", b""),
    );
    let mut tree = device();
    let run = run(
        &mut tree,
        &mut c.client,
        &mut c.server,
        Encoding::Xml,
        &mut NoHooks,
    );
    let p2 = run.server_msgs()[0];
    assert_eq!(hdr_status(p2).code, StatusCode::AuthenticationAccepted);
    assert!(hdr_status(p2).chal.is_none());
    assert_eq!(run.job_state(1), Some(JobState::Done));
    assert_eq!(run.client_end, Some(EndReason::Completed));
}

/// facts §6.2: md5 both ways. The device's credentials over the nonce we issued → 212 with a
/// fresh NextNonce for the next session (stored, and the used one remembered); our Cred over
/// the device's nonce; the device's Chal nonce becomes our stored server nonce. A second
/// session with the stored nonces authenticates again.
#[test]
fn md5_both_ways_nonces_rotate_across_sessions() {
    let mut c = case(
        Some((AuthType::Md5, "devpass", b"n-client-0")),
        Some((AuthType::Md5, "srvpass", b"n-server-0")),
        state(b"n-client-0", b"n-server-0"),
    );
    let mut tree = device();
    let run1 = run(
        &mut tree,
        &mut c.client,
        &mut c.server,
        Encoding::Xml,
        &mut NoHooks,
    );
    assert_eq!(
        run1.client_end,
        Some(EndReason::Completed),
        "{:?}",
        run1.client_deviations
    );
    assert_eq!(run1.job_state(1), Some(JobState::Done));
    let p2 = run1.server_msgs()[0];
    assert_eq!(hdr_status(p2).code, StatusCode::AuthenticationAccepted);
    let chal = hdr_status(p2)
        .chal
        .as_ref()
        .expect("a Chal with the next nonce");
    let next = auth::b64_decode(chal.meta.next_nonce.as_deref().unwrap()).unwrap();
    let st = run1.state.clone().unwrap();
    assert_eq!(st.client_nonce, next);
    assert_ne!(st.client_nonce, b"n-client-0".to_vec());
    assert_eq!(st.used_client_nonces, vec![auth::b64(b"n-client-0")]);
    assert_eq!(c.client.client_nonce_to_store(), Some(&next[..]));
    // Our Cred was md5 over the device's nonce; the device's new nonce is ours to store.
    let cred = p2.hdr.cred.as_ref().unwrap();
    assert!(auth::verify_md5(
        &cred.data,
        "srv",
        "srvpass",
        b"n-server-0"
    ));
    assert_eq!(Some(&st.server_nonce[..]), c.client.server_nonce_to_store());
    assert_ne!(st.server_nonce, b"n-server-0".to_vec());

    // Session 2 with what both sides stored.
    let mut cfg = client_config();
    cfg.session_id = "80".into();
    cfg.client_auth = Some(creds(AuthType::Md5, "dev", "devpass", &st.client_nonce));
    cfg.server_auth = Some(creds(AuthType::Md5, "srv", "srvpass", &st.server_nonce));
    let mut client2 = Session::new(cfg);
    let mut dev = registered();
    dev.client_auth = Some(secret(AuthKind::Md5, "dev", "devpass"));
    dev.server_auth = Some(secret(AuthKind::Md5, "srv", "srvpass"));
    let mut server2 = ServerSession::new(
        setup(dev, st.clone(), vec![]),
        Arc::new(ManualClock::at(T0)),
    )
    .unwrap();
    let run2 = run(
        &mut tree,
        &mut client2,
        &mut server2,
        Encoding::Xml,
        &mut NoHooks,
    );
    assert_eq!(run2.client_end, Some(EndReason::Completed));
    assert_eq!(
        hdr_status(run2.server_msgs()[0]).code,
        StatusCode::AuthenticationAccepted
    );
    assert_eq!(run2.state.unwrap().used_client_nonces.len(), 2);
}

/// facts §6.3: HMAC both ways — every device message carries a valid header, each of our
/// answers is 200 with a fresh NextNonce; each of our messages carries our own header.
#[rstest]
#[case::xml(Encoding::Xml)]
#[case::wbxml(Encoding::Wbxml)]
fn hmac_both_ways(#[case] encoding: Encoding) {
    let mut c = case(
        Some((AuthType::Mac, "devpass", b"c0")),
        Some((AuthType::Mac, "srvpass", b"s0")),
        state(b"c0", b"s0"),
    );
    let mut tree = device();
    let run = run(
        &mut tree,
        &mut c.client,
        &mut c.server,
        encoding,
        &mut NoHooks,
    );
    assert_eq!(
        run.client_end,
        Some(EndReason::Completed),
        "{:?}",
        run.client_deviations
    );
    assert!(run.deviations.is_empty(), "{:?}", run.deviations);
    assert_eq!(run.job_state(1), Some(JobState::Done));
    let nonces: Vec<String> = run
        .server_msgs()
        .iter()
        .map(|m| {
            let s = hdr_status(m);
            assert_eq!(s.code, StatusCode::Ok, "HMAC: per-message 200 (facts §6.2)");
            assert!(m.hdr.cred.is_none(), "facts §6.1: MAC is never in Cred");
            s.chal.as_ref().unwrap().meta.next_nonce.clone().unwrap()
        })
        .collect();
    assert_eq!(nonces.len(), 2);
    assert_ne!(nonces[0], nonces[1], "a new nonce with every message");
    assert_eq!(run.state.unwrap().used_client_nonces.len(), 2);
}

/// facts §6.2: a wrong nonce → 401 with a Chal; the device restarts package 1 with the
/// challenge's nonce → 212. Nothing but Statuses in the 401 answer.
#[test]
fn md5_401_then_retry_succeeds() {
    let mut c = case(
        Some((AuthType::Md5, "devpass", b"stale")),
        None,
        state(b"expected", b""),
    );
    let mut tree = device();
    let run = run(
        &mut tree,
        &mut c.client,
        &mut c.server,
        Encoding::Xml,
        &mut NoHooks,
    );
    let first = run.server_msgs()[0];
    assert_eq!(hdr_status(first).code, StatusCode::InvalidCredentials);
    assert!(hdr_status(first).chal.is_some());
    assert!(first
        .body
        .commands
        .iter()
        .all(|c| matches!(c, Command::Status(s) if s.code == StatusCode::InvalidCredentials)));
    assert_eq!(
        hdr_status(run.server_msgs()[1]).code,
        StatusCode::AuthenticationAccepted
    );
    assert_eq!(run.job_state(1), Some(JobState::Done));
    assert_eq!(run.client_end, Some(EndReason::Completed));
}

/// facts §6.2, §6.3: no HMAC header → 407 with a MAC Chal, twice → both sides give up; wrong
/// password → 401 twice. No management command ever goes out; the job is not sent.
#[rstest]
#[case::missing_407(ClientFaults { no_hmac: true, ..Default::default() }, "devpass", StatusCode::MissingCredentials)]
#[case::wrong_401(ClientFaults::default(), "nope", StatusCode::InvalidCredentials)]
fn refused_twice_ends_the_session(
    #[case] faults: ClientFaults,
    #[case] pass: &str,
    #[case] code: StatusCode,
) {
    let mut c = case(Some((AuthType::Mac, pass, b"c0")), None, state(b"c0", b""));
    let mut cfg = client_config();
    cfg.client_auth = Some(creds(AuthType::Mac, "dev", pass, b"c0"));
    cfg.faults = faults;
    c.client = Session::new(cfg);
    let mut tree = device();
    let run = run(
        &mut tree,
        &mut c.client,
        &mut c.server,
        Encoding::Xml,
        &mut NoHooks,
    );
    assert_eq!(run.server_msgs().len(), 2);
    for m in run.server_msgs() {
        assert_eq!(hdr_status(m).code, code);
        assert_eq!(
            hdr_status(m).chal.as_ref().unwrap().meta.type_.as_deref(),
            Some("syncml:auth-MAC")
        );
        assert!(m
            .body
            .commands
            .iter()
            .all(|c| matches!(c, Command::Status(_))));
    }
    assert_eq!(run.client_end, Some(EndReason::AuthFailed(code)));
    assert_eq!(run.server_end.as_deref(), Some("authentication failed"));
    assert!(run.job_state(1).is_none(), "the job never went out");
}

/// Replay protection (md5 device): the same device message fed twice is a retransmission
/// and gets our first reply again, byte for byte, with nothing processed; the same MsgID with
/// other content is refused with 400 (the device is already authenticated, so no Chal and no
/// authentication failure counted); a package 1 recorded in session 1 replayed in session 2
/// is refused as computed over a nonce already used.
#[test]
fn replays_are_refused() {
    let mut c = case(
        Some((AuthType::Md5, "devpass", b"n0")),
        None,
        state(b"n0", b""),
    );
    let mut tree = device();
    let p1 = c.client.start(&mut tree);
    let bytes = codec::encode(&p1, Encoding::Xml).unwrap();
    let msg = codec::decode(&bytes, DecodeOptions::LENIENT)
        .unwrap()
        .message;
    let rx = Received {
        bytes: &bytes,
        hmac_header: None,
        msg: &msg,
    };
    let first = c.server.handle(&rx);
    assert_eq!(
        hdr_status(first.reply.as_ref().unwrap()).code,
        StatusCode::AuthenticationAccepted
    );
    assert!(!first.jobs.is_empty(), "the job went out");
    let again = c.server.handle(&rx);
    assert_eq!(again.bytes, first.bytes, "retransmission: the same reply");
    assert!(again.jobs.is_empty(), "nothing processed: {:?}", again.jobs);
    assert_eq!(again.state, first.state, "no nonce rotated");
    assert!(
        again
            .deviations
            .iter()
            .any(|d| d.contains("retransmission")),
        "{:?}",
        again.deviations
    );

    // Same MsgID, other content: a replay.
    // Each different from the last (an identical one would be a retransmission).
    for k in 0..u64::from(MAX_AUTH_FAILURES) + 1 {
        let mut other = msg.clone();
        other
            .hdr
            .meta
            .get_or_insert_with(Default::default)
            .max_msg_size = Some(9_000 + k);
        let other_bytes = codec::encode(&other, Encoding::Xml).unwrap();
        let out = c.server.handle(&Received {
            bytes: &other_bytes,
            hmac_header: None,
            msg: &other,
        });
        let reply = out.reply.unwrap();
        assert_eq!(hdr_status(&reply).code, StatusCode::BadRequest);
        assert!(
            hdr_status(&reply).chal.is_none(),
            "the device is authenticated"
        );
        assert!(out.deviations.iter().any(|d| d.contains("replay")));
        assert!(out.jobs.is_empty(), "nothing executed");
        assert!(
            reply
                .body
                .commands
                .iter()
                .all(|c| matches!(c, Command::Status(s) if s.code == StatusCode::BadRequest)),
            "only Statuses, all 400"
        );
        assert_eq!(out.ended, None, "a replay is not an authentication failure");
    }

    // Session 2: the recorded package 1 again.
    let mut dev = registered();
    dev.client_auth = Some(secret(AuthKind::Md5, "dev", "devpass"));
    let mut server2 = ServerSession::new(
        setup(dev, first.state.clone(), vec![]),
        Arc::new(ManualClock::at(T0)),
    )
    .unwrap();
    let out = server2.handle(&rx);
    assert_eq!(
        hdr_status(out.reply.as_ref().unwrap()).code,
        StatusCode::InvalidCredentials
    );
    assert!(
        out.deviations.iter().any(|d| d.contains("already used")),
        "{:?}",
        out.deviations
    );
}

/// facts §6.2: the device refuses our credentials (401 with Chal) and executes nothing; we
/// resend the job with credentials over its new nonce — still wrong, so after the second
/// refusal the session ends and the job is Interrupted.
#[test]
fn device_refusing_our_credentials() {
    let mut c = case(
        None,
        Some((AuthType::Md5, "wrong-secret", b"s0")),
        state(b"", b"s0"),
    );
    let mut tree = device();
    let run = run(
        &mut tree,
        &mut c.client,
        &mut c.server,
        Encoding::Xml,
        &mut NoHooks,
    );
    assert_eq!(
        run.server_end.as_deref(),
        Some("the device refused our credentials")
    );
    assert_eq!(run.job_state(1), Some(JobState::Interrupted));
    assert!(
        run.job_statuses(1).is_empty(),
        "401s are not the job's statuses"
    );
    let gets = run
        .server_msgs()
        .iter()
        .filter(|m| m.body.commands.iter().any(|c| matches!(c, Command::Get(_))))
        .count();
    assert_eq!(gets, 2, "sent, refused, resent");
    assert_eq!(run.client_end, Some(EndReason::ServerNotAuthenticated));
}

/// facts §6.2: a device that must still authenticate (md5, before 212) repeating a MsgID
/// with other content and wrong credentials gets 401 with a Chal, counted as an
/// authentication failure: the second one ends the session.
#[test]
fn replay_with_wrong_credentials_is_an_auth_failure() {
    let mut c = case(
        Some((AuthType::Md5, "wrong", b"n0")),
        None,
        state(b"n0", b""),
    );
    let mut tree = device();
    let p1 = c.client.start(&mut tree);
    let bytes = codec::encode(&p1, Encoding::Xml).unwrap();
    let first = c.server.handle(&Received {
        bytes: &bytes,
        hmac_header: None,
        msg: &p1,
    });
    assert_eq!(
        hdr_status(first.reply.as_ref().unwrap()).code,
        StatusCode::InvalidCredentials
    );
    let mut other = p1.clone();
    other
        .hdr
        .meta
        .get_or_insert_with(Default::default)
        .max_msg_size = Some(9_999);
    let other_bytes = codec::encode(&other, Encoding::Xml).unwrap();
    let out = c.server.handle(&Received {
        bytes: &other_bytes,
        hmac_header: None,
        msg: &other,
    });
    let reply = out.reply.unwrap();
    assert_eq!(hdr_status(&reply).code, StatusCode::InvalidCredentials);
    assert!(
        hdr_status(&reply).chal.is_some(),
        "facts §6.2: 401 carries a Chal"
    );
    assert!(out.deviations.iter().any(|d| d.contains("replay")));
    assert_eq!(out.ended.as_deref(), Some("authentication failed"));
}

/// An HTTP retry after a lost response, for a device without credentials: every message of
/// the session is delivered twice; each retry gets the same reply, changes nothing, and the
/// session completes with the job Done (before the fix: 401 without Chal, session ended).
#[rstest]
#[case::xml(Encoding::Xml)]
#[case::wbxml(Encoding::Wbxml)]
fn http_retries_get_the_same_reply(#[case] encoding: Encoding) {
    let mut tree = device();
    let mut client = Session::new(client_config());
    let mut server = ServerSession::new(
        setup(
            registered(),
            DeviceState::default(),
            vec![job(1, vec![get(&["./DevInfo/Man"])])],
        ),
        Arc::new(ManualClock::at(T0)),
    )
    .unwrap();
    let mut tweaks = Tweaks {
        twice: (0..40).collect(),
        ..Tweaks::default()
    };
    let run = run_tweaked(
        &mut tree,
        &mut client,
        &mut server,
        encoding,
        &mut NoHooks,
        &mut tweaks,
    );
    assert_eq!(run.client_end, Some(EndReason::Completed));
    assert_eq!(run.server_end.as_deref(), Some("completed"));
    assert_eq!(run.job_state(1), Some(JobState::Done));
    assert_eq!(run.job_statuses(1), vec![("1".to_owned(), 200)]);
    assert!(tweaks.repeated_outputs.len() >= 2);
    for o in &tweaks.repeated_outputs {
        assert!(o.jobs.is_empty() && o.alerts.is_empty(), "{:?}", o.jobs);
        assert_eq!(o.deviations.len(), 1, "{:?}", o.deviations);
        assert!(o.deviations[0].contains("retransmission"));
    }
}
