#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The transport over real loopback sockets (issue "Transport"; facts §1.1 MIME types, §6.3
//! `x-syncml-hmac`, §6.4 TLS).
//!
//! The servers here are small hyper (or raw tokio) servers on `127.0.0.1:0`. Certificates are
//! generated per test with rcgen (ring) and written to a temporary folder; no key is
//! committed. Retries are checked by counting attempts (the error's `attempts` and the
//! connections the server accepted), never by wall time.

mod common;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::pki::{server_tls, Issued, Pki};
use dm_client::transport::{
    ClientCertificate, TimeoutPhase, Transport, TransportConfig, TransportError,
};
use dm_protocol::codec::Encoding;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::ExtendedKeyUsagePurpose;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const XML: &str = "application/vnd.syncml.dm+xml";
const WBXML: &str = "application/vnd.syncml.dm+wbxml";

// ---------------------------------------------------------------------------------------------
// Servers

/// An echo server: answers with the request's body and Content-Type, the status asked for in
/// `x-test-status` (200 if absent), and each request header `h` as `x-echo-h`, plus
/// `x-echo-method`, `x-echo-path` and `x-echo-version`.
struct Echo {
    url: String,
    connections: Arc<AtomicUsize>,
}

async fn echo(
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let status = parts
        .headers
        .get("x-test-status")
        .and_then(|v| v.to_str().ok()?.parse::<u16>().ok())
        .unwrap_or(200);
    let mut response = hyper::Response::builder()
        .status(status)
        .header("x-echo-method", parts.method.as_str())
        .header("x-echo-path", parts.uri.to_string())
        .header("x-echo-version", format!("{:?}", parts.version));
    for (name, value) in &parts.headers {
        response = response.header(format!("x-echo-{name}"), value);
    }
    if let Some(ct) = parts.headers.get(hyper::header::CONTENT_TYPE) {
        response = response.header(hyper::header::CONTENT_TYPE, ct);
    }
    Ok(response.body(Full::new(body)).unwrap())
}

async fn echo_server(tls: Option<TlsAcceptor>) -> Echo {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    let scheme = if tls.is_some() { "https" } else { "http" };
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let tls = tls.clone();
            tokio::spawn(async move {
                let http = hyper::server::conn::http1::Builder::new();
                match tls {
                    None => {
                        let _ = http
                            .serve_connection(TokioIo::new(tcp), service_fn(echo))
                            .await;
                    }
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(tcp).await {
                            let _ = http
                                .serve_connection(TokioIo::new(stream), service_fn(echo))
                                .await;
                        }
                    }
                }
            });
        }
    });
    Echo {
        url: format!("{scheme}://127.0.0.1:{port}/manage?dev=1"),
        connections,
    }
}

/// A server that accepts connections and reads from them but never answers; counts the
/// connections and the bytes it received.
struct Silent {
    port: u16,
    connections: Arc<AtomicUsize>,
    received: Arc<AtomicUsize>,
}

async fn silent_server() -> Silent {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(AtomicUsize::new(0));
    let (count, bytes) = (connections.clone(), received.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let bytes = bytes.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                // Until the client gives up and closes.
                while let Ok(n @ 1..) = tcp.read(&mut buf).await {
                    bytes.fetch_add(n, Ordering::SeqCst);
                }
            });
        }
    });
    Silent {
        port,
        connections,
        received,
    }
}

/// A port nothing listens on (bound, then released).
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

fn fast(config: TransportConfig) -> TransportConfig {
    TransportConfig {
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
        ..config
    }
}

fn plain() -> Transport {
    Transport::new(fast(TransportConfig::default())).unwrap()
}

fn trusting(pki: &Pki, client: Option<&Issued>) -> Transport {
    Transport::new(fast(TransportConfig {
        trust_anchors: vec![pki.ca_file.clone()],
        client_cert: client.map(|c| ClientCertificate {
            chain: c.chain_file.clone(),
            key: c.key_file.clone(),
        }),
        ..TransportConfig::default()
    }))
    .unwrap()
}

fn no_headers() -> &'static [(String, String)] {
    &[]
}

// ---------------------------------------------------------------------------------------------
// Plain HTTP

