//! A small, encoding-neutral element tree.
//!
//! Both wire encodings decode into this tree first ([`crate::xml`] from XML text,
//! [`crate::wbxml`] from WBXML tokens), and both encoders write from it. The typed message
//! model ([`crate::model`]) and the TNDS/DDF model ([`crate::tnds`]) are mapped to and from it
//! exactly once, so a message decoded from XML and from its WBXML encoding goes through the
//! same validation and gives the same model.
//!
//! Namespaces are resolved: every [`Element`] carries the namespace in effect for it (from an
//! `xmlns` declaration in XML, from the code page in WBXML). Positions ([`Pos`]) say where the
//! element started in the input so violations can point at it; they never take part in
//! equality.

use std::fmt;

/// The SyncML 1.2 namespace (code page 0 in WBXML). Facts §1.1.
pub const NS_SYNCML12: &str = "SYNCML:SYNCML1.2";
/// The SyncML 1.1 namespace, accepted from DM 1.1.x peers. Facts §1.1.
pub const NS_SYNCML11: &str = "SYNCML:SYNCML1.1";
/// The meta-information namespace (code page 1 in WBXML). Facts §1.1.
pub const NS_METINF: &str = "syncml:metinf";
/// The DDF / TNDS namespace (code page 2 in WBXML). Facts §1.1, §9.
pub const NS_DMDDF12: &str = "syncml:dmddf1.2";

/// Where something started in the input.
#[derive(Debug, Clone, Copy, Default, Eq, PartialEq, Hash, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pos {
    /// Not from any input (built in code).
    #[default]
    None,
    /// 1-based line and column (in characters) of an XML input.
    Xml {
        /// 1-based line.
        line: u32,
        /// 1-based column, counted in Unicode scalar values.
        column: u32,
    },
    /// Byte offset of the token in a WBXML input.
    Wbxml {
        /// 0-based byte offset.
        offset: usize,
    },
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pos::None => f.write_str("?"),
            Pos::Xml { line, column } => write!(f, "{line}:{column}"),
            Pos::Wbxml { offset } => write!(f, "byte {offset}"),
        }
    }
}

/// One child of an [`Element`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A child element.
    Element(Element),
    /// Character data (XML text or CDATA; WBXML inline or table strings).
    Text(String),
    /// Opaque bytes (WBXML `OPAQUE`; XML has no such thing).
    Opaque(Vec<u8>),
}

/// An element with its resolved namespace and its children in document order.
///
/// Equality ignores [`Pos`].
#[derive(Debug, Clone, Eq)]
pub struct Element {
    /// Local name, without prefix (`SyncHdr`, `Type`, `MgmtTree`, ...).
    pub name: String,
    /// Namespace in effect for this element; empty when none is declared.
    pub ns: String,
    /// Where the element started in the input.
    pub pos: Pos,
    /// Children in document order.
    pub children: Vec<Node>,
}

impl PartialEq for Element {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.ns == other.ns && self.children == other.children
    }
}

impl Element {
    /// A new element with no children and no position.
    pub fn new(name: impl Into<String>, ns: impl Into<String>) -> Self {
        Element {
            name: name.into(),
            ns: ns.into(),
            pos: Pos::None,
            children: Vec::new(),
        }
    }

    /// Builder: append a child element.
    #[must_use]
    pub fn with_child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    /// Builder: append character data (an empty string adds nothing: no decoder ever
    /// produces an empty text node, so building one would break equality with decoded trees).
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        let text = text.into();
        if !text.is_empty() {
            self.children.push(Node::Text(text));
        }
        self
    }

    /// Append a child element.
    pub fn push(&mut self, child: Element) {
        self.children.push(Node::Element(child));
    }

    /// The child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The first child element with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    /// All character data directly inside this element, concatenated (opaque bytes are
    /// included when they are valid UTF-8).
    pub fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Opaque(b) => {
                    if let Ok(s) = std::str::from_utf8(b) {
                        out.push_str(s)
                    }
                }
                Node::Element(_) => {}
            }
        }
        out
    }

    /// True when the element has no children at all.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// Clear every position in this subtree (used when comparing trees from different inputs
    /// in debug output).
    pub fn strip_positions(&mut self) {
        self.pos = Pos::None;
        for n in &mut self.children {
            if let Node::Element(e) = n {
                e.strip_positions();
            }
        }
    }
}
