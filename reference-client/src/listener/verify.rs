//! Sans-IO verification of one received package #0: decode (facts §7.1), find the account,
//! check the digest with the resync fallback (facts §7.2), suppress repeats (facts §7.3).
//!
//! The listeners only move bytes; everything that decides lives here, driven by the bytes,
//! the peer and the time, so it can be tested without sockets.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use dm_protocol::pkg0::{
    self, session_id_to_hex, DecodeOptions, DigestCheck, Initiator, Pkg0Error, ResyncNonce, UiMode,
};

use super::dedupe::Dedupe;

/// The transport a notification arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// One UDP datagram.
    Udp,
    /// One length-prefixed frame on a TCP connection (project-defined framing).
    Tcp,
    /// The body of an HTTP `POST`.
    Http,
}

impl Transport {
    /// Lower-case name (`udp`, `tcp`, `http`).
    pub fn name(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Http => "http",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the device knows about a server, as needed to check a notification's digest
/// (facts §7.2): the name before the colon, the SRVCRED secret and the stored server nonce.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerCredentials {
    /// The name hashed with the password: normally the ServerID; libdmclient uses the
    /// SRVCRED `AAuthName` instead (IMPL, facts §7.2).
    pub name: String,
    /// The SRVCRED `AAuthSecret`.
    pub password: String,
    /// The SRVCRED `AAuthData`: the nonce the device gave the server, raw bytes.
    pub nonce: Vec<u8>,
}

impl ServerCredentials {
    /// Credentials from their three parts.
    pub fn new(
        name: impl Into<String>,
        password: impl Into<String>,
        nonce: impl Into<Vec<u8>>,
    ) -> Self {
        ServerCredentials {
            name: name.into(),
            password: password.into(),
            nonce: nonce.into(),
        }
    }
}

impl fmt::Debug for ServerCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCredentials")
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .field("nonce", &self.nonce)
            .finish()
    }
}

/// Maps the ServerID of a notification to the matching DMAcc account's server credentials
/// (facts §7.2). Called for every notification, so nonce changes are seen at once.
///
/// Implemented for closures `Fn(&str) -> Option<ServerCredentials>` and for
/// `HashMap<String, ServerCredentials>` keyed by ServerID.
pub trait AccountLookup: Send + Sync {
    /// The credentials of the account whose ServerID is `server_id`, or `None` if the
    /// device has no such account.
    fn lookup(&self, server_id: &str) -> Option<ServerCredentials>;
}

impl<F> AccountLookup for F
where
    F: Fn(&str) -> Option<ServerCredentials> + Send + Sync,
{
    fn lookup(&self, server_id: &str) -> Option<ServerCredentials> {
        self(server_id)
    }
}

impl AccountLookup for HashMap<String, ServerCredentials> {
    fn lookup(&self, server_id: &str) -> Option<ServerCredentials> {
        self.get(server_id).cloned()
    }
}

/// A notification that passed every check: the runner may start a server-initiated session
/// (Alert 1200, facts §2.5) with `session_id` as `SyncHdr/SessionID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNotification {
    /// The ServerID of the account (facts §7.1).
    pub server_id: String,
    /// The `SyncHdr/SessionID` to use: the 16-bit session id as 1–4 uppercase hex digits
    /// without leading zeros (facts §7.3: 0x00AB → `AB`).
    pub session_id: String,
    /// The 16-bit session id as received (1..=0xFFFF).
    pub session_id_value: u16,
    /// The requested user-interaction mode (facts §7.1); the runner consults its UI
    /// policy before starting (see docs/reference-client.md).
    pub ui_mode: UiMode,
    /// Who initiated the session (facts §7.1).
    pub initiator: Initiator,
    /// The version value of the header (facts §7.1).
    pub version: u16,
    /// True when the digest matched only the resync nonce: the session must use
    /// nonce-resync — package 1 credentials built with that nonce, and the server is
    /// authenticated in the session with a fresh nonce (facts §7.2).
    pub resync: bool,
    /// The resync nonce reading that matched, when `resync` is true.
    pub resync_nonce: Option<ResyncNonce>,
    /// The digest as received (part of the repeat key).
    pub digest: [u8; 16],
    /// Vendor-specific bytes after the ServerID (facts §7.1), possibly empty.
    pub vendor: Vec<u8>,
    /// The transport it came on.
    pub transport: Transport,
    /// The sender's address.
    pub peer: SocketAddr,
    /// When it was received, Unix seconds from the listener's clock.
    pub received_at: u64,
}

