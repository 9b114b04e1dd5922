//! The node operations a server (or local code) performs, each with the status codes of
//! facts §3.2, §4.2–§4.5. Check order, where several refusals apply: the URI (500/414), the
//! node's existence (404/418), rules that hold for everyone (405: root, permanent, Inbox,
//! DDF AccessType/Occurrence), then the acting server's ACL right (425), then the value (415).

use base64::Engine as _;
use dm_protocol::acl::{Acl, AclCommand, AclPrincipal};
use dm_protocol::tnds::{AccessRight, Format};
use dm_protocol::uri::NodeUri;

use crate::error::{NotAllowed, TreeError};
use crate::exec::{ExecCall, ExecOutcome, Pattern, Registered};
use crate::node::{Kind, NodeId};
use crate::observe::ChangeKind;
use crate::plugin::{ChangeCommand, ProposedChange};
use crate::principal::Principal;
use crate::schema::{DefId, DefMatch, MoPlace};
use crate::tree::{Tree, ROOT};

/// A node to add, or a new leaf value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewNode {
    /// `Meta/Format`; `None` = the DDF's format, else `chr` (facts §4.5). `node` = interior.
    pub format: Option<Format>,
    /// `Meta/Type`; `None` = the DDF's type, else `text/plain` for leaves, empty for
    /// interior nodes.
    pub type_: Option<String>,
    /// The leaf value (raw bytes); `None` = the DDF default or empty.
    pub value: Option<Vec<u8>>,
}

impl NewNode {
    /// An interior node (Format `node`, facts §4.2).
    pub fn interior() -> Self {
        NewNode {
            format: Some(Format::Node),
            ..NewNode::default()
        }
    }

    /// A leaf with this value and default Format/Type.
    pub fn leaf(value: impl Into<Vec<u8>>) -> Self {
        NewNode {
            value: Some(value.into()),
            ..NewNode::default()
        }
    }

    /// With `Format`.
    pub fn format(mut self, f: Format) -> Self {
        self.format = Some(f);
        self
    }

    /// With `Type`.
    pub fn typed(mut self, t: impl Into<String>) -> Self {
        self.type_ = Some(t.into());
        self
    }
}

/// A Replace of a leaf value: the same fields as [`NewNode`].
pub type ReplaceValue = NewNode;

/// What a Get returns (facts §4.2, §4.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GetResult {
    /// A leaf: Format, Type and value.
    Leaf {
        /// `Format`.
        format: Format,
        /// `Type`.
        type_: String,
        /// Raw value.
        value: Vec<u8>,
    },
    /// An interior node: its Type and child names (%-escaped, facts §4.2).
    Interior {
        /// `Type` (MO identifier or empty).
        type_: String,
        /// Child names in name order.
        children: Vec<String>,
    },
}

impl Tree {
    /// Parse a target URI and check it against the device's limits (facts §4.1).
    pub(crate) fn target(&self, uri: &str) -> Result<NodeUri, TreeError> {
        let parsed = NodeUri::parse(uri).map_err(|source| TreeError::BadUri {
            uri: uri.to_owned(),
            source,
        })?;
        self.uri_limits()
            .check(&parsed)
            .map_err(|source| TreeError::UriTooLong {
                uri: parsed.to_string(),
                source,
            })?;
        Ok(parsed)
    }

    pub(crate) fn existing(&self, uri: &NodeUri) -> Result<NodeId, TreeError> {
        self.resolve(uri).ok_or_else(|| TreeError::NotFound {
            uri: uri.to_string(),
        })
    }

    fn not_allowed(uri: &NodeUri, command: &'static str, reason: NotAllowed) -> TreeError {
        TreeError::NotAllowed {
            uri: uri.to_string(),
            command,
            reason,
        }
    }

    /// A server is subject to DDF AccessType; local code is not.
    fn def_allows(&self, who: &Principal, def: Option<DefId>, right: AccessRight) -> bool {
        matches!(who, Principal::Local) || self.schema.allows(def, right)
    }

    pub(crate) fn is_inbox(uri: &NodeUri) -> bool {
        uri.segments().first().is_some_and(|s| s == "Inbox")
    }

