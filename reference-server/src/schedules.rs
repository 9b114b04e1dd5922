//! Schedules (docs/scheduling.md "The server side"): the project-defined schedule MO
//! `./Schedule/<x>` a server creates, changes and deletes with ordinary jobs (DMRD-6.3.4-35),
//! the definitions and states the server keeps per device (DMRD-6.3.4-36), and the reports
//! devices send as Generic Alerts (DMRD-6.3.4.1-10, facts §3.5).
//!
//! The admin API takes a [`ScheduleDefinition`] (JSON, docs/admin-api.md "Schedules") and
//! turns it into a job:
//!
//! - create ([`create_job`]): one `Add` of `./Schedule/<x>` whose Data is a TNDS document
//!   (Meta Format `xml`, Type `application/vnd.syncml.dmtnds+xml`, facts §9.2) holding the
//!   node and its leaves ([`leaves`]); the device verifies it all-or-nothing and its status
//!   is the verdict (docs/scheduling.md "Verification");
//! - modify ([`modify_job`]): `Delete` of the leaves (and groups) no longer present,
//!   `Replace` of the changed ones (facts §4.5: Replace never creates), `Add` of the new ones
//!   (interior nodes first);
//! - state ([`state_job`]): `Replace` of `State` (the device creates it when it adopts the schedule);
//! - delete ([`delete_job`]): `Delete ./Schedule/<x>`.
//!
//! The store links each such job to its schedule ([`ScheduleAction`]) and updates the
//! [`ScheduleRecord`] when the device's Status arrives ([`apply_status`]).

use std::collections::{BTreeMap, BTreeSet};

use dm_protocol::tnds::{Format, MgmtTree, Node, NodeType, RtProperties, TndsDocument};
use serde::{Deserialize, Serialize};

use crate::model::JobSpec;

/// The root of the schedule MO on the device (docs/scheduling.md "The MO").
pub const ROOT: &str = "./Schedule";

/// `Meta/Type` of a schedule report Generic Alert (docs/scheduling.md "Reports").
pub const REPORT_TYPE: &str = "urn:dmconf:at:schedule:1.0:Report";

/// One parameter group (use case 5.6.3): `Task/Groups/<name>/Condition` and `…/Commands`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleGroup {
    /// The group's node name (one URI segment).
    pub name: String,
    /// `Condition`: `<URI> <op> <value>` (docs/scheduling.md "Conditions").
    pub condition: String,
    /// `Commands`: the group's SyncML commands as XML.
    pub commands: String,
}

/// What a server asks a device to schedule: the JSON body of `POST` and `PUT
/// /devices/{dev_id}/schedules…` (docs/admin-api.md "Schedules"). Every field but `name`
/// maps to one leaf of `./Schedule/<name>` (docs/scheduling.md "The MO"); absent fields are
/// absent leaves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleDefinition {
    /// The node name `<x>` (one URI segment); in a `PUT` it may be left out (the path's).
    #[serde(default)]
    pub name: String,
    /// `Task/Commands`: SyncML commands as XML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<String>,
    /// `Task/Groups/<g>`: parameter groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<ScheduleGroup>,
    /// `Trigger/At`: first run, TStamp `YYYYMMDDTHHMMSSZ` (facts §4.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// `Trigger/Every`: period in seconds (int).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// `Trigger/When`: a condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// `Trigger/OnChange`: a device URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_change: Option<String>,
    /// `End/Count`: runs before termination (int).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// `End/Until`: termination time, TStamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// `Report/Mode`: `alert`, `batch` or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// `Prompt`: `none`, `create` or `run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// `State`: `active`, `suspended` or `terminated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// Where a schedule is, as far as the server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleState {
    /// The create job has not been answered yet.
    Requested,
    /// The device accepted it and it runs (`State` absent or `active`).
    Active,
    /// `State` is `suspended`.
    Suspended,
    /// `State` is `terminated`.
    Terminated,
    /// The device refused the Add (the verdict says why, docs/scheduling.md "Verification").
    Refused,
    /// The device deleted it (Status 200 for the Delete).
    Deleted,
}

