//! The coverage matrix (requirement × scenarios × verdict) with totals, and its four renderings.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::{Inputs, Level, Testability, Verdict};

/// Output format of `dmconf coverage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[non_exhaustive]
pub enum Format {
    /// Markdown tables (the default; `docs/coverage.md` is this output).
    Markdown,
    /// One JSON document.
    Json,
    /// One CSV table: requirement rows, then total rows.
    Csv,
    /// A standalone HTML page.
    Html,
}

/// One matrix row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The label.
    pub label: String,
    /// The source document.
    pub source: String,
    /// The source section (empty when missing).
    pub section: String,
    /// The level as written.
    pub level: &'static str,
    /// Who it binds.
    pub binds: &'static str,
    /// Testability class.
    pub testability: &'static str,
    /// One-line summary.
    pub summary: String,
    /// Ids (or `file:line` when untagged) of the scenarios tagging it.
    pub scenarios: Vec<String>,
    /// The row's status or aggregated verdict (see [`row_verdict`]).
    pub verdict: String,
    /// The pending-list reason, if listed.
    pub pending: Option<String>,
}

/// Counts for one group of rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Entries in the group.
    pub entries: usize,
    /// Protocol-testable entries.
    pub protocol: usize,
    /// Reference-testable entries.
    pub reference: usize,
    /// Untestable entries.
    pub untestable: usize,
    /// Entries at least one scenario tags.
    pub covered: usize,
    /// Entries on the pending list.
    pub pending: usize,
    /// Entries whose aggregated verdict is pass.
    pub pass: usize,
    /// Entries whose aggregated verdict is fail.
    pub fail: usize,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Number of scenarios found.
    pub scenarios: usize,
    /// Whether a results file was given.
    pub with_results: bool,
    /// Totals over every entry.
    pub total: Tally,
    /// Totals per source document (file name → tally), in catalog document order.
    pub per_document: Vec<(String, Tally)>,
    /// Totals per level as written.
    pub per_level: Vec<(String, Tally)>,
    /// Totals per testability class.
    pub per_testability: Vec<(String, Tally)>,
    /// The pending list: label → reason.
    pub pending: Vec<(String, String)>,
    /// One row per catalog entry, in catalog order.
    pub rows: Vec<Row>,
}

/// Aggregate a row's status.
///
/// Without scenarios: `pending` (on the pending list), `untestable`, or `uncovered`. With
/// scenarios but no results file: `not run`. With results: the worst of the scenario
/// verdicts in the order fail, error, inconclusive, not run (scenario missing from the
/// results), pass, not-applicable.
pub fn row_verdict(
    scenario_ids: &[String],
    results: Option<&super::Results>,
    pending: bool,
    untestable: bool,
) -> String {
    if scenario_ids.is_empty() {
        return if pending {
            "pending"
        } else if untestable {
            "untestable"
        } else {
            "uncovered"
        }
        .to_owned();
    }
    let Some(results) = results else {
        return "not run".to_owned();
    };
    let rank = |v: Option<Verdict>| match v {
        Some(Verdict::Fail) => 0,
        Some(Verdict::Error) => 1,
        Some(Verdict::Inconclusive) => 2,
        None => 3,
        Some(Verdict::Pass) => 4,
        Some(Verdict::NotApplicable) => 5,
    };
    let worst = scenario_ids
        .iter()
        .map(|id| results.get(id).copied())
        .min_by_key(|v| rank(*v));
    match worst.flatten() {
        Some(v) => v.as_str().to_owned(),
        None => "not run".to_owned(),
    }
}

