#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The device-facing listener over real sockets, plain and TLS (with the reference client's
//! transport as the peer): routing, body limits, hosted content and uploads. The backend
//! here only records what it gets; the DM logic is tested elsewhere.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dm_client::transport::{ClientCertificate, Transport, TransportConfig};
use dm_server::endpoint::{self, Backend, BoxFuture, DmRequest, DmResponse, EndpointConfig};
use dm_server::tls::{generate_test_ca, server_config, TlsFiles};
use tokio::net::TcpListener;

#[derive(Default)]
struct Recorder {
    dm: Mutex<Vec<DmRequest>>,
    uploads: Mutex<Vec<(String, String, Vec<u8>)>>,
}

impl Backend for Recorder {
    fn dm(&self, req: DmRequest) -> BoxFuture<DmResponse> {
        let body = req.body.clone();
        self.dm.lock().unwrap().push(req);
        Box::pin(async move {
            DmResponse {
                status: 200,
                content_type: "application/vnd.syncml.dm+xml".into(),
                headers: vec![(
                    "x-syncml-hmac".into(),
                    "algorithm=MD5, username=\"s\", mac=x".into(),
                )],
                body,
            }
        })
    }
    fn content(&self, name: &str) -> Option<(String, Vec<u8>)> {
        (name == "pkg/app-1.0.bin").then(|| ("application/octet-stream".into(), b"PKG".to_vec()))
    }
    fn upload(&self, name: &str, content_type: &str, body: Vec<u8>) -> Result<(), String> {
        if name.contains("..") {
            return Err("upload names must not contain ..".into());
        }
        self.uploads
            .lock()
            .unwrap()
            .push((name.into(), content_type.into(), body));
        Ok(())
    }
}

async fn start(tls: Option<tokio_rustls::TlsAcceptor>, max_body: usize) -> (String, Arc<Recorder>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let rec = Arc::new(Recorder::default());
    let scheme = if tls.is_some() {
        "https://localhost"
    } else {
        "http://127.0.0.1"
    };
    tokio::spawn(endpoint::serve(
        listener,
        tls,
        EndpointConfig {
            max_body,
            read_timeout: Duration::from_secs(5),
            ..EndpointConfig::default()
        },
        rec.clone(),
    ));
    (format!("{scheme}:{port}"), rec)
}

fn client(cfg: TransportConfig) -> Transport {
    Transport::new(TransportConfig { retries: 0, ..cfg }).unwrap()
}