impl ScheduleState {
    /// The state a device-held schedule with `State` leaf `value` is in.
    fn of_leaf(value: Option<&str>) -> ScheduleState {
        match value {
            Some("suspended") => ScheduleState::Suspended,
            Some("terminated") => ScheduleState::Terminated,
            _ => ScheduleState::Active,
        }
    }

    /// Whether the device holds the schedule (or will, once a queued create is answered).
    pub fn on_device(self) -> bool {
        !matches!(self, ScheduleState::Refused | ScheduleState::Deleted)
    }
}

/// A schedule as the server keeps and shows it (`GET /devices/{dev_id}/schedules/{name}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRecord {
    /// The device.
    pub dev_id: String,
    /// The schedule's node name.
    pub name: String,
    /// The definition last sent.
    pub definition: ScheduleDefinition,
    /// Where it is.
    pub state: ScheduleState,
    /// The Status the device gave the create Add (200, 425, 406, 415, 304, …); `None` until
    /// it answered (docs/scheduling.md "Verification").
    pub verdict: Option<u16>,
    /// The last refusal of a later change (modify, state, delete): its Status code; cleared
    /// by a new request.
    pub last_error: Option<u16>,
    /// The jobs sent for this schedule, oldest first.
    pub jobs: Vec<u64>,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds of the last change.
    pub updated_at: u64,
}

/// What a schedule job does, kept beside the job so its Statuses update the schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum ScheduleAction {
    /// One TNDS Add of the whole schedule.
    Create,
    /// Replace/Add/Delete of leaves.
    Modify,
    /// A Replace (or Add) of `State` with this value.
    State {
        /// The new `State`.
        state: String,
    },
    /// `Delete ./Schedule/<x>`.
    Delete,
}

/// One report of a schedule run (docs/scheduling.md "Reports"), as stored and shown by
/// `GET /devices/{dev_id}/schedules/{name}/reports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleReport {
    /// Unix seconds the alert arrived.
    pub received: u64,
    /// The SessionID it came in.
    pub session: String,
    /// `<ResultCode>` (1200, 1400, 1401, 1425); `None` when the data does not parse.
    pub result_code: Option<u16>,
    /// `<Run>`: the run's number.
    pub run: Option<u64>,
    /// `<Time>`: when it ran (TStamp).
    pub time: Option<String>,
    /// `<Group>`: the parameter group that ran, if any.
    pub group: Option<String>,
    /// The alert's Data as received (the `<Report>` XML).
    pub data: Option<String>,
}

/// Why a schedule request is refused (400 `invalid_request` in the admin API).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
#[non_exhaustive]
pub struct InvalidSchedule(pub String);

fn invalid(message: impl Into<String>) -> InvalidSchedule {
    InvalidSchedule(message.into())
}

/// Whether `name` is one URI segment (dm_protocol::uri: not empty, not `.`/`..`, no `/`),
/// without `?` (it would start a query) — facts §4.1.
fn check_segment(what: &str, name: &str) -> Result<(), InvalidSchedule> {
    if name.contains('?') {
        return Err(invalid(format!(
            "{what} `{name}` must not contain `?` (it would start a URI query, facts §4.1)"
        )));
    }
    dm_protocol::uri::NodeUri::root()
        .child(name)
        .map(|_| ())
        .map_err(|e| {
            invalid(format!(
                "{what} `{name}` is not one node name (facts §4.1): {e}"
            ))
        })
}

