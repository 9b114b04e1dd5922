//! TNDS and DDF documents: the typed model of the shared DTD `-//OMA//DTD-DM-DDF 1.2//EN`
//! (namespace `syncml:dmddf1.2`), facts §9.
//!
//! A Tree and Node Description Serialization (TNDS) document and a Device Description
//! Framework (DDF) document share one DTD: a [`MgmtTree`] of [`Node`]s, each with run-time
//! properties ([`RtProperties`], TNDS) and/or description-framework properties
//! ([`DfProperties`], DDF). [`DocumentKind`] tells them apart.
//!
//! The model maps from and to the encoding-neutral [`dom::Element`](crate::dom::Element) tree
//! only ([`from_dom`], [`to_dom`]), so XML and WBXML inputs go through the same checks.
//! [`from_dom`] is lenient: DTD breaches come back as [`Violation`]s with the position of the
//! offending element, and only a document that cannot be represented at all is a
//! [`TndsError`]. [`to_dom`] writes the canonical form: DTD order and the `syncml:dmddf1.2`
//! namespace on every element.
//!
//! [`TndsDocument`] bundles parsing (XML or WBXML), the §9.2 TNDS rules and output; [`flat`] holds the
//! helpers the tree engine uses (node URIs, building a tree from node entries, `?list=TNDS`
//! property filters of facts §4.6).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::dom::{Element, Pos};
use crate::violation::{Violation, ViolationKind};
use crate::wbxml::{self, WbxmlError};
use crate::xml::{self, WriteOptions, XmlError, XmlWriteError};

mod decode;
mod encode;
pub mod flat;

pub use flat::{ApplyTndsFilter, BuildError, Entry, FlatNode};

/// The DTD public identifier shared by TNDS and DDF. Facts §9.1.
pub const DTD_PUBLIC_ID: &str = "-//OMA//DTD-DM-DDF 1.2//EN";
/// The namespace of every TNDS/DDF element. Facts §9.1.
pub const NAMESPACE: &str = crate::dom::NS_DMDDF12;
/// The only `VerDTD` value of this DTD version. Facts §9.1.
pub const VER_DTD: &str = "1.2";
/// MIME type of a TNDS document in XML. Facts §9.2, §4.6.
pub const MIME_TNDS_XML: &str = "application/vnd.syncml.dmtnds+xml";
/// MIME type of a TNDS document in WBXML. Facts §9.2, §4.6.
pub const MIME_TNDS_WBXML: &str = "application/vnd.syncml.dmtnds+wbxml";

/// The root of a TNDS or DDF document: `MgmtTree (VerDTD, Man?, Mod?, Node+)`. Facts §9.1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MgmtTree {
    /// `VerDTD`; `1.2` for this DTD (empty when the input lacked it).
    pub ver_dtd: String,
    /// `Man`: manufacturer (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub man: Option<String>,
    /// `Mod`: model (optional).
    #[serde(rename = "mod", default, skip_serializing_if = "Option::is_none")]
    pub mod_: Option<String>,
    /// The top-level `Node`s (the DTD wants at least one).
    pub nodes: Vec<Node>,
}

/// One `Node (NodeName, Path?, RTProperties?, DFProperties?, (Node* | Value?))`. Facts §9.1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// `NodeName`; may be empty (name assigned at creation). Facts §9.1, §9.2.
    pub name: String,
    /// `Path`: URI up to (excluding) this node; used on top-level nodes. Facts §9.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `RTProperties` (TNDS). Facts §9.1, §4.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rt: Option<RtProperties>,
    /// `DFProperties` (DDF). Facts §9.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub df: Option<DfProperties>,
    /// Child nodes or a value: the DTD's `(Node* | Value?)` choice.
    pub content: NodeContent,
}

/// The `(Node* | Value?)` choice at the end of a `Node`. Facts §9.1.
///
/// A `Node` with neither children nor `Value` decodes to `Children(vec![])` when its
/// `Format` (or `DFFormat`) is `node` and to `Value(None)` otherwise, so both forms
/// round-trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeContent {
    /// Interior node: the child `Node`s in document order.
    Children(Vec<Node>),
    /// Leaf: the `Value` text, or `None` when no `Value` element is present.
    Value(Option<String>),
}

