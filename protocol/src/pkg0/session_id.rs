//! Package #0 session id ⇄ `SyncHdr/SessionID` (facts §7.3).

/// The `SessionID` text for a package #0 session id: uppercase hex, no leading zeros
/// (facts §7.3: 0x00AB → `AB`). Zero gives `0` (not a valid session id, but total).
pub fn session_id_to_hex(id: u16) -> String {
    format!("{id:X}")
}

/// Parse a `SessionID` that must be in the canonical form of facts §7.3: 1–4 uppercase hex
/// digits, no leading zeros, value 1..=0xFFFF.
pub fn session_id_from_hex(text: &str) -> Result<u16, SessionIdError> {
    if text.is_empty() {
        return Err(SessionIdError::Empty);
    }
    if let Some((offset, c)) = text
        .char_indices()
        .find(|(_, c)| !matches!(c, '0'..='9' | 'A'..='F'))
    {
        return Err(if c.is_ascii_hexdigit() {
            SessionIdError::Lowercase { offset }
        } else {
            SessionIdError::NotHex { offset }
        });
    }
    if text.len() > 4 {
        return Err(SessionIdError::TooLong { len: text.len() });
    }
    if text.starts_with('0') {
        return Err(if text == "0" {
            SessionIdError::Zero
        } else {
            SessionIdError::LeadingZero
        });
    }
    u16::from_str_radix(text, 16).map_err(|_| SessionIdError::NotHex { offset: 0 })
}

/// Why a `SessionID` is not the canonical hex form of a package #0 session id (facts §7.3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionIdError {
    /// The text is empty.
    #[error("SessionID is empty")]
    Empty,
    /// A character is not a hex digit.
    #[error("SessionID has a non-hex character at byte {offset}")]
    NotHex {
        /// Byte offset of the character.
        offset: usize,
    },
    /// A hex digit is lowercase (facts §7.3 says uppercase).
    #[error("SessionID has a lowercase hex digit at byte {offset}")]
    Lowercase {
        /// Byte offset of the digit.
        offset: usize,
    },
    /// More than 4 hex digits.
    #[error("SessionID has {len} hex digits; at most 4")]
    TooLong {
        /// Number of characters.
        len: usize,
    },
    /// Leading zero (facts §7.3: no leading zeros).
    #[error("SessionID has a leading zero")]
    LeadingZero,
    /// The value 0 is not a valid package #0 session id (facts §7.1).
    #[error("SessionID 0 is not a valid package #0 session id")]
    Zero,
}

impl SessionIdError {
    /// A stable snake_case name for this error, used by the golden vectors.
    pub fn kind(&self) -> &'static str {
        match self {
            SessionIdError::Empty => "empty",
            SessionIdError::NotHex { .. } => "not_hex",
            SessionIdError::Lowercase { .. } => "lowercase",
            SessionIdError::TooLong { .. } => "too_long",
            SessionIdError::LeadingZero => "leading_zero",
            SessionIdError::Zero => "zero",
        }
    }
}