/// Whether `value` is a TStamp in the basic UTC form `YYYYMMDDTHHMMSSZ` (facts §4.3).
pub fn is_tstamp(value: &str) -> bool {
    let b = value.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = value.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let (Some(_), Some(mo), Some(d), Some(h), Some(mi), Some(s)) = (
        digits(0..4),
        digits(4..6),
        digits(6..8),
        digits(9..11),
        digits(11..13),
        digits(13..15),
    ) else {
        return false;
    };
    (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && s < 60
}

/// Checks a definition: the name and group names are node names; `report`, `prompt` and
/// `state` are the values docs/scheduling.md lists; `at`/`until` are TStamps; `every` and
/// `count` fit an `int` leaf (32-bit signed, facts §9.1); at least one trigger (`at`,
/// `every`, `when`, `on_change`) and at least one task (`commands`, `groups`).
pub fn validate(def: &ScheduleDefinition) -> Result<(), InvalidSchedule> {
    check_segment("the schedule name", &def.name)?;
    let one_of = |field: &str, value: &Option<String>, allowed: &[&str]| match value.as_deref() {
        Some(v) if !allowed.contains(&v) => Err(invalid(format!(
            "`{field}` is `{v}`; it must be one of {} (docs/scheduling.md)",
            allowed.join(", ")
        ))),
        _ => Ok(()),
    };
    one_of("report", &def.report, &["alert", "batch", "none"])?;
    one_of("prompt", &def.prompt, &["none", "create", "run"])?;
    one_of("state", &def.state, &["active", "suspended", "terminated"])?;
    for (field, value) in [("at", &def.at), ("until", &def.until)] {
        if let Some(v) = value {
            if !is_tstamp(v) {
                return Err(invalid(format!(
                    "`{field}` is `{v}`; it must be a TStamp YYYYMMDDTHHMMSSZ (facts §4.3)"
                )));
            }
        }
    }
    let max = u64::try_from(i32::MAX).unwrap_or(u64::MAX);
    for (field, value) in [("every", def.every), ("count", def.count)] {
        if value.is_some_and(|v| v > max) {
            return Err(invalid(format!(
                "`{field}` must be at most {max} (an int leaf, facts §9.1)"
            )));
        }
    }
    for (field, value) in [
        ("commands", &def.commands),
        ("when", &def.when),
        ("on_change", &def.on_change),
    ] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(invalid(format!("`{field}` must not be empty")));
        }
    }
    if def.at.is_none() && def.every.is_none() && def.when.is_none() && def.on_change.is_none() {
        return Err(invalid(
            "a schedule needs a trigger: at least one of `at`, `every`, `when`, `on_change` \
             (docs/scheduling.md \"Triggers and runs\")",
        ));
    }
    if def.commands.is_none() && def.groups.is_empty() {
        return Err(invalid(
            "a schedule needs a task: `commands`, `groups` or both (docs/scheduling.md)",
        ));
    }
    let mut seen = BTreeSet::new();
    for g in &def.groups {
        check_segment("a group name", &g.name)?;
        if !seen.insert(g.name.as_str()) {
            return Err(invalid(format!("group `{}` appears twice", g.name)));
        }
        if g.condition.trim().is_empty() || g.commands.trim().is_empty() {
            return Err(invalid(format!(
                "group `{}` needs a `condition` and `commands`",
                g.name
            )));
        }
    }
    Ok(())
}

/// One leaf of a schedule: its format (`chr` or `int`) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// `chr` or `int` (docs/scheduling.md "The MO").
    pub format: Format,
    /// The value.
    pub value: String,
}

