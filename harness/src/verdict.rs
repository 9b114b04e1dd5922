//! Verdicts (shared/docs/conformance-model.md "Verdicts"): what a scenario's run says about
//! the implementation under test, whether a scenario applies to it at all, and the exit code
//! of a run.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::profile::{Feature, Profile, Role};

/// The verdict of one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The IUT did what the requirement asks.
    Pass,
    /// The IUT contradicted a requirement.
    Fail,
    /// The scenario needs a feature the IUT does not claim, or tests the other role.
    NotApplicable,
    /// No answer in time, or the adapter failed: the IUT was not shown wrong.
    Inconclusive,
    /// The harness itself failed.
    Error,
}

impl Verdict {
    /// The results-file spelling (`pass`, `fail`, `not-applicable`, `inconclusive`,
    /// `error`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NotApplicable => "not-applicable",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Error => "error",
        }
    }
}

/// The level of a scenario's requirement (tags `@must`, `@should`, `@may`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// MUST / SHALL.
    Must,
    /// SHOULD.
    Should,
    /// MAY.
    May,
}

/// What a scenario's tags say (shared/docs/conformance-model.md "Scenario anatomy").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioTags {
    /// `@id:<AREA>-<NNN>`.
    pub id: String,
    /// `@req:<LABEL>`, one or more.
    pub reqs: Vec<String>,
    /// `@client` or `@server`.
    pub role: Role,
    /// `@must`, `@should` or `@may`.
    pub level: Level,
    /// `@ics:<feature>`: every feature the scenario needs.
    pub needs: BTreeSet<Feature>,
}

/// Why tags do not make a runnable scenario.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TagError {
    /// A required tag is missing.
    #[error("no {0} tag")]
    Missing(&'static str),
    /// A tag appears twice where one is allowed.
    #[error("more than one {0} tag")]
    Repeated(&'static str),
    /// An `@ics:` tag names no known feature.
    #[error("{0}")]
    UnknownFeature(String),
}

impl ScenarioTags {
    /// Read the tags of a scenario (with or without the leading `@`).
    pub fn parse<'a>(tags: impl IntoIterator<Item = &'a str>) -> Result<Self, TagError> {
        let mut id = None;
        let mut reqs = Vec::new();
        let mut role = None;
        let mut level = None;
        let mut needs = BTreeSet::new();
        for t in tags {
            let t = t.strip_prefix('@').unwrap_or(t);
            if let Some(v) = t.strip_prefix("id:") {
                if id.is_some() {
                    return Err(TagError::Repeated("@id:"));
                }
                id = Some(v.to_owned());
            } else if let Some(v) = t.strip_prefix("req:") {
                reqs.push(v.to_owned());
            } else if let Some(v) = t.strip_prefix("ics:") {
                needs.insert(v.parse().map_err(TagError::UnknownFeature)?);
            } else {
                match t {
                    "client" => once(&mut role, Role::Client, "role")?,
                    "server" => once(&mut role, Role::Server, "role")?,
                    "must" => once(&mut level, Level::Must, "level")?,
                    "should" => once(&mut level, Level::Should, "level")?,
                    "may" => once(&mut level, Level::May, "level")?,
                    _ => {}
                }
            }
        }
        if reqs.is_empty() {
            return Err(TagError::Missing("@req:"));
        }
        Ok(ScenarioTags {
            id: id.ok_or(TagError::Missing("@id:"))?,
            reqs,
            role: role.ok_or(TagError::Missing("@client or @server"))?,
            level: level.ok_or(TagError::Missing("@must, @should or @may"))?,
            needs,
        })
    }

    /// Whether the scenario applies to `profile`: the right role and every needed feature
    /// claimed. `Err` names what makes it not applicable.
    pub fn applies_to(&self, profile: &Profile) -> Result<(), String> {
        if self.role != profile.implementation.role {
            return Err(format!(
                "tests a {}, the IUT is a {}",
                self.role.tag(),
                profile.implementation.role.tag()
            ));
        }
        let missing: Vec<&str> = self
            .needs
            .iter()
            .filter(|f| !profile.claims(**f))
            .map(|f| f.name())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "feature not claimed in the ICS: {}",
                missing.join(", ")
            ))
        }
    }
}

fn once<T>(slot: &mut Option<T>, v: T, name: &'static str) -> Result<(), TagError> {
    if slot.is_some() {
        return Err(TagError::Repeated(name));
    }
    *slot = Some(v);
    Ok(())
}

/// The exit code of a run (issue 7 item 9): 2 when the harness failed on any scenario (an
/// `error` verdict); else 1 when any applicable mandatory scenario did not pass (`fail` or
/// `inconclusive`); else 0. SHOULD and MAY scenarios are reported but do not fail a run.
pub fn exit_code(results: impl IntoIterator<Item = (Level, Verdict)>) -> u8 {
    let mut code = 0;
    for (level, verdict) in results {
        match verdict {
            Verdict::Error => return 2,
            Verdict::Fail | Verdict::Inconclusive if level == Level::Must => code = 1,
            _ => {}
        }
    }
    code
}
