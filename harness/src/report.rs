//! Run reports (issue 7 item 9): the canonical `results.json` (schema:
//! `docs/results.schema.json`), `junit.xml` with the requirement labels kept as properties,
//! `summary.md`, and the self-contained `index.html` (module [`crate::html`]: the
//! requirement × implementation grid and every scenario's exchange). A run's directory is
//! `reports/<run-id>/`.
//!
//! `results.json` is also what `dmconf coverage --results` reads (it takes `id` and
//! `verdict` of each scenario and ignores the rest).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

// junit.xml escapes with the HTML report's escaper (`&#39;` is valid XML too).
use crate::html::esc;
use crate::profile::{Implementation, Role};
use crate::verdict::{exit_code, Level, Verdict};

/// The `results.json` format version.
pub const FORMAT: u32 = 1;

/// One message of a scenario's exchange: the same record as the reference server's session
/// transcripts (`direction` `sent`/`received` seen from the tester).
pub use dm_server::model::TranscriptEntry as TranscriptLine;

/// One scenario's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// `@id:` (permanent).
    pub id: String,
    /// The scenario's title.
    pub name: String,
    /// The feature file, relative to the repository.
    pub feature: String,
    /// `@req:` labels.
    pub reqs: Vec<String>,
    /// The role tested.
    pub role: Role,
    /// The level.
    pub level: Level,
    /// The verdict.
    pub verdict: Verdict,
    /// Why, for every verdict but `pass`: the requirement, the expectation and what was
    /// received, or what made it not applicable / inconclusive / an error.
    pub reason: Option<String>,
    /// Milliseconds.
    pub duration_ms: u64,
    /// The seed of the scenario's randomness (replay it with `--seed`).
    pub seed: u64,
    /// Every message exchanged.
    pub transcript: Vec<TranscriptLine>,
    /// Unified diffs against golden vectors that did not match.
    pub diffs: Vec<String>,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    /// [`FORMAT`].
    pub format: u32,
    /// The run's id (its directory name under `reports/`).
    pub run_id: String,
    /// Unix seconds.
    pub started_at: u64,
    /// The run's seed.
    pub seed: u64,
    /// The `dmconf` version.
    pub dmconf_version: String,
    /// The implementations under test, one per role tested (a vendor run has one; the
    /// self-test has the reference client and the reference server). A scenario's
    /// implementation is the one whose role is the scenario's.
    pub implementations: Vec<Implementation>,
    /// Every scenario, in run order.
    pub scenarios: Vec<ScenarioReport>,
    /// Verdict name → how many.
    pub totals: BTreeMap<String, usize>,
    /// The run's exit code ([`exit_code`]).
    pub exit_code: u8,
}

/// Why reports could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the report {path}: {source}; check the report directory")]
pub struct ReportError {
    /// The file.
    pub path: std::path::PathBuf,
    /// The cause.
    pub source: std::io::Error,
}

impl RunReport {
    /// A report with its totals and exit code computed from `scenarios`.
    pub fn new(
        run_id: String,
        started_at: u64,
        seed: u64,
        implementations: Vec<Implementation>,
        scenarios: Vec<ScenarioReport>,
    ) -> Self {
        let mut totals = BTreeMap::new();
        for s in &scenarios {
            *totals.entry(s.verdict.as_str().to_owned()).or_insert(0) += 1;
        }
        let exit_code = exit_code(scenarios.iter().map(|s| (s.level, s.verdict)));
        RunReport {
            format: FORMAT,
            run_id,
            started_at,
            seed,
            dmconf_version: env!("CARGO_PKG_VERSION").to_owned(),
            implementations,
            scenarios,
            totals,
            exit_code,
        }
    }

    /// The implementation tested in `role`, if any.
    pub fn implementation(&self, role: Role) -> Option<&Implementation> {
        self.implementations.iter().find(|i| i.role == role)
    }

