//! XML text ⇄ [`dom::Element`](crate::dom::Element), on quick-xml.
//!
//! The reader accepts what real implementations send: with or without an XML declaration and
//! DOCTYPE, `xmlns` on the root and/or on each element, prefixed namespaces, compact or
//! pretty-printed, single or double quotes, CDATA, character and predefined entity references.
//! It resolves namespaces, records a 1-based line:column [`Pos`] for every element, and drops
//! whitespace-only text between elements (pretty-printing) while keeping text content exactly.
//! Things that are well-formed XML but not SyncML representation (attributes other than
//! namespace declarations) come back as [`Violation`]s, not errors.
//!
//! The writer is deterministic: compact by default, indented on request, `xmlns` written only
//! where an element's namespace differs from its parent's. Text content is never re-flowed.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::dom::{Element, Node, Pos};
use crate::violation::{Violation, ViolationKind};

/// How deep elements may nest before the reader gives up. Real DM messages stay far below
/// this (SyncML → SyncBody → Atomic → Replace → Item → Data → MgmtTree → Node …); the limit
/// keeps hostile input from exhausting the stack of later recursive passes.
pub const MAX_DEPTH: usize = 64;

/// Why an XML input could not be read into a tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// The bytes are not UTF-8 (the only encoding SyncML DM uses here).
    #[error("{pos}: input is not valid UTF-8: {detail}")]
    NotUtf8 {
        /// Where the first invalid byte is.
        pos: Pos,
        /// What the UTF-8 decoder said.
        detail: String,
    },
    /// The XML declaration names an encoding other than UTF-8.
    #[error("unsupported encoding {0:?} in the XML declaration; convert the message to UTF-8")]
    UnsupportedEncoding(String),
    /// The input is not well-formed XML.
    #[error("{pos}: malformed XML: {detail}")]
    Syntax {
        /// Where the reader stopped.
        pos: Pos,
        /// What quick-xml reported.
        detail: String,
    },
    /// An entity reference other than the five predefined ones or a character reference.
    #[error("{pos}: unknown entity &{name}; (only &amp; &lt; &gt; &quot; &apos; and character references are allowed)")]
    UnknownEntity {
        /// Where the reference is.
        pos: Pos,
        /// The entity name.
        name: String,
    },
    /// Elements nest deeper than [`MAX_DEPTH`].
    #[error("{pos}: elements nest deeper than {MAX_DEPTH} levels")]
    TooDeep {
        /// Where the element that crossed the limit starts.
        pos: Pos,
    },
    /// There is no root element.
    #[error("no root element: the input is empty or holds only declarations and comments")]
    NoRoot,
    /// Something other than comments or whitespace follows the root element.
    #[error("{pos}: content after the end of the root element")]
    TrailingContent {
        /// Where the extra content starts.
        pos: Pos,
    },
}

impl XmlError {
    /// A stable snake_case name for the kind of error (used by vectors and reports).
    pub fn kind(&self) -> &'static str {
        match self {
            XmlError::NotUtf8 { .. } => "not_utf8",
            XmlError::UnsupportedEncoding(_) => "unsupported_encoding",
            XmlError::Syntax { .. } => "syntax",
            XmlError::UnknownEntity { .. } => "unknown_entity",
            XmlError::TooDeep { .. } => "too_deep",
            XmlError::NoRoot => "no_root",
            XmlError::TrailingContent { .. } => "trailing_content",
        }
    }
}

/// Maps byte offsets of one input to 1-based line:column positions.
///
/// The reader asks for positions in increasing order, so a cursor remembers the last answer
/// and counts characters only from there: linear in the input, even for compact XML that is
/// one long line.
struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    /// (line index, byte offset, 0-based column) of the last position computed.
    cursor: (usize, usize, usize),
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            text,
            line_starts,
            cursor: (0, 0, 0),
        }
    }

    fn pos(&mut self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let (c_line, c_offset, c_col) = self.cursor;
        let (from, base) = if c_line == line && c_offset <= offset {
            (c_offset, c_col)
        } else {
            (start, 0)
        };
        let column = base
            + self
                .text
                .get(from..offset)
                .map(|s| s.chars().count())
                .unwrap_or(offset - from);
        self.cursor = (line, offset, column);
        Pos::Xml {
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }
}

/// One open element while reading, with the namespace scope it opened.
struct Open {
    element: Element,
    default_ns: String,
    prefixes: Vec<(String, String)>,
    pending_text: String,
}

