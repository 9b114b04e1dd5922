//! Codec vectors: `vectors/codec/<id>/` — see `vectors/codec/README.md` for the format.
//!
//! For each case: the input decodes (leniently) to the expected model and violations; the
//! model encodes to the expected canonical XML and WBXML bytes; and the WBXML decodes back to
//! the same model.

use std::path::Path;

use dm_protocol::codec::{self, DecodeOptions, Encoding};
use dm_protocol::model::SyncMl;
use serde_json::{json, Value};

use super::{blessing, case_dirs, compare_json, pretty_json, read_json, unified_diff, Outcome};

/// Check every case folder under `dir`.
pub fn check(dir: &Path) -> Vec<Outcome> {
    match case_dirs(dir) {
        Ok(cases) => cases.iter().map(|c| check_case(c)).collect(),
        Err(e) => vec![Outcome::fail("codec", dir, e)],
    }
}

fn id_of(case: &Path) -> String {
    case.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Check one case folder.
pub fn check_case(case: &Path) -> Outcome {
    let id = id_of(case);
    match run_case(case) {
        Ok(()) => Outcome::pass(id, case),
        Err(why) => Outcome::fail(id, case, why),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|row| {
            row.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn run_case(case: &Path) -> Result<(), String> {
    let manifest_path = case.join("case.json");
    let mut manifest = read_json(&manifest_path)?;
    let xml_input = case.join("message.xml");
    let wbxml_file = case.join("message.wbxml");
    let input_path = if xml_input.exists() {
        xml_input
    } else {
        wbxml_file.clone()
    };
    let input = std::fs::read(&input_path).map_err(|e| format!("{}: {e}", input_path.display()))?;
    let bless = blessing();

    let decoded = match codec::decode(&input, DecodeOptions::LENIENT) {
        Ok(d) => d,
        Err(e) => {
            let actual = json!(e.kind());
            if bless {
                manifest["error"] = actual;
                return write_manifest(&manifest_path, &manifest);
            }
            return match manifest.get("error") {
                Some(expected) if *expected == actual => Ok(()),
                Some(expected) => Err(format!("expected error {expected}, got {actual}: {e}")),
                None => Err(format!("{}: does not decode: {e}", input_path.display())),
            };
        }
    };
    if let Some(expected) = manifest.get("error") {
        if !bless {
            return Err(format!("expected error {expected}, but the input decoded"));
        }
    }
    let model = serde_json::to_value(&decoded.message).map_err(|e| e.to_string())?;
    let violations: Value = decoded
        .violations
        .iter()
        .map(|v| json!({"kind": v.kind.name(), "at": v.pos.to_string()}))
        .collect();
    let canonical = codec::to_pretty_xml(&decoded.message).ok();
    let wbxml = codec::encode(&decoded.message, Encoding::Wbxml).map_err(|e| e.to_string())?;

    if bless {
        manifest["model"] = model;
        manifest["violations"] = violations;
        if let Some(obj) = manifest.as_object_mut() {
            obj.remove("error");
        }
        write_manifest(&manifest_path, &manifest)?;
        if let Some(c) = &canonical {
            std::fs::write(case.join("canonical.xml"), c).map_err(|e| e.to_string())?;
        }
        return std::fs::write(&wbxml_file, &wbxml).map_err(|e| e.to_string());
    }

    let mut problems = Vec::new();
    let expected_model = manifest.get("model").cloned().unwrap_or(Value::Null);
    if let Err(diff) = compare_json(&expected_model, &model) {
        problems.push(format!("decoded model differs:\n{diff}"));
    }
    let expected_violations = manifest.get("violations").cloned().unwrap_or(json!([]));
    if let Err(diff) = compare_json(&expected_violations, &violations) {
        problems.push(format!("violations differ:\n{diff}"));
    }
    let canonical_path = case.join("canonical.xml");
    if let (Some(actual), true) = (&canonical, canonical_path.exists()) {
        let expected = std::fs::read_to_string(&canonical_path).map_err(|e| e.to_string())?;
        if expected != *actual {
            problems.push(format!(
                "canonical XML differs:\n{}",
                unified_diff(&expected, actual)
            ));
        }
    }
    match std::fs::read(&wbxml_file) {
        Ok(expected) => {
            if expected != wbxml {
                problems.push(format!(
                    "WBXML encoding differs:\n{}",
                    unified_diff(&hex(&expected), &hex(&wbxml))
                ));
            }
            match codec::decode(&expected, DecodeOptions::LENIENT) {
                Ok(d) if d.message == decoded.message => {}
                Ok(d) => problems.push(format!(
                    "message.wbxml decodes to another model:\n{}",
                    model_diff(&decoded.message, &d.message)
                )),
                Err(e) => problems.push(format!("message.wbxml does not decode: {e}")),
            }
        }
        Err(e) => problems.push(format!("{}: {e}", wbxml_file.display())),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn model_diff(expected: &SyncMl, actual: &SyncMl) -> String {
    let e = serde_json::to_value(expected).unwrap_or(Value::Null);
    let a = serde_json::to_value(actual).unwrap_or(Value::Null);
    unified_diff(&pretty_json(&e), &pretty_json(&a))
}

fn write_manifest(path: &Path, manifest: &Value) -> Result<(), String> {
    std::fs::write(path, pretty_json(manifest)).map_err(|e| format!("{}: {e}", path.display()))
}