    // ----- Add ----------------------------------------------------------------------------

    /// Add a node (facts §4.5): 418 if it exists, missing ancestors created as interior
    /// nodes with empty ACLs when [`TreeConfig::implicit_add`](crate::TreeConfig) is on
    /// (facts §4.2), Add right on the nearest existing ancestor (facts §4.4), the creator ACL
    /// for an interior node added without Replace right on its parent (facts §4.4). An Add
    /// directly under `./Inbox` is placed by its MO type (facts §5.5).
    pub fn add(&mut self, who: &Principal, uri: &str, node: NewNode) -> Result<NodeUri, TreeError> {
        let uri = self.target(uri)?;
        let uri = self.inbox_destination(&uri, node.type_.as_deref())?;
        self.atomically(|t| t.add_at(who, &uri, node).map(|_| uri.clone()))
    }

    /// Where an Add to `uri` really goes: itself, or for `./Inbox/<name>` the place of its MO
    /// type (facts §5.5). Unknown or missing MO type → 415; deeper Inbox paths → 404.
    pub(crate) fn inbox_destination(
        &self,
        uri: &NodeUri,
        mo_type: Option<&str>,
    ) -> Result<NodeUri, TreeError> {
        if !Tree::is_inbox(uri) || uri.depth() == 1 {
            return Ok(uri.clone());
        }
        if uri.depth() > 2 {
            return Err(TreeError::NotFound {
                uri: uri.parent().unwrap_or_default().to_string(),
            });
        }
        let name = uri.name().unwrap_or_default();
        let mo = mo_type.filter(|t| !t.is_empty()).ok_or_else(|| TreeError::BadValue {
            uri: uri.to_string(),
            reason: "an Add into ./Inbox needs the MO identifier in Meta/Type to place it (facts §5.5)".into(),
        })?;
        let place = match self.inbox_routes.get(mo) {
            Some(parent) => MoPlace::Under(parent.clone()),
            None => self
                .schema
                .mo_place(mo)
                .cloned()
                .ok_or_else(|| TreeError::BadValue {
                    uri: uri.to_string(),
                    reason: format!("no MO of type {mo:?} is known to this device (facts §5.5)"),
                })?,
        };
        let bad = |e: dm_protocol::uri::UriError| TreeError::BadUri {
            uri: uri.to_string(),
            source: e,
        };
        match place {
            MoPlace::Under(p) => NodeUri::parse(&p).and_then(|p| p.child(name)).map_err(bad),
            MoPlace::At(p) => NodeUri::parse(&p).map_err(bad),
        }
    }

