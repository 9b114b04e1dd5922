//! The device-facing HTTP/1.1 listener, over TCP or TLS: DM messages (`POST` to the DM
//! path, any query — a RespURI may add one), hosted content (`GET /content/{name}`, the
//! stable URLs of SCOMO/FUMO packages) and device uploads (`PUT` or `POST /upload/{name}`,
//! e.g. backups). What a DM message means is the [`Backend`]'s business; this module only
//! moves bytes, bounds bodies (413) and routes.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A DM message as it arrived.
#[derive(Debug, Clone)]
pub struct DmRequest {
    /// Path and query, e.g. `/dm?s=9`.
    pub target: String,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The `x-syncml-hmac` header (facts §6.3).
    pub hmac: Option<String>,
    /// The exact body.
    pub body: Vec<u8>,
    /// The sender.
    pub peer: SocketAddr,
}

/// The HTTP answer to a DM message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmResponse {
    /// HTTP status (200 with a DM message, 204 with nothing to send; 400/500 with a one-line
    /// reason).
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// Extra headers (e.g. `x-syncml-hmac`).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl DmResponse {
    /// A plain-text refusal with a one-line reason.
    pub fn text(status: u16, reason: impl Into<String>) -> Self {
        let mut body = reason.into().into_bytes();
        body.push(b'\n');
        DmResponse {
            status,
            content_type: "text/plain; charset=utf-8".into(),
            headers: Vec::new(),
            body,
        }
    }
}

/// A boxed future, as the backend's DM handler returns.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What the endpoint serves.
pub trait Backend: Send + Sync + 'static {
    /// Answer one DM message.
    fn dm(&self, req: DmRequest) -> BoxFuture<DmResponse>;
    /// The hosted content called `name`: its Content-Type and bytes.
    fn content(&self, name: &str) -> Option<(String, Vec<u8>)>;
    /// Keep an upload called `name`; `Err` carries a one-line reason (answered 400).
    fn upload(&self, name: &str, content_type: &str, body: Vec<u8>) -> Result<(), String>;
}

/// Endpoint settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointConfig {
    /// The DM path (default `/dm`).
    pub dm_path: String,
    /// Largest accepted body; larger ones get 413 (default 4 MiB).
    pub max_body: usize,
    /// Limit for receiving a request head or body (default 30 s).
    pub read_timeout: Duration,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            dm_path: "/dm".into(),
            max_body: 4 * 1024 * 1024,
            read_timeout: Duration::from_secs(30),
        }
    }
}

/// Serve connections from `listener` (TLS when `tls` is given) until the task is dropped
/// or aborted. Each connection is served on its own task, so one slow or malformed peer
/// never holds up another.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    config: EndpointConfig,
    backend: Arc<dyn Backend>,
) {
    let config = Arc::new(config);
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        // A TLS server flight is several small writes: with Nagle on, each waits for the
        // client's delayed ACK (tens of milliseconds per connection).
        let _ = tcp.set_nodelay(true);
        let (tls, config, backend) = (tls.clone(), config.clone(), backend.clone());
        tokio::spawn(async move {
            match tls {
                None => serve_connection(tcp, peer, config, backend).await,
                Some(tls) => {
                    let handshake = tokio::time::timeout(config.read_timeout, tls.accept(tcp));
                    if let Ok(Ok(stream)) = handshake.await {
                        serve_connection(stream, peer, config, backend).await;
                    }
                }
            }
        });
    }
}

