//! Helpers between a [`MgmtTree`] and the flat node list a DM tree engine keeps: node URIs
//! (facts §4.1, §9.1 `Path`), building a tree from node entries (for `?list=TNDS` results),
//! and the `?list=TNDS+Prop` / `-Prop` property filter of facts §4.6.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{Format, MgmtTree, Node, NodeContent, RtProperties};
use crate::uri::{Property, TndsField, TndsFilter};

/// One node of a tree with its full URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatNode<'a> {
    /// `./`-relative URI: the base (the node's own `Path`, else its parent's URI, else `.`)
    /// joined with `/` and the `NodeName`. Names are joined verbatim (no %-escaping), so an
    /// empty `NodeName` gives an empty last segment.
    pub uri: String,
    /// 0 for top-level nodes.
    pub depth: usize,
    /// The node itself.
    pub node: &'a Node,
}

/// Normalise a `Path` to the `./` form: `""`, `.`, `./` → `.`; `A/B/` → `./A/B`.
fn normalize_base(path: &str) -> String {
    let p = path.trim_end_matches('/');
    let p = p.strip_prefix("./").unwrap_or(p);
    if p.is_empty() || p == "." {
        ".".to_string()
    } else {
        format!("./{p}")
    }
}

impl MgmtTree {
    /// Every node in pre-order (document order) with its full URI. Facts §4.1, §9.1.
    pub fn flatten(&self) -> Vec<FlatNode<'_>> {
        let mut out = Vec::new();
        // Explicit stack: no recursion limit on trees built in code.
        let mut stack: Vec<(&Node, String, usize)> = self
            .nodes
            .iter()
            .rev()
            .map(|n| (n, ".".to_string(), 0))
            .collect();
        while let Some((node, parent, depth)) = stack.pop() {
            let base = match &node.path {
                Some(p) => normalize_base(p),
                None => parent,
            };
            let uri = format!("{base}/{}", node.name);
            for c in node.children().iter().rev() {
                stack.push((c, uri.clone(), depth + 1));
            }
            out.push(FlatNode { uri, depth, node });
        }
        out
    }

    /// Build a tree from node entries (the subtree a `?list=TNDS` Get returns, facts §4.6).
    ///
    /// Entries nest by URI; an entry whose parent URI is not among the entries becomes a
    /// top-level node with `Path` set to that parent URI (`.` for children of the root).
    /// Children keep the entries' order. A node with children gets `Children`; a childless
    /// node gets its value, or `Children(vec![])` when it has no value and Format `node`.
    pub fn from_entries(entries: &[Entry]) -> Result<MgmtTree, BuildError> {
        if entries.is_empty() {
            return Err(BuildError::NoEntries);
        }
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut uris = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            let uri = normalize_uri(&e.uri)?;
            if index.insert(uri.clone(), i).is_some() {
                return Err(BuildError::DuplicateUri { uri });
            }
            uris.push(uri);
        }
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); entries.len()];
        let mut tops = Vec::new();
        for (i, uri) in uris.iter().enumerate() {
            let parent = parent_of(uri);
            match index.get(parent) {
                Some(&p) => children[p].push(i),
                None => tops.push(i),
            }
        }
        // Build bottom-up in reverse pre-order so no recursion is needed.
        let mut order = Vec::with_capacity(entries.len());
        let mut stack: Vec<usize> = tops.iter().rev().copied().collect();
        while let Some(i) = stack.pop() {
            order.push(i);
            stack.extend(children[i].iter().rev());
        }
        let mut built: Vec<Option<Node>> = vec![None; entries.len()];
        for &i in order.iter().rev() {
            let e = &entries[i];
            let kids: Vec<Node> = children[i]
                .iter()
                .filter_map(|&c| built[c].take())
                .collect();
            let content = if !kids.is_empty() {
                if e.value.is_some() {
                    return Err(BuildError::ValueOnInterior {
                        uri: uris[i].clone(),
                    });
                }
                NodeContent::Children(kids)
            } else if e.value.is_some() {
                NodeContent::Value(e.value.clone())
            } else if e.rt.format == Some(Format::Node) {
                NodeContent::Children(Vec::new())
            } else {
                NodeContent::Value(None)
            };
            let uri = &uris[i];
            let name = uri.rsplit('/').next().unwrap_or_default().to_string();
            built[i] = Some(Node {
                name,
                path: None,
                rt: Some(e.rt.clone()),
                df: None,
                content,
            });
        }
        let mut nodes = Vec::with_capacity(tops.len());
        for i in tops {
            if let Some(mut n) = built[i].take() {
                n.path = Some(parent_of(&uris[i]).to_string());
                nodes.push(n);
            }
        }
        Ok(MgmtTree::new(nodes))
    }
}

