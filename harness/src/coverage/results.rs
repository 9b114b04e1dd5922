//! A run's results file.
//!
//! Provisional shape, until the harness writes `results.json` (issue 7):
//! `{"scenarios":[{"id":"TREE-001","verdict":"pass"}]}` with the verdicts of
//! `shared/docs/conformance-model.md` (`pass`, `fail`, `not-applicable`, `inconclusive`,
//! `error`). Unknown fields are ignored so the harness can add more.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::CoverageError;

pub use crate::verdict::Verdict;

#[derive(Deserialize)]
struct RawResults {
    scenarios: Vec<RawResult>,
}

#[derive(Deserialize)]
struct RawResult {
    id: String,
    verdict: Verdict,
}

/// Scenario id → verdict.
pub type Results = BTreeMap<String, Verdict>;

/// Read a results file.
pub fn load(path: &Path) -> Result<Results, CoverageError> {
    let text = super::catalog::read(path)?;
    parse(path, &text)
}

/// Parse results text; `path` only names the file in errors.
pub fn parse(path: &Path, text: &str) -> Result<Results, CoverageError> {
    let raw: RawResults = serde_json::from_str(text).map_err(|e| CoverageError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(raw
        .scenarios
        .into_iter()
        .map(|r| (r.id, r.verdict))
        .collect())
}
