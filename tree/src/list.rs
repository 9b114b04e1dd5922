//! Tree exchange queries `?list=Struct|StructData|TNDS` (facts §4.6).

use dm_protocol::acl::AclCommand;
use dm_protocol::tnds::{
    AccessRight, ApplyTndsFilter, Entry, Format, MgmtTree, Node, NodeContent, NodeType,
    RtProperties,
};
use dm_protocol::uri::{ListQuery, NodeUri, TndsFilter};

use crate::error::TreeError;
use crate::node::{Kind, NodeId};
use crate::principal::Principal;
use crate::tree::{Tree, ROOT};

/// One node of a `Struct` / `StructData` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    /// Canonical URI (the Results Item's `Source/LocURI`).
    pub uri: String,
    /// `Format`.
    pub format: Format,
    /// `Type`.
    pub type_: String,
    /// The leaf value (`StructData` only).
    pub value: Option<Vec<u8>>,
}

/// A `?list=` answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ListOutput {
    /// `Struct` / `StructData`: one item per readable node, pre-order.
    Items(Vec<ListItem>),
    /// `TNDS`: one document.
    Tnds(MgmtTree),
}

impl Tree {
    fn readable_id(&self, who: &Principal, id: NodeId) -> bool {
        (matches!(who, Principal::Local) || self.schema.allows(self.node(id).def, AccessRight::Get))
            && self.has_right(who, id, AclCommand::Get)
    }

    /// Answer a `?list=` query on the subtree at `uri` (facts §4.6): 406 when the device does
    /// not support it, the usual read checks on the start node (405/404/425); nodes the
    /// server may not read are left out, and `./Inbox` never appears.
    pub fn list(&self, who: &Principal, uri: &str, q: &ListQuery) -> Result<ListOutput, TreeError> {
        let uri = self.target(uri)?;
        let tnds = matches!(q, ListQuery::Tnds(_));
        if !self.config.list_queries || (tnds && !self.config.tnds) {
            return Err(TreeError::Unsupported {
                what: format!("?list={} (facts §4.6)", list_name(q)),
            });
        }
        let start = self.readable(who, &uri, "Get")?;
        let nodes: Vec<(NodeId, String)> = self
            .subtree_with_uris(start)
            .into_iter()
            .filter(|(id, _)| !self.is_inbox_id(*id) && self.readable_id(who, *id))
            .collect();
        match q {
            ListQuery::Struct | ListQuery::StructData => {
                let data = matches!(q, ListQuery::StructData);
                Ok(ListOutput::Items(
                    nodes
                        .into_iter()
                        .map(|(id, uri)| {
                            let n = self.node(id);
                            ListItem {
                                uri,
                                format: n.format,
                                type_: n.type_.clone(),
                                value: match &n.kind {
                                    Kind::Leaf(v) if data => Some(v.clone()),
                                    _ => None,
                                },
                            }
                        })
                        .collect(),
                ))
            }
            ListQuery::Tnds(filter) => self.export_ids(&nodes, filter).map(ListOutput::Tnds),
        }
    }

    fn is_inbox_id(&self, id: NodeId) -> bool {
        let n = self.node(id);
        n.parent == Some(ROOT) && n.name == "Inbox"
    }

    /// Export the subtree at `uri` as TNDS for local code (no ACL checks), e.g. for backups
    /// and golden vectors. `filter` selects properties as `?list=TNDS` does (facts §4.6).
    pub fn export_tnds(&self, uri: &NodeUri, filter: &TndsFilter) -> Result<MgmtTree, TreeError> {
        let start = self.existing(uri)?;
        let nodes = self.subtree_with_uris(start);
        self.export_ids(&nodes, filter)
    }

    fn export_ids(
        &self,
        nodes: &[(NodeId, String)],
        filter: &TndsFilter,
    ) -> Result<MgmtTree, TreeError> {
        let entries: Vec<Entry> = nodes
            .iter()
            .filter(|(id, _)| *id != ROOT)
            .map(|(id, uri)| self.entry(*id, uri.clone()))
            .collect();
        if entries.is_empty() {
            // An empty subtree (e.g. the bare root) is a MgmtTree without nodes, which the
            // DTD forbids; answer with no nodes anyway rather than invent one.
            return Ok(MgmtTree::new(Vec::new()));
        }
        let mut tree = MgmtTree::from_entries(&entries).map_err(|e| TreeError::Failed {
            uri: nodes.first().map(|(_, u)| u.clone()).unwrap_or_default(),
            reason: format!("building the TNDS document failed: {e}"),
        })?;
        decode_names(&mut tree.nodes);
        Ok(filter.apply(&tree))
    }

    fn entry(&self, id: NodeId, uri: String) -> Entry {
        let n = self.node(id);
        let (value, size) = match &n.kind {
            Kind::Leaf(v) => {
                let text = match n.format {
                    Format::Bin => {
                        use base64::Engine as _;
                        base64::engine::general_purpose::STANDARD.encode(v)
                    }
                    _ => String::from_utf8_lossy(v).into_owned(),
                };
                (Some(text), Some(u32::try_from(v.len()).unwrap_or(u32::MAX)))
            }
            Kind::Interior(_) => (None, None),
        };
        let supports = |p| self.supports(p);
        use dm_protocol::uri::Property as P;
        let rt = RtProperties {
            acl: (!n.acl.is_empty()).then(|| n.acl.to_string()),
            format: Some(n.format),
            name: None,
            size: size.filter(|_| supports(P::Size)),
            title: n.title.clone().filter(|_| supports(P::Title)),
            tstamp: supports(P::TStamp).then(|| crate::clock::format_tstamp(n.tstamp)),
            type_: Some(if n.is_interior() {
                NodeType::DdfName(n.type_.clone())
            } else {
                NodeType::Mime(n.type_.clone())
            }),
            ver_no: supports(P::VerNo).then_some(n.ver_no),
        };
        Entry { uri, rt, value }
    }
}

/// `from_entries` names each node by the last segment of its URI, which is %-escaped
/// (facts §4.1); a TNDS `NodeName` carries the name itself, as the import reads it (only
/// `Path` is a URI), so decode the names back.
fn decode_names(nodes: &mut [Node]) {
    let mut stack: Vec<&mut Node> = nodes.iter_mut().collect();
    while let Some(n) = stack.pop() {
        if let Some(name) = NodeUri::parse(&format!("./{}", n.name))
            .ok()
            .and_then(|u| u.name().map(str::to_owned))
        {
            n.name = name;
        }
        if let NodeContent::Children(c) = &mut n.content {
            stack.extend(c.iter_mut());
        }
    }
}

fn list_name(q: &ListQuery) -> &'static str {
    match q {
        ListQuery::Struct => "Struct",
        ListQuery::StructData => "StructData",
        ListQuery::Tnds(_) => "TNDS",
    }
}
