//! Unit tests of the sans-IO parts: verification, resync, repeats and settings.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use dm_protocol::pkg0::{
    Initiator, Notification, Pkg0Error, ResyncNonce, UiMode, RESYNC_NONCE_TEXT,
    RESYNC_NONCE_ZERO_BYTES, VERSION_11, VERSION_12,
};

use super::*;

const SERVER: &str = "dms.example.com";
const PASSWORD: &str = "srv-secret";
const NONCE: &[u8] = b"stored-nonce-1";

fn peer() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 7], 4000))
}

fn notification(session_id: u16) -> Notification {
    Notification {
        digest: [0; 16],
        version: VERSION_11,
        ui_mode: UiMode::Informative,
        initiator: Initiator::Server,
        session_id,
        server_id: SERVER.to_owned(),
        vendor: Vec::new(),
    }
}

fn accounts() -> Arc<dyn AccountLookup> {
    let mut map = HashMap::new();
    map.insert(
        SERVER.to_owned(),
        ServerCredentials::new(SERVER, PASSWORD, NONCE),
    );
    Arc::new(map)
}

fn verifier(window: u64) -> Verifier {
    Verifier::new(
        accounts(),
        NotificationConfig::default().decode_options(),
        vec![ResyncNonce::AsciiText, ResyncNonce::ZeroBytes],
        window,
    )
}

fn built(n: &Notification, nonce: &[u8]) -> Vec<u8> {
    n.build(PASSWORD, nonce).expect("encodable notification")
}

#[test]
fn facts_example_trigger_is_what_the_listener_decodes() {
    // facts §7.3 COMPUTED example: version 11, ui-mode 2, initiator 1, session 0x1A2B.
    let n = notification(0x1A2B);
    let expected = [
        0x02, 0xE8, 0x00, 0x00, 0x00, 0x1A, 0x2B, 0x0F, b'd', b'm', b's', b'.', b'e', b'x', b'a',
        b'm', b'p', b'l', b'e', b'.', b'c', b'o', b'm',
    ];
    assert_eq!(n.trigger().expect("trigger"), expected);
    let v = verifier(60)
        .check(&built(&n, NONCE), Transport::Udp, peer(), 1000)
        .expect("valid notification");
    assert_eq!(v.server_id, SERVER);
    assert_eq!(v.session_id, "1A2B");
    assert_eq!(v.session_id_value, 0x1A2B);
    assert_eq!(v.ui_mode, UiMode::Informative);
    assert_eq!(v.initiator, Initiator::Server);
    assert_eq!(v.version, VERSION_11);
    assert!(!v.resync);
    assert_eq!(v.resync_nonce, None);
    assert_eq!(v.transport, Transport::Udp);
    assert_eq!(v.peer, peer());
    assert_eq!(v.received_at, 1000);
}

#[test]
fn session_id_text_has_no_leading_zeros() {
    // facts §7.3: 0x00AB → `AB`.
    let v = verifier(60)
        .check(
            &built(&notification(0x00AB), NONCE),
            Transport::Tcp,
            peer(),
            0,
        )
        .expect("valid");
    assert_eq!(v.session_id, "AB");
    let v = verifier(60)
        .check(&built(&notification(1), NONCE), Transport::Tcp, peer(), 0)
        .expect("valid");
    assert_eq!(v.session_id, "1");
}

#[test]
fn vendor_bytes_and_background_mode_are_carried() {
    let mut n = notification(7);
    n.ui_mode = UiMode::Background;
    n.initiator = Initiator::Client;
    n.vendor = vec![1, 2, 3];
    let v = verifier(60)
        .check(&built(&n, NONCE), Transport::Http, peer(), 0)
        .expect("valid");
    assert_eq!(v.ui_mode, UiMode::Background);
    assert_eq!(v.initiator, Initiator::Client);
    assert_eq!(v.vendor, vec![1, 2, 3]);
}

#[test]
fn unknown_server_is_rejected_by_name() {
    let mut n = notification(5);
    n.server_id = "other.example".to_owned();
    let err = verifier(60)
        .check(&built(&n, NONCE), Transport::Udp, peer(), 0)
        .expect_err("no such account");
    assert_eq!(
        err,
        RejectReason::UnknownServer {
            server_id: "other.example".to_owned()
        }
    );
    assert_eq!(err.kind(), "unknown_server");
}

#[test]
fn wrong_password_or_stale_nonce_is_a_bad_digest() {
    let n = notification(5);
    let wrong = n.build("not-the-secret", NONCE).expect("encodable");
    let err = verifier(60)
        .check(&wrong, Transport::Udp, peer(), 0)
        .expect_err("wrong password");
    assert_eq!(err.kind(), "bad_digest");
    let stale = built(&n, b"older-nonce");
    let err = verifier(60)
        .check(&stale, Transport::Udp, peer(), 0)
        .expect_err("stale nonce");
    assert_eq!(
        err,
        RejectReason::BadDigest {
            server_id: SERVER.to_owned()
        }
    );
}

