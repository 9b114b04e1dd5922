//! The client's transport: one DM message out, one response in, as an HTTP/1.1 `POST` over
//! TCP (`http://`) or TLS (`https://`, rustls with the *ring* provider).
//!
//! - **Encoding.** The caller names the DM MIME type (facts §1.1):
//!   `application/vnd.syncml.dm+xml` or `application/vnd.syncml.dm+wbxml`, usually from the
//!   account's [`Encoding`] through [`Transport::post_encoded`]. It is sent as `Content-Type`
//!   (verbatim, parameters included, so a bootstrap's `; SEC=…; MAC=…` goes through) and its
//!   bare MIME type as `Accept`.
//! - **Extra headers.** Authentication headers such as `x-syncml-hmac` (facts §6.3) are
//!   computed by the session and passed in `extra_headers`; the transport never looks at them.
//! - **Trust.** Server certificates are checked against the trust anchors configured as PEM
//!   files, and nothing else: no platform store, no built-in roots. The only way to skip
//!   verification is the fault-injection switch [`TransportConfig::accept_any_certificate`]
//!   (`[faults] accept_any_certificate`), which still needs trust anchors configured and
//!   makes the device print a warning at every session. An optional client certificate is
//!   offered to servers that ask for one.
//!   TLS 1.2 and 1.3 only (facts §6.4 names TLS 1.0/SSL 3.0; no maintained stack offers them).
//! - **One connection per message.** No pooling: a message never rides on a connection the
//!   server may already have closed, so a failure is never ambiguous about which connection
//!   it happened on.
//! - **Retries.** DM messages are not idempotent (a re-sent package 3 would re-run its
//!   commands), so a message is re-tried only while no connection could be set up: TCP connect
//!   failures, connect/handshake timeouts and I/O failures during the TLS handshake. Nothing
//!   is re-sent once the request may have reached the server; certificate and other TLS
//!   protocol failures are not re-tried either, since trying again cannot fix them. The pause
//!   before retry *n* is [`TransportConfig::backoff`]`(n)`.
//! - **Downloads.** [`Transport::get`] fetches a URL (SCOMO packages, facts §10) with caller
//!   headers such as `Range`, streaming the body into a [`BodySink`] so that the bytes
//!   received before a broken connection are kept and a later request can resume.
//! - **Responses.** Any status comes back as a [`Response`]: a 401, a 500 or a redirect is for
//!   the session to judge, not an error of the transport.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use dm_protocol::codec::Encoding;
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Uri, Version};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// A client certificate chain and its private key, both PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    /// The certificate chain, leaf first (one or more `CERTIFICATE` blocks).
    pub chain: PathBuf,
    /// The leaf's private key (`PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`).
    pub key: PathBuf,
}

/// How the transport connects, waits and retries, and whom it trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportConfig {
    /// Limit for one connection attempt: name resolution, TCP connect and TLS handshake.
    pub connect_timeout: Duration,
    /// Limit for waiting for the response head once the request is handed to the connection,
    /// and then for each wait between pieces of the response body.
    pub read_timeout: Duration,
    /// How many times a failed connection attempt is re-tried (0: one attempt only).
    pub retries: u32,
    /// Pause before the first retry; each later retry doubles it.
    pub initial_backoff: Duration,
    /// The longest pause between two attempts.
    pub max_backoff: Duration,
    /// PEM files whose certificates are the only trust anchors for `https://` servers.
    pub trust_anchors: Vec<PathBuf>,
    /// A certificate to offer servers that request one (mutual TLS); needs trust anchors.
    pub client_cert: Option<ClientCertificate>,
    /// The `User-Agent` header; empty sends none.
    pub user_agent: String,
    /// The largest response body accepted, in bytes.
    pub max_response_bytes: usize,
    /// **Fault injection only** (`[faults] accept_any_certificate`): accept any server
    /// certificate, trusted or not, for any name, once trust anchors are configured (an
    /// `https://` URL still needs them). Signatures of the handshake are still checked.
    /// Never set it outside a deliberately faulty device.
    pub accept_any_certificate: bool,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            trust_anchors: Vec::new(),
            client_cert: None,
            user_agent: concat!("dm-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_response_bytes: 16 * 1024 * 1024,
            accept_any_certificate: false,
        }
    }
}

