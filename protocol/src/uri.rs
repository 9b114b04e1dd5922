//! Management-tree node URIs, `?prop=` / `?list=` queries and URI limits (facts §4.1, §4.6).
//!
//! A [`NodeUri`] is a normalised path: `./A/B` and `A/B` parse to the same value, the root
//! is `.`, segments are stored percent-decoded. [`NodeUri`]'s `Display` is the canonical form
//! `./A/B` (root `.`), re-escaping every byte outside the raw character set. A [`UriRef`] is a
//! node URI plus an optional [`UriQuery`].
//!
//! Syntax rules (facts §4.1): no empty input, no leading `/`, no trailing `/` (root is `.`,
//! never `./`), no empty segments, no `..`, `.` only as the leading segment, `%XX` escapes
//! must be complete hex and decode to UTF-8, a decoded segment must not contain `/`. Raw
//! characters allowed in a segment (facts §4.1, IMPL libdmclient): ALPHA, DIGIT and
//! `: @ & = + $ , - _ ! ~ * ' ( ) .`; anything else must be escaped, unless
//! [`ParseOptions::allow_unescaped`] is set.

mod query;

pub use query::{ListQuery, Property, TndsField, TndsFilter, UriQuery, UriRef};

use std::fmt;
use std::str::FromStr;

/// A node URI relative to the device root (facts §4.1). See the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeUri {
    segments: Vec<String>,
}

/// Parser settings for [`NodeUri::parse_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParseOptions {
    /// Accept raw characters outside the unreserved set (e.g. spaces, non-ASCII), which
    /// facts §4.1 says must be %-escaped. Control characters, `/`, `?` and `#` are still
    /// rejected. Default `false` (strict).
    pub allow_unescaped: bool,
}