    /// Add without opening a transaction (the caller holds one).
    pub(crate) fn add_at(
        &mut self,
        who: &Principal,
        uri: &NodeUri,
        node: NewNode,
    ) -> Result<NodeId, TreeError> {
        if let Some(existing) = self.resolve(uri) {
            let overwrite = self.faults.add_overwrites
                && matches!(who, Principal::Server(_))
                && !self.node(existing).is_interior()
                && node.format != Some(Format::Node);
            if overwrite {
                self.set_value(
                    existing,
                    node.value.unwrap_or_default(),
                    node.format,
                    node.type_,
                );
                return Ok(existing);
            }
            return Err(TreeError::AlreadyExists {
                uri: uri.to_string(),
            });
        }
        let segs = uri.segments();
        let Some((last, init)) = segs.split_last() else {
            return Err(TreeError::AlreadyExists { uri: ".".into() });
        };
        // Deepest existing ancestor.
        let mut parent = ROOT;
        let mut depth = 0;
        for seg in init {
            match self.child_of(parent, seg, || self.uri_of(parent).to_string()) {
                Some(c) => {
                    parent = c;
                    depth += 1;
                }
                None => break,
            }
        }
        if !self.node(parent).is_interior() {
            return Err(Tree::not_allowed(uri, "Add", NotAllowed::ParentIsLeaf));
        }
        if depth < init.len() && !self.config.implicit_add {
            let missing = NodeUri::root();
            let missing = init
                .iter()
                .take(depth + 1)
                .fold(missing, |u, s| u.child(s).unwrap_or_default());
            return Err(TreeError::NotFound {
                uri: missing.to_string(),
            });
        }
        // Rules that hold for everyone (the DDF, 405/415) before the server's rights (425);
        // the first node's definition is reused below rather than checked twice.
        let mut first_def = {
            let first = init.get(depth).unwrap_or(last);
            let first_uri = init
                .iter()
                .take(depth + 1)
                .fold(NodeUri::root(), |u, s| u.child(s).unwrap_or_default());
            let (f, ty) = if depth < init.len() {
                (Some(Format::Node), None)
            } else {
                (node.format, node.type_.as_deref())
            };
            let first_uri = if depth < init.len() {
                first_uri
            } else {
                uri.clone()
            };
            Some(self.check_add_def(who, parent, first, &first_uri, f, ty)?)
        };
        self.check_right(who, parent, AclCommand::Add)?;
        let mut cur_uri = self.uri_of(parent);
        for seg in init.iter().skip(depth) {
            cur_uri = cur_uri.child(seg).unwrap_or_default();
            let def = match first_def.take() {
                Some(d) => d,
                None => self.check_add_def(who, parent, seg, &cur_uri, Some(Format::Node), None)?,
            };
            let type_ = def
                .and_then(|d| self.schema.def(d))
                .and_then(|d| d.mo_type.clone())
                .unwrap_or_default();
            // facts §4.2: implicitly created interior nodes get an empty ACL.
            parent = self.create(
                parent,
                seg,
                Format::Node,
                type_,
                None,
                Acl::new(),
                def,
                false,
            );
            self.emit(cur_uri.clone(), ChangeKind::Added, who);
        }
        let def = match first_def.take() {
            Some(d) => d,
            None => {
                self.check_add_def(who, parent, last, uri, node.format, node.type_.as_deref())?
            }
        };
        let d = def.and_then(|d| self.schema.def(d)).cloned();
        if let (Principal::Server(_), None, Some(d)) = (who, node.format, &d) {
            // facts §4.2: adding an interior node needs Meta Format `node`; a leaf without
            // Meta Format takes its DDF format (our leniency; the value is still checked).
            if d.format == Format::Node {
                return Err(TreeError::BadValue {
                    uri: uri.to_string(),
                    reason: "the MO defines an interior node here; the Add needs Meta Format node (facts §4.2)".into(),
                });
            }
        }
        let format = node
            .format
            .or(d.as_ref().map(|d| d.format))
            .unwrap_or(Format::Chr);
        let type_ = node.type_.clone().unwrap_or_else(|| match &d {
            Some(d) if format == Format::Node => d.mo_type.clone().unwrap_or_default(),
            Some(d) => d
                .mime
                .first()
                .cloned()
                .unwrap_or_else(|| "text/plain".into()),
            None if format == Format::Node => String::new(),
            None => "text/plain".into(),
        });
        let value = if format == Format::Node {
            None
        } else {
            let v = node
                .value
                .or_else(|| {
                    d.as_ref()
                        .and_then(|d| d.default_value.clone())
                        .map(String::into_bytes)
                })
                .unwrap_or_default();
            check_value(uri, format, &v)?;
            Some(v)
        };
        let mut acl = Acl::new();
        if let Principal::Server(s) = who {
            // facts §4.4: an interior node added without Replace right on the parent gets an
            // ACL giving its creator Add, Delete and Replace.
            if format == Format::Node && !self.has_right(who, parent, AclCommand::Replace) {
                for cmd in [AclCommand::Add, AclCommand::Delete, AclCommand::Replace] {
                    acl.grant(cmd, AclPrincipal::Server(s.clone()))
                        .map_err(|e| TreeError::BadValue {
                            uri: uri.to_string(),
                            reason: format!("ServerID {s:?} cannot appear in an ACL: {e}"),
                        })?;
                }
            }
        }
        self.validate(&ProposedChange {
            uri,
            kind: ChangeCommand::Add,
            value: value.as_deref(),
            by: who,
        })?;
        let id = self.create(parent, last, format, type_, value, acl, def, false);
        self.emit(uri.clone(), ChangeKind::Added, who);
        Ok(id)
    }

