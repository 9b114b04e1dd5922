//! Application-layer authentication: credential types, basic and MD5 credentials, the HMAC
//! integrity header and nonces (facts §6).
//!
//! Everything here is pure: the caller supplies user names, secrets, nonces (raw bytes) and
//! message bodies. Verification compares in constant time so a peer cannot learn a credential
//! byte by byte from response timing.
//!
//! * [`AuthType`] — the `Cred/Meta/Type` / `Chal/Meta/Type` strings (facts §6.1).
//! * [`AAuthType`] — the DMAcc `AAuthType` leaf values and their mapping (facts §5.4, §6.1).
//! * [`basic_credential`], [`parse_basic_credential`], [`md5_credential`], [`hmac_mac`] — the
//!   formulas of facts §6.1 and §6.3.
//! * [`HmacHeader`] — the `x-syncml-hmac` transport header (facts §6.3).
//! * [`NonceGenerator`] — ≥128-bit nonces (facts §6.2).

mod hmac_header;
mod nonce;

pub use hmac_header::{HmacHeader, HmacHeaderError};
pub use nonce::{NonceGenerator, NONCE_LEN};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use md5::{Digest as _, Md5};
use std::fmt;
use std::str::FromStr;

/// A SyncML authentication type as carried in `Meta/Type` of `Cred` and `Chal` (facts §6.1).
///
/// Unknown strings are kept verbatim in [`AuthType::Other`] so a peer's value can be echoed or
/// reported without loss. Matching is exact (case-sensitive), as the strings are identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuthType {
    /// `syncml:auth-basic`: base64 of `user:password` (facts §6.1).
    Basic,
    /// `syncml:auth-md5`: the double-MD5 digest with a nonce (facts §6.1).
    Md5,
    /// `syncml:auth-MAC`: HMAC integrity in the `x-syncml-hmac` header (facts §6.3).
    Mac,
    /// `syncml:auth-X509` (defined by RepPro, not specified further; facts §6.1).
    X509,
    /// `syncml:auth-securid` (facts §6.1).
    SecurId,
    /// `syncml:auth-safeword` (facts §6.1).
    SafeWord,
    /// `syncml:auth-digipass` (facts §6.1).
    DigiPass,
    /// Any other string, kept exactly as received.
    Other(String),
}

impl AuthType {
    /// The exact wire string of this type (facts §6.1).
    pub fn as_str(&self) -> &str {
        match self {
            AuthType::Basic => "syncml:auth-basic",
            AuthType::Md5 => "syncml:auth-md5",
            AuthType::Mac => "syncml:auth-MAC",
            AuthType::X509 => "syncml:auth-X509",
            AuthType::SecurId => "syncml:auth-securid",
            AuthType::SafeWord => "syncml:auth-safeword",
            AuthType::DigiPass => "syncml:auth-digipass",
            AuthType::Other(s) => s,
        }
    }

    /// The DMAcc `AAuthType` value naming this type, if there is one (facts §5.4, §6.1).
    pub fn aauth_type(&self) -> Option<AAuthType> {
        match self {
            AuthType::Basic => Some(AAuthType::Basic),
            AuthType::Md5 => Some(AAuthType::Digest),
            AuthType::Mac => Some(AAuthType::Hmac),
            AuthType::X509 => Some(AAuthType::X509),
            AuthType::SecurId => Some(AAuthType::SecurId),
            AuthType::SafeWord => Some(AAuthType::SafeWord),
            AuthType::DigiPass => Some(AAuthType::DigiPass),
            AuthType::Other(_) => None,
        }
    }
}

impl FromStr for AuthType {
    type Err = std::convert::Infallible;

    /// Never fails: unknown strings become [`AuthType::Other`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "syncml:auth-basic" => AuthType::Basic,
            "syncml:auth-md5" => AuthType::Md5,
            "syncml:auth-MAC" => AuthType::Mac,
            "syncml:auth-X509" => AuthType::X509,
            "syncml:auth-securid" => AuthType::SecurId,
            "syncml:auth-safeword" => AuthType::SafeWord,
            "syncml:auth-digipass" => AuthType::DigiPass,
            other => AuthType::Other(other.to_owned()),
        })
    }
}

