//! Tree vectors (`vectors/tree/`, format in its README.md): a device tree, the commands of
//! one or more servers, the statuses and Results the device must answer, and the tree it must
//! end with. Facts §2.6, §3.2, §4, §5, §8, §9.
//!
//! One folder per case: `case.json` (description, cited facts, device settings, steps),
//! `start.xml` (the device's tree as TNDS), `stepN.xml` (SyncML DM messages from the server),
//! `expected.json` (per step, the outcome of every command) and `end.xml` (the whole tree at
//! the end, exported as TNDS with [`END_FILTER`]). The checker builds a [`dm_tree::Tree`],
//! imports `start.xml` as the device, feeds every step's commands to one
//! [`dm_tree::Processor`] acting for that step's server, and compares outcomes (JSON) and the
//! end tree (pretty TNDS XML) with unified diffs. `DMCONF_BLESS=1` writes `expected.json` and
//! `end.xml` instead of comparing.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use dm_protocol::codec::{self, DecodeOptions};
use dm_protocol::model::Command;
use dm_protocol::tnds::{Format, MgmtTree, Node, NodeContent, NodeType, TndsDocument};
use dm_protocol::uri::{NodeUri, Property, TndsFilter};
use dm_tree::{
    CommandOutcome, ManualClock, NewNode, NoHooks, Principal, Processor, Tree, TreeConfig,
};
use serde_json::{json, Map, Value};

use super::{blessing, case_dirs, compare_json, pretty_json, read_json, unified_diff, Outcome};

/// The `?list=TNDS` filter of the `end.xml` export: structure, ACL, Format, Type, Title and
/// leaf values. `VerNo`, `TStamp` and `Size` are left out so that an end tree only depends
/// on the rule its case is about; cases about them read them with `?prop=`.
pub const END_FILTER: &str = "TNDS+ACL+Format+Type+Title+Value";

/// Check every case folder under `dir` (sorted by name).
pub fn check(dir: &Path) -> Vec<Outcome> {
    match case_dirs(dir) {
        Ok(cases) => cases.iter().map(|c| check_case(c)).collect(),
        Err(e) => vec![Outcome::fail("tree", dir, e)],
    }
}