/// Serve HTTP/1.1 on one accepted connection (plain TCP, or a TLS stream whose handshake
/// the caller did, e.g. to observe it) until the peer closes it.
pub async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    config: Arc<EndpointConfig>,
    backend: Arc<dyn Backend>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let read_timeout = config.read_timeout;
    let svc = service_fn(move |req| {
        let (config, backend) = (config.clone(), backend.clone());
        async move { Ok::<_, std::convert::Infallible>(route(req, peer, &config, &*backend).await) }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(read_timeout);
    let _ = http.serve_connection(TokioIo::new(stream), svc).await;
}

fn reply(
    status: u16,
    content_type: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Response<Full<Bytes>> {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(hyper::header::CONTENT_TYPE, content_type);
    for (n, v) in headers {
        b = b.header(n.as_str(), v.as_str());
    }
    b.body(Full::new(Bytes::from(body))).unwrap_or_else(|_| {
        let mut r = Response::new(Full::new(Bytes::from_static(b"bad response header\n")));
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// The start of a `Range: bytes=N-` (or `bytes=N-M`; only the start is honoured, the rest
/// is sent). `None` for anything else: the whole content is sent (RFC 9110 §14.2 allows it).
pub fn range_start(range: &str) -> Option<u64> {
    let spec = range.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, _) = spec.split_once('-')?;
    start.trim().parse().ok()
}

/// Hosted content, whole (200) or from a `Range` start (206 with `Content-Range`; 416 when
/// the start is past the end).
fn content_reply(ct: &str, bytes: Vec<u8>, range: Option<&str>) -> Response<Full<Bytes>> {
    let len = bytes.len() as u64;
    let mut headers = vec![
        ("x-content-type-options".to_owned(), "nosniff".to_owned()),
        ("accept-ranges".to_owned(), "bytes".to_owned()),
    ];
    match range.and_then(range_start) {
        // An empty content has no byte to start from: sent whole (ignoring Range is allowed).
        Some(start) if start >= len && len > 0 => {
            headers.push(("content-range".into(), format!("bytes */{len}")));
            reply(
                416,
                "text/plain; charset=utf-8",
                &headers,
                b"range not satisfiable\n".to_vec(),
            )
        }
        Some(start) if start > 0 && start < len => {
            headers.push((
                "content-range".into(),
                format!("bytes {start}-{}/{len}", len - 1),
            ));
            let rest = bytes.get(start as usize..).unwrap_or_default().to_vec();
            reply(206, ct, &headers, rest)
        }
        _ => reply(200, ct, &headers, bytes),
    }
}

fn text(status: u16, reason: &str) -> Response<Full<Bytes>> {
    let r = DmResponse::text(status, reason);
    reply(r.status, &r.content_type, &[], r.body)
}

/// Read the whole body within the limits; `Err` is the answer to give instead.
async fn body(
    req: Request<Incoming>,
    config: &EndpointConfig,
) -> Result<Vec<u8>, Response<Full<Bytes>>> {
    let limited = Limited::new(req.into_body(), config.max_body);
    match tokio::time::timeout(config.read_timeout, limited.collect()).await {
        Err(_) => Err(text(408, "the request body did not arrive in time")),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(text(
            413,
            &format!(
                "the body is larger than the limit of {} bytes",
                config.max_body
            ),
        )),
        Ok(Err(e)) => Err(text(400, &format!("the request body is broken: {e}"))),
        Ok(Ok(b)) => Ok(b.to_bytes().to_vec()),
    }
}

async fn route(
    req: Request<Incoming>,
    peer: SocketAddr,
    config: &EndpointConfig,
    backend: &dyn Backend,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if path == config.dm_path {
        if req.method() != Method::POST {
            return text(405, "DM messages are sent with POST (facts §1.1)");
        }
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or(path);
        let content_type = header("content-type");
        let hmac = header("x-syncml-hmac");
        let body = match body(req, config).await {
            Ok(b) => b,
            Err(r) => return r,
        };
        let r = backend
            .dm(DmRequest {
                target,
                content_type,
                hmac,
                body,
                peer,
            })
            .await;
        return reply(r.status, &r.content_type, &r.headers, r.body);
    }
    if let Some(name) = path.strip_prefix("/content/").filter(|n| !n.is_empty()) {
        if req.method() != Method::GET {
            return text(405, "hosted content is read with GET");
        }
        let range = header("range");
        return match backend.content(name) {
            // Served as stored, never sniffed as something else by a browser; a `Range` asks
            // for the rest of an interrupted download (RFC 9110 §14).
            Some((ct, bytes)) => content_reply(&ct, bytes, range.as_deref()),
            None => text(404, &format!("no content called {name:?}")),
        };
    }
    if let Some(name) = path.strip_prefix("/upload/").filter(|n| !n.is_empty()) {
        if req.method() != Method::PUT && req.method() != Method::POST {
            return text(405, "uploads are sent with PUT or POST");
        }
        let ct = header("content-type").unwrap_or_else(|| "application/octet-stream".into());
        let name = name.to_owned();
        let body = match body(req, config).await {
            Ok(b) => b,
            Err(r) => return r,
        };
        return match backend.upload(&name, &ct, body) {
            Ok(()) => text(201, "stored"),
            Err(reason) => text(400, &reason),
        };
    }
    text(
        404,
        &format!(
            "nothing at {path}: DM messages go to {}, content is under /content/, uploads under /upload/",
            config.dm_path
        ),
    )
}