impl Default for NodeContent {
    fn default() -> Self {
        NodeContent::Value(None)
    }
}

/// `RTProperties (ACL?, Format?, Name?, Size?, Title?, TStamp?, Type, VerNo?)`.
/// Facts §9.1, §4.3.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RtProperties {
    /// `ACL`: the ACL string (facts §4.4), kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<String>,
    /// `Format`. Facts §4.3: interior nodes are `node`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// `Name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Size`: bytes of the decoded value, 32-bit unsigned decimal. Facts §4.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
    /// `Title`: at most 255 bytes. Facts §4.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `TStamp`: ISO 8601 basic UTC, e.g. `20010711T163817Z`, kept verbatim. Facts §4.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tstamp: Option<String>,
    /// `Type`: mandatory in the DTD; `None` only when the input lacked it. Facts §9.1.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<NodeType>,
    /// `VerNo`: 16-bit unsigned decimal. Facts §4.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver_no: Option<u16>,
}

/// `DFProperties (AccessType, DefaultValue?, Description?, DFFormat, Occurrence?, Scope?,
/// DFTitle?, DFType, CaseSense?)`. Facts §9.1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DfProperties {
    /// `AccessType`: the commands the node supports.
    pub access_type: AccessType,
    /// `DefaultValue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
    /// `Description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `DFFormat`.
    pub df_format: Format,
    /// `Occurrence` (absent means `One`). Facts §9.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurrence: Option<Occurrence>,
    /// `Scope` (absent means `Dynamic`). Facts §9.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// `DFTitle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub df_title: Option<String>,
    /// `DFType`.
    pub df_type: DfType,
    /// `CaseSense`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_sense: Option<CaseSense>,
}

/// The node formats of `Format` / `DFFormat` (each an empty element). Facts §9.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `b64`: base64 text.
    B64,
    /// `bin`: binary.
    Bin,
    /// `bool`: `true` / `false`.
    Bool,
    /// `chr`: text.
    Chr,
    /// `int`: 32-bit signed.
    Int,
    /// `node`: interior node.
    Node,
    /// `null`: no value.
    Null,
    /// `xml`: XML text.
    Xml,
    /// `date`: ISO 8601 date.
    Date,
    /// `time`: ISO 8601 time.
    Time,
    /// `float`: XML Schema float.
    Float,
}

impl Format {
    /// Every format, in the order of facts §9.1.
    pub const ALL: [Format; 11] = [
        Format::B64,
        Format::Bin,
        Format::Bool,
        Format::Chr,
        Format::Int,
        Format::Node,
        Format::Null,
        Format::Xml,
        Format::Date,
        Format::Time,
        Format::Float,
    ];

    /// The element name / token (`b64`, `chr`, `node`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::B64 => "b64",
            Format::Bin => "bin",
            Format::Bool => "bool",
            Format::Chr => "chr",
            Format::Int => "int",
            Format::Node => "node",
            Format::Null => "null",
            Format::Xml => "xml",
            Format::Date => "date",
            Format::Time => "time",
            Format::Float => "float",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no [`Format`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown node format {0:?}; expected one of b64 bin bool chr int node null xml date time float (facts §9.1)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Case-sensitive, as the element names are.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

/// `Type` in `RTProperties`: `MIME | DDFName`. Facts §9.1, §4.2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeType {
    /// `MIME`: a MIME type (leaf nodes).
    Mime(String),
    /// `DDFName`: an MO identifier (interior nodes); may be empty.
    DdfName(String),
}

/// `DFType` in `DFProperties`: `MIME+ | DDFName`. Facts §9.1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DfType {
    /// One or more `MIME` types.
    Mime(Vec<String>),
    /// `DDFName`: an MO identifier.
    DdfName(String),
}

/// `Occurrence`. Facts §9.1 (absent = `One`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Occurrence {
    /// Exactly one.
    One,
    /// Zero or one.
    ZeroOrOne,
    /// Zero or more.
    ZeroOrMore,
    /// One or more.
    OneOrMore,
    /// Zero to N, N in 2..=65536.
    ZeroOrN(u32),
    /// One to N, N in 2..=65536.
    OneOrN(u32),
}

