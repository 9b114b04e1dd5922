//! Shared helpers for the listener tests: one account, notifications built with
//! `dm_protocol::pkg0`, listeners on 127.0.0.1:0 and bounded waits on the output queues.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dm_client::listener::{
    self, AccountLookup, Listeners, NotificationConfig, Notifications, RejectedNotification,
    ServerCredentials, VerifiedNotification,
};
use dm_protocol::pkg0::{Initiator, Notification, UiMode, VERSION_11};
use dm_tree::ManualClock;

pub const SERVER: &str = "dms.example.com";
pub const PASSWORD: &str = "srv-secret";
pub const NONCE: &[u8] = b"server-nonce-A";
pub const START: u64 = 1_700_000_000;
pub const WINDOW: u64 = 60;

pub fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

pub fn accounts() -> Arc<dyn AccountLookup> {
    let mut map = HashMap::new();
    map.insert(
        SERVER.to_owned(),
        ServerCredentials::new(SERVER, PASSWORD, NONCE),
    );
    Arc::new(map)
}

pub fn notification(session_id: u16, ui_mode: UiMode) -> Notification {
    Notification {
        digest: [0; 16],
        version: VERSION_11,
        ui_mode,
        initiator: Initiator::Server,
        session_id,
        server_id: SERVER.to_owned(),
        vendor: Vec::new(),
    }
}

/// A correctly signed package #0 (facts §7.2).
pub fn signed(session_id: u16, ui_mode: UiMode) -> Vec<u8> {
    notification(session_id, ui_mode)
        .build(PASSWORD, NONCE)
        .expect("encodable")
}

/// Signed with the wrong password.
pub fn badly_signed(session_id: u16) -> Vec<u8> {
    notification(session_id, UiMode::Background)
        .build("wrong-secret", NONCE)
        .expect("encodable")
}

/// From a server the device has no account for.
pub fn from_stranger(session_id: u16) -> Vec<u8> {
    let mut n = notification(session_id, UiMode::Background);
    n.server_id = "rogue.example".to_owned();
    n.build(PASSWORD, NONCE).expect("encodable")
}

/// Signed with the resync nonce text `0x00000000` (facts §7.2).
pub fn resync_signed(session_id: u16) -> Vec<u8> {
    notification(session_id, UiMode::UserInteraction)
        .build(PASSWORD, dm_protocol::pkg0::RESYNC_NONCE_TEXT)
        .expect("encodable")
}

pub async fn start(config: NotificationConfig) -> (Listeners, Notifications, ManualClock) {
    let clock = ManualClock::at(START);
    let config = NotificationConfig {
        dedupe_window_secs: WINDOW,
        ..config
    };
    let (l, n) = listener::start(&config, accounts(), Arc::new(clock.clone()))
        .await
        .expect("listeners start");
    (l, n, clock)
}

const WAIT: Duration = Duration::from_secs(5);

pub async fn next_verified(n: &mut Notifications) -> VerifiedNotification {
    tokio::time::timeout(WAIT, n.verified.recv())
        .await
        .expect("a verified notification within 5 s")
        .expect("queue open")
}

pub async fn next_rejected(n: &mut Notifications) -> RejectedNotification {
    tokio::time::timeout(WAIT, n.rejected.recv())
        .await
        .expect("a rejection within 5 s")
        .expect("queue open")
}

/// Nothing verified arrives within a short while.
pub async fn no_verified(n: &mut Notifications) {
    let got = tokio::time::timeout(Duration::from_millis(200), n.verified.recv()).await;
    assert!(got.is_err(), "unexpected verified notification: {got:?}");
}
