//! The tree itself: node storage, lookup, ACL evaluation, transactions with an undo log,
//! commit to the store, and delivery of change events.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use dm_protocol::acl::{Acl, AclCommand};
use dm_protocol::tnds::{Format, MgmtTree};
use dm_protocol::uri::{NodeUri, Property, UriLimits};

use crate::clock::{Clock, SystemClock};
use crate::error::TreeError;
use crate::exec::{Completion, Registered};
use crate::node::{Kind, LeafValue, NodeData, NodeId, NodeInfo, NodeKind};
use crate::observe::{ChangeEvent, ChangeKind, Subscription, SubscriptionId};
use crate::principal::Principal;
use crate::schema::{DefId, DefMatch, Schema, SchemaError};
use crate::store::{Batch, SqliteStore, Store, StoreError, StoredNode};

/// The root's id.
pub(crate) const ROOT: NodeId = 0;

/// What the device supports and how it behaves where the specification leaves a choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeConfig {
    /// Create missing interior ancestors on Add (facts §4.2: allowed); otherwise 404.
    pub implicit_add: bool,
    /// Optional run-time properties supported (facts §4.3: Size, Title, TStamp, VerNo are
    /// MAY); the mandatory ACL, Format, Name and Type are always supported. Unsupported → 406.
    pub optional_props: BTreeSet<Property>,
    /// `?list=Struct|StructData|TNDS` supported (facts §4.6); otherwise 406.
    pub list_queries: bool,
    /// TNDS supported in Add/Replace and `?list=TNDS` (facts §9.2); otherwise 415 / 406.
    pub tnds: bool,
    /// The ACL of a fresh root (facts §4.4 default `Add=*&Get=*`).
    pub root_acl: String,
    /// Maximum `Title` length in bytes (facts §4.3: 255).
    pub max_title_len: usize,
}

impl Default for TreeConfig {
    fn default() -> Self {
        TreeConfig {
            implicit_add: true,
            optional_props: [
                Property::Size,
                Property::Title,
                Property::TStamp,
                Property::VerNo,
            ]
            .into_iter()
            .collect(),
            list_queries: true,
            tnds: true,
            root_acl: "Add=*&Get=*".into(),
            max_title_len: 255,
        }
    }
}

/// Deliberate misbehaviours for checking that the conformance scenarios catch them. All off
/// by default; never enable them outside a test.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Grant every ACL check.
    pub ignore_acl: bool,
    /// `Atomic` keeps the changes of its successful children when another fails (while still
    /// reporting 216/507).
    pub no_atomic_rollback: bool,
    /// Add on an existing leaf overwrites it and answers 200 instead of 418.
    pub add_overwrites: bool,
    /// Servers may delete permanent nodes: permanence, the DDF access type and the minimum
    /// occurrence no longer protect them; only the ACL does (facts §4.2).
    pub delete_permanent: bool,
    /// `VerNo` and `TStamp` never change.
    pub frozen_versions: bool,
    /// A chunked object is committed even when its size does not match (no 424).
    pub ignore_size_mismatch: bool,
    /// A failed `Atomic` cannot roll back: its successful children's changes stay and they
    /// are answered 516 (facts §2.6), for testing how a server copes with that answer.
    pub fail_rollback: bool,
}

/// Undo-log entry.
#[derive(Debug)]
enum Undo {
    /// The node did not exist before.
    Created(NodeId),
    /// The node's state before the first change in this transaction.
    Saved(NodeId, Box<NodeData>),
}

/// A savepoint in the undo log.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Savepoint {
    undo: usize,
    events: usize,
    completions: usize,
}

/// A device management tree. See the crate documentation.
pub struct Tree {
    pub(crate) nodes: HashMap<NodeId, NodeData>,
    next_id: NodeId,
    pub(crate) schema: Schema,
    pub(crate) config: TreeConfig,
    pub(crate) faults: Faults,
    clock: Arc<dyn Clock>,
    depth: usize,
    undo: Vec<Undo>,
    saved: HashSet<NodeId>,
    dirty: BTreeSet<NodeId>,
    pending_events: Vec<ChangeEvent>,
    store: Option<Box<dyn Store>>,
    subs: Vec<Subscription>,
    next_sub: u64,
    pub(crate) handlers: Vec<Registered>,
    pending_completions: Vec<Completion>,
    completions: Vec<Completion>,
    /// Extra Inbox routes: MO type → canonical parent URI (facts §5.5).
    pub(crate) inbox_routes: BTreeMap<String, String>,
    /// Write validators by subtree.
    pub(crate) validators: Vec<(NodeUri, Box<dyn crate::plugin::Validator>)>,
}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tree")
            .field("nodes", &self.nodes.len())
            .field("config", &self.config)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

