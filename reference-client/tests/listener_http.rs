//! HTTP package #0 listener over real sockets: POST with
//! `application/vnd.syncml.notification`, answers 202 / 400 / 405 / 413 / 415 / 408.
//! Requests are written by hand so malformed and slow ones can be sent.

mod listener_common;

use std::time::Duration;

use dm_client::listener::{
    HttpConfig, Listeners, NotificationConfig, Notifications, RejectReason, Transport,
    NOTIFICATION_MIME,
};
use dm_protocol::pkg0::{ResyncNonce, UiMode};
use listener_common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT_MS: u64 = 300;
const MAX_BYTES: usize = 200;

async fn setup() -> (Listeners, Notifications, dm_tree::ManualClock) {
    let config = NotificationConfig {
        http: Some(HttpConfig {
            bind: loopback(),
            max_bytes: MAX_BYTES,
            read_timeout_ms: TIMEOUT_MS,
            max_connections: 8,
        }),
        ..NotificationConfig::default()
    };
    start(config).await
}

/// A parsed answer: status, headers (lower-case names) and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Send raw request bytes and read the answer until the listener closes.
async fn exchange(l: &Listeners, request: &[u8]) -> Answer {
    let mut s = TcpStream::connect(l.http_addr().expect("http bound"))
        .await
        .expect("connect");
    s.write_all(request).await.expect("write");
    read_answer(&mut s).await
}

async fn read_answer(s: &mut TcpStream) -> Answer {
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut raw))
        .await
        .expect("answer within 5 s")
        .expect("read");
    let text = String::from_utf8(raw).expect("text answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn post(content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST /notify HTTP/1.1\r\nHost: device\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn post_notification(body: &[u8]) -> Vec<u8> {
    post(NOTIFICATION_MIME, body)
}

#[tokio::test]
async fn valid_notification_gets_202_and_arrives_with_its_fields() {
    let (l, mut n, _clock) = setup().await;
    assert_ne!(l.http_addr().expect("bound").port(), 0);
    let a = exchange(
        &l,
        &post_notification(&signed(0x0100, UiMode::NotSpecified)),
    )
    .await;
    assert_eq!(a.status, 202, "{a:?}");
    assert_eq!(a.body, "accepted\n");
    let v = next_verified(&mut n).await;
    assert_eq!(v.session_id, "100");
    assert_eq!(v.ui_mode, UiMode::NotSpecified);
    assert_eq!(v.transport, Transport::Http);
    assert_eq!(v.server_id, SERVER);
    assert!(!v.resync);
}

#[tokio::test]
async fn content_type_parameters_and_case_are_tolerated() {
    let (l, mut n, _clock) = setup().await;
    let a = exchange(
        &l,
        &post(
            "Application/Vnd.SyncML.Notification; charset=binary",
            &signed(4, UiMode::Background),
        ),
    )
    .await;
    assert_eq!(a.status, 202, "{a:?}");
    assert_eq!(next_verified(&mut n).await.session_id, "4");
}

#[tokio::test]
async fn bad_digest_and_unknown_server_get_400_with_a_one_line_reason() {
    let (l, mut n, _clock) = setup().await;
    let a = exchange(&l, &post_notification(&badly_signed(1))).await;
    assert_eq!(a.status, 400);
    assert!(a.body.starts_with("digest mismatch"), "{a:?}");
    assert_eq!(a.body.lines().count(), 1);
    assert_eq!(next_rejected(&mut n).await.reason.kind(), "bad_digest");

    let a = exchange(&l, &post_notification(&from_stranger(2))).await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("rogue.example"), "{a:?}");
    let r = next_rejected(&mut n).await;
    assert_eq!(r.transport, Transport::Http);
    assert_eq!(
        r.reason,
        RejectReason::UnknownServer {
            server_id: "rogue.example".to_owned()
        }
    );
    no_verified(&mut n).await;
}

#[tokio::test]
async fn resync_nonce_gets_202_with_the_resync_flag() {
    let (l, mut n, _clock) = setup().await;
    let a = exchange(&l, &post_notification(&resync_signed(0xABCD))).await;
    assert_eq!(a.status, 202);
    let v = next_verified(&mut n).await;
    assert!(v.resync);
    assert_eq!(v.resync_nonce, Some(ResyncNonce::AsciiText));
    assert_eq!(v.session_id, "ABCD");
}