impl fmt::Display for AuthType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A DMAcc `AppAuth/<X>/AAuthType` value (facts §5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AAuthType {
    /// `HTTP-BASIC` (transport level).
    HttpBasic,
    /// `HTTP-DIGEST` (transport level).
    HttpDigest,
    /// `BASIC` = `syncml:auth-basic`.
    Basic,
    /// `DIGEST` = `syncml:auth-md5`.
    Digest,
    /// `HMAC` = `syncml:auth-MAC`.
    Hmac,
    /// `X509`.
    X509,
    /// `SECURID`.
    SecurId,
    /// `SAFEWORD`.
    SafeWord,
    /// `DIGIPASS`.
    DigiPass,
    /// `TRANSPORT` (authentication left to the transport layer).
    Transport,
}

impl AAuthType {
    /// Every value, in the order facts §5.4 lists them.
    pub const ALL: [AAuthType; 10] = [
        AAuthType::HttpBasic,
        AAuthType::HttpDigest,
        AAuthType::Basic,
        AAuthType::Digest,
        AAuthType::Hmac,
        AAuthType::X509,
        AAuthType::SecurId,
        AAuthType::SafeWord,
        AAuthType::DigiPass,
        AAuthType::Transport,
    ];

    /// The DMAcc leaf value (facts §5.4).
    pub fn as_str(self) -> &'static str {
        match self {
            AAuthType::HttpBasic => "HTTP-BASIC",
            AAuthType::HttpDigest => "HTTP-DIGEST",
            AAuthType::Basic => "BASIC",
            AAuthType::Digest => "DIGEST",
            AAuthType::Hmac => "HMAC",
            AAuthType::X509 => "X509",
            AAuthType::SecurId => "SECURID",
            AAuthType::SafeWord => "SAFEWORD",
            AAuthType::DigiPass => "DIGIPASS",
            AAuthType::Transport => "TRANSPORT",
        }
    }

    /// The SyncML `Meta/Type` this value selects; `None` for the transport-level values
    /// (`HTTP-BASIC`, `HTTP-DIGEST`, `TRANSPORT`), which have no SyncML credential (facts §5.4).
    pub fn auth_type(self) -> Option<AuthType> {
        match self {
            AAuthType::Basic => Some(AuthType::Basic),
            AAuthType::Digest => Some(AuthType::Md5),
            AAuthType::Hmac => Some(AuthType::Mac),
            AAuthType::X509 => Some(AuthType::X509),
            AAuthType::SecurId => Some(AuthType::SecurId),
            AAuthType::SafeWord => Some(AuthType::SafeWord),
            AAuthType::DigiPass => Some(AuthType::DigiPass),
            AAuthType::HttpBasic | AAuthType::HttpDigest | AAuthType::Transport => None,
        }
    }
}

impl FromStr for AAuthType {
    type Err = AuthError;

    /// Exact (case-sensitive) match against the values of facts §5.4.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AAuthType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| AuthError::UnknownAAuthType {
                value: s.to_owned(),
            })
    }
}

impl fmt::Display for AAuthType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong decoding a credential or an auth-type name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The credential is not valid standard base64 (RFC 4648 with padding).
    #[error("credential is not valid base64: {detail}")]
    InvalidBase64 {
        /// What the base64 decoder reported (includes the offending offset when it has one).
        detail: String,
    },
    /// The decoded basic credential is not UTF-8.
    #[error("decoded basic credential is not UTF-8 (first bad byte at offset {offset})")]
    NotUtf8 {
        /// Byte offset into the decoded credential.
        offset: usize,
    },
    /// The decoded basic credential has no `:` between user name and password (facts §6.1).
    #[error("decoded basic credential has no ':' separating user name and password")]
    MissingColon,
    /// A DMAcc `AAuthType` value outside the list of facts §5.4.
    #[error("unknown AAuthType value {value:?}")]
    UnknownAAuthType {
        /// The value as given.
        value: String,
    },
}

impl AuthError {
    /// A stable snake_case name for this error, used by the golden vectors.
    pub fn kind(&self) -> &'static str {
        match self {
            AuthError::InvalidBase64 { .. } => "invalid_base64",
            AuthError::NotUtf8 { .. } => "not_utf8",
            AuthError::MissingColon => "missing_colon",
            AuthError::UnknownAAuthType { .. } => "unknown_aauth_type",
        }
    }
}

/// MD5 of `data`.
pub fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

/// Standard base64 (with padding) of `data`, the `b64` format of facts §1.5.
pub fn b64(data: &[u8]) -> String {
    B64.encode(data)
}

/// Standard base64 decoding with a typed error.
pub fn b64_decode(text: &str) -> Result<Vec<u8>, AuthError> {
    B64.decode(text).map_err(|e| AuthError::InvalidBase64 {
        detail: e.to_string(),
    })
}