impl Open {
    fn flush_text(&mut self) {
        if !self.pending_text.is_empty() {
            let text = std::mem::take(&mut self.pending_text);
            self.element.children.push(Node::Text(text));
        }
    }

    /// Close the element: drop whitespace-only text when it also has element children
    /// (that text is indentation from pretty-printing).
    fn finish(mut self) -> Element {
        self.flush_text();
        let has_elements = self
            .element
            .children
            .iter()
            .any(|n| matches!(n, Node::Element(_)));
        if has_elements {
            self.element
                .children
                .retain(|n| !matches!(n, Node::Text(t) if t.trim().is_empty()));
        }
        self.element
    }
}

/// Parse XML bytes into an element tree, discarding representation violations.
///
/// See [`parse_with_violations`] to keep them.
pub fn parse(bytes: &[u8]) -> Result<Element, XmlError> {
    parse_with_violations(bytes).map(|(root, _)| root)
}

/// Parse XML bytes into an element tree, also returning the representation violations found
/// at the XML level (currently: attributes that are not namespace declarations).
pub fn parse_with_violations(bytes: &[u8]) -> Result<(Element, Vec<Violation>), XmlError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = e.valid_up_to();
            let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or("");
            return Err(XmlError::NotUtf8 {
                pos: LineIndex::new(prefix).pos(valid),
                detail: e.to_string(),
            });
        }
    };
    let mut index = LineIndex::new(text);
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_end_names = true;
    config.expand_empty_elements = false;

    let mut violations = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Element> = None;

    loop {
        let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|e| XmlError::Syntax {
            pos: index.pos(usize::try_from(reader.error_position()).unwrap_or(start)),
            detail: e.to_string(),
        })?;
        let pos = index.pos(start);
        match event {
            Event::Decl(decl) => {
                if let Some(Ok(enc)) = decl.encoding() {
                    let enc = String::from_utf8_lossy(&enc).into_owned();
                    if !enc.eq_ignore_ascii_case("utf-8") && !enc.eq_ignore_ascii_case("utf8") {
                        return Err(XmlError::UnsupportedEncoding(enc));
                    }
                }
            }
            Event::Start(tag) | Event::Empty(tag) if root.is_some() => {
                let _ = tag;
                return Err(XmlError::TrailingContent { pos });
            }
            Event::Start(tag) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep { pos });
                }
                let open = open_element(&tag, pos, stack.last(), &mut violations)?;
                if let Some(parent) = stack.last_mut() {
                    parent.flush_text();
                }
                stack.push(open);
            }
            Event::Empty(tag) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep { pos });
                }
                let open = open_element(&tag, pos, stack.last(), &mut violations)?;
                let element = open.finish();
                match stack.last_mut() {
                    Some(parent) => {
                        parent.flush_text();
                        parent.element.children.push(Node::Element(element));
                    }
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                // quick-xml checks that end names match, so an End always has an open element.
                if let Some(open) = stack.pop() {
                    let element = open.finish();
                    match stack.last_mut() {
                        Some(parent) => parent.element.children.push(Node::Element(element)),
                        None => root = Some(element),
                    }
                }
            }
            Event::Text(t) => {
                let content = t.xml10_content().map_err(|e| XmlError::Syntax {
                    pos,
                    detail: e.to_string(),
                })?;
                push_text(&mut stack, &content, pos)?;
            }
            Event::CData(t) => {
                let content = t.xml10_content().map_err(|e| XmlError::Syntax {
                    pos,
                    detail: e.to_string(),
                })?;
                push_text(&mut stack, &content, pos)?;
            }
            Event::GeneralRef(r) => {
                let resolved: Cow<'_, str> = match r.resolve_char_ref() {
                    Ok(Some(c)) => Cow::Owned(c.to_string()),
                    Ok(None) => {
                        let name = r.decode().map_err(|e| XmlError::Syntax {
                            pos,
                            detail: e.to_string(),
                        })?;
                        match &*name {
                            "amp" => Cow::Borrowed("&"),
                            "lt" => Cow::Borrowed("<"),
                            "gt" => Cow::Borrowed(">"),
                            "quot" => Cow::Borrowed("\""),
                            "apos" => Cow::Borrowed("'"),
                            other => {
                                return Err(XmlError::UnknownEntity {
                                    pos,
                                    name: other.to_string(),
                                })
                            }
                        }
                    }
                    Err(e) => {
                        return Err(XmlError::Syntax {
                            pos,
                            detail: e.to_string(),
                        })
                    }
                };
                push_text(&mut stack, &resolved, pos)?;
            }
            Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(XmlError::Syntax {
            pos: open.element.pos,
            detail: format!("element <{}> is never closed", open.element.name),
        });
    }
    root.map(|r| (r, violations)).ok_or(XmlError::NoRoot)
}