    /// The DDF checks of an Add of `name` under `parent` (facts §9.1): the name must be
    /// defined (405), AccessType must have Add (405), Occurrence must leave room (405), the
    /// Format and MIME type must match (415). Local code skips the checks.
    fn check_add_def(
        &self,
        who: &Principal,
        parent: NodeId,
        name: &str,
        uri: &NodeUri,
        format: Option<Format>,
        type_: Option<&str>,
    ) -> Result<Option<DefId>, TreeError> {
        let def = match self.def_for_child(parent, name) {
            DefMatch::Defined(d) => d,
            DefMatch::Free => return Ok(None),
            DefMatch::Undefined if matches!(who, Principal::Local) => return Ok(None),
            DefMatch::Undefined => return Err(Tree::not_allowed(uri, "Add", NotAllowed::NotInMo)),
        };
        if matches!(who, Principal::Local) {
            return Ok(Some(def));
        }
        let Some(d) = self.schema.def(def) else {
            return Ok(None);
        };
        if !d.allows(AccessRight::Add) {
            return Err(Tree::not_allowed(
                uri,
                "Add",
                NotAllowed::AccessType(AccessRight::Add),
            ));
        }
        if let Some(max) = d.max_instances() {
            let count = self
                .node(parent)
                .children()
                .map(|c| {
                    c.values()
                        .filter(|&&c| self.node(c).def == Some(def))
                        .count()
                })
                .unwrap_or(0);
            if count as u64 >= u64::from(max) {
                return Err(Tree::not_allowed(
                    uri,
                    "Add",
                    NotAllowed::Occurrence(d.occurrence_text()),
                ));
            }
        }
        if let Some(f) = format {
            if f != d.format {
                return Err(TreeError::BadValue {
                    uri: uri.to_string(),
                    reason: format!("Format {f} where the MO defines {} (facts §9.1)", d.format),
                });
            }
        }
        if let Some(t) = type_ {
            if !d.mime.is_empty() && !d.mime.iter().any(|m| m == t) {
                return Err(TreeError::BadValue {
                    uri: uri.to_string(),
                    reason: format!("Type {t:?} where the MO allows {:?} (facts §9.1)", d.mime),
                });
            }
        }
        Ok(Some(def))
    }

    // ----- Replace ------------------------------------------------------------------------

    /// Replace a leaf's value (and Format/Type if given) (facts §4.5): 404 if missing (never
    /// creates), 405 on an interior node or without DDF Replace, 425 without the ACL right,
    /// 415 for a value or type the node's format or definition refuses.
    pub fn replace(
        &mut self,
        who: &Principal,
        uri: &str,
        value: ReplaceValue,
    ) -> Result<(), TreeError> {
        let uri = self.target(uri)?;
        self.atomically(|t| t.replace_at(who, &uri, value))
    }

    pub(crate) fn replace_at(
        &mut self,
        who: &Principal,
        uri: &NodeUri,
        value: ReplaceValue,
    ) -> Result<(), TreeError> {
        let id = self.existing(uri)?;
        let n = self.node(id);
        if n.is_interior() {
            return Err(Tree::not_allowed(uri, "Replace", NotAllowed::Interior));
        }
        let def = n.def;
        if !self.def_allows(who, def, AccessRight::Replace) {
            return Err(Tree::not_allowed(
                uri,
                "Replace",
                NotAllowed::AccessType(AccessRight::Replace),
            ));
        }
        self.check_right(who, id, AclCommand::Replace)?;
        let format = value.format.unwrap_or(n.format);
        if format == Format::Node {
            return Err(TreeError::BadValue {
                uri: uri.to_string(),
                reason: "a leaf cannot be given Format node by Replace (facts §4.5)".into(),
            });
        }
        if let (Principal::Server(_), Some(d)) = (who, def.and_then(|d| self.schema.def(d))) {
            if format != d.format {
                return Err(TreeError::BadValue {
                    uri: uri.to_string(),
                    reason: format!(
                        "Format {format} where the MO defines {} (facts §9.1)",
                        d.format
                    ),
                });
            }
            if let Some(t) = &value.type_ {
                if !d.mime.is_empty() && !d.mime.contains(t) {
                    return Err(TreeError::BadValue {
                        uri: uri.to_string(),
                        reason: format!("Type {t:?} where the MO allows {:?} (facts §9.1)", d.mime),
                    });
                }
            }
        }
        let v = value.value.unwrap_or_default();
        check_value(uri, format, &v)?;
        self.validate(&ProposedChange {
            uri,
            kind: ChangeCommand::Replace,
            value: Some(&v),
            by: who,
        })?;
        self.set_value(id, v, value.format, value.type_);
        self.emit(uri.clone(), ChangeKind::Replaced, who);
        Ok(())
    }

