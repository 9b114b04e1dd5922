//! WBXML → [`Element`] tree decoder. Never panics; every error names a byte offset.

use super::mb_uint;
use super::tokens::{self as t, PAGE_SYNCML};
use super::{Document, PublicId, WbxmlError, MAX_DEPTH};
use crate::dom::{Element, Node, Pos};

/// How many bytes of string-table text (STR_T values and LITERAL names) may be materialised
/// per input byte, plus a fixed allowance. Bounds memory for adversarial inputs.
const EXPANSION_PER_INPUT_BYTE: usize = 64;
const EXPANSION_ALLOWANCE: usize = 64 * 1024;

/// Decode a complete WBXML document (header, string table, body). Facts §12.1–§12.5.
///
/// The version byte may be 0x00–0x03; the charset field is read for every version (as
/// libwbxml writes it even for 1.0). Charsets 106 (UTF-8), 3 (US-ASCII, a UTF-8 subset) and 0
/// (unknown, treated as UTF-8) are accepted. `PI` and `EXT_*` tokens and attribute-bearing
/// tags are rejected with typed errors; SyncML uses none of them.
pub fn decode(bytes: &[u8]) -> Result<Document, WbxmlError> {
    let mut pos = 0usize;
    // facts §12.1: version
    let version = *bytes.first().ok_or(WbxmlError::UnexpectedEof {
        offset: 0,
        what: "version byte",
    })?;
    if version > 0x03 {
        return Err(WbxmlError::UnsupportedVersion { offset: 0, version });
    }
    pos += 1;
    // facts §12.1: publicid = mb_u_int32 | 0 index
    let numeric_id = mb_uint::read(bytes, &mut pos, "public id")?;
    let literal_index = if numeric_id == 0 {
        let at = pos;
        Some((
            at,
            mb_uint::read(bytes, &mut pos, "public id string-table index")?,
        ))
    } else {
        None
    };
    // facts §12.1: charset
    let charset_at = pos;
    let charset = mb_uint::read(bytes, &mut pos, "charset")?;
    if !matches!(charset, 106 | 3 | 0) {
        return Err(WbxmlError::UnsupportedCharset {
            offset: charset_at,
            charset,
        });
    }
    // facts §12.1: strtbl = length + bytes
    let table_len = mb_uint::read(bytes, &mut pos, "string table length")?;
    let table_len = usize::try_from(table_len).unwrap_or(usize::MAX);
    let remaining = bytes.len() - pos;
    if table_len > remaining {
        return Err(WbxmlError::UnexpectedEof {
            offset: bytes.len(),
            what: "string table",
        });
    }
    let table = StringTable {
        bytes: &bytes[pos..pos + table_len],
    };
    pos += table_len;

    let public_id = match literal_index {
        None => PublicId::Known(numeric_id),
        Some((at, index)) => PublicId::Literal(table.get(index, at)?.to_owned()),
    };

    let mut body = BodyParser {
        bytes,
        pos,
        table,
        page0_ns: public_id.syncml_namespace(),
        budget: bytes
            .len()
            .saturating_mul(EXPANSION_PER_INPUT_BYTE)
            .saturating_add(EXPANSION_ALLOWANCE),
        used: 0,
    };
    let root = body.parse()?;
    Ok(Document {
        version,
        public_id,
        charset,
        root,
    })
}

#[derive(Clone, Copy)]
struct StringTable<'a> {
    bytes: &'a [u8],
}

impl<'a> StringTable<'a> {
    /// The NUL-terminated string starting at `index`; `at` is the referencing offset.
    fn get(&self, index: u32, at: usize) -> Result<&'a str, WbxmlError> {
        let bad = WbxmlError::BadStringTableIndex {
            offset: at,
            index,
            table_len: self.bytes.len(),
        };
        let start = usize::try_from(index).map_err(|_| bad.clone())?;
        let rest = self.bytes.get(start..).ok_or(bad.clone())?;
        let nul = rest.iter().position(|&b| b == 0).ok_or(bad)?;
        std::str::from_utf8(&rest[..nul]).map_err(|_| WbxmlError::InvalidUtf8 { offset: at })
    }
}

struct BodyParser<'a> {
    bytes: &'a [u8],
    pos: usize,
    table: StringTable<'a>,
    page0_ns: &'static str,
    budget: usize,
    used: usize,
}

