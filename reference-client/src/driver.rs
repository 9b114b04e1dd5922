//! Runs a [`Session`] over a real [`Transport`]: encode, post, decode, hand the answer to
//! the engine, until it says the session is over. Every message in both directions is kept
//! in the [`Exchange`] list (the raw material of `--trace` transcripts), stamped with the
//! session's [`dm_tree::Clock`] and with the HTTP headers that matter (`content-type`,
//! `x-syncml-hmac`, facts §1.1, §6.3).
//!
//! [`run_with`] also takes [`TesterHooks`] that script the device's misbehaviour; [`run`] is
//! [`run_with`] with [`NoTester`].

use dm_protocol::codec::{self, DecodeOptions, Encoding};
use dm_protocol::model::SyncMl;
use dm_protocol::violation::Violation;
use dm_tree::{CommandHooks, Tree};

use crate::session::{EndReason, Received, Session, Step, HMAC_HEADER};
use crate::tester::{Dropped, NoTester, SendAction, TesterHooks};
use crate::transport::{Response, Transport, TransportError};

/// Direction of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client → server.
    Sent,
    /// Server → client.
    Received,
}

/// One message as it travelled.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// Which way.
    pub direction: Direction,
    /// Its encoding.
    pub encoding: Encoding,
    /// The exact bytes.
    pub bytes: Vec<u8>,
    /// Representation violations found when decoding a received message.
    pub violations: Vec<Violation>,
    /// When it was sent or received: Unix time in whole seconds, from the session's clock
    /// (the granularity of [`dm_tree::Clock`]).
    pub time: u64,
    /// The HTTP headers that matter for DM, names in lower case: `content-type` and
    /// `x-syncml-hmac` (sent: as sent, after tester hooks; received: as received).
    pub headers: Vec<(String, String)>,
    /// What the client tolerated in a received message although a strict peer would not
    /// send it (see [`leniencies`]); empty for sent messages.
    pub leniencies: Vec<String>,
}

/// The leniencies of a received answer (docs/reference-client.md "Leniencies"): a
/// Content-Type that is missing or not the DM type of the body's encoding (facts §1.1), an
/// answer in another encoding than the request, a DOCTYPE declaration, pretty-printing
/// whitespace between elements. Each is accepted and recorded, never fatal.
pub fn leniencies(content_type: Option<&str>, body: &[u8], sent: Encoding) -> Vec<String> {
    let body_enc = Encoding::detect(body);
    let mut out: Vec<String> = codec::content_type_leniency(content_type, body)
        .into_iter()
        .collect();
    if body_enc != sent {
        out.push(format!(
            "answered in {} to a {} request; accepted",
            body_enc.name(),
            sent.name()
        ));
    }
    if body_enc == Encoding::Xml {
        let text = String::from_utf8_lossy(body);
        if text.contains("<!DOCTYPE") {
            out.push("DOCTYPE declaration in the message; ignored".into());
        }
        let between = text.split('>').skip(1).any(|rest| {
            let gap = rest.split('<').next().unwrap_or("");
            !gap.is_empty() && gap.trim().is_empty() && rest.contains('<')
        });
        if between {
            out.push("pretty-printed XML (whitespace between elements); ignored".into());
        }
    }
    out
}

/// Why a session could not run to its end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The message could not be encoded (a bug, or a tree value no encoding can carry).
    #[error("cannot encode our message: {0}")]
    Encode(codec::CodecError),
    /// The HTTP exchange failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The server answered with a non-2xx HTTP status.
    #[error("the server answered HTTP {status}; check the server URL and its logs")]
    HttpStatus {
        /// The status.
        status: u16,
    },
    /// The server's answer is not a SyncML DM message.
    #[error("the server's answer is not a DM message: {0}")]
    Decode(codec::CodecError),
    /// The server kept the session going beyond the configured number of messages.
    #[error("the session exceeded {0} messages; the server does not end it")]
    TooManyMessages(usize),
}

/// The outcome of a session run.
#[derive(Debug)]
pub struct Run {
    /// How the session ended. A session the tester dropped ends with
    /// [`EndReason::Protocol`] and [`Run::dropped`] says where.
    pub end: EndReason,
    /// Every message, in order.
    pub exchanges: Vec<Exchange>,
    /// Set when a [`TesterHooks::send_action`] dropped the connection.
    pub dropped: Option<Dropped>,
}

