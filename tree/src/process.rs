//! DM commands in, statuses and Results items out: what a client session asks of its tree.
//!
//! [`Processor`] keeps the per-session state the tree needs (a large object being received,
//! whether we are inside `Atomic`) and maps each dm-protocol [`Command`] onto the node
//! operations, with the container rules of facts §2.6 and the large-object rules of facts §8.
//! Building the Status and Results commands (CmdRef, MsgRef, CmdID) is the session's job.

use base64::Engine as _;
use dm_protocol::codes::StatusCode;
use dm_protocol::dom::Node as DomNode;
use dm_protocol::model::{
    Alert, Command, Container, Data, Item, ItemCommand, Locator, Meta, RawNodes,
};
use dm_protocol::tnds::{self, Format, TndsDocument, MIME_TNDS_WBXML, MIME_TNDS_XML};
use dm_protocol::uri::{UriQuery, UriRef};

use crate::error::{NotAllowed, TreeError};
use crate::exec::ExecOutcome;
use crate::list::ListOutput;
use crate::ops::{GetResult, NewNode};
use crate::principal::Principal;
use crate::tnds_io::ImportMode;
use crate::tree::Tree;

/// The status of one Item of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemStatus {
    /// The Item's `Target/LocURI` (the Status `TargetRef`).
    pub target: Option<String>,
    /// The Item's `Source/LocURI` (the Status `SourceRef`).
    pub source: Option<String>,
    /// The status code.
    pub code: StatusCode,
    /// Why, for refusals (for transcripts; not sent).
    pub reason: Option<String>,
}

/// What processing one command produced.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandOutcome {
    /// The command's `CmdID` (the Status `CmdRef`).
    pub cmd_id: String,
    /// The command's element name (the Status `Cmd`).
    pub cmd: &'static str,
    /// The command's status: for an item command the first item's code, for containers
    /// the container's own code (facts §2.6).
    pub code: StatusCode,
    /// Per-item statuses (empty for containers and alerts without items).
    pub items: Vec<ItemStatus>,
    /// Results items (Get), each with `Source/LocURI` and Meta (facts §4.5, §4.6).
    pub results: Vec<Item>,
    /// Outcomes of a container's children, in order.
    pub children: Vec<CommandOutcome>,
    /// A large object left incomplete by this command's arrival: the session must send
    /// Alert 1225 naming it (facts §8). (target, source) of the broken item.
    pub broken_chunk: Option<(Option<String>, Option<String>)>,
}

impl CommandOutcome {
    fn new(cmd_id: &str, cmd: &'static str, code: StatusCode) -> Self {
        CommandOutcome {
            cmd_id: cmd_id.to_owned(),
            cmd,
            code,
            items: Vec::new(),
            results: Vec::new(),
            children: Vec::new(),
            broken_chunk: None,
        }
    }

    /// Set the code of the command and all its items (and recursively its children).
    fn force(&mut self, code: StatusCode) {
        self.code = code;
        for i in &mut self.items {
            i.code = code;
        }
        self.results.clear();
    }

    fn failed(&self) -> bool {
        self.code.as_u16() >= 300
    }
}

/// How a session's UI or alert logic answered an Alert found among the commands.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertAnswer {
    /// The Alert's status (e.g. 200, 304 for "No" to 1101, 214 cancelled, 408 timeout).
    pub code: StatusCode,
    /// Results items (e.g. the user's text input), if any.
    pub results: Vec<Item>,
}

/// Session logic the tree cannot decide: Alerts (UI alerts, facts §3.4).
pub trait CommandHooks {
    /// Answer an Alert.
    fn alert(&mut self, tree: &mut Tree, alert: &Alert) -> AlertAnswer;

    /// Before a Get of `node` (canonical, e.g. `./SCOMO/Inventory`) runs, after the URI
    /// parsed and before the ACL and the node are checked; `listing` is true for a
    /// `?list=` query (the node's whole subtree). `Some(code)` answers the Get with that
    /// status and no Results: the device withholds the data for its own reasons, such as a
    /// user who has not agreed to disclose it (DMRD-6.1.4-16). Default: no objection.
    fn may_read(&mut self, tree: &Tree, node: &str, listing: bool) -> Option<StatusCode> {
        let _ = (tree, node, listing);
        None
    }
}

