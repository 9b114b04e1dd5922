//! TCP package #0 listener over real sockets: 2-byte big-endian length-prefixed frames
//! (project-defined framing), slow and oversized peers bounded.

mod listener_common;

use std::time::{Duration, Instant};

use dm_client::listener::{
    Listeners, NotificationConfig, Notifications, RejectReason, TcpConfig, Transport,
};
use dm_protocol::pkg0::{Pkg0Error, ResyncNonce, UiMode};
use listener_common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT_MS: u64 = 300;

async fn setup(max_connections: usize) -> (Listeners, Notifications, dm_tree::ManualClock) {
    let config = NotificationConfig {
        tcp: Some(TcpConfig {
            bind: loopback(),
            max_bytes: 200,
            read_timeout_ms: TIMEOUT_MS,
            max_connections,
        }),
        ..NotificationConfig::default()
    };
    start(config).await
}

fn frame(body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(body.len()).expect("fits");
    [len.to_be_bytes().as_slice(), body].concat()
}

async fn connect(l: &Listeners) -> TcpStream {
    TcpStream::connect(l.tcp_addr().expect("tcp bound"))
        .await
        .expect("connect")
}

/// Wait until the listener closes the connection (read returns 0 or an error).
async fn closed_by_listener(s: &mut TcpStream) -> Duration {
    let begun = Instant::now();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("listener closes within 5 s");
    assert!(
        matches!(n, Ok(0) | Err(_)),
        "nothing is ever sent back: {n:?}"
    );
    begun.elapsed()
}

#[tokio::test]
async fn frames_on_one_connection_arrive_in_order_with_their_fields() {
    let (l, mut n, _clock) = setup(4).await;
    assert_ne!(l.tcp_addr().expect("bound").port(), 0);
    let mut s = connect(&l).await;
    let mut bytes = frame(&signed(0x0F01, UiMode::UserInteraction));
    bytes.extend(frame(&signed(2, UiMode::Background)));
    s.write_all(&bytes).await.expect("write");
    let first = next_verified(&mut n).await;
    assert_eq!(first.session_id, "F01");
    assert_eq!(first.ui_mode, UiMode::UserInteraction);
    assert_eq!(first.transport, Transport::Tcp);
    assert_eq!(first.peer, s.local_addr().expect("addr"));
    assert_eq!(first.server_id, SERVER);
    let second = next_verified(&mut n).await;
    assert_eq!(second.session_id, "2");
    assert_eq!(second.ui_mode, UiMode::Background);
    s.shutdown().await.expect("half-close");
    closed_by_listener(&mut s).await;
}

#[tokio::test]
async fn bad_digest_unknown_server_and_resync() {
    let (l, mut n, _clock) = setup(4).await;
    let mut s = connect(&l).await;
    let mut bytes = frame(&badly_signed(1));
    bytes.extend(frame(&from_stranger(2)));
    bytes.extend(frame(&resync_signed(3)));
    s.write_all(&bytes).await.expect("write");
    assert_eq!(next_rejected(&mut n).await.reason.kind(), "bad_digest");
    let r = next_rejected(&mut n).await;
    assert_eq!(r.transport, Transport::Tcp);
    assert_eq!(
        r.reason,
        RejectReason::UnknownServer {
            server_id: "rogue.example".to_owned()
        }
    );
    let v = next_verified(&mut n).await;
    assert!(v.resync);
    assert_eq!(v.resync_nonce, Some(ResyncNonce::AsciiText));
    assert_eq!(v.session_id, "3");
}

#[tokio::test]
async fn malformed_frame_is_rejected_and_the_connection_goes_on() {
    let (l, mut n, _clock) = setup(4).await;
    let mut s = connect(&l).await;
    let good = signed(5, UiMode::Background);
    let mut bytes = frame(&good[..23]);
    bytes.extend(frame(&good));
    s.write_all(&bytes).await.expect("write");
    assert_eq!(
        next_rejected(&mut n).await.reason,
        RejectReason::Malformed(Pkg0Error::TooShort {
            needed: 24,
            got: 23
        })
    );
    assert_eq!(next_verified(&mut n).await.session_id, "5");
}

#[tokio::test]
async fn truncated_frame_is_reported_when_the_peer_closes() {
    let (l, mut n, _clock) = setup(4).await;
    let good = signed(6, UiMode::Background);
    let mut s = connect(&l).await;
    let bytes = frame(&good);
    s.write_all(&bytes[..10]).await.expect("write");
    drop(s);
    assert_eq!(
        next_rejected(&mut n).await.reason,
        RejectReason::Truncated {
            expected: good.len() + 2,
            got: 10
        }
    );
    // A half length prefix.
    let mut s = connect(&l).await;
    s.write_all(&[0x00]).await.expect("write");
    drop(s);
    assert_eq!(
        next_rejected(&mut n).await.reason,
        RejectReason::Truncated {
            expected: 2,
            got: 1
        }
    );
    no_verified(&mut n).await;
    // The listener still serves new connections.
    let mut s = connect(&l).await;
    s.write_all(&bytes).await.expect("write");
    assert_eq!(next_verified(&mut n).await.session_id, "6");
}

