//! The requirement catalog and `dmconf coverage`: per-document counts against the seed
//! documents' own numbering, catalog consistency, each lint kind, the four formats, and
//! the freshness of docs/coverage.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use dmconf::coverage::{report, Catalog, Format, Inputs, LintError, Pending, Testability};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn catalog() -> Catalog {
    Catalog::load(&repo().join("features/catalog.toml")).unwrap()
}

fn repo_inputs() -> Inputs {
    let r = repo();
    Inputs::load(
        &r.join("features/catalog.toml"),
        &r.join("features"),
        &r.join("features/pending.toml"),
        None,
    )
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The oracle: the seed documents' own numbering, counted by hand from shared/seeds/*.txt
// (not read at test time). Each line says where it comes from. Gaps are the documents' own:
// their numbered lists skip numbers, and a missing number gets no entry.

const D000: &str = "000_0ecda0c1193a86b4.txt";
const D001: &str = "001_060482c99adde0fe.txt";
const D002: &str = "002_e545bae3e956cec5.txt";
const D003: &str = "003_1b392b0d037b72ed.txt";
const D004: &str = "004_df491e3aa641683d.txt";

fn range(a: u32, b: u32) -> Vec<u32> {
    (a..=b).collect()
}

fn expected_labels(doc: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut numbered = |prefix: &str, section: &str, items: &[u32]| {
        for n in items {
            assert!(out.insert(format!("{prefix}-{section}-{n}")));
        }
    };
    match doc {
        D000 => {
            // "Change 2": 6.1.1 Device, items 1-4; 6.1.2 Overall DM Server, item 1.
            numbered("DM13-MIG", "6.1.1", &range(1, 4));
            numbered("DM13-MIG", "6.1.2", &[1]);
            // "Change 1": one use case, 5.1.1 Migration from Old Device to New Device.
            out.insert("DM13-UC-5.1.1".into());
        }
        D001 => {
            // Table 1 (6.2): rows DM-HLF-001 ... DM-HLF-024; Table 2 (6.2.1): DM-SEC-001, -002.
            for n in 1..=24 {
                out.insert(format!("DM-HLF-{n:03}"));
            }
            out.insert("DM-SEC-001".into());
            out.insert("DM-SEC-002".into());
            // Appendix B: use cases B.1, B.2, B.3.
            for s in ["B.1", "B.2", "B.3"] {
                out.insert(format!("DM20-UC-{s}"));
            }
        }
        D002 => {
            // "Change 3", 6.2.2 Device: one table row, labelled SCOMO-OSR-Device -XX.
            out.insert("SCOMO-OSR-Device-XX".into());
            // Use cases 5.1 (installation) and 5.2 (update), each with its alternative flow.
            out.insert("SCOMO-UC-5.1".into());
            out.insert("SCOMO-UC-5.2".into());
        }
        D003 => {
            let list: Vec<(&str, Vec<u32>)> = vec![
                ("6.1.1.1", range(1, 6)), // items 1-3 share one line in the text
                ("6.1.1.2", range(1, 5)),
                ("6.1.1.3", range(1, 2)),
                ("6.1.1.4", range(1, 5)),
                ("6.1.1.5", range(1, 4)),
                ("6.1.1.6", range(1, 2)),
                ("6.1.2", range(1, 5)),
                ("6.1.3", range(1, 6)),
                ("6.1.4", range(1, 16)),
                ("6.1.5", range(1, 2)),
                // 6.1.6 Privacy: "covered in other sections", no items.
                ("6.1.7", range(1, 6)),
                ("6.2", vec![1, 2, 3, 5]), // no item 4
                // 6.3.1: 1-24, 26-33, 39-43 (no 25, no 34-38)
                (
                    "6.3.1",
                    [range(1, 24), range(26, 33), range(39, 43)].concat(),
                ),
                ("6.3.1.1", range(1, 2)),
                ("6.3.1.2", [range(1, 5), vec![7, 8, 9]].concat()), // no 6
                ("6.3.2", range(1, 9)),
                ("6.3.2.1", vec![1]),
                ("6.3.3", range(1, 3)),
                ("6.3.3.1", range(1, 3)),
                // 6.3.4: 1-19, 21-30, 32-36 (no 20, no 31; item 23 lacks its full stop)
                (
                    "6.3.4",
                    [range(1, 19), range(21, 30), range(32, 36)].concat(),
                ),
                ("6.3.4.1", [range(1, 5), vec![7, 9, 10]].concat()), // no 6, no 8
                ("6.3.4.2", range(1, 4)),
                ("6.3.4.3", range(1, 3)),
                // 6.3.5 Network Interfaces: "covered in other sections", no items.
            ];
            for (section, items) in &list {
                numbered("DMRD", section, items);
            }
            // Scheduling use cases 5.6.1, 5.6.2, 5.6.3.
            for s in ["5.6.1", "5.6.2", "5.6.3"] {
                out.insert(format!("DMRD-UC-{s}"));
            }
        }
        D004 => {
            // Section 1, work areas 1-5; n = the bullet's position under the area's
            // "considers" list, counting empty bullets (which get no entry).
            let areas: [(u32, &[u32]); 5] = [
                (1, &[1, 2, 3, 4, 5]), // SIP, HTTP Push, TCP/IP, Broadcast, UDP
                (2, &[1, 2, 3]),       // DDF, MO list, subscriber info (?); bullets 4-6 empty
                (3, &[1, 3, 4, 5, 6]), // resume LO, [2 empty], data sets (?), fingerprints, Sequence, deltas
                (4, &[1, 2, 3]),       // binding-level security, ACL change log, certificates
                (5, &[1, 2, 3, 4]), // ambiguity, testing specs, preferred version (?), dictionary
            ];
            for (a, ns) in areas {
                for n in ns {
                    out.insert(format!("DM13-WID-{a}.{n}"));
                }
            }
        }
        _ => panic!("unknown document {doc}"),
    }
    out
}

#[test]
fn every_numbered_item_of_each_document_has_exactly_one_entry() {
    let cat = catalog();
    let mut grand = 0;
    for (doc, count) in [(D000, 6), (D001, 29), (D002, 3), (D003, 178), (D004, 20)] {
        let expected = expected_labels(doc);
        assert_eq!(expected.len(), count, "oracle for {doc}");
        let labels: Vec<&str> = cat
            .entries
            .iter()
            .filter(|e| e.source == doc)
            .map(|e| e.label.as_str())
            .collect();
        let got: BTreeSet<String> = labels.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(labels.len(), got.len(), "{doc}: a label appears twice");
        let missing: Vec<_> = expected.difference(&got).collect();
        let extra: Vec<_> = got.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{doc}: missing {missing:?}, unexpected {extra:?}"
        );
        grand += count;
    }
    assert_eq!(
        cat.entries.len(),
        grand,
        "entries outside the five documents"
    );
    assert_eq!(cat.documents.len(), 5);
}

