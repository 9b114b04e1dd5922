//! Helpers between a [`MgmtTree`] and the flat node list a DM tree engine keeps: node URIs
//! (facts §4.1, §9.1 `Path`), building a tree from node entries (for `?list=TNDS` results),
//! and the `?list=TNDS+Prop` / `-Prop` property filter of facts §4.6.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Format, MgmtTree, Node, NodeContent, RtProperties};

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

/// A property name valid in a `?list=TNDS` filter: the `RTProperties` children plus
/// `Value`. Facts §4.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Property {
    /// `ACL`.
    Acl,
    /// `Format`.
    Format,
    /// `Name`.
    Name,
    /// `Size`.
    Size,
    /// `Title`.
    Title,
    /// `TStamp`.
    TStamp,
    /// `Type`.
    Type,
    /// `VerNo`.
    VerNo,
    /// `Value`.
    Value,
}

impl Property {
    /// Every property, in `RTProperties` order then `Value`.
    pub const ALL: [Property; 9] = [
        Property::Acl,
        Property::Format,
        Property::Name,
        Property::Size,
        Property::Title,
        Property::TStamp,
        Property::Type,
        Property::VerNo,
        Property::Value,
    ];

    /// The name as written in the query (`ACL`, `TStamp`, `Value`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Property::Acl => "ACL",
            Property::Format => "Format",
            Property::Name => "Name",
            Property::Size => "Size",
            Property::Title => "Title",
            Property::TStamp => "TStamp",
            Property::Type => "Type",
            Property::VerNo => "VerNo",
            Property::Value => "Value",
        }
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which properties a `?list=TNDS` result carries. Facts §4.6.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyFilter {
    /// `TNDS`: every property the server may read.
    #[default]
    All,
    /// `TNDS+A+B`: only these.
    Include(BTreeSet<Property>),
    /// `TNDS-A-B`: all but these.
    Exclude(BTreeSet<Property>),
}

/// Why a `?list=` value is not a valid TNDS filter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PropertyFilterError {
    /// The value does not start with `TNDS`.
    #[error("?list={found:?} is not a TNDS query (expected TNDS, TNDS+Prop... or TNDS-Prop..., facts §4.6)")]
    NotTnds {
        /// The value given.
        found: String,
    },
    /// `+` and `-` both appear.
    #[error("?list={found:?}: '+' and '-' are mixed at offset {offset}; a TNDS filter includes or excludes, not both (facts §4.6)")]
    Mixed {
        /// The value given.
        found: String,
        /// Byte offset of the first operator that differs.
        offset: usize,
    },
    /// A name that is no RTProperties child nor `Value`.
    #[error("?list={found:?}: unknown property {name:?} at offset {offset}; expected ACL, Format, Name, Size, Title, TStamp, Type, VerNo or Value (facts §4.6)")]
    UnknownProperty {
        /// The value given.
        found: String,
        /// The name.
        name: String,
        /// Byte offset of the name.
        offset: usize,
    },
}

impl FromStr for PropertyFilter {
    type Err = PropertyFilterError;

    /// Parse a `?list=` value: `TNDS`, `TNDS+Value+ACL`, `TNDS-Format`. Names are
    /// case-sensitive as in facts §4.6.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s
            .strip_prefix("TNDS")
            .ok_or_else(|| PropertyFilterError::NotTnds {
                found: s.to_string(),
            })?;
        let Some(op) = rest.chars().next() else {
            return Ok(PropertyFilter::All);
        };
        if op != '+' && op != '-' {
            return Err(PropertyFilterError::NotTnds {
                found: s.to_string(),
            });
        }
        // `rest` starts at byte 4 of `s`; each piece is an operator followed by a name.
        const BASE: usize = 4;
        let starts: Vec<(usize, char)> = rest
            .char_indices()
            .filter(|(_, c)| *c == '+' || *c == '-')
            .collect();
        let mut set = BTreeSet::new();
        for (k, &(i, c)) in starts.iter().enumerate() {
            if c != op {
                return Err(PropertyFilterError::Mixed {
                    found: s.to_string(),
                    offset: BASE + i,
                });
            }
            let end = starts.get(k + 1).map(|(j, _)| *j).unwrap_or(rest.len());
            let name = rest.get(i + 1..end).unwrap_or_default();
            let prop = Property::ALL
                .into_iter()
                .find(|p| p.as_str() == name)
                .ok_or_else(|| PropertyFilterError::UnknownProperty {
                    found: s.to_string(),
                    name: name.to_string(),
                    offset: BASE + i + 1,
                })?;
            set.insert(prop);
        }
        Ok(if op == '+' {
            PropertyFilter::Include(set)
        } else {
            PropertyFilter::Exclude(set)
        })
    }
}

impl PropertyFilter {
    /// Whether the result carries this property.
    pub fn includes(&self, p: Property) -> bool {
        match self {
            PropertyFilter::All => true,
            PropertyFilter::Include(set) => set.contains(&p),
            PropertyFilter::Exclude(set) => !set.contains(&p),
        }
    }

    /// A copy of the tree with the filtered-out run-time properties and values removed.
    /// Structure (`NodeName`, `Path`, nesting) and `DFProperties` are kept. Facts §4.6.
    pub fn apply(&self, tree: &MgmtTree) -> MgmtTree {
        let mut out = tree.clone();
        if *self != PropertyFilter::All {
            let mut stack: Vec<&mut Node> = out.nodes.iter_mut().collect();
            while let Some(n) = stack.pop() {
                self.strip(n);
                if let NodeContent::Children(c) = &mut n.content {
                    stack.extend(c.iter_mut());
                }
            }
        }
        out
    }

    fn strip(&self, n: &mut Node) {
        if let Some(rt) = &mut n.rt {
            let keep = |p| self.includes(p);
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
            if !keep(Property::Type) {
                rt.type_ = None;
            }
            if !keep(Property::VerNo) {
                rt.ver_no = None;
            }
        }
        if !self.includes(Property::Value) {
            if let NodeContent::Value(v) = &mut n.content {
                *v = None;
            }
        }
    }
}