impl TransportConfig {
    /// The pause before retry number `retry` (1 for the first):
    /// `initial_backoff × 2^(retry−1)`, never more than `max_backoff`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// A server's answer, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// Every header in the order received, names in lower case (values not valid UTF-8 are
    /// converted lossily).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The DM encoding the `Content-Type` names, and whether it was the exact DM MIME type
    /// (see [`Encoding::from_content_type`]).
    pub fn encoding(&self) -> Option<(Encoding, bool)> {
        self.content_type
            .as_deref()
            .and_then(Encoding::from_content_type)
    }
}

/// Which wait ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Setting up the connection: TCP connect or TLS handshake (re-tried).
    Connect,
    /// Waiting for the response head or body (never re-tried).
    Response,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connecting to",
            TimeoutPhase::Response => "waiting for the response from",
        })
    }
}

/// Why a message could not be delivered or its response not received.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The server URL cannot be used.
    #[error("bad server URL {url:?}: {reason}; give http://host[:port]/path or https://host[:port]/path")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The configuration contradicts itself.
    #[error("bad transport configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// An `https://` URL, but no trust anchors are configured.
    #[error("cannot reach {url} over TLS: no trust anchors are configured; add the PEM file of the CA that issued the server's certificate to trust_anchors")]
    NoTrustAnchors {
        /// The URL.
        url: String,
    },
    /// A certificate file (trust anchor or client chain) cannot be used.
    #[error("certificate file {}: {reason}", path.display())]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// What is wrong, and what to do.
        reason: String,
    },
    /// The client's private key file cannot be used.
    #[error("private key file {}: {reason}", path.display())]
    BadKey {
        /// The file.
        path: PathBuf,
        /// What is wrong, and what to do.
        reason: String,
    },
    /// A header given by the caller cannot be sent.
    #[error("header {name:?} cannot be sent: {reason}")]
    BadHeader {
        /// The header's name as given.
        name: String,
        /// Why.
        reason: String,
    },
    /// No connection could be set up, after every retry.
    #[error("could not connect to {addr} after {attempts} attempt(s): {source}; check that the server is running and that the URL's host and port are right")]
    Connect {
        /// `host:port`.
        addr: String,
        /// Connection attempts made.
        attempts: u32,
        /// The last attempt's failure.
        #[source]
        source: io::Error,
    },
    /// TLS failed: the server's certificate is not trusted or not for this host, the server
    /// refused the client certificate (or its absence), or the peers share no protocol.
    #[error("TLS with {addr} failed: {source}; {}", tls_hint(source.as_ref()))]
    Tls {
        /// `host:port`.
        addr: String,
        /// The TLS error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// A wait ran out.
    #[error("timed out after {after:?} {phase} {addr} ({attempts} connection attempt(s)); {}",
        if *phase == TimeoutPhase::Connect {
            "check that the server is reachable, or raise connect_timeout"
        } else {
            "the server may still have processed the message; raise read_timeout if it is slow"
        })]
    Timeout {
        /// Which wait.
        phase: TimeoutPhase,
        /// `host:port`.
        addr: String,
        /// The limit that ran out.
        after: Duration,
        /// Connection attempts made.
        attempts: u32,
    },
    /// The HTTP exchange failed after the connection was set up: the server closed the
    /// connection early or answered something that is not HTTP/1.1.
    #[error("HTTP exchange with {addr} failed: {source}; the server may have processed the message, so it is not re-sent")]
    Http {
        /// `host:port`.
        addr: String,
        /// The HTTP error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The consumer of a [`Transport::get`] body failed (e.g. the file it writes to).
    #[error("storing the response from {addr} failed: {source}")]
    Sink {
        /// `host:port`.
        addr: String,
        /// The consumer's error.
        #[source]
        source: io::Error,
    },
    /// The response body is larger than `max_response_bytes`.
    #[error("the response from {addr} is larger than {limit} bytes; raise max_response_bytes if such responses are expected")]
    TooLarge {
        /// `host:port`.
        addr: String,
        /// The limit.
        limit: usize,
    },
}

