//! Listener settings, embedded in the device profile as the `[notification]` table.
//!
//! Every struct refuses unknown fields, so a typo in the profile is an error instead of a
//! silently ignored setting. Each transport is optional: a missing table means that
//! transport is not started.

use std::net::SocketAddr;
use std::time::Duration;

use dm_protocol::pkg0::{DecodeOptions, ResyncNonce, FIXED_LEN, VERSION_11};
use serde::{Deserialize, Serialize};

use super::ListenerError;

/// Which package #0 listeners to run and how notifications are verified.
///
/// ```toml
/// [notification]
/// accepted_versions = [11]
/// resync = ["ascii_text"]
/// dedupe_window_secs = 300
///
/// [notification.udp]
/// bind = "0.0.0.0:2948"
///
/// [notification.tcp]
/// bind = "0.0.0.0:2949"
///
/// [notification.http]
/// bind = "0.0.0.0:8080"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationConfig {
    /// The UDP listener (one datagram = one package #0), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp: Option<UdpConfig>,
    /// The TCP listener (length-prefixed frames, project-defined), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpConfig>,
    /// The HTTP `POST` listener, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpConfig>,
    /// Version values accepted in the header (facts §7.1). Default `[11]`; whether 12 must
    /// be accepted too is UNCONFIRMED, a tolerant device lists `[11, 12]`.
    pub accepted_versions: Vec<u16>,
    /// The readings of the resync nonce `0x00000000` tried, in order, when the digest does
    /// not match the stored nonce (facts §7.2, UNCONFIRMED which one is meant). Default
    /// `["ascii_text", "zero_bytes"]`; an empty list disables the fallback.
    pub resync: Vec<ResyncReading>,
    /// How long a verified notification suppresses an identical one (same ServerID,
    /// session id and digest), in seconds. 0 disables the check.
    pub dedupe_window_secs: u64,
    /// Capacity of each output channel (verified and rejected notifications); at least 1.
    pub queue_capacity: usize,
}

impl Default for NotificationConfig {
    fn default() -> Self {
        NotificationConfig {
            udp: None,
            tcp: None,
            http: None,
            accepted_versions: vec![VERSION_11],
            resync: vec![ResyncReading::AsciiText, ResyncReading::ZeroBytes],
            dedupe_window_secs: DEFAULT_DEDUPE_WINDOW_SECS,
            queue_capacity: 64,
        }
    }
}

/// Default dedupe window: five minutes, long enough to cover a server re-sending a trigger
/// the device did not answer at once (facts §7.3: repeats reuse the session id).
pub const DEFAULT_DEDUPE_WINDOW_SECS: u64 = 300;

/// The longest read timeout accepted (one hour): a peer may hold a connection slot no longer.
pub const MAX_READ_TIMEOUT_MS: u64 = 3_600_000;

/// Default size cap for one package #0: the 24 fixed bytes, a 255-byte ServerID and room
/// for vendor-specific bytes (facts §7.1).
pub const DEFAULT_MAX_BYTES: usize = 1024;

impl NotificationConfig {
    /// The decoder settings for [`NotificationConfig::accepted_versions`].
    pub fn decode_options(&self) -> DecodeOptions {
        DecodeOptions {
            accepted_versions: self.accepted_versions.clone(),
        }
    }

    /// The resync nonces to try, in order.
    pub fn resync_nonces(&self) -> Vec<ResyncNonce> {
        self.resync.iter().map(|r| r.nonce()).collect()
    }

