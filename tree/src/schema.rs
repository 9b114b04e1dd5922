//! MO definitions loaded from DDF documents (facts §9.1): which nodes an MO has, their
//! AccessType, Format, Type, Occurrence, Scope and case sensitivity.
//!
//! A DDF's top-level `Node` is anchored at its `Path` (default: the root). A node whose
//! parent has a definition must match one of the parent's child definitions: a named one
//! (exact name; any ASCII case when `CaseSense` is `CIS`) or the unnamed placeholder (an empty
//! `NodeName`, facts §9.1: "name assigned at creation"). Nodes outside every MO are free-form:
//! only ACLs restrict them.

use std::collections::HashMap;

use dm_protocol::tnds::{
    AccessRight, AccessType, CaseSense, DfType, Format, MgmtTree, Node, NodeContent, Occurrence,
    Scope,
};
use dm_protocol::uri::NodeUri;

/// Index of a definition in its [`Schema`].
pub type DefId = usize;

/// One node definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDef {
    /// Fixed name; `None` for a placeholder whose instances are named at creation.
    pub name: Option<String>,
    /// Commands the node supports (`AccessType`).
    pub access: AccessType,
    /// `DFFormat`.
    pub format: Format,
    /// Allowed MIME types of a leaf (`DFType` MIME list); empty when any type is allowed.
    pub mime: Vec<String>,
    /// MO identifier of an interior node (`DFType` DDFName), if any.
    pub mo_type: Option<String>,
    /// `Occurrence` (default `One`).
    pub occurrence: Occurrence,
    /// `Scope` (default `Dynamic`).
    pub scope: Scope,
    /// `CaseSense` (default `CS`).
    pub case_sense: CaseSense,
    /// `DefaultValue`.
    pub default_value: Option<String>,
    /// Child definitions.
    pub children: Vec<DefId>,
}

impl NodeDef {
    /// Whether the definition allows this command.
    pub fn allows(&self, right: AccessRight) -> bool {
        self.access.contains(right)
    }

    /// Whether `name` matches this definition's fixed name (placeholders match anything).
    pub fn matches(&self, name: &str) -> bool {
        match &self.name {
            None => true,
            Some(n) if self.case_sense == CaseSense::Cis => n.eq_ignore_ascii_case(name),
            Some(n) => n == name,
        }
    }

    /// Largest number of instances, `None` = unbounded.
    pub fn max_instances(&self) -> Option<u32> {
        match self.occurrence {
            Occurrence::One | Occurrence::ZeroOrOne => Some(1),
            Occurrence::ZeroOrMore | Occurrence::OneOrMore => None,
            Occurrence::ZeroOrN(n) | Occurrence::OneOrN(n) => Some(n),
        }
    }

    /// Smallest number of instances.
    pub fn min_instances(&self) -> u32 {
        match self.occurrence {
            Occurrence::One | Occurrence::OneOrMore | Occurrence::OneOrN(_) => 1,
            _ => 0,
        }
    }

    /// The `Occurrence` as DDF text, for messages.
    pub fn occurrence_text(&self) -> String {
        match self.occurrence {
            Occurrence::One => "One".into(),
            Occurrence::ZeroOrOne => "ZeroOrOne".into(),
            Occurrence::ZeroOrMore => "ZeroOrMore".into(),
            Occurrence::OneOrMore => "OneOrMore".into(),
            Occurrence::ZeroOrN(n) => format!("ZeroOrN {n}"),
            Occurrence::OneOrN(n) => format!("OneOrN {n}"),
        }
    }
}

/// Why a DDF document cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// A node lacks `DFProperties`: the document is not a DDF (facts §9.1).
    #[error(
        "DDF node {uri} has no DFProperties; load a DDF document, not a TNDS one (facts §9.1)"
    )]
    MissingDfProperties {
        /// The node's URI.
        uri: String,
    },
    /// A top-level `Path` is not a valid node URI.
    #[error("DDF node Path {path:?} is not a valid node URI: {reason}")]
    BadPath {
        /// The Path text.
        path: String,
        /// Why.
        reason: String,
    },
    /// Two sibling definitions could both match one name.
    #[error("DDF node {uri} has two definitions for the name {name:?}")]
    Ambiguous {
        /// The parent's URI.
        uri: String,
        /// The name (empty = two placeholders).
        name: String,
    },
    /// A definition with `DFFormat` other than `node` has child definitions.
    #[error("DDF node {uri} has children but DFFormat {format} (facts §9.1)")]
    ChildrenOnLeaf {
        /// The node's URI.
        uri: String,
        /// Its format.
        format: Format,
    },
}