/// Hooks for a device without UI alerts: every Alert is answered 406 (facts §3.1).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl CommandHooks for NoHooks {
    fn alert(&mut self, _tree: &mut Tree, _alert: &Alert) -> AlertAnswer {
        AlertAnswer {
            code: StatusCode::OptionalFeatureNotSupported,
            results: Vec::new(),
        }
    }
}

/// A large object being received (facts §8).
#[derive(Debug, Clone)]
struct Chunk {
    cmd: &'static str,
    target: String,
    source: Option<String>,
    meta: Meta,
    declared: u64,
    data: Vec<u8>,
    binary: bool,
    /// The object was refused at its first chunk: every later chunk of it gets the same
    /// answer and nothing is written (facts §8: no partial commit).
    refused: Option<(StatusCode, String)>,
}

/// Per-session command processing state. See the module documentation.
#[derive(Debug, Clone)]
pub struct Processor {
    chunk: Option<Chunk>,
    in_atomic: bool,
    /// The device's `MaxObjSize`: a larger announced object is refused with 413 (facts §8).
    pub max_obj_size: Option<u64>,
    /// Send `bin` values as base64 text with Meta Format `b64` (XML sessions, facts §4.3);
    /// otherwise as opaque binary data (WBXML).
    pub binary_as_b64: bool,
}

impl Default for Processor {
    fn default() -> Self {
        Processor {
            chunk: None,
            in_atomic: false,
            max_obj_size: None,
            binary_as_b64: true,
        }
    }
}

fn loc(l: &Option<Locator>) -> Option<String> {
    l.as_ref().map(|l| l.loc_uri.clone())
}

fn refused(item: &Item, e: &TreeError) -> ItemStatus {
    ItemStatus {
        target: loc(&item.target),
        source: loc(&item.source),
        code: e.status(),
        reason: Some(e.to_string()),
    }
}

fn ok(item: &Item, code: StatusCode) -> ItemStatus {
    ItemStatus {
        target: loc(&item.target),
        source: loc(&item.source),
        code,
        reason: None,
    }
}

fn incomplete(item: &Item, what: &str) -> ItemStatus {
    ItemStatus {
        target: loc(&item.target),
        source: loc(&item.source),
        code: StatusCode::IncompleteCommand,
        reason: Some(format!("the Item has no {what}")),
    }
}

/// Meta of the item, falling back field by field to the command's.
fn merged_meta(cmd: Option<&Meta>, item: Option<&Meta>) -> Meta {
    let mut m = cmd.cloned().unwrap_or_default();
    if let Some(i) = item {
        if i.format.is_some() {
            m.format.clone_from(&i.format);
        }
        if i.type_.is_some() {
            m.type_.clone_from(&i.type_);
        }
        if i.size.is_some() {
            m.size = i.size;
        }
    }
    m
}

fn data_bytes(d: &Option<Data>) -> (Vec<u8>, bool) {
    match d {
        None => (Vec::new(), false),
        Some(Data::Text(t)) => (t.clone().into_bytes(), false),
        Some(Data::Binary(b)) => (b.clone(), true),
        Some(Data::Markup(m)) => (m.to_xml().into_bytes(), false),
    }
}

fn is_tnds(meta: &Meta) -> bool {
    meta.type_
        .as_deref()
        .is_some_and(|t| t == MIME_TNDS_XML || t == MIME_TNDS_WBXML)
}

impl Processor {
    /// A processor with default settings.
    pub fn new() -> Self {
        Processor::default()
    }

    /// The target of a large object still being received, if any.
    pub fn pending_chunk(&self) -> Option<&str> {
        self.chunk.as_ref().map(|c| c.target.as_str())
    }