#[test]
fn flipped_trigger_byte_breaks_the_digest() {
    let mut bytes = built(&notification(5), NONCE);
    // Change the session id (byte 22): still well-formed, but not what was signed.
    bytes[22] ^= 0x01;
    let err = verifier(60)
        .check(&bytes, Transport::Udp, peer(), 0)
        .expect_err("tampered");
    assert_eq!(err.kind(), "bad_digest");
}

#[test]
fn resync_nonce_text_is_accepted_with_the_resync_flag() {
    // facts §7.2: retry with `0x00000000`; success means nonce-resync.
    let v = verifier(60)
        .check(
            &built(&notification(9), RESYNC_NONCE_TEXT),
            Transport::Udp,
            peer(),
            0,
        )
        .expect("resync accepted");
    assert!(v.resync);
    assert_eq!(v.resync_nonce, Some(ResyncNonce::AsciiText));
}

#[test]
fn resync_zero_bytes_reading_is_tried_after_the_text() {
    let v = verifier(60)
        .check(
            &built(&notification(9), RESYNC_NONCE_ZERO_BYTES),
            Transport::Udp,
            peer(),
            0,
        )
        .expect("resync accepted");
    assert_eq!(v.resync_nonce, Some(ResyncNonce::ZeroBytes));
}

#[test]
fn resync_disabled_rejects_the_resync_nonce() {
    let mut v = Verifier::new(
        accounts(),
        NotificationConfig::default().decode_options(),
        Vec::new(),
        60,
    );
    let err = v
        .check(
            &built(&notification(9), RESYNC_NONCE_TEXT),
            Transport::Udp,
            peer(),
            0,
        )
        .expect_err("no fallback configured");
    assert_eq!(err.kind(), "bad_digest");
}

#[test]
fn aauthname_can_be_the_name_before_the_colon() {
    // IMPL (facts §7.2): libdmclient hashes the SRVCRED AAuthName instead of the ServerID.
    let lookup =
        |id: &str| (id == SERVER).then(|| ServerCredentials::new("srv-auth-name", PASSWORD, NONCE));
    let n = notification(3);
    let trigger = n.trigger().expect("trigger");
    let digest = dm_protocol::pkg0::compute_digest("srv-auth-name", PASSWORD, NONCE, &trigger);
    let bytes = [digest.as_slice(), &trigger].concat();
    let mut v = Verifier::new(Arc::new(lookup), Default::default(), Vec::new(), 60);
    assert!(v.check(&bytes, Transport::Udp, peer(), 0).is_ok());
    // Built with the ServerID instead, it no longer matches.
    let err = v
        .check(&built(&n, NONCE), Transport::Udp, peer(), 0)
        .expect_err("other name");
    assert_eq!(err.kind(), "bad_digest");
}

#[test]
fn version_12_needs_the_tolerant_setting() {
    let mut n = notification(4);
    n.version = VERSION_12;
    let bytes = built(&n, NONCE);
    let err = verifier(60)
        .check(&bytes, Transport::Udp, peer(), 0)
        .expect_err("strict");
    assert_eq!(
        err,
        RejectReason::UnsupportedVersion {
            version: 12,
            accepted: vec![11]
        }
    );
    let config = NotificationConfig {
        accepted_versions: vec![VERSION_11, VERSION_12],
        ..NotificationConfig::default()
    };
    let mut tolerant = Verifier::new(accounts(), config.decode_options(), Vec::new(), 60);
    let v = tolerant
        .check(&bytes, Transport::Udp, peer(), 0)
        .expect("tolerant");
    assert_eq!(v.version, 12);
}

#[test]
fn malformed_bytes_name_the_structural_error() {
    let mut v = verifier(60);
    let full = built(&notification(4), NONCE);
    let err = v
        .check(&full[..10], Transport::Udp, peer(), 0)
        .expect_err("too short");
    assert_eq!(
        err,
        RejectReason::Malformed(Pkg0Error::TooShort {
            needed: 24,
            got: 10
        })
    );
    // Cut inside the ServerID: the length byte promises 15 bytes.
    let err = v
        .check(&full[..30], Transport::Udp, peer(), 0)
        .expect_err("cut server id");
    assert_eq!(
        err,
        RejectReason::Malformed(Pkg0Error::ServerIdPastEnd {
            len: 15,
            needed: 39,
            got: 30
        })
    );
    let err = v.check(&[], Transport::Udp, peer(), 0).expect_err("empty");
    assert_eq!(err.kind(), "malformed");
    let mut zero = notification(1);
    zero.session_id = 0;
    let err = v
        .check(&built(&zero, NONCE), Transport::Udp, peer(), 0)
        .expect_err("session 0");
    assert_eq!(err, RejectReason::Malformed(Pkg0Error::SessionIdZero));
}

