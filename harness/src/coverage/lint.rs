//! `dmconf coverage --lint`: consistency between the catalog, the scenarios and the pending
//! list.
//!
//! The "uncovered" check (a protocol-testable MUST/SHALL requirement no scenario tags and the
//! pending list does not excuse) applies only once the features folder holds at least one
//! scenario: before the harness exists, everything would be uncovered.

use std::collections::{BTreeMap, BTreeSet};

use super::{Inputs, Testability};

/// One lint problem. `kind()` gives a stable name per variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LintError {
    /// A scenario's `@req:` tag names a label the catalog does not have.
    #[error("{location}: scenario {scenario:?} tags unknown label @req:{label}")]
    UnknownLabel {
        /// `file:line` of the scenario.
        location: String,
        /// The scenario's title.
        scenario: String,
        /// The unknown label.
        label: String,
    },
    /// Two scenarios carry the same `@id:`.
    #[error("duplicate scenario @id:{id} at {first} and {second}")]
    DuplicateId {
        /// The id.
        id: String,
        /// `file:line` of the first scenario.
        first: String,
        /// `file:line` of the second scenario.
        second: String,
    },
    /// A catalog entry has no source section.
    #[error("catalog entry {label} has no source section")]
    MissingSection {
        /// The entry's label.
        label: String,
    },
    /// A protocol-testable MUST/SHALL requirement has no scenario and is not pending.
    #[error("{label} ({level}, protocol-testable) is covered by no scenario and is not on the pending list")]
    Uncovered {
        /// The entry's label.
        label: String,
        /// Its level.
        level: &'static str,
    },
    /// The pending list names a label the catalog does not have.
    #[error("pending list names unknown label {label}")]
    PendingUnknown {
        /// The label.
        label: String,
    },
    /// The pending list still names a label that scenarios now cover: remove it.
    #[error("pending list still names {label}, which scenario(s) {scenarios} cover: remove it")]
    PendingCovered {
        /// The label.
        label: String,
        /// The covering scenario ids, comma-separated.
        scenarios: String,
    },
    /// Two catalog entries share a label.
    #[error("catalog label {label} appears {count} times")]
    DuplicateLabel {
        /// The label.
        label: String,
        /// How many entries carry it.
        count: usize,
    },
    /// An untestable entry gives no reason.
    #[error("catalog entry {label} is untestable but gives no reason")]
    UntestableWithoutReason {
        /// The entry's label.
        label: String,
    },
    /// A `related` link names a label the catalog does not have.
    #[error("catalog entry {label} is related to unknown label {related}")]
    UnknownRelated {
        /// The entry's label.
        label: String,
        /// The unknown related label.
        related: String,
    },
}

impl LintError {
    /// A stable name for the kind of problem.
    pub fn kind(&self) -> &'static str {
        match self {
            LintError::UnknownLabel { .. } => "unknown-label",
            LintError::DuplicateId { .. } => "duplicate-id",
            LintError::MissingSection { .. } => "missing-section",
            LintError::Uncovered { .. } => "uncovered",
            LintError::PendingUnknown { .. } => "pending-unknown",
            LintError::PendingCovered { .. } => "pending-covered",
            LintError::DuplicateLabel { .. } => "duplicate-label",
            LintError::UntestableWithoutReason { .. } => "untestable-without-reason",
            LintError::UnknownRelated { .. } => "unknown-related",
        }
    }
}

/// Run every check.
pub fn lint(inputs: &Inputs) -> Vec<LintError> {
    let mut out = Vec::new();
    let cat = &inputs.catalog;

    // Catalog checks.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &cat.entries {
        *counts.entry(e.label.as_str()).or_default() += 1;
    }
    for (label, count) in &counts {
        if *count > 1 {
            out.push(LintError::DuplicateLabel {
                label: (*label).to_owned(),
                count: *count,
            });
        }
    }
    for e in &cat.entries {
        if e.section.is_none() {
            out.push(LintError::MissingSection {
                label: e.label.clone(),
            });
        }
        if e.testability == Testability::Untestable && e.reason.is_none() {
            out.push(LintError::UntestableWithoutReason {
                label: e.label.clone(),
            });
        }
        for r in &e.related {
            if !counts.contains_key(r.as_str()) {
                out.push(LintError::UnknownRelated {
                    label: e.label.clone(),
                    related: r.clone(),
                });
            }
        }
    }

    // Scenario checks.
    let mut first_by_id: BTreeMap<&str, String> = BTreeMap::new();
    let mut covering: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for s in &inputs.scenarios {
        if let Some(id) = s.id() {
            match first_by_id.get(id) {
                Some(first) => out.push(LintError::DuplicateId {
                    id: id.to_owned(),
                    first: first.clone(),
                    second: s.location(),
                }),
                None => {
                    first_by_id.insert(id, s.location());
                }
            }
        }
        for label in s.reqs() {
            if counts.contains_key(label) {
                covering
                    .entry(label)
                    .or_default()
                    .insert(s.id().map_or_else(|| s.location(), str::to_owned));
            } else {
                out.push(LintError::UnknownLabel {
                    location: s.location(),
                    scenario: s.name.clone(),
                    label: label.to_owned(),
                });
            }
        }
    }

    // Pending-list checks.
    for label in inputs.pending.entries.keys() {
        if !counts.contains_key(label.as_str()) {
            out.push(LintError::PendingUnknown {
                label: label.clone(),
            });
        } else if let Some(ids) = covering.get(label.as_str()) {
            out.push(LintError::PendingCovered {
                label: label.clone(),
                scenarios: ids.iter().cloned().collect::<Vec<_>>().join(", "),
            });
        }
    }

    // Uncovered mandatory protocol requirements, once any scenario exists.
    if !inputs.scenarios.is_empty() {
        for e in &cat.entries {
            if e.testability == Testability::Protocol
                && e.level.is_mandatory()
                && !covering.contains_key(e.label.as_str())
                && !inputs.pending.entries.contains_key(&e.label)
            {
                out.push(LintError::Uncovered {
                    label: e.label.clone(),
                    level: e.level.as_str(),
                });
            }
        }
    }
    out
}
