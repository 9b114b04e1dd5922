//! The project-defined schedule MO at `./Schedule` (docs/scheduling.md): servers add
//! schedules, the device verifies each leaf they write (the Add's status is the verdict),
//! keeps them in its durable tree, runs them on its clock as the server that created them and
//! reports each run with a Generic Alert (facts §3.5).
//!
//! The pieces:
//! - [`install`]: the `./Schedule` node and the validator that verifies server writes;
//! - [`tick`]: adopt new schedules, run the due ones, queue their reports;
//! - [`Condition`] and [`parse_commands`]: the small languages a schedule carries.

use std::sync::{Arc, Mutex};

use dm_protocol::acl::{Acl, AclCommand, AclPrincipal};
use dm_protocol::codec::{self, DecodeOptions};
use dm_protocol::model::{Command, Data, Item};
use dm_protocol::tnds::Format;
use dm_protocol::uri::{NodeUri, Property};
use dm_tree::standard::put_leaf;
use dm_tree::{
    format_tstamp, parse_tstamp, ChangeCommand, ChangeEvent, ChangeKind, Completion, NewNode,
    NodeKind, Principal, Processor, ProposedChange, SubscriptionId, Tree, TreeError,
};
use serde::{Deserialize, Serialize};

use crate::jobs::xml_escape;
use crate::runner::{consent, Consent};
use crate::ui::UiPolicy;

/// The MO identifier.
pub const MO_TYPE: &str = "urn:dmconf:mo:schedule:1.0";
/// Where the reference client places the MO.
pub const ROOT: &str = "./Schedule";
/// The DDF (docs/mo/schedule.ddf.xml).
pub const DDF: &str = include_str!("../../docs/mo/schedule.ddf.xml");
/// The Generic Alert type of a run report (docs/scheduling.md "Reports").
pub const ALERT_TYPE: &str = "urn:dmconf:at:schedule:1.0:Report";
/// ACL of `./Schedule` (facts §4.4): any server may read and add schedules; each schedule
/// then gets its creator's ACL (Add, Delete, Replace for the creator only).
pub const ACL_ROOT: &str = "Add=*&Get=*";

/// Result code: every command succeeded.
pub const RESULT_OK: u32 = 1200;
/// Result code: a command failed.
pub const RESULT_FAILED: u32 = 1400;
/// Result code: the user refused the run.
pub const RESULT_REFUSED: u32 = 1401;
/// Result code: the creating server lost a right the commands need; nothing ran.
pub const RESULT_NO_RIGHT: u32 = 1425;

/// `[schedule]` of the device profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSection {
    /// Create `./Schedule` and run the schedules servers put there.
    #[serde(default)]
    pub enabled: bool,
}

/// The simulated user's policy, shared with the validator so that `Prompt = create` is
/// answered like a session prompt (docs/scheduling.md "Verification").
pub type PolicyCell = Arc<Mutex<UiPolicy>>;

fn uri(s: &str) -> Result<NodeUri, TreeError> {
    NodeUri::parse(s).map_err(|source| TreeError::BadUri {
        uri: s.to_owned(),
        source,
    })
}

/// Load the DDF (docs/mo/schedule.ddf.xml: device-set leaves are Get only), create
/// `./Schedule` (once), register the validator and subscribe to the changes under it (who
/// added each schedule, changed triggers; give the id to [`tick`]). At every open: code, not
/// tree content.
pub fn install(tree: &mut Tree, policy: PolicyCell) -> Result<SubscriptionId, TreeError> {
    let doc = dm_protocol::tnds::TndsDocument::parse_xml(DDF.as_bytes()).map_err(|e| {
        TreeError::Failed {
            uri: ROOT.into(),
            reason: format!("the schedule DDF does not parse: {e}"),
        }
    })?;
    tree.load_ddf(&doc.tree).map_err(|e| TreeError::Failed {
        uri: ROOT.into(),
        reason: format!("the schedule DDF does not load: {e}"),
    })?;
    let root = uri(ROOT)?;
    if !tree.exists(&root) {
        tree.add(&Principal::Local, ROOT, NewNode::interior().typed(MO_TYPE))?;
        tree.replace_prop(&Principal::Local, ROOT, Property::Acl, ACL_ROOT)?;
    }
    tree.register_validator(
        root.clone(),
        move |tree: &Tree, change: &ProposedChange<'_>| verify_change(tree, change, &policy),
    );
    Ok(tree.subscribe(root))
}

