#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Run reports: results.json matches docs/results.schema.json (every key declared, every
//! required key present, enums respected), `dmconf coverage` reads it, junit.xml keeps the
//! requirement labels, summary.md lists what did not pass.

use std::path::Path;

use dmconf::profile::{Implementation, Role};
use dmconf::report::{RunReport, ScenarioReport, TranscriptLine};
use dmconf::verdict::{Level, Verdict};
use serde_json::Value;

fn scenario(id: &str, level: Level, verdict: Verdict, reason: Option<&str>) -> ScenarioReport {
    ScenarioReport {
        id: id.into(),
        name: format!("scenario {id} with <markup> & \"quotes\""),
        feature: "features/auth/md5.feature".into(),
        reqs: vec!["DMRD-6.1-1".into(), "DM-SEC-002".into()],
        role: Role::Server,
        level,
        verdict,
        reason: reason.map(str::to_owned),
        duration_ms: 1234,
        seed: 42,
        transcript: vec![TranscriptLine {
            direction: dm_server::model::Direction::Sent,
            time: 1_700_000_000,
            encoding: "xml".into(),
            bytes_b64: "PFN5bmNNTC8+".into(),
            xml: Some("<SyncML/>".into()),
            violations: vec![],
        }],
        diffs: vec![],
    }
}

fn report() -> RunReport {
    RunReport::new(
        "2026-12-03T09-00-00".into(),
        1_700_000_000,
        42,
        vec![Implementation {
            name: "Acme DMS".into(),
            version: "7.1".into(),
            vendor: "Acme".into(),
            role: Role::Server,
        }],
        vec![
            scenario("AUTH-001", Level::Must, Verdict::Pass, None),
            scenario(
                "AUTH-002",
                Level::Must,
                Verdict::Fail,
                Some("DMRD-6.1-1: expected 401 with Chal, got 200"),
            ),
            scenario(
                "LO-001",
                Level::Must,
                Verdict::NotApplicable,
                Some("feature not claimed in the ICS: large-objects"),
            ),
            scenario(
                "ENC-003",
                Level::Should,
                Verdict::Inconclusive,
                Some("no answer within 30 s"),
            ),
        ],
    )
}

/// Check `v` against the (subset of JSON Schema used by) `schema`.
fn check(v: &Value, schema: &Value, defs: &Value, at: &str) {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => &defs[r.trim_start_matches("#/$defs/")],
        None => schema,
    };
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        assert!(e.contains(v), "{at}: {v} not in {e:?}");
    }
    if let Some(c) = schema.get("const") {
        assert_eq!(v, c, "{at}");
    }
    if let Some(obj) = v.as_object() {
        if let Some(req) = schema.get("required").and_then(Value::as_array) {
            for k in req {
                assert!(obj.contains_key(k.as_str().unwrap()), "{at}: {k} missing");
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, sub) in obj {
                let s = props.get(k);
                if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
                    assert!(s.is_some(), "{at}: {k} is not declared in the schema");
                }
                if let Some(s) = s {
                    check(sub, s, defs, &format!("{at}.{k}"));
                }
            }
        }
        if let Some(names) = schema.get("propertyNames") {
            for k in obj.keys() {
                check(&Value::String(k.clone()), names, defs, &format!("{at} key"));
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            check(x, items, defs, &format!("{at}[{i}]"));
        }
    }
}

#[test]
fn results_json_follows_the_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/results.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let r = report();
    let v: Value = serde_json::from_str(&r.to_json()).unwrap();
    check(&v, &schema, &schema["$defs"], "results");
    assert_eq!(v["exit_code"], 1, "a failed @must scenario");
    assert_eq!(v["totals"]["fail"], 1);
    assert_eq!(v["totals"]["not-applicable"], 1);
    // And back.
    let again: RunReport = serde_json::from_value(v).unwrap();
    assert_eq!(again, r);
}

#[test]
fn written_reports_are_read_by_coverage_and_keep_requirements() {
    let dir = tempfile::tempdir().unwrap();
    let r = report();
    r.write(dir.path()).unwrap();
    let verdicts = dmconf::coverage::results::load(&dir.path().join("results.json")).unwrap();
    assert_eq!(verdicts["AUTH-002"], Verdict::Fail);
    assert_eq!(verdicts["LO-001"], Verdict::NotApplicable);
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(
        junit.contains("tests=\"4\" failures=\"2\" errors=\"0\" skipped=\"1\""),
        "{junit}"
    );
    assert!(junit.contains("<property name=\"requirement\" value=\"DMRD-6.1-1\"/>"));
    assert!(
        junit.contains("&lt;markup&gt; &amp; &quot;quotes&quot;"),
        "escaped"
    );
    assert!(junit.contains(
        "<failure type=\"fail\" message=\"DMRD-6.1-1: expected 401 with Chal, got 200\"/>"
    ));
    assert!(junit.contains("<skipped message=\"feature not claimed in the ICS: large-objects\"/>"));
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(summary.contains("exit code 1"));
    assert!(summary.contains("| AUTH-002 "));
    assert!(!summary.contains("| AUTH-001 "), "passes are not listed");
}