impl TransportError {
    /// A stable name for the kind of error.
    pub fn kind(&self) -> &'static str {
        match self {
            TransportError::BadUrl { .. } => "bad-url",
            TransportError::Config { .. } => "config",
            TransportError::NoTrustAnchors { .. } => "no-trust-anchors",
            TransportError::BadCertificate { .. } => "bad-certificate",
            TransportError::BadKey { .. } => "bad-key",
            TransportError::BadHeader { .. } => "bad-header",
            TransportError::Connect { .. } => "connect",
            TransportError::Tls { .. } => "tls",
            TransportError::Timeout { .. } => "timeout",
            TransportError::Http { .. } => "http",
            TransportError::TooLarge { .. } => "too-large",
            TransportError::Sink { .. } => "sink",
        }
    }

    /// For a TLS failure, the rustls error behind it (`InvalidCertificate`: the server's
    /// certificate was not accepted; `InvalidMessage`: the peer does not speak TLS; an
    /// alert the server sent …). `None` for other errors.
    pub fn tls_error(&self) -> Option<&rustls::Error> {
        match self {
            TransportError::Tls { source, .. } => find_rustls_error(source.as_ref()),
            _ => None,
        }
    }

    /// Connection attempts made before the error, where it happened after connecting started.
    pub fn attempts(&self) -> Option<u32> {
        match self {
            TransportError::Connect { attempts, .. } | TransportError::Timeout { attempts, .. } => {
                Some(*attempts)
            }
            _ => None,
        }
    }
}

