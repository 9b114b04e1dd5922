//! TNDS/DDF vectors (`vectors/tnds/`, format in its README.md). Facts §9, §4.3, §4.6.
//!
//! One folder per case: `input.xml`, `expected.json` and, unless the case expects a hard
//! error, `canonical.xml`. Each case checks, in order: decoding (error kind, or tree JSON,
//! document kind and violations), the §9.2 TNDS rules when asked for, the canonical XML, that
//! the canonical XML decodes to the same tree, that the tree survives a WBXML round trip
//! (facts §12.5), and that the expected JSON deserialises to a tree whose canonical XML is the
//! expected one.

use std::path::Path;

use dm_protocol::dom::Pos;
use dm_protocol::tnds::{MgmtTree, TndsDocument};
use dm_protocol::violation::Violation;
use serde_json::{json, Value};

use super::{case_dirs, compare_json, read_json, unified_diff, Outcome};

/// Check every case folder under `dir` (sorted by name).
pub fn check(dir: &Path) -> Vec<Outcome> {
    let cases = match case_dirs(dir) {
        Ok(cases) => cases,
        Err(why) => {
            return vec![Outcome::fail(
                "tnds",
                dir,
                format!("cannot list vectors: {why}"),
            )]
        }
    };
    cases
        .iter()
        .map(|case| {
            let id = case
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match check_case(case) {
                Ok(()) => Outcome::pass(id, case),
                Err(why) => Outcome::fail(id, case, why),
            }
        })
        .collect()
}

fn violations_json(violations: &[Violation]) -> Value {
    Value::Array(
        violations
            .iter()
            .map(|v| match v.pos {
                Pos::Xml { line, column } => {
                    json!({"kind": v.kind.name(), "line": line, "column": column})
                }
                _ => json!({"kind": v.kind.name()}),
            })
            .collect(),
    )
}

fn with_context(what: &str, r: Result<(), String>) -> Result<(), String> {
    r.map_err(|d| format!("{what} differs:\n{d}"))
}

fn check_case(case: &Path) -> Result<(), String> {
    let input_path = case.join("input.xml");
    let input = std::fs::read(&input_path).map_err(|e| format!("{}: {e}", input_path.display()))?;
    let expected = read_json(&case.join("expected.json"))?;

    let parsed = TndsDocument::parse_xml(&input);
    if let Some(kind) = expected.get("error") {
        return match parsed {
            Err(e) => with_context("error kind", compare_json(kind, &json!(e.kind()))),
            Ok(doc) => Err(format!(
                "expected error {kind}, but the input decoded:\n{}",
                serde_json::to_string_pretty(&doc.tree).unwrap_or_default()
            )),
        };
    }
    let doc = parsed.map_err(|e| format!("expected a tree, got error: {e}"))?;

    let tree = serde_json::to_value(&doc.tree).map_err(|e| e.to_string())?;
    let want_tree = expected.get("tree").cloned().unwrap_or(Value::Null);
    with_context("tree", compare_json(&want_tree, &tree))?;
    let kind = serde_json::to_value(doc.kind()).map_err(|e| e.to_string())?;
    with_context(
        "kind",
        compare_json(expected.get("kind").unwrap_or(&Value::Null), &kind),
    )?;
    let want_violations = expected.get("violations").cloned().unwrap_or(json!([]));
    with_context(
        "violations",
        compare_json(&want_violations, &violations_json(&doc.violations)),
    )?;
    if let Some(want) = expected.get("tnds_violations") {
        let importing = expected
            .get("importing")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        with_context(
            "tnds_violations",
            compare_json(want, &violations_json(&doc.tnds_violations(importing))),
        )?;
    }

    let canonical_path = case.join("canonical.xml");
    let want_xml = std::fs::read_to_string(&canonical_path)
        .map_err(|e| format!("{}: {e}", canonical_path.display()))?;
    let want_xml = want_xml.trim_end_matches('\n');
    let xml = doc.to_xml(false).map_err(|e| e.to_string())?;
    if xml != want_xml {
        return Err(format!(
            "canonical XML differs:\n{}",
            unified_diff(&format!("{want_xml}\n"), &format!("{xml}\n"))
        ));
    }

    let again = TndsDocument::parse_xml(want_xml.as_bytes())
        .map_err(|e| format!("canonical.xml does not decode: {e}"))?;
    let again_tree = serde_json::to_value(&again.tree).map_err(|e| e.to_string())?;
    with_context(
        "tree decoded from canonical.xml",
        compare_json(&want_tree, &again_tree),
    )?;
    if want_violations.as_array().is_some_and(Vec::is_empty) && !again.violations.is_empty() {
        return Err(format!(
            "canonical.xml has violations: {}",
            violations_json(&again.violations)
        ));
    }

    let wbxml = doc
        .to_wbxml()
        .map_err(|e| format!("canonical tree does not encode as WBXML: {e}"))?;
    let from_wbxml = TndsDocument::parse_wbxml(&wbxml)
        .map_err(|e| format!("WBXML encoding does not decode: {e}"))?;
    let wbxml_tree = serde_json::to_value(&from_wbxml.tree).map_err(|e| e.to_string())?;
    with_context(
        "tree decoded from WBXML",
        compare_json(&want_tree, &wbxml_tree),
    )?;

    let model: MgmtTree = serde_json::from_value(want_tree)
        .map_err(|e| format!("expected tree JSON does not deserialise: {e}"))?;
    let from_json = TndsDocument::from_tree(model)
        .to_xml(false)
        .map_err(|e| e.to_string())?;
    if from_json != want_xml {
        return Err(format!(
            "canonical XML of the expected JSON differs:\n{}",
            unified_diff(&format!("{want_xml}\n"), &format!("{from_json}\n"))
        ));
    }
    Ok(())
}