    // ----- Delete -------------------------------------------------------------------------

    /// Delete a node and its subtree (facts §4.5): 404 if missing; 405 for the root, a
    /// permanent node, a DDF without Delete or an Occurrence minimum; 425 without the Delete
    /// right. Deleting a DMAcc account scrubs its ServerID from every ACL when no other
    /// account has it (facts §4.4).
    pub fn delete(&mut self, who: &Principal, uri: &str) -> Result<(), TreeError> {
        let uri = self.target(uri)?;
        self.atomically(|t| t.delete_at(who, &uri))
    }

    pub(crate) fn delete_at(&mut self, who: &Principal, uri: &NodeUri) -> Result<(), TreeError> {
        let id = self.existing(uri)?;
        if id == ROOT {
            return Err(Tree::not_allowed(uri, "Delete", NotAllowed::Root));
        }
        let n = self.node(id);
        let server = matches!(who, Principal::Server(_));
        if server && n.permanent && !self.faults.delete_permanent {
            return Err(Tree::not_allowed(uri, "Delete", NotAllowed::Permanent));
        }
        if !self.def_allows(who, n.def, AccessRight::Delete) && !self.faults.delete_permanent {
            return Err(Tree::not_allowed(
                uri,
                "Delete",
                NotAllowed::AccessType(AccessRight::Delete),
            ));
        }
        // The fault lifts every protection of a permanent node (permanence, DDF access type,
        // minimum occurrence); only the ACL still applies.
        let protected = !(n.permanent && self.faults.delete_permanent);
        if let (true, Some(def), Some(parent)) = (server && protected, n.def, n.parent) {
            if let Some(d) = self.schema.def(def) {
                let count = self
                    .node(parent)
                    .children()
                    .map(|c| {
                        c.values()
                            .filter(|&&c| self.node(c).def == Some(def))
                            .count()
                    })
                    .unwrap_or(0);
                if (count as u64) <= u64::from(d.min_instances()) {
                    return Err(Tree::not_allowed(
                        uri,
                        "Delete",
                        NotAllowed::Occurrence(d.occurrence_text()),
                    ));
                }
            }
        }
        self.check_right(who, id, AclCommand::Delete)?;
        self.validate(&ProposedChange {
            uri,
            kind: ChangeCommand::Delete,
            value: None,
            by: who,
        })?;
        // Only a delete in ./DMAcc can remove an account (facts §4.4 scrub).
        let in_dmacc = uri.segments().first().is_some_and(|s| s == "DMAcc");
        let before = if in_dmacc {
            self.account_server_ids()
        } else {
            Vec::new()
        };
        self.remove_subtree(id);
        self.emit(uri.clone(), ChangeKind::Deleted, who);
        if in_dmacc {
            let after = self.account_server_ids();
            for gone in before.iter().filter(|s| !after.contains(s)) {
                self.scrub_server(gone)?;
            }
        }
        Ok(())
    }

    /// The ServerIDs of the DMAcc accounts (`./DMAcc/<X>/ServerID`, facts §5.4).
    pub fn account_server_ids(&self) -> Vec<String> {
        let Some(dmacc) = NodeUri::parse("./DMAcc")
            .ok()
            .and_then(|u| self.resolve(&u))
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for &acc in self
            .node(dmacc)
            .children()
            .into_iter()
            .flat_map(|c| c.values())
        {
            let sid = self
                .node(acc)
                .children()
                .and_then(|c| c.get("ServerID"))
                .copied();
            if let Some(Kind::Leaf(v)) = sid.map(|s| &self.node(s).kind) {
                if let Ok(s) = String::from_utf8(v.clone()) {
                    out.push(s);
                }
            }
        }
        out
    }