/// The HTTP(S) client. Cheap to clone; holds no connection between messages.
#[derive(Debug, Clone)]
pub struct Transport {
    config: TransportConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Transport {
    /// Loads the trust anchors and the client certificate and key.
    pub fn new(config: TransportConfig) -> Result<Self, TransportError> {
        let tls = if config.trust_anchors.is_empty() {
            if config.client_cert.is_some() {
                return Err(TransportError::Config {
                    reason: "a client certificate is configured but no trust anchors; add the \
                             PEM file of the server's CA to trust_anchors"
                        .into(),
                });
            }
            None
        } else {
            Some(Arc::new(tls_config(&config)?))
        };
        Ok(Transport { config, tls })
    }

    /// The configuration in force.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// Posts a DM message in `encoding` (its Content-Type per facts §1.1).
    pub async fn post_encoded(
        &self,
        url: &str,
        encoding: Encoding,
        body: Vec<u8>,
        extra_headers: &[(String, String)],
    ) -> Result<Response, TransportError> {
        self.post(url, encoding.content_type(), body, extra_headers)
            .await
    }

    /// Posts `body` to `url` with `Content-Type: content_type` and `Accept` set to its bare
    /// MIME type, plus `extra_headers` (an `Accept` or `User-Agent` among them replaces the
    /// default; `Host`, `Content-Type`, `Content-Length`, `Transfer-Encoding`, `Connection`,
    /// `TE` and `Upgrade` are refused). Returns the response whatever its status.
    pub async fn post(
        &self,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
        extra_headers: &[(String, String)],
    ) -> Result<Response, TransportError> {
        self.send_collected(Method::POST, url, Some(content_type), body, extra_headers)
            .await
    }

    /// `PUT url` with `body` as `Content-Type: content_type` (the upload of a backup
    /// document, docs/migration.md), with the same headers, rules, retries and limits as
    /// [`Transport::post`]. Returns the response whatever its status.
    pub async fn put(
        &self,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
        extra_headers: &[(String, String)],
    ) -> Result<Response, TransportError> {
        self.send_collected(Method::PUT, url, Some(content_type), body, extra_headers)
            .await
    }

    /// `GET url` with the whole body in the response, at most `max_response_bytes`
    /// ([`TransportError::TooLarge`] beyond): for small documents such as a backup to
    /// restore. Returns the response whatever its status.
    pub async fn get_body(
        &self,
        url: &str,
        extra_headers: &[(String, String)],
    ) -> Result<Response, TransportError> {
        self.send_collected(Method::GET, url, None, Vec::new(), extra_headers)
            .await
    }

    async fn send_collected(
        &self,
        method: Method,
        url: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        extra_headers: &[(String, String)],
    ) -> Result<Response, TransportError> {
        let target = Target::parse(url)?;
        let request = self.build(&target, method, content_type, body, extra_headers)?;
        let tls = self.tls_for(&target, url)?;
        let (stream, attempts) = self.connect(&target, tls.as_ref()).await?;
        let mut sink = Collect {
            body: Vec::new(),
            limit: self.config.max_response_bytes,
        };
        let mut response = match stream {
            Stream::Plain(s) => {
                self.exchange(&target, s, request, attempts, &mut sink)
                    .await?
            }
            Stream::Tls(s) => {
                self.exchange(&target, *s, request, attempts, &mut sink)
                    .await?
            }
        };
        response.body = sink.body;
        Ok(response)
    }

    /// `GET url` with `extra_headers` (e.g. `Range: bytes=N-` to resume a download), the
    /// body handed to `sink` piece by piece as it arrives, so that what came before a broken
    /// connection is kept by the sink. No size limit applies (the sink may refuse by
    /// failing). Returns the status and headers (an empty `body`) whatever the status; a sink
    /// failure is [`TransportError::Sink`]. Connection set-up is re-tried as for
    /// [`Transport::post`]; the request itself is not re-sent.
    pub async fn get(
        &self,
        url: &str,
        extra_headers: &[(String, String)],
        sink: &mut (dyn BodySink + Send),
    ) -> Result<Response, TransportError> {
        let target = Target::parse(url)?;
        let request = self.build(&target, Method::GET, None, Vec::new(), extra_headers)?;
        let tls = self.tls_for(&target, url)?;
        let (stream, attempts) = self.connect(&target, tls.as_ref()).await?;
        let mut sink = Forward { sink };
        match stream {
            Stream::Plain(s) => {
                self.exchange(&target, s, request, attempts, &mut sink)
                    .await
            }
            Stream::Tls(s) => {
                self.exchange(&target, *s, request, attempts, &mut sink)
                    .await
            }
        }
    }

    fn tls_for(
        &self,
        target: &Target,
        url: &str,
    ) -> Result<Option<(TlsConnector, ServerName<'static>)>, TransportError> {
        if !target.https {
            return Ok(None);
        }
        let config = self
            .tls
            .clone()
            .ok_or_else(|| TransportError::NoTrustAnchors {
                url: url.to_owned(),
            })?;
        let name =
            ServerName::try_from(target.host.clone()).map_err(|e| TransportError::BadUrl {
                url: url.to_owned(),
                reason: format!("{:?} is not a valid TLS server name: {e}", target.host),
            })?;
        Ok(Some((TlsConnector::from(config), name)))
    }

    fn build(
        &self,
        target: &Target,
        method: Method,
        content_type: Option<&str>,
        body: Vec<u8>,
        extra_headers: &[(String, String)],
    ) -> Result<Request<Full<Bytes>>, TransportError> {
        let value = |name: &str, v: &str| {
            HeaderValue::from_str(v).map_err(|_| TransportError::BadHeader {
                name: name.to_owned(),
                reason: format!("{v:?} is not a valid header value (visible ASCII only)"),
            })
        };
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, value("Host", &target.authority)?);
        match content_type {
            Some(content_type) => {
                headers.insert(header::CONTENT_TYPE, value("Content-Type", content_type)?);
                let mime = content_type.split(';').next().unwrap_or("").trim();
                headers.insert(header::ACCEPT, value("Accept", mime)?);
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
            }
            None => {
                headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
            }
        }
        if !self.config.user_agent.is_empty() {
            headers.insert(
                header::USER_AGENT,
                value("User-Agent", &self.config.user_agent)?,
            );
        }
        let mut replaced: Vec<HeaderName> = Vec::new();
        for (name, v) in extra_headers {
            let parsed =
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| TransportError::BadHeader {
                    name: name.clone(),
                    reason: "not a valid header name".into(),
                })?;
            if [
                header::HOST,
                header::CONTENT_TYPE,
                header::CONTENT_LENGTH,
                header::TRANSFER_ENCODING,
                header::CONNECTION,
                header::TE,
                header::UPGRADE,
            ]
            .contains(&parsed)
            {
                return Err(TransportError::BadHeader {
                    name: name.clone(),
                    reason: "the transport sets it; pass the DM type as content_type".into(),
                });
            }
            let v = value(name, v)?;
            if (parsed == header::ACCEPT || parsed == header::USER_AGENT)
                && !replaced.contains(&parsed)
            {
                headers.remove(&parsed);
                replaced.push(parsed.clone());
            }
            headers.append(parsed, v);
        }
        let mut request = Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = method;
        *request.uri_mut() = target.origin_form.clone();
        *request.version_mut() = Version::HTTP_11;
        *request.headers_mut() = headers;
        Ok(request)
    }

    /// Sets up a connection, re-trying with back-off; returns it and the attempts made.
    async fn connect(
        &self,
        target: &Target,
        tls: Option<&(TlsConnector, ServerName<'static>)>,
    ) -> Result<(Stream, u32), TransportError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let failure = match self.connect_once(target, tls).await {
                Ok(stream) => return Ok((stream, attempts)),
                Err(failure) => failure,
            };
            if failure.retryable() && attempts <= self.config.retries {
                tokio::time::sleep(self.config.backoff(attempts)).await;
                continue;
            }
            return Err(match failure {
                ConnectFailure::Io(source) => TransportError::Connect {
                    addr: target.addr(),
                    attempts,
                    source,
                },
                ConnectFailure::Timeout => TransportError::Timeout {
                    phase: TimeoutPhase::Connect,
                    addr: target.addr(),
                    after: self.config.connect_timeout,
                    attempts,
                },
                ConnectFailure::Tls(source) => TransportError::Tls {
                    addr: target.addr(),
                    source: Box::new(source),
                },
            });
        }
    }

    async fn connect_once(
        &self,
        target: &Target,
        tls: Option<&(TlsConnector, ServerName<'static>)>,
    ) -> Result<Stream, ConnectFailure> {
        let attempt = async {
            let tcp = TcpStream::connect((target.host.as_str(), target.port))
                .await
                .map_err(ConnectFailure::Io)?;
            // Best effort: a message is one write, and Nagle only delays it.
            let _ = tcp.set_nodelay(true);
            match tls {
                None => Ok(Stream::Plain(tcp)),
                Some((connector, name)) => match connector.connect(name.clone(), tcp).await {
                    Ok(stream) => Ok(Stream::Tls(Box::new(stream))),
                    Err(e) => Err(match find_rustls_error(&e) {
                        Some(tls) => ConnectFailure::Tls(tls.clone()),
                        None => ConnectFailure::Io(e),
                    }),
                },
            }
        };
        match tokio::time::timeout(self.config.connect_timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(ConnectFailure::Timeout),
        }
    }

    async fn exchange<S>(
        &self,
        target: &Target,
        stream: S,
        request: Request<Full<Bytes>>,
        attempts: u32,
        sink: &mut (dyn Sink + Send),
    ) -> Result<Response, TransportError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let read_timeout = || TransportError::Timeout {
            phase: TimeoutPhase::Response,
            addr: target.addr(),
            after: self.config.read_timeout,
            attempts,
        };
        let failed = |e: hyper::Error| exchange_error(target, e);
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(failed)?;
        let driver = AbortOnDrop(tokio::spawn(connection));
        let head = tokio::time::timeout(self.config.read_timeout, sender.send_request(request))
            .await
            .map_err(|_| read_timeout())?
            .map_err(failed)?;
        let (parts, mut incoming) = head.into_parts();
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let response = Response {
            status: parts.status.as_u16(),
            content_type,
            headers,
            body: Vec::new(),
        };
        let announced = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        sink.head(target, &response, announced)?;
        while let Some(frame) = tokio::time::timeout(self.config.read_timeout, incoming.frame())
            .await
            .map_err(|_| read_timeout())?
        {
            if let Ok(data) = frame.map_err(failed)?.into_data() {
                sink.data(target, &data)?;
            }
        }
        drop(sender);
        drop(driver);
        Ok(response)
    }
}