    /// Drop an unfinished large object (the session ends or a new command arrived); returns
    /// its (target, source) for Alert 1225 (facts §8). Nothing of it is committed.
    pub fn abandon_chunk(&mut self) -> Option<(Option<String>, Option<String>)> {
        self.chunk.take().map(|c| (Some(c.target), c.source))
    }

    /// Process one command from the server `who`.
    pub fn process(
        &mut self,
        tree: &mut Tree,
        who: &Principal,
        cmd: &Command,
        hooks: &mut dyn CommandHooks,
    ) -> CommandOutcome {
        // facts §8: a new command before the last chunk breaks the large object.
        let continues = match (cmd, &self.chunk) {
            (Command::Add(c) | Command::Replace(c), Some(ch)) => {
                cmd_name(cmd) == ch.cmd
                    && c.items
                        .first()
                        .and_then(|i| i.target.as_ref())
                        .map(|l| &l.loc_uri)
                        == Some(&ch.target)
            }
            _ => false,
        };
        let broken = if continues {
            None
        } else {
            self.abandon_chunk()
        };
        let mut out = self.dispatch(tree, who, cmd, hooks);
        out.broken_chunk = broken;
        out
    }

    fn dispatch(
        &mut self,
        tree: &mut Tree,
        who: &Principal,
        cmd: &Command,
        hooks: &mut dyn CommandHooks,
    ) -> CommandOutcome {
        match cmd {
            Command::Add(c) => self.items(tree, who, c, "Add", hooks),
            Command::Replace(c) => self.items(tree, who, c, "Replace", hooks),
            Command::Delete(c) => self.items(tree, who, c, "Delete", hooks),
            Command::Copy(c) => self.items(tree, who, c, "Copy", hooks),
            Command::Get(c) => {
                if self.in_atomic {
                    // facts §2.6: Get inside Atomic → 500.
                    return self.not_in_atomic(&c.cmd_id, "Get", &c.items);
                }
                self.items(tree, who, c, "Get", hooks)
            }
            Command::Exec(e) => {
                if self.in_atomic {
                    // facts §2.6: Exec must be in SyncBody or Sequence.
                    return self.not_in_atomic(&e.cmd_id, "Exec", &e.items);
                }
                let mut out = CommandOutcome::new(&e.cmd_id, "Exec", StatusCode::Ok);
                for item in &e.items {
                    let st = match item.target.as_ref() {
                        None => incomplete(item, "Target"),
                        Some(t) => {
                            let (data, _) = data_bytes(&item.data);
                            let data = item.data.as_ref().map(|_| data);
                            match tree.exec(who, &t.loc_uri, data, e.correlator.clone()) {
                                Ok(ExecOutcome::Done(code)) => ok(item, code),
                                Ok(ExecOutcome::Accepted) => ok(item, StatusCode::Accepted),
                                Err(err) => refused(item, &err),
                            }
                        }
                    };
                    out.items.push(st);
                }
                out.code = out
                    .items
                    .first()
                    .map_or(StatusCode::IncompleteCommand, |i| i.code);
                out
            }
            Command::Alert(a) => {
                let answer = hooks.alert(tree, a);
                let mut out = CommandOutcome::new(&a.cmd_id, "Alert", answer.code);
                out.results = answer.results;
                out
            }
            Command::Atomic(c) => self.atomic(tree, who, c, hooks),
            Command::Sequence(c) => self.sequence(tree, who, c, hooks),
            Command::Results(r) => {
                CommandOutcome::new(&r.cmd_id, "Results", StatusCode::CommandNotAllowed)
            }
            Command::Status(_) => CommandOutcome::new("", "Status", StatusCode::CommandNotAllowed),
            Command::Other(raw) => {
                let mut o =
                    CommandOutcome::new("", "Other", StatusCode::OptionalFeatureNotSupported);
                o.cmd = leak_name(&raw.element.name);
                o
            }
        }
    }

    fn not_in_atomic(&self, cmd_id: &str, cmd: &'static str, items: &[Item]) -> CommandOutcome {
        let mut out = CommandOutcome::new(cmd_id, cmd, StatusCode::CommandFailed);
        let e = TreeError::Failed {
            uri: String::new(),
            reason: NotAllowed::InsideAtomic.to_string(),
        };
        out.items = items.iter().map(|i| refused(i, &e)).collect();
        out
    }