#[test]
fn repeat_within_window_is_dropped_and_later_accepted() {
    let mut v = verifier(60);
    let bytes = built(&notification(0x42), NONCE);
    assert!(v.check(&bytes, Transport::Udp, peer(), 100).is_ok());
    let err = v
        .check(&bytes, Transport::Http, peer(), 130)
        .expect_err("repeat");
    assert_eq!(
        err,
        RejectReason::Duplicate {
            server_id: SERVER.to_owned(),
            session_id: "42".to_owned(),
            age_secs: 30,
            window_secs: 60
        }
    );
    // Another session id is a new notification.
    assert!(v
        .check(
            &built(&notification(0x43), NONCE),
            Transport::Udp,
            peer(),
            130
        )
        .is_ok());
    assert!(v.check(&bytes, Transport::Udp, peer(), 160).is_ok());
}

#[test]
fn rejected_notifications_do_not_enter_the_repeat_table() {
    let mut v = verifier(60);
    let bad = notification(8).build("wrong", NONCE).expect("encodable");
    assert!(v.check(&bad, Transport::Udp, peer(), 0).is_err());
    // The genuine one with the same session id still gets through.
    assert!(v
        .check(&built(&notification(8), NONCE), Transport::Udp, peer(), 0)
        .is_ok());
}

#[test]
fn forget_lets_an_undelivered_notification_through_again() {
    let mut v = verifier(60);
    let bytes = built(&notification(0x42), NONCE);
    let n = v.check(&bytes, Transport::Udp, peer(), 0).expect("valid");
    v.forget(&n);
    assert!(v.check(&bytes, Transport::Udp, peer(), 1).is_ok());
}

#[test]
fn profile_table_parses_with_defaults() {
    let text = r#"
        dedupe_window_secs = 30
        [udp]
        bind = "127.0.0.1:0"
        [tcp]
        bind = "0.0.0.0:2949"
        read_timeout_ms = 250
        [http]
        bind = "[::1]:8080"
        max_bytes = 512
    "#;
    let c: NotificationConfig = toml::from_str(text).expect("valid table");
    assert_eq!(c.dedupe_window_secs, 30);
    assert_eq!(c.accepted_versions, vec![11]);
    assert_eq!(
        c.resync,
        vec![ResyncReading::AsciiText, ResyncReading::ZeroBytes]
    );
    assert_eq!(c.udp.as_ref().map(|u| u.max_bytes), Some(DEFAULT_MAX_BYTES));
    let tcp = c.tcp.as_ref().expect("tcp");
    assert_eq!(tcp.read_timeout_ms, 250);
    assert_eq!(tcp.max_connections, 32);
    assert_eq!(c.http.as_ref().map(|h| h.max_bytes), Some(512));
    assert!(c.validate().is_ok());
    // Round trip through the serializer.
    let again: NotificationConfig =
        toml::from_str(&toml::to_string(&c).expect("serializable")).expect("parses");
    assert_eq!(again, c);
    let empty: NotificationConfig = toml::from_str("").expect("all defaults");
    assert_eq!(empty, NotificationConfig::default());
    assert_eq!(empty.dedupe_window_secs, DEFAULT_DEDUPE_WINDOW_SECS);
}

#[test]
fn profile_table_refuses_unknown_fields_and_bad_values() {
    let typo = toml::from_str::<NotificationConfig>("[udp]\nbind = \"127.0.0.1:0\"\nport = 1\n");
    assert!(typo.is_err());
    let top = toml::from_str::<NotificationConfig>("dedupe = 3\n");
    assert!(top.is_err());
    let reading = toml::from_str::<NotificationConfig>("resync = [\"zeros\"]\n");
    assert!(reading.is_err());
    let address = toml::from_str::<NotificationConfig>("[http]\nbind = \"localhost\"\n");
    assert!(address.is_err());

    let field_of = |c: NotificationConfig| match c.validate() {
        Err(ListenerError::InvalidConfig { field, .. }) => field,
        other => panic!("expected InvalidConfig, got {other:?}"),
    };
    let bind: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
    assert_eq!(
        field_of(NotificationConfig {
            accepted_versions: vec![],
            ..Default::default()
        }),
        "accepted_versions"
    );
    assert_eq!(
        field_of(NotificationConfig {
            queue_capacity: 0,
            ..Default::default()
        }),
        "queue_capacity"
    );
    assert_eq!(
        field_of(NotificationConfig {
            udp: Some(UdpConfig {
                bind,
                max_bytes: 24
            }),
            ..Default::default()
        }),
        "udp.max_bytes"
    );
    assert_eq!(
        field_of(NotificationConfig {
            tcp: Some(TcpConfig {
                bind,
                max_bytes: 70_000,
                read_timeout_ms: 10,
                max_connections: 1
            }),
            ..Default::default()
        }),
        "tcp.max_bytes"
    );
    assert_eq!(
        field_of(NotificationConfig {
            http: Some(HttpConfig {
                bind,
                max_bytes: 100,
                read_timeout_ms: 0,
                max_connections: 1
            }),
            ..Default::default()
        }),
        "http.read_timeout_ms"
    );
    assert_eq!(
        field_of(NotificationConfig {
            tcp: Some(TcpConfig {
                bind,
                max_bytes: 100,
                read_timeout_ms: u64::MAX,
                max_connections: 1
            }),
            ..Default::default()
        }),
        "tcp.read_timeout_ms"
    );
}