/// The leaves a definition sets, by path relative to `./Schedule/<x>` (`Task/Commands`,
/// `Task/Groups/<g>/Condition`, `Trigger/Every`, …), in path order. Absent fields have no
/// leaf.
pub fn leaves(def: &ScheduleDefinition) -> BTreeMap<String, Leaf> {
    let mut out = BTreeMap::new();
    let mut put = |path: String, format: Format, value: Option<String>| {
        if let Some(value) = value {
            out.insert(path, Leaf { format, value });
        }
    };
    put("Task/Commands".into(), Format::Chr, def.commands.clone());
    for g in &def.groups {
        let base = format!("Task/Groups/{}", g.name);
        put(
            format!("{base}/Condition"),
            Format::Chr,
            Some(g.condition.clone()),
        );
        put(
            format!("{base}/Commands"),
            Format::Chr,
            Some(g.commands.clone()),
        );
    }
    put("Trigger/At".into(), Format::Chr, def.at.clone());
    put(
        "Trigger/Every".into(),
        Format::Int,
        def.every.map(|v| v.to_string()),
    );
    put("Trigger/When".into(), Format::Chr, def.when.clone());
    put(
        "Trigger/OnChange".into(),
        Format::Chr,
        def.on_change.clone(),
    );
    put(
        "End/Count".into(),
        Format::Int,
        def.count.map(|v| v.to_string()),
    );
    put("End/Until".into(), Format::Chr, def.until.clone());
    put("Report/Mode".into(), Format::Chr, def.report.clone());
    put("Prompt".into(), Format::Chr, def.prompt.clone());
    put("State".into(), Format::Chr, def.state.clone());
    out
}

/// The interior nodes the leaves need (`Task`, `Task/Groups`, `Task/Groups/<g>`, …).
fn interiors(leaves: &BTreeMap<String, Leaf>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for path in leaves.keys() {
        let mut end = 0;
        while let Some(i) = path[end..].find('/') {
            end += i;
            out.insert(path[..end].to_string());
            end += 1;
        }
    }
    out
}

/// `./Schedule/<name>`.
pub fn node_uri(name: &str) -> String {
    format!("{ROOT}/{name}")
}

fn interior_rt() -> RtProperties {
    RtProperties {
        format: Some(Format::Node),
        type_: Some(NodeType::DdfName(String::new())),
        ..RtProperties::default()
    }
}

/// The TNDS document of a schedule (facts §9.2): one top-level `Node` named `<x>` with
/// `Path` `.` — relative to the Add's Target `./Schedule` (facts §9.2: paths are relative to
/// the command Target), so it lands at `./Schedule/<x>` — interior nodes with Format `node`,
/// leaves with Format `chr`/`int`, Type `text/plain` and their Value.
pub fn tnds(def: &ScheduleDefinition) -> MgmtTree {
    fn build(prefix: &str, leaves: &BTreeMap<String, Leaf>) -> Vec<Node> {
        // The direct children of `prefix`, in name order (the leaves are sorted).
        let mut names: Vec<String> = Vec::new();
        for path in leaves.keys() {
            let Some(rest) = path.strip_prefix(prefix) else {
                continue;
            };
            let first = rest.split('/').next().unwrap_or(rest).to_string();
            if names.last() != Some(&first) {
                names.push(first);
            }
        }
        names
            .into_iter()
            .map(|name| {
                let path = format!("{prefix}{name}");
                match leaves.get(&path) {
                    Some(leaf) => Node::leaf(
                        name,
                        Some(RtProperties {
                            format: Some(leaf.format),
                            type_: Some(NodeType::Mime("text/plain".into())),
                            ..RtProperties::default()
                        }),
                        Some(leaf.value.clone()),
                    ),
                    None => Node::interior(
                        name,
                        Some(interior_rt()),
                        build(&format!("{path}/"), leaves),
                    ),
                }
            })
            .collect()
    }
    let leaves = leaves(def);
    let mut top = Node::interior(def.name.clone(), Some(interior_rt()), build("", &leaves));
    top.path = Some(".".to_string());
    MgmtTree::new(vec![top])
}

fn command(name: &str, item: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"Command": name, "CmdID": "0", "Items": [item]})
}

fn spec(commands: Vec<serde_json::Value>) -> Result<JobSpec, InvalidSchedule> {
    serde_json::from_value(serde_json::json!({ "commands": commands }))
        .map_err(|e| invalid(format!("cannot build the job: {e}")))
}

fn leaf_item(uri: String, leaf: &Leaf) -> serde_json::Value {
    serde_json::json!({"Target": {"LocURI": uri}, "Meta": {"Format": leaf.format.as_str()},
        "Data": {"text": leaf.value}})
}