impl<'a> BodyParser<'a> {
    fn parse(&mut self) -> Result<Element, WbxmlError> {
        let body_start = self.pos;
        let mut page = PAGE_SYNCML;
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;

        while let Some(&tok) = self.bytes.get(self.pos) {
            let at = self.pos;
            self.pos += 1;
            if root.is_some() {
                return Err(WbxmlError::OutsideRoot {
                    offset: at,
                    token: tok,
                });
            }
            match tok {
                t::SWITCH_PAGE => {
                    let p = self.byte("code page number")?;
                    if !t::page_known(p) {
                        return Err(WbxmlError::UnknownCodePage {
                            offset: at,
                            page: p,
                        });
                    }
                    page = p;
                }
                t::END => {
                    let done = stack
                        .pop()
                        .ok_or(WbxmlError::UnbalancedEnd { offset: at })?;
                    close(&mut stack, &mut root, done);
                }
                t::ENTITY => {
                    let code = mb_uint::read(self.bytes, &mut self.pos, "entity code point")?;
                    let c = char::from_u32(code)
                        .ok_or(WbxmlError::InvalidEntity { offset: at, code })?;
                    push_text(&mut stack, at, tok, c.encode_utf8(&mut [0u8; 4]))?;
                }
                t::STR_I => {
                    let s = self.inline_string()?;
                    push_text(&mut stack, at, tok, s)?;
                }
                t::STR_T => {
                    let index = mb_uint::read(self.bytes, &mut self.pos, "string-table index")?;
                    let s = self.table_string(index, at)?;
                    push_text(&mut stack, at, tok, s)?;
                }
                t::OPAQUE => {
                    let data = self.opaque()?;
                    let parent = stack.last_mut().ok_or(WbxmlError::OutsideRoot {
                        offset: at,
                        token: tok,
                    })?;
                    parent.children.push(Node::Opaque(data.to_vec()));
                }
                t::LITERAL | t::LITERAL_C => {
                    let index = mb_uint::read(self.bytes, &mut self.pos, "literal tag index")?;
                    let name = self.table_string(index, at)?;
                    if !crate::xml::is_qname(name) {
                        return Err(WbxmlError::BadLiteralName {
                            offset: at,
                            name: name.to_string(),
                        });
                    }
                    let el = self.element(name, page, at);
                    open(&mut stack, &mut root, el, tok == t::LITERAL_C, at)?;
                }
                t::LITERAL_A | t::LITERAL_AC => {
                    return Err(WbxmlError::UnsupportedAttributes {
                        offset: at,
                        token: tok,
                    })
                }
                t::PI => return Err(WbxmlError::UnsupportedProcessingInstruction { offset: at }),
                t::EXT_I_0
                | t::EXT_I_1
                | t::EXT_I_2
                | t::EXT_T_0
                | t::EXT_T_1
                | t::EXT_T_2
                | t::EXT_0
                | t::EXT_1
                | t::EXT_2 => {
                    return Err(WbxmlError::UnsupportedExtension {
                        offset: at,
                        token: tok,
                    })
                }
                _ => {
                    if tok & t::TAG_HAS_ATTRIBUTES != 0 {
                        return Err(WbxmlError::UnsupportedAttributes {
                            offset: at,
                            token: tok,
                        });
                    }
                    let name =
                        t::tag_name(page, tok & t::TAG_ID_MASK).ok_or(WbxmlError::UnknownTag {
                            offset: at,
                            page,
                            token: tok,
                        })?;
                    let el = self.element(name, page, at);
                    open(&mut stack, &mut root, el, tok & t::TAG_HAS_CONTENT != 0, at)?;
                }
            }
        }
        if !stack.is_empty() {
            return Err(WbxmlError::UnexpectedEof {
                offset: self.bytes.len(),
                what: "END of an open element",
            });
        }
        root.ok_or(WbxmlError::NoRoot { offset: body_start })
    }

    fn element(&self, name: &str, page: u8, at: usize) -> Element {
        let ns = t::fixed_page_namespace(page).unwrap_or(self.page0_ns);
        let mut el = Element::new(name, ns);
        el.pos = Pos::Wbxml { offset: at };
        el
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, WbxmlError> {
        let b = *self.bytes.get(self.pos).ok_or(WbxmlError::UnexpectedEof {
            offset: self.pos,
            what,
        })?;
        self.pos += 1;
        Ok(b)
    }

    fn inline_string(&mut self) -> Result<&'a str, WbxmlError> {
        let start = self.pos;
        let rest = self.bytes.get(start..).unwrap_or_default();
        let nul = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(WbxmlError::UnexpectedEof {
                offset: self.bytes.len(),
                what: "NUL terminating an inline string",
            })?;
        self.pos = start + nul + 1;
        std::str::from_utf8(&rest[..nul]).map_err(|_| WbxmlError::InvalidUtf8 { offset: start })
    }

    fn table_string(&mut self, index: u32, at: usize) -> Result<&'a str, WbxmlError> {
        let s = self.table.get(index, at)?;
        self.used = self.used.saturating_add(s.len());
        if self.used > self.budget {
            return Err(WbxmlError::ExpansionLimit {
                offset: at,
                limit: self.budget,
            });
        }
        Ok(s)
    }

    fn opaque(&mut self) -> Result<&'a [u8], WbxmlError> {
        let len = mb_uint::read(self.bytes, &mut self.pos, "opaque length")?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let start = self.pos;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(WbxmlError::UnexpectedEof {
                offset: self.bytes.len(),
                what: "opaque data",
            })?;
        self.pos = end;
        Ok(&self.bytes[start..end])
    }
}

/// Open an element: with content it goes on the stack, without it is closed at once.
fn open(
    stack: &mut Vec<Element>,
    root: &mut Option<Element>,
    el: Element,
    has_content: bool,
    at: usize,
) -> Result<(), WbxmlError> {
    if stack.len() >= MAX_DEPTH {
        return Err(WbxmlError::TooDeep {
            offset: at,
            limit: MAX_DEPTH,
        });
    }
    if has_content {
        stack.push(el);
    } else {
        close(stack, root, el);
    }
    Ok(())
}

/// Attach a finished element to its parent, or make it the root.
fn close(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(el)),
        None => *root = Some(el),
    }
}

/// Append character data, merging with an immediately preceding text piece.
fn push_text(stack: &mut [Element], at: usize, tok: u8, s: &str) -> Result<(), WbxmlError> {
    let parent = stack.last_mut().ok_or(WbxmlError::OutsideRoot {
        offset: at,
        token: tok,
    })?;
    match parent.children.last_mut() {
        Some(Node::Text(prev)) => prev.push_str(s),
        // An empty string adds no node, as in the XML reader, so both give equal trees.
        _ if s.is_empty() => {}
        _ => parent.children.push(Node::Text(s.to_owned())),
    }
    Ok(())
}
