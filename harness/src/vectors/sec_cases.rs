//! Shared loader for the case-list vector categories (`auth`, `pkg0`, `uri`, `acl`).
//!
//! Each `*.json` file of a category folder is `{"format", "category", "cases": [...]}`; each
//! case has `id`, `description`, `op`, `input` and exactly one of `expect` (an object) or
//! `error` (a snake_case error kind, optionally with `status`). The checker compares the
//! expected outcome `{"expect": ...}` / `{"error": ..., "status": ...}` with the actual one
//! built by the category's `op` function, as a unified JSON diff.

use super::{compare_json, read_json, Outcome};
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Runs one case's operation: `(op, input)` → actual outcome JSON, or `Err` if the vector
/// itself is malformed (unknown op, missing field).
pub(crate) type OpFn = dyn Fn(&str, &Value) -> Result<Value, String>;

/// Check every case of every `*.json` file in `dir` (sorted by file name).
pub(crate) fn run(dir: &Path, category: &str, op: &OpFn) -> Vec<Outcome> {
    let files = match json_files(dir) {
        Ok(f) => f,
        Err(e) => return vec![Outcome::fail(category, dir, e)],
    };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for file in files {
        let doc = match read_json(&file) {
            Ok(d) => d,
            Err(e) => {
                out.push(Outcome::fail(file.display().to_string(), &file, e));
                continue;
            }
        };
        if doc.get("category").and_then(Value::as_str) != Some(category) {
            out.push(Outcome::fail(
                file.display().to_string(),
                &file,
                format!("file does not declare \"category\": \"{category}\""),
            ));
            continue;
        }
        let Some(cases) = doc.get("cases").and_then(Value::as_array) else {
            out.push(Outcome::fail(
                file.display().to_string(),
                &file,
                "missing \"cases\" array",
            ));
            continue;
        };
        for (i, case) in cases.iter().enumerate() {
            let id = case
                .get("id")
                .and_then(Value::as_str)
                .map_or_else(|| format!("{}#{i}", file.display()), str::to_owned);
            if !seen.insert(id.clone()) {
                out.push(Outcome::fail(&id, &file, "duplicate case id in category"));
                continue;
            }
            out.push(match check_case(case, op) {
                Ok(()) => Outcome::pass(&id, &file),
                Err(why) => Outcome::fail(&id, &file, why),
            });
        }
    }
    out
}

fn check_case(case: &Value, op: &OpFn) -> Result<(), String> {
    for field in ["id", "description", "op"] {
        if case.get(field).and_then(Value::as_str).is_none() {
            return Err(format!("malformed vector: missing string field `{field}`"));
        }
    }
    let name = case.get("op").and_then(Value::as_str).unwrap_or_default();
    let input = case
        .get("input")
        .filter(|v| v.is_object())
        .ok_or("malformed vector: missing object field `input`")?;
    let expected = match (case.get("expect"), case.get("error")) {
        (Some(e), None) => json!({ "expect": e }),
        (None, Some(Value::String(kind))) => {
            let mut m = Map::new();
            m.insert("error".into(), json!(kind));
            if let Some(s) = case.get("status") {
                m.insert("status".into(), s.clone());
            }
            Value::Object(m)
        }
        _ => return Err("malformed vector: needs exactly one of `expect` or `error`".into()),
    };
    let actual = op(name, input)?;
    compare_json(&expected, &actual)
}

fn json_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// `{"expect": v}`.
pub(crate) fn expect(v: Value) -> Value {
    json!({ "expect": v })
}

/// `{"error": kind}`.
pub(crate) fn error(kind: &str) -> Value {
    json!({ "error": kind })
}

/// A string input field.
pub(crate) fn s<'a>(input: &'a Value, field: &str) -> Result<&'a str, String> {
    input
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("malformed vector: input.{field} must be a string"))
}

/// An unsigned integer input field.
pub(crate) fn uint(input: &Value, field: &str) -> Result<u64, String> {
    input
        .get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("malformed vector: input.{field} must be an unsigned integer"))
}

/// An optional boolean input field (absent = false).
pub(crate) fn flag(input: &Value, field: &str) -> bool {
    input.get(field).and_then(Value::as_bool).unwrap_or(false)
}

/// A hex input field (case-insensitive, even length).
pub(crate) fn hex(input: &Value, field: &str) -> Result<Vec<u8>, String> {
    let text = s(input, field)?;
    decode_hex(text)
        .ok_or_else(|| format!("malformed vector: input.{field} is not even-length hex"))
}

/// Decode hex text.
pub(crate) fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = char::from(*pair.first()?).to_digit(16)?;
            let lo = char::from(*pair.get(1)?).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

/// Lowercase hex of bytes.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The error for an unknown `op`.
pub(crate) fn unknown_op(category: &str, op: &str) -> String {
    format!("malformed vector: unknown {category} op {op:?}")
}