/// Build the report from loaded inputs.
pub fn build(inputs: &Inputs) -> Report {
    let mut by_label: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for s in &inputs.scenarios {
        let name = s.id().map_or_else(|| s.location(), str::to_owned);
        for label in s.reqs() {
            let v = by_label.entry(label).or_default();
            if !v.contains(&name) {
                v.push(name.clone());
            }
        }
    }
    let mut rows = Vec::new();
    let mut total = Tally::default();
    let mut per_doc: BTreeMap<String, Tally> = BTreeMap::new();
    let mut per_level: BTreeMap<Level, Tally> = BTreeMap::new();
    let mut per_test: BTreeMap<Testability, Tally> = BTreeMap::new();
    for e in &inputs.catalog.entries {
        let scenarios = by_label.get(e.label.as_str()).cloned().unwrap_or_default();
        let pending = inputs.pending.entries.get(&e.label).cloned();
        let verdict = row_verdict(
            &scenarios,
            inputs.results.as_ref(),
            pending.is_some(),
            e.testability == Testability::Untestable,
        );
        for t in [
            &mut total,
            per_doc.entry(e.source.clone()).or_default(),
            per_level.entry(e.level).or_default(),
            per_test.entry(e.testability).or_default(),
        ] {
            t.entries += 1;
            match e.testability {
                Testability::Protocol => t.protocol += 1,
                Testability::Reference => t.reference += 1,
                Testability::Untestable => t.untestable += 1,
            }
            t.covered += usize::from(!scenarios.is_empty());
            t.pending += usize::from(pending.is_some());
            t.pass += usize::from(verdict == "pass");
            t.fail += usize::from(verdict == "fail");
        }
        rows.push(Row {
            label: e.label.clone(),
            source: e.source.clone(),
            section: e.section.clone().unwrap_or_default(),
            level: e.level.as_str(),
            binds: e.binds.as_str(),
            testability: e.testability.as_str(),
            summary: e.summary.clone(),
            scenarios,
            verdict,
            pending,
        });
    }
    let mut per_document: Vec<(String, Tally)> = Vec::new();
    for d in &inputs.catalog.documents {
        if let Some(t) = per_doc.remove(&d.file) {
            per_document.push((d.file.clone(), t));
        }
    }
    per_document.extend(per_doc);
    Report {
        scenarios: inputs.scenarios.len(),
        with_results: inputs.results.is_some(),
        total,
        per_document,
        per_level: per_level
            .into_iter()
            .map(|(l, t)| (l.as_str().to_owned(), t))
            .collect(),
        per_testability: per_test
            .into_iter()
            .map(|(k, t)| (k.as_str().to_owned(), t))
            .collect(),
        pending: inputs
            .pending
            .entries
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        rows,
    }
}

/// The command that regenerates `docs/coverage.md`.
pub const REFRESH_COMMAND: &str = "cargo run -p dmconf -- coverage --write docs/coverage.md";

/// Render a report.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Markdown => markdown(report),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(report).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Csv => csv(report),
        Format::Html => html(report),
    }
}

const TALLY_HEAD: [&str; 8] = [
    "entries",
    "protocol",
    "reference",
    "untestable",
    "covered",
    "pending",
    "pass",
    "fail",
];

