//! Runs the auth, pkg0, uri and acl golden vectors against dm-protocol, and proves the
//! checkers notice a wrong vector.
#![allow(clippy::unwrap_used)]

use dmconf::vectors::{self, Outcome};
use std::path::{Path, PathBuf};

fn vectors_dir(cat: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("vectors")
        .join(cat)
}

fn assert_all_pass(cat: &str, outcomes: &[Outcome], min: usize) {
    let failures: Vec<String> = outcomes
        .iter()
        .filter_map(|o| {
            o.result
                .as_ref()
                .err()
                .map(|e| format!("{} ({}):\n{e}", o.id, o.source.display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{cat}: {} of {} vectors failed:\n{}",
        failures.len(),
        outcomes.len(),
        failures.join("\n")
    );
    assert!(
        outcomes.len() >= min,
        "{cat}: only {} vectors, expected at least {min}",
        outcomes.len()
    );
}

#[test]
fn auth_vectors_pass() {
    assert_all_pass("auth", &vectors::auth::check(&vectors_dir("auth")), 10);
}

#[test]
fn pkg0_vectors_pass() {
    assert_all_pass("pkg0", &vectors::pkg0::check(&vectors_dir("pkg0")), 12);
}

#[test]
fn uri_vectors_pass() {
    assert_all_pass("uri", &vectors::uri::check(&vectors_dir("uri")), 20);
}

#[test]
fn acl_vectors_pass() {
    assert_all_pass("acl", &vectors::acl::check(&vectors_dir("acl")), 15);
}

/// A fresh scratch directory under the system temp dir (no tempfile dependency).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dmconf-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn checkers_fail_on_wrong_vectors() {
    let dir = scratch("wrong-sec-vectors");
    let write = |cat: &str, body: &str| {
        let d = dir.join(cat);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("wrong.json"), body).unwrap();
        d
    };
    // facts §6.1 md5 example with one character of the digest changed.
    let d = write(
        "auth",
        r#"{"category": "auth", "cases": [{"id": "wrong-md5", "description": "deliberately wrong",
            "op": "md5_credential",
            "input": {"username": "Bruce2", "password": "OhBehave", "nonce_hex": "4e6f6e6365"},
            "expect": {"credential": "Zz6EivR3yeaaENcRN6lpAq=="}}]}"#,
    );
    let out = vectors::auth::check(&d);
    assert_eq!(out.len(), 1);
    let why = out[0].result.as_ref().unwrap_err();
    assert!(why.contains("Zz6EivR3yeaaENcRN6lpAQ=="), "{why}");
    assert!(why.contains("Zz6EivR3yeaaENcRN6lpAq=="), "{why}");

    // Wrong error kind for pkg0 decode.
    let d = write(
        "pkg0",
        r#"{"category": "pkg0", "cases": [{"id": "wrong-kind", "description": "deliberately wrong",
            "op": "decode", "input": {"message_hex": ""}, "error": "session_id_zero"}]}"#,
    );
    let out = vectors::pkg0::check(&d);
    assert!(out[0].result.as_ref().unwrap_err().contains("too_short"));

    // Expecting success where the URI is invalid.
    let d = write(
        "uri",
        r#"{"category": "uri", "cases": [{"id": "wrong-uri", "description": "deliberately wrong",
            "op": "parse", "input": {"uri": "a/../b"},
            "expect": {"canonical": "./b", "segments": ["b"], "depth": 1, "query": null}}]}"#,
    );
    assert!(vectors::uri::check(&d)[0].result.is_err());

    // Wrong canonical form, and an unknown op: both fail.
    let d = write(
        "acl",
        r#"{"category": "acl", "cases": [
            {"id": "wrong-acl", "description": "deliberately wrong", "op": "parse",
             "input": {"acl": "Get=*&Add=a"},
             "expect": {"canonical": "Get=*&Add=a", "empty": false, "entries": {"Add": ["a"], "Get": ["*"]}}},
            {"id": "bad-op", "description": "unknown op", "op": "frobnicate", "input": {}, "expect": {}}]}"#,
    );
    let out = vectors::acl::check(&d);
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|o| o.result.is_err()));
    assert!(out[1]
        .result
        .as_ref()
        .unwrap_err()
        .contains("unknown acl op"));

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_directory_is_a_failure() {
    let out = vectors::acl::check(Path::new("/nonexistent/dmconf/acl"));
    assert_eq!(out.len(), 1);
    assert!(out[0].result.is_err());
}