/// XML 1.0 `NameStartChar` without `:` (Namespaces in XML: names are NCNames).
fn is_name_start(c: char) -> bool {
    c == '_'
        || c.is_ascii_alphabetic()
        || matches!(c, '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
            | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
            | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
            | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 `NameChar` without `:`.
fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || c == '-'
        || c == '.'
        || c.is_ascii_digit()
        || matches!(c, '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// An NCName (a name without a colon).
fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}

/// A QName: an NCName, or two joined by one colon (prefix and local part).
pub(crate) fn is_qname(s: &str) -> bool {
    match s.split_once(':') {
        Some((prefix, local)) => is_ncname(prefix) && is_ncname(local),
        None => is_ncname(s),
    }
}

/// True for characters XML 1.0 allows in a document (its `Char` production).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Reject characters XML 1.0 forbids (quick-xml does not check them).
fn check_chars(content: &str, pos: Pos) -> Result<(), XmlError> {
    match content.chars().find(|c| !is_xml_char(*c)) {
        Some(bad) => Err(XmlError::Syntax {
            pos,
            detail: format!("character U+{:04X} is not allowed in XML 1.0", bad as u32),
        }),
        None => Ok(()),
    }
}

fn push_text(stack: &mut [Open], content: &str, pos: Pos) -> Result<(), XmlError> {
    check_chars(content, pos)?;
    match stack.last_mut() {
        Some(open) => {
            open.pending_text.push_str(content);
            Ok(())
        }
        None if content.trim().is_empty() => Ok(()),
        None => Err(XmlError::TrailingContent { pos }),
    }
}

fn open_element(
    tag: &BytesStart<'_>,
    pos: Pos,
    parent: Option<&Open>,
    violations: &mut Vec<Violation>,
) -> Result<Open, XmlError> {
    let mut default_ns = parent.map(|p| p.default_ns.clone()).unwrap_or_default();
    let mut prefixes = parent.map(|p| p.prefixes.clone()).unwrap_or_default();
    let qname = String::from_utf8_lossy(tag.name().as_ref()).into_owned();
    if !is_qname(&qname) {
        // quick-xml does not check names: `< Final/>` or a NUL inside a name would become
        // an element no writer can put back.
        return Err(XmlError::Syntax {
            pos,
            detail: format!("{qname:?} is not an element name (XML 1.0 Name, one optional prefix)"),
        });
    }
    for attr in tag.attributes().with_checks(false).flatten() {
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let value = attr
            .unescape_value()
            .map(Cow::into_owned)
            .unwrap_or_else(|_| String::from_utf8_lossy(&attr.value).into_owned());
        check_chars(&value, pos)?;
        if key == "xmlns" {
            default_ns = value;
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            prefixes.push((prefix.to_string(), value));
        } else {
            violations.push(Violation::new(
                ViolationKind::UnexpectedAttribute {
                    element: qname.clone(),
                    attribute: key,
                },
                pos,
            ));
        }
    }
    let (ns, local) = match qname.split_once(':') {
        Some((prefix, local)) => {
            let ns = prefixes
                .iter()
                .rev()
                .find(|(p, _)| p == prefix)
                .map(|(_, ns)| ns.clone());
            match ns {
                Some(ns) => (ns, local.to_string()),
                None => {
                    violations.push(Violation::new(
                        ViolationKind::UnboundPrefix {
                            element: qname.clone(),
                            prefix: prefix.to_string(),
                        },
                        pos,
                    ));
                    (String::new(), local.to_string())
                }
            }
        }
        None => (default_ns.clone(), qname.clone()),
    };
    Ok(Open {
        element: Element {
            name: local,
            ns,
            pos,
            children: Vec::new(),
        },
        default_ns,
        prefixes,
        pending_text: String::new(),
    })
}

/// Options for [`write()`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Indent element-only content by two spaces per level (text content is left as is).
    pub pretty: bool,
    /// Start with `<?xml version="1.0" encoding="UTF-8"?>`.
    pub declaration: bool,
}

impl WriteOptions {
    /// Compact output without declaration: the canonical form.
    pub const CANONICAL: WriteOptions = WriteOptions {
        pretty: false,
        declaration: false,
    };
    /// Indented output with a declaration, for people.
    pub const PRETTY: WriteOptions = WriteOptions {
        pretty: true,
        declaration: true,
    };
}

/// Why a tree cannot be written as XML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlWriteError {
    /// An element holds opaque bytes that are not UTF-8 text; XML cannot carry them raw.
    #[error("<{element}> holds {len} bytes of binary data that XML cannot carry; send it base64-encoded with Meta Format b64")]
    BinaryContent {
        /// The element holding the bytes.
        element: String,
        /// How many bytes.
        len: usize,
    },
    /// Text holds a character XML 1.0 cannot represent (a control character).
    #[error("<{element}> holds the character U+{code:04X}, which XML 1.0 cannot represent")]
    BadCharacter {
        /// The element holding the text.
        element: String,
        /// The character's code point.
        code: u32,
    },
}

