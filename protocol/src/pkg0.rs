//! Package #0: the General Notification Initiated Session Alert (facts §7).
//!
//! Layout (big-endian, facts §7.1): a 16-byte MD5 digest, then the *trigger*: a 64-bit
//! header (10-bit version, 2-bit ui-mode, 1-bit initiator, 27 future-use bits, 16-bit
//! session id, 8-bit server-identifier length N), N bytes of ASCII server identifier, and
//! optional vendor-specific bytes up to the end.
//!
//! [`decode`] checks the structure; the digest is checked separately with [`verify`] (or
//! [`verify_with_resync`]) because that needs the account's secret and nonce.
//! [`Notification::encode`] writes the trigger after the stored digest;
//! [`Notification::build`] computes the digest too (facts §7.2).

mod session_id;

pub use session_id::{session_id_from_hex, session_id_to_hex, SessionIdError};

use crate::auth::{ct_eq, md5_mac_raw};

/// Length of the digest field (facts §7.1).
pub const DIGEST_LEN: usize = 16;
/// Length of the fixed part: digest + 8-byte header (facts §7.1: minimum message 24 + N).
pub const FIXED_LEN: usize = 24;
/// The version value of the DM 1.2-era text and libdmclient: `0000001011` = 11 (facts §7.1).
pub const VERSION_11: u16 = 11;
/// The version value some servers may send for "1.2"; acceptance is UNCONFIRMED (facts §7.1).
pub const VERSION_12: u16 = 12;

/// The user-interaction mode requested by the server (facts §7.1, 2 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UiMode {
    /// 0: not specified.
    NotSpecified,
    /// 1: background (no user interaction).
    Background,
    /// 2: informative (show a message, no question).
    Informative,
    /// 3: user interaction (ask before starting).
    UserInteraction,
}

impl UiMode {
    /// The 2-bit wire value.
    pub fn bits(self) -> u8 {
        match self {
            UiMode::NotSpecified => 0,
            UiMode::Background => 1,
            UiMode::Informative => 2,
            UiMode::UserInteraction => 3,
        }
    }

    /// The mode for a 2-bit value (only the low two bits are used).
    pub fn from_bits(bits: u8) -> Self {
        match bits & 3 {
            0 => UiMode::NotSpecified,
            1 => UiMode::Background,
            2 => UiMode::Informative,
            _ => UiMode::UserInteraction,
        }
    }

    /// A stable snake_case name, used by the golden vectors.
    pub fn name(self) -> &'static str {
        match self {
            UiMode::NotSpecified => "not_specified",
            UiMode::Background => "background",
            UiMode::Informative => "informative",
            UiMode::UserInteraction => "user_interaction",
        }
    }
}

/// Who initiated the management session (facts §7.1, 1 bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Initiator {
    /// 0: client / user initiated.
    Client,
    /// 1: server initiated.
    Server,
}

impl Initiator {
    /// A stable snake_case name, used by the golden vectors.
    pub fn name(self) -> &'static str {
        match self {
            Initiator::Client => "client",
            Initiator::Server => "server",
        }
    }
}

/// A decoded package #0 (facts §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The MD5 digest as received (facts §7.2); check it with [`verify`].
    pub digest: [u8; 16],
    /// The 10-bit version value (11 = "1.1"/DM 1.2-era text; facts §7.1).
    pub version: u16,
    /// Requested user-interaction mode.
    pub ui_mode: UiMode,
    /// Who initiated the session.
    pub initiator: Initiator,
    /// The session id to copy (as hex) into `SyncHdr/SessionID` (facts §7.3); 1..=0xFFFF.
    pub session_id: u16,
    /// The ServerID of the DMAcc entry that sent the trigger (ASCII).
    pub server_id: String,
    /// Vendor-specific bytes after the server identifier (may be empty).
    pub vendor: Vec<u8>,
}

/// Decoder settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Version values accepted. Default `[11]`, the value of the DM 1.2-era text and
    /// libdmclient. Whether `12` must also be accepted is UNCONFIRMED (facts §7.1); a tolerant
    /// client adds [`VERSION_12`].
    pub accepted_versions: Vec<u16>,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            accepted_versions: vec![VERSION_11],
        }
    }
}