/// Remove every schedule (the `forget_schedules` fault: a device that loses them at restart).
pub fn forget_all(tree: &mut Tree) -> Result<(), TreeError> {
    for name in children(tree, ROOT) {
        tree.delete(&Principal::Local, &format!("{ROOT}/{name}"))?;
    }
    Ok(())
}

fn children(tree: &Tree, at: &str) -> Vec<String> {
    match NodeUri::parse(at).ok().and_then(|u| tree.info(&u)) {
        Some(info) => match info.kind {
            NodeKind::Interior(names) => names,
            NodeKind::Leaf(_) => Vec::new(),
        },
        None => Vec::new(),
    }
}

fn value(tree: &Tree, at: &str) -> Option<String> {
    tree.value_str(at).filter(|v| !v.is_empty())
}

// ----- verification -------------------------------------------------------------------------

fn bad(uri: &NodeUri, reason: impl Into<String>) -> TreeError {
    TreeError::BadValue {
        uri: uri.to_string(),
        reason: reason.into(),
    }
}

fn unsupported(what: impl Into<String>) -> TreeError {
    TreeError::Unsupported { what: what.into() }
}

/// docs/scheduling.md "Verification": check one server write under `./Schedule/<x>`.
fn verify_change(
    tree: &Tree,
    change: &ProposedChange<'_>,
    policy: &PolicyCell,
) -> Result<(), TreeError> {
    if change.kind == ChangeCommand::Delete {
        return Ok(());
    }
    let segs: Vec<&str> = change.uri.segments().iter().map(String::as_str).collect();
    let Some(value) = change.value else {
        return Ok(()); // interior nodes carry nothing to verify
    };
    let text = std::str::from_utf8(value)
        .map_err(|_| bad(change.uri, "the value is not UTF-8 text"))?
        .trim();
    let rest = segs.get(2..).unwrap_or_default();
    match rest {
        ["Task", "Commands"] | ["Task", "Groups", _, "Commands"] => {
            let cmds = parse_commands(text).map_err(|e| bad(change.uri, e))?;
            check_commands(tree, change.by, &cmds)
        }
        ["Task", "Groups", _, "Condition"] | ["Trigger", "When"] => {
            let c = Condition::parse(text).map_err(|e| match e {
                ConditionError::Operator(op) => {
                    unsupported(format!("condition operator {op:?} (docs/scheduling.md)"))
                }
                ConditionError::Malformed(m) => bad(change.uri, m),
            })?;
            private(change, &c.uri)?;
            need(tree, change.by, &c.uri, AclCommand::Get)
        }
        ["Trigger", "OnChange"] => {
            let watched = NodeUri::parse(text)
                .map_err(|e| bad(change.uri, format!("not a node URI: {e}")))?;
            private(change, &watched)?;
            need(tree, change.by, &watched, AclCommand::Get)
        }
        ["Trigger", "Every"] | ["End", "Count"] => match text.parse::<u32>() {
            Ok(n) if n <= i32::MAX as u32 => Ok(()),
            _ => Err(bad(
                change.uri,
                format!("{text:?} is not a whole number from 0 to 2147483647"),
            )),
        },
        ["Trigger", "At"] | ["End", "Until"] => parse_tstamp(text).map(|_| ()).ok_or_else(|| {
            bad(
                change.uri,
                format!("{text:?} is not a TStamp like 20261203T120000Z (facts §4.3)"),
            )
        }),
        ["Report", "Mode"] => one_of(text, &["alert", "batch", "none"], "Report/Mode"),
        ["State"] => one_of(text, &["active", "suspended", "terminated"], "State"),
        ["Prompt"] => {
            one_of(text, &["none", "create", "run"], "Prompt")?;
            if text == "create" && change.kind == ChangeCommand::Add {
                let policy = policy.lock().map(|p| p.clone()).unwrap_or_default();
                if let Consent::Declined(reason) = ask(&policy) {
                    return Err(TreeError::Declined {
                        uri: change.uri.to_string(),
                        reason: format!("accept the schedule? {reason}"),
                    });
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The simulated user's answer to "accept this schedule / run it now?" — the policy's
/// answer to a user-interaction prompt (the rule of session prompts, facts §7).
fn ask(policy: &UiPolicy) -> Consent {
    consent(dm_protocol::pkg0::UiMode::UserInteraction, policy)
}

fn one_of(text: &str, allowed: &[&str], what: &str) -> Result<(), TreeError> {
    if allowed.contains(&text) {
        Ok(())
    } else {
        Err(unsupported(format!(
            "{what} {text:?} (supported: {})",
            allowed.join(", ")
        )))
    }
}

/// DMRD-6.1.4-16: a trigger or condition never watches the installed-application list. Its
/// observations (`Last/Observed`, the chosen group) would disclose it outside any read the
/// user could be asked about (docs/scheduling.md "Verification": 425).
fn private(change: &ProposedChange<'_>, watched: &NodeUri) -> Result<(), TreeError> {
    if crate::privacy::discloses_inventory(&watched.to_string(), false) {
        return Err(TreeError::PermissionDenied {
            uri: watched.to_string(),
            right: AclCommand::Get,
            server: change.by.server_id().unwrap_or_default().to_owned(),
        });
    }
    Ok(())
}

/// The right `who` has on `uri`: the node's effective ACL, or that of its nearest existing
/// ancestor when it does not exist yet (facts §4.4 inheritance).
fn need(tree: &Tree, who: &Principal, at: &NodeUri, right: AclCommand) -> Result<(), TreeError> {
    let mut node = Some(at.clone());
    while let Some(n) = node {
        if tree.exists(&n) {
            if tree.may(who, &n, right) {
                return Ok(());
            }
            return Err(TreeError::PermissionDenied {
                uri: n.to_string(),
                right,
                server: who.server_id().unwrap_or_default().to_owned(),
            });
        }
        node = n.parent();
    }
    Ok(())
}

fn target_of(item: &Item) -> Option<&str> {
    item.target.as_ref().map(|l| l.loc_uri.as_str())
}

/// The rights each command needs (docs/scheduling.md "Verification" table), checked for
/// `who`; Atomic and Sequence are checked through their content.
pub fn check_commands(tree: &Tree, who: &Principal, cmds: &[Command]) -> Result<(), TreeError> {
    for cmd in cmds {
        let (items, right) = match cmd {
            Command::Get(c) => (&c.items, AclCommand::Get),
            Command::Replace(c) => (&c.items, AclCommand::Replace),
            Command::Delete(c) => (&c.items, AclCommand::Delete),
            Command::Add(c) => (&c.items, AclCommand::Add),
            Command::Copy(c) => (&c.items, AclCommand::Replace),
            Command::Exec(e) => (&e.items, AclCommand::Exec),
            Command::Atomic(c) | Command::Sequence(c) => {
                check_commands(tree, who, &c.commands)?;
                continue;
            }
            other => {
                return Err(unsupported(format!(
                    "{} in a schedule (docs/scheduling.md: Get, Add, Replace, Delete, Copy, \
                     Exec, Atomic, Sequence)",
                    other.name()
                )))
            }
        };
        for item in items {
            let Some(t) = target_of(item) else {
                return Err(TreeError::BadValue {
                    uri: ROOT.into(),
                    reason: format!("a {} item without Target", cmd.name()),
                });
            };
            let t = uri(t)?;
            if t.segments().first().is_some_and(|s| s == "Schedule") {
                // A schedule may not create, change or run schedules (docs/scheduling.md).
                return Err(unsupported(format!(
                    "a scheduled {} on {t}: schedules cannot act on ./Schedule",
                    cmd.name()
                )));
            }
            // Add (and Copy to a new node): the right on the nearest existing ancestor of the
            // new node (facts §4.4).
            let right = match (cmd, tree.exists(&t)) {
                (Command::Copy(_), false) => AclCommand::Add,
                _ => right,
            };
            let at = match right {
                AclCommand::Add => t.parent().unwrap_or(t),
                _ => t,
            };
            need(tree, who, &at, right)?;
            if let (Command::Copy(_), Some(s)) = (cmd, item.source.as_ref()) {
                need(tree, who, &uri(&s.loc_uri)?, AclCommand::Get)?;
            }
        }
    }
    Ok(())
}

/// Parse the XML of a schedule's commands (`Task/Commands`): the SyncML commands as they
/// would appear in a SyncBody (facts §1.2).
pub fn parse_commands(xml: &str) -> Result<Vec<Command>, String> {
    if xml.trim().is_empty() {
        return Ok(Vec::new());
    }
    let doc = format!(
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD>\
         <VerProto>DM/1.2</VerProto><SessionID>0</SessionID><MsgID>0</MsgID>\
         <Target><LocURI>device</LocURI></Target><Source><LocURI>schedule</LocURI></Source>\
         </SyncHdr><SyncBody>{xml}</SyncBody></SyncML>"
    );
    let decoded = codec::decode(doc.as_bytes(), DecodeOptions::LENIENT)
        .map_err(|e| format!("the commands are not SyncML XML: {e}"))?;
    Ok(decoded.message.body.commands)
}

// ----- conditions ---------------------------------------------------------------------------

/// A condition `<URI> <op> <value>` (docs/scheduling.md "Conditions").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The node read.
    pub uri: NodeUri,
    /// The operator.
    pub op: String,
    /// The value compared with.
    pub value: String,
}

/// Why a condition does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionError {
    /// Not `<URI> <op> <value>` (415).
    Malformed(String),
    /// An operator the device does not support (406).
    Operator(String),
}

const OPERATORS: [&str; 6] = ["==", "!=", "<=", ">=", "<", ">"];

impl Condition {
    /// Parse `./Vendor/Battery < 20`.
    pub fn parse(text: &str) -> Result<Condition, ConditionError> {
        let text = text.trim();
        let (u, rest) = text.split_once(char::is_whitespace).ok_or_else(|| {
            ConditionError::Malformed(format!("{text:?} is not `<URI> <op> <value>`"))
        })?;
        let rest = rest.trim_start();
        let (op, value) = rest
            .split_once(char::is_whitespace)
            .map_or((rest, ""), |(o, v)| (o, v.trim()));
        if !OPERATORS.contains(&op) {
            return Err(ConditionError::Operator(op.to_owned()));
        }
        let uri = NodeUri::parse(u)
            .map_err(|e| ConditionError::Malformed(format!("{u:?} is not a node URI: {e}")))?;
        Ok(Condition {
            uri,
            op: op.to_owned(),
            value: value.to_owned(),
        })
    }

    /// Evaluate against `actual` (the node's value; `None` when it does not exist, which
    /// makes the condition false).
    pub fn holds(&self, actual: Option<&str>) -> bool {
        let Some(actual) = actual else {
            return false;
        };
        let ord = match (actual.trim().parse::<i64>(), self.value.parse::<i64>()) {
            (Ok(a), Ok(b)) => a.cmp(&b),
            _ => actual.cmp(self.value.as_str()),
        };
        match self.op.as_str() {
            "==" => ord.is_eq(),
            "!=" => ord.is_ne(),
            "<" => ord.is_lt(),
            "<=" => ord.is_le(),
            ">" => ord.is_gt(),
            _ => ord.is_ge(),
        }
    }

    /// Evaluate on the tree, reading as `who` (a node it may not Get counts as absent).
    fn holds_in(&self, tree: &Tree, who: &Principal) -> bool {
        let readable = tree.may(who, &self.uri, AclCommand::Get);
        let v = readable
            .then(|| tree.value_str(&self.uri.to_string()))
            .flatten();
        self.holds(v.as_deref())
    }
}

// ----- running ------------------------------------------------------------------------------

/// Switches of `[faults]` that concern schedules (docs/reference-client.md "Fault
/// injection").
#[derive(Debug, Clone, Copy, Default)]
pub struct ScheduleFaults {
    /// Run without checking the creating server's rights (as the device itself).
    pub skip_rights: bool,
    /// Run every active schedule at the first tick, due or not.
    pub report_early: bool,
}

/// One run of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleRun {
    /// The schedule's node name.
    pub name: String,
    /// The server it ran for (its creator).
    pub server: Option<String>,
    /// The result code (1200, 1400, 1401, 1425).
    pub result: u32,
    /// The run's number (1 for the first).
    pub run: u64,
    /// When (TStamp).
    pub time: String,
    /// `alert`, `batch` or `none`.
    pub report_mode: String,
    /// The report's Data (docs/scheduling.md "Reports").
    pub report: String,
}

/// What a tick did.
#[derive(Debug, Default)]
pub struct TickOutcome {
    /// The runs, in schedule name order.
    pub runs: Vec<ScheduleRun>,
    /// Schedules that could not be checked or recorded, with why; the others went on.
    pub errors: Vec<(String, TreeError)>,
}

/// The server that created `./Schedule/<name>`: the device-set `Owner` leaf, else the
/// server its creator ACL names (facts §4.4).
fn creator(tree: &Tree, at: &str) -> Option<String> {
    if let Some(o) = value(tree, &format!("{at}/Owner")) {
        return Some(o);
    }
    let info = tree.info(&NodeUri::parse(at).ok()?)?;
    let acl = Acl::parse(&info.acl).ok()?;
    for cmd in [AclCommand::Replace, AclCommand::Delete, AclCommand::Add] {
        if let Some(ps) = acl.principals(cmd) {
            if let Some(AclPrincipal::Server(s)) = ps.first() {
                return Some(s.clone());
            }
        }
    }
    None
}

fn int(tree: &Tree, at: &str) -> Option<u64> {
    value(tree, at).and_then(|v| v.trim().parse().ok())
}

fn ensure_interior(tree: &mut Tree, at: &str) -> Result<(), TreeError> {
    if !tree.exists(&uri(at)?) {
        tree.add(&Principal::Local, at, NewNode::interior())?;
    }
    Ok(())
}

/// The first `start + k*every` after `now` (k ≥ 0), or `start` while it is ahead.
fn next_after(start: u64, every: u64, now: u64) -> Option<u64> {
    if every == 0 {
        return None;
    }
    if now < start {
        return Some(start);
    }
    let k = (now - start) / every + 1;
    Some(start.saturating_add(k.saturating_mul(every)))
}

/// What the device knows of one schedule at a tick.
struct Entry {
    at: String,
    server: Option<String>,
    start: Option<u64>,
    every: u64,
    when: Option<Condition>,
    on_change: Option<String>,
}

impl Entry {
    fn read(tree: &Tree, at: &str) -> Entry {
        Entry {
            at: at.to_owned(),
            server: creator(tree, at),
            start: value(tree, &format!("{at}/Trigger/At")).and_then(|t| parse_tstamp(&t)),
            every: int(tree, &format!("{at}/Trigger/Every")).unwrap_or(0),
            when: value(tree, &format!("{at}/Trigger/When"))
                .and_then(|c| Condition::parse(&c).ok()),
            on_change: value(tree, &format!("{at}/Trigger/OnChange")),
        }
    }

    fn timed(&self) -> bool {
        self.start.is_some() || self.every > 0
    }

    fn who(&self) -> Principal {
        match &self.server {
            Some(s) => Principal::server(s.clone()),
            None => Principal::Local,
        }
    }

    /// The first timed due time from `now` on (a trigger just set or changed).
    fn first_due(&self, now: u64) -> Option<u64> {
        match self.start {
            Some(s) if s >= now || self.every == 0 => Some(s),
            Some(s) => next_after(s, self.every, now),
            None if self.every > 0 => Some(now.saturating_add(self.every)),
            None => None,
        }
    }

    /// `Last/Observed` now: the OnChange node's value (when the creator may read it, facts
    /// §4.4) or the When condition's truth.
    fn observed(&self, tree: &Tree) -> Option<String> {
        if let Some(w) = &self.on_change {
            let node = NodeUri::parse(w).ok()?;
            if self.server.is_none() || !tree.may(&self.who(), &node, AclCommand::Get) {
                return None;
            }
            return Some(tree.value_str(w).unwrap_or_default());
        }
        self.when
            .as_ref()
            .map(|c| c.holds_in(tree, &self.who()).to_string())
    }
}

/// What the server changes since the last tick mean for the schedules: who added each new
/// one, and which had their trigger changed (docs/scheduling.md "Life cycle").
#[derive(Default)]
struct Changes {
    owners: std::collections::BTreeMap<String, String>,
    retriggered: std::collections::BTreeSet<String>,
}

fn changes(events: Vec<ChangeEvent>) -> Changes {
    let mut c = Changes::default();
    for ev in events {
        let Principal::Server(server) = &ev.by else {
            continue;
        };
        let segs = ev.uri.segments();
        match (segs.get(1), segs.get(2), segs.len(), &ev.kind) {
            (Some(name), _, 2, ChangeKind::Added) => {
                c.owners.insert(name.clone(), server.clone());
            }
            (Some(name), Some(t), _, _) if t == "Trigger" => {
                c.retriggered.insert(name.clone());
            }
            _ => {}
        }
    }
    c
}

/// Adopt the schedules added since the last tick, then run every due one (docs/scheduling.md
/// "Triggers and runs"). Each run is persisted in three steps — the commands' effects, then
/// its report (queued as a completion and handed to `persist`, which makes it durable), then
/// `Last/*` and `Next` — so a crash repeats a run rather than losing its report (at least
/// once). A schedule that cannot be handled is skipped and named in
/// [`TickOutcome::errors`]; the others go on. `events` are the tree's change events under
/// `./Schedule` since the last tick (subscription of [`install`]). `inventory` guards the
/// installed-application list in runs as in sessions (DMRD-6.1.4-16, [`crate::privacy`]).
#[allow(clippy::too_many_arguments)]
pub fn tick(
    tree: &mut Tree,
    now: u64,
    policy: &UiPolicy,
    faults: ScheduleFaults,
    inventory: Option<crate::privacy::InventoryGate>,
    events: Vec<ChangeEvent>,
    persist: &mut dyn FnMut(&mut Tree) -> Result<(), String>,
) -> TickOutcome {
    let mut out = TickOutcome::default();
    let changes = changes(events);
    for name in children(tree, ROOT) {
        match tick_one(
            tree, &name, now, policy, faults, inventory, &changes, persist,
        ) {
            Ok(Some(run)) => out.runs.push(run),
            Ok(None) => {}
            Err(e) => out.errors.push((name, e)),
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn tick_one(
    tree: &mut Tree,
    name: &str,
    now: u64,
    policy: &UiPolicy,
    faults: ScheduleFaults,
    inventory: Option<crate::privacy::InventoryGate>,
    changes: &Changes,
    persist: &mut dyn FnMut(&mut Tree) -> Result<(), String>,
) -> Result<Option<ScheduleRun>, TreeError> {
    let at = format!("{ROOT}/{name}");
    if value(tree, &format!("{at}/Verification")).is_none() {
        adopt(tree, &at, changes.owners.get(name), now)?;
        if !faults.report_early {
            return Ok(None);
        }
    } else if changes.retriggered.contains(name) {
        // docs/scheduling.md "Life cycle": a changed trigger recomputes Next.
        let e = Entry::read(tree, &at);
        set_next(tree, &at, e.first_due(now))?;
    }
    let e = Entry::read(tree, &at);
    let state = value(tree, &format!("{at}/State")).unwrap_or_else(|| "active".into());
    if state != "active" {
        return Ok(None);
    }
    if let Some(until) = value(tree, &format!("{at}/End/Until")).and_then(|t| parse_tstamp(&t)) {
        if now >= until {
            put_leaf(tree, &format!("{at}/State"), "terminated", Format::Chr)?;
            return Ok(None);
        }
    }
    let due = due(tree, &e, now);
    if !(faults.report_early || due.run) {
        // Nothing runs, but the observation moves on (When edges, OnChange values).
        record_progress(tree, &at, &due, None)?;
        return Ok(None);
    }
    let run = run(tree, &e, name, now, policy, faults, inventory)?;
    if run.report_mode != "none" {
        tree.complete_exec(Completion {
            correlator: None,
            source: uri(&at)?,
            alert_type: ALERT_TYPE.into(),
            format: "xml".into(),
            mark: None,
            data: run.report.clone(),
            server: run.server.clone(),
        });
    }
    persist(tree).map_err(|reason| TreeError::Failed {
        uri: at.clone(),
        reason: format!("the run's report could not be kept: {reason}"),
    })?;
    record_progress(tree, &at, &due, Some(&run))?;
    let count = int(tree, &format!("{at}/End/Count")).unwrap_or(0);
    if count > 0 && run.run >= count {
        put_leaf(tree, &format!("{at}/State"), "terminated", Format::Chr)?;
    }
    Ok(Some(run))
}

fn set_next(tree: &mut Tree, at: &str, next: Option<u64>) -> Result<(), TreeError> {
    let node = format!("{at}/Next");
    match next {
        Some(n) => put_leaf(tree, &node, &format_tstamp(n), Format::Chr),
        None if tree.exists(&uri(&node)?) => tree.delete(&Principal::Local, &node),
        None => Ok(()),
    }
}

/// Mark a new schedule accepted: its owner (the server that added it, from the change
/// events, else its creator ACL), `Verification`, `State`, `Next`, `Last/*`; the owner may
/// read the whole schedule (the creator ACL of facts §4.4 has no Get).
fn adopt(tree: &mut Tree, at: &str, added_by: Option<&String>, now: u64) -> Result<(), TreeError> {
    let owner = added_by.cloned().or_else(|| creator(tree, at));
    tree.atomically(|tree| {
        if let Some(o) = &owner {
            put_leaf(tree, &format!("{at}/Owner"), o, Format::Chr)?;
            tree.replace_prop(
                &Principal::Local,
                at,
                Property::Acl,
                &format!("Add={o}&Delete={o}&Get={o}&Replace={o}"),
            )?;
        }
        put_leaf(tree, &format!("{at}/Verification"), "200", Format::Int)?;
        if value(tree, &format!("{at}/State")).is_none() {
            // Present from now on, so the server can Replace it (docs/scheduling.md).
            put_leaf(tree, &format!("{at}/State"), "active", Format::Chr)?;
        }
        ensure_interior(tree, &format!("{at}/Last"))?;
        put_leaf(tree, &format!("{at}/Last/Count"), "0", Format::Int)?;
        let e = Entry::read(tree, at);
        if e.timed() {
            set_next(tree, at, e.first_due(now))?;
        }
        if let Some(o) = e.observed(tree) {
            put_leaf(tree, &format!("{at}/Last/Observed"), &o, Format::Chr)?;
        }
        Ok(())
    })
}

/// Whether a schedule is due, and the progress to record once it ran (or did not).
struct Due {
    run: bool,
    /// The new `Next` (timed schedules whose time came).
    next: Option<Option<u64>>,
    /// The new `Last/Observed`.
    observed: Option<String>,
}

fn due(tree: &Tree, e: &Entry, now: u64) -> Due {
    let guard = || e.when.as_ref().is_none_or(|c| c.holds_in(tree, &e.who()));
    let none = Due {
        run: false,
        next: None,
        observed: None,
    };
    if e.timed() {
        let next = value(tree, &format!("{}/Next", e.at)).and_then(|t| parse_tstamp(&t));
        let Some(next) = next else {
            return none; // a one-off that already ran
        };
        if now < next {
            return none;
        }
        let start = e.start.unwrap_or(next);
        return Due {
            run: guard(),
            next: Some(next_after(start, e.every, now)),
            observed: None,
        };
    }
    let Some(now_seen) = e.observed(tree) else {
        return none; // no usable trigger: never runs
    };
    let before = tree.value_str(&format!("{}/Last/Observed", e.at));
    if before.as_deref() == Some(now_seen.as_str()) {
        return none;
    }
    let run = if e.on_change.is_some() {
        guard()
    } else {
        now_seen == "true"
    };
    Due {
        run,
        next: None,
        observed: Some(now_seen),
    }
}

/// Write `Next`, `Last/Observed` and (after a run) `Last/Time|Result|Count`, all or nothing.
fn record_progress(
    tree: &mut Tree,
    at: &str,
    due: &Due,
    run: Option<&ScheduleRun>,
) -> Result<(), TreeError> {
    if due.next.is_none() && due.observed.is_none() && run.is_none() {
        return Ok(());
    }
    tree.atomically(|tree| {
        if let Some(next) = due.next {
            set_next(tree, at, next)?;
        }
        ensure_interior(tree, &format!("{at}/Last"))?;
        if let Some(o) = &due.observed {
            put_leaf(tree, &format!("{at}/Last/Observed"), o, Format::Chr)?;
        }
        if let Some(r) = run {
            put_leaf(tree, &format!("{at}/Last/Time"), &r.time, Format::Chr)?;
            put_leaf(
                tree,
                &format!("{at}/Last/Result"),
                &r.result.to_string(),
                Format::Int,
            )?;
            put_leaf(
                tree,
                &format!("{at}/Last/Count"),
                &r.run.to_string(),
                Format::Int,
            )?;
        }
        Ok(())
    })
}

/// Perform one run (the commands' effects are committed; its record is the caller's).
fn run(
    tree: &mut Tree,
    e: &Entry,
    name: &str,
    now: u64,
    policy: &UiPolicy,
    faults: ScheduleFaults,
    inventory: Option<crate::privacy::InventoryGate>,
) -> Result<ScheduleRun, TreeError> {
    let at = &e.at;
    let number = int(tree, &format!("{at}/Last/Count"))
        .unwrap_or(0)
        .saturating_add(1);
    let mode = value(tree, &format!("{at}/Report/Mode")).unwrap_or_else(|| "alert".into());
    let commands = value(tree, &format!("{at}/Task/Commands"))
        .and_then(|x| parse_commands(&x).ok())
        .unwrap_or_default();
    let mut group: Option<(String, Vec<Command>)> = None;
    for g in children(tree, &format!("{at}/Task/Groups")) {
        let base = format!("{at}/Task/Groups/{g}");
        let cond =
            value(tree, &format!("{base}/Condition")).and_then(|c| Condition::parse(&c).ok());
        if cond.is_some_and(|c| c.holds_in(tree, &e.who())) {
            let cmds = value(tree, &format!("{base}/Commands"))
                .and_then(|x| parse_commands(&x).ok())
                .unwrap_or_default();
            group = Some((g, cmds));
            break;
        }
    }
    let who = if faults.skip_rights {
        Principal::Local
    } else {
        e.who()
    };
    let mut results = String::new();
    let mut statuses = String::new();
    let prompt = value(tree, &format!("{at}/Prompt")).unwrap_or_default();
    let all: Vec<&Command> = commands
        .iter()
        .chain(group.iter().flat_map(|(_, c)| c.iter()))
        .collect();
    let result = if prompt == "run" && matches!(ask(policy), Consent::Declined(_)) {
        RESULT_REFUSED
    } else if e.server.is_none()
        || (!faults.skip_rights
            && all
                .iter()
                .any(|c| check_commands(tree, &who, std::slice::from_ref(*c)).is_err()))
    {
        // facts §4.4 checked at run time: a right withdrawn since the schedule was accepted.
        RESULT_NO_RIGHT
    } else {
        let mut processor = Processor::new();
        let mut ok = true;
        // The user's consent guards the installed-application list here too; nothing else
        // of the UI is used by a run's commands (they hold no Alert).
        let mut hooks = crate::ui::UiHooks::new(policy.clone());
        if let Some(gate) = inventory {
            hooks = hooks.with_inventory_gate(gate);
        }
        for cmd in all {
            let out = processor.process(tree, &who, cmd, &mut hooks);
            ok &= record(&out, &mut results, &mut statuses);
        }
        if ok {
            RESULT_OK
        } else {
            RESULT_FAILED
        }
    };
    let time = format_tstamp(now);
    let mut report =
        format!("<Report><ResultCode>{result}</ResultCode><Run>{number}</Run><Time>{time}</Time>");
    if let Some((g, _)) = &group {
        report.push_str(&format!("<Group>{}</Group>", xml_escape(g)));
    }
    report.push_str(&format!(
        "<Results>{results}</Results><Statuses>{statuses}</Statuses></Report>"
    ));
    Ok(ScheduleRun {
        name: name.to_owned(),
        server: e.server.clone(),
        result,
        run: number,
        time,
        report_mode: mode,
        report,
    })
}

/// Add a command's results and statuses to the report; false when one failed.
fn record(out: &dm_tree::CommandOutcome, results: &mut String, statuses: &mut String) -> bool {
    let mut ok = out.code.is_success();
    for r in &out.results {
        let src = r.source.as_ref().map(|l| l.loc_uri.as_str()).unwrap_or("");
        let data = match &r.data {
            Some(Data::Text(t)) => t.clone(),
            Some(Data::Binary(b)) => dm_protocol::auth::b64(b),
            Some(Data::Markup(m)) => m.to_xml(),
            None => String::new(),
        };
        results.push_str(&format!(
            "<Item><Source><LocURI>{}</LocURI></Source><Data>{}</Data></Item>",
            xml_escape(src),
            xml_escape(&data)
        ));
    }
    if out.cmd != "Get" {
        for i in &out.items {
            statuses.push_str(&format!(
                "<Status><Cmd>{}</Cmd><Target>{}</Target><Code>{}</Code></Status>",
                out.cmd,
                xml_escape(i.target.as_deref().unwrap_or("")),
                i.code.as_u16()
            ));
        }
    }
    for i in &out.items {
        ok &= i.code.is_success();
    }
    for c in &out.children {
        ok &= record(c, results, statuses);
    }
    ok
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("./Vendor/Battery < 20", Some("15"), true)]
    #[case("./Vendor/Battery < 20", Some("25"), false)]
    #[case("./Vendor/Battery < 20", Some("100"), false)] // numeric, not text, order
    #[case("./Vendor/Battery >= 20", Some("20"), true)]
    #[case("./Vendor/Mode == night mode", Some("night mode"), true)]
    #[case("./Vendor/Mode != day", Some("day"), false)]
    #[case("./Vendor/Battery < 20", None, false)]
    fn conditions(#[case] c: &str, #[case] actual: Option<&str>, #[case] holds: bool) {
        assert_eq!(Condition::parse(c).unwrap().holds(actual), holds);
    }

    #[rstest]
    #[case("./Vendor/Battery ~ 20", true)]
    #[case("./Vendor/Battery", false)]
    #[case("./a//b < 3", false)]
    fn bad_conditions(#[case] c: &str, #[case] operator: bool) {
        let e = Condition::parse(c).unwrap_err();
        assert_eq!(matches!(e, ConditionError::Operator(_)), operator, "{e:?}");
    }

    #[test]
    fn periods_do_not_burst() {
        assert_eq!(next_after(100, 10, 50), Some(100));
        assert_eq!(next_after(100, 10, 100), Some(110));
        assert_eq!(next_after(100, 10, 155), Some(160));
        assert_eq!(next_after(100, 0, 155), None);
    }

    #[test]
    fn commands_parse_from_a_body_fragment() {
        let cmds = parse_commands(
            "<Get><CmdID>1</CmdID><Item><Target><LocURI>./DevDetail/SwV</LocURI></Target></Item></Get>\
             <Sequence><CmdID>2</CmdID><Exec><CmdID>3</CmdID><Item><Target><LocURI>./Vendor/Tool</LocURI></Target></Item></Exec></Sequence>",
        )
        .unwrap();
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[0].name(), "Get");
        assert_eq!(cmds[1].name(), "Sequence");
        assert!(parse_commands("<Get><CmdID>1</Get>").is_err());
    }
}