/// Check one case folder.
pub fn check_case(case: &Path) -> Outcome {
    let id = case
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match run_case(case, &id) {
        Ok(()) => Outcome::pass(id, case),
        Err(why) => Outcome::fail(id, case, why),
    }
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write_text(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The device settings of `case.json` `config`, over [`TreeConfig::default`]; and the
/// device's `MaxObjSize`.
fn config(v: Option<&Value>) -> Result<(TreeConfig, Option<u64>), String> {
    let mut c = TreeConfig::default();
    let mut max_obj_size = None;
    let Some(v) = v else {
        return Ok((c, max_obj_size));
    };
    let obj = v
        .as_object()
        .ok_or_else(|| "config must be an object".to_owned())?;
    let bool_of = |k: &str, v: &Value| {
        v.as_bool()
            .ok_or_else(|| format!("config.{k} must be true or false"))
    };
    for (k, v) in obj {
        match k.as_str() {
            "implicit_add" => c.implicit_add = bool_of(k, v)?,
            "list_queries" => c.list_queries = bool_of(k, v)?,
            "tnds" => c.tnds = bool_of(k, v)?,
            "root_acl" => {
                c.root_acl = v
                    .as_str()
                    .ok_or_else(|| "config.root_acl must be a string".to_owned())?
                    .to_owned();
            }
            "max_title_len" => {
                c.max_title_len = v
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| "config.max_title_len must be a number".to_owned())?;
            }
            "optional_props" => {
                let names = v
                    .as_array()
                    .ok_or_else(|| "config.optional_props must be an array".to_owned())?;
                c.optional_props = names.iter().map(optional_prop).collect::<Result<_, _>>()?;
            }
            "max_obj_size" => {
                max_obj_size = Some(
                    v.as_u64()
                        .ok_or_else(|| "config.max_obj_size must be a number".to_owned())?,
                );
            }
            other => return Err(format!("config: unknown setting {other:?}")),
        }
    }
    Ok((c, max_obj_size))
}

/// One name of `config.optional_props`: Size, Title, TStamp or VerNo (facts §4.3).
fn optional_prop(name: &Value) -> Result<Property, String> {
    name.as_str()
        .and_then(Property::from_name)
        .filter(|p| {
            matches!(
                p,
                Property::Size | Property::Title | Property::TStamp | Property::VerNo
            )
        })
        .ok_or_else(|| format!("config.optional_props: {name} is not Size, Title, TStamp or VerNo"))
}

fn item_status_json(i: &dm_tree::ItemStatus) -> Value {
    let mut m = Map::new();
    if let Some(t) = &i.target {
        m.insert("target".into(), json!(t));
    }
    if let Some(s) = &i.source {
        m.insert("source".into(), json!(s));
    }
    m.insert("code".into(), json!(i.code.as_u16()));
    Value::Object(m)
}

fn locs_json(target: &Option<String>, source: &Option<String>) -> Value {
    let mut m = Map::new();
    if let Some(t) = target {
        m.insert("target".into(), json!(t));
    }
    if let Some(s) = source {
        m.insert("source".into(), json!(s));
    }
    Value::Object(m)
}

/// The JSON form of one command outcome (see the README).
pub fn outcome_json(o: &CommandOutcome) -> Result<Value, String> {
    let mut m = Map::new();
    m.insert("cmd".into(), json!(o.cmd));
    m.insert("cmd_id".into(), json!(o.cmd_id));
    m.insert("code".into(), json!(o.code.as_u16()));
    if !o.items.is_empty() {
        m.insert(
            "items".into(),
            Value::Array(o.items.iter().map(item_status_json).collect()),
        );
    }
    if !o.results.is_empty() {
        m.insert(
            "results".into(),
            serde_json::to_value(&o.results).map_err(|e| e.to_string())?,
        );
    }
    if !o.children.is_empty() {
        m.insert(
            "children".into(),
            Value::Array(
                o.children
                    .iter()
                    .map(outcome_json)
                    .collect::<Result<_, _>>()?,
            ),
        );
    }
    if let Some((t, s)) = &o.broken_chunk {
        m.insert("broken_chunk".into(), locs_json(t, s));
    }
    Ok(Value::Object(m))
}

/// The pretty TNDS XML of an exported tree, ending with one newline.
pub fn tnds_text(tree: &MgmtTree) -> Result<String, String> {
    let mut s = TndsDocument::from_tree(tree.clone())
        .to_xml(true)
        .map_err(|e| format!("the end tree cannot be written as XML: {e}"))?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

/// Create the nodes of `start.xml` as the device: every node, pre-order, with its Format, Type,
/// value (base64 for `bin`), ACL and Title; no ACL or DDF checks apply to the device.
fn load_start(tree: &mut Tree, doc: &MgmtTree) -> Result<(), String> {
    let mut stack: Vec<(String, &Node)> = Vec::new();
    for n in doc.nodes.iter().rev() {
        let base = match n.path.as_deref().map(|p| p.trim_end_matches('/')) {
            None | Some("" | ".") => ".".to_owned(),
            Some(p) if p.starts_with("./") => p.to_owned(),
            Some(p) => format!("./{p}"),
        };
        stack.push((base, n));
    }
    while let Some((parent, n)) = stack.pop() {
        let name = dm_protocol::uri::escape_name(&n.name);
        let uri = if parent == "." {
            format!("./{name}")
        } else {
            format!("{parent}/{name}")
        };
        let rt =
            n.rt.as_ref()
                .ok_or_else(|| format!("{uri}: no RTProperties"))?;
        let format = rt.format.unwrap_or(match n.content {
            NodeContent::Children(_) => Format::Node,
            NodeContent::Value(_) => Format::Chr,
        });
        let type_ = match &rt.type_ {
            Some(NodeType::Mime(t) | NodeType::DdfName(t)) => t.clone(),
            None => return Err(format!("{uri}: no Type")),
        };
        let value = match (format, n.value()) {
            (Format::Node, _) => None,
            (Format::Bin, v) => Some(
                base64::engine::general_purpose::STANDARD
                    .decode(v.unwrap_or_default().trim())
                    .map_err(|e| format!("{uri}: a bin Value must be base64: {e}"))?,
            ),
            (_, v) => Some(v.unwrap_or_default().as_bytes().to_vec()),
        };
        let new = NewNode {
            format: Some(format),
            type_: Some(type_),
            value,
        };
        tree.add(&Principal::Local, &uri, new)
            .map_err(|e| format!("{uri}: {e}"))?;
        if let Some(acl) = rt.acl.as_deref().filter(|a| !a.is_empty()) {
            tree.replace_prop(&Principal::Local, &uri, Property::Acl, acl)
                .map_err(|e| format!("{uri}: ACL: {e}"))?;
        }
        if let Some(title) = &rt.title {
            tree.replace_prop(&Principal::Local, &uri, Property::Title, title)
                .map_err(|e| format!("{uri}: Title: {e}"))?;
        }
        for c in n.children().iter().rev() {
            stack.push((uri.clone(), c));
        }
    }
    Ok(())
}

fn str_field<'a>(v: &'a Value, key: &str, what: &str) -> Result<&'a str, String> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what}: missing string {key:?}"))
}

