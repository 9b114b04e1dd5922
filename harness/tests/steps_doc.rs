#![allow(clippy::unwrap_used, clippy::expect_used)]
//! docs/steps.md and the step library (`harness/src/run/steps/`) list the same steps.
//!
//! The doc's step reference (the `## The steps` section) is a list per `### Given…`,
//! `### When…` and `### Then…` heading; each entry starts with a line
//! ``- `<pattern>` — …`` and gives examples as backticked step lines (`` `Given …` ``). The
//! misbehaviour names are lists ``- `<name>` — …`` under `## Tester misbehaviours`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use dmconf::run::steps::{definitions, Kind};
use regex::Regex;

const DOC: &str = "docs/steps.md";

/// A file of the repository, by its path from the repository root.
fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Given => "Given",
        Kind::When => "When",
        Kind::Then => "Then",
    }
}

/// A definition's pattern as written in its `def!` string literal (without `^…$`).
fn literal(pattern: &str) -> &str {
    let p = pattern
        .strip_prefix('^')
        .expect("the def! macro anchors patterns with ^");
    p.strip_suffix('$')
        .expect("the def! macro anchors patterns with $")
}

/// The lines (1-based number, text) of the `## title` section of the doc, up to the next
/// `## ` heading.
fn section<'a>(doc: &'a str, title: &str) -> Vec<(usize, &'a str)> {
    let mut out = Vec::new();
    let mut inside = false;
    for (i, line) in doc.lines().enumerate() {
        if let Some(h) = line.strip_prefix("## ") {
            inside = h.trim() == title;
            continue;
        }
        if inside {
            out.push((i + 1, line));
        }
    }
    assert!(
        !out.is_empty(),
        "{DOC} has no `## {title}` section (or it is empty): this test reads it"
    );
    out
}

/// The code spans (`…`) of a text.
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// A step line of an example without its keyword, and the keyword.
fn split_keyword(line: &str) -> Option<(&str, &str)> {
    ["Given ", "When ", "Then ", "And ", "But "]
        .iter()
        .find_map(|k| line.strip_prefix(k).map(|rest| (k.trim_end(), rest)))
}

/// One entry of the step reference.
struct Entry {
    kind: Kind,
    heading: String,
    pattern: String,
    line: usize,
    examples: Vec<String>,
}

/// The entries of the `## The steps` section.
fn entries(doc: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut heading: Option<(Kind, String)> = None;
    let mut text: Vec<String> = Vec::new();
    let flush = |out: &mut Vec<Entry>, text: &mut Vec<String>| {
        if let Some(e) = out.last_mut() {
            let joined = text.join(" ");
            // The first span is the pattern; examples are spans that are step lines.
            e.examples = code_spans(&joined)
                .into_iter()
                .skip(1)
                .filter(|s| split_keyword(s).is_some())
                .map(str::to_owned)
                .collect();
        }
        text.clear();
    };
    for (n, line) in section(doc, "The steps") {
        if let Some(h) = line.strip_prefix("### ") {
            flush(&mut out, &mut text);
            let first = h.split([' ', ':']).next().unwrap_or("");
            let kind = match first {
                "Given" => Kind::Given,
                "When" => Kind::When,
                "Then" => Kind::Then,
                _ => panic!(
                    "{DOC}:{n}: the heading `### {h}` under `## The steps` must start with \
                     Given, When or Then (the keyword of its entries)"
                ),
            };
            heading = Some((kind, h.to_owned()));
            // Entries end at a heading; text between a heading and the first entry is prose.
            out.push(Entry {
                kind,
                heading: String::new(),
                pattern: String::new(),
                line: 0,
                examples: Vec::new(),
            });
            continue;
        }
        if let Some(rest) = line.strip_prefix("- `") {
            flush(&mut out, &mut text);
            let (kind, h) = heading.clone().unwrap_or_else(|| {
                panic!("{DOC}:{n}: a step entry before any `### Given/When/Then` heading")
            });
            let (pattern, _) = rest.split_once('`').unwrap_or_else(|| {
                panic!(
                    "{DOC}:{n}: the entry's pattern has no closing backtick; keep the pattern \
                     on its `- ` line"
                )
            });
            out.push(Entry {
                kind,
                heading: h,
                pattern: pattern.to_owned(),
                line: n,
                examples: Vec::new(),
            });
            text.push(line.to_owned());
        } else if !line.trim().is_empty() || !text.is_empty() {
            text.push(line.trim().to_owned());
        }
    }
    flush(&mut out, &mut text);
    out.retain(|e| e.line != 0);
    out
}