/// Why a URI was rejected. Offsets are byte offsets into the parsed string; segment indexes
/// are 0-based and do not count a leading `.`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// The URI is empty.
    #[error("URI is empty")]
    Empty,
    /// The URI starts with `/` (facts §4.1).
    #[error("URI starts with '/' (URIs are relative to the device root)")]
    LeadingSlash,
    /// The URI ends with `/`; the root is `.`, never `./` (facts §4.1).
    #[error("URI ends with '/' at byte {offset}")]
    TrailingSlash {
        /// Offset of the slash.
        offset: usize,
    },
    /// Two consecutive `/` (facts §4.1).
    #[error("empty segment {index} at byte {offset}")]
    EmptySegment {
        /// Segment index.
        index: usize,
        /// Where the segment would start.
        offset: usize,
    },
    /// A `..` segment (facts §4.1).
    #[error("'..' segment {index} at byte {offset} is not allowed")]
    DotDotSegment {
        /// Segment index.
        index: usize,
        /// Where the segment starts.
        offset: usize,
    },
    /// A `.` segment anywhere but at the start (facts §4.1).
    #[error("'.' segment {index} at byte {offset} is only allowed as the leading segment")]
    DotSegment {
        /// Segment index.
        index: usize,
        /// Where the segment starts.
        offset: usize,
    },
    /// A `%` not followed by two hex digits (facts §4.1).
    #[error("bad %-escape at byte {offset}")]
    BadEscape {
        /// Offset of the `%`.
        offset: usize,
    },
    /// The decoded bytes of a segment are not UTF-8 (facts §4.1).
    #[error("segment {index} at byte {offset} does not decode to UTF-8")]
    InvalidUtf8 {
        /// Segment index.
        index: usize,
        /// Where the segment starts.
        offset: usize,
    },
    /// A decoded segment contains `/` (from `%2F`) (facts §4.1: a segment cannot contain `/`).
    #[error("segment {index} at byte {offset} contains an escaped '/'")]
    SlashInSegment {
        /// Segment index.
        index: usize,
        /// Where the segment starts.
        offset: usize,
    },
    /// A character that must be %-escaped appears raw (facts §4.1).
    #[error("character {ch:?} at byte {offset} must be %-escaped")]
    InvalidChar {
        /// Offset of the character.
        offset: usize,
        /// The character.
        ch: char,
    },
    /// The query part is not `prop=<Name>` or `list=<attr>` (facts §4.1, §4.6).
    #[error("unknown URI query {query:?} at byte {offset}")]
    UnknownQuery {
        /// Offset of the query text (after `?`).
        offset: usize,
        /// The query text.
        query: String,
    },
    /// `?prop=` names no known run-time property (facts §4.3).
    #[error("unknown property {name:?} at byte {offset}")]
    UnknownProperty {
        /// Offset of the name.
        offset: usize,
        /// The name.
        name: String,
    },
    /// `?list=` names no known attribute (facts §4.6).
    #[error("unknown ?list attribute {name:?} at byte {offset}")]
    UnknownListAttribute {
        /// Offset of the attribute.
        offset: usize,
        /// The attribute text.
        name: String,
    },
    /// A TNDS filter field is not a property name or `Value` (facts §4.6).
    #[error("unknown TNDS filter field {name:?} at byte {offset}")]
    UnknownTndsField {
        /// Offset of the field name.
        offset: usize,
        /// The field name.
        name: String,
    },
    /// A TNDS filter mixes `+` and `-` (facts §4.6).
    #[error("TNDS filter mixes '+' and '-' at byte {offset}")]
    MixedTndsFilter {
        /// Offset of the first sign that differs.
        offset: usize,
    },
    /// A TNDS filter field repeats.
    #[error("TNDS filter field {name:?} repeated at byte {offset}")]
    DuplicateTndsField {
        /// Offset of the repeat.
        offset: usize,
        /// The field name.
        name: String,
    },
    /// More segments than `MaxDepth` (facts §4.1, §5.3) → 414.
    #[error("URI depth {depth} exceeds MaxDepth {max}")]
    TooDeep {
        /// Number of segments.
        depth: usize,
        /// The limit.
        max: usize,
    },
    /// Longer than `MaxTotLen` (facts §4.1, §5.3) → 414.
    #[error("URI length {len} exceeds MaxTotLen {max}")]
    TooLong {
        /// Length of the canonical form in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A segment longer than `MaxSegLen` (facts §4.1, §5.3) → 414.
    #[error("segment {index} length {len} exceeds MaxSegLen {max}")]
    SegmentTooLong {
        /// Segment index.
        index: usize,
        /// Escaped length of the segment.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl UriError {
    /// A stable snake_case name for this error, used by the golden vectors.
    pub fn kind(&self) -> &'static str {
        match self {
            UriError::Empty => "empty",
            UriError::LeadingSlash => "leading_slash",
            UriError::TrailingSlash { .. } => "trailing_slash",
            UriError::EmptySegment { .. } => "empty_segment",
            UriError::DotDotSegment { .. } => "dot_dot_segment",
            UriError::DotSegment { .. } => "dot_segment",
            UriError::BadEscape { .. } => "bad_escape",
            UriError::InvalidUtf8 { .. } => "invalid_utf8",
            UriError::SlashInSegment { .. } => "slash_in_segment",
            UriError::InvalidChar { .. } => "invalid_char",
            UriError::UnknownQuery { .. } => "unknown_query",
            UriError::UnknownProperty { .. } => "unknown_property",
            UriError::UnknownListAttribute { .. } => "unknown_list_attribute",
            UriError::UnknownTndsField { .. } => "unknown_tnds_field",
            UriError::MixedTndsFilter { .. } => "mixed_tnds_filter",
            UriError::DuplicateTndsField { .. } => "duplicate_tnds_field",
            UriError::TooDeep { .. } => "too_deep",
            UriError::TooLong { .. } => "too_long",
            UriError::SegmentTooLong { .. } => "segment_too_long",
        }
    }

    /// The DM status code this error maps to, where the fact sheet fixes one: 414 for the
    /// limit errors (facts §4.1, §3.1). `None` for syntax errors: the sheet leaves that
    /// status to the tree (libdmclient answers 500; `?list` unsupported is 406, an unknown
    /// property 406 — facts §4.1, §4.3, §4.6), so callers choose.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            UriError::TooDeep { .. }
            | UriError::TooLong { .. }
            | UriError::SegmentTooLong { .. } => Some(414),
            _ => None,
        }
    }
}

/// Raw characters allowed in a segment without escaping (facts §4.1, IMPL libdmclient).
fn is_raw_allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b':' | b'@'
                | b'&'
                | b'='
                | b'+'
                | b'$'
                | b','
                | b'-'
                | b'_'
                | b'!'
                | b'~'
                | b'*'
                | b'\''
                | b'('
                | b')'
                | b'.'
        )
}

