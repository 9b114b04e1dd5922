//! Errors of the WBXML codec. Every decode error carries the byte offset of the offending
//! token or field.

/// What went wrong while decoding or encoding WBXML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WbxmlError {
    /// The input ended inside a header field, token or open element.
    #[error("WBXML input ends at byte {offset} while reading {what}")]
    UnexpectedEof {
        /// Offset where more input was needed.
        offset: usize,
        /// What was being read.
        what: &'static str,
    },
    /// An mb_u_int32 longer than 5 bytes.
    #[error("mb_u_int32 at byte {offset} is longer than 5 bytes")]
    MbUintTooLong {
        /// Offset of the first byte of the integer.
        offset: usize,
    },
    /// An mb_u_int32 whose value does not fit in 32 bits.
    #[error("mb_u_int32 at byte {offset} overflows 32 bits")]
    MbUintOverflow {
        /// Offset of the first byte of the integer.
        offset: usize,
    },
    /// A WBXML version byte other than 1.0–1.3 (0x00–0x03). Facts §1.1, §12.1.
    #[error(
        "unsupported WBXML version byte 0x{version:02X} at byte {offset} (accepted: 0x00-0x03)"
    )]
    UnsupportedVersion {
        /// Offset of the version byte (0).
        offset: usize,
        /// The version byte.
        version: u8,
    },
    /// A charset other than UTF-8 (106), US-ASCII (3) or unknown (0). Facts §12.1.
    #[error("unsupported charset MIBenum {charset} at byte {offset} (accepted: 106 UTF-8, 3 US-ASCII, 0 unknown)")]
    UnsupportedCharset {
        /// Offset of the charset field.
        offset: usize,
        /// The MIBenum.
        charset: u32,
    },
    /// A string-table reference past the table or to a string without a terminating NUL.
    #[error("string-table index {index} at byte {offset} is outside the {table_len}-byte table or unterminated")]
    BadStringTableIndex {
        /// Offset of the referencing token.
        offset: usize,
        /// The index.
        index: u32,
        /// Length of the string table.
        table_len: usize,
    },
    /// A `SWITCH_PAGE` to a code page this codec has no table for.
    #[error("SWITCH_PAGE at byte {offset} to unknown code page {page} (known: 0 SyncML, 1 MetInf, 2 DDF)")]
    UnknownCodePage {
        /// Offset of the `SWITCH_PAGE` token.
        offset: usize,
        /// The page number.
        page: u8,
    },
    /// A tag token with no entry in the current code page's table. Facts §12.3–§12.5.
    #[error("unknown tag token 0x{token:02X} on code page {page} at byte {offset}")]
    UnknownTag {
        /// Offset of the token.
        offset: usize,
        /// The current code page.
        page: u8,
        /// The token byte as read (including content/attribute bits).
        token: u8,
    },
    /// A tag carrying attributes (attribute bit, `LITERAL_A`, `LITERAL_AC`); SyncML uses none.
    #[error(
        "tag token 0x{token:02X} at byte {offset} carries attributes, which SyncML does not use"
    )]
    UnsupportedAttributes {
        /// Offset of the token.
        offset: usize,
        /// The token byte.
        token: u8,
    },
    /// An `EXT_I_*`, `EXT_T_*` or `EXT_*` token; SyncML defines no extensions.
    #[error("extension token 0x{token:02X} at byte {offset} is not defined for SyncML")]
    UnsupportedExtension {
        /// Offset of the token.
        offset: usize,
        /// The token byte.
        token: u8,
    },
    /// A processing instruction (`PI`); SyncML uses none, so it is rejected rather than skipped.
    #[error("processing instruction (PI) at byte {offset} is not supported in SyncML WBXML")]
    UnsupportedProcessingInstruction {
        /// Offset of the `PI` token.
        offset: usize,
    },
    /// A string (inline, table, or literal name) that is not valid UTF-8.
    #[error("string at byte {offset} is not valid UTF-8")]
    InvalidUtf8 {
        /// Offset of the string's first byte.
        offset: usize,
    },
    /// An `ENTITY` whose value is not a Unicode scalar value.
    #[error("ENTITY at byte {offset} has invalid code point 0x{code:X}")]
    InvalidEntity {
        /// Offset of the `ENTITY` token.
        offset: usize,
        /// The value.
        code: u32,
    },
    /// Elements nested deeper than [`super::MAX_DEPTH`].
    #[error("element at byte {offset} nests deeper than the limit of {limit} levels")]
    TooDeep {
        /// Offset of the tag that exceeded the limit (0 when encoding).
        offset: usize,
        /// The nesting limit.
        limit: usize,
    },
    /// An `END` with no open element.
    #[error("END at byte {offset} closes no open element")]
    UnbalancedEnd {
        /// Offset of the `END` token.
        offset: usize,
    },
    /// Content (text, opaque, `END`) before the root element, or anything after it.
    #[error("token 0x{token:02X} at byte {offset} is outside the root element")]
    OutsideRoot {
        /// Offset of the token.
        offset: usize,
        /// The token byte.
        token: u8,
    },
    /// The body contains no root element.
    #[error("WBXML body at byte {offset} contains no root element")]
    NoRoot {
        /// Offset where the body started.
        offset: usize,
    },
    /// String-table references expanded to more text than the input-size budget allows
    /// (guards against a small input referencing one large table string many times).
    #[error("string-table references at byte {offset} expand past the limit of {limit} bytes")]
    ExpansionLimit {
        /// Offset of the reference that crossed the limit.
        offset: usize,
        /// The budget in bytes.
        limit: usize,
    },
    /// Encoding: the public id cannot be written (numeric 0, or a literal containing NUL).
    #[error("public id {public_id} cannot be encoded: {reason}")]
    InvalidPublicId {
        /// Debug rendering of the public id.
        public_id: String,
        /// Why.
        reason: &'static str,
    },
    /// Decoding: a LITERAL tag whose name from the string table is not an XML name, so the
    /// element could never be written as XML.
    #[error("LITERAL tag at byte {offset} names {name:?}, which is not an XML element name")]
    BadLiteralName {
        /// Offset of the LITERAL token.
        offset: usize,
        /// The name from the string table.
        name: String,
    },
    /// Encoding: an element name that is empty or contains NUL cannot be a literal tag.
    #[error("element name {name:?} cannot be encoded as a WBXML literal tag")]
    BadElementName {
        /// The offending name.
        name: String,
    },
    /// Encoding: an element whose namespace maps to no code page of this document.
    #[error("element <{element}> has namespace {ns:?}, which maps to no code page of this document (page 0 is {page0_ns:?})")]
    UnencodableNamespace {
        /// The element name.
        element: String,
        /// Its namespace.
        ns: String,
        /// The namespace of code page 0 for the document's public id.
        page0_ns: String,
    },
    /// Encoding: a literal public id or string that is too long for an mb_u_int32 length.
    #[error("{what} is too long to encode ({len} bytes)")]
    TooLong {
        /// What was too long.
        what: &'static str,
        /// Its length.
        len: usize,
    },
}