/// Where [`Transport::get`] puts a response body.
pub trait BodySink {
    /// The response head arrived (before any body byte): its status and headers.
    fn head(&mut self, response: &Response) -> io::Result<()>;
    /// The next piece of the body.
    fn data(&mut self, chunk: &[u8]) -> io::Result<()>;
}

/// The transport's internal view of a body consumer.
trait Sink {
    fn head(
        &mut self,
        target: &Target,
        response: &Response,
        announced: Option<u64>,
    ) -> Result<(), TransportError>;
    fn data(&mut self, target: &Target, chunk: &[u8]) -> Result<(), TransportError>;
}

/// A DM response: the whole body in memory, at most `limit` bytes.
struct Collect {
    body: Vec<u8>,
    limit: usize,
}

impl Sink for Collect {
    fn head(
        &mut self,
        target: &Target,
        _: &Response,
        announced: Option<u64>,
    ) -> Result<(), TransportError> {
        if announced.is_some_and(|n| n > self.limit as u64) {
            return Err(TransportError::TooLarge {
                addr: target.addr(),
                limit: self.limit,
            });
        }
        Ok(())
    }

    fn data(&mut self, target: &Target, chunk: &[u8]) -> Result<(), TransportError> {
        if self.body.len() + chunk.len() > self.limit {
            return Err(TransportError::TooLarge {
                addr: target.addr(),
                limit: self.limit,
            });
        }
        self.body.extend_from_slice(chunk);
        Ok(())
    }
}