    /// Remove `server_id` from every ACL (facts §4.4): a command left without ids is removed;
    /// on the root it becomes `*`. Runs as one transaction (committed to the store when it
    /// is the outermost).
    pub fn scrub_server(&mut self, server_id: &str) -> Result<(), TreeError> {
        self.atomically(|t| {
            let ids: Vec<NodeId> = t.nodes.keys().copied().collect();
            for id in ids {
                let mut acl = t.node(id).acl.clone();
                let changed = if id == ROOT {
                    acl.scrub_root(server_id)
                } else {
                    acl.scrub(server_id)
                };
                if changed {
                    t.set_acl(id, acl);
                    let uri = t.uri_of(id);
                    t.emit(
                        uri,
                        ChangeKind::Property(dm_protocol::uri::Property::Acl),
                        &Principal::Local,
                    );
                }
            }
            Ok(())
        })
    }

    // ----- Get ----------------------------------------------------------------------------

    /// Get a node (facts §4.5): a leaf's value or an interior node's child list; 405 under
    /// `./Inbox` (facts §5.5) or without DDF Get; 404 if missing; 425 without the Get right.
    pub fn get(&self, who: &Principal, uri: &str) -> Result<GetResult, TreeError> {
        let uri = self.target(uri)?;
        let id = self.readable(who, &uri, "Get")?;
        let n = self.node(id);
        Ok(match &n.kind {
            Kind::Leaf(v) => GetResult::Leaf {
                format: n.format,
                type_: n.type_.clone(),
                value: v.clone(),
            },
            Kind::Interior(c) => GetResult::Interior {
                type_: n.type_.clone(),
                children: c.keys().map(|k| dm_protocol::uri::escape_name(k)).collect(),
            },
        })
    }

    /// The checks every read shares: Inbox (405), existence (404), DDF Get (405), ACL (425).
    pub(crate) fn readable(
        &self,
        who: &Principal,
        uri: &NodeUri,
        command: &'static str,
    ) -> Result<NodeId, TreeError> {
        if Tree::is_inbox(uri) && matches!(who, Principal::Server(_)) {
            return Err(Tree::not_allowed(uri, command, NotAllowed::Inbox));
        }
        let id = self.existing(uri)?;
        if !self.def_allows(who, self.node(id).def, AccessRight::Get) {
            return Err(Tree::not_allowed(
                uri,
                command,
                NotAllowed::AccessType(AccessRight::Get),
            ));
        }
        self.check_right(who, id, AclCommand::Get)?;
        Ok(id)
    }

    // ----- Copy ---------------------------------------------------------------------------

    /// Copy a leaf's value, Format and Type to another leaf, creating it if needed (facts
    /// §4.5): both must be leaves (405); Get right on the source, Replace right on an
    /// existing target or Add right on the new target's parent (facts §4.4, UNCONFIRMED
    /// exact combination; our reading).
    pub fn copy(&mut self, who: &Principal, source: &str, target: &str) -> Result<(), TreeError> {
        let source = self.target(source)?;
        let target = self.target(target)?;
        self.atomically(|t| t.copy_at(who, &source, &target))
    }

    pub(crate) fn copy_at(
        &mut self,
        who: &Principal,
        source: &NodeUri,
        target: &NodeUri,
    ) -> Result<(), TreeError> {
        let sid = self.readable(who, source, "Copy")?;
        let s = self.node(sid);
        let Kind::Leaf(value) = &s.kind else {
            return Err(Tree::not_allowed(source, "Copy", NotAllowed::CopyInterior));
        };
        let new = NewNode {
            format: Some(s.format),
            type_: Some(s.type_.clone()),
            value: Some(value.clone()),
        };
        match self.resolve(target) {
            Some(tid) if self.node(tid).is_interior() => {
                Err(Tree::not_allowed(target, "Copy", NotAllowed::CopyInterior))
            }
            Some(_) => self.replace_at(who, target, new),
            None => self.add_at(who, target, new).map(|_| ()),
        }
    }

