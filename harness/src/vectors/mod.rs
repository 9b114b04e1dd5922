//! The golden-vector checker behind `dmconf vectors check`.
//!
//! Vectors live under `vectors/` in one folder per category (`codec/`, `auth/`, `pkg0/`,
//! `uri/`, `acl/`, `tnds/`). The format of each category is described in the README of its
//! folder; `vectors/README.md` is the index. Each category module turns its files into
//! [`Outcome`]s; a mismatch carries a unified diff made with `similar`.

use std::path::{Path, PathBuf};

/// The result of checking one vector.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The vector's id (unique within its category).
    pub id: String,
    /// The file (or folder) the vector came from.
    pub source: PathBuf,
    /// `Ok` when the vector passed; otherwise what differed, as readable text (often a diff).
    pub result: Result<(), String>,
}

impl Outcome {
    /// A passing outcome.
    pub fn pass(id: impl Into<String>, source: &Path) -> Self {
        Outcome {
            id: id.into(),
            source: source.to_path_buf(),
            result: Ok(()),
        }
    }

    /// A failing outcome with a reason.
    pub fn fail(id: impl Into<String>, source: &Path, why: impl Into<String>) -> Self {
        Outcome {
            id: id.into(),
            source: source.to_path_buf(),
            result: Err(why.into()),
        }
    }
}

/// A unified diff of two texts, labelled `expected` and `actual`.
pub fn unified_diff(expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string()
}

/// Pretty JSON of a value, with a trailing newline, the form every expected-JSON file uses.
pub fn pretty_json(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// Compare an expected JSON value with an actual one; on mismatch, a unified diff of their
/// pretty forms.
pub fn compare_json(
    expected: &serde_json::Value,
    actual: &serde_json::Value,
) -> Result<(), String> {
    if expected == actual {
        Ok(())
    } else {
        Err(unified_diff(&pretty_json(expected), &pretty_json(actual)))
    }
}

/// Read and parse a JSON file, with an error that names the file.
pub fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: invalid JSON: {e}", path.display()))
}

pub mod tnds;