/// A caller's [`BodySink`].
struct Forward<'a> {
    sink: &'a mut (dyn BodySink + Send),
}

impl Sink for Forward<'_> {
    fn head(
        &mut self,
        target: &Target,
        r: &Response,
        _: Option<u64>,
    ) -> Result<(), TransportError> {
        self.sink.head(r).map_err(|source| TransportError::Sink {
            addr: target.addr(),
            source,
        })
    }

    fn data(&mut self, target: &Target, chunk: &[u8]) -> Result<(), TransportError> {
        self.sink
            .data(chunk)
            .map_err(|source| TransportError::Sink {
                addr: target.addr(),
                source,
            })
    }
}

/// A parsed server URL.
#[derive(Debug)]
struct Target {
    https: bool,
    /// Host for DNS and TLS: no brackets around an IPv6 literal.
    host: String,
    port: u16,
    /// The `Host` header: the URL's authority.
    authority: String,
    origin_form: Uri,
}

impl Target {
    fn parse(url: &str) -> Result<Target, TransportError> {
        let bad = |reason: &str| TransportError::BadUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: Uri = url
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| bad(&e.to_string()))?;
        let https = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("http") => false,
            Some("https") => true,
            Some(other) => return Err(bad(&format!("scheme {other:?} is not http or https"))),
            None => return Err(bad("no scheme")),
        };
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad(
                "credentials in the URL are not supported; DM credentials go in the message",
            ));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        let origin_form: Uri = uri
            .path_and_query()
            .map(|p| p.as_str())
            .filter(|p| !p.is_empty())
            .unwrap_or("/")
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| bad(&e.to_string()))?;
        Ok(Target {
            https,
            host,
            port,
            authority: authority.as_str().to_owned(),
            origin_form,
        })
    }

    fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

enum ConnectFailure {
    Io(io::Error),
    Timeout,
    Tls(rustls::Error),
}

impl ConnectFailure {
    /// Whether trying again may help: not for TLS errors (a certificate stays untrusted).
    fn retryable(&self) -> bool {
        !matches!(self, ConnectFailure::Tls(_))
    }
}

/// Stops the task driving a connection when the exchange ends or is abandoned.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What to do about a TLS failure.
fn tls_hint(error: &(dyn StdError + 'static)) -> &'static str {
    use rustls::AlertDescription as A;
    match find_rustls_error(error) {
        Some(rustls::Error::InvalidCertificate(_)) => {
            "the server's certificate was not accepted: check that trust_anchors hold the CA \
             that issued it and that it names the URL's host"
        }
        Some(rustls::Error::AlertReceived(A::CertificateRequired)) => {
            "the server requires a client certificate: configure client_cert"
        }
        Some(rustls::Error::AlertReceived(
            A::BadCertificate
            | A::UnknownCA
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::CertificateUnknown
            | A::AccessDenied,
        )) => {
            "the server refused the client certificate: use one issued by a CA the server \
             trusts, valid now"
        }
        _ => "check that the server speaks TLS 1.2 or 1.3 with a cipher suite rustls offers",
    }
}

fn exchange_error(target: &Target, e: hyper::Error) -> TransportError {
    match find_rustls_error(&e) {
        // With TLS 1.3 the server judges the client certificate after the client's handshake
        // is done, so its refusal arrives as an alert while the request is in flight.
        Some(tls) => TransportError::Tls {
            addr: target.addr(),
            source: Box::new(tls.clone()),
        },
        None => TransportError::Http {
            addr: target.addr(),
            source: Box::new(e),
        },
    }
}

/// The rustls error somewhere in `err`'s chain. `io::Error::source` skips the error it
/// wraps, so wrapped errors are looked at through `get_ref`.
fn find_rustls_error<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = e
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        current = e.source();
    }
    None
}