impl Tree {
    /// An in-memory tree holding only the root, with the system clock.
    pub fn new(config: TreeConfig) -> Self {
        Tree::with_clock(config, Arc::new(SystemClock))
    }

    /// An in-memory tree with an injected clock.
    pub fn with_clock(config: TreeConfig, clock: Arc<dyn Clock>) -> Self {
        let root_acl = Acl::parse(&config.root_acl)
            .ok()
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| Acl::parse("Add=*&Get=*").unwrap_or_default());
        let now = clock.now_unix();
        let mut nodes = HashMap::new();
        nodes.insert(
            ROOT,
            NodeData {
                parent: None,
                name: String::new(),
                format: Format::Node,
                type_: String::new(),
                acl: root_acl,
                title: None,
                tstamp: now,
                ver_no: 0,
                permanent: true,
                def: None,
                kind: Kind::Interior(BTreeMap::new()),
            },
        );
        let mut dirty = BTreeSet::new();
        dirty.insert(ROOT);
        Tree {
            nodes,
            next_id: ROOT + 1,
            schema: Schema::new(),
            config,
            faults: Faults::default(),
            clock,
            depth: 0,
            undo: Vec::new(),
            saved: HashSet::new(),
            dirty,
            pending_events: Vec::new(),
            store: None,
            subs: Vec::new(),
            next_sub: 1,
            handlers: Vec::new(),
            pending_completions: Vec::new(),
            completions: Vec::new(),
            inbox_routes: BTreeMap::new(),
            validators: Vec::new(),
        }
    }

    /// Open a persistent tree: load the store's nodes, or start with a fresh root (written at
    /// once) when the store is empty.
    pub fn open(
        config: TreeConfig,
        clock: Arc<dyn Clock>,
        mut store: Box<dyn Store>,
    ) -> Result<Self, StoreError> {
        let rows = store.load()?;
        let mut tree = Tree::with_clock(config, clock);
        if rows.is_empty() {
            tree.store = Some(store);
            tree.flush()?;
            return Ok(tree);
        }
        tree.nodes.clear();
        tree.dirty.clear();
        let mut max_id = 0;
        for row in &rows {
            max_id = max_id.max(row.id);
            let format: Format = row
                .format
                .parse()
                .map_err(|e| StoreError(format!("node {} has a bad format: {e}", row.id)))?;
            let acl = Acl::parse(&row.acl)
                .map_err(|e| StoreError(format!("node {} has a bad ACL: {e}", row.id)))?;
            let kind = match &row.value {
                Some(v) => Kind::Leaf(v.clone()),
                None => Kind::Interior(BTreeMap::new()),
            };
            if (format == Format::Node) != row.value.is_none() {
                let shape = if row.value.is_some() {
                    "leaf"
                } else {
                    "interior"
                };
                return Err(StoreError(format!(
                    "node {} ({:?}): format {format} does not match its shape ({shape}); the \
                     state is damaged",
                    row.id, row.name,
                )));
            }
            tree.nodes.insert(
                row.id,
                NodeData {
                    parent: row.parent,
                    name: row.name.clone(),
                    format,
                    type_: row.type_.clone(),
                    acl,
                    title: row.title.clone(),
                    tstamp: row.tstamp,
                    ver_no: row.ver_no,
                    permanent: row.permanent,
                    def: None,
                    kind,
                },
            );
        }
        for row in &rows {
            let Some(parent) = row.parent else {
                continue;
            };
            match tree.nodes.get_mut(&parent).map(|p| &mut p.kind) {
                Some(Kind::Interior(children)) => {
                    children.insert(row.name.clone(), row.id);
                }
                _ => {
                    return Err(StoreError(format!(
                        "node {} ({:?}) has a missing or leaf parent {parent}; the state is \
                         damaged",
                        row.id, row.name
                    )))
                }
            }
        }
        if tree.nodes.get(&ROOT).is_none_or(|r| r.parent.is_some()) {
            return Err(StoreError("the stored tree has no root node".into()));
        }
        // Every node must hang under the root exactly once: a second parentless node, a
        // parent cycle or two siblings of the same name would be unreachable (and a cycle
        // would make URI building loop).
        if tree.subtree(ROOT).len() != tree.nodes.len() {
            let reachable: HashSet<NodeId> = tree.subtree(ROOT).into_iter().collect();
            let lost = rows
                .iter()
                .find(|r| !reachable.contains(&r.id))
                .map(|r| format!("node {} ({:?})", r.id, r.name))
                .unwrap_or_default();
            return Err(StoreError(format!(
                "{lost} is not reachable from the root; the state is damaged"
            )));
        }
        tree.next_id = max_id + 1;
        tree.store = Some(store);
        tree.recompute_defs();
        Ok(tree)
    }

    /// Open the persistent tree kept in the state directory `dir`: a [`SqliteStore`] in
    /// `dir/tree.db`, the directory created if missing. The values, properties and ACLs of
    /// the last committed transaction are loaded; a new directory starts with a fresh root
    /// (written at once). From then on every outermost commit is written durably before it
    /// returns, so a kill at any instant leaves the last committed state or the one before.
    ///
    /// MO definitions are not stored: load the DDFs again after opening (e.g.
    /// [`standard::install`](crate::standard::install)) so DDF-derived permanence and checks
    /// apply. A damaged or incompatible database is refused with a [`StoreError`].
    pub fn open_dir(
        dir: &Path,
        config: TreeConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let store = SqliteStore::open(dir)?;
        Tree::open(config, clock, Box::new(store))
    }

    /// Replace the fault-injection switches.
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// The current fault-injection switches.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The configuration.
    pub fn config(&self) -> &TreeConfig {
        &self.config
    }

    /// The loaded MO definitions.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Load a DDF document (facts §9.1): its nodes are declared for every existing and future
    /// node at their place.
    pub fn load_ddf(&mut self, ddf: &MgmtTree) -> Result<Vec<DefId>, SchemaError> {
        let ids = self.schema.load(ddf)?;
        self.recompute_defs();
        Ok(ids)
    }

    /// Number of nodes, root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Never true: the root always exists.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock.now_unix()
    }

    // ----- lookup -------------------------------------------------------------------------

    pub(crate) fn node(&self, id: NodeId) -> &NodeData {
        // Ids handed around always exist; a missing one is an internal bug, so fall back to
        // the root rather than panic.
        self.nodes
            .get(&id)
            .or_else(|| self.nodes.get(&ROOT))
            .expect("the root node always exists")
    }

    /// The id of the node at `uri`, if it exists.
    pub(crate) fn resolve(&self, uri: &NodeUri) -> Option<NodeId> {
        let mut id = ROOT;
        for (i, seg) in uri.segments().iter().enumerate() {
            id = self.child_of(id, seg, || {
                let mut u = NodeUri::root();
                for s in uri.segments().iter().take(i) {
                    u = u.child(s).unwrap_or_default();
                }
                u.to_string()
            })?;
        }
        Some(id)
    }

    /// The child of `parent` called `name`; tries other cases where a case-insensitive DDF
    /// definition applies (facts §4.1 CaseSense).
    pub(crate) fn child_of(
        &self,
        parent: NodeId,
        name: &str,
        parent_uri: impl FnOnce() -> String,
    ) -> Option<NodeId> {
        let p = self.nodes.get(&parent)?;
        let children = p.children()?;
        if let Some(&c) = children.get(name) {
            return Some(c);
        }
        if !self.schema.has_cis_children(p.def, &parent_uri()) {
            return None;
        }
        children.iter().find_map(|(n, &c)| {
            let def = self.nodes.get(&c)?.def?;
            let d = self.schema.def(def)?;
            (d.name.is_some() && d.matches(name) && n.eq_ignore_ascii_case(name)).then_some(c)
        })
    }

    /// The canonical URI of a node.
    pub(crate) fn uri_of(&self, id: NodeId) -> NodeUri {
        let mut names = Vec::new();
        let mut cur = id;
        while let Some(n) = self.nodes.get(&cur) {
            match n.parent {
                Some(p) => {
                    names.push(n.name.as_str());
                    cur = p;
                }
                None => break,
            }
        }
        let mut uri = NodeUri::root();
        for name in names.into_iter().rev() {
            uri = uri.child(name).unwrap_or(uri);
        }
        uri
    }

    /// Whether a node exists at `uri`.
    pub fn exists(&self, uri: &NodeUri) -> bool {
        self.resolve(uri).is_some()
    }

    /// A snapshot of the node at `uri` for local code (no ACL checks).
    pub fn info(&self, uri: &NodeUri) -> Option<NodeInfo> {
        let id = self.resolve(uri)?;
        let n = self.node(id);
        Some(NodeInfo {
            uri: uri.to_string(),
            format: n.format,
            type_: n.type_.clone(),
            acl: n.acl.to_string(),
            title: n.title.clone(),
            tstamp: n.tstamp,
            ver_no: n.ver_no,
            permanent: n.permanent,
            kind: match &n.kind {
                Kind::Interior(c) => NodeKind::Interior(c.keys().cloned().collect()),
                Kind::Leaf(v) => NodeKind::Leaf(LeafValue(v.clone())),
            },
        })
    }

    /// Mark a node permanent (created by the device, facts §4.2: a server can neither delete
    /// nor rename it) or dynamic. Local API; the root stays permanent.
    pub fn set_permanent(&mut self, uri: &NodeUri, permanent: bool) -> Result<(), TreeError> {
        let id = self.resolve(uri).ok_or_else(|| TreeError::NotFound {
            uri: uri.to_string(),
        })?;
        if id == ROOT {
            return Ok(());
        }
        self.atomically(|t| {
            t.save(id);
            if let Some(n) = t.nodes.get_mut(&id) {
                n.permanent = permanent;
            }
            Ok(())
        })
    }

    /// The leaf value at `uri` as text, for local code (no ACL checks).
    pub fn value_str(&self, uri: &str) -> Option<String> {
        let uri = NodeUri::parse(uri).ok()?;
        match &self.node(self.resolve(&uri)?).kind {
            Kind::Leaf(v) => String::from_utf8(v.clone()).ok(),
            Kind::Interior(_) => None,
        }
    }

    /// The URI limits in force, read from `./DevDetail/URI/{MaxDepth,MaxTotLen,MaxSegLen}`
    /// (facts §4.1, §5.3); a missing or non-numeric leaf means unlimited.
    pub fn uri_limits(&self) -> UriLimits {
        // Every command checks its target against these, so walk to `./DevDetail/URI` once
        // and look the three leaves up by name (the same `child_of` steps as `resolve`)
        // instead of formatting, parsing and resolving three URIs.
        let uri_node = self
            .child_of(ROOT, "DevDetail", || ".".to_owned())
            .and_then(|d| self.child_of(d, "URI", || "./DevDetail".to_owned()));
        let get = |name: &str| -> usize {
            uri_node
                .and_then(|u| self.child_of(u, name, || "./DevDetail/URI".to_owned()))
                .and_then(|id| match &self.node(id).kind {
                    Kind::Leaf(v) => std::str::from_utf8(v).ok(),
                    Kind::Interior(_) => None,
                })
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
        };
        UriLimits {
            max_depth: get("MaxDepth"),
            max_tot_len: get("MaxTotLen"),
            max_seg_len: get("MaxSegLen"),
        }
    }

    // ----- ACL ----------------------------------------------------------------------------

    /// The ACL governing a node: its own, or the nearest non-empty ancestor's (facts §4.4).
    pub(crate) fn effective_acl(&self, id: NodeId) -> &Acl {
        let mut cur = Some(id);
        while let Some(c) = cur {
            let n = self.node(c);
            if !n.acl.is_empty() {
                return &n.acl;
            }
            cur = n.parent;
        }
        &self.node(ROOT).acl
    }

    /// Whether `who` holds `right` on node `id` (facts §4.4).
    pub(crate) fn has_right(&self, who: &Principal, id: NodeId, right: AclCommand) -> bool {
        match who {
            Principal::Local => true,
            Principal::Server(_) if self.faults.ignore_acl => true,
            Principal::Server(s) => self.effective_acl(id).allows(right, s),
        }
    }

    /// [`Tree::has_right`] as a result with status 425.
    pub(crate) fn check_right(
        &self,
        who: &Principal,
        id: NodeId,
        right: AclCommand,
    ) -> Result<(), TreeError> {
        if self.has_right(who, id, right) {
            return Ok(());
        }
        Err(TreeError::PermissionDenied {
            uri: self.uri_of(id).to_string(),
            right,
            server: who.server_id().unwrap_or_default().to_owned(),
        })
    }

    /// Whether `who` may do `right` on the node at `uri` (local code asking on a server's
    /// behalf, e.g. for scheduled actions).
    pub fn may(&self, who: &Principal, uri: &NodeUri, right: AclCommand) -> bool {
        self.resolve(uri)
            .is_some_and(|id| self.has_right(who, id, right))
    }

    // ----- transactions -------------------------------------------------------------------

    pub(crate) fn savepoint(&mut self) -> Savepoint {
        self.depth += 1;
        Savepoint {
            undo: self.undo.len(),
            events: self.pending_events.len(),
            completions: self.pending_completions.len(),
        }
    }

    /// Close a savepoint: keep its changes (committing to the store when it is the outermost)
    /// or undo them.
    pub(crate) fn release(&mut self, sp: Savepoint, keep: bool) -> Result<(), TreeError> {
        self.depth = self.depth.saturating_sub(1);
        if !keep {
            self.rollback_to(sp);
            return Ok(());
        }
        if self.depth > 0 {
            return Ok(());
        }
        if let Err(e) = self.flush() {
            self.rollback_to(sp);
            return Err(TreeError::Store(e));
        }
        self.finish_commit();
        Ok(())
    }

    /// Run `f` all-or-nothing: if it fails, every change it made is undone. The outermost
    /// call commits to the store and delivers change events.
    pub fn atomically<T>(
        &mut self,
        f: impl FnOnce(&mut Tree) -> Result<T, TreeError>,
    ) -> Result<T, TreeError> {
        let sp = self.savepoint();
        match f(self) {
            Ok(v) => {
                self.release(sp, true)?;
                Ok(v)
            }
            Err(e) => {
                self.release(sp, false)?;
                Err(e)
            }
        }
    }

    fn rollback_to(&mut self, sp: Savepoint) {
        while self.undo.len() > sp.undo {
            match self.undo.pop() {
                Some(Undo::Created(id)) => {
                    self.nodes.remove(&id);
                    self.saved.remove(&id);
                    self.dirty.insert(id);
                }
                Some(Undo::Saved(id, old)) => {
                    self.nodes.insert(id, *old);
                    self.saved.remove(&id);
                    self.dirty.insert(id);
                }
                None => break,
            }
        }
        self.pending_events.truncate(sp.events);
        self.pending_completions.truncate(sp.completions);
        if self.depth == 0 {
            // Nothing of the rolled-back work reached the store; rows marked dirty by the
            // rollback are back to their committed state, rewriting them is harmless.
            self.undo.clear();
            self.saved.clear();
        }
    }

    /// Write dirty nodes to the store, if any.
    fn flush(&mut self) -> Result<(), StoreError> {
        let Some(store) = self.store.as_mut() else {
            self.dirty.clear();
            return Ok(());
        };
        if self.dirty.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::default();
        for &id in &self.dirty {
            match self.nodes.get(&id) {
                Some(n) => batch.upserts.push(stored(id, n)),
                None => batch.deletes.push(id),
            }
        }
        store.commit(&batch)?;
        self.dirty.clear();
        Ok(())
    }

    fn finish_commit(&mut self) {
        self.undo.clear();
        self.saved.clear();
        let events = std::mem::take(&mut self.pending_events);
        for ev in events {
            for s in &mut self.subs {
                if s.wants(&ev) {
                    s.queue.push(ev.clone());
                }
            }
        }
        self.completions.append(&mut self.pending_completions);
    }

    // ----- primitives (all record undo information) ---------------------------------------

    fn save(&mut self, id: NodeId) {
        self.dirty.insert(id);
        if self.depth == 0 || self.saved.contains(&id) {
            return;
        }
        if let Some(n) = self.nodes.get(&id) {
            self.undo.push(Undo::Saved(id, Box::new(n.clone())));
            self.saved.insert(id);
        }
    }

    /// Mark a node changed: TStamp to now, VerNo + 1 wrapping FFFF → 0 (facts §4.3).
    pub(crate) fn bump(&mut self, id: NodeId) {
        if self.faults.frozen_versions {
            return;
        }
        let now = self.now();
        self.save(id);
        if let Some(n) = self.nodes.get_mut(&id) {
            n.tstamp = now;
            n.ver_no = n.ver_no.wrapping_add(1);
        }
    }

    pub(crate) fn emit(&mut self, uri: NodeUri, kind: ChangeKind, by: &Principal) {
        self.pending_events.push(ChangeEvent {
            uri,
            kind,
            by: by.clone(),
        });
    }

    /// Create a child node. The caller has checked everything.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create(
        &mut self,
        parent: NodeId,
        name: &str,
        format: Format,
        type_: String,
        value: Option<Vec<u8>>,
        acl: Acl,
        def: Option<DefId>,
        permanent: bool,
    ) -> NodeId {
        let id = self.next_id;
        self.next_id += 1;
        // A node the DDF declares permanent is permanent from its creation on (facts §4.2,
        // §9.1 Scope), as it is after a reload, when `recompute_defs` derives it.
        let permanent = permanent || self.def_is_permanent(def);
        self.save(parent);
        if let Some(Kind::Interior(children)) = self.nodes.get_mut(&parent).map(|p| &mut p.kind) {
            children.insert(name.to_owned(), id);
        }
        let kind = if format == Format::Node {
            Kind::Interior(BTreeMap::new())
        } else {
            Kind::Leaf(value.unwrap_or_default())
        };
        let now = self.now();
        self.nodes.insert(
            id,
            NodeData {
                parent: Some(parent),
                name: name.to_owned(),
                format,
                type_,
                acl,
                title: None,
                tstamp: now,
                ver_no: 0,
                permanent,
                def,
                kind,
            },
        );
        self.dirty.insert(id);
        if self.depth > 0 {
            self.undo.push(Undo::Created(id));
            self.saved.insert(id);
        }
        self.bump(parent);
        id
    }

    /// Replace a leaf's value and optionally its Format/Type.
    pub(crate) fn set_value(
        &mut self,
        id: NodeId,
        value: Vec<u8>,
        format: Option<Format>,
        type_: Option<String>,
    ) {
        self.save(id);
        if let Some(n) = self.nodes.get_mut(&id) {
            n.kind = Kind::Leaf(value);
            if let Some(f) = format {
                n.format = f;
            }
            if let Some(t) = type_ {
                n.type_ = t;
            }
        }
        self.bump(id);
    }

    /// Set a node's own ACL.
    pub(crate) fn set_acl(&mut self, id: NodeId, acl: Acl) {
        self.save(id);
        if let Some(n) = self.nodes.get_mut(&id) {
            n.acl = acl;
        }
        self.bump(id);
    }

    /// Set a node's Title.
    pub(crate) fn set_title(&mut self, id: NodeId, title: Option<String>) {
        self.save(id);
        if let Some(n) = self.nodes.get_mut(&id) {
            n.title = title;
        }
        self.bump(id);
    }

    /// Rename a node (the caller checked for clashes).
    pub(crate) fn rename_node(&mut self, id: NodeId, new_name: &str) {
        let Some(parent) = self.node(id).parent else {
            return;
        };
        let old = self.node(id).name.clone();
        self.save(parent);
        if let Some(Kind::Interior(children)) = self.nodes.get_mut(&parent).map(|p| &mut p.kind) {
            children.remove(&old);
            children.insert(new_name.to_owned(), id);
        }
        self.save(id);
        if let Some(n) = self.nodes.get_mut(&id) {
            n.name = new_name.to_owned();
        }
        self.bump(id);
        self.bump(parent);
        self.recompute_defs_from(id);
    }

    /// Remove a node and its whole subtree.
    pub(crate) fn remove_subtree(&mut self, id: NodeId) {
        let Some(parent) = self.node(id).parent else {
            return;
        };
        let name = self.node(id).name.clone();
        self.save(parent);
        if let Some(Kind::Interior(children)) = self.nodes.get_mut(&parent).map(|p| &mut p.kind) {
            children.remove(&name);
        }
        let mut stack = vec![id];
        while let Some(cur) = stack.pop() {
            if let Some(Kind::Interior(c)) = self.nodes.get(&cur).map(|n| &n.kind) {
                stack.extend(c.values().copied());
            }
            self.save(cur);
            self.nodes.remove(&cur);
        }
        self.bump(parent);
    }

    /// Ids of a subtree in pre-order (children in name order).
    pub(crate) fn subtree(&self, id: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(cur) = stack.pop() {
            out.push(cur);
            if let Some(c) = self.nodes.get(&cur).and_then(NodeData::children) {
                stack.extend(c.values().rev().copied());
            }
        }
        out
    }

    /// A subtree in pre-order with each node's canonical URI, built from the parent's URI
    /// during the walk (no per-node walk to the root).
    pub(crate) fn subtree_with_uris(&self, id: NodeId) -> Vec<(NodeId, String)> {
        let mut out = Vec::new();
        let mut stack = vec![(id, self.uri_of(id).to_string())];
        while let Some((cur, uri)) = stack.pop() {
            if let Some(c) = self.nodes.get(&cur).and_then(NodeData::children) {
                for (name, &child) in c.iter().rev() {
                    let escaped = dm_protocol::uri::escape_name(name);
                    let child_uri = if cur == ROOT {
                        format!("./{escaped}")
                    } else {
                        format!("{uri}/{escaped}")
                    };
                    stack.push((child, child_uri));
                }
            }
            out.push((cur, uri));
        }
        out
    }

    // ----- schema -------------------------------------------------------------------------

    /// Where a child called `name` of `parent` falls in the MO definitions.
    pub(crate) fn def_for_child(&self, parent: NodeId, name: &str) -> DefMatch {
        let p = self.node(parent);
        let key = self.uri_of(parent).to_string();
        self.schema.child_def(p.def, &key, name)
    }

    fn recompute_defs(&mut self) {
        self.recompute_defs_from(ROOT);
    }

    fn recompute_defs_from(&mut self, start: NodeId) {
        for id in self.subtree(start) {
            let Some(parent) = self.node(id).parent else {
                continue;
            };
            let name = self.node(id).name.clone();
            let def = match self.def_for_child(parent, &name) {
                DefMatch::Defined(d) => Some(d),
                _ => None,
            };
            let permanent = self.def_is_permanent(def);
            let n = self.node(id);
            if n.def == def && (n.permanent || !permanent) {
                continue;
            }
            // Record the change like any other, so a rolled-back rename restores the
            // definitions of the moved subtree and the flag reaches the store.
            self.save(id);
            if let Some(n) = self.nodes.get_mut(&id) {
                n.def = def;
                n.permanent |= permanent;
            }
        }
    }

    fn def_is_permanent(&self, def: Option<DefId>) -> bool {
        def.and_then(|d| self.schema.def(d))
            .is_some_and(|d| d.scope == dm_protocol::tnds::Scope::Permanent)
    }

    // ----- observers and completions ------------------------------------------------------

    /// Subscribe to committed changes in the subtree at `prefix`.
    pub fn subscribe(&mut self, prefix: NodeUri) -> SubscriptionId {
        let id = SubscriptionId(self.next_sub);
        self.next_sub += 1;
        self.subs.push(Subscription {
            id,
            prefix,
            queue: Vec::new(),
        });
        id
    }

    /// Stop a subscription.
    pub fn unsubscribe(&mut self, id: SubscriptionId) {
        self.subs.retain(|s| s.id != id);
    }

    /// The changes delivered to a subscription since the last call, oldest first.
    pub fn take_events(&mut self, id: SubscriptionId) -> Vec<ChangeEvent> {
        self.subs
            .iter_mut()
            .find(|s| s.id == id)
            .map(|s| std::mem::take(&mut s.queue))
            .unwrap_or_default()
    }

    /// Report the end of an asynchronous Exec (answered 202). The completion is handed out by
    /// [`Tree::take_completions`] once the current transaction commits.
    pub fn complete_exec(&mut self, completion: Completion) {
        if self.depth > 0 {
            self.pending_completions.push(completion);
        } else {
            self.completions.push(completion);
        }
    }

    /// Completions waiting to be reported as Generic Alerts (facts §3.5), oldest first.
    pub fn take_completions(&mut self) -> Vec<Completion> {
        std::mem::take(&mut self.completions)
    }

    /// Route Adds into `./Inbox` of MO type `mo_type` to `parent` (canonical URI), in
    /// addition to the MO locations the loaded DDFs declare (facts §5.5).
    pub fn add_inbox_route(&mut self, mo_type: impl Into<String>, parent: &NodeUri) {
        self.inbox_routes.insert(mo_type.into(), parent.to_string());
    }
}

fn stored(id: NodeId, n: &NodeData) -> StoredNode {
    StoredNode {
        id,
        parent: n.parent,
        name: n.name.clone(),
        format: n.format.as_str().to_owned(),
        type_: n.type_.clone(),
        acl: n.acl.to_string(),
        title: n.title.clone(),
        tstamp: n.tstamp,
        ver_no: n.ver_no,
        permanent: n.permanent,
        value: match &n.kind {
            Kind::Leaf(v) => Some(v.clone()),
            Kind::Interior(_) => None,
        },
    }
}
