//! The `x-syncml-hmac` transport header (facts §6.3).

use std::fmt;
use std::str::FromStr;

/// The value of an `x-syncml-hmac` header (facts §6.3):
/// `algorithm=MD5, username="<name>", mac=<base64>`.
///
/// Parsing accepts a comma-separated `name=value` list in any order, values optionally in
/// double quotes (with `\"` and `\\` escapes inside quotes), whitespace around names, values
/// and commas; parameter names match case-insensitively; unknown parameters are ignored.
/// `algorithm` is optional and defaults to `MD5`; `username` and `mac` are mandatory and must
/// be non-empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacHeader {
    /// The digest algorithm; `MD5` is the only one facts §6.3 defines.
    pub algorithm: String,
    /// The user name, equal to `SyncHdr/Source/LocName` (facts §6.3).
    pub username: String,
    /// The base64 mac, as in the header (not decoded).
    pub mac: String,
}

impl HmacHeader {
    /// The default algorithm when the header omits it (facts §6.3).
    pub const DEFAULT_ALGORITHM: &'static str = "MD5";

    /// A header with the default algorithm.
    pub fn new(username: impl Into<String>, mac: impl Into<String>) -> Self {
        HmacHeader {
            algorithm: Self::DEFAULT_ALGORITHM.to_owned(),
            username: username.into(),
            mac: mac.into(),
        }
    }

    /// Parse a header value; see the type docs for what is accepted.
    pub fn parse(value: &str) -> Result<Self, HmacHeaderError> {
        let mut algorithm: Option<String> = None;
        let mut username: Option<String> = None;
        let mut mac: Option<String> = None;
        let mut p = Parser { s: value, pos: 0 };
        p.skip_ws();
        if p.at_end() {
            return Err(HmacHeaderError::MissingField { field: "username" });
        }
        loop {
            p.skip_ws();
            let name_start = p.pos;
            let name = p.take_while(|c| c != '=' && c != ',').trim_end();
            if name.is_empty() {
                return Err(HmacHeaderError::EmptyParameter { offset: name_start });
            }
            if p.peek() != Some('=') {
                return Err(HmacHeaderError::MissingEquals { offset: p.pos });
            }
            p.bump();
            p.skip_ws();
            let value_start = p.pos;
            let val = if p.peek() == Some('"') {
                p.bump();
                p.quoted().ok_or(HmacHeaderError::UnterminatedQuote {
                    offset: value_start,
                })?
            } else {
                p.take_while(|c| c != ',').trim_end().to_owned()
            };
            p.skip_ws();
            match p.peek() {
                None | Some(',') => {}
                Some(_) => return Err(HmacHeaderError::UnexpectedCharacter { offset: p.pos }),
            }
            let slot = if name.eq_ignore_ascii_case("algorithm") {
                Some((&mut algorithm, "algorithm"))
            } else if name.eq_ignore_ascii_case("username") {
                Some((&mut username, "username"))
            } else if name.eq_ignore_ascii_case("mac") {
                Some((&mut mac, "mac"))
            } else {
                None // unknown parameters are ignored (facts §6.3)
            };
            if let Some((slot, field)) = slot {
                if slot.is_some() {
                    return Err(HmacHeaderError::DuplicateField {
                        field,
                        offset: name_start,
                    });
                }
                if val.is_empty() {
                    return Err(HmacHeaderError::EmptyValue {
                        field,
                        offset: value_start,
                    });
                }
                *slot = Some(val);
            }
            if p.at_end() {
                break;
            }
            p.bump(); // the comma
        }
        Ok(HmacHeader {
            algorithm: algorithm.unwrap_or_else(|| Self::DEFAULT_ALGORITHM.to_owned()),
            username: username.ok_or(HmacHeaderError::MissingField { field: "username" })?,
            mac: mac.ok_or(HmacHeaderError::MissingField { field: "mac" })?,
        })
    }
}

impl FromStr for HmacHeader {
    type Err = HmacHeaderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HmacHeader::parse(s)
    }
}

impl fmt::Display for HmacHeader {
    /// `algorithm=<alg>, username="<name>", mac=<mac>`, the form of facts §6.3; the user
    /// name is quoted with `"` and `\` escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "algorithm={}, username=\"", self.algorithm)?;
        for c in self.username.chars() {
            if c == '"' || c == '\\' {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        write!(f, "\", mac={}", self.mac)
    }
}

/// What is wrong with an `x-syncml-hmac` header value. Offsets are byte offsets into it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HmacHeaderError {
    /// A mandatory parameter (`username` or `mac`) is absent (facts §6.3).
    #[error("x-syncml-hmac: mandatory parameter `{field}` is missing")]
    MissingField {
        /// The parameter name.
        field: &'static str,
    },
    /// A known parameter appears twice.
    #[error("x-syncml-hmac: parameter `{field}` repeated at byte {offset}")]
    DuplicateField {
        /// The parameter name.
        field: &'static str,
        /// Where the second occurrence starts.
        offset: usize,
    },
    /// A known parameter has an empty value.
    #[error("x-syncml-hmac: parameter `{field}` has an empty value at byte {offset}")]
    EmptyValue {
        /// The parameter name.
        field: &'static str,
        /// Where the value starts.
        offset: usize,
    },
    /// A list element has no name (e.g. `,,` or a leading comma).
    #[error("x-syncml-hmac: empty parameter at byte {offset}")]
    EmptyParameter {
        /// Where the empty element is.
        offset: usize,
    },
    /// A parameter has no `=`.
    #[error("x-syncml-hmac: expected '=' at byte {offset}")]
    MissingEquals {
        /// Where `=` was expected.
        offset: usize,
    },
    /// A quoted value has no closing quote.
    #[error("x-syncml-hmac: unterminated quoted value starting at byte {offset}")]
    UnterminatedQuote {
        /// Where the opening quote is.
        offset: usize,
    },
    /// Something other than `,` follows a quoted value.
    #[error("x-syncml-hmac: expected ',' or end of header at byte {offset}")]
    UnexpectedCharacter {
        /// Where the unexpected character is.
        offset: usize,
    },
}

impl HmacHeaderError {
    /// A stable snake_case name for this error, used by the golden vectors.
    pub fn kind(&self) -> &'static str {
        match self {
            HmacHeaderError::MissingField { .. } => "missing_field",
            HmacHeaderError::DuplicateField { .. } => "duplicate_field",
            HmacHeaderError::EmptyValue { .. } => "empty_value",
            HmacHeaderError::EmptyParameter { .. } => "empty_parameter",
            HmacHeaderError::MissingEquals { .. } => "missing_equals",
            HmacHeaderError::UnterminatedQuote { .. } => "unterminated_quote",
            HmacHeaderError::UnexpectedCharacter { .. } => "unexpected_character",
        }
    }
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }
    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }
    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }
    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.bump();
        }
        self.s.get(start..self.pos).unwrap_or("")
    }
    /// After an opening quote: the unescaped content, consuming the closing quote.
    fn quoted(&mut self) -> Option<String> {
        let mut out = String::new();
        loop {
            let c = self.peek()?;
            self.bump();
            match c {
                '"' => return Some(out),
                '\\' => {
                    let e = self.peek()?;
                    self.bump();
                    out.push(e);
                }
                other => out.push(other),
            }
        }
    }
}
