//! `--trace FILE`: one JSON object per line and per message, appended as sessions run
//! (docs/reference-client.md "Traces"). Each line is complete on its own, so a trace can be
//! read while it grows and survives a crash up to the last full line.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use dm_protocol::codec::{self, DecodeOptions, Encoding};
use serde::Serialize;

use crate::device::SessionReport;
use crate::driver::{Direction, Exchange};

/// One line of a trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceLine {
    /// The session's SessionID.
    pub session_id: String,
    /// The server's ServerID.
    pub server_id: String,
    /// Position of the message in its session, from 1.
    pub seq: usize,
    /// `sent` (client → server) or `received`.
    pub direction: &'static str,
    /// When, Unix seconds from the device's clock.
    pub time: u64,
    /// The HTTP headers that matter (`content-type`, `x-syncml-hmac`), lower-case names.
    pub headers: Vec<(String, String)>,
    /// `xml` or `wbxml`.
    pub encoding: Encoding,
    /// The exact bytes, base64.
    pub bytes_b64: String,
    /// The message as pretty-printed XML (decoded from WBXML if need be); absent when the
    /// bytes are not a DM message.
    pub xml: Option<String>,
    /// Why the bytes could not be decoded, if they could not.
    pub decode_error: Option<String>,
    /// Representation violations found in the message (the codec's rules), then what the
    /// client tolerated (`leniency: …`, see [`crate::driver::leniencies`]).
    pub violations: Vec<String>,
    /// Protocol deviations the client noticed in this received message; on a sent message,
    /// rules the device itself could not keep (`ours: …`).
    pub deviations: Vec<String>,
    /// On the session's last line only: how the session ended (`completed`, or the reason it
    /// did not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// Why a trace could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the trace {path}: {source}; check the path and free space")]
pub struct TraceError {
    /// The file.
    pub path: PathBuf,
    /// The cause.
    pub source: std::io::Error,
}

/// The trace lines of one session.
pub fn lines(report: &SessionReport) -> Vec<TraceLine> {
    let mut out: Vec<TraceLine> = report
        .exchanges
        .iter()
        .enumerate()
        .map(|(i, e)| line(report, i + 1, e))
        .collect();
    if let Some(last) = out.last_mut() {
        last.end = Some(match &report.end {
            Ok(e) => end_name(e),
            Err(e) => format!("failed: {e}"),
        });
    }
    out
}

/// A short name for how a session ended.
pub fn end_name(end: &crate::session::EndReason) -> String {
    use crate::session::EndReason;
    match end {
        EndReason::Completed => "completed".into(),
        EndReason::AbortedByServer => "aborted by the server (1223)".into(),
        EndReason::AbortedByClient => "aborted by the device (1223)".into(),
        EndReason::AuthFailed(c) => format!("our credentials were refused ({})", c.as_u16()),
        EndReason::ServerNotAuthenticated => "the server did not authenticate".into(),
        EndReason::Refused(c) => format!("the server refused our message ({})", c.as_u16()),
        EndReason::Protocol(why) => format!("protocol error: {why}"),
    }
}

fn line(report: &SessionReport, seq: usize, e: &Exchange) -> TraceLine {
    let (xml, decode_error, msg_id) = match codec::decode(&e.bytes, DecodeOptions::LENIENT) {
        Ok(d) => match codec::to_pretty_xml(&d.message) {
            Ok(x) => (Some(x), None, Some(d.message.hdr.msg_id)),
            Err(err) => (None, Some(err.to_string()), Some(d.message.hdr.msg_id)),
        },
        Err(err) => (None, Some(err.to_string()), None),
    };
    let received = e.direction == Direction::Received;
    let same = |id: &str| msg_id.as_deref() == Some(id);
    let deviations = if received {
        report
            .deviations
            .iter()
            .filter(|d| same(&d.msg_id))
            .map(|d| d.what.clone())
            .collect()
    } else {
        report
            .own_deviations
            .iter()
            .filter(|d| same(&d.our_msg_id))
            .map(|d| format!("ours: {}", d.what))
            .collect()
    };
    TraceLine {
        session_id: report.session_id.clone(),
        server_id: report.server_id.clone(),
        seq,
        direction: if received { "received" } else { "sent" },
        time: e.time,
        headers: e.headers.clone(),
        encoding: e.encoding,
        bytes_b64: dm_protocol::auth::b64(&e.bytes),
        xml,
        decode_error,
        violations: e
            .violations
            .iter()
            .map(ToString::to_string)
            .chain(e.leniencies.iter().map(|l| format!("leniency: {l}")))
            .collect(),
        deviations,
        end: None,
    }
}

/// Append the session's lines to the trace file (created if missing).
pub fn append(path: &Path, report: &SessionReport) -> Result<(), TraceError> {
    let err = |source| TraceError {
        path: path.to_owned(),
        source,
    };
    let mut out = String::new();
    for l in lines(report) {
        // Plain data with string keys: serialization cannot fail.
        out.push_str(&serde_json::to_string(&l).unwrap_or_default());
        out.push('\n');
    }
    let mut f = File::options()
        .create(true)
        .append(true)
        .open(path)
        .map_err(err)?;
    f.write_all(out.as_bytes()).map_err(err)?;
    f.sync_data().map_err(err)
}
