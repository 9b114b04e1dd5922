//! UDP package #0 listener over a real socket: one datagram = one notification.

mod listener_common;

use dm_client::listener::{NotificationConfig, RejectReason, Transport, UdpConfig};
use dm_protocol::pkg0::{Initiator, Pkg0Error, ResyncNonce, UiMode};
use listener_common::*;
use tokio::net::UdpSocket;

async fn setup() -> (
    dm_client::listener::Listeners,
    dm_client::listener::Notifications,
    dm_tree::ManualClock,
    UdpSocket,
) {
    let config = NotificationConfig {
        udp: Some(UdpConfig {
            bind: loopback(),
            max_bytes: 200,
        }),
        ..NotificationConfig::default()
    };
    let (l, n, clock) = start(config).await;
    let addr = l.udp_addr().expect("udp bound");
    assert_ne!(addr.port(), 0, "the real port is exposed");
    assert!(l.tcp_addr().is_none() && l.http_addr().is_none());
    let socket = UdpSocket::bind(loopback()).await.expect("client socket");
    socket.connect(addr).await.expect("connect");
    (l, n, clock, socket)
}

#[tokio::test]
async fn valid_notification_arrives_with_its_fields() {
    let (_l, mut n, _clock, socket) = setup().await;
    socket
        .send(&signed(0x00AB, UiMode::Informative))
        .await
        .expect("send");
    let v = next_verified(&mut n).await;
    assert_eq!(v.server_id, SERVER);
    assert_eq!(v.session_id, "AB"); // facts §7.3: no leading zeros, uppercase
    assert_eq!(v.ui_mode, UiMode::Informative);
    assert_eq!(v.initiator, Initiator::Server);
    assert!(!v.resync);
    assert_eq!(v.transport, Transport::Udp);
    assert_eq!(v.peer, socket.local_addr().expect("addr"));
    assert_eq!(v.received_at, START);
}

#[tokio::test]
async fn bad_digest_and_unknown_server_are_rejected_and_listener_keeps_serving() {
    let (_l, mut n, _clock, socket) = setup().await;
    socket.send(&badly_signed(1)).await.expect("send");
    let r = next_rejected(&mut n).await;
    assert_eq!(r.transport, Transport::Udp);
    assert_eq!(
        r.reason,
        RejectReason::BadDigest {
            server_id: SERVER.to_owned()
        }
    );
    socket.send(&from_stranger(2)).await.expect("send");
    let r = next_rejected(&mut n).await;
    assert_eq!(
        r.reason,
        RejectReason::UnknownServer {
            server_id: "rogue.example".to_owned()
        }
    );
    no_verified(&mut n).await;
    socket
        .send(&signed(3, UiMode::Background))
        .await
        .expect("send");
    assert_eq!(next_verified(&mut n).await.session_id, "3");
}

#[tokio::test]
async fn resync_nonce_is_accepted_with_the_resync_flag() {
    let (_l, mut n, _clock, socket) = setup().await;
    socket.send(&resync_signed(0x1234)).await.expect("send");
    let v = next_verified(&mut n).await;
    assert!(v.resync, "facts §7.2: the session must use nonce-resync");
    assert_eq!(v.resync_nonce, Some(ResyncNonce::AsciiText));
    assert_eq!(v.ui_mode, UiMode::UserInteraction);
    assert_eq!(v.session_id, "1234");
}