#[test]
fn every_step_definition_is_documented_and_every_entry_is_a_step() {
    let doc = read(DOC);
    let defs = definitions();
    let entries = entries(&doc);
    assert!(
        !entries.is_empty(),
        "{DOC} lists no steps under `## The steps` (entries are lines starting with \"- `\")"
    );
    let mut problems = Vec::new();

    // Code → doc: every definition's pattern, verbatim in backticks, as an entry of its kind.
    let mut by_pattern: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for e in &entries {
        by_pattern.entry(e.pattern.as_str()).or_default().push(e);
    }
    for d in &defs {
        let lit = literal(d.pattern);
        let kind = kind_name(d.kind);
        if !doc.contains(&format!("`{lit}`")) {
            problems.push(format!(
                "the {kind} step `{lit}` (harness/src/run/steps/) is not in {DOC}: add an entry \
                 \"- `{lit}` — what it does[, **Rule:** …]. Example: `{kind} …`\" under a \
                 `### {kind}…` heading of `## The steps`, the pattern copied exactly from the \
                 def! string literal"
            ));
            continue;
        }
        match by_pattern.get(lit) {
            None => problems.push(format!(
                "the {kind} step `{lit}` appears in {DOC} but has no entry of its own: start a \
                 line with \"- `{lit}` — …\" under a `### {kind}…` heading of `## The steps`"
            )),
            Some(es) => {
                for e in es {
                    if e.kind != d.kind {
                        problems.push(format!(
                            "{DOC}:{}: `{lit}` is listed under `### {}` but the code defines it \
                             as a {kind} step: move the entry under a `### {kind}…` heading",
                            e.line, e.heading
                        ));
                    }
                }
            }
        }
    }

    // Doc → code: every entry is a definition of the code, listed once.
    let code: BTreeMap<&str, Kind> = defs.iter().map(|d| (literal(d.pattern), d.kind)).collect();
    for (pattern, es) in &by_pattern {
        if !code.contains_key(pattern) {
            for e in es {
                problems.push(format!(
                    "{DOC}:{}: the entry `{pattern}` (under `### {}`) is no step definition of \
                     the code: remove the entry, or correct it to the def! string literal it \
                     documents",
                    e.line, e.heading
                ));
            }
        }
        if es.len() > 1 {
            let lines: Vec<String> = es.iter().map(|e| e.line.to_string()).collect();
            problems.push(format!(
                "{DOC}: `{pattern}` has {} entries (lines {}): keep one",
                es.len(),
                lines.join(", ")
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{DOC} and the step definitions disagree:\n- {}",
        problems.join("\n- ")
    );
}

#[test]
fn every_entry_has_an_example_its_pattern_matches() {
    let doc = read(DOC);
    let defs = definitions();
    let compiled: Vec<(Kind, &str, Regex)> = defs
        .iter()
        .map(|d| (d.kind, literal(d.pattern), Regex::new(d.pattern).unwrap()))
        .collect();
    let mut problems = Vec::new();
    for e in entries(&doc) {
        let Some((_, _, re)) = compiled.iter().find(|(_, p, _)| *p == e.pattern) else {
            continue; // reported by the other test
        };
        if e.examples.is_empty() {
            problems.push(format!(
                "{DOC}:{}: the entry `{}` gives no example: add \"Example: `{} …`\" (a \
                 backticked step line)",
                e.line,
                e.pattern,
                kind_name(e.kind)
            ));
        }
        for ex in &e.examples {
            let (_, text) = split_keyword(ex).unwrap();
            if !re.is_match(text) {
                problems.push(format!(
                    "{DOC}:{}: the example `{ex}` does not match its entry's pattern `{}`: \
                     correct the example",
                    e.line, e.pattern
                ));
                continue;
            }
            let others: Vec<&str> = compiled
                .iter()
                .filter(|(_, p, r)| *p != e.pattern && r.is_match(text))
                .map(|(_, p, _)| *p)
                .collect();
            if !others.is_empty() {
                problems.push(format!(
                    "{DOC}:{}: the example `{ex}` also matches {others:?}: a step line must \
                     match one definition; make the patterns exclusive",
                    e.line
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "examples in {DOC}:\n- {}",
        problems.join("\n- ")
    );
}

#[test]
fn the_gherkin_examples_use_only_defined_steps() {
    let doc = read(DOC);
    let defs = definitions();
    let compiled: Vec<(Kind, Regex)> = defs
        .iter()
        .map(|d| (d.kind, Regex::new(d.pattern).unwrap()))
        .collect();
    let mut problems = Vec::new();
    let mut in_gherkin = false;
    let mut in_docstring = false;
    let mut current = Kind::Given;
    let mut checked = 0;
    for (i, line) in doc.lines().enumerate() {
        let t = line.trim();
        if t.starts_with("```") {
            in_gherkin = !in_gherkin && t == "```gherkin";
            in_docstring = false;
            continue;
        }
        if !in_gherkin {
            continue;
        }
        if t == "\"\"\"" {
            in_docstring = !in_docstring;
            continue;
        }
        if in_docstring {
            continue;
        }
        let Some((keyword, text)) = split_keyword(t) else {
            continue;
        };
        current = match keyword {
            "Given" => Kind::Given,
            "When" => Kind::When,
            "Then" => Kind::Then,
            _ => current,
        };
        // Given definitions also serve after a When (mod.rs `collection`).
        let ok = compiled.iter().any(|(k, re)| {
            re.is_match(text) && (*k == current || (*k == Kind::Given && current == Kind::When))
        });
        checked += 1;
        if !ok {
            problems.push(format!(
                "{DOC}:{}: `{t}` ({} step) matches no step definition: correct the example",
                i + 1,
                kind_name(current)
            ));
        }
    }
    assert!(checked > 0, "{DOC} has no ```gherkin example to check");
    assert!(
        problems.is_empty(),
        "Gherkin examples in {DOC}:\n- {}",
        problems.join("\n- ")
    );
}

/// The names of a `- `name` — …` list under the `### <starts>…` heading of the
/// `## Tester misbehaviours` section.
fn listed_names(doc: &str, starts: &str) -> BTreeSet<String> {
    let mut inside = false;
    let mut found_heading = false;
    let mut out = BTreeSet::new();
    for (_, line) in section(doc, "Tester misbehaviours") {
        if let Some(h) = line.strip_prefix("### ") {
            inside = h.starts_with(starts);
            found_heading |= inside;
            continue;
        }
        if inside {
            if let Some(rest) = line.strip_prefix("- `") {
                out.insert(rest.split('`').next().unwrap_or("").to_owned());
            }
        }
    }
    assert!(
        found_heading,
        "{DOC}: no `### {starts}…` heading under `## Tester misbehaviours`"
    );
    out
}

/// The names a step function of `setup.rs` matches itself (`"name" =>` arms).
fn names_in_step_fn(function: &str) -> BTreeSet<String> {
    let src = read("harness/src/run/steps/setup.rs");
    let start = src
        .find(&format!("async fn {function}("))
        .unwrap_or_else(|| {
            panic!("harness/src/run/steps/setup.rs has no `async fn {function}`: update this test")
        });
    let body = &src[start..];
    let body = &body[..body.find("\n}\n").unwrap_or(body.len())];
    let arm = Regex::new(r#""(\w+)"\s*=>"#).unwrap();
    arm.captures_iter(body).map(|c| c[1].to_owned()).collect()
}

fn compare(doc: &BTreeSet<String>, code: &BTreeSet<String>, what: &str, heading: &str) {
    let mut problems = Vec::new();
    for name in code.difference(doc) {
        problems.push(format!(
            "`{name}` is accepted by the code but not listed under `### {heading}…` of {DOC}: \
             add a line \"- `{name}` — what the tester does\""
        ));
    }
    for name in doc.difference(code) {
        problems.push(format!(
            "`{name}` is listed under `### {heading}…` of {DOC} but the code does not accept \
             it: remove it, or correct the spelling"
        ));
    }
    assert!(problems.is_empty(), "{what}:\n- {}", problems.join("\n- "));
}

#[test]
fn the_tester_server_misbehaviours_listed_are_the_accepted_ones() {
    let doc = read(DOC);
    let listed = listed_names(&doc, "The tester server");
    // The fault switches, by their serde names (setup.rs `switch` sets them that way)…
    let faults = serde_json::to_value(dm_server::faults::ServerFaults::default()).unwrap();
    let mut accepted: BTreeSet<String> = faults
        .as_object()
        .expect("ServerFaults serializes as an object")
        .keys()
        .cloned()
        .collect();
    // …and the harness's own scripts (`ServerScript`).
    let scripts = names_in_step_fn("tester_server_fault");
    assert!(
        scripts.contains("replay_credentials")
            && scripts.contains("garbage")
            && scripts.contains("wrong_size"),
        "the script names of `tester_server_fault` in setup.rs were not found ({scripts:?}): \
         update this test"
    );
    accepted.extend(scripts);
    compare(
        &listed,
        &accepted,
        "`the tester server misbehaves: (\\w+)` names",
        "The tester server",
    );
}

#[test]
fn the_tester_client_misbehaviours_listed_are_the_accepted_ones() {
    let doc = read(DOC);
    let listed = listed_names(&doc, "The tester client");
    let accepted = names_in_step_fn("tester_client_fault");
    assert!(
        !accepted.is_empty(),
        "no `\"name\" =>` arm found in `tester_client_fault` of setup.rs: update this test"
    );
    compare(
        &listed,
        &accepted,
        "`the tester client misbehaves: (\\w+)` names",
        "The tester client",
    );
}
