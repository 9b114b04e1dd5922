//! The recording relay of interop runs: the client under test is bootstrapped with the
//! relay's URL; the relay forwards each DM request (body, Content-Type, `x-syncml-hmac`)
//! unchanged to the server under test and its answer (status, body, Content-Type,
//! `x-syncml-hmac`) unchanged back, and keeps both — the harness's view of an exchange
//! between two implementations (docs/interop-guide.md).
//!
//! Upstream it uses the `dm-client` transport, so an `https://` server is reached over TLS
//! trusting the server profile's anchors (docs/tls.md). That transport adds an `Accept`
//! with the Content-Type's MIME type, follows no redirect, never re-sends a request, waits
//! at most the step deadline for an answer and takes answers up to 16 MiB; a request
//! without a Content-Type is answered 400 (a DM message always has one, facts §1.1).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use super::world::{Msg, Observed, Party, Why};

/// One relayed request and its answer.
#[derive(Debug, Clone)]
struct Pair {
    request: Vec<u8>,
    answer: Option<Vec<u8>>,
    time: u64,
}

/// A running relay.
pub struct Relay {
    /// The URL to give the client.
    pub url: String,
    pairs: Arc<Mutex<Vec<Pair>>>,
    seen: usize,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

const FORWARDED: [&str; 2] = ["content-type", "x-syncml-hmac"];

/// Where and how the relay forwards.
struct Upstream {
    url: String,
    transport: dm_client::transport::Transport,
}

async fn relay(
    req: Request<Incoming>,
    target: Arc<Upstream>,
    pairs: Arc<Mutex<Vec<Pair>>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let Some(content_type) = req
        .headers()
        .get("content-type")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    else {
        return Ok(text(
            400,
            "no Content-Type: a DM message names its MIME type (facts §1.1)",
        ));
    };
    let headers: Vec<(String, String)> = FORWARDED
        .iter()
        .filter(|n| **n != "content-type")
        .filter_map(|n| {
            req.headers().get(*n).map(|v| {
                (
                    (*n).to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
        })
        .collect();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(e) => {
            return Ok(text(400, &format!("cannot read the request: {e}")));
        }
    };
    let answer = target
        .transport
        .post(&target.url, &content_type, body.clone(), &headers)
        .await;
    let (response, answer_body) = match answer {
        Ok(a) => {
            let mut r = Response::builder().status(a.status);
            for n in FORWARDED {
                if let Some(v) = a.header(n) {
                    r = r.header(n, v);
                }
            }
            let resp = r
                .body(Full::new(Bytes::from(a.body.clone())))
                .unwrap_or_else(|_| text(502, "the server's answer could not be relayed"));
            (resp, Some(a.body))
        }
        Err(e) => (
            text(502, &format!("the server under test is unreachable: {e}")),
            None,
        ),
    };
    let pair = Pair {
        request: body,
        answer: answer_body,
        time: now(),
    };
    match pairs.lock() {
        Ok(mut p) => p.push(pair),
        Err(p) => p.into_inner().push(pair),
    }
    Ok(response)
}

fn text(status: u16, msg: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(msg.to_owned())));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    r
}

impl Relay {
    /// Start a relay to the DM URL `target` on a free loopback port; an `https://` target
    /// is reached over TLS trusting only `trust_anchors` (PEM files), and each answer is
    /// awaited at most `deadline`.
    pub async fn start(
        target: &str,
        trust_anchors: &[std::path::PathBuf],
        deadline: std::time::Duration,
    ) -> Result<Relay, Why> {
        let transport =
            dm_client::transport::Transport::new(dm_client::transport::TransportConfig {
                retries: 0,
                trust_anchors: trust_anchors.to_vec(),
                user_agent: String::new(),
                read_timeout: deadline,
                ..Default::default()
            })
            .map_err(|e| Why::Error(format!("cannot set up the relay's transport: {e}")))?;
        let (listener, addr) = super::server_side::bind_loopback().await?;
        let pairs = Arc::new(Mutex::new(Vec::new()));
        let target = Arc::new(Upstream {
            url: target.to_owned(),
            transport,
        });
        let p = pairs.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (p, t) = (p.clone(), target.clone());
                tokio::spawn(async move {
                    let svc =
                        hyper::service::service_fn(move |req| relay(req, t.clone(), p.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), svc)
                        .await;
                });
            }
        });
        Ok(Relay {
            url: format!("http://{addr}/dm"),
            pairs,
            seen: 0,
            task,
        })
    }

    /// The sessions relayed since the last call, grouped by SessionID. A session counts as
    /// completed when its last message is a server message with Final and no command that
    /// needs an answer (facts §2.2: such a package ends the session).
    pub fn new_sessions(&mut self) -> Vec<Observed> {
        let pairs: Vec<Pair> = match self.pairs.lock() {
            Ok(p) => p[self.seen..].to_vec(),
            Err(p) => p.into_inner()[self.seen..].to_vec(),
        };
        self.seen += pairs.len();
        let mut sessions: Vec<(String, Observed)> = Vec::new();
        for pair in pairs {
            let req = Msg::new(Party::Client, pair.request, pair.time);
            let sid = req
                .msg
                .as_ref()
                .map(|m| m.hdr.session_id.clone())
                .unwrap_or_default();
            let at = match sessions.iter().position(|(s, _)| *s == sid) {
                Some(i) => i,
                None => {
                    sessions.push((sid, Observed::default()));
                    sessions.len() - 1
                }
            };
            let obs = &mut sessions[at].1;
            obs.messages.push(req);
            match pair.answer {
                Some(a) => obs.messages.push(Msg::new(Party::Server, a, pair.time)),
                None => obs.end = "the server under test did not answer".into(),
            }
        }
        sessions
            .into_iter()
            .map(|(_, mut o)| {
                let ended = o.messages.last().is_some_and(|m| {
                    m.from == Party::Server
                        && m.msg.as_ref().is_some_and(|x| {
                            x.body.final_
                                && x.body.commands.iter().all(|c| match c {
                                    // A Chal on a 212/200 only carries the next session's
                                    // nonce; a challenge is a 401/407 (facts §6.2).
                                    dm_protocol::model::Command::Status(s) => {
                                        s.chal.is_none() || s.code.is_success()
                                    }
                                    _ => false,
                                })
                        })
                });
                o.completed = ended;
                if o.end.is_empty() {
                    o.end = if ended {
                        "completed".into()
                    } else {
                        "the relayed exchange stopped before a final server package without commands".into()
                    };
                }
                o
            })
            .collect()
    }
}
