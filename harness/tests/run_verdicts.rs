#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `dmconf run` against deliberately faulty peers and unusual profiles: the right scenarios
//! fail with readable reasons, unclaimed features are not-applicable, an unreachable client
//! is inconclusive, bad input is a usage error. Needs the workspace's `dm-client` and
//! `dm-server` binaries (`cargo test --workspace` builds them).

use std::path::{Path, PathBuf};
use std::time::Duration;

use dmconf::run::mutants::run_mutants;
use dmconf::run::{run, RunError, RunOptions};
use dmconf::verdict::Verdict;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    assert!(
        dir.join("dm-server").exists() && dir.join("dm-client").exists(),
        "build the reference binaries first: cargo build --workspace"
    );
    dir
}

fn opts(profile: Option<PathBuf>, tags: Option<&str>) -> RunOptions {
    RunOptions {
        profiles: profile.into_iter().collect(),
        tags: tags.map(str::to_owned),
        features: root().join("features"),
        session_vectors: root().join("vectors/sessions"),
        seed: Some(3),
        timeout: Some(Duration::from_secs(20)),
        concurrency: 4,
        fail_fast: false,
        bin_dir: bin_dir(),
        bless: false,
        server_faults: Vec::new(),
        client_faults: Vec::new(),
        progress: false,
    }
}

#[test]
fn a_client_that_sends_no_results_fails_the_get_scenarios_with_the_rule() {
    let power = run_mutants(&opts(None, None), Some("no_results"), false).unwrap();
    assert_eq!(power.mutants.len(), 1);
    let m = &power.mutants[0];
    let tree1 = m
        .caught_by
        .iter()
        .find(|(id, _, _)| id == "TREE-001")
        .expect("TREE-001 catches a client without Results");
    assert_eq!(tree1.1, Verdict::Fail);
    assert!(tree1.2.contains("Results"), "{}", tree1.2);
    assert!(
        tree1.2.contains("facts §"),
        "the reason cites the rule: {}",
        tree1.2
    );
    // Scenarios that need no Results are not blamed.
    assert!(!m.caught_by.iter().any(|(id, _, _)| id == "TREE-002"));
}

#[test]
fn a_server_that_accepts_wrong_credentials_fails_the_authentication_scenarios() {
    let power = run_mutants(&opts(None, None), Some("accept_bad_credentials"), false).unwrap();
    let m = &power.mutants[0];
    let ids: Vec<&str> = m.caught_by.iter().map(|(id, _, _)| id.as_str()).collect();
    assert!(ids.contains(&"AUTH-004"), "{ids:?}");
    assert!(
        ids.iter().all(|id| id.starts_with("AUTH-")),
        "only authentication scenarios: {ids:?}"
    );
    let reason = &m.caught_by[0].2;
    assert!(reason.contains("401") || reason.contains("407"), "{reason}");
}

/// docs/tls.md: a client that trusts any certificate completes handshakes with impostors
/// (TLS-002, TLS-003 fail), and a server answering plain HTTP behind its https:// URL fails
/// TLS-101 and TLS-102; each reason names the requirement.
#[test]
fn tls_faults_fail_the_https_scenarios_with_the_requirement() {
    let power = run_mutants(
        &opts(None, Some("@tls")),
        Some("accept_any_certificate"),
        false,
    )
    .unwrap();
    assert_eq!(power.baseline_passed, 5, "{:?}", power.baseline_open);
    let caught: Vec<(&str, Verdict)> = power.mutants[0]
        .caught_by
        .iter()
        .map(|(id, v, _)| (id.as_str(), *v))
        .collect();
    assert_eq!(
        caught,
        [("TLS-002", Verdict::Fail), ("TLS-003", Verdict::Fail)]
    );
    for (_, _, reason) in &power.mutants[0].caught_by {
        assert!(reason.contains("DMRD-6.1.1.5-1"), "{reason}");
        assert!(reason.contains("completed handshake"), "{reason}");
    }

    let power = run_mutants(&opts(None, Some("@tls")), Some("no_tls"), false).unwrap();
    for id in ["TLS-101", "TLS-102"] {
        let (_, verdict, reason) = power.mutants[0]
            .caught_by
            .iter()
            .find(|(i, _, _)| i == id)
            .unwrap_or_else(|| panic!("{id} catches a server without working HTTPS"));
        assert_eq!(*verdict, Verdict::Fail, "{id}: {reason}");
        assert!(reason.contains("DMRD-6.3.1.2-4"), "{reason}");
        assert!(reason.contains("no TLS"), "{reason}");
    }
}

fn write_profile(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("profile.toml");
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn unclaimed_features_are_not_applicable_and_never_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_profile(
        tmp.path(),
        r#"
[implementation]
name = "no-ui"
version = "1"
vendor = "test"
role = "dm-client"
[ics]
claims = ["auth.md5"]
[ixit]
dev_id = "IMEI:490154203237518"
server_id = "dmconf-tester"
client_auth = { type = "md5", name = "dmconf-device", secret = "device-secret-0123456789" }
[adapter]
kind = "reference"
"#,
    );
    let (report, _) = run(&opts(Some(p), Some("@ui or @id:SESS-001")), "t").unwrap();
    let ui: Vec<_> = report
        .scenarios
        .iter()
        .filter(|s| s.id.starts_with("UI-"))
        .collect();
    assert!(!ui.is_empty());
    for s in &ui {
        assert_eq!(s.verdict, Verdict::NotApplicable, "{}", s.id);
        assert!(
            s.reason.as_deref().unwrap().contains("ui-alerts"),
            "{:?}",
            s.reason
        );
    }
    assert!(
        ui.iter().all(|s| s.role == dmconf::profile::Role::Client),
        "server scenarios are not listed"
    );
    let sess = report
        .scenarios
        .iter()
        .find(|s| s.id == "SESS-001")
        .unwrap();
    assert_eq!(sess.verdict, Verdict::Pass);
    assert_eq!(report.exit_code, 0);
}