#[tokio::test]
async fn malformed_and_truncated_datagrams_are_rejected_with_the_reason() {
    let (_l, mut n, _clock, socket) = setup().await;
    let full = signed(9, UiMode::Background);
    socket.send(&full[..20]).await.expect("send");
    assert_eq!(
        next_rejected(&mut n).await.reason,
        RejectReason::Malformed(Pkg0Error::TooShort {
            needed: 24,
            got: 20
        })
    );
    socket.send(&full[..full.len() - 3]).await.expect("send");
    assert_eq!(
        next_rejected(&mut n).await.reason,
        RejectReason::Malformed(Pkg0Error::ServerIdPastEnd {
            len: SERVER.len(),
            needed: 24 + SERVER.len(),
            got: full.len() - 3
        })
    );
    let mut future_bits = full.clone();
    future_bits[19] = 0x80;
    socket.send(&future_bits).await.expect("send");
    assert_eq!(next_rejected(&mut n).await.reason.kind(), "malformed");
    let mut v12 = notification(9, UiMode::Background);
    v12.version = 12;
    socket
        .send(&v12.build(PASSWORD, NONCE).expect("encodable"))
        .await
        .expect("send");
    assert_eq!(
        next_rejected(&mut n).await.reason,
        RejectReason::UnsupportedVersion {
            version: 12,
            accepted: vec![11]
        }
    );
    socket.send(&[0xFF; 300]).await.expect("send");
    assert_eq!(
        next_rejected(&mut n).await.reason,
        RejectReason::Oversize {
            size: 300,
            limit: 200
        }
    );
    // Still serving.
    socket.send(&full).await.expect("send");
    assert_eq!(next_verified(&mut n).await.session_id, "9");
}

#[tokio::test]
async fn duplicate_is_dropped_until_the_window_passes() {
    let (_l, mut n, clock, socket) = setup().await;
    let bytes = signed(0x77, UiMode::Background);
    socket.send(&bytes).await.expect("send");
    next_verified(&mut n).await;
    clock.advance(WINDOW - 1);
    socket.send(&bytes).await.expect("send");
    let r = next_rejected(&mut n).await;
    assert_eq!(
        r.reason,
        RejectReason::Duplicate {
            server_id: SERVER.to_owned(),
            session_id: "77".to_owned(),
            age_secs: WINDOW - 1,
            window_secs: WINDOW
        }
    );
    no_verified(&mut n).await;
    clock.advance(1);
    socket.send(&bytes).await.expect("send");
    let v = next_verified(&mut n).await;
    assert_eq!(v.received_at, START + WINDOW);
}

#[tokio::test]
async fn closure_lookup_sees_a_new_server_nonce_at_once() {
    use std::sync::{Arc, Mutex};

    use dm_client::listener::ServerCredentials;

    let nonce = Arc::new(Mutex::new(b"first".to_vec()));
    let current = Arc::clone(&nonce);
    let lookup = move |id: &str| {
        let nonce = current.lock().expect("lock").clone();
        (id == SERVER).then(|| ServerCredentials::new(SERVER, PASSWORD, nonce))
    };
    let config = NotificationConfig {
        udp: Some(UdpConfig {
            bind: loopback(),
            max_bytes: 200,
        }),
        resync: Vec::new(),
        ..NotificationConfig::default()
    };
    let clock = Arc::new(dm_tree::ManualClock::at(START));
    let (l, mut n) = dm_client::listener::start(&config, Arc::new(lookup), clock)
        .await
        .expect("start");
    let socket = UdpSocket::bind(loopback()).await.expect("socket");
    let to = l.udp_addr().expect("bound");
    let build = |id: u16, nonce: &[u8]| {
        notification(id, UiMode::Background)
            .build(PASSWORD, nonce)
            .expect("encodable")
    };
    socket.send_to(&build(1, b"first"), to).await.expect("send");
    assert_eq!(next_verified(&mut n).await.session_id, "1");
    // A session stored a new server nonce: the old one no longer verifies.
    *nonce.lock().expect("lock") = b"second".to_vec();
    socket.send_to(&build(2, b"first"), to).await.expect("send");
    assert_eq!(next_rejected(&mut n).await.reason.kind(), "bad_digest");
    socket
        .send_to(&build(3, b"second"), to)
        .await
        .expect("send");
    assert_eq!(next_verified(&mut n).await.session_id, "3");
}