    /// An item command: each item in turn. Get and Copy read, so their items go through
    /// [`CommandHooks::may_read`] first.
    fn items(
        &mut self,
        tree: &mut Tree,
        who: &Principal,
        c: &ItemCommand,
        name: &'static str,
        hooks: &mut dyn CommandHooks,
    ) -> CommandOutcome {
        let mut out = CommandOutcome::new(&c.cmd_id, name, StatusCode::Ok);
        for item in &c.items {
            let st = match name {
                "Add" | "Replace" => self.write(tree, who, c, item, name),
                "Delete" => self.delete(tree, who, item),
                "Copy" => self.copy(tree, who, item, hooks),
                _ => self.get(tree, who, item, &mut out.results, hooks),
            };
            out.items.push(st);
        }
        out.code = out
            .items
            .first()
            .map_or(StatusCode::IncompleteCommand, |i| i.code);
        out
    }

    fn delete(&mut self, tree: &mut Tree, who: &Principal, item: &Item) -> ItemStatus {
        let Some(t) = &item.target else {
            return incomplete(item, "Target");
        };
        let r = match UriRef::parse(&t.loc_uri) {
            // facts §4.3: properties are created and removed with their node only.
            Ok(UriRef {
                query: Some(q),
                node,
            }) => Err(TreeError::NotAllowed {
                uri: format!("{node}?{q}"),
                command: "Delete",
                reason: match q {
                    UriQuery::Prop(p) => NotAllowed::Property(p),
                    UriQuery::List(_) => NotAllowed::Interior,
                },
            }),
            _ => tree.delete(who, &t.loc_uri),
        };
        match r {
            Ok(()) => ok(item, StatusCode::Ok),
            Err(e) => refused(item, &e),
        }
    }

    fn copy(
        &mut self,
        tree: &mut Tree,
        who: &Principal,
        item: &Item,
        hooks: &mut dyn CommandHooks,
    ) -> ItemStatus {
        let (Some(t), Some(s)) = (&item.target, &item.source) else {
            return incomplete(item, "Target and Source");
        };
        // A Copy reads its source: withheld like a Get's target, and then not copied.
        if let Ok(source) = UriRef::parse(&s.loc_uri) {
            if let Some(code) = hooks.may_read(tree, &source.node.to_string(), false) {
                return ok(item, code);
            }
        }
        match tree.copy(who, &s.loc_uri, &t.loc_uri) {
            Ok(()) => ok(item, StatusCode::Ok),
            Err(e) => refused(item, &e),
        }
    }

    fn get(
        &mut self,
        tree: &mut Tree,
        who: &Principal,
        item: &Item,
        results: &mut Vec<Item>,
        hooks: &mut dyn CommandHooks,
    ) -> ItemStatus {
        let Some(t) = &item.target else {
            return incomplete(item, "Target");
        };
        let uri = &t.loc_uri;
        let parsed = match UriRef::parse(uri) {
            Ok(p) => p,
            Err(source) => {
                return refused(
                    item,
                    &TreeError::BadUri {
                        uri: uri.clone(),
                        source,
                    },
                )
            }
        };
        let node = parsed.node.to_string();
        let listing = matches!(parsed.query, Some(UriQuery::List(_)));
        if let Some(code) = hooks.may_read(tree, &node, listing) {
            return ok(item, code);
        }
        let r = match &parsed.query {
            None => tree.get(who, &node).map(|g| vec![self.get_item(uri, g)]),
            Some(UriQuery::Prop(p)) => tree
                .get_prop(who, &node, *p)
                .map(|v| vec![result_item(uri, None, Some(Data::Text(v)))]),
            Some(UriQuery::List(q)) => tree
                .list(who, &node, q)
                .and_then(|o| self.list_items(uri, o)),
        };
        match r {
            Ok(items) => {
                results.extend(items);
                ok(item, StatusCode::Ok)
            }
            Err(e) => refused(item, &e),
        }
    }