#[test]
fn catalog_entries_are_complete_and_consistent() {
    let cat = catalog();
    for e in &cat.entries {
        let section = e.section.as_deref().unwrap_or("");
        assert!(!section.is_empty(), "{}: no section", e.label);
        assert!(!e.summary.trim().is_empty(), "{}: no summary", e.label);
        assert!(!e.mechanism.trim().is_empty(), "{}: no mechanism", e.label);
        if e.testability == Testability::Untestable {
            assert!(e.reason.is_some(), "{}: untestable without reason", e.label);
        }
        if let Some(doc) = &e.project_doc {
            assert!(
                doc.starts_with("docs/") && doc.ends_with(".md"),
                "{}: {doc}",
                e.label
            );
        }
        // Labels carry the section they come from (document labels excepted).
        if e.label.starts_with("DMRD-") || e.label.starts_with("DM13-MIG-") {
            let s = section.split(' ').next().unwrap();
            assert!(e.label.contains(&format!("-{s}")), "{} vs {s}", e.label);
        }
        // Related links are symmetric: a duplicate or conflict is noted on both sides.
        for r in &e.related {
            let other = cat
                .get(r)
                .unwrap_or_else(|| panic!("{} → unknown {r}", e.label));
            assert!(
                other.related.contains(&e.label),
                "{} → {r} but not back",
                e.label
            );
        }
    }
    let inputs = repo_inputs();
    let problems = inputs.lint();
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The pending list only shrinks: lower this ceiling when labels leave it, never raise it.
const PENDING_CEILING: usize = 12;

#[test]
fn pending_list_only_shrinks_and_lists_only_protocol_mandatory_labels() {
    let inputs = repo_inputs();
    assert!(
        inputs.pending.entries.len() <= PENDING_CEILING,
        "the pending list grew to {} (ceiling {PENDING_CEILING})",
        inputs.pending.entries.len()
    );
    for (label, reason) in &inputs.pending.entries {
        let e = inputs.catalog.get(label).unwrap();
        assert_eq!(e.testability, Testability::Protocol, "{label}");
        assert!(e.level.is_mandatory(), "{label}");
        assert!(!reason.trim().is_empty());
    }
}

#[test]
fn docs_coverage_md_is_up_to_date() {
    let path = repo().join("docs/coverage.md");
    let want = report::render(&repo_inputs().report(), Format::Markdown);
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != want {
        let diff = similar::TextDiff::from_lines(&have, &want)
            .unified_diff()
            .header(
                "docs/coverage.md (committed)",
                "docs/coverage.md (generated)",
            )
            .to_string();
        panic!(
            "docs/coverage.md is stale; refresh it with `{}` from the repository root\n{diff}",
            report::REFRESH_COMMAND
        );
    }
}

#[test]
fn spec_editors_doc_lists_every_untestable_and_ambiguous_entry() {
    let doc = std::fs::read_to_string(repo().join("docs/spec-editors.md")).unwrap();
    for e in &catalog().entries {
        let listed = e.kind != dmconf::coverage::Kind::UseCase
            && (e.testability == Testability::Untestable || e.ambiguity.is_some());
        if listed {
            assert!(
                doc.contains(&format!("| {} |", e.label)),
                "docs/spec-editors.md does not list {}",
                e.label
            );
        }
        if let Some(p) = &e.project_doc {
            assert!(doc.contains(&format!("`{p}`")), "planned {p} not listed");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lint kinds, each with its own temporary fixture.

struct Fixture {
    dir: PathBuf,
}

const DOC: &str = r#"
[[document]]
file = "x.txt"
title = "fixture"
labels = "X-<n>"
"#;

fn entry(label: &str, extra: &str) -> String {
    format!(
        "\n[[requirement]]\nlabel = \"{label}\"\nkind = \"requirement\"\nsource = \"x.txt\"\n\
         level = \"MUST\"\nbinds = \"client\"\nsummary = \"s\"\ntestability = \"protocol\"\n\
         mechanism = \"m\"\n{extra}\n"
    )
}

impl Fixture {
    fn new(name: &str, catalog: &str, pending: &str, features: &[(&str, &str)]) -> Fixture {
        let dir =
            std::env::temp_dir().join(format!("dmconf-coverage-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("features")).unwrap();
        std::fs::write(dir.join("catalog.toml"), format!("{DOC}{catalog}")).unwrap();
        std::fs::write(dir.join("pending.toml"), format!("[pending]\n{pending}")).unwrap();
        for (file, text) in features {
            let p = dir.join("features").join(file);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        Fixture { dir }
    }

    fn inputs(&self) -> Inputs {
        Inputs::load(
            &self.dir.join("catalog.toml"),
            &self.dir.join("features"),
            &self.dir.join("pending.toml"),
            None,
        )
        .unwrap()
    }

    fn kinds(&self) -> Vec<&'static str> {
        self.inputs().lint().iter().map(LintError::kind).collect()
    }

    fn args(&self) -> Vec<String> {
        let p = |f: &str| self.dir.join(f).to_str().unwrap().to_owned();
        vec![
            "coverage".into(),
            "--catalog".into(),
            p("catalog.toml"),
            "--features".into(),
            p("features"),
            "--pending".into(),
            p("pending.toml"),
        ]
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn section(s: &str) -> String {
    format!("section = \"{s}\"")
}

#[test]
fn lint_unknown_label_in_a_scenario_tag() {
    let f = Fixture::new(
        "unknown",
        &entry("X-1", &section("1")),
        "",
        &[(
            "a.feature",
            "Feature: F\n  @id:A-1 @req:X-1 @req:X-9\n  Scenario: s\n    Given x\n",
        )],
    );
    let problems = f.inputs().lint();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind(), "unknown-label");
    let msg = problems[0].to_string();
    assert!(msg.contains("a.feature:3") && msg.contains("X-9"), "{msg}");
}

#[test]
fn lint_duplicate_scenario_id() {
    let f = Fixture::new(
        "dupid",
        &entry("X-1", &section("1")),
        "",
        &[
            (
                "a.feature",
                "Feature: F\n  @id:A-1 @req:X-1\n  Scenario: one\n    Given x\n",
            ),
            (
                "sub/b.feature",
                "@req:X-1\nFeature: G\n  @id:A-1\n  Scenario: two\n    Given y\n",
            ),
        ],
    );
    let problems = f.inputs().lint();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind(), "duplicate-id");
    let msg = problems[0].to_string();
    assert!(
        msg.contains("a.feature:3") && msg.contains("b.feature:4"),
        "{msg}"
    );
}

#[test]
fn lint_entry_without_source_section() {
    let f = Fixture::new("nosection", &entry("X-1", ""), "", &[]);
    assert_eq!(f.kinds(), ["missing-section"]);
    let f = Fixture::new("emptysection", &entry("X-1", &section(" ")), "", &[]);
    assert_eq!(f.kinds(), ["missing-section"]);
}

#[test]
fn lint_uncovered_protocol_must_fires_only_once_a_scenario_exists() {
    let cat = format!(
        "{}{}{}",
        entry("X-1", &section("1")),
        entry("X-2", &section("1")),
        entry("X-3", &format!("{}\n", section("1"))).replace("MUST", "SHOULD"),
    );
    // No scenario at all: nothing is required yet.
    let f = Fixture::new("uncovered0", &cat, "", &[]);
    assert!(f.kinds().is_empty());
    // One scenario covering X-1: X-2 (MUST, protocol) is uncovered; X-3 is only SHOULD.
    let one = [(
        "a.feature",
        "Feature: F\n  @id:A-1 @req:X-1\n  Scenario: s\n    Given x\n",
    )];
    let f = Fixture::new("uncovered1", &cat, "", &one);
    let problems = f.inputs().lint();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind(), "uncovered");
    assert!(problems[0].to_string().contains("X-2"));
    // On the pending list with a reason, it is accepted — and the report shows the list.
    let f = Fixture::new(
        "uncovered2",
        &cat,
        "\"X-2\" = \"scheduling scenarios not yet written\"\n",
        &one,
    );
    assert!(f.kinds().is_empty());
    let md = report::render(&f.inputs().report(), Format::Markdown);
    assert!(
        md.contains("| X-2 | scheduling scenarios not yet written |"),
        "{md}"
    );
    assert!(md.contains("## Pending list (1 labels)"), "{md}");
}

#[test]
fn lint_pending_entries_must_be_known_and_still_uncovered() {
    let one = [(
        "a.feature",
        "Feature: F\n  @id:A-1 @req:X-1\n  Scenario: s\n    Given x\n",
    )];
    let f = Fixture::new(
        "pendingunknown",
        &entry("X-1", &section("1")),
        "\"X-7\" = \"r\"\n",
        &one,
    );
    assert_eq!(f.kinds(), ["pending-unknown"]);
    let f = Fixture::new(
        "pendingcovered",
        &entry("X-1", &section("1")),
        "\"X-1\" = \"r\"\n",
        &one,
    );
    assert_eq!(f.kinds(), ["pending-covered"]);
}

#[test]
fn lint_catalog_duplicates_reasons_and_related_links() {
    let cat = format!(
        "{}{}",
        entry("X-1", &section("1")),
        entry("X-1", &section("2"))
    );
    assert_eq!(
        Fixture::new("duplabel", &cat, "", &[]).kinds(),
        ["duplicate-label"]
    );
    let cat = entry("X-1", &section("1")).replace("\"protocol\"", "\"untestable\"");
    assert_eq!(
        Fixture::new("noreason", &cat, "", &[]).kinds(),
        ["untestable-without-reason"]
    );
    let cat = entry("X-1", &format!("{}\nrelated = [\"X-5\"]", section("1")));
    assert_eq!(
        Fixture::new("related", &cat, "", &[]).kinds(),
        ["unknown-related"]
    );
}

#[test]
fn catalog_errors_name_the_file_and_the_entry() {
    let p = Path::new("cat.toml");
    let bad = format!(
        "{DOC}{}",
        entry("X-1", &section("1")).replace("\"MUST\"", "\"MUSTN'T\"")
    );
    let e = Catalog::parse(p, &bad).unwrap_err().to_string();
    assert!(
        e.contains("cat.toml") && e.contains("X-1") && e.contains("level"),
        "{e}"
    );
    let e = Catalog::parse(p, &format!("{DOC}\n[[requirement]]\nlabel = \"X-2\"\n"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("X-2") && e.contains("missing field `kind`"),
        "{e}"
    );
    let e = Catalog::parse(p, &entry("X-3", &section("1")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("X-3") && e.contains("source"), "{e}");
    let e = Catalog::parse(p, "[[requirement]\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("cat.toml:") && !e.contains('\n'), "{e}");
    let e = Pending::parse(p, "[pending]\n\"X-1\" = \"\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("X-1") && e.contains("reason"), "{e}");
}

#[test]
fn gherkin_scanner_collects_feature_outline_and_examples_tags() {
    let text = "\
# comment @req:NOT-A-TAG
@feature-tag @req:X-1
Feature: F

  Background:
    Given setup

  @id:A-1 @client
  Scenario: plain
    Given a step
    \"\"\"
    @req:INSIDE-DOCSTRING
    \"\"\"

  @id:A-2
  Scenario Outline: outline <n>
    Given <n>

    @req:X-2 @ics:thing
    Examples:
      | n |
      | 1 |
";
    let s = dmconf::coverage::gherkin::scan_str(Path::new("f.feature"), text);
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].id(), Some("A-1"));
    assert_eq!(s[0].reqs(), ["X-1"]);
    assert_eq!(s[0].line, 9);
    assert!(s[0].tags.contains(&"@feature-tag".to_owned()));
    assert_eq!(s[1].id(), Some("A-2"));
    assert_eq!(s[1].reqs(), ["X-1", "X-2"]);
    assert!(s[1].tags.contains(&"@ics:thing".to_owned()));
}

#[test]
fn verdicts_aggregate_worst_first_and_results_file_is_read() {
    let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let results = dmconf::coverage::results::parse(
        Path::new("r.json"),
        r#"{"scenarios":[{"id":"A","verdict":"pass"},{"id":"B","verdict":"fail"},
            {"id":"C","verdict":"not-applicable"}]}"#,
    )
    .unwrap();
    let v = |s: &[&str]| report::row_verdict(&ids(s), Some(&results), false, false);
    assert_eq!(v(&["A"]), "pass");
    assert_eq!(v(&["A", "B"]), "fail");
    assert_eq!(v(&["A", "C"]), "pass");
    assert_eq!(v(&["C"]), "not-applicable");
    assert_eq!(v(&["A", "Z"]), "not run");
    assert_eq!(
        report::row_verdict(&ids(&["A"]), None, false, false),
        "not run"
    );
    assert_eq!(report::row_verdict(&[], None, true, false), "pending");
    assert_eq!(report::row_verdict(&[], None, false, true), "untestable");
    assert_eq!(report::row_verdict(&[], None, false, false), "uncovered");
    let e = dmconf::coverage::results::parse(
        Path::new("r.json"),
        r#"{"scenarios":[{"id":"A","verdict":"ok"}]}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("r.json:"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// The command line.

fn dmconf(args: &[String], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dmconf"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn cli_prints_the_matrix_in_all_four_formats() {
    let r = repo();
    for (fmt, probe) in [
        (
            "markdown",
            "| DM-HLF-004 | 001_060482c99adde0fe.txt | 6.2 (Table 1) | SHALL |",
        ),
        ("json", "\"label\": \"DM-HLF-004\""),
        (
            "csv",
            "requirement,DM-HLF-004,001_060482c99adde0fe.txt,6.2 (Table 1),SHALL,",
        ),
        ("html", "<td>DM-HLF-004</td>"),
    ] {
        let out = dmconf(&strs(&["coverage", "--format", fmt]), &r);
        assert!(
            out.status.success(),
            "{fmt}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(probe), "{fmt}: no {probe:?}");
        for doc in [D000, D001, D002, D003, D004] {
            assert!(text.contains(doc), "{fmt}: no totals for {doc}");
        }
        assert!(
            text.contains("SHALL NOT") && text.contains("untestable"),
            "{fmt}"
        );
    }
    let out = dmconf(&strs(&["coverage", "--format", "json"]), &r);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 236);
    assert_eq!(v["total"]["entries"], 236);
}

#[test]
fn cli_lint_passes_on_the_repository() {
    let out = dmconf(&strs(&["coverage", "--lint"]), &repo());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("236 entries") && stdout.contains("0 lint problem(s)"),
        "{stdout}"
    );
}

#[test]
fn cli_lint_exits_1_with_one_line_per_problem_and_results_feed_verdicts() {
    let f = Fixture::new(
        "cli",
        &format!("{}{}", entry("X-1", &section("1")), entry("X-2", "")),
        "",
        &[(
            "a.feature",
            "Feature: F\n  @id:A-1 @req:X-1 @req:NOPE\n  Scenario: s\n    Given x\n",
        )],
    );
    let mut args = f.args();
    args.push("--lint".into());
    let out = dmconf(&args, &f.dir);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for k in ["unknown-label: ", "missing-section: ", "uncovered: "] {
        assert!(stdout.contains(k), "{k} missing in {stdout}");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    std::fs::write(
        f.dir.join("results.json"),
        r#"{"scenarios":[{"id":"A-1","verdict":"fail"}]}"#,
    )
    .unwrap();
    let mut args = f.args();
    args.extend(strs(&["--format", "csv", "--results"]));
    args.push(f.dir.join("results.json").to_str().unwrap().to_owned());
    let out = dmconf(&args, &f.dir);
    assert!(out.status.success());
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(
        csv.contains("requirement,X-1,x.txt,1,MUST,client,protocol,A-1,fail,"),
        "{csv}"
    );
    assert!(csv.contains("total:all,all,"), "{csv}");
}

#[test]
fn cli_unreadable_input_is_a_usage_error() {
    let out = dmconf(
        &strs(&["coverage", "--catalog", "/nonexistent/catalog.toml"]),
        &repo(),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/catalog.toml"), "{stderr}");
}