#[tokio::test]
async fn slow_peer_is_cut_off_after_the_read_timeout() {
    let (l, mut n, _clock) = setup(4).await;
    let good = signed(7, UiMode::Background);
    let mut s = connect(&l).await;
    // Announce the frame, send part of it, then stall.
    s.write_all(&frame(&good)[..12]).await.expect("write");
    let waited = closed_by_listener(&mut s).await;
    assert!(
        waited < Duration::from_millis(TIMEOUT_MS * 5),
        "cut off after about {TIMEOUT_MS} ms, took {waited:?}"
    );
    assert_eq!(
        next_rejected(&mut n).await.reason,
        RejectReason::Timeout {
            timeout_ms: TIMEOUT_MS,
            got: 12
        }
    );
    // A peer that connects and never sends anything is bounded too.
    let mut s = connect(&l).await;
    closed_by_listener(&mut s).await;
    assert_eq!(
        next_rejected(&mut n).await.reason,
        RejectReason::Timeout {
            timeout_ms: TIMEOUT_MS,
            got: 0
        }
    );
}

#[tokio::test]
async fn oversized_or_empty_frames_end_the_connection() {
    let (l, mut n, _clock) = setup(4).await;
    let mut s = connect(&l).await;
    s.write_all(&60_000u16.to_be_bytes()).await.expect("write");
    closed_by_listener(&mut s).await;
    assert_eq!(
        next_rejected(&mut n).await.reason,
        RejectReason::Oversize {
            size: 60_000,
            limit: 200
        }
    );
    let mut s = connect(&l).await;
    s.write_all(&[0, 0]).await.expect("write");
    closed_by_listener(&mut s).await;
    assert_eq!(next_rejected(&mut n).await.reason, RejectReason::EmptyFrame);
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_at_once() {
    let (l, mut n, _clock) = setup(1).await;
    let mut busy = connect(&l).await;
    // Make sure the first connection holds its slot before the second arrives.
    busy.write_all(&frame(&signed(1, UiMode::Background)))
        .await
        .expect("write");
    next_verified(&mut n).await;
    let mut extra = connect(&l).await;
    let waited = closed_by_listener(&mut extra).await;
    assert!(
        waited < Duration::from_millis(TIMEOUT_MS),
        "closed at once: {waited:?}"
    );
    assert_eq!(
        next_rejected(&mut n).await.reason,
        RejectReason::TooManyConnections { limit: 1 }
    );
    // The first connection still works.
    busy.write_all(&frame(&signed(2, UiMode::Background)))
        .await
        .expect("write");
    assert_eq!(next_verified(&mut n).await.session_id, "2");
}

#[tokio::test]
async fn duplicate_frame_is_dropped() {
    let (l, mut n, clock) = setup(4).await;
    let bytes = frame(&signed(0xBEEF, UiMode::Background));
    let mut s = connect(&l).await;
    s.write_all(&bytes).await.expect("write");
    assert_eq!(next_verified(&mut n).await.session_id, "BEEF");
    clock.advance(10);
    s.write_all(&bytes).await.expect("write");
    let r = next_rejected(&mut n).await;
    assert_eq!(r.reason.kind(), "duplicate");
    no_verified(&mut n).await;
}

#[tokio::test]
async fn address_in_use_is_a_typed_bind_error() {
    let taken = std::net::TcpListener::bind(loopback()).expect("bind");
    let addr = taken.local_addr().expect("addr");
    let config = NotificationConfig {
        tcp: Some(TcpConfig {
            bind: addr,
            max_bytes: 200,
            read_timeout_ms: TIMEOUT_MS,
            max_connections: 1,
        }),
        ..NotificationConfig::default()
    };
    let clock = std::sync::Arc::new(dm_tree::ManualClock::at(START));
    let err = dm_client::listener::start(&config, accounts(), clock)
        .await
        .expect_err("address taken");
    assert_eq!(err.kind(), "bind");
    assert!(
        matches!(err, dm_client::listener::ListenerError::Bind { transport: Transport::Tcp, addr: a, .. } if a == addr),
        "{err:?}"
    );
    assert!(err.to_string().contains(&addr.to_string()));
}

#[tokio::test]
async fn invalid_settings_are_refused_before_binding() {
    let config = NotificationConfig {
        tcp: Some(TcpConfig {
            bind: loopback(),
            max_bytes: 10,
            read_timeout_ms: TIMEOUT_MS,
            max_connections: 1,
        }),
        ..NotificationConfig::default()
    };
    let clock = std::sync::Arc::new(dm_tree::ManualClock::at(START));
    let err = dm_client::listener::start(&config, accounts(), clock)
        .await
        .expect_err("max_bytes too small");
    assert_eq!(err.kind(), "invalid_config");
    assert!(err.to_string().contains("tcp.max_bytes"), "{err}");
}

#[tokio::test]
async fn shutdown_closes_the_listening_socket() {
    let (l, _n, _clock) = setup(4).await;
    let addr = l.tcp_addr().expect("bound");
    l.shutdown().await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "nothing listens any more"
    );
}