#[tokio::test]
async fn routes_and_limits() {
    let (base, rec) = start(None, 64).await;
    let t = client(TransportConfig::default());
    let dm = t
        .post(
            &format!("{base}/dm?s=1"),
            "application/vnd.syncml.dm+xml",
            b"<SyncML/>".to_vec(),
            &[(
                "x-syncml-hmac".into(),
                "algorithm=MD5, username=\"d\", mac=y".into(),
            )],
        )
        .await
        .unwrap();
    assert_eq!(dm.status, 200);
    assert_eq!(dm.body, b"<SyncML/>");
    assert!(dm.header("x-syncml-hmac").is_some());
    {
        let seen = rec.dm.lock().unwrap();
        assert_eq!(seen[0].target, "/dm?s=1");
        assert_eq!(
            seen[0].content_type.as_deref(),
            Some("application/vnd.syncml.dm+xml")
        );
        assert!(seen[0].hmac.as_deref().unwrap().contains("username=\"d\""));
    }
    let big = t
        .post(
            &format!("{base}/dm"),
            "application/vnd.syncml.dm+xml",
            vec![b'x'; 65],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(big.status, 413);
    assert!(String::from_utf8_lossy(&big.body).contains("64 bytes"));
    assert_eq!(
        rec.dm.lock().unwrap().len(),
        1,
        "the oversized body never reached the backend"
    );
    let up = t
        .post(
            &format!("{base}/upload/backups/dev1.tnds"),
            "application/xml",
            b"<x/>".to_vec(),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(up.status, 201);
    assert_eq!(
        rec.uploads.lock().unwrap()[0],
        (
            "backups/dev1.tnds".into(),
            "application/xml".into(),
            b"<x/>".to_vec()
        )
    );
    let refused = t
        .post(
            &format!("{base}/upload/../etc"),
            "text/plain",
            b"x".to_vec(),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(refused.status, 400);
    // POST to content, and an unknown path.
    let wrong = t
        .post(
            &format!("{base}/content/pkg/app-1.0.bin"),
            "text/plain",
            vec![],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(wrong.status, 405);
    let nothing = t
        .post(&format!("{base}/elsewhere"), "text/plain", vec![], &[])
        .await
        .unwrap();
    assert_eq!(nothing.status, 404);
    assert!(String::from_utf8_lossy(&nothing.body).contains("/dm"));
}

#[tokio::test]
async fn content_is_served_with_get() {
    let (base, _rec) = start(None, 1024).await;
    let addr = base.trim_start_matches("http://");
    let get = |path: &'static str| {
        let addr = addr.to_owned();
        async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut s = tokio::net::TcpStream::connect(addr.as_str()).await.unwrap();
            s.write_all(
                format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
            )
            .await
            .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        }
    };
    let ok = get("/content/pkg/app-1.0.bin").await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.ends_with("PKG"), "{ok}");
    let missing = get("/content/nope").await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    let get_dm = get("/dm").await;
    assert!(get_dm.starts_with("HTTP/1.1 405"), "{get_dm}");
}

#[tokio::test]
async fn content_resumes_from_a_range() {
    // An interrupted package download goes on where it stopped (RFC 9110 §14).
    let (base, _rec) = start(None, 1024).await;
    let addr = base.trim_start_matches("http://").to_owned();
    let get = |range: &'static str| {
        let addr = addr.clone();
        async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut s = tokio::net::TcpStream::connect(addr.as_str()).await.unwrap();
            s.write_all(
                format!("GET /content/pkg/app-1.0.bin HTTP/1.1\r\nHost: x\r\nRange: {range}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out.to_ascii_lowercase()
        }
    };
    let rest = get("bytes=1-").await;
    assert!(rest.starts_with("http/1.1 206"), "{rest}");
    assert!(rest.contains("content-range: bytes 1-2/3"), "{rest}");
    assert!(rest.ends_with("\r\n\r\nkg"), "only the rest: {rest}");
    let whole = get("bytes=0-").await;
    assert!(
        whole.starts_with("http/1.1 200") && whole.ends_with("pkg"),
        "{whole}"
    );
    let past = get("bytes=9-").await;
    assert!(past.starts_with("http/1.1 416"), "{past}");
    assert!(past.contains("content-range: bytes */3"), "{past}");
    let odd = get("lines=1-").await;
    assert!(
        odd.starts_with("http/1.1 200"),
        "an unknown unit gets the whole content: {odd}"
    );
}

#[test]
fn range_headers_are_read_leniently() {
    use dm_server::endpoint::range_start;
    assert_eq!(range_start("bytes=100-"), Some(100));
    assert_eq!(range_start("bytes=5-9"), Some(5));
    assert_eq!(range_start("bytes=0-1,5-6"), None);
    assert_eq!(range_start("bytes=-5"), None);
    assert_eq!(range_start("items=1-"), None);
}

#[tokio::test]
async fn mutual_tls_with_the_generated_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = generate_test_ca(dir.path(), &["localhost".into()]).unwrap();
    let cfg = server_config(&TlsFiles {
        cert: ca.server_cert.clone(),
        key: ca.server_key.clone(),
        client_ca: Some(ca.ca_cert.clone()),
    })
    .unwrap();
    let (base, rec) = start(Some(tokio_rustls::TlsAcceptor::from(cfg)), 1024).await;
    let with_cert = client(TransportConfig {
        trust_anchors: vec![ca.ca_cert.clone()],
        client_cert: Some(ClientCertificate {
            chain: ca.client_cert.clone(),
            key: ca.client_key.clone(),
        }),
        ..TransportConfig::default()
    });
    let r = with_cert
        .post(
            &format!("{base}/dm"),
            "application/vnd.syncml.dm+xml",
            b"<a/>".to_vec(),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let without = client(TransportConfig {
        trust_anchors: vec![ca.ca_cert.clone()],
        ..TransportConfig::default()
    });
    let refused = without
        .post(
            &format!("{base}/dm"),
            "application/vnd.syncml.dm+xml",
            b"<a/>".to_vec(),
            &[],
        )
        .await;
    assert!(
        refused.is_err(),
        "a device without a certificate is refused"
    );
    assert_eq!(rec.dm.lock().unwrap().len(), 1);
}