fn hex_val(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Decode one raw segment (already known non-empty and not `.`/`..`).
fn decode_segment(
    raw: &str,
    index: usize,
    base: usize,
    opts: ParseOptions,
) -> Result<String, UriError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let v = match (
                bytes.get(i + 1).copied().and_then(hex_val),
                bytes.get(i + 2).copied().and_then(hex_val),
            ) {
                (Some(h), Some(l)) => (h << 4) | l,
                _ => return Err(UriError::BadEscape { offset: base + i }),
            };
            out.push(v);
            i += 3;
            continue;
        }
        if !is_raw_allowed(b) {
            let ch = raw
                .get(i..)
                .and_then(|r| r.chars().next())
                .unwrap_or('\u{FFFD}');
            let tolerated = opts.allow_unescaped && !ch.is_control() && !matches!(ch, '?' | '#');
            if !tolerated {
                return Err(UriError::InvalidChar {
                    offset: base + i,
                    ch,
                });
            }
        }
        out.push(b);
        i += 1;
    }
    let seg = String::from_utf8(out).map_err(|_| UriError::InvalidUtf8 {
        index,
        offset: base,
    })?;
    if seg.contains('/') {
        return Err(UriError::SlashInSegment {
            index,
            offset: base,
        });
    }
    match seg.as_str() {
        "." => Err(UriError::DotSegment {
            index,
            offset: base,
        }),
        ".." => Err(UriError::DotDotSegment {
            index,
            offset: base,
        }),
        _ => Ok(seg),
    }
}

/// Check a decoded segment name for [`NodeUri::child`].
fn check_name(name: &str) -> Result<(), UriError> {
    match name {
        "" => Err(UriError::EmptySegment {
            index: 0,
            offset: 0,
        }),
        "." => Err(UriError::DotSegment {
            index: 0,
            offset: 0,
        }),
        ".." => Err(UriError::DotDotSegment {
            index: 0,
            offset: 0,
        }),
        n if n.contains('/') => Err(UriError::SlashInSegment {
            index: 0,
            offset: 0,
        }),
        _ => Ok(()),
    }
}

/// A decoded node name in its canonical %-escaped form, as it appears in a URI segment or in
/// the child list a Get on an interior node returns (facts §4.1, §4.2).
pub fn escape_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    escape_segment(name, &mut out);
    out
}