/// Write a tree as XML text.
pub fn write(root: &Element, options: WriteOptions) -> Result<String, XmlWriteError> {
    let mut out = String::new();
    if options.declaration {
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        if options.pretty {
            out.push('\n');
        }
    }
    write_element(&mut out, root, "", options.pretty, 0)?;
    if options.pretty {
        out.push('\n');
    }
    Ok(out)
}

fn write_element(
    out: &mut String,
    e: &Element,
    parent_ns: &str,
    pretty: bool,
    depth: usize,
) -> Result<(), XmlWriteError> {
    out.push('<');
    out.push_str(&e.name);
    if e.ns != parent_ns {
        out.push_str(" xmlns=\"");
        escape_into(out, &e.ns, &e.name, true)?;
        out.push('"');
    }
    if e.children.is_empty() {
        out.push_str("/>");
        return Ok(());
    }
    out.push('>');
    let element_only = e.children.iter().all(|n| matches!(n, Node::Element(_)));
    let indent = pretty && element_only;
    for child in &e.children {
        if indent {
            out.push('\n');
            push_indent(out, depth + 1);
        }
        match child {
            Node::Element(c) => write_element(out, c, &e.ns, indent, depth + 1)?,
            Node::Text(t) => escape_into(out, t, &e.name, false)?,
            Node::Opaque(b) => match std::str::from_utf8(b) {
                Ok(t) => escape_into(out, t, &e.name, false)?,
                Err(_) => {
                    return Err(XmlWriteError::BinaryContent {
                        element: e.name.clone(),
                        len: b.len(),
                    })
                }
            },
        }
    }
    if indent {
        out.push('\n');
        push_indent(out, depth);
    }
    out.push_str("</");
    out.push_str(&e.name);
    out.push('>');
    Ok(())
}

