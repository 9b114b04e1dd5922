//! HTTP listener: package #0 as the body of a `POST` with
//! `Content-Type: application/vnd.syncml.notification` (facts §1.1; HTTP push as a
//! notification transport is DM13-WID-1.2). The path is not checked. Answers:
//!
//! | situation | status |
//! |---|---|
//! | verified, or a repeat of a verified one | 202 |
//! | not a package #0 of a known server with a matching digest | 400, one-line reason |
//! | method other than `POST` | 405 with `Allow: POST` |
//! | another content type | 415 |
//! | body over `max_bytes` | 413 |
//! | body not complete within `read_timeout` | 408 |
//! | the runner's queue is full | 503 |
//!
//! One request per connection (no keep-alive), `max_connections` at once; the request head
//! and the body each get `read_timeout`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::accept::accept_loop;
use super::config::HttpConfig;
use super::sink::Sink;
use super::verify::{RejectReason, Transport};

/// The package #0 MIME type (facts §1.1).
pub const NOTIFICATION_MIME: &str = "application/vnd.syncml.notification";

/// Accept connections until the task is aborted (which also aborts every connection).
pub(crate) async fn serve(listener: TcpListener, config: HttpConfig, sink: Arc<Sink>) {
    let limit = config.max_connections;
    let handle = {
        let sink = Arc::clone(&sink);
        move |stream, peer| {
            let (config, sink) = (config.clone(), Arc::clone(&sink));
            async move {
                serve_connection(stream, peer, config, sink).await;
            }
        }
    };
    accept_loop(listener, Transport::Http, limit, sink, handle).await;
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    config: HttpConfig,
    sink: Arc<Sink>,
) {
    let timeout = config.read_timeout();
    let service = {
        let sink = Arc::clone(&sink);
        service_fn(move |req| {
            let sink = Arc::clone(&sink);
            let config = config.clone();
            async move { Ok::<_, Infallible>(answer(req, peer, &config, &sink).await) }
        })
    };
    let connection = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .max_buf_size(16 * 1024)
        .serve_connection(TokioIo::new(stream), service);
    // Backstop for peers that stall anywhere else (e.g. never read the answer).
    match tokio::time::timeout(timeout.saturating_mul(3), connection).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) if e.is_timeout() => sink.reject(
            Transport::Http,
            peer,
            RejectReason::Timeout {
                timeout_ms: config_ms(timeout),
                got: 0,
            },
        ),
        Ok(Err(e)) => sink.reject(
            Transport::Http,
            peer,
            RejectReason::Io {
                message: e.to_string(),
            },
        ),
        Err(_) => sink.reject(
            Transport::Http,
            peer,
            RejectReason::Timeout {
                timeout_ms: config_ms(timeout.saturating_mul(3)),
                got: 0,
            },
        ),
    }
}

fn config_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Whether a `Content-Type` value names the package #0 type (parameters ignored,
/// case-insensitive as MIME types are).
fn is_notification_type(value: &str) -> bool {
    value
        .split(';')
        .next()
        .map(str::trim)
        .is_some_and(|t| t.eq_ignore_ascii_case(NOTIFICATION_MIME))
}

/// The answer to one request; rejections are also logged through the sink.
async fn answer(
    req: Request<Incoming>,
    peer: SocketAddr,
    config: &HttpConfig,
    sink: &Sink,
) -> Response<Full<Bytes>> {
    let refuse = |status: StatusCode, reason: RejectReason| {
        let line = reason.to_string();
        sink.reject(Transport::Http, peer, reason);
        plain(status, &line)
    };
    if req.method() != Method::POST {
        let method = req.method().to_string();
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            RejectReason::MethodNotAllowed { method },
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    if !is_notification_type(&content_type) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RejectReason::WrongContentType { content_type },
        );
    }
    let limit = config.max_bytes;
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if let Some(size) = announced.filter(|n| *n > limit) {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            RejectReason::Oversize { size, limit },
        );
    }
    let timeout = config.read_timeout();
    let body =
        match tokio::time::timeout(timeout, Limited::new(req.into_body(), limit).collect()).await {
            Err(_) => {
                return refuse(
                    StatusCode::REQUEST_TIMEOUT,
                    RejectReason::Timeout {
                        timeout_ms: config.read_timeout_ms,
                        got: 0,
                    },
                )
            }
            Ok(Err(e)) if e.is::<LengthLimitError>() => {
                return refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    RejectReason::Oversize {
                        size: limit + 1,
                        limit,
                    },
                )
            }
            Ok(Err(e)) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    RejectReason::Io {
                        message: e.to_string(),
                    },
                )
            }
            Ok(Ok(collected)) => collected.to_bytes(),
        };
    match sink.deliver(&body, Transport::Http, peer) {
        Ok(()) => plain(StatusCode::ACCEPTED, "accepted"),
        Err(reason @ RejectReason::Duplicate { .. }) => {
            plain(StatusCode::ACCEPTED, &reason.to_string())
        }
        Err(reason @ RejectReason::QueueFull) => {
            plain(StatusCode::SERVICE_UNAVAILABLE, &reason.to_string())
        }
        Err(reason) => plain(StatusCode::BAD_REQUEST, &reason.to_string()),
    }
}

/// A `text/plain` answer with one line.
fn plain(status: StatusCode, line: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{line}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::is_notification_type;

    #[test]
    fn content_type_match_ignores_case_and_parameters_only() {
        assert!(is_notification_type("application/vnd.syncml.notification"));
        assert!(is_notification_type(
            "Application/VND.SyncML.Notification ; charset=x"
        ));
        assert!(!is_notification_type(
            "application/vnd.syncml.dm.notification"
        ));
        assert!(!is_notification_type("application/vnd.syncml.dm+xml"));
        assert!(!is_notification_type(""));
    }
}
