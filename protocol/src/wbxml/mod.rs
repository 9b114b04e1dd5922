//! WBXML codec for SyncML DM 1.2 (facts §12).
//!
//! [`decode`] turns WBXML bytes into a [`Document`] whose [`Document::root`] is the same
//! [`dom::Element`] tree the XML reader produces; [`encode`] / [`encode_syncml`] write a tree
//! back. The namespace of every element comes from its code page (facts §12.6): page 0 is the
//! SyncML namespace of the document's public id (`SYNCML:SYNCML1.2` for 0x1201,
//! `SYNCML:SYNCML1.1` for 0x0FD3), page 1 `syncml:metinf`, page 2 `syncml:dmddf1.2`.
//!
//! # Decoder rules
//!
//! * Header (facts §12.1): version 0x00–0x03; public id as mb_u_int32 or `0` + string-table
//!   index (literal FPI, e.g. `-//OMA//DTD-DM-DDF 1.2//EN` for TNDS); charset read for every
//!   version, 106/3/0 accepted (3 and 0 are read as UTF-8); string table.
//! * Body (facts §12.2): `SWITCH_PAGE`, `END`, `STR_I`, `STR_T`, `ENTITY`, `OPAQUE`, tag
//!   tokens and `LITERAL`/`LITERAL_C`. Consecutive `STR_I`/`STR_T`/`ENTITY` pieces merge into
//!   one [`dom::Node::Text`]; `OPAQUE` becomes [`dom::Node::Opaque`] (never merged). Empty
//!   `STR_I` gives an empty text node.
//! * Rejected with typed errors: attribute-bearing tags and `LITERAL_A`/`LITERAL_AC`,
//!   `EXT_*`, `PI` (not skipped: SyncML defines none, so one is a sender bug), unknown code
//!   pages and tokens, nesting deeper than [`MAX_DEPTH`], truncated or overlong fields,
//!   mb_u_int32 over 5 bytes or 32 bits, anything after the root element, and string-table
//!   references that expand past a budget proportional to the input size.
//!
//! # Encoder rules
//!
//! Deterministic; `SWITCH_PAGE` only on page changes; unknown names as `LITERAL`/`LITERAL_C`
//! with the name in the string table; text as `STR_I` (never `STR_T`), opaque as `OPAQUE`;
//! the content bit only when the element has children. Round trip `decode(encode(t)) == t`
//! holds for trees whose text nodes are non-adjacent (adjacent text merges on decode).
//!
//! # libwbxml (0.11.8, Debian `libwbxml2-utils`) behaviour, observed
//!
//! Checked with `xml2wbxml` / `wbxml2xml` on the fixtures in `protocol/tests/fixtures` and
//! pinned by `protocol/tests/libwbxml_crosscheck.rs`:
//!
//! * **Options**: `xml2wbxml -v 1.2 -o out.wbxml in.xml` gives SyncML 1.2 WBXML like
//!   [`encode_syncml`]; `-n` disables the string table, `-k` keeps whitespace; `-a`
//!   ("anonymous") changed nothing for SyncML input (still public id 0x1201).
//!   `wbxml2xml -m 0` writes compact XML (with DOCTYPE and `xmlns`).
//! * **Version byte**: 0x03 (WBXML 1.3) by default; `-v 1.2` gives 0x02. `-v 1.0` writes
//!   0x00 but *still writes a charset field*, so this decoder reads the charset for every
//!   version.
//! * **Public id / charset**: numeric 0x1201 for `SYNCML:SYNCML1.2` (0x0FD3 for 1.1), never a
//!   literal FPI for SyncML; charset 0x6A (UTF-8).
//! * **String table**: on by default, holding only strings that occur more than once and are
//!   not very short (in `pkg2_status_chal` both repeated `LocURI`s become `STR_T`; a
//!   repeated `1.1` stays `STR_I`). Most DM messages still come out with an empty table. We
//!   never use a string table except for literal tags and a literal public id.
//! * **Whitespace**: by default whitespace-only text is dropped *and* every text is trimmed
//!   (`<VerDTD>  1.2 </VerDTD>` → `1.2`), so leading/trailing blanks in node values are lost.
//!   With `-k` everything is kept verbatim, including indentation between elements. We
//!   encode text exactly as it is in the tree.
//! * **`Data` content**: `STR_I` in general (`Cred/Data`, `Alert/Data`, `Status/Data`,
//!   `Results/Item/Data`), but `OPAQUE` for a `Data` whose grandparent is `Add` or `Replace`
//!   (libwbxml's "vObject" rule: `Replace/Item/Data` `Model X` is `C3 07 ...`); `wbxml2xml`
//!   prints opaque content as CDATA. We write `OPAQUE` only for [`dom::Node::Opaque`].
//! * **Embedded TNDS**: a `MgmtTree` inside `Data` with `Meta/Type`
//!   `application/vnd.syncml.dmtnds+xml` becomes a *separate WBXML document* inside `OPAQUE`
//!   (version 0x02, literal public id `-//OMA//DTD-DM-DDF 1.2//EN` at string-table index 0,
//!   body starting with `SWITCH_PAGE 2`), and the `Type` text is rewritten to
//!   `application/vnd.syncml.dmtnds+wbxml` (facts §12.6). [`decode`] returns that as
//!   [`dom::Node::Opaque`]; callers can [`decode`] the bytes again. Our encoder instead keeps
//!   the `MgmtTree` inline on code page 2 inside the page-0 `Data` (facts §12.5, §12.6).
//!   libwbxml's SyncML 1.2 tables have **no code page 2**: `wbxml2xml` prints our inline
//!   DDF elements as `<unknown>` (text survives). Peers built on libwbxml therefore need
//!   the embedded-document form.
//! * **Empty elements** (`<Final/>`) are tag tokens without the content bit, as here.