/// The create job: one `Add` whose item targets `./Schedule` with Meta Format `xml`,
/// Type `application/vnd.syncml.dmtnds+xml` and the [`tnds`] document as Data (facts §9.2:
/// one status for the whole document, the verdict of docs/scheduling.md "Verification").
pub fn create_job(def: &ScheduleDefinition) -> Result<JobSpec, InvalidSchedule> {
    validate(def)?;
    let xml = TndsDocument::from_tree(tnds(def))
        .to_xml(false)
        .map_err(|e| invalid(format!("the TNDS document cannot be written: {e}")))?;
    spec(vec![command(
        "Add",
        serde_json::json!({
            "Target": {"LocURI": ROOT},
            "Meta": {"Format": "xml", "Type": dm_protocol::tnds::MIME_TNDS_XML},
            "Data": {"xml": xml},
        }),
    )])
}

/// The modify job from `old` to `new` (docs/scheduling.md "Life cycle": Replace of any
/// server-writable leaf): `Delete` of the groups, interior nodes and leaves `new` no longer
/// has (a removed interior node takes its leaves with it), `Replace` of the changed leaves,
/// then `Add` of the new interior nodes (parents first, Format `node`) and leaves (facts
/// §4.5: Replace never creates, Add needs the parent). `None` when nothing changed.
pub fn modify_job(
    old: &ScheduleDefinition,
    new: &ScheduleDefinition,
) -> Result<Option<JobSpec>, InvalidSchedule> {
    validate(new)?;
    let base = node_uri(&new.name);
    // `State` exists on the device from adoption on (docs/scheduling.md "Life cycle"): it is
    // only ever Replaced, and a definition without it leaves it as it is.
    let without_state = |d: &ScheduleDefinition| {
        let mut l = leaves(d);
        l.remove("State");
        l
    };
    let (old_leaves, new_leaves) = (without_state(old), without_state(new));
    let (old_dirs, new_dirs) = (interiors(&old_leaves), interiors(&new_leaves));
    let under = |path: &str, dirs: &BTreeSet<&String>| {
        dirs.iter().any(|d| path.starts_with(&format!("{d}/")))
    };
    let gone_dirs: BTreeSet<&String> = old_dirs.difference(&new_dirs).collect();
    let mut commands = Vec::new();
    // Delete: the outermost removed interior nodes, then removed leaves outside them.
    for d in &gone_dirs {
        if !under(d, &gone_dirs) {
            commands.push(command(
                "Delete",
                serde_json::json!({"Target": {"LocURI": format!("{base}/{d}")}}),
            ));
        }
    }
    for path in old_leaves.keys() {
        if !new_leaves.contains_key(path) && !under(path, &gone_dirs) {
            commands.push(command(
                "Delete",
                serde_json::json!({"Target": {"LocURI": format!("{base}/{path}")}}),
            ));
        }
    }
    for (path, leaf) in &new_leaves {
        if old_leaves.get(path).is_some_and(|o| o != leaf) {
            commands.push(command(
                "Replace",
                leaf_item(format!("{base}/{path}"), leaf),
            ));
        }
    }
    for d in new_dirs.difference(&old_dirs) {
        commands.push(command(
            "Add",
            serde_json::json!({"Target": {"LocURI": format!("{base}/{d}")},
                "Meta": {"Format": "node"}}),
        ));
    }
    for (path, leaf) in &new_leaves {
        if !old_leaves.contains_key(path) {
            commands.push(command("Add", leaf_item(format!("{base}/{path}"), leaf)));
        }
    }
    if let Some(state) = new
        .state
        .as_deref()
        .filter(|s| old.state.as_deref() != Some(*s))
    {
        let leaf = Leaf {
            format: Format::Chr,
            value: state.to_string(),
        };
        commands.push(command(
            "Replace",
            leaf_item(format!("{base}/State"), &leaf),
        ));
    }
    if commands.is_empty() {
        return Ok(None);
    }
    spec(commands).map(Some)
}