    fn get_item(&self, uri: &str, g: GetResult) -> Item {
        match g {
            GetResult::Interior { children, .. } => result_item(
                uri,
                Some(meta(Some(Format::Node), None)),
                Some(Data::Text(children.join("/"))),
            ),
            GetResult::Leaf {
                format,
                type_,
                value,
            } => {
                let (f, data) = self.leaf_data(format, value);
                let m = meta(Some(f), Some(&type_));
                result_item(uri, (!m.is_empty()).then_some(m), Some(data))
            }
        }
    }

    /// A leaf value as Data with the Meta Format it travels under (facts §4.3: `bin` over
    /// XML is sent as `b64`).
    fn leaf_data(&self, format: Format, value: Vec<u8>) -> (Format, Data) {
        match format {
            Format::Bin if self.binary_as_b64 => (
                Format::B64,
                Data::Text(base64::engine::general_purpose::STANDARD.encode(&value)),
            ),
            Format::Bin => (Format::Bin, Data::Binary(value)),
            f => (f, Data::Text(String::from_utf8_lossy(&value).into_owned())),
        }
    }

    fn list_items(&self, uri: &str, out: ListOutput) -> Result<Vec<Item>, TreeError> {
        match out {
            ListOutput::Items(items) => Ok(items
                .into_iter()
                .map(|li| {
                    let (format, data) = match li.value {
                        Some(v) => {
                            let (f, d) = self.leaf_data(li.format, v);
                            (f, Some(d))
                        }
                        None => (li.format, None),
                    };
                    // facts §4.6: Meta Format/Type of every node, defaults omitted; an
                    // interior node's Type is its MO identifier (facts §4.2), not a default.
                    let m = meta(Some(format), Some(li.type_.as_str()));
                    result_item(&li.uri, (!m.is_empty()).then_some(m), data)
                })
                .collect()),
            ListOutput::Tnds(doc) => {
                let m = Meta {
                    format: Some("xml".into()),
                    type_: Some(MIME_TNDS_XML.into()),
                    ..Meta::default()
                };
                let data = Data::Markup(RawNodes {
                    nodes: vec![DomNode::Element(tnds::to_dom(&doc))],
                });
                Ok(vec![result_item(uri, Some(m), Some(data))])
            }
        }
    }