impl DecodeOptions {
    /// Accept both 11 and 12 (the tolerant client of facts §7.1).
    pub fn tolerant() -> Self {
        DecodeOptions {
            accepted_versions: vec![VERSION_11, VERSION_12],
        }
    }
}

/// What is wrong with a package #0. Offsets are byte offsets into the whole message
/// (digest included).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Pkg0Error {
    /// Fewer bytes than the fixed part needs (facts §7.1).
    #[error("package #0 too short: need at least {needed} bytes, got {got}")]
    TooShort {
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// The version value is not among the accepted ones (facts §7.1).
    #[error("package #0 version {version} at byte 16 not accepted (accepted: {accepted:?})")]
    UnsupportedVersion {
        /// The 10-bit value found.
        version: u16,
        /// The values the decoder accepts.
        accepted: Vec<u16>,
    },
    /// One of the 27 future-use bits (byte 17 bits 2–0 and bytes 18–20) is set (facts §7.1).
    #[error("package #0 future-use bits are not zero (bytes 17..=20, value {bits:#09x})")]
    FutureUseNotZero {
        /// The 27 bits as found.
        bits: u32,
    },
    /// The session id at bytes 21–22 is 0; valid ids are 1..=0xFFFF (facts §7.1).
    #[error("package #0 session id at byte 21 is 0 (must be 1..=0xFFFF)")]
    SessionIdZero,
    /// The server-identifier length at byte 23 is 0 (facts §7.1: N > 0).
    #[error("package #0 server-identifier length at byte 23 is 0")]
    ServerIdEmpty,
    /// The server identifier runs past the end of the message.
    #[error(
        "package #0 server identifier (length {len} at byte 23) runs past the end: \
         need {needed} bytes, got {got}"
    )]
    ServerIdPastEnd {
        /// The declared length N.
        len: usize,
        /// Bytes needed (24 + N).
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// A server-identifier byte is not ASCII (facts §7.1).
    #[error("package #0 server identifier has non-ASCII byte {byte:#04x} at byte {offset}")]
    ServerIdNotAscii {
        /// Offset of the first offending byte.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// Encoding: the version does not fit in 10 bits.
    #[error("cannot encode version {version}: it does not fit in 10 bits")]
    VersionOutOfRange {
        /// The version value.
        version: u16,
    },
    /// Encoding: the server identifier is longer than 255 bytes (8-bit length field).
    #[error("cannot encode server identifier of {len} bytes: the length field is 8 bits")]
    ServerIdTooLong {
        /// Its length in bytes.
        len: usize,
    },
}

impl Pkg0Error {
    /// A stable snake_case name for this error, used by the golden vectors.
    pub fn kind(&self) -> &'static str {
        match self {
            Pkg0Error::TooShort { .. } => "too_short",
            Pkg0Error::UnsupportedVersion { .. } => "unsupported_version",
            Pkg0Error::FutureUseNotZero { .. } => "future_use_not_zero",
            Pkg0Error::SessionIdZero => "session_id_zero",
            Pkg0Error::ServerIdEmpty => "server_id_empty",
            Pkg0Error::ServerIdPastEnd { .. } => "server_id_past_end",
            Pkg0Error::ServerIdNotAscii { .. } => "server_id_not_ascii",
            Pkg0Error::VersionOutOfRange { .. } => "version_out_of_range",
            Pkg0Error::ServerIdTooLong { .. } => "server_id_too_long",
        }
    }
}

/// Decode with [`DecodeOptions::default`] (version 11 only).
pub fn decode(bytes: &[u8]) -> Result<Notification, Pkg0Error> {
    decode_with(bytes, &DecodeOptions::default())
}