/// The state job: `Replace ./Schedule/<x>/State` with `state`. The device creates `State`
/// when it adopts a schedule (docs/scheduling.md "Life cycle"), so a Replace always finds it.
pub fn state_job(current: &ScheduleDefinition, state: &str) -> Result<JobSpec, InvalidSchedule> {
    if !["active", "suspended", "terminated"].contains(&state) {
        return Err(invalid(format!(
            "`state` is `{state}`; it must be one of active, suspended, terminated \
             (docs/scheduling.md \"Life cycle\")"
        )));
    }
    let leaf = Leaf {
        format: Format::Chr,
        value: state.to_string(),
    };
    spec(vec![command(
        "Replace",
        leaf_item(format!("{}/State", node_uri(&current.name)), &leaf),
    )])
}

/// The delete job: `Delete ./Schedule/<name>` (DMRD-6.1.7-2, docs/scheduling.md "Life cycle").
pub fn delete_job(name: &str) -> Result<JobSpec, InvalidSchedule> {
    spec(vec![command(
        "Delete",
        serde_json::json!({"Target": {"LocURI": node_uri(name)}}),
    )])
}

/// Updates `record` for a Status the device sent for command `target` (its `Target/LocURI`)
/// of a job doing `action`. Non-final codes (101 in progress, 213 chunk accepted, facts §1.4)
/// change nothing.
///
/// - create: 200 makes the schedule `active` (or the definition's `State`) with verdict 200;
///   any other code makes it `refused` with that verdict (docs/scheduling.md
///   "Verification": 425, 406, 415, 304, …);
/// - modify: a refused item sets `last_error`; an accepted `State` leaf moves the state;
/// - state: 200 moves the state, anything else sets `last_error`;
/// - delete: 200 makes it `deleted`, anything else sets `last_error`.
pub fn apply_status(
    record: &mut ScheduleRecord,
    action: &ScheduleAction,
    target: Option<&str>,
    code: u16,
) {
    if code == 101 || code == 213 {
        return;
    }
    let ok = (200..300).contains(&code);
    match action {
        ScheduleAction::Create => {
            record.verdict = Some(code);
            if ok {
                record.state = ScheduleState::of_leaf(record.definition.state.as_deref());
                record.last_error = None;
            } else {
                record.state = ScheduleState::Refused;
                record.last_error = Some(code);
            }
        }
        ScheduleAction::Modify => {
            if !ok {
                record.last_error = Some(code);
            } else if target.is_some_and(|t| t.ends_with("/State"))
                && record.state.on_device()
                && record.state != ScheduleState::Requested
            {
                record.state = ScheduleState::of_leaf(record.definition.state.as_deref());
            }
        }
        ScheduleAction::State { state } => {
            if ok {
                if record.state.on_device() && record.state != ScheduleState::Requested {
                    record.state = ScheduleState::of_leaf(Some(state));
                }
            } else {
                record.last_error = Some(code);
            }
        }
        ScheduleAction::Delete => {
            if code == 200 {
                record.state = ScheduleState::Deleted;
            } else {
                record.last_error = Some(code);
            }
        }
    }
}

/// The schedule name of a report alert item: `Source` `./Schedule/<x>` (or deeper) with Meta
/// Type [`REPORT_TYPE`]; `None` for any other item.
pub fn report_schedule(item: &crate::model::AlertItem) -> Option<String> {
    if item.type_.as_deref() != Some(REPORT_TYPE) {
        return None;
    }
    let rest = item
        .source
        .as_deref()?
        .strip_prefix(ROOT)?
        .strip_prefix('/')?;
    let name = rest.split('/').next().unwrap_or(rest);
    (!name.is_empty()).then(|| name.to_string())
}