/// Percent-escape a decoded segment for the canonical form.
fn escape_segment(seg: &str, out: &mut String) {
    for &b in seg.as_bytes() {
        if is_raw_allowed(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

impl NodeUri {
    /// The root node `.`.
    pub fn root() -> Self {
        NodeUri::default()
    }

    /// Parse strictly (facts §4.1). The string must not carry a query; use [`UriRef::parse`]
    /// for that.
    pub fn parse(s: &str) -> Result<Self, UriError> {
        Self::parse_with(s, ParseOptions::default())
    }

    /// Parse with explicit [`ParseOptions`].
    pub fn parse_with(s: &str, opts: ParseOptions) -> Result<Self, UriError> {
        Self::parse_at(s, 0, opts)
    }

    /// Parse `s`, which starts at byte `base` of a larger string (for error offsets).
    fn parse_at(s: &str, base: usize, opts: ParseOptions) -> Result<Self, UriError> {
        if s.is_empty() {
            return Err(UriError::Empty);
        }
        if s.starts_with('/') {
            return Err(UriError::LeadingSlash);
        }
        if s == "." {
            return Ok(NodeUri::root());
        }
        if s.ends_with('/') {
            return Err(UriError::TrailingSlash {
                offset: base + s.len() - 1,
            });
        }
        let (body, mut offset) = match s.strip_prefix("./") {
            Some(rest) => (rest, base + 2),
            None => (s, base),
        };
        let mut segments = Vec::new();
        for (index, raw) in body.split('/').enumerate() {
            match raw {
                "" => return Err(UriError::EmptySegment { index, offset }),
                "." => return Err(UriError::DotSegment { index, offset }),
                ".." => return Err(UriError::DotDotSegment { index, offset }),
                _ => segments.push(decode_segment(raw, index, offset, opts)?),
            }
            offset += raw.len() + 1;
        }
        Ok(NodeUri { segments })
    }

    /// The decoded segments, root first (empty for the root).
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// Number of segments (0 for the root), the quantity `MaxDepth` limits.
    pub fn depth(&self) -> usize {
        self.segments.len()
    }

    /// Whether this is the root `.`.
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// The last segment (the node name), `None` for the root.
    pub fn name(&self) -> Option<&str> {
        self.segments.last().map(String::as_str)
    }

    /// The parent node; `None` for the root.
    pub fn parent(&self) -> Option<NodeUri> {
        let (_, init) = self.segments.split_last()?;
        Some(NodeUri {
            segments: init.to_vec(),
        })
    }

    /// The child called `name` (a decoded name: not empty, not `.`/`..`, no `/`).
    pub fn child(&self, name: &str) -> Result<NodeUri, UriError> {
        check_name(name)?;
        let mut segments = self.segments.clone();
        segments.push(name.to_owned());
        Ok(NodeUri { segments })
    }

    /// Whether `self` equals `prefix` or lies below it (segment-wise, case-sensitive).
    pub fn starts_with(&self, prefix: &NodeUri) -> bool {
        self.segments.starts_with(&prefix.segments)
    }

    /// Whether `self` is a strict ancestor of `other`.
    pub fn is_ancestor_of(&self, other: &NodeUri) -> bool {
        other.depth() > self.depth() && other.starts_with(self)
    }

    /// `self` and its ancestors, nearest first, ending with the root — the order ACL
    /// inheritance walks (facts §4.4).
    pub fn self_and_ancestors(&self) -> impl Iterator<Item = NodeUri> + '_ {
        (0..=self.depth()).rev().map(|n| NodeUri {
            segments: self.segments.get(..n).unwrap_or_default().to_vec(),
        })
    }

    /// Escaped length of segment `index`, the quantity `MaxSegLen` limits.
    fn escaped_len(seg: &str) -> usize {
        seg.bytes()
            .map(|b| if is_raw_allowed(b) { 1 } else { 3 })
            .sum()
    }
}

impl FromStr for NodeUri {
    type Err = UriError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NodeUri::parse(s)
    }
}

impl fmt::Display for NodeUri {
    /// Canonical form: `.` for the root, else `./A/B` with segments re-escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::from(".");
        for seg in &self.segments {
            out.push('/');
            escape_segment(seg, &mut out);
        }
        f.write_str(&out)
    }
}

/// The device's URI limits from `./DevDetail/URI/{MaxDepth,MaxTotLen,MaxSegLen}`; 0 means
/// unlimited (facts §4.1, §5.3). Exceeding one is status 414.
///
/// Measuring: depth = number of segments (root 0); total length = characters of the
/// canonical escaped form including the `./` prefix (our choice: the sheet does not say which
/// spelling is measured; libdmclient measures the string as received, IMPL); segment length =
/// characters of the escaped segment (as libdmclient does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UriLimits {
    /// `MaxDepth`: maximum number of segments; 0 = unlimited.
    pub max_depth: usize,
    /// `MaxTotLen`: maximum URI length in characters; 0 = unlimited.
    pub max_tot_len: usize,
    /// `MaxSegLen`: maximum segment length in characters; 0 = unlimited.
    pub max_seg_len: usize,
}

impl UriLimits {
    /// No limits.
    pub const UNLIMITED: UriLimits = UriLimits {
        max_depth: 0,
        max_tot_len: 0,
        max_seg_len: 0,
    };

    /// Check a URI against the limits; the error's [`UriError::status_code`] is 414.
    /// Checks depth, then total length, then each segment.
    pub fn check(&self, uri: &NodeUri) -> Result<(), UriError> {
        if self.max_depth != 0 && uri.depth() > self.max_depth {
            return Err(UriError::TooDeep {
                depth: uri.depth(),
                max: self.max_depth,
            });
        }
        if self.max_tot_len != 0 {
            let len = uri.to_string().chars().count();
            if len > self.max_tot_len {
                return Err(UriError::TooLong {
                    len,
                    max: self.max_tot_len,
                });
            }
        }
        if self.max_seg_len != 0 {
            for (index, seg) in uri.segments().iter().enumerate() {
                let len = NodeUri::escaped_len(seg);
                if len > self.max_seg_len {
                    return Err(UriError::SegmentTooLong {
                        index,
                        len,
                        max: self.max_seg_len,
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