/// Decode and structurally validate a package #0 (facts §7.1). The digest is not checked.
pub fn decode_with(bytes: &[u8], opts: &DecodeOptions) -> Result<Notification, Pkg0Error> {
    let (Some(digest), Some(hdr)) = (bytes.get(..DIGEST_LEN), bytes.get(DIGEST_LEN..FIXED_LEN))
    else {
        return Err(Pkg0Error::TooShort {
            needed: FIXED_LEN,
            got: bytes.len(),
        });
    };
    let mut d = [0u8; 16];
    d.copy_from_slice(digest);
    let mut h = [0u8; 8];
    h.copy_from_slice(hdr);
    let word = u16::from_be_bytes([h[0], h[1]]);
    let version = word >> 6;
    if !opts.accepted_versions.contains(&version) {
        return Err(Pkg0Error::UnsupportedVersion {
            version,
            accepted: opts.accepted_versions.clone(),
        });
    }
    let future = (u32::from(h[1] & 0x07) << 24)
        | (u32::from(h[2]) << 16)
        | (u32::from(h[3]) << 8)
        | u32::from(h[4]);
    if future != 0 {
        return Err(Pkg0Error::FutureUseNotZero { bits: future });
    }
    let session_id = u16::from_be_bytes([h[5], h[6]]);
    if session_id == 0 {
        return Err(Pkg0Error::SessionIdZero);
    }
    let len = usize::from(h[7]);
    if len == 0 {
        return Err(Pkg0Error::ServerIdEmpty);
    }
    let end = FIXED_LEN + len;
    let Some(sid) = bytes.get(FIXED_LEN..end) else {
        return Err(Pkg0Error::ServerIdPastEnd {
            len,
            needed: end,
            got: bytes.len(),
        });
    };
    if let Some(i) = sid.iter().position(|b| !b.is_ascii()) {
        return Err(Pkg0Error::ServerIdNotAscii {
            offset: FIXED_LEN + i,
            byte: sid.get(i).copied().unwrap_or(0),
        });
    }
    Ok(Notification {
        digest: d,
        version,
        ui_mode: UiMode::from_bits(h[1] >> 4),
        initiator: if h[1] & 0x08 != 0 {
            Initiator::Server
        } else {
            Initiator::Client
        },
        session_id,
        // All bytes are ASCII, so this is valid UTF-8.
        server_id: sid.iter().map(|&b| char::from(b)).collect(),
        vendor: bytes.get(end..).unwrap_or_default().to_vec(),
    })
}

impl Notification {
    /// The trigger: every byte after the digest (header, server id, vendor bytes), the input
    /// of the digest (facts §7.2).
    ///
    /// Deliberately permissive so conformance tests can craft invalid triggers: a zero
    /// session id or an empty / non-ASCII server id are written as given. Fails only when a
    /// value does not fit its field.
    pub fn trigger(&self) -> Result<Vec<u8>, Pkg0Error> {
        if self.version > 0x3FF {
            return Err(Pkg0Error::VersionOutOfRange {
                version: self.version,
            });
        }
        let sid = self.server_id.as_bytes();
        let len =
            u8::try_from(sid.len()).map_err(|_| Pkg0Error::ServerIdTooLong { len: sid.len() })?;
        let initiator = match self.initiator {
            Initiator::Client => 0,
            Initiator::Server => 1,
        };
        let word = (self.version << 6) | (u16::from(self.ui_mode.bits()) << 4) | (initiator << 3);
        let mut out = Vec::with_capacity(8 + sid.len() + self.vendor.len());
        out.extend_from_slice(&word.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0]);
        out.extend_from_slice(&self.session_id.to_be_bytes());
        out.push(len);
        out.extend_from_slice(sid);
        out.extend_from_slice(&self.vendor);
        Ok(out)
    }

    /// The whole message with the stored [`Notification::digest`] (facts §7.1).
    pub fn encode(&self) -> Result<Vec<u8>, Pkg0Error> {
        let trigger = self.trigger()?;
        let mut out = Vec::with_capacity(DIGEST_LEN + trigger.len());
        out.extend_from_slice(&self.digest);
        out.extend_from_slice(&trigger);
        Ok(out)
    }

    /// The whole message with a freshly computed digest (facts §7.2), using this
    /// notification's `server_id` as the name before the colon. The stored `digest` field is
    /// ignored. Use [`compute_digest`] directly to put another name (e.g. the SRVCRED
    /// `AAuthName`, IMPL in facts §7.2) in front of the colon.
    pub fn build(&self, server_password: &str, nonce: &[u8]) -> Result<Vec<u8>, Pkg0Error> {
        let trigger = self.trigger()?;
        let digest = compute_digest(&self.server_id, server_password, nonce, &trigger);
        let mut out = Vec::with_capacity(DIGEST_LEN + trigger.len());
        out.extend_from_slice(&digest);
        out.extend_from_slice(&trigger);
        Ok(out)
    }
}