/// Run `session` to its end: package 1, then request/response until the engine finishes.
/// At most `max_messages` client messages are sent.
pub async fn run(
    tree: &mut Tree,
    session: &mut Session,
    transport: &Transport,
    encoding: Encoding,
    hooks: &mut dyn CommandHooks,
    max_messages: usize,
) -> Result<Run, DriverError> {
    run_with(
        tree,
        session,
        transport,
        encoding,
        hooks,
        &mut NoTester,
        max_messages,
    )
    .await
}

/// [`run`] with tester hooks scripting the device's misbehaviour (see [`crate::tester`]).
/// The encoding is given to the engine so it can respect the server's `MaxMsgSize`.
pub async fn run_with(
    tree: &mut Tree,
    session: &mut Session,
    transport: &Transport,
    encoding: Encoding,
    hooks: &mut dyn CommandHooks,
    tester: &mut dyn TesterHooks,
    max_messages: usize,
) -> Result<Run, DriverError> {
    let mut exchanges = Vec::new();
    let (end, dropped) = run_recording(
        tree,
        session,
        transport,
        encoding,
        hooks,
        tester,
        max_messages,
        &mut exchanges,
    )
    .await?;
    Ok(Run {
        end,
        exchanges,
        dropped,
    })
}

/// [`run_with`] that records every message into `exchanges` as it goes, so the messages
/// exchanged before a failure (an HTTP error, an answer that is not a DM message — whose
/// bytes are recorded too) are kept for the trace. Returns how the session ended and
/// whether the tester dropped the connection.
#[allow(clippy::too_many_arguments)]
pub async fn run_recording(
    tree: &mut Tree,
    session: &mut Session,
    transport: &Transport,
    encoding: Encoding,
    hooks: &mut dyn CommandHooks,
    tester: &mut dyn TesterHooks,
    max_messages: usize,
    exchanges: &mut Vec<Exchange>,
) -> Result<(EndReason, Option<Dropped>), DriverError> {
    session.set_encoding(encoding);
    let mut next = session.start(tree);
    for _ in 0..max_messages {
        let msg_id = next.hdr.msg_id.clone();
        let aborting = tester.abort_instead(&next);
        if aborting {
            next = session.abort(next);
        }
        let response = match send(session, transport, encoding, tester, next, exchanges).await? {
            Sent::Answered(r) => r,
            Sent::Dropped(action) => {
                let end = EndReason::Protocol(format!(
                    "the tester dropped the connection ({action:?}) at our message {msg_id}"
                ));
                return Ok((end, Some(Dropped { msg_id, action })));
            }
        };
        let decoded = codec::decode(&response.body, DecodeOptions::LENIENT);
        tester.on_received(&response.body, decoded.as_ref().ok().map(|d| &d.message));
        exchanges.push(Exchange {
            direction: Direction::Received,
            encoding: decoded
                .as_ref()
                .map(|d| d.encoding)
                .unwrap_or_else(|_| Encoding::detect(&response.body)),
            bytes: response.body.clone(),
            violations: decoded
                .as_ref()
                .map(|d| d.violations.clone())
                .unwrap_or_default(),
            time: session.clock().now_unix(),
            headers: received_headers(&response),
            leniencies: leniencies(response.header("content-type"), &response.body, encoding),
        });
        if response.is_success() {
            // The server took our message: a nonce its Chal carried is now the one the
            // server uses next (facts §6.2, §6.3).
            session.delivered();
        }
        if aborting {
            // facts §2.3: any answer to an abort is ignored (but kept in the transcript).
            return Ok((EndReason::AbortedByClient, None));
        }
        if !response.is_success() {
            return Err(DriverError::HttpStatus {
                status: response.status,
            });
        }
        let decoded = decoded.map_err(DriverError::Decode)?;
        let hmac = response.header(HMAC_HEADER).map(str::to_owned);
        let rx = Received {
            bytes: &response.body,
            hmac_header: hmac.as_deref(),
            msg: &decoded.message,
        };
        match session.handle_received(tree, &rx, hooks) {
            Step::Send(m) => next = *m,
            Step::Finished(end) => return Ok((end, None)),
        }
    }
    Err(DriverError::TooManyMessages(max_messages))
}