fn run_case(case: &Path, id: &str) -> Result<(), String> {
    let manifest = read_json(&case.join("case.json"))?;
    if str_field(&manifest, "id", "case.json")? != id {
        return Err(format!("case.json id differs from the folder name {id:?}"));
    }
    str_field(&manifest, "description", "case.json")?;
    if !manifest
        .get("facts")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty() && f.iter().all(Value::is_string))
    {
        return Err("case.json: facts must be a non-empty array of strings".into());
    }
    let standard_mos = manifest
        .get("standard_mos")
        .and_then(Value::as_bool)
        .ok_or("case.json: missing bool \"standard_mos\"")?;
    let clock = manifest
        .get("clock")
        .and_then(Value::as_u64)
        .ok_or("case.json: missing number \"clock\" (Unix seconds)")?;
    let (cfg, max_obj_size) = config(manifest.get("config"))?;
    let steps = manifest
        .get("steps")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or("case.json: steps must be a non-empty array")?;

    let clock = ManualClock::at(clock);
    let mut tree = Tree::with_clock(cfg, Arc::new(clock.clone()));
    if standard_mos {
        dm_tree::standard::load_standard_ddfs(&mut tree)
            .map_err(|e| format!("loading the standard DDFs failed: {e}"))?;
    }
    let start_path = case.join("start.xml");
    let start_bytes =
        std::fs::read(&start_path).map_err(|e| format!("{}: {e}", start_path.display()))?;
    let start = TndsDocument::parse_xml(&start_bytes).map_err(|e| format!("start.xml: {e}"))?;
    if let Some(v) = start.violations.first() {
        return Err(format!("start.xml breaks the DTD: {v}"));
    }
    load_start(&mut tree, &start.tree).map_err(|e| format!("start.xml: {e}"))?;

    let mut actual_steps = Vec::new();
    for (n, step) in steps.iter().enumerate() {
        let what = format!("case.json steps[{n}]");
        let server = str_field(step, "server", &what)?;
        let message = str_field(step, "message", &what)?;
        match step.get("clock") {
            None => {}
            Some(t) => clock.set(
                t.as_u64()
                    .ok_or_else(|| format!("{what}: clock must be a number"))?,
            ),
        }
        let path = case.join(message);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let decoded = codec::decode(&bytes, DecodeOptions::LENIENT)
            .map_err(|e| format!("{message}: does not decode: {e}"))?;
        if let Some(v) = decoded.violations.first() {
            return Err(format!("{message}: representation violation: {v}"));
        }
        let who = Principal::server(server);
        let mut p = Processor::new();
        p.max_obj_size = max_obj_size;
        let mut outcomes = Vec::new();
        for cmd in &decoded.message.body.commands {
            if matches!(cmd, Command::Status(_)) {
                continue;
            }
            let o = p.process(&mut tree, &who, cmd, &mut NoHooks);
            outcomes.push(outcome_json(&o)?);
        }
        let mut s = Map::new();
        s.insert("message".into(), json!(message));
        s.insert("server".into(), json!(server));
        s.insert("outcomes".into(), Value::Array(outcomes));
        if let Some((t, src)) = p.abandon_chunk() {
            s.insert("unfinished_chunk".into(), locs_json(&t, &src));
        }
        actual_steps.push(Value::Object(s));
    }
    let actual = json!({ "steps": actual_steps });

    let filter: TndsFilter = END_FILTER
        .parse()
        .map_err(|e| format!("END_FILTER does not parse: {e}"))?;
    let end = tree
        .export_tnds(&NodeUri::root(), &filter)
        .map_err(|e| format!("exporting the end tree failed: {e}"))?;
    let end_xml = tnds_text(&end)?;

    let expected_path = case.join("expected.json");
    let end_path = case.join("end.xml");
    if blessing() {
        write_text(&expected_path, &pretty_json(&actual))?;
        return write_text(&end_path, &end_xml);
    }
    let mut problems = Vec::new();
    match read_json(&expected_path) {
        Ok(expected) => {
            if let Err(d) = compare_json(&expected, &actual) {
                problems.push(format!("outcomes differ:\n{d}"));
            }
        }
        Err(e) => problems.push(e),
    }
    match read_text(&end_path) {
        Ok(want) => {
            if want != end_xml {
                problems.push(format!(
                    "end tree differs:\n{}",
                    unified_diff(&want, &end_xml)
                ));
            }
        }
        Err(e) => problems.push(e),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