/// `MD5( B64(MD5(name ":" password)) ":" nonce ":" B64(MD5(trigger)) )` (facts §7.2).
///
/// `name` is the server identifier (or the SRVCRED `AAuthName`; IMPL, facts §7.2),
/// `password`/`nonce` the SRVCRED secret and the raw server nonce, `trigger` every byte after
/// the digest.
pub fn compute_digest(name: &str, password: &str, nonce: &[u8], trigger: &[u8]) -> [u8; 16] {
    md5_mac_raw(name, password, nonce, trigger)
}

/// Check the digest of a received package #0 (facts §7.2) in constant time.
///
/// Only needs the 16 digest bytes to be present; the trigger is not otherwise validated
/// (use [`decode`] for that).
pub fn verify(bytes: &[u8], name: &str, password: &str, nonce: &[u8]) -> Result<bool, Pkg0Error> {
    let (Some(digest), Some(trigger)) = (bytes.get(..DIGEST_LEN), bytes.get(DIGEST_LEN..)) else {
        return Err(Pkg0Error::TooShort {
            needed: DIGEST_LEN,
            got: bytes.len(),
        });
    };
    Ok(ct_eq(
        digest,
        &compute_digest(name, password, nonce, trigger),
    ))
}

/// The special nonce a client retries with when digest verification fails (facts §7.2).
///
/// Whether the spec's `0x00000000` means the 10-character ASCII text or 4 zero bytes is
/// UNCONFIRMED; both are offered. libdmclient uses the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResyncNonce {
    /// The ASCII text `0x00000000` (10 bytes), as libdmclient does.
    AsciiText,
    /// Four zero bytes.
    ZeroBytes,
}

/// The resync nonce as ASCII text (facts §7.2; libdmclient's reading).
pub const RESYNC_NONCE_TEXT: &[u8; 10] = b"0x00000000";
/// The resync nonce as four zero bytes (facts §7.2; the other reading).
pub const RESYNC_NONCE_ZERO_BYTES: &[u8; 4] = &[0, 0, 0, 0];

impl ResyncNonce {
    /// The nonce bytes of this reading.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            ResyncNonce::AsciiText => RESYNC_NONCE_TEXT,
            ResyncNonce::ZeroBytes => RESYNC_NONCE_ZERO_BYTES,
        }
    }
}

/// The result of [`verify_with_resync`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestCheck {
    /// The digest matches the stored nonce.
    Valid,
    /// The digest matches only with this resync nonce: proceed with nonce-resync (facts §7.2).
    ValidWithResync(ResyncNonce),
    /// No candidate matches.
    Invalid,
}

/// Verify with the stored nonce, then with each resync reading in `resync` order
/// (facts §7.2: "SHOULD retry with the special nonce").
pub fn verify_with_resync(
    bytes: &[u8],
    name: &str,
    password: &str,
    nonce: &[u8],
    resync: &[ResyncNonce],
) -> Result<DigestCheck, Pkg0Error> {
    if verify(bytes, name, password, nonce)? {
        return Ok(DigestCheck::Valid);
    }
    for r in resync {
        if verify(bytes, name, password, r.bytes())? {
            return Ok(DigestCheck::ValidWithResync(*r));
        }
    }
    Ok(DigestCheck::Invalid)
}

#[cfg(test)]
mod tests;