    // ----- Exec ---------------------------------------------------------------------------

    /// Register the handler for Exec on nodes matching `pattern` (`./SCOMO/Download/*/
    /// Operations/Install`; `*` matches one segment). A later registration for the same
    /// pattern replaces the earlier one.
    pub fn register_exec(&mut self, pattern: &str, handler: impl crate::ExecHandler + 'static) {
        let pattern = Pattern::parse(pattern);
        self.handlers.retain(|h| h.pattern != pattern);
        self.handlers.push(Registered {
            pattern,
            handler: Some(Box::new(handler)),
        });
    }

    /// Exec a node (facts §4.5): 404 if missing, 405 without DDF Exec or without a
    /// registered handler, 425 without the Exec right; otherwise the handler's answer. Tree
    /// changes the handler makes are kept unless it answers an error status.
    pub fn exec(
        &mut self,
        who: &Principal,
        uri: &str,
        data: Option<Vec<u8>>,
        correlator: Option<String>,
    ) -> Result<ExecOutcome, TreeError> {
        let uri = self.target(uri)?;
        let id = self.existing(&uri)?;
        if !self.def_allows(who, self.node(id).def, AccessRight::Exec) {
            return Err(Tree::not_allowed(
                &uri,
                "Exec",
                NotAllowed::AccessType(AccessRight::Exec),
            ));
        }
        self.check_right(who, id, AclCommand::Exec)?;
        let Some(index) = self.handlers.iter().position(|h| h.pattern.matches(&uri)) else {
            return Err(Tree::not_allowed(&uri, "Exec", NotAllowed::NotExecutable));
        };
        let Some(mut handler) = self.handlers.get_mut(index).and_then(|h| h.handler.take()) else {
            return Err(TreeError::Failed {
                uri: uri.to_string(),
                reason: "the Exec handler is already running (re-entrant Exec)".into(),
            });
        };
        let call = ExecCall {
            uri: uri.clone(),
            data,
            correlator,
            by: who.clone(),
        };
        let sp = self.savepoint();
        let outcome = handler.exec(self, &call);
        if let Some(h) = self.handlers.get_mut(index) {
            h.handler = Some(handler);
        }
        let keep = match &outcome {
            ExecOutcome::Done(code) => code.is_success(),
            ExecOutcome::Accepted => true,
        };
        self.release(sp, keep)?;
        Ok(outcome)
    }
}

/// Check a leaf value against its Format (facts §4.3, §9.1); empty values are allowed (a
/// leaf's value may be null, facts §4.2). Refusal → 415.
pub(crate) fn check_value(uri: &NodeUri, format: Format, v: &[u8]) -> Result<(), TreeError> {
    if v.is_empty() {
        return Ok(());
    }
    let text = std::str::from_utf8(v);
    let ok = match format {
        Format::Bin | Format::Node => true,
        Format::Null => false,
        Format::Chr | Format::Xml => text.is_ok(),
        Format::Bool => matches!(text, Ok("true" | "false")),
        Format::Int => text.is_ok_and(|t| t.parse::<i32>().is_ok()),
        Format::Float => text.is_ok_and(|t| {
            matches!(t, "INF" | "-INF" | "NaN")
                || (t.parse::<f32>().is_ok() && !t.contains(char::is_alphabetic)
                    || t.contains(['e', 'E']) && t.parse::<f32>().is_ok())
        }),
        Format::Date | Format::Time => text.is_ok_and(|t| {
            t.chars().any(|c| c.is_ascii_digit())
                && t.chars()
                    .all(|c| c.is_ascii_digit() || "-:TZ+.".contains(c))
        }),
        Format::B64 => text.is_ok_and(|t| {
            base64::engine::general_purpose::STANDARD
                .decode(t.trim().as_bytes())
                .is_ok()
        }),
    };
    if ok {
        Ok(())
    } else {
        Err(TreeError::BadValue {
            uri: uri.to_string(),
            reason: format!("the value is not a valid {format} value (facts §9.1)"),
        })
    }
}