/// The range of N in `ZeroOrN` / `OneOrN`. Facts §9.1.
pub const OCCURRENCE_N: std::ops::RangeInclusive<u32> = 2..=65536;

/// `Scope`. Facts §9.1 (absent = `Dynamic`), §4.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Created by the device; the server cannot delete it.
    Permanent,
    /// Created and deleted by the server.
    Dynamic,
}

/// `CaseSense`. Facts §9.1, §4.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseSense {
    /// `CS`: case-sensitive.
    Cs,
    /// `CIS`: case-insensitive.
    Cis,
}

/// One command in `AccessType`, in DTD order. Facts §9.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessRight {
    /// `Add`.
    Add,
    /// `Copy`.
    Copy,
    /// `Delete`.
    Delete,
    /// `Exec`.
    Exec,
    /// `Get`.
    Get,
    /// `Replace`.
    Replace,
}

impl AccessRight {
    /// Every right, in DTD order.
    pub const ALL: [AccessRight; 6] = [
        AccessRight::Add,
        AccessRight::Copy,
        AccessRight::Delete,
        AccessRight::Exec,
        AccessRight::Get,
        AccessRight::Replace,
    ];

    /// The element name (`Add`, `Copy`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            AccessRight::Add => "Add",
            AccessRight::Copy => "Copy",
            AccessRight::Delete => "Delete",
            AccessRight::Exec => "Exec",
            AccessRight::Get => "Get",
            AccessRight::Replace => "Replace",
        }
    }
}

/// `AccessType (Add?, Copy?, Delete?, Exec?, Get?, Replace?)`: a set of rights; serialises
/// as a JSON array in DTD order. Facts §9.1.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccessType(pub BTreeSet<AccessRight>);

impl AccessType {
    /// A set holding these rights.
    pub fn of(rights: &[AccessRight]) -> Self {
        AccessType(rights.iter().copied().collect())
    }

    /// True when the node supports this command.
    pub fn contains(&self, right: AccessRight) -> bool {
        self.0.contains(&right)
    }
}

/// What kind of document a [`MgmtTree`] is. Facts §9.1, §9.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// No node has `DFProperties` and at least one has `RTProperties`.
    Tnds,
    /// At least one node has `DFProperties`.
    Ddf,
    /// No node has either property block.
    Indeterminate,
}

/// Why a TNDS/DDF document cannot be read or represented at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TndsError {
    /// The input is not well-formed XML.
    #[error("TNDS/DDF document is not readable XML: {0}")]
    Xml(#[from] XmlError),
    /// The input is not readable WBXML.
    #[error("TNDS/DDF document is not readable WBXML: {0}")]
    Wbxml(#[from] WbxmlError),
    /// The root element is not `MgmtTree`.
    #[error("{pos}: root element is <{found}>, but a TNDS/DDF document starts with <MgmtTree> (facts §9.1)")]
    NotMgmtTree {
        /// Local name of the root found.
        found: String,
        /// Where it starts.
        pos: Pos,
    },
    /// A mandatory part the model cannot do without is missing or has no usable value.
    #[error("{pos}: <{element}> is unusable: {reason}")]
    Unusable {
        /// The element that cannot be represented.
        element: String,
        /// Where it starts.
        pos: Pos,
        /// What is wrong, in words.
        reason: String,
    },
    /// `Node` elements nest deeper than [`MAX_NODE_DEPTH`].
    #[error("{pos}: <Node> elements nest deeper than {MAX_NODE_DEPTH} levels")]
    TooDeep {
        /// Where the node that crossed the limit starts.
        pos: Pos,
    },
}

impl TndsError {
    /// A stable snake_case name for the kind of error (used by vectors and reports).
    pub fn kind(&self) -> &'static str {
        match self {
            TndsError::Xml(_) => "xml",
            TndsError::Wbxml(_) => "wbxml",
            TndsError::NotMgmtTree { .. } => "not_mgmt_tree",
            TndsError::Unusable { .. } => "unusable",
            TndsError::TooDeep { .. } => "too_deep",
        }
    }
}