fn push_indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn escape_into(
    out: &mut String,
    text: &str,
    element: &str,
    attribute: bool,
) -> Result<(), XmlWriteError> {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            // Keep carriage returns: a literal CR would be normalised away by any reader.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                return Err(XmlWriteError::BadCharacter {
                    element: element.to_string(),
                    code: c as u32,
                })
            }
            c => out.push(c),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::dom::{NS_METINF, NS_SYNCML12};

    #[test]
    fn reads_namespaces_positions_and_text() {
        let xml = "<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE SyncML PUBLIC \"-//SYNCML//DTD SyncML 1.2//EN\" \"x.dtd\">\n<SyncML xmlns='SYNCML:SYNCML1.2'>\n  <SyncHdr>\n    <Meta><MaxMsgSize xmlns=\"syncml:metinf\">16384</MaxMsgSize></Meta>\n  </SyncHdr>\n</SyncML>";
        let root = parse(xml.as_bytes()).unwrap();
        assert_eq!(root.name, "SyncML");
        assert_eq!(root.ns, NS_SYNCML12);
        assert_eq!(root.pos, Pos::Xml { line: 3, column: 1 });
        let hdr = root.child("SyncHdr").unwrap();
        assert_eq!(hdr.pos, Pos::Xml { line: 4, column: 3 });
        assert_eq!(hdr.children.len(), 1, "indentation dropped");
        let max = hdr.child("Meta").unwrap().child("MaxMsgSize").unwrap();
        assert_eq!(max.ns, NS_METINF);
        assert_eq!(max.text(), "16384");
    }

    /// Found by `mutated_messages_never_panic`: a byte flipped into a tag made an element
    /// with an empty name (`< Final/>`) or a NUL in its name, which the writer cannot put
    /// back. Such names are syntax errors; real ones, prefixed or not, still parse.
    #[test]
    fn element_names_must_be_xml_names() {
        for bad in [
            "<a>< Final/></a>",
            "<a><F\u{0}x/></a>",
            "<a><1x/></a>",
            "<a><p:/></a>",
            "<a><:x/></a>",
            "<a><p:q:r/></a>",
        ] {
            let err = parse(bad.as_bytes()).unwrap_err();
            assert!(matches!(err, XmlError::Syntax { .. }), "{bad}: {err}");
        }
        let ok = parse("<a xmlns:m='syncml:metinf'><m:Type/><_x-1.é/></a>".as_bytes()).unwrap();
        assert_eq!(ok.children.len(), 2);
    }

    #[test]
    fn columns_count_characters_on_long_lines() {
        let root = parse("<a>é<b/>€€<c/>\n  x<d/></a>".as_bytes()).unwrap();
        let cols: Vec<Pos> = root.elements().map(|e| e.pos).collect();
        assert_eq!(
            cols,
            [
                Pos::Xml { line: 1, column: 5 },
                Pos::Xml {
                    line: 1,
                    column: 11
                },
                Pos::Xml { line: 2, column: 4 },
            ]
        );
    }

    #[test]
    fn cdata_entities_and_prefixes() {
        let xml = "<s:SyncML xmlns:s='SYNCML:SYNCML1.2'><s:Data>a&amp;b&#x41;<![CDATA[<x>]]></s:Data></s:SyncML>";
        let root = parse(xml.as_bytes()).unwrap();
        assert_eq!(root.ns, NS_SYNCML12);
        assert_eq!(root.child("Data").unwrap().text(), "a&bA<x>");
    }

    #[test]
    fn errors_are_typed_with_positions() {
        assert_eq!(parse(b"").unwrap_err(), XmlError::NoRoot);
        assert_eq!(parse(b"<a>&foo;</a>").unwrap_err().kind(), "unknown_entity");
        assert_eq!(parse(b"<a><b></a>").unwrap_err().kind(), "syntax");
        assert_eq!(parse(b"<a/><b/>").unwrap_err().kind(), "trailing_content");
        assert_eq!(parse(b"<a>\xff</a>").unwrap_err().kind(), "not_utf8");
        assert_eq!(parse(b"<a>x\x00</a>").unwrap_err().kind(), "syntax");
        assert_eq!(parse(b"<a>&#1;</a>").unwrap_err().kind(), "syntax");
        assert_eq!(
            parse(b"<a><![CDATA[\x01]]></a>").unwrap_err().kind(),
            "syntax"
        );
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(deep.as_bytes()).unwrap_err().kind(), "too_deep");
        assert_eq!(
            parse(b"<?xml version='1.0' encoding='ISO-8859-1'?><a/>")
                .unwrap_err()
                .kind(),
            "unsupported_encoding"
        );
    }

    #[test]
    fn attributes_are_violations_not_errors() {
        let (_, v) = parse_with_violations(b"<SyncML xmlns='SYNCML:SYNCML1.2' id='1'/>").unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].kind.name(), "unexpected_attribute");
    }

    #[test]
    fn writer_is_canonical_and_round_trips() {
        let xml = "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><Meta><Type xmlns=\"syncml:metinf\">a&lt;b</Type></Meta></SyncHdr><SyncBody><Final/></SyncBody></SyncML>";
        let root = parse(xml.as_bytes()).unwrap();
        assert_eq!(write(&root, WriteOptions::CANONICAL).unwrap(), xml);
        let pretty = write(&root, WriteOptions::PRETTY).unwrap();
        assert!(pretty.contains("\n  <SyncHdr>"));
        assert_eq!(parse(pretty.as_bytes()).unwrap(), root);
    }

    #[test]
    fn writer_refuses_binary_and_control_characters() {
        let mut e = Element::new("Data", NS_SYNCML12);
        e.children.push(Node::Opaque(vec![0xff, 0x00]));
        assert!(matches!(
            write(&e, WriteOptions::CANONICAL),
            Err(XmlWriteError::BinaryContent { .. })
        ));
        let e = Element::new("Data", NS_SYNCML12).with_text("a\u{1}");
        assert!(matches!(
            write(&e, WriteOptions::CANONICAL),
            Err(XmlWriteError::BadCharacter { code: 1, .. })
        ));
    }
}