/// A report from a report alert's Data `<Report><ResultCode>…</ResultCode><Run>…</Run>
/// <Time>…</Time><Group>…</Group>…</Report>` (docs/scheduling.md "Reports"), read leniently:
/// a field that is missing or does not parse is `None`; Data that is not XML is kept with
/// every field `None`.
pub fn parse_report(received: u64, session: &str, data: Option<&str>) -> ScheduleReport {
    let mut report = ScheduleReport {
        received,
        session: session.to_string(),
        result_code: None,
        run: None,
        time: None,
        group: None,
        data: data.map(str::to_string),
    };
    let Some(root) = data.and_then(|d| dm_protocol::xml::parse(d.trim().as_bytes()).ok()) else {
        return report;
    };
    if root.name != "Report" {
        return report;
    }
    let text = |name: &str| {
        root.child(name)
            .map(|e| e.text().trim().to_string())
            .filter(|t| !t.is_empty())
    };
    report.result_code = text("ResultCode").and_then(|t| t.parse().ok());
    report.run = text("Run").and_then(|t| t.parse().ok());
    report.time = text("Time");
    report.group = text("Group");
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> ScheduleDefinition {
        ScheduleDefinition {
            name: "r1".into(),
            commands: Some("<Get><CmdID>1</CmdID></Get>".into()),
            every: Some(3600),
            ..ScheduleDefinition::default()
        }
    }

    #[test]
    fn tstamps_are_basic_utc() {
        assert!(is_tstamp("20261203T120000Z"));
        for bad in [
            "20261203T120000",
            "2026-12-03T12:00:00Z",
            "20261303T120000Z",
            "20261203T250000Z",
            "2026120xT120000Z",
            "20261203T120000Z ",
        ] {
            assert!(!is_tstamp(bad), "{bad}");
        }
    }

    #[test]
    fn interiors_are_every_proper_prefix() {
        let mut d = def();
        d.groups = vec![ScheduleGroup {
            name: "low".into(),
            condition: "./B < 2".into(),
            commands: "<Get/>".into(),
        }];
        let dirs: Vec<String> = interiors(&leaves(&d)).into_iter().collect();
        assert_eq!(dirs, ["Task", "Task/Groups", "Task/Groups/low", "Trigger"]);
    }

    #[test]
    fn a_report_parses_leniently() {
        let r = parse_report(
            5,
            "1A",
            Some("<Report><ResultCode>1400</ResultCode><Run>x</Run><Group>low</Group></Report>"),
        );
        assert_eq!(
            (r.result_code, r.run, r.group.as_deref(), r.time),
            (Some(1400), None, Some("low"), None)
        );
        let r = parse_report(5, "1A", Some("not <xml"));
        assert_eq!(r.result_code, None);
        assert_eq!(r.data.as_deref(), Some("not <xml"));
    }

    #[test]
    fn modify_only_ever_replaces_the_state_leaf() -> Result<(), InvalidSchedule> {
        // docs/scheduling.md "Life cycle": the device creates State at adoption.
        let mut with = def();
        with.state = Some("suspended".into());
        let text = serde_json::to_string(&modify_job(&def(), &with)?).unwrap_or_default();
        assert!(
            text.contains("\"Replace\"") && !text.contains("\"Add\""),
            "{text}"
        );
        assert!(text.contains("./Schedule/r1/State"), "{text}");
        // A PUT without `state` leaves the device's State alone: no Delete.
        assert_eq!(modify_job(&with, &def())?, None);
        Ok(())
    }

    #[test]
    fn the_state_leaf_is_always_replaced() -> Result<(), InvalidSchedule> {
        // docs/scheduling.md "Life cycle": the device creates State when it adopts a schedule.
        let text = serde_json::to_string(&state_job(&def(), "suspended")?).unwrap_or_default();
        assert!(
            text.contains("\"Replace\"") && text.contains("./Schedule/r1/State"),
            "{text}"
        );
        let mut d = def();
        d.state = Some("active".into());
        let text = serde_json::to_string(&state_job(&d, "suspended")?).unwrap_or_default();
        assert!(text.contains("\"Replace\""), "{text}");
        assert!(state_job(&d, "paused").is_err());
        Ok(())
    }
}