fn tally_cells(t: &Tally) -> [String; 8] {
    [
        t.entries,
        t.protocol,
        t.reference,
        t.untestable,
        t.covered,
        t.pending,
        t.pass,
        t.fail,
    ]
    .map(|n| n.to_string())
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn markdown(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Requirement coverage\n");
    let _ = writeln!(
        o,
        "Generated from `features/catalog.toml`, the `@req:` tags of `features/**/*.feature` and \
         `features/pending.toml` by `{REFRESH_COMMAND}`. Do not edit by hand; a test fails when \
         this file is stale. How to read it: [spec-editors.md](spec-editors.md).\n"
    );
    let _ = writeln!(
        o,
        "{} entries, {} scenarios, {}.\n",
        r.total.entries,
        r.scenarios,
        if r.with_results {
            "verdicts from a results file"
        } else {
            "no results file (verdicts show coverage status only)"
        }
    );
    let table = |o: &mut String, title: &str, first: &str, groups: &[(String, Tally)]| {
        let _ = writeln!(o, "## {title}\n");
        let _ = writeln!(o, "| {first} | {} |", TALLY_HEAD.join(" | "));
        let _ = writeln!(o, "|---|{}", "---:|".repeat(TALLY_HEAD.len()));
        for (k, t) in groups {
            let _ = writeln!(o, "| {} | {} |", md_cell(k), tally_cells(t).join(" | "));
        }
        let _ = writeln!(o, "| **all** | {} |\n", tally_cells(&r.total).join(" | "));
    };
    table(&mut o, "Totals per document", "document", &r.per_document);
    table(&mut o, "Totals per level", "level", &r.per_level);
    table(
        &mut o,
        "Totals per testability class",
        "testability",
        &r.per_testability,
    );
    let _ = writeln!(o, "## Pending list ({} labels)\n", r.pending.len());
    let _ = writeln!(
        o,
        "Protocol-testable MUST/SHALL requirements no scenario covers yet. The list only shrinks.\n"
    );
    let _ = writeln!(o, "| label | reason |\n|---|---|");
    for (l, why) in &r.pending {
        let _ = writeln!(o, "| {} | {} |", md_cell(l), md_cell(why));
    }
    let _ = writeln!(o, "\n## Matrix\n");
    let _ = writeln!(
        o,
        "| label | source | section | level | binds | testability | scenarios | verdict | summary |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|");
    for row in &r.rows {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            md_cell(&row.label),
            md_cell(&row.source),
            md_cell(&row.section),
            row.level,
            row.binds,
            row.testability,
            md_cell(&row.scenarios.join(", ")),
            row.verdict,
            md_cell(&row.summary)
        );
    }
    o
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn csv(r: &Report) -> String {
    let mut o = String::new();
    let head = [
        "row",
        "label",
        "source",
        "section",
        "level",
        "binds",
        "testability",
        "scenarios",
        "verdict",
        "pending_reason",
        "summary",
    ];
    let _ = writeln!(o, "{},{}", head.join(","), TALLY_HEAD.join(","));
    for row in &r.rows {
        let cells = [
            "requirement".to_owned(),
            row.label.clone(),
            row.source.clone(),
            row.section.clone(),
            row.level.to_owned(),
            row.binds.to_owned(),
            row.testability.to_owned(),
            row.scenarios.join(" "),
            row.verdict.clone(),
            row.pending.clone().unwrap_or_default(),
            row.summary.clone(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        let _ = writeln!(o, "{}{}", line.join(","), ",".repeat(TALLY_HEAD.len()));
    }
    let groups = [
        ("document", &r.per_document),
        ("level", &r.per_level),
        ("testability", &r.per_testability),
    ];
    let all = vec![("all".to_owned(), r.total.clone())];
    for (kind, list) in groups.into_iter().chain([("all", &all)]) {
        for (k, t) in list {
            let _ = writeln!(
                o,
                "total:{kind},{}{},{}",
                csv_field(k),
                ",".repeat(head.len() - 2),
                tally_cells(t).join(",")
            );
        }
    }
    o
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(r: &Report) -> String {
    let mut o = String::new();
    o.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Requirement coverage</title>\n\
         <style>body{font-family:sans-serif}table{border-collapse:collapse;margin-bottom:1.5em}\
         td,th{border:1px solid #999;padding:2px 6px;vertical-align:top}\
         .fail{background:#fbb}.pass{background:#bfb}.uncovered{background:#fdb}</style></head>\n<body>\n\
         <h1>Requirement coverage</h1>\n",
    );
    let _ = writeln!(
        o,
        "<p>{} entries, {} scenarios, {}.</p>",
        r.total.entries,
        r.scenarios,
        if r.with_results {
            "verdicts from a results file"
        } else {
            "no results file"
        }
    );
    let table = |o: &mut String, title: &str, first: &str, groups: &[(String, Tally)]| {
        let _ = writeln!(o, "<h2>{}</h2>\n<table>\n<tr><th>{first}</th>", esc(title));
        for h in TALLY_HEAD {
            let _ = write!(o, "<th>{h}</th>");
        }
        o.push_str("</tr>\n");
        for (k, t) in groups.iter().chain([&("all".to_owned(), r.total.clone())]) {
            let _ = write!(o, "<tr><td>{}</td>", esc(k));
            for c in tally_cells(t) {
                let _ = write!(o, "<td>{c}</td>");
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</table>\n");
    };
    table(&mut o, "Totals per document", "document", &r.per_document);
    table(&mut o, "Totals per level", "level", &r.per_level);
    table(
        &mut o,
        "Totals per testability class",
        "testability",
        &r.per_testability,
    );
    let _ = writeln!(
        o,
        "<h2>Pending list ({} labels)</h2>\n<table>\n<tr><th>label</th><th>reason</th></tr>",
        r.pending.len()
    );
    for (l, why) in &r.pending {
        let _ = writeln!(o, "<tr><td>{}</td><td>{}</td></tr>", esc(l), esc(why));
    }
    o.push_str("</table>\n<h2>Matrix</h2>\n<table>\n<tr><th>label</th><th>source</th><th>section</th><th>level</th><th>binds</th><th>testability</th><th>scenarios</th><th>verdict</th><th>summary</th></tr>\n");
    for row in &r.rows {
        let class = row.verdict.replace(' ', "-");
        let _ = writeln!(
            o,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&class),
            esc(&row.label),
            esc(&row.source),
            esc(&row.section),
            row.level,
            row.binds,
            row.testability,
            esc(&row.scenarios.join(", ")),
            esc(&row.verdict),
            esc(&row.summary)
        );
    }
    o.push_str("</table>\n</body>\n</html>\n");
    o
}
