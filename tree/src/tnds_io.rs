//! TNDS import (Add or Replace carrying a MgmtTree, facts §9.2): one status for the whole
//! document, all-or-nothing. Export lives in `list.rs`.

use base64::Engine as _;
use dm_protocol::tnds::{Format, MgmtTree, Node, NodeContent, NodeType};
use dm_protocol::uri::{NodeUri, Property};

use crate::error::TreeError;
use crate::node::Kind;
use crate::ops::NewNode;
use crate::principal::Principal;
use crate::tree::Tree;

/// How a TNDS document is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Add: every node is created; any existing node fails the import (418).
    Add,
    /// Replace: the described subtrees replace the existing ones — missing nodes are
    /// created, described ones updated, undescribed children deleted (facts §4.5).
    Replace,
}

impl Tree {
    /// Apply a TNDS document at `target` (node paths are relative to it, facts §9.2). Every
    /// node goes through the same checks as the single-node command, and the first refusal
    /// undoes the whole import. Returns the URIs of the top-level nodes.
    pub fn import_tnds(
        &mut self,
        who: &Principal,
        target: &str,
        doc: &MgmtTree,
        mode: ImportMode,
    ) -> Result<Vec<NodeUri>, TreeError> {
        let target = self.target(target)?;
        if !self.config.tnds {
            return Err(TreeError::BadValue {
                uri: target.to_string(),
                reason: "this device does not accept TNDS (facts §9.2)".into(),
            });
        }
        if let Some(v) = doc.tnds_violations(false).first() {
            return Err(TreeError::BadValue {
                uri: target.to_string(),
                reason: format!(
                    "the TNDS document breaks a rule of facts §9.2: {}",
                    v.kind.name()
                ),
            });
        }
        self.atomically(|t| {
            let mut tops = Vec::new();
            for (i, node) in doc.nodes.iter().enumerate() {
                let base = join(&target, node.path.as_deref())?;
                let name = if node.name.is_empty() && Tree::is_inbox(&base) {
                    // facts §9.2: a node without NodeName may be placed by its Type.
                    format!("n{}", i + 1)
                } else {
                    node.name.clone()
                };
                let uri = base.child(&name).map_err(|e| TreeError::BadValue {
                    uri: base.to_string(),
                    reason: format!("NodeName {name:?} is not a valid node name: {e}"),
                })?;
                let mo_type = match node.rt.as_ref().and_then(|r| r.type_.as_ref()) {
                    Some(NodeType::DdfName(n)) => Some(n.as_str()),
                    _ => None,
                };
                let uri = t.inbox_destination(&uri, mo_type)?;
                t.target(&uri.to_string())?;
                match mode {
                    ImportMode::Add => t.import_add(who, &uri, node)?,
                    ImportMode::Replace => t.import_replace(who, &uri, node)?,
                }
                tops.push(uri);
            }
            Ok(tops)
        })
    }

    fn import_add(&mut self, who: &Principal, uri: &NodeUri, node: &Node) -> Result<(), TreeError> {
        let mut stack = vec![(uri.clone(), node)];
        while let Some((uri, node)) = stack.pop() {
            self.target(&uri.to_string())?;
            self.add_at(who, &uri, new_node(&uri, node)?)?;
            self.apply_rt(who, &uri, node)?;
            for c in node.children().iter().rev() {
                stack.push((child(&uri, c)?, c));
            }
        }
        Ok(())
    }

