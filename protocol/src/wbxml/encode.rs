//! [`Element`] tree → WBXML encoder. Deterministic: the same tree always gives the same bytes.

use super::mb_uint;
use super::tokens::{self as t, PAGE_DMDDF, PAGE_METINF, PAGE_SYNCML};
use super::{Document, PublicId, WbxmlError, MAX_DEPTH};
use crate::dom::{Element, Node, NS_DMDDF12, NS_METINF};

/// Encode a document. Facts §12.1–§12.6.
///
/// Each element's code page follows from its namespace (page 0 = the SyncML namespace of
/// the public id, 1 = `syncml:metinf`, 2 = `syncml:dmddf1.2`), with `SWITCH_PAGE` only when
/// the page changes. Names missing from their page's table become `LITERAL` tags named in
/// the string table; text becomes `STR_I`, opaque data `OPAQUE`. A literal public id is
/// string-table entry 0.
pub fn encode(doc: &Document) -> Result<Vec<u8>, WbxmlError> {
    encode_parts(doc.version, &doc.public_id, doc.charset, &doc.root)
}

/// Encode a SyncML 1.2 message: WBXML version 0x02, public id 0x1201, UTF-8.
pub fn encode_syncml(root: &Element) -> Result<Vec<u8>, WbxmlError> {
    encode_parts(0x02, &PublicId::SYNCML12, 106, root)
}

fn encode_parts(
    version: u8,
    public_id: &PublicId,
    charset: u32,
    root: &Element,
) -> Result<Vec<u8>, WbxmlError> {
    if version > 0x03 {
        return Err(WbxmlError::UnsupportedVersion { offset: 0, version });
    }
    let mut strings = StringTableBuilder::default();
    let mut head = vec![version];
    match public_id {
        PublicId::Known(0) => {
            return Err(WbxmlError::InvalidPublicId {
                public_id: format!("{public_id:?}"),
                reason: "numeric public id 0 is reserved for the literal form",
            })
        }
        PublicId::Known(id) => mb_uint::write(&mut head, *id),
        PublicId::Literal(fpi) => {
            if fpi.contains('\0') {
                return Err(WbxmlError::InvalidPublicId {
                    public_id: format!("{public_id:?}"),
                    reason: "a literal public id cannot contain NUL",
                });
            }
            head.push(0);
            let index = strings.intern(fpi)?;
            mb_uint::write(&mut head, index);
        }
    }
    if !matches!(charset, 106 | 3 | 0) {
        return Err(WbxmlError::UnsupportedCharset {
            offset: head.len(),
            charset,
        });
    }
    mb_uint::write(&mut head, charset);

    let mut enc = BodyEncoder {
        out: Vec::new(),
        page: PAGE_SYNCML,
        page0_ns: public_id.syncml_namespace(),
        strings,
    };
    enc.element(root, 1)?;

    let table = enc.strings.bytes;
    mb_uint::write(&mut head, len_u32(table.len(), "string table")?);
    head.extend_from_slice(&table);
    head.extend_from_slice(&enc.out);
    Ok(head)
}

fn len_u32(len: usize, what: &'static str) -> Result<u32, WbxmlError> {
    u32::try_from(len).map_err(|_| WbxmlError::TooLong { what, len })
}

/// String table under construction; identical strings share one entry.
#[derive(Default)]
struct StringTableBuilder {
    bytes: Vec<u8>,
    entries: Vec<(String, u32)>,
}

impl StringTableBuilder {
    fn intern(&mut self, s: &str) -> Result<u32, WbxmlError> {
        if let Some((_, i)) = self.entries.iter().find(|(e, _)| e == s) {
            return Ok(*i);
        }
        let index = len_u32(self.bytes.len(), "string table")?;
        self.bytes.extend_from_slice(s.as_bytes());
        self.bytes.push(0);
        self.entries.push((s.to_owned(), index));
        Ok(index)
    }
}

struct BodyEncoder {
    out: Vec<u8>,
    page: u8,
    page0_ns: &'static str,
    strings: StringTableBuilder,
}

impl BodyEncoder {
    fn page_for(&self, el: &Element) -> Result<u8, WbxmlError> {
        // facts §12.6: the namespace decides the code page
        if el.ns == self.page0_ns {
            Ok(PAGE_SYNCML)
        } else if el.ns == NS_METINF {
            Ok(PAGE_METINF)
        } else if el.ns == NS_DMDDF12 {
            Ok(PAGE_DMDDF)
        } else {
            Err(WbxmlError::UnencodableNamespace {
                element: el.name.clone(),
                ns: el.ns.clone(),
                page0_ns: self.page0_ns.to_owned(),
            })
        }
    }

    fn element(&mut self, el: &Element, depth: usize) -> Result<(), WbxmlError> {
        if depth > MAX_DEPTH {
            return Err(WbxmlError::TooDeep {
                offset: self.out.len(),
                limit: MAX_DEPTH,
            });
        }
        let page = self.page_for(el)?;
        if page != self.page {
            self.out.extend_from_slice(&[t::SWITCH_PAGE, page]);
            self.page = page;
        }
        let has_content = !el.children.is_empty();
        match t::tag_token(page, &el.name) {
            Some(id) => {
                let content = if has_content { t::TAG_HAS_CONTENT } else { 0 };
                self.out.push(id | content);
            }
            None => {
                if el.name.is_empty() || el.name.contains('\0') {
                    return Err(WbxmlError::BadElementName {
                        name: el.name.clone(),
                    });
                }
                let index = self.strings.intern(&el.name)?;
                self.out.push(if has_content {
                    t::LITERAL_C
                } else {
                    t::LITERAL
                });
                mb_uint::write(&mut self.out, index);
            }
        }
        if !has_content {
            return Ok(());
        }
        for child in &el.children {
            match child {
                Node::Element(c) => self.element(c, depth + 1)?,
                Node::Text(text) => {
                    if text.contains('\0') {
                        return Err(WbxmlError::NulInText {
                            element: el.name.clone(),
                        });
                    }
                    self.out.push(t::STR_I);
                    self.out.extend_from_slice(text.as_bytes());
                    self.out.push(0);
                }
                Node::Opaque(data) => {
                    self.out.push(t::OPAQUE);
                    mb_uint::write(&mut self.out, len_u32(data.len(), "opaque data")?);
                    self.out.extend_from_slice(data);
                }
            }
        }
        self.out.push(t::END);
        Ok(())
    }
}