#[test]
fn a_client_whose_adapter_fails_is_inconclusive_not_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_profile(
        tmp.path(),
        r#"
[implementation]
name = "broken-adapter"
version = "1"
vendor = "test"
role = "dm-client"
[ixit]
dev_id = "IMEI:1"
server_id = "dmconf-tester"
step_timeout_secs = 5
[adapter]
kind = "exec"
actions = { bootstrap = "true", start_session = "exit 3" }
"#,
    );
    let (report, _) = run(&opts(Some(p), Some("@id:SESS-001")), "t").unwrap();
    let s = &report.scenarios[0];
    assert_eq!(s.verdict, Verdict::Inconclusive, "{:?}", s.reason);
    assert!(
        s.reason.as_deref().unwrap().contains("start_session"),
        "{:?}",
        s.reason
    );
    assert_eq!(
        report.exit_code, 1,
        "an inconclusive @must scenario fails the run"
    );
}

#[test]
fn bad_tag_expressions_and_missing_features_are_usage_errors() {
    let err = run(&opts(None, Some("@a and and")), "t").unwrap_err();
    assert!(matches!(err, RunError::Tags { .. }), "{err}");
    let mut o = opts(None, None);
    o.features = root().join("no-such-folder");
    let err = run(&o, "t").unwrap_err();
    assert!(matches!(err, RunError::Features { .. }), "{err}");
}

#[test]
fn two_implementations_run_against_each_other_through_the_relay() {
    let profiles = root().join("harness/profiles");
    let mut o = opts(None, None);
    o.profiles = vec![
        profiles.join("reference-server.toml"),
        profiles.join("reference-client.toml"),
    ];
    let (report, _) = run(&o, "interop").unwrap();
    assert_eq!(report.implementations.len(), 2);
    assert_eq!(report.exit_code, 0, "{:?}", report.totals);
    let pass = report
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::Pass)
        .count();
    assert!(pass >= 70, "{:?}", report.totals);
    // Both roles are judged in one run, each scenario on the relayed exchange.
    for role in [dmconf::profile::Role::Client, dmconf::profile::Role::Server] {
        assert!(report
            .scenarios
            .iter()
            .any(|s| s.role == role && s.verdict == Verdict::Pass && !s.transcript.is_empty()));
    }
    // What needs a scripted tester is not applicable, with the reason.
    for s in report
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::NotApplicable)
    {
        let r = s.reason.as_deref().unwrap();
        assert!(
            r.contains("tester") || r.contains("interop"),
            "{}: {r}",
            s.id
        );
    }
}

#[test]
fn two_profiles_of_one_role_are_a_usage_error() {
    let profiles = root().join("harness/profiles");
    let mut o = opts(None, None);
    o.profiles = vec![
        profiles.join("reference-client.toml"),
        profiles.join("reference-client.toml"),
    ];
    let err = run(&o, "t").unwrap_err();
    assert!(
        err.to_string()
            .contains("one dm-client profile and one dm-server"),
        "{err}"
    );
}

/// The exec adapter for a server: the reference server as a process, driven through its own
/// CLI by command templates (what a vendor with a CLI but no admin API would write).
#[test]
fn a_server_driven_through_exec_templates_runs_the_server_scenarios() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let bins = bin_dir();
    let mut child = std::process::Command::new(bins.join("dm-server"))
        .args(["serve", "--data"])
        .arg(tmp.path().join("data"))
        .args(["--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut dm, mut admin) = (String::new(), String::new());
    while dm.is_empty() || admin.is_empty() {
        let l = lines.next().unwrap().unwrap();
        if let Some(u) = l.strip_prefix("dm ") {
            dm = u.trim().to_owned();
        } else if let Some(u) = l.strip_prefix("admin ") {
            admin = u.trim().to_owned();
        }
    }
    let cli = format!("{} ", bins.join("dm-server").display());
    let profile = format!(
        r#"
[implementation]
name = "dm-server via exec"
version = "1"
vendor = "test"
role = "dm-server"
[ixit]
dev_id = "IMEI:42"
server_id = "exec-dms"
server_url = "{dm}"
client_auth = {{ type = "md5", name = "dev", secret = "pw" }}
[adapter]
kind = "exec"
[adapter.actions]
register_device = "f=$(mktemp) && printf %s {{device}} > $f && {cli}device add --admin-url {admin} --json $f"
queue_job = "f=$(mktemp) && printf %s {{job}} > $f && {cli}job add --admin-url {admin} --dev-id {{dev_id}} --json $f | sed -n 's/^  \"id\": \\([0-9]*\\),$/\\1/p'"
job_status = "{cli}job show --admin-url {admin} {{job_id}}"
"#,
    );
    let p = write_profile(tmp.path(), &profile);
    let result = run(
        &opts(Some(p), Some("@id:JOB-001 or @id:JOB-004 or @id:SESS-002")),
        "t",
    );
    let _ = child.kill();
    let _ = child.wait();
    let (report, _) = result.unwrap();
    assert_eq!(report.scenarios.len(), 3);
    for s in &report.scenarios {
        assert_eq!(s.verdict, Verdict::Pass, "{}: {:?}", s.id, s.reason);
    }
}
