#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The exec adapter with real processes: placeholders filled and quoted (a value never runs
//! as a command), stdout returned, failures and deadlines reported as adapter errors.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dmconf::adapter::exec::{fill, ExecAdapter};
use dmconf::adapter::AdapterError;

fn adapter(pairs: &[(&str, &str)], secs: u64) -> ExecAdapter {
    ExecAdapter::new(
        pairs
            .iter()
            .map(|(a, t)| (a.to_string(), t.to_string()))
            .collect(),
        Duration::from_secs(secs),
    )
}

fn values(pairs: &[(&'static str, &str)]) -> BTreeMap<&'static str, String> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

#[test]
fn placeholders_are_filled_and_quoted() {
    let v = values(&[
        ("server_url", "http://h:1/dm"),
        ("data", "it's $(rm -rf /)"),
    ]);
    assert_eq!(
        fill(
            "a",
            "agent --url {server_url} --data {data} {{literal}}",
            &v
        )
        .unwrap(),
        "agent --url 'http://h:1/dm' --data 'it'\\''s $(rm -rf /)' {literal}"
    );
    let err = fill("start_session", "agent {nope}", &v).unwrap_err();
    assert!(err.to_string().contains("{nope}"), "{err}");
    assert!(err.to_string().contains("data, server_url"), "{err}");
}

#[test]
fn a_value_never_runs_as_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let a = adapter(&[("send_alert", "echo {data}")], 5);
    let v = values(&[("data", &format!("x; touch {}", marker.display()))]);
    let out = a.perform("send_alert", &v).unwrap();
    assert_eq!(out.stdout.trim(), format!("x; touch {}", marker.display()));
    assert!(!marker.exists());
}

#[test]
fn failures_and_deadlines_are_adapter_errors() {
    let a = adapter(
        &[
            ("restart", "echo broken >&2; exit 3"),
            ("start_session", "sleep 5"),
        ],
        1,
    );
    let v = BTreeMap::new();
    assert_eq!(
        a.perform("restart", &v),
        Err(AdapterError::Failed {
            action: "restart".into(),
            code: Some(3),
            stderr: "broken".into()
        })
    );
    let started = Instant::now();
    assert!(matches!(
        a.perform("start_session", &v),
        Err(AdapterError::Timeout { secs: 1, .. })
    ));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "killed at the deadline"
    );
    assert!(matches!(
        a.perform("answer_ui", &v),
        Err(AdapterError::NoAction(_))
    ));
}