/// Why a notification (or a request that should have carried one) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RejectReason {
    /// The bytes are not a well-formed package #0 (facts §7.1).
    #[error("malformed package #0: {0}")]
    Malformed(Pkg0Error),
    /// The header's version value is not accepted (facts §7.1; see `accepted_versions`).
    #[error("unsupported package #0 version {version} (accepted: {accepted:?})")]
    UnsupportedVersion {
        /// The version found.
        version: u16,
        /// The configured accepted versions.
        accepted: Vec<u16>,
    },
    /// No account has this ServerID (facts §7.2: the digest needs the account's secret).
    #[error("unknown ServerID {server_id:?}: no account to verify the digest with")]
    UnknownServer {
        /// The ServerID from the notification.
        server_id: String,
    },
    /// The digest matches neither the stored nonce nor a resync nonce (facts §7.2).
    #[error("digest mismatch for ServerID {server_id:?} (stored nonce and resync nonces tried)")]
    BadDigest {
        /// The ServerID from the notification.
        server_id: String,
    },
    /// The same notification was accepted less than the dedupe window ago (facts §7.3).
    #[error(
        "repeat of the notification for ServerID {server_id:?} session {session_id} \
         accepted {age_secs} s ago (window {window_secs} s)"
    )]
    Duplicate {
        /// The ServerID.
        server_id: String,
        /// The session id, as `SyncHdr/SessionID` text.
        session_id: String,
        /// Seconds since the first sighting.
        age_secs: u64,
        /// The configured window.
        window_secs: u64,
    },
    /// More bytes than the transport's `max_bytes`.
    #[error("package #0 too large: {size} bytes, limit {limit}")]
    Oversize {
        /// The size seen (or announced), in bytes; at least `limit + 1`.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A TCP frame ended early: the peer closed the connection mid-frame.
    #[error("frame truncated: connection closed after {got} of {expected} bytes")]
    Truncated {
        /// Bytes the frame needs, the 2-byte length prefix included (2 while the prefix
        /// itself is incomplete).
        expected: usize,
        /// Bytes of the frame received, prefix included.
        got: usize,
    },
    /// A TCP frame announced length 0.
    #[error("empty frame: length prefix 0")]
    EmptyFrame,
    /// The peer was too slow sending a frame or request.
    #[error("peer too slow: no complete package #0 after {timeout_ms} ms ({got} bytes read)")]
    Timeout {
        /// The configured limit.
        timeout_ms: u64,
        /// Bytes read by then.
        got: usize,
    },
    /// HTTP: a method other than `POST`.
    #[error("method {method} not allowed: package #0 is sent with POST")]
    MethodNotAllowed {
        /// The method used.
        method: String,
    },
    /// HTTP: the body is not `application/vnd.syncml.notification` (facts §1.1).
    #[error(
        "content type {content_type:?} is not application/vnd.syncml.notification (facts §1.1)"
    )]
    WrongContentType {
        /// The `Content-Type` received (empty when missing).
        content_type: String,
    },
    /// All `max_connections` slots were busy; the connection was closed at once.
    #[error("too many connections (limit {limit}); connection closed")]
    TooManyConnections {
        /// The configured limit.
        limit: usize,
    },
    /// The verified-notification queue was full; the runner is not keeping up.
    #[error("verified notification dropped: output queue full")]
    QueueFull,
    /// Reading from the peer failed.
    #[error("I/O error from peer: {message}")]
    Io {
        /// The error text.
        message: String,
    },
}