    fn write(
        &mut self,
        tree: &mut Tree,
        who: &Principal,
        c: &ItemCommand,
        item: &Item,
        name: &'static str,
    ) -> ItemStatus {
        let Some(t) = &item.target else {
            return incomplete(item, "Target");
        };
        let meta = merged_meta(c.meta.as_ref(), item.meta.as_ref());
        // facts §8: chunked items.
        if item.more_data || self.chunk.is_some() {
            return self.chunked(tree, who, item, name, meta);
        }
        let (data, binary) = data_bytes(&item.data);
        match self.apply_write(
            tree,
            who,
            &t.loc_uri,
            name,
            &meta,
            item.data.as_ref(),
            data,
            binary,
        ) {
            Ok(()) => ok(item, StatusCode::Ok),
            Err(e) => refused(item, &e),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_write(
        &mut self,
        tree: &mut Tree,
        who: &Principal,
        target: &str,
        name: &'static str,
        meta: &Meta,
        raw: Option<&Data>,
        data: Vec<u8>,
        binary: bool,
    ) -> Result<(), TreeError> {
        let parsed = UriRef::parse(target).map_err(|source| TreeError::BadUri {
            uri: target.to_owned(),
            source,
        })?;
        let node = parsed.node.to_string();
        match (&parsed.query, name) {
            (Some(UriQuery::Prop(p)), "Replace") => {
                let text = String::from_utf8(data).map_err(|_| TreeError::BadValue {
                    uri: target.to_owned(),
                    reason: "property values are UTF-8 text (facts §4.3)".into(),
                })?;
                return tree.replace_prop(who, &node, *p, &text);
            }
            (Some(q), _) => {
                return Err(TreeError::NotAllowed {
                    uri: target.to_owned(),
                    command: name,
                    reason: match q {
                        UriQuery::Prop(p) => NotAllowed::Property(*p),
                        UriQuery::List(_) => NotAllowed::Interior,
                    },
                })
            }
            (None, _) => {}
        }
        if is_tnds(meta) {
            let doc = parse_tnds(target, raw, &data)?;
            let mode = if name == "Add" {
                ImportMode::Add
            } else {
                ImportMode::Replace
            };
            return tree.import_tnds(who, &node, &doc, mode).map(|_| ());
        }
        let mut format = match meta.format.as_deref() {
            None => None,
            Some(f) => Some(f.parse::<Format>().map_err(|e| TreeError::BadValue {
                uri: target.to_owned(),
                reason: e.to_string(),
            })?),
        };
        let mut value = data;
        if format == Some(Format::B64) && !binary && tree.stores_binary(&node) {
            // facts §4.3: bin data over XML travels as b64; the tree keeps raw bytes.
            value = base64::engine::general_purpose::STANDARD
                .decode(String::from_utf8_lossy(&value).trim().as_bytes())
                .map_err(|e| TreeError::BadValue {
                    uri: target.to_owned(),
                    reason: format!("Meta Format b64 but the data is not base64: {e}"),
                })?;
            format = Some(Format::Bin);
        }
        if binary && format.is_none() {
            format = Some(Format::Bin);
        }
        let new = NewNode {
            format,
            type_: meta.type_.clone(),
            value: (format != Some(Format::Node)).then_some(value),
        };
        if name == "Add" {
            tree.add(who, &node, new).map(|_| ())
        } else {
            tree.replace(who, &node, new)
        }
    }

    fn chunked(
        &mut self,
        tree: &mut Tree,
        who: &Principal,
        item: &Item,
        name: &'static str,
        meta: Meta,
    ) -> ItemStatus {
        let target = item
            .target
            .as_ref()
            .map(|l| l.loc_uri.clone())
            .unwrap_or_default();
        let (bytes, binary) = data_bytes(&item.data);
        let mut chunk = match self.chunk.take() {
            Some(ch) => ch,
            None => {
                let refused = match meta.size {
                    None => Some((
                        StatusCode::SizeMismatch,
                        "the first chunk of a large object must carry Meta/Size (facts §8)"
                            .to_owned(),
                    )),
                    Some(declared) => self.max_obj_size.filter(|&m| declared > m).map(|max| {
                        (
                            StatusCode::RequestEntityTooLarge,
                            format!(
                                "object of {declared} bytes exceeds MaxObjSize {max} (facts §8)"
                            ),
                        )
                    }),
                };
                Chunk {
                    cmd: name,
                    target: target.clone(),
                    source: loc(&item.source),
                    declared: meta.size.unwrap_or(0),
                    meta,
                    data: Vec::new(),
                    binary,
                    refused,
                }
            }
        };
        if let Some((code, reason)) = chunk.refused.clone() {
            if item.more_data {
                self.chunk = Some(chunk);
            }
            return ItemStatus {
                code,
                reason: Some(reason),
                ..ok(item, code)
            };
        }
        chunk.data.extend_from_slice(&bytes);
        chunk.binary |= binary;
        if item.more_data {
            self.chunk = Some(chunk);
            return ok(item, StatusCode::ChunkedItemAccepted);
        }
        let actual = chunk.data.len() as u64;
        if actual != chunk.declared && !tree.faults.ignore_size_mismatch {
            let e = TreeError::SizeMismatch {
                uri: chunk.target.clone(),
                expected: chunk.declared,
                actual,
            };
            return refused(item, &e);
        }
        let data = if chunk.binary {
            Data::Binary(chunk.data.clone())
        } else {
            Data::Text(String::from_utf8_lossy(&chunk.data).into_owned())
        };
        match self.apply_write(
            tree,
            who,
            &chunk.target,
            chunk.cmd,
            &chunk.meta,
            Some(&data),
            chunk.data,
            chunk.binary,
        ) {
            Ok(()) => ok(item, StatusCode::Ok),
            Err(e) => refused(item, &e),
        }
    }

    fn atomic(
        &mut self,
        tree: &mut Tree,
        who: &Principal,
        c: &Container,
        hooks: &mut dyn CommandHooks,
    ) -> CommandOutcome {
        if self.in_atomic {
            // facts §2.6: nested Atomic → 500 (the outer one then fails with 507); its own
            // commands are not executed (215, our choice: the sheet names no code for them).
            let mut out = CommandOutcome::new(&c.cmd_id, "Atomic", StatusCode::CommandFailed);
            out.children = c
                .commands
                .iter()
                .map(|cmd| {
                    let mut o = self.skeleton(cmd);
                    o.force(StatusCode::NotExecuted);
                    o
                })
                .collect();
            return out;
        }
        let mut out = CommandOutcome::new(&c.cmd_id, "Atomic", StatusCode::Ok);
        let sp = tree.savepoint();
        self.in_atomic = true;
        let mut failed = false;
        for cmd in &c.commands {
            if failed {
                let mut o = self.skeleton(cmd);
                o.force(StatusCode::AtomicRollBackOk);
                out.children.push(o);
                continue;
            }
            let o = self.process(tree, who, cmd, hooks);
            // facts §3.4: a "No" (or cancel, or timeout) inside Atomic fails it.
            failed = o.failed() || (matches!(cmd, Command::Alert(_)) && user_declined(o.code));
            out.children.push(o);
        }
        self.in_atomic = false;
        if let Some(broken) = self.abandon_chunk() {
            // A chunked item cannot span the end of its Atomic.
            out.broken_chunk = Some(broken);
            failed = true;
        }
        let cannot_roll_back = failed && tree.faults.fail_rollback;
        let keep = !failed || tree.faults.no_atomic_rollback || cannot_roll_back;
        let commit = tree.release(sp, keep);
        if failed || commit.is_err() {
            // facts §2.6: the failed child keeps its code, the others 216, Atomic 507.
            // facts §2.6: 516 when the rollback itself failed.
            let others = if cannot_roll_back {
                StatusCode::AtomicRollBackFailed
            } else {
                StatusCode::AtomicRollBackOk
            };
            for ch in &mut out.children {
                let declined = ch.cmd == "Alert" && user_declined(ch.code);
                if (!ch.failed() && !declined) || commit.is_err() {
                    ch.force(others);
                }
            }
            out.code = StatusCode::AtomicFailed;
        }
        out
    }

    fn sequence(
        &mut self,
        tree: &mut Tree,
        who: &Principal,
        c: &Container,
        hooks: &mut dyn CommandHooks,
    ) -> CommandOutcome {
        // facts §2.6: Sequence is 200 once execution begins; children run in order; after a
        // user's "No" or cancel, the rest are not executed (215).
        let mut out = CommandOutcome::new(&c.cmd_id, "Sequence", StatusCode::Ok);
        let mut skip = false;
        for cmd in &c.commands {
            if skip {
                let mut o = self.skeleton(cmd);
                o.force(StatusCode::NotExecuted);
                out.children.push(o);
                continue;
            }
            let o = self.process(tree, who, cmd, hooks);
            if matches!(cmd, Command::Alert(_)) && user_declined(o.code) {
                skip = true;
            }
            out.children.push(o);
        }
        out
    }

    /// An outcome naming a command and its items, for commands that were not executed.
    fn skeleton(&self, cmd: &Command) -> CommandOutcome {
        let (id, items): (&str, &[Item]) = match cmd {
            Command::Add(c)
            | Command::Replace(c)
            | Command::Delete(c)
            | Command::Copy(c)
            | Command::Get(c) => (&c.cmd_id, &c.items),
            Command::Exec(e) => (&e.cmd_id, &e.items),
            Command::Alert(a) => (&a.cmd_id, &[]),
            Command::Atomic(c) | Command::Sequence(c) => (&c.cmd_id, &[]),
            Command::Results(r) => (&r.cmd_id, &[]),
            Command::Status(s) => (&s.cmd_id, &[]),
            Command::Other(_) => ("", &[]),
        };
        let mut o = CommandOutcome::new(id, cmd_name(cmd), StatusCode::NotExecuted);
        o.items = items
            .iter()
            .map(|i| ok(i, StatusCode::NotExecuted))
            .collect();
        o
    }
}

/// A UI alert the user answered "No" (304), cancelled (214) or let time out (408, MAXDT
/// expiry is treated as cancelled, facts §3.4).
fn user_declined(code: StatusCode) -> bool {
    matches!(
        code,
        StatusCode::NotModified | StatusCode::OperationCancelled | StatusCode::RequestTimeout
    )
}

fn cmd_name(cmd: &Command) -> &'static str {
    match cmd {
        Command::Add(_) => "Add",
        Command::Alert(_) => "Alert",
        Command::Atomic(_) => "Atomic",
        Command::Copy(_) => "Copy",
        Command::Delete(_) => "Delete",
        Command::Exec(_) => "Exec",
        Command::Get(_) => "Get",
        Command::Replace(_) => "Replace",
        Command::Results(_) => "Results",
        Command::Sequence(_) => "Sequence",
        Command::Status(_) => "Status",
        Command::Other(_) => "Other",
    }
}

/// Names of unknown commands, kept static for the outcome.
fn leak_name(name: &str) -> &'static str {
    match name {
        "Map" => "Map",
        "Sync" => "Sync",
        "Put" => "Put",
        "Search" => "Search",
        _ => "Other",
    }
}