/// How deep `Node` elements may nest in [`from_dom`].
pub const MAX_NODE_DEPTH: usize = 256;

/// Map a `MgmtTree` element to the model, leniently: every DTD breach (order, missing,
/// unexpected, repeated, namespace, value) is returned as a [`Violation`] at the offending
/// element's position. Facts §9.1.
///
/// Errors: the root is not `MgmtTree`, a `DFProperties` lacks a usable `DFFormat`/`DFType`,
/// or nodes nest deeper than [`MAX_NODE_DEPTH`].
pub fn from_dom(root: &Element) -> Result<(MgmtTree, Vec<Violation>), TndsError> {
    decode::decode(root).map(|d| (d.tree, d.violations))
}

/// The canonical element tree of a model: DTD order, namespace `syncml:dmddf1.2` on every
/// element, no empty text. Facts §9.1.
pub fn to_dom(tree: &MgmtTree) -> Element {
    encode::encode(tree)
}

impl MgmtTree {
    /// A tree with `VerDTD` 1.2 and these top-level nodes.
    pub fn new(nodes: Vec<Node>) -> Self {
        MgmtTree {
            ver_dtd: VER_DTD.to_string(),
            man: None,
            mod_: None,
            nodes,
        }
    }

    /// TNDS, DDF or neither, from which property blocks the nodes carry. Facts §9.2.
    pub fn kind(&self) -> DocumentKind {
        let mut rt = false;
        let mut df = false;
        for f in self.flatten() {
            rt |= f.node.rt.is_some();
            df |= f.node.df.is_some();
        }
        match (rt, df) {
            (_, true) => DocumentKind::Ddf,
            (true, false) => DocumentKind::Tnds,
            (false, false) => DocumentKind::Indeterminate,
        }
    }

    /// The TNDS rules of facts §9.2 that go beyond the DTD, without positions: every node
    /// has `RTProperties`, every `RTProperties` has `Type`, and — when `importing` (Add or
    /// Replace with TNDS data) — every top-level node has a `Path`.
    pub fn tnds_violations(&self, importing: bool) -> Vec<Violation> {
        tnds_rules(self, importing, &[])
    }
}

impl Node {
    /// A leaf node with a name, run-time properties and a value.
    pub fn leaf(name: impl Into<String>, rt: Option<RtProperties>, value: Option<String>) -> Self {
        Node {
            name: name.into(),
            path: None,
            rt,
            df: None,
            content: NodeContent::Value(value),
        }
    }

    /// An interior node with a name, run-time properties and children.
    pub fn interior(
        name: impl Into<String>,
        rt: Option<RtProperties>,
        children: Vec<Node>,
    ) -> Self {
        Node {
            name: name.into(),
            path: None,
            rt,
            df: None,
            content: NodeContent::Children(children),
        }
    }

    /// The child nodes (empty for a leaf).
    pub fn children(&self) -> &[Node] {
        match &self.content {
            NodeContent::Children(c) => c,
            NodeContent::Value(_) => &[],
        }
    }

    /// The value (None for an interior node or a leaf without `Value`).
    pub fn value(&self) -> Option<&str> {
        match &self.content {
            NodeContent::Value(v) => v.as_deref(),
            NodeContent::Children(_) => None,
        }
    }
}

/// Positions of one decoded node, in pre-order (the order of [`MgmtTree::flatten`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct NodePos {
    /// The `Node` element.
    pub(crate) node: Pos,
    /// Its `RTProperties` element, if any.
    pub(crate) rt: Pos,
}

fn tnds_rules(tree: &MgmtTree, importing: bool, positions: &[NodePos]) -> Vec<Violation> {
    let mut out = Vec::new();
    for (i, f) in tree.flatten().into_iter().enumerate() {
        let at = positions.get(i).copied().unwrap_or_default();
        if importing && f.depth == 0 && f.node.path.is_none() {
            // facts §9.2: Path mandatory when importing.
            out.push(Violation::new(
                ViolationKind::MissingElement {
                    parent: "Node".into(),
                    element: "Path".into(),
                },
                at.node,
            ));
        }
        match &f.node.rt {
            // facts §9.2: RTProperties mandatory in TNDS.
            None => out.push(Violation::new(
                ViolationKind::MissingElement {
                    parent: "Node".into(),
                    element: "RTProperties".into(),
                },
                at.node,
            )),
            // facts §9.1/§9.2: Type mandatory in RTProperties.
            Some(rt) if rt.type_.is_none() => out.push(Violation::new(
                ViolationKind::MissingElement {
                    parent: "RTProperties".into(),
                    element: "Type".into(),
                },
                at.rt,
            )),
            Some(_) => {}
        }
    }
    out
}