/// `MD5( B64(MD5(name ":" secret)) ":" nonce ":" B64(MD5(body)) )`, the common core of the
/// HMAC of facts §6.3 and the package #0 digest of facts §7.2.
pub fn md5_mac_raw(name: &str, secret: &str, nonce: &[u8], body: &[u8]) -> [u8; 16] {
    let mut outer = Md5::new();
    outer.update(b64(&md5(&user_pass(name, secret))).as_bytes());
    outer.update(b":");
    outer.update(nonce);
    outer.update(b":");
    outer.update(b64(&md5(body)).as_bytes());
    outer.finalize().into()
}

fn user_pass(user: &str, password: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(user.len() + 1 + password.len());
    v.extend_from_slice(user.as_bytes());
    v.push(b':');
    v.extend_from_slice(password.as_bytes());
    v
}

/// The `syncml:auth-basic` credential: `B64(user ":" password)` (facts §6.1).
pub fn basic_credential(user: &str, password: &str) -> String {
    b64(&user_pass(user, password))
}

/// Decode a `syncml:auth-basic` credential back into `(user, password)` (facts §6.1).
///
/// The user name ends at the first `:`; the password may contain further colons.
pub fn parse_basic_credential(credential: &str) -> Result<(String, String), AuthError> {
    let raw = b64_decode(credential)?;
    let text = String::from_utf8(raw).map_err(|e| AuthError::NotUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })?;
    let (user, pass) = text.split_once(':').ok_or(AuthError::MissingColon)?;
    Ok((user.to_owned(), pass.to_owned()))
}

/// The raw 16-byte `syncml:auth-md5` digest `MD5( B64(MD5(user ":" password)) ":" nonce )`
/// (facts §6.1); `nonce` is the raw bytes (base64-decoded `NextNonce`).
pub fn md5_digest(user: &str, password: &str, nonce: &[u8]) -> [u8; 16] {
    let mut outer = Md5::new();
    outer.update(b64(&md5(&user_pass(user, password))).as_bytes());
    outer.update(b":");
    outer.update(nonce);
    outer.finalize().into()
}

/// The `syncml:auth-md5` credential as sent in `Cred/Data`: base64 of [`md5_digest`]
/// (facts §6.1).
pub fn md5_credential(user: &str, password: &str, nonce: &[u8]) -> String {
    b64(&md5_digest(user, password, nonce))
}

/// The `syncml:auth-MAC` value for a message body (facts §6.3):
/// `B64( MD5( B64(MD5(user ":" password)) ":" nonce ":" B64(MD5(body)) ) )`, where `body` is
/// the whole transported body (XML or WBXML bytes).
pub fn hmac_mac(user: &str, password: &str, nonce: &[u8], body: &[u8]) -> String {
    b64(&md5_mac_raw(user, password, nonce, body))
}

/// Constant-time equality of two byte strings (an xor-fold; only the lengths leak).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Check a received `syncml:auth-basic` credential against the expected account
/// (facts §6.1). Malformed credentials are simply not valid.
pub fn verify_basic(credential: &str, user: &str, password: &str) -> bool {
    match b64_decode(credential) {
        Ok(raw) => ct_eq(&raw, &user_pass(user, password)),
        Err(_) => false,
    }
}

/// Check a received `syncml:auth-md5` credential (base64 text from `Cred/Data`) against the
/// account and the nonce the verifier issued (facts §6.1). Compares the decoded digest bytes.
pub fn verify_md5(credential: &str, user: &str, password: &str, nonce: &[u8]) -> bool {
    match b64_decode(credential.trim()) {
        Ok(raw) => ct_eq(&raw, &md5_digest(user, password, nonce)),
        Err(_) => false,
    }
}

/// Check a received `x-syncml-hmac` header against the expected account, the nonce the
/// verifier issued and the received body bytes (facts §6.3).
///
/// Valid only if the algorithm is MD5 (case-insensitive), the header's user name equals
/// `user` and the mac matches.
pub fn verify_hmac(
    header: &HmacHeader,
    user: &str,
    password: &str,
    nonce: &[u8],
    body: &[u8],
) -> bool {
    if !header.algorithm.eq_ignore_ascii_case("MD5") {
        return false;
    }
    let user_ok = ct_eq(header.username.as_bytes(), user.as_bytes());
    let mac_ok = match b64_decode(header.mac.trim()) {
        Ok(raw) => ct_eq(&raw, &md5_mac_raw(user, password, nonce, body)),
        Err(_) => false,
    };
    user_ok & mac_ok
}

#[cfg(test)]
mod tests;