fn tls_config(config: &TransportConfig) -> Result<rustls::ClientConfig, TransportError> {
    let mut roots = rustls::RootCertStore::empty();
    for path in &config.trust_anchors {
        for cert in load_certs(path)? {
            roots
                .add(cert)
                .map_err(|e| TransportError::BadCertificate {
                    path: path.clone(),
                    reason: format!("not a usable CA certificate ({e}); give the CA's certificate"),
                })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Config {
            reason: format!("TLS provider: {e}"),
        })?;
    let builder = if config.accept_any_certificate {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider.clone())))
    } else {
        builder.with_root_certificates(roots)
    };
    let mut tls = match &config.client_cert {
        None => builder.with_no_client_auth(),
        Some(client) => {
            let chain = load_certs(&client.chain)?;
            let key = load_key(&client.key)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TransportError::BadKey {
                    path: client.key.clone(),
                    reason: format!(
                        "cannot be used with the certificate in {} ({e}); give the key that \
                         belongs to the chain's first certificate",
                        client.chain.display()
                    ),
                })?
        }
    };
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

/// The `accept_any_certificate` fault: every certificate chain passes, whoever issued it and
/// whatever name it is for; the handshake's signatures are still verified with the provider,
/// so the connection works, it just is not authenticated (a deliberately faulty device).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let bad = |reason: String| TransportError::BadCertificate {
        path: path.to_owned(),
        reason,
    };
    let pem =
        std::fs::read(path).map_err(|e| bad(format!("cannot read it ({e}); check the path")))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not valid PEM ({e})")))?;
    if certs.is_empty() {
        return Err(bad(
            "no CERTIFICATE block found; give a PEM file (convert DER with `openssl x509 -inform der`)"
                .into(),
        ));
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TransportError> {
    let bad = |reason: String| TransportError::BadKey {
        path: path.to_owned(),
        reason,
    };
    let pem =
        std::fs::read(path).map_err(|e| bad(format!("cannot read it ({e}); check the path")))?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => bad(
            "no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block found; give the key as PEM"
                .into(),
        ),
        e => bad(format!("not valid PEM ({e})")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = TransportConfig {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(700),
            ..TransportConfig::default()
        };
        let pauses: Vec<u128> = (1..=5).map(|n| config.backoff(n).as_millis()).collect();
        assert_eq!(pauses, [100, 200, 400, 700, 700]);
        assert_eq!(config.backoff(0).as_millis(), 100);
        assert_eq!(config.backoff(40).as_millis(), 700);
        assert_eq!(config.backoff(u32::MAX).as_millis(), 700);
    }

    #[test]
    fn urls() {
        let t = Target::parse("https://dm.example.com/manage?x=1").expect("valid");
        assert!(t.https);
        assert_eq!((t.host.as_str(), t.port), ("dm.example.com", 443));
        assert_eq!(t.origin_form.to_string(), "/manage?x=1");
        assert_eq!(t.authority, "dm.example.com");

        let t = Target::parse("http://[::1]:8080").expect("valid");
        assert_eq!((t.host.as_str(), t.port), ("::1", 8080));
        assert_eq!(t.origin_form.to_string(), "/");
        assert_eq!(t.addr(), "[::1]:8080");
        assert_eq!(t.authority, "[::1]:8080");

        for bad in [
            "ftp://h/",
            "/relative",
            "http://user:pw@h/",
            "not a url",
            "http://",
        ] {
            let e = Target::parse(bad).expect_err(bad);
            assert_eq!(e.kind(), "bad-url", "{bad}: {e}");
        }
    }
}