#[tokio::test]
async fn plain_http_posts_xml_with_dm_headers() {
    let server = echo_server(None).await;
    let body = b"<SyncML xmlns=\"SYNCML:SYNCML1.2\"></SyncML>".to_vec();
    let hmac = (
        "x-syncml-hmac".to_owned(),
        "algorithm=MD5, username=\"Bruce2\", mac=aSBvnDHzBa7JhdjeEEUR2g==".to_owned(),
    );
    let response = plain()
        .post(&server.url, XML, body.clone(), std::slice::from_ref(&hmac))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert!(response.is_success());
    assert_eq!(response.body, body);
    assert_eq!(response.content_type.as_deref(), Some(XML));
    assert_eq!(response.encoding(), Some((Encoding::Xml, true)));
    let port = server
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    for (header, expected) in [
        ("x-echo-method", "POST".to_owned()),
        ("x-echo-path", "/manage?dev=1".to_owned()),
        ("x-echo-version", "HTTP/1.1".to_owned()),
        ("x-echo-content-type", XML.to_owned()),
        ("x-echo-accept", XML.to_owned()),
        ("x-echo-content-length", body.len().to_string()),
        ("x-echo-host", format!("127.0.0.1:{port}")),
        (
            "x-echo-user-agent",
            format!("dm-client/{}", env!("CARGO_PKG_VERSION")),
        ),
        ("x-echo-x-syncml-hmac", hmac.1.clone()),
    ] {
        assert_eq!(response.header(header), Some(expected.as_str()), "{header}");
    }
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

/// The upload of a backup (docs/migration.md): `PUT` with the body and its type; the
/// download of one: `GET` with the whole body in the response.
#[tokio::test]
async fn put_sends_the_body_and_get_body_collects_the_answer() {
    let server = echo_server(None).await;
    let body = b"<MgmtTree/>".to_vec();
    let response = plain()
        .put(
            &server.url,
            "application/vnd.syncml.dmtnds+xml",
            body.clone(),
            no_headers(),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, body);
    assert_eq!(response.header("x-echo-method"), Some("PUT"));
    assert_eq!(
        response.header("x-echo-content-type"),
        Some("application/vnd.syncml.dmtnds+xml")
    );
    assert_eq!(
        response.header("x-echo-content-length"),
        Some(body.len().to_string().as_str())
    );
    let status = [("x-test-status".to_owned(), "404".to_owned())];
    let response = plain().get_body(&server.url, &status).await.unwrap();
    assert_eq!(response.status, 404);
    assert_eq!(response.header("x-echo-method"), Some("GET"));
    assert!(response.body.is_empty());
}

#[tokio::test]
async fn wbxml_account_sends_the_wbxml_type() {
    let server = echo_server(None).await;
    let body = vec![0x02, 0xA4, 0x01, 0x6A, 0x00, 0x6D, 0x01];
    let response = plain()
        .post_encoded(&server.url, Encoding::Wbxml, body.clone(), no_headers())
        .await
        .unwrap();
    assert_eq!(response.body, body);
    assert_eq!(response.header("x-echo-content-type"), Some(WBXML));
    assert_eq!(response.header("x-echo-accept"), Some(WBXML));
    assert_eq!(response.encoding(), Some((Encoding::Wbxml, true)));
}

#[tokio::test]
async fn content_type_parameters_go_through_and_accept_is_the_bare_type() {
    // The bootstrap form (facts §6.5) carries parameters in the Content-Type.
    let server = echo_server(None).await;
    let ct = format!("{WBXML}; SEC=NETWORKID; MAC=0a1b");
    let response = plain()
        .post(&server.url, &ct, vec![1, 2, 3], no_headers())
        .await
        .unwrap();
    assert_eq!(response.header("x-echo-content-type"), Some(ct.as_str()));
    assert_eq!(response.header("x-echo-accept"), Some(WBXML));
}

#[tokio::test]
async fn extra_accept_and_user_agent_replace_the_defaults() {
    let server = echo_server(None).await;
    let extra = [
        ("Accept".to_owned(), format!("{XML}, {WBXML}")),
        ("User-Agent".to_owned(), "device/1".to_owned()),
    ];
    let response = plain()
        .post(&server.url, XML, vec![], &extra)
        .await
        .unwrap();
    assert_eq!(
        response.header("x-echo-accept"),
        Some(format!("{XML}, {WBXML}").as_str())
    );
    assert_eq!(response.header("x-echo-user-agent"), Some("device/1"));
    assert_eq!(response.header("x-echo-content-length"), Some("0"));
}

#[tokio::test]
async fn non_2xx_statuses_are_responses() {
    let server = echo_server(None).await;
    for status in [401u16, 404, 500, 503] {
        let extra = [("x-test-status".to_owned(), status.to_string())];
        let response = plain()
            .post(&server.url, XML, b"<SyncML/>".to_vec(), &extra)
            .await
            .unwrap();
        assert_eq!(response.status, status);
        assert!(!response.is_success());
        assert_eq!(response.body, b"<SyncML/>");
    }
    // One connection per message, none re-sent.
    assert_eq!(server.connections.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn oversized_response_is_refused() {
    let server = echo_server(None).await;
    let transport = Transport::new(fast(TransportConfig {
        max_response_bytes: 10,
        ..TransportConfig::default()
    }))
    .unwrap();
    let error = transport
        .post(&server.url, XML, vec![b'x'; 100], no_headers())
        .await
        .unwrap_err();
    assert!(
        matches!(error, TransportError::TooLarge { limit: 10, .. }),
        "{error}"
    );
    let ok = transport
        .post(&server.url, XML, vec![b'x'; 10], no_headers())
        .await
        .unwrap();
    assert_eq!(ok.body.len(), 10);
}

// ---------------------------------------------------------------------------------------------
// Retries and timeouts

#[tokio::test]
async fn refused_connections_are_retried_with_backoff() {
    let port = closed_port().await;
    let url = format!("http://127.0.0.1:{port}/");
    for retries in [0u32, 3] {
        let transport = Transport::new(fast(TransportConfig {
            retries,
            ..TransportConfig::default()
        }))
        .unwrap();
        let error = transport
            .post(&url, XML, b"<SyncML/>".to_vec(), no_headers())
            .await
            .unwrap_err();
        match &error {
            TransportError::Connect {
                attempts, source, ..
            } => {
                assert_eq!(*attempts, retries + 1);
                assert_eq!(source.kind(), std::io::ErrorKind::ConnectionRefused);
            }
            other => panic!("expected Connect, got {other}"),
        }
        assert_eq!(error.attempts(), Some(retries + 1));
        let message = error.to_string();
        assert!(
            message.contains(&format!("{} attempt(s)", retries + 1)),
            "{message}"
        );
        assert!(
            message.contains("check that the server is running"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn a_stalled_tls_handshake_is_a_connect_timeout_and_is_retried() {
    // The silent server accepts TCP but never answers the ClientHello.
    let pki = Pki::new("stall");
    let server = silent_server().await;
    let transport = Transport::new(TransportConfig {
        connect_timeout: Duration::from_millis(100),
        retries: 2,
        ..fast(TransportConfig {
            trust_anchors: vec![pki.ca_file.clone()],
            ..TransportConfig::default()
        })
    })
    .unwrap();
    let url = format!("https://127.0.0.1:{}/", server.port);
    let error = transport
        .post(&url, XML, b"<SyncML/>".to_vec(), no_headers())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            TransportError::Timeout {
                phase: TimeoutPhase::Connect,
                attempts: 3,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(server.connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn read_timeout_when_the_server_never_answers_and_no_resend() {
    let server = silent_server().await;
    let transport = Transport::new(TransportConfig {
        read_timeout: Duration::from_millis(200),
        retries: 3,
        ..fast(TransportConfig::default())
    })
    .unwrap();
    let url = format!("http://127.0.0.1:{}/", server.port);
    let body = b"<SyncML>package 3</SyncML>".to_vec();
    let error = transport
        .post(&url, XML, body.clone(), no_headers())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            TransportError::Timeout {
                phase: TimeoutPhase::Response,
                attempts: 1,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("may still have processed"),
        "{error}"
    );
    // The request went out once, in full, and was not re-sent.
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
    assert!(server.received.load(Ordering::SeqCst) > body.len());
}

// ---------------------------------------------------------------------------------------------
// TLS

#[tokio::test]
async fn https_with_a_configured_trust_anchor() {
    let pki = Pki::new("dm");
    let server = echo_server(Some(server_tls(&pki.server(), None))).await;
    let transport = trusting(&pki, None);
    let response = transport
        .post(&server.url, XML, b"<SyncML/>".to_vec(), no_headers())
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"<SyncML/>");
    assert_eq!(response.header("x-echo-content-type"), Some(XML));
    // By name too: the certificate names localhost.
    let by_name = server.url.replace("127.0.0.1", "localhost");
    let response = transport
        .post(&by_name, WBXML, vec![0x02], no_headers())
        .await
        .unwrap();
    assert_eq!(response.encoding(), Some((Encoding::Wbxml, true)));
}

#[tokio::test]
async fn untrusted_server_certificate_is_a_tls_error_not_retried() {
    let trusted = Pki::new("trusted");
    let other = Pki::new("other");
    let server = echo_server(Some(server_tls(&other.server(), None))).await;
    let error = trusting(&trusted, None)
        .post(&server.url, XML, b"<SyncML/>".to_vec(), no_headers())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "tls", "{error}");
    let tls = std::error::Error::source(&error)
        .and_then(|s| s.downcast_ref::<rustls::Error>())
        .expect("the rustls error is the source");
    assert!(
        matches!(tls, rustls::Error::InvalidCertificate(_)),
        "{tls:?}"
    );
    assert!(
        error.to_string().contains("check that trust_anchors"),
        "{error}"
    );
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

/// The `accept_any_certificate` fault (docs/tls.md): the same untrusted server, and one for
/// another name, are reached; the body goes through. Off by default.
#[tokio::test]
async fn the_accept_any_certificate_fault_reaches_untrusted_servers() {
    let trusted = Pki::new("trusted");
    let other = Pki::new("other");
    assert!(!TransportConfig::default().accept_any_certificate);
    let wrong_name = other.issue(
        "elsewhere",
        &["dm.example.invalid"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    for cert in [other.server(), wrong_name] {
        let server = echo_server(Some(server_tls(&cert, None))).await;
        let faulty = Transport::new(fast(TransportConfig {
            trust_anchors: vec![trusted.ca_file.clone()],
            accept_any_certificate: true,
            ..TransportConfig::default()
        }))
        .unwrap();
        let answer = faulty
            .post(&server.url, XML, b"<SyncML/>".to_vec(), no_headers())
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(server.connections.load(Ordering::SeqCst), 1);
    }
}

#[tokio::test]
async fn certificate_for_another_name_is_a_tls_error() {
    let pki = Pki::new("names");
    let wrong = pki.issue(
        "elsewhere",
        &["dm.example.invalid"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let server = echo_server(Some(server_tls(&wrong, None))).await;
    let error = trusting(&pki, None)
        .post(&server.url, XML, vec![], no_headers())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "tls", "{error}");
}

#[tokio::test]
async fn mutual_tls_with_and_without_a_client_certificate() {
    let server_pki = Pki::new("server");
    let device_pki = Pki::new("devices");
    let server = echo_server(Some(server_tls(&server_pki.server(), Some(&device_pki)))).await;

    let device = device_pki.client();
    let response = trusting(&server_pki, Some(&device))
        .post(&server.url, XML, b"<SyncML/>".to_vec(), no_headers())
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"<SyncML/>");

    let error = trusting(&server_pki, None)
        .post(&server.url, XML, b"<SyncML/>".to_vec(), no_headers())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "tls", "{error}");
    assert!(
        error.to_string().contains("configure client_cert"),
        "{error}"
    );

    // A certificate from a CA the server does not accept.
    let stranger = server_pki.client();
    let error = trusting(&server_pki, Some(&stranger))
        .post(&server.url, XML, b"<SyncML/>".to_vec(), no_headers())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "tls", "{error}");
    assert!(
        error.to_string().contains("refused the client certificate"),
        "{error}"
    );
}

// ---------------------------------------------------------------------------------------------
// Configuration and request errors (no server needed)

#[tokio::test]
async fn bad_configuration_names_the_file() {
    let pki = Pki::new("cfg");
    let missing = pki.dir.path().join("missing.pem");
    let garbage = pki.dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let device = pki.client();

    for (config, kind, path) in [
        (
            TransportConfig {
                trust_anchors: vec![missing.clone()],
                ..TransportConfig::default()
            },
            "bad-certificate",
            &missing,
        ),
        (
            TransportConfig {
                trust_anchors: vec![pki.ca_file.clone(), garbage.clone()],
                ..TransportConfig::default()
            },
            "bad-certificate",
            &garbage,
        ),
        (
            TransportConfig {
                trust_anchors: vec![pki.ca_file.clone()],
                client_cert: Some(ClientCertificate {
                    chain: device.chain_file.clone(),
                    key: garbage.clone(),
                }),
                ..TransportConfig::default()
            },
            "bad-key",
            &garbage,
        ),
        (
            TransportConfig {
                trust_anchors: vec![pki.ca_file.clone()],
                client_cert: Some(ClientCertificate {
                    // A key that is not the certificate's.
                    chain: device.chain_file.clone(),
                    key: pki.server().key_file,
                }),
                ..TransportConfig::default()
            },
            "bad-key",
            &pki.dir.path().join("server.key"),
        ),
    ] {
        let error = Transport::new(config).unwrap_err();
        assert_eq!(error.kind(), kind, "{error}");
        let message = error.to_string();
        assert!(
            message.contains(&path.display().to_string()),
            "{message} should name {}",
            path.display()
        );
    }

    let error = Transport::new(TransportConfig {
        client_cert: Some(ClientCertificate {
            chain: device.chain_file.clone(),
            key: device.key_file.clone(),
        }),
        ..TransportConfig::default()
    })
    .unwrap_err();
    assert_eq!(error.kind(), "config", "{error}");
}

#[tokio::test]
async fn request_errors_before_connecting() {
    let transport = plain();
    let error = transport
        .post("https://127.0.0.1:1/", XML, vec![], no_headers())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "no-trust-anchors", "{error}");
    assert!(error.to_string().contains("trust_anchors"), "{error}");

    let error = transport
        .post("ftp://127.0.0.1/", XML, vec![], no_headers())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "bad-url", "{error}");

    for name in [
        "Content-Length",
        "host",
        "Content-Type",
        "Transfer-Encoding",
        "bad name",
    ] {
        let extra = [(name.to_owned(), "1".to_owned())];
        let error = transport
            .post("http://127.0.0.1:1/", XML, vec![], &extra)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "bad-header", "{name}: {error}");
    }
    let extra = [("x-syncml-hmac".to_owned(), "line\nbreak".to_owned())];
    let error = transport
        .post("http://127.0.0.1:1/", XML, vec![], &extra)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "bad-header", "{error}");
}

/// `Transport::get` (SCOMO downloads): caller headers such as `Range` reach the server, the
/// body is streamed into the sink after its head, and a failing sink is a `sink` error.
#[tokio::test]
async fn get_streams_the_body_and_sends_range() {
    use dm_client::transport::BodySink;

    #[derive(Default)]
    struct Keep {
        status: u16,
        range: Option<String>,
        body: Vec<u8>,
        fail: bool,
    }
    impl BodySink for Keep {
        fn head(&mut self, r: &dm_client::transport::Response) -> std::io::Result<()> {
            self.status = r.status;
            self.range = r.header("content-range").map(str::to_owned);
            Ok(())
        }
        fn data(&mut self, chunk: &[u8]) -> std::io::Result<()> {
            if self.fail {
                return Err(std::io::Error::other("disk full"));
            }
            self.body.extend_from_slice(chunk);
            Ok(())
        }
    }

    let server = common::serve(|_, req, _| {
        let range = req.header("range").unwrap_or_default().to_owned();
        common::Reply {
            body: b"ackage".to_vec(),
            headers: vec![("content-range".into(), format!("{range}/7"))],
            status: Some(206),
        }
    })
    .await;
    let t = Transport::new(TransportConfig {
        retries: 0,
        ..Default::default()
    })
    .unwrap();
    let mut keep = Keep::default();
    let r = t
        .get(
            &server.url,
            &[("Range".into(), "bytes=1-".into())],
            &mut keep,
        )
        .await
        .unwrap();
    assert_eq!(r.status, 206);
    assert!(r.body.is_empty(), "the body went to the sink");
    assert_eq!(keep.status, 206);
    assert_eq!(keep.range.as_deref(), Some("bytes=1-/7"));
    assert_eq!(keep.body, b"ackage");
    assert_eq!(server.requests()[0].header("range"), Some("bytes=1-"));
    let mut failing = Keep {
        fail: true,
        ..Keep::default()
    };
    let e = t.get(&server.url, &[], &mut failing).await.unwrap_err();
    assert_eq!(e.kind(), "sink");
}