mod decode;
mod encode;
mod error;
mod mb_uint;
mod public_id;
pub mod tokens;

#[cfg(test)]
mod tests;

use crate::dom;

pub use decode::decode;
pub use encode::{encode, encode_syncml};
pub use error::WbxmlError;
pub use public_id::{
    known_fpi, PublicId, FPI_DMDDF12, FPI_METINF12, FPI_SYNCML10, FPI_SYNCML11, FPI_SYNCML12,
    ID_DEVINF10, ID_DEVINF11, ID_DEVINF12, ID_METINF12, ID_SYNCML10, ID_SYNCML11, ID_SYNCML12,
    NS_SYNCML10,
};

/// Deepest element nesting the decoder accepts (and the encoder writes); deeper input gives
/// [`WbxmlError::TooDeep`] instead of unbounded memory or stack use.
pub const MAX_DEPTH: usize = 64;

/// MIBenum of UTF-8, the charset SyncML DM uses. Facts §12.1.
pub const CHARSET_UTF8: u32 = 106;

/// A decoded (or to-be-encoded) WBXML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The WBXML version byte (0x02 = WBXML 1.2, 0x03 = 1.3). Facts §12.1.
    pub version: u8,
    /// The document's public identifier. Facts §12.1.
    pub public_id: PublicId,
    /// The charset MIBenum (106 = UTF-8). Facts §12.1.
    pub charset: u32,
    /// The root element.
    pub root: dom::Element,
}

impl Document {
    /// A SyncML 1.2 document (version 0x02, public id 0x1201, UTF-8) around `root`.
    pub fn syncml(root: dom::Element) -> Self {
        Document {
            version: 0x02,
            public_id: PublicId::SYNCML12,
            charset: CHARSET_UTF8,
            root,
        }
    }

    /// A TNDS/DDF document (version 0x02, literal public id `-//OMA//DTD-DM-DDF 1.2//EN`,
    /// UTF-8) around a `MgmtTree` root. Facts §12.1.
    pub fn tnds(root: dom::Element) -> Self {
        Document {
            version: 0x02,
            public_id: PublicId::dmddf12(),
            charset: CHARSET_UTF8,
            root,
        }
    }

    /// True when the root is the DDF/TNDS `MgmtTree` (code page 2). Facts §12.5.
    pub fn is_tnds(&self) -> bool {
        self.root.ns == dom::NS_DMDDF12 && self.root.name == "MgmtTree"
    }
}

/// Sniff whether `bytes` look like WBXML rather than XML, for codec auto-detection: the first
/// byte is a WBXML 1.x version (0x00–0x03). XML starts with `<`, whitespace or a BOM, none of
/// which is in that range; UTF-16BE XML without a BOM (`00 3C`) is excluded explicitly.
pub fn is_wbxml(bytes: &[u8]) -> bool {
    match bytes {
        [0x00, b'<', ..] => false,
        [first, _, ..] => *first <= 0x03,
        _ => false,
    }
}
