//! A minimal Gherkin tag scanner: enough to know each scenario's tags, not a Gherkin parser.
//!
//! Tags written above `Feature:` (and `Rule:`) apply to every scenario below them; tags above
//! `Scenario:`/`Example:`/`Scenario Outline:`/`Scenario Template:` apply to that scenario;
//! tags above `Examples:`/`Scenarios:` are added to the outline they belong to. Comment lines
//! (`#`) and doc strings (`"""` or ```` ``` ````) are skipped.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::CoverageError;

/// One scenario (or scenario outline) with all the tags that apply to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scenario {
    /// The feature file, relative to the scanned features folder.
    pub file: PathBuf,
    /// The 1-based line of the `Scenario` keyword.
    pub line: usize,
    /// The scenario's title.
    pub name: String,
    /// Every tag that applies, in order (feature, rule, scenario, examples), with the `@`.
    pub tags: Vec<String>,
}

impl Scenario {
    /// The `@id:` value, if tagged (the first one when there are several).
    pub fn id(&self) -> Option<&str> {
        self.tags.iter().find_map(|t| t.strip_prefix("@id:"))
    }

    /// Every label named by `@req:` tags (`@req:A,B` names two).
    pub fn reqs(&self) -> Vec<&str> {
        self.tags
            .iter()
            .filter_map(|t| t.strip_prefix("@req:"))
            .flat_map(|v| v.split(','))
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// `file:line`, for messages.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file.display(), self.line)
    }
}

/// Scan every `*.feature` file under `dir` (recursively, in sorted path order).
///
/// A missing folder is an error; an empty one yields no scenarios.
pub fn scan_dir(dir: &Path) -> Result<Vec<Scenario>, CoverageError> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = super::catalog::read(&f)?;
        let rel = f.strip_prefix(dir).unwrap_or(&f).to_path_buf();
        out.extend(scan_str(&rel, &text));
    }
    Ok(out)
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), CoverageError> {
    let io = |source| CoverageError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "feature") {
            files.push(path);
        }
    }
    Ok(())
}

/// Scan one feature file's text; `file` is recorded in each scenario.
pub fn scan_str(file: &Path, text: &str) -> Vec<Scenario> {
    let mut out: Vec<Scenario> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    let mut feature_tags: Vec<String> = Vec::new();
    let mut rule_tags: Vec<String> = Vec::new();
    let mut in_outline = false;
    let mut doc_string: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(fence) = doc_string {
            if line.starts_with(fence) {
                doc_string = None;
            }
            continue;
        }
        if line.starts_with("\"\"\"") || line.starts_with("```") {
            doc_string = Some(&line[..3]);
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('@') {
            // Tags up to a trailing comment.
            let tags_part = line.split(" #").next().unwrap_or(line);
            pending.extend(
                tags_part
                    .split_whitespace()
                    .filter(|t| t.starts_with('@'))
                    .map(str::to_owned),
            );
            continue;
        }
        let keyword = |k: &str| line.strip_prefix(k).map(str::trim);
        if keyword("Feature:").is_some() {
            feature_tags = std::mem::take(&mut pending);
            rule_tags.clear();
            in_outline = false;
        } else if keyword("Rule:").is_some() {
            rule_tags = std::mem::take(&mut pending);
            in_outline = false;
        } else if keyword("Background:").is_some() {
            pending.clear();
            in_outline = false;
        } else if let Some((name, outline)) = scenario_title(line) {
            let mut tags = feature_tags.clone();
            tags.extend(rule_tags.iter().cloned());
            tags.append(&mut pending);
            out.push(Scenario {
                file: file.to_path_buf(),
                line: i + 1,
                name: name.to_owned(),
                tags,
            });
            in_outline = outline;
        } else if keyword("Examples:").is_some() || keyword("Scenarios:").is_some() {
            let tags = std::mem::take(&mut pending);
            if in_outline {
                if let Some(s) = out.last_mut() {
                    for t in tags {
                        if !s.tags.contains(&t) {
                            s.tags.push(t);
                        }
                    }
                }
            }
        } else {
            // A step or table row: tags above it would be misplaced; drop them.
            pending.clear();
        }
    }
    out
}

/// `Some((title, is_outline))` for a scenario keyword line.
fn scenario_title(line: &str) -> Option<(&str, bool)> {
    for (k, outline) in [
        ("Scenario Outline:", true),
        ("Scenario Template:", true),
        ("Scenario:", false),
        ("Example:", false),
    ] {
        if let Some(rest) = line.strip_prefix(k) {
            return Some((rest.trim(), outline));
        }
    }
    None
}