    /// Check values serde cannot: non-empty version list, a positive queue capacity and
    /// size caps that leave room for a whole package #0.
    pub fn validate(&self) -> Result<(), ListenerError> {
        let invalid = |field: &str, reason: String| ListenerError::InvalidConfig {
            field: field.to_owned(),
            reason,
        };
        if self.accepted_versions.is_empty() {
            return Err(invalid(
                "accepted_versions",
                "must list at least one version (11 per facts §7.1)".to_owned(),
            ));
        }
        if let Some(v) = self.accepted_versions.iter().find(|v| **v > 0x3FF) {
            return Err(invalid(
                "accepted_versions",
                format!("{v} does not fit the 10-bit version field"),
            ));
        }
        if self.queue_capacity == 0 {
            return Err(invalid("queue_capacity", "must be at least 1".to_owned()));
        }
        let min = FIXED_LEN + 1;
        let caps = [
            ("udp.max_bytes", self.udp.as_ref().map(|c| c.max_bytes)),
            ("tcp.max_bytes", self.tcp.as_ref().map(|c| c.max_bytes)),
            ("http.max_bytes", self.http.as_ref().map(|c| c.max_bytes)),
        ];
        for (field, cap) in caps {
            if let Some(cap) = cap.filter(|c| *c < min) {
                return Err(invalid(
                    field,
                    format!("{cap} is below the smallest package #0 ({min} bytes, facts §7.1)"),
                ));
            }
        }
        if let Some(cap) = self
            .tcp
            .as_ref()
            .map(|c| c.max_bytes)
            .filter(|c| *c > 0xFFFF)
        {
            return Err(invalid(
                "tcp.max_bytes",
                format!("{cap} exceeds the 2-byte frame length (65535)"),
            ));
        }
        let timeouts = [
            (
                "tcp.read_timeout_ms",
                self.tcp.as_ref().map(|c| c.read_timeout_ms),
            ),
            (
                "http.read_timeout_ms",
                self.http.as_ref().map(|c| c.read_timeout_ms),
            ),
        ];
        for (field, t) in timeouts {
            match t {
                Some(0) => return Err(invalid(field, "must be at least 1 ms".to_owned())),
                Some(t) if t > MAX_READ_TIMEOUT_MS => {
                    return Err(invalid(
                        field,
                        format!("{t} ms is more than the limit of {MAX_READ_TIMEOUT_MS} ms (1 h)"),
                    ))
                }
                _ => {}
            }
        }
        let conns = [
            (
                "tcp.max_connections",
                self.tcp.as_ref().map(|c| c.max_connections),
            ),
            (
                "http.max_connections",
                self.http.as_ref().map(|c| c.max_connections),
            ),
        ];
        for (field, n) in conns {
            if n == Some(0) {
                return Err(invalid(field, "must be at least 1".to_owned()));
            }
        }
        Ok(())
    }
}

/// A reading of the resync nonce `0x00000000` (facts §7.2); profile names `ascii_text`
/// (the 10 ASCII characters, as libdmclient) and `zero_bytes` (four zero bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResyncReading {
    /// The ASCII text `0x00000000`.
    AsciiText,
    /// Four zero bytes.
    ZeroBytes,
}

impl ResyncReading {
    /// The protocol crate's value for this reading.
    pub fn nonce(self) -> ResyncNonce {
        match self {
            ResyncReading::AsciiText => ResyncNonce::AsciiText,
            ResyncReading::ZeroBytes => ResyncNonce::ZeroBytes,
        }
    }
}

/// The UDP listener: every datagram is one package #0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UdpConfig {
    /// Address to bind; port 0 picks a free port (see [`super::Listeners::udp_addr`]).
    pub bind: SocketAddr,
    /// Largest datagram accepted; longer ones are rejected as oversize.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
}

/// The TCP listener. Framing is project-defined (facts §7.3 binds package #0 to WAP Push,
/// SMS, OBEX…, not to raw TCP): each package #0 is sent as a 2-byte big-endian length
/// followed by that many bytes; a connection may carry several frames and ends at EOF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpConfig {
    /// Address to bind; port 0 picks a free port (see [`super::Listeners::tcp_addr`]).
    pub bind: SocketAddr,
    /// Largest frame length accepted (at most 65535).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
    /// Time allowed for one whole frame (prefix and body), in milliseconds; a slower
    /// peer is cut off. Also the idle time allowed between frames.
    #[serde(default = "default_read_timeout_ms")]
    pub read_timeout_ms: u64,
    /// Connections served at once; further ones are closed at once.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

impl TcpConfig {
    /// [`TcpConfig::read_timeout_ms`] as a duration.
    pub fn read_timeout(&self) -> Duration {
        Duration::from_millis(self.read_timeout_ms)
    }
}

/// The HTTP listener: `POST` with `Content-Type: application/vnd.syncml.notification`
/// (facts §1.1), any path, one request per connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address to bind; port 0 picks a free port (see [`super::Listeners::http_addr`]).
    pub bind: SocketAddr,
    /// Largest body accepted; larger ones get 413.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
    /// Time allowed for the request head and, separately, for the body, in milliseconds.
    #[serde(default = "default_read_timeout_ms")]
    pub read_timeout_ms: u64,
    /// Connections served at once; further ones are closed at once.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

impl HttpConfig {
    /// [`HttpConfig::read_timeout_ms`] as a duration.
    pub fn read_timeout(&self) -> Duration {
        Duration::from_millis(self.read_timeout_ms)
    }
}

fn default_max_bytes() -> usize {
    DEFAULT_MAX_BYTES
}

fn default_read_timeout_ms() -> u64 {
    5_000
}

fn default_max_connections() -> usize {
    32
}