/// Meta with Format and Type, omitting the defaults `chr` and `text/plain` (facts §4.5).
fn meta(format: Option<Format>, type_: Option<&str>) -> Meta {
    Meta {
        format: format
            .filter(|f| *f != Format::Chr)
            .map(|f| f.as_str().to_owned()),
        type_: type_
            .filter(|t| !t.is_empty() && *t != "text/plain")
            .map(str::to_owned),
        ..Meta::default()
    }
}

fn result_item(source: &str, meta: Option<Meta>, data: Option<Data>) -> Item {
    Item {
        source: Some(Locator {
            loc_uri: source.to_owned(),
            loc_name: None,
        }),
        meta,
        data,
        ..Item::default()
    }
}

fn parse_tnds(target: &str, raw: Option<&Data>, data: &[u8]) -> Result<tnds::MgmtTree, TreeError> {
    let bad = |reason: String| TreeError::BadValue {
        uri: target.to_owned(),
        reason,
    };
    let doc = match raw {
        Some(Data::Markup(m)) => {
            let el = m
                .nodes
                .iter()
                .find_map(|n| match n {
                    DomNode::Element(e) => Some(e),
                    _ => None,
                })
                .ok_or_else(
                    || bad("the TNDS Data holds no MgmtTree element (facts §9.2)".into()),
                )?;
            TndsDocument::from_dom(el).map_err(|e| bad(format!("TNDS: {e}")))?
        }
        _ => TndsDocument::parse(data).map_err(|e| bad(format!("TNDS: {e}")))?,
    };
    Ok(doc.tree)
}

impl Tree {
    /// Whether a write to `uri` stores raw bytes: the node (or its DDF definition) has
    /// Format `bin`.
    pub(crate) fn stores_binary(&self, uri: &str) -> bool {
        let Ok(u) = dm_protocol::uri::NodeUri::parse(uri) else {
            return false;
        };
        if let Some(id) = self.resolve(&u) {
            return self.node(id).format == Format::Bin;
        }
        let (Some(parent), Some(name)) = (u.parent(), u.name()) else {
            return false;
        };
        let Some(pid) = self.resolve(&parent) else {
            return false;
        };
        match self.def_for_child(pid, name) {
            crate::schema::DefMatch::Defined(d) => {
                self.schema.def(d).is_some_and(|d| d.format == Format::Bin)
            }
            _ => false,
        }
    }
}