fn parent_of(uri: &str) -> &str {
    match uri.rfind('/') {
        Some(i) => &uri[..i],
        None => ".",
    }
}

/// `./A/B` or `A/B` → `./A/B`; rejects the root, empty, `.` and `..` segments (facts §4.1).
fn normalize_uri(uri: &str) -> Result<String, BuildError> {
    let rel = uri.strip_prefix("./").unwrap_or(uri);
    let bad = |reason: &str| BuildError::InvalidUri {
        uri: uri.to_string(),
        reason: reason.to_string(),
    };
    if rel.is_empty() || rel == "." {
        return Err(bad("the root itself cannot be a node entry"));
    }
    for seg in rel.split('/') {
        match seg {
            "" => return Err(bad("empty segment")),
            "." | ".." => return Err(bad("`.` and `..` are not valid segments")),
            _ => {}
        }
    }
    Ok(format!("./{rel}"))
}

/// One node as a tree engine stores it: URI, run-time properties and value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Full node URI, `./A/B` or `A/B` (facts §4.1).
    pub uri: String,
    /// Format, Type, ACL, Name, Size, Title, TStamp, VerNo (facts §4.3).
    pub rt: RtProperties,
    /// The leaf value; `None` for interior nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Why [`MgmtTree::from_entries`] cannot build a tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The entry list is empty; a `MgmtTree` needs at least one `Node` (facts §9.1).
    #[error("no node entries: a MgmtTree needs at least one Node (facts §9.1)")]
    NoEntries,
    /// An entry URI is not a valid node URI.
    #[error("entry URI {uri:?} is invalid: {reason} (facts §4.1)")]
    InvalidUri {
        /// The URI as given.
        uri: String,
        /// What is wrong.
        reason: String,
    },
    /// Two entries name the same node.
    #[error("entry URI {uri:?} appears twice")]
    DuplicateUri {
        /// The normalised URI.
        uri: String,
    },
    /// An entry has both a value and child entries (facts §9.1: `Node* | Value?`).
    #[error(
        "entry {uri:?} has a value and child entries; a node holds one or the other (facts §9.1)"
    )]
    ValueOnInterior {
        /// The normalised URI.
        uri: String,
    },
}

/// Applying a `?list=TNDS` filter to a tree (facts §4.6). The filter itself is parsed by
/// [`crate::uri`] (`"TNDS+Value+ACL".parse::<TndsFilter>()`), the one parser of that syntax.
pub trait ApplyTndsFilter {
    /// A copy of the tree carrying only what the filter selects.
    fn apply(&self, tree: &MgmtTree) -> MgmtTree;
}

impl ApplyTndsFilter for TndsFilter {
    /// A copy of the tree with the filtered-out run-time properties and values removed.
    /// Structure (`NodeName`, `Path`, nesting), `DFProperties` and `Type` (mandatory in
    /// `RTProperties`, facts §9.1) are kept. Facts §4.6.
    fn apply(&self, tree: &MgmtTree) -> MgmtTree {
        let mut out = tree.clone();
        if *self != TndsFilter::All {
            let mut stack: Vec<&mut Node> = out.nodes.iter_mut().collect();
            while let Some(n) = stack.pop() {
                strip(self, n);
                if let NodeContent::Children(c) = &mut n.content {
                    stack.extend(c.iter_mut());
                }
            }
        }
        out
    }
}

/// Remove what `filter` leaves out from one node.
fn strip(filter: &TndsFilter, n: &mut Node) {
    {
        if let Some(rt) = &mut n.rt {
            let keep = |p| filter.includes(TndsField::Prop(p));
            if !keep(Property::Acl) {
                rt.acl = None;
            }
            if !keep(Property::Format) {
                rt.format = None;
            }
            if !keep(Property::Name) {
                rt.name = None;
            }
            if !keep(Property::Size) {
                rt.size = None;
            }
            if !keep(Property::Title) {
                rt.title = None;
            }
            if !keep(Property::TStamp) {
                rt.tstamp = None;
            }
            // `Type` stays whatever the filter says: the DTD makes it mandatory in every
            // `RTProperties` (facts §9.1), and a TNDS answer must remain a valid document.
            if !keep(Property::VerNo) {
                rt.ver_no = None;
            }
        }
        if !filter.includes(TndsField::Value) {
            if let NodeContent::Value(v) = &mut n.content {
                *v = None;
            }
        }
    }
}