    /// "name version (vendor), role …" of every implementation, for titles.
    pub fn iut_names(&self) -> String {
        let names: Vec<String> = self
            .implementations
            .iter()
            .map(|i| {
                format!(
                    "{} {} ({}), role {}",
                    i.name,
                    i.version,
                    i.vendor,
                    i.role.tag()
                )
            })
            .collect();
        names.join("; ")
    }

    /// `results.json`.
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialization cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// `junit.xml`: one test case per scenario (`<skipped>` for not-applicable,
    /// `<failure>` for fail and inconclusive, `<error>` for harness errors), the requirement
    /// labels, level and role as properties.
    pub fn junit_xml(&self) -> String {
        let count = |v: Verdict| self.scenarios.iter().filter(|s| s.verdict == v).count();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"dmconf\"><testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            esc(&self.iut_names()),
            self.scenarios.len(),
            count(Verdict::Fail) + count(Verdict::Inconclusive),
            count(Verdict::Error),
            count(Verdict::NotApplicable),
        );
        for s in &self.scenarios {
            let _ = write!(
                out,
                "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"><properties>",
                esc(&s.feature),
                esc(&format!("{} {}", s.id, s.name)),
                s.duration_ms as f64 / 1000.0
            );
            for r in &s.reqs {
                let _ = write!(out, "<property name=\"requirement\" value=\"{}\"/>", esc(r));
            }
            let _ = write!(
                out,
                "<property name=\"level\" value=\"{}\"/><property name=\"role\" value=\"{}\"/></properties>",
                level_name(s.level),
                s.role.tag()
            );
            let reason = esc(s.reason.as_deref().unwrap_or(""));
            match s.verdict {
                Verdict::Pass => {}
                Verdict::NotApplicable => {
                    let _ = write!(out, "<skipped message=\"{reason}\"/>");
                }
                Verdict::Fail | Verdict::Inconclusive => {
                    let _ = write!(
                        out,
                        "<failure type=\"{}\" message=\"{reason}\"/>",
                        s.verdict.as_str()
                    );
                }
                Verdict::Error => {
                    let _ = write!(out, "<error message=\"{reason}\"/>");
                }
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("</testsuite></testsuites>\n");
        out
    }

    /// `summary.md`: totals, then every scenario that did not pass with its reason.
    pub fn summary_md(&self) -> String {
        let mut out = format!(
            "# dmconf run {}\n\n{}; seed {}, exit code {}\n\n| verdict | scenarios |\n|---|---|\n",
            self.run_id,
            self.iut_names(),
            self.seed,
            self.exit_code
        );
        for (v, n) in &self.totals {
            let _ = writeln!(out, "| {v} | {n} |");
        }
        let open: Vec<&ScenarioReport> = self
            .scenarios
            .iter()
            .filter(|s| s.verdict != Verdict::Pass)
            .collect();
        if !open.is_empty() {
            out.push_str(
                "\n| scenario | requirements | level | verdict | reason |\n|---|---|---|---|---|\n",
            );
            for s in open {
                let _ = writeln!(
                    out,
                    "| {} {} | {} | {} | {} | {} |",
                    s.id,
                    s.name.replace('|', "\\|"),
                    s.reqs.join(", "),
                    level_name(s.level),
                    s.verdict.as_str(),
                    s.reason.as_deref().unwrap_or("").replace('|', "\\|")
                );
            }
        }
        out
    }

    /// Write `results.json`, `junit.xml`, `summary.md` and `index.html` into `dir` (created
    /// if missing).
    pub fn write(&self, dir: &Path) -> Result<(), ReportError> {
        let err = |path: &Path| {
            let path = path.to_owned();
            move |source| ReportError { path, source }
        };
        std::fs::create_dir_all(dir).map_err(err(dir))?;
        for (name, text) in [
            ("results.json", self.to_json()),
            ("junit.xml", self.junit_xml()),
            ("summary.md", self.summary_md()),
            ("index.html", crate::html::index_html(self)),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(err(&path))?;
        }
        Ok(())
    }
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::Must => "must",
        Level::Should => "should",
        Level::May => "may",
    }
}
