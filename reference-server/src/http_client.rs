//! A minimal HTTP/1.1 client over plain TCP for the server's own outgoing requests: HTTP
//! push of package #0 to a device and the CLI's calls to the admin API. One request per
//! connection, the whole answer read into memory.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Why a request failed before an HTTP answer came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpClientError {
    /// The URL is not an `http://host[:port]/path` URL.
    #[error("{url:?} is not usable: {reason}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Connecting or exchanging failed.
    #[error("{url}: {reason}")]
    Io {
        /// The URL.
        url: String,
        /// The cause.
        reason: String,
    },
}

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Body.
    pub body: Vec<u8>,
    /// Its headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
}

impl Answer {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Send `method url` with `body` of `content_type` (none when `None`) and read the answer.
pub async fn request(
    method: &str,
    url: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Result<Answer, HttpClientError> {
    let headers: Vec<(String, String)> = content_type
        .map(|ct| ("content-type".to_owned(), ct.to_owned()))
        .into_iter()
        .collect();
    request_with(method, url, &headers, body).await
}

/// [`request`] with any request headers (e.g. `x-syncml-hmac` when relaying a DM message).
pub async fn request_with(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Result<Answer, HttpClientError> {
    let bad = |reason: String| HttpClientError::Url {
        url: url.to_owned(),
        reason,
    };
    let io = |reason: String| HttpClientError::Io {
        url: url.to_owned(),
        reason,
    };
    let uri: hyper::Uri = url.parse().map_err(|e| bad(format!("not a URL ({e})")))?;
    if uri.scheme_str() != Some("http") {
        return Err(bad("only http:// is supported here".into()));
    }
    let host = uri.host().ok_or_else(|| bad("no host".into()))?.to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| io(format!("cannot connect ({e}); is it running?")))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(|e| io(e.to_string()))?;
    tokio::spawn(conn);
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let method: hyper::Method = method.parse().map_err(|e| bad(format!("method: {e}")))?;
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, format!("{host}:{port}"));
    for (name, value) in headers {
        req = req.header(name.as_str(), value.as_str());
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| bad(e.to_string()))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| io(e.to_string()))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| io(e.to_string()))?
        .to_bytes()
        .to_vec();
    Ok(Answer {
        status,
        body,
        headers,
    })
}

/// `s` as one URL path segment: everything but unreserved characters percent-encoded
/// (DevIds hold `:` and may hold `/`).
pub fn path_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