/// Where a new node falls in the loaded MO definitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefMatch {
    /// The node's definition.
    Defined(DefId),
    /// The parent is defined but has no child definition for this name: the MO forbids it.
    Undefined,
    /// Outside every MO.
    Free,
}

/// Where an MO instance is created when a server adds it to `./Inbox` (facts §5.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoPlace {
    /// As a child of this node (canonical URI), keeping the name it was added with: the MO
    /// root is a placeholder, or a named node whose instances are its unnamed children (e.g.
    /// `./DMAcc/<X>`).
    Under(String),
    /// Exactly at this node (canonical URI): a singleton MO such as `./DevInfo`.
    At(String),
}

/// All loaded MO definitions.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    defs: Vec<NodeDef>,
    /// Top-level definitions by the canonical URI of the parent they hang under.
    anchors: HashMap<String, Vec<DefId>>,
    /// MO identifier → where an instance of it is created (for Inbox placement).
    mo_places: HashMap<String, MoPlace>,
}

impl Schema {
    /// An empty schema: every node is free-form.
    pub fn new() -> Self {
        Schema::default()
    }

    /// The definition `id`.
    pub fn def(&self, id: DefId) -> Option<&NodeDef> {
        self.defs.get(id)
    }

    /// Load a DDF document; its top-level nodes are anchored at their `Path` (root if absent).
    /// Returns the ids of the top-level definitions.
    pub fn load(&mut self, ddf: &MgmtTree) -> Result<Vec<DefId>, SchemaError> {
        let mut staged = self.clone();
        let mut tops = Vec::new();
        for node in &ddf.nodes {
            let parent = match &node.path {
                None => NodeUri::root(),
                Some(p) if p.is_empty() || p == "." || p == "./" => NodeUri::root(),
                Some(p) => {
                    NodeUri::parse(p.trim_end_matches('/')).map_err(|e| SchemaError::BadPath {
                        path: p.clone(),
                        reason: e.to_string(),
                    })?
                }
            };
            let parent_key = parent.to_string();
            let id = staged.add_def(node, &format!("{parent_key}/{}", node.name))?;
            let siblings = staged.anchors.entry(parent_key.clone()).or_default();
            // A reload of the same MO replaces the earlier definition.
            let new_name = staged.defs.get(id).and_then(|d| d.name.clone());
            let defs = &staged.defs;
            siblings.retain(|&s| defs.get(s).map(|d| &d.name) != Some(&new_name));
            siblings.push(id);
            if let Some(mo) = staged.defs.get(id).and_then(|d| d.mo_type.clone()) {
                let place = match &new_name {
                    None => MoPlace::Under(parent_key.clone()),
                    Some(n) => {
                        let root = NodeUri::parse(&parent_key)
                            .and_then(|p| p.child(n))
                            .map(|u| u.to_string())
                            .unwrap_or_default();
                        let has_placeholder = staged.defs.get(id).is_some_and(|d| {
                            d.children
                                .iter()
                                .any(|&c| staged.defs.get(c).is_some_and(|c| c.name.is_none()))
                        });
                        if has_placeholder {
                            MoPlace::Under(root)
                        } else {
                            MoPlace::At(root)
                        }
                    }
                };
                staged.mo_places.insert(mo, place);
            }
            tops.push(id);
        }
        *self = staged;
        Ok(tops)
    }