impl RejectReason {
    /// A stable snake_case name for the reason (for logs and reports).
    pub fn kind(&self) -> &'static str {
        match self {
            RejectReason::Malformed(_) => "malformed",
            RejectReason::UnsupportedVersion { .. } => "unsupported_version",
            RejectReason::UnknownServer { .. } => "unknown_server",
            RejectReason::BadDigest { .. } => "bad_digest",
            RejectReason::Duplicate { .. } => "duplicate",
            RejectReason::Oversize { .. } => "oversize",
            RejectReason::Truncated { .. } => "truncated",
            RejectReason::EmptyFrame => "empty_frame",
            RejectReason::Timeout { .. } => "timeout",
            RejectReason::MethodNotAllowed { .. } => "method_not_allowed",
            RejectReason::WrongContentType { .. } => "wrong_content_type",
            RejectReason::TooManyConnections { .. } => "too_many_connections",
            RejectReason::QueueFull => "queue_full",
            RejectReason::Io { .. } => "io",
        }
    }
}

/// A refused notification: the log entry the listeners emit instead of failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedNotification {
    /// The transport it came on.
    pub transport: Transport,
    /// The sender's address.
    pub peer: SocketAddr,
    /// Why it was refused.
    pub reason: RejectReason,
    /// When, Unix seconds from the listener's clock.
    pub at: u64,
}

/// The sans-IO checker shared by all listeners.
pub struct Verifier {
    accounts: Arc<dyn AccountLookup>,
    decode: DecodeOptions,
    resync: Vec<ResyncNonce>,
    dedupe: Dedupe,
    window_secs: u64,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("decode", &self.decode)
            .field("resync", &self.resync)
            .field("window_secs", &self.window_secs)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier looking accounts up in `accounts`, decoding with `decode`, trying the
    /// `resync` nonces in order after the stored one and suppressing repeats for
    /// `window_secs` seconds.
    pub fn new(
        accounts: Arc<dyn AccountLookup>,
        decode: DecodeOptions,
        resync: Vec<ResyncNonce>,
        window_secs: u64,
    ) -> Self {
        Verifier {
            accounts,
            decode,
            resync,
            dedupe: Dedupe::new(window_secs),
            window_secs,
        }
    }

    /// Check one received package #0, in this order: structure and version (facts §7.1),
    /// account by ServerID, digest with the stored nonce then the resync nonces (facts
    /// §7.2), repeat (facts §7.3). Never panics, whatever the bytes.
    pub fn check(
        &mut self,
        bytes: &[u8],
        transport: Transport,
        peer: SocketAddr,
        now: u64,
    ) -> Result<VerifiedNotification, RejectReason> {
        let n = pkg0::decode_with(bytes, &self.decode).map_err(|e| match e {
            Pkg0Error::UnsupportedVersion { version, accepted } => {
                RejectReason::UnsupportedVersion { version, accepted }
            }
            other => RejectReason::Malformed(other),
        })?;
        let creds =
            self.accounts
                .lookup(&n.server_id)
                .ok_or_else(|| RejectReason::UnknownServer {
                    server_id: n.server_id.clone(),
                })?;
        let check = pkg0::verify_with_resync(
            bytes,
            &creds.name,
            &creds.password,
            &creds.nonce,
            &self.resync,
        )
        .map_err(RejectReason::Malformed)?;
        let resync_nonce = match check {
            DigestCheck::Valid => None,
            DigestCheck::ValidWithResync(r) => Some(r),
            DigestCheck::Invalid => {
                return Err(RejectReason::BadDigest {
                    server_id: n.server_id,
                })
            }
        };
        let key = (n.server_id.clone(), n.session_id, n.digest);
        if let Some(first) = self.dedupe.repeat_of(key, now) {
            return Err(RejectReason::Duplicate {
                server_id: n.server_id,
                session_id: session_id_to_hex(n.session_id),
                age_secs: now.saturating_sub(first),
                window_secs: self.window_secs,
            });
        }
        Ok(VerifiedNotification {
            session_id: session_id_to_hex(n.session_id),
            session_id_value: n.session_id,
            server_id: n.server_id,
            ui_mode: n.ui_mode,
            initiator: n.initiator,
            version: n.version,
            resync: resync_nonce.is_some(),
            resync_nonce,
            digest: n.digest,
            vendor: n.vendor,
            transport,
            peer,
            received_at: now,
        })
    }

    /// Forget an accepted notification so an identical one is accepted again (used when it
    /// could not be delivered to the runner).
    pub fn forget(&mut self, n: &VerifiedNotification) {
        let key = (n.server_id.clone(), n.session_id_value, n.digest);
        self.dedupe.forget(&key);
    }
}