enum Sent {
    Answered(Response),
    Dropped(SendAction),
}

/// Encode, apply the tester's hooks, record and post one client message.
async fn send(
    session: &Session,
    transport: &Transport,
    encoding: Encoding,
    tester: &mut dyn TesterHooks,
    mut msg: SyncMl,
    exchanges: &mut Vec<Exchange>,
) -> Result<Sent, DriverError> {
    tester.before_encode(&mut msg);
    let mut bytes = codec::encode(&msg, encoding).map_err(DriverError::Encode)?;
    if let Some(replaced) = tester.replace_bytes(&msg, &bytes) {
        bytes = replaced;
    }
    let mut extra = session.outgoing_headers(&bytes);
    tester.edit_headers(&msg, &mut extra);
    let action = tester.send_action(&msg);
    if action == SendAction::DropBeforeSend {
        return Ok(Sent::Dropped(action));
    }
    if let Some(pause) = tester.delay_before_send(&msg) {
        tokio::time::sleep(pause).await;
    }
    let mut headers = vec![(
        "content-type".to_owned(),
        encoding.content_type().to_owned(),
    )];
    headers.extend(
        extra
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.clone())),
    );
    exchanges.push(Exchange {
        direction: Direction::Sent,
        encoding,
        bytes: bytes.clone(),
        violations: Vec::new(),
        time: session.clock().now_unix(),
        headers,
        leniencies: Vec::new(),
    });
    let response = transport
        .post_encoded(session.target_uri(), encoding, bytes, &extra)
        .await?;
    if action == SendAction::DropAfterSend {
        // The answer is discarded unread by the engine: to the server the client vanished.
        return Ok(Sent::Dropped(action));
    }
    Ok(Sent::Answered(response))
}

/// The received headers worth keeping (facts §1.1, §6.3).
fn received_headers(response: &Response) -> Vec<(String, String)> {
    response
        .headers
        .iter()
        .filter(|(n, _)| {
            n.eq_ignore_ascii_case("content-type") || n.eq_ignore_ascii_case(HMAC_HEADER)
        })
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const XML: &[u8] = b"<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr/></SyncML>";

    #[rstest]
    #[case::exact(Some("application/vnd.syncml.dm+xml"), XML, Encoding::Xml, &[])]
    #[case::charset(Some("application/vnd.syncml.dm+xml; charset=UTF-8"), XML, Encoding::Xml, &[])]
    #[case::ds_type(Some("application/vnd.syncml+xml"), XML, Encoding::Xml, &["not the DM type"])]
    #[case::missing(None, XML, Encoding::Xml, &["no Content-Type"])]
    #[case::unknown(Some("text/plain"), XML, Encoding::Xml, &["not a DM type"])]
    #[case::mismatch(Some("application/vnd.syncml.dm+wbxml"), XML, Encoding::Xml, &["names WBXML but the body is XML"])]
    #[case::other_encoding(Some("application/vnd.syncml.dm+xml"), XML, Encoding::Wbxml, &["answered in XML to a WBXML request"])]
    #[case::doctype(Some("application/vnd.syncml.dm+xml"), b"<!DOCTYPE SyncML><SyncML/>", Encoding::Xml, &["DOCTYPE"])]
    #[case::pretty(Some("application/vnd.syncml.dm+xml"), b"<SyncML>\n  <SyncHdr/>\n</SyncML>", Encoding::Xml, &["pretty-printed"])]
    #[case::text_is_not_pretty(Some("application/vnd.syncml.dm+xml"), b"<a><b> x </b></a>", Encoding::Xml, &[])]
    fn leniency_rules(
        #[case] ct: Option<&str>,
        #[case] body: &[u8],
        #[case] sent: Encoding,
        #[case] want: &[&str],
    ) {
        let got = leniencies(ct, body, sent);
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (g, w) in got.iter().zip(want) {
            assert!(g.contains(w), "{g:?} should contain {w:?}");
        }
    }
}