#[tokio::test]
async fn malformed_body_gets_400_and_the_listener_keeps_serving() {
    let (l, mut n, _clock) = setup().await;
    let good = signed(8, UiMode::Background);
    let a = exchange(&l, &post_notification(&good[..good.len() - 1])).await;
    assert_eq!(a.status, 400);
    assert!(a.body.starts_with("malformed package #0"), "{a:?}");
    assert_eq!(next_rejected(&mut n).await.reason.kind(), "malformed");
    let a = exchange(&l, &post_notification(b"")).await;
    assert_eq!(a.status, 400);
    assert_eq!(next_rejected(&mut n).await.reason.kind(), "malformed");
    let a = exchange(&l, &post_notification(&good)).await;
    assert_eq!(a.status, 202);
    assert_eq!(next_verified(&mut n).await.session_id, "8");
}

#[tokio::test]
async fn other_content_type_gets_415() {
    let (l, mut n, _clock) = setup().await;
    let a = exchange(
        &l,
        &post(
            "application/vnd.syncml.dm+wbxml",
            &signed(1, UiMode::Background),
        ),
    )
    .await;
    assert_eq!(a.status, 415);
    assert_eq!(
        next_rejected(&mut n).await.reason,
        RejectReason::WrongContentType {
            content_type: "application/vnd.syncml.dm+wbxml".to_owned()
        }
    );
    // No Content-Type at all.
    let a = exchange(
        &l,
        b"POST / HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    assert_eq!(a.status, 415);
    no_verified(&mut n).await;
}

#[tokio::test]
async fn methods_other_than_post_get_405_with_allow() {
    let (l, mut n, _clock) = setup().await;
    for method in ["GET", "PUT", "DELETE"] {
        let a = exchange(
            &l,
            format!("{method} /notify HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n").as_bytes(),
        )
        .await;
        assert_eq!(a.status, 405, "{method}");
        assert_eq!(a.header("allow"), Some("POST"));
        assert_eq!(
            next_rejected(&mut n).await.reason,
            RejectReason::MethodNotAllowed {
                method: method.to_owned()
            }
        );
    }
}

#[tokio::test]
async fn oversize_body_gets_413_whether_announced_or_chunked() {
    let (l, mut n, _clock) = setup().await;
    let big = vec![0x55u8; MAX_BYTES + 1];
    let a = exchange(&l, &post_notification(&big)).await;
    assert_eq!(a.status, 413);
    assert_eq!(
        next_rejected(&mut n).await.reason,
        RejectReason::Oversize {
            size: MAX_BYTES + 1,
            limit: MAX_BYTES
        }
    );
    // Chunked: no Content-Length, the limit applies while reading.
    let mut chunked = format!(
        "POST / HTTP/1.1\r\nHost: d\r\nContent-Type: {NOTIFICATION_MIME}\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..3 {
        chunked.extend_from_slice(b"64\r\n");
        chunked.extend_from_slice(&[0x55; 100]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let a = exchange(&l, &chunked).await;
    assert_eq!(a.status, 413);
    assert_eq!(next_rejected(&mut n).await.reason.kind(), "oversize");
    no_verified(&mut n).await;
}

#[tokio::test]
async fn slow_body_gets_408() {
    let (l, mut n, _clock) = setup().await;
    let request = post_notification(&signed(3, UiMode::Background));
    let mut s = TcpStream::connect(l.http_addr().expect("bound"))
        .await
        .expect("connect");
    // The head and part of the body, then nothing.
    s.write_all(&request[..request.len() - 5])
        .await
        .expect("write");
    let a = read_answer(&mut s).await;
    assert_eq!(a.status, 408);
    assert_eq!(
        next_rejected(&mut n).await.reason,
        RejectReason::Timeout {
            timeout_ms: TIMEOUT_MS,
            got: 0
        }
    );
    no_verified(&mut n).await;
}

#[tokio::test]
async fn stalled_request_head_is_cut_off() {
    let (l, mut n, _clock) = setup().await;
    let mut s = TcpStream::connect(l.http_addr().expect("bound"))
        .await
        .expect("connect");
    s.write_all(b"POST / HTTP/1.1\r\nHost: d\r\n")
        .await
        .expect("write");
    let mut raw = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut raw)).await;
    assert!(read.is_ok(), "the listener closes a stalled connection");
    assert_eq!(next_rejected(&mut n).await.reason.kind(), "timeout");
}

#[tokio::test]
async fn duplicate_gets_202_but_is_dropped() {
    let (l, mut n, clock) = setup().await;
    let body = signed(0x5A5A, UiMode::Informative);
    assert_eq!(exchange(&l, &post_notification(&body)).await.status, 202);
    assert_eq!(next_verified(&mut n).await.session_id, "5A5A");
    clock.advance(WINDOW / 2);
    let a = exchange(&l, &post_notification(&body)).await;
    assert_eq!(a.status, 202);
    assert!(a.body.starts_with("repeat of the notification"), "{a:?}");
    assert_eq!(next_rejected(&mut n).await.reason.kind(), "duplicate");
    no_verified(&mut n).await;
}
