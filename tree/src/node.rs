//! The stored form of a node and the read-only views handed out.

use std::collections::BTreeMap;

use dm_protocol::acl::Acl;
use dm_protocol::tnds::Format;

use crate::schema::DefId;

/// Internal node id; stable for the node's life and across restarts (the persistence key).
pub(crate) type NodeId = u64;

/// A node as the tree keeps it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodeData {
    /// Parent id; `None` only for the root.
    pub parent: Option<NodeId>,
    /// Decoded node name (the root's is empty).
    pub name: String,
    /// `Format` (facts §4.3); `Node` for interior nodes.
    pub format: Format,
    /// `Type`: MIME type of a leaf, MO identifier of an interior node, possibly empty.
    pub type_: String,
    /// The node's own ACL (empty = inherit, facts §4.4).
    pub acl: Acl,
    /// `Title`, if set.
    pub title: Option<String>,
    /// `TStamp`: Unix seconds of the last change.
    pub tstamp: u64,
    /// `VerNo`: 16-bit, wraps (facts §4.3).
    pub ver_no: u16,
    /// Created by the device as permanent (facts §4.2), or declared so by its DDF.
    pub permanent: bool,
    /// The node's DDF definition, if any (recomputed on load, not persisted).
    pub def: Option<DefId>,
    /// Value or children.
    pub kind: Kind,
}

/// Interior children or leaf value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// Children by exact name.
    Interior(BTreeMap<String, NodeId>),
    /// The leaf value, raw bytes (for `b64`-transported `bin` data, the decoded bytes).
    Leaf(Vec<u8>),
}

impl NodeData {
    pub(crate) fn children(&self) -> Option<&BTreeMap<String, NodeId>> {
        match &self.kind {
            Kind::Interior(c) => Some(c),
            Kind::Leaf(_) => None,
        }
    }

    pub(crate) fn is_interior(&self) -> bool {
        matches!(self.kind, Kind::Interior(_))
    }
}

/// Whether a node is interior or a leaf, with its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// An interior node and its child names (sorted, decoded).
    Interior(Vec<String>),
    /// A leaf and its value.
    Leaf(LeafValue),
}

/// A leaf value: raw bytes, with a text view when they are UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafValue(pub Vec<u8>);

impl LeafValue {
    /// The value as text, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
}

/// A read-only snapshot of one node, for local code (no ACL checks).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfo {
    /// Canonical URI.
    pub uri: String,
    /// `Format`.
    pub format: Format,
    /// `Type`.
    pub type_: String,
    /// The node's own ACL as text (empty = inherited).
    pub acl: String,
    /// `Title`.
    pub title: Option<String>,
    /// `TStamp` in Unix seconds.
    pub tstamp: u64,
    /// `VerNo`.
    pub ver_no: u16,
    /// Permanent (facts §4.2).
    pub permanent: bool,
    /// Children or value.
    pub kind: NodeKind,
}