/// A parsed TNDS/DDF document: the tree, the violations found while reading it, and the
/// node positions needed to place the §9.2 TNDS rule violations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TndsDocument {
    /// The decoded tree.
    pub tree: MgmtTree,
    /// XML-level and DTD-level violations, in document order.
    pub violations: Vec<Violation>,
    positions: Vec<NodePos>,
}

impl TndsDocument {
    /// Parse an XML TNDS/DDF document (facts §9.1), keeping XML-level violations (stray
    /// attributes, unbound prefixes) and DTD-level ones, in document order.
    pub fn parse_xml(bytes: &[u8]) -> Result<Self, TndsError> {
        let (root, mut violations) = xml::parse_with_violations(bytes)?;
        let mut doc = TndsDocument::from_dom(&root)?;
        violations.append(&mut doc.violations);
        decode::sort_by_position(&mut violations);
        doc.violations = violations;
        Ok(doc)
    }

    /// Parse a WBXML TNDS/DDF document (facts §12.5: code page 2 implies `syncml:dmddf1.2`).
    pub fn parse_wbxml(bytes: &[u8]) -> Result<Self, TndsError> {
        let doc = wbxml::decode(bytes)?;
        TndsDocument::from_dom(&doc.root)
    }

    /// Parse either encoding, telling WBXML from XML by its first byte
    /// ([`wbxml::is_wbxml`]).
    pub fn parse(bytes: &[u8]) -> Result<Self, TndsError> {
        if wbxml::is_wbxml(bytes) {
            TndsDocument::parse_wbxml(bytes)
        } else {
            TndsDocument::parse_xml(bytes)
        }
    }

    /// Map a decoded element tree (from XML or WBXML) to a document; see [`from_dom`].
    pub fn from_dom(root: &Element) -> Result<Self, TndsError> {
        let d = decode::decode(root)?;
        Ok(TndsDocument {
            tree: d.tree,
            violations: d.violations,
            positions: d.positions,
        })
    }

    /// A document built in code (no violations, no positions).
    pub fn from_tree(tree: MgmtTree) -> Self {
        TndsDocument {
            tree,
            violations: Vec::new(),
            positions: Vec::new(),
        }
    }

    /// TNDS, DDF or neither; see [`MgmtTree::kind`].
    pub fn kind(&self) -> DocumentKind {
        self.tree.kind()
    }

    /// The §9.2 TNDS rules (see [`MgmtTree::tnds_violations`]) with positions, leaving out
    /// any violation already in [`TndsDocument::violations`] (a missing `Type` is a DTD
    /// breach too).
    pub fn tnds_violations(&self, importing: bool) -> Vec<Violation> {
        tnds_rules(&self.tree, importing, &self.positions)
            .into_iter()
            .filter(|v| !self.violations.contains(v))
            .collect()
    }

    /// The canonical element tree; see [`to_dom`].
    pub fn to_dom(&self) -> Element {
        to_dom(&self.tree)
    }

    /// XML text: canonical (compact, no declaration) or pretty (indented, with declaration).
    pub fn to_xml(&self, pretty: bool) -> Result<String, XmlWriteError> {
        let options = if pretty {
            WriteOptions::PRETTY
        } else {
            WriteOptions::CANONICAL
        };
        xml::write(&self.to_dom(), options)
    }

    /// WBXML bytes of the canonical tree: WBXML 1.2, literal public id
    /// `-//OMA//DTD-DM-DDF 1.2//EN`, UTF-8, code page 2 (facts §12.1, §12.5).
    pub fn to_wbxml(&self) -> Result<Vec<u8>, WbxmlError> {
        wbxml::encode(&wbxml::Document::tnds(self.to_dom()))
    }
}