    fn add_def(&mut self, node: &Node, uri: &str) -> Result<DefId, SchemaError> {
        let df = node
            .df
            .as_ref()
            .ok_or_else(|| SchemaError::MissingDfProperties {
                uri: uri.to_owned(),
            })?;
        let (mime, mo_type) = match &df.df_type {
            DfType::Mime(m) => (m.clone(), None),
            DfType::DdfName(n) if n.is_empty() => (Vec::new(), None),
            DfType::DdfName(n) => (Vec::new(), Some(n.clone())),
        };
        let id = self.defs.len();
        self.defs.push(NodeDef {
            name: (!node.name.is_empty()).then(|| node.name.clone()),
            access: df.access_type.clone(),
            format: df.df_format,
            mime,
            mo_type,
            occurrence: df.occurrence.unwrap_or(Occurrence::One),
            scope: df.scope.unwrap_or(Scope::Dynamic),
            case_sense: df.case_sense.unwrap_or(CaseSense::Cs),
            default_value: df.default_value.clone(),
            children: Vec::new(),
        });
        if let NodeContent::Children(children) = &node.content {
            if !children.is_empty() && df.df_format != Format::Node {
                return Err(SchemaError::ChildrenOnLeaf {
                    uri: uri.to_owned(),
                    format: df.df_format,
                });
            }
            let mut ids: Vec<DefId> = Vec::new();
            for child in children {
                let child_uri = format!("{uri}/{}", child.name);
                let cid = self.add_def(child, &child_uri)?;
                let clash = ids.iter().any(|&o| {
                    let (a, b) = (&self.defs[o], &self.defs[cid]);
                    match (&a.name, &b.name) {
                        (None, None) => true,
                        (Some(x), Some(y)) => {
                            x.eq_ignore_ascii_case(y)
                                && (x == y
                                    || a.case_sense == CaseSense::Cis
                                    || b.case_sense == CaseSense::Cis)
                        }
                        _ => false,
                    }
                });
                if clash {
                    return Err(SchemaError::Ambiguous {
                        uri: uri.to_owned(),
                        name: child.name.clone(),
                    });
                }
                ids.push(cid);
            }
            if let Some(d) = self.defs.get_mut(id) {
                d.children = ids;
            }
        }
        Ok(id)
    }

    /// The definition a node called `name` gets under a parent with definition `parent_def`
    /// at `parent_uri` (canonical form). A named definition wins over the placeholder.
    pub fn child_def(&self, parent_def: Option<DefId>, parent_uri: &str, name: &str) -> DefMatch {
        let candidates: &[DefId] = match parent_def.and_then(|p| self.defs.get(p)) {
            // An interior definition that declares no children (e.g. `Ext`, `Bearer`, facts
            // §5.2–§5.4: the place for vendor additions) leaves its subtree open.
            Some(p) if p.children.is_empty() && p.format == Format::Node => return DefMatch::Free,
            Some(p) => &p.children,
            None => match self.anchors.get(parent_uri) {
                Some(tops) => tops,
                None => return DefMatch::Free,
            },
        };
        let named = candidates.iter().copied().find(|&c| {
            self.defs
                .get(c)
                .is_some_and(|d| d.name.is_some() && d.matches(name))
        });
        let placeholder = || {
            candidates
                .iter()
                .copied()
                .find(|&c| self.defs.get(c).is_some_and(|d| d.name.is_none()))
        };
        match named.or_else(placeholder) {
            Some(id) => DefMatch::Defined(id),
            None if parent_def.is_some() => DefMatch::Undefined,
            // Under an anchor, names no top-level definition claims stay free-form.
            None => DefMatch::Free,
        }
    }

    /// Whether any child definition of `parent_def` (or anchored at `parent_uri`) is
    /// case-insensitive, so name lookups there must also try other cases.
    pub fn has_cis_children(&self, parent_def: Option<DefId>, parent_uri: &str) -> bool {
        let candidates: &[DefId] = match parent_def.and_then(|p| self.defs.get(p)) {
            Some(p) => &p.children,
            None => match self.anchors.get(parent_uri) {
                Some(t) => t,
                None => return false,
            },
        };
        candidates.iter().any(|&c| {
            self.defs
                .get(c)
                .is_some_and(|d| d.case_sense == CaseSense::Cis)
        })
    }

    /// Where an instance of MO type `mo` is created, for placing Inbox adds (facts §5.5).
    pub fn mo_place(&self, mo: &str) -> Option<&MoPlace> {
        self.mo_places.get(mo)
    }

    /// Whether the definition allows `right` (free-form nodes allow everything).
    pub fn allows(&self, def: Option<DefId>, right: AccessRight) -> bool {
        def.and_then(|d| self.defs.get(d))
            .is_none_or(|d| d.allows(right))
    }
}