    fn import_replace(
        &mut self,
        who: &Principal,
        uri: &NodeUri,
        node: &Node,
    ) -> Result<(), TreeError> {
        let mut stack = vec![(uri.clone(), node)];
        while let Some((uri, node)) = stack.pop() {
            self.target(&uri.to_string())?;
            let Some(id) = self.resolve(&uri) else {
                self.import_add(who, &uri, node)?;
                continue;
            };
            let want_interior = is_interior(node);
            let is_interior_now = matches!(self.node(id).kind, Kind::Interior(_));
            if want_interior != is_interior_now {
                // A node cannot change between leaf and interior in place: delete and re-add.
                self.delete_at(who, &uri)?;
                self.import_add(who, &uri, node)?;
                continue;
            }
            if want_interior {
                let described: Vec<&str> =
                    node.children().iter().map(|c| c.name.as_str()).collect();
                let existing: Vec<String> = self
                    .node(id)
                    .children()
                    .map(|c| c.keys().cloned().collect())
                    .unwrap_or_default();
                for name in existing.iter().filter(|n| !described.contains(&n.as_str())) {
                    let cu = uri.child(name).unwrap_or_default();
                    self.delete_at(who, &cu)?;
                }
                for c in node.children().iter().rev() {
                    stack.push((child(&uri, c)?, c));
                }
            } else {
                let mut v = new_node(&uri, node)?;
                v.value = Some(v.value.unwrap_or_default());
                self.replace_at(who, &uri, v)?;
            }
            self.apply_rt(who, &uri, node)?;
        }
        Ok(())
    }

    /// Apply the ACL and Title of a TNDS node, with the rights a `?prop=` Replace needs.
    fn apply_rt(&mut self, who: &Principal, uri: &NodeUri, node: &Node) -> Result<(), TreeError> {
        let Some(rt) = &node.rt else {
            return Ok(());
        };
        if let Some(acl) = rt.acl.as_deref().filter(|a| !a.is_empty()) {
            self.replace_prop_at(who, uri, Property::Acl, acl)?;
        }
        if let Some(title) = rt.title.as_deref() {
            if self.supports(Property::Title) {
                self.replace_prop_at(who, uri, Property::Title, title)?;
            }
        }
        Ok(())
    }
}

fn is_interior(node: &Node) -> bool {
    let fmt = node.rt.as_ref().and_then(|r| r.format);
    fmt == Some(Format::Node) || (fmt.is_none() && matches!(node.content, NodeContent::Children(_)))
}

fn new_node(uri: &NodeUri, node: &Node) -> Result<NewNode, TreeError> {
    let rt = node.rt.as_ref();
    let format = if is_interior(node) {
        Format::Node
    } else {
        rt.and_then(|r| r.format).unwrap_or(Format::Chr)
    };
    let type_ = rt.and_then(|r| r.type_.as_ref()).map(|t| match t {
        NodeType::Mime(m) | NodeType::DdfName(m) => m.clone(),
    });
    let value = match (format, node.value()) {
        (Format::Node, _) => None,
        (Format::Bin, Some(v)) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(v.trim().as_bytes())
                .map_err(|e| TreeError::BadValue {
                    uri: uri.to_string(),
                    reason: format!("a bin Value in TNDS must be base64: {e}"),
                })?,
        ),
        (_, v) => v.map(|v| v.as_bytes().to_vec()),
    };
    Ok(NewNode {
        format: Some(format),
        type_,
        value,
    })
}

fn child(uri: &NodeUri, node: &Node) -> Result<NodeUri, TreeError> {
    uri.child(&node.name).map_err(|e| TreeError::BadValue {
        uri: uri.to_string(),
        reason: format!("NodeName {:?} is not a valid node name: {e}", node.name),
    })
}

/// `target` joined with a TNDS `Path` (relative to the target, facts §9.2), unless the Path
/// is a full device URI starting with `./`.
fn join(target: &NodeUri, path: Option<&str>) -> Result<NodeUri, TreeError> {
    let Some(path) = path else {
        return Ok(target.clone());
    };
    let rel = path.trim_end_matches('/');
    if rel.is_empty() || rel == "." {
        return Ok(target.clone());
    }
    // Our reading of facts §9.2: a Path written as a full device URI (`./A/B`, as `?list=TNDS`
    // answers carry it) is absolute; any other Path is relative to the Target.
    let absolute = rel.starts_with("./");
    let rel = rel.strip_prefix("./").unwrap_or(rel);
    let joined = if target.is_root() || absolute {
        format!("./{rel}")
    } else {
        format!("{target}/{rel}")
    };
    NodeUri::parse(&joined).map_err(|source| TreeError::BadUri {
        uri: joined.clone(),
        source,
    })
}
