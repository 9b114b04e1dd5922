//! The self-test (issue 7 item 11): `dmconf run` without a profile — the reference client and
//! the reference server, each a separate process driven through its adapter, each tested by
//! the other reference peer in tester mode — must pass, and its verdicts must equal the
//! checked-in baseline `reports/self-test.baseline` (one `id role level verdict` line per
//! scenario). A difference fails with a unified diff; after a deliberate change, refresh the
//! baseline with `DMCONF_BLESS=1 cargo test -p dmconf --test selftest` and review the diff.
//!
//! `harness = false`: this is one run of the whole suite, not a set of unit tests. It needs
//! the workspace's `dm-client` and `dm-server` binaries beside the test binary's folder
//! (`cargo test --workspace` builds them).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use dmconf::run::{run, RunOptions};
use dmconf::verdict::Level;

fn bin_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // target/<profile>/deps/selftest-… → target/<profile>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("no target folder")?
        .to_path_buf();
    for bin in ["dm-client", "dm-server"] {
        let p = dir.join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
        if !p.exists() {
            return Err(format!(
                "{} is missing: run `cargo build --workspace` (cargo test --workspace builds it)",
                p.display()
            ));
        }
    }
    Ok(dir)
}

fn level(l: Level) -> &'static str {
    match l {
        Level::Must => "must",
        Level::Should => "should",
        Level::May => "may",
    }
}

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let bins = match bin_dir() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("selftest: {e}");
            return ExitCode::FAILURE;
        }
    };
    let opts = RunOptions {
        profiles: Vec::new(),
        tags: None,
        features: root.join("features"),
        session_vectors: root.join("vectors/sessions"),
        seed: Some(7),
        timeout: Some(Duration::from_secs(30)),
        concurrency: 4,
        fail_fast: false,
        bin_dir: bins,
        bless: false,
        server_faults: Vec::new(),
        client_faults: Vec::new(),
        progress: false,
    };
    let (report, _) = match run(&opts, "selftest") {
        Ok(r) => r,
        Err(e) => {
            eprintln!("selftest: the run failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut lines: Vec<String> = report
        .scenarios
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {}",
                s.id,
                s.role.tag(),
                level(s.level),
                s.verdict.as_str()
            )
        })
        .collect();
    lines.sort();
    let actual = lines.join("\n") + "\n";
    let path = root.join("reports/self-test.baseline");
    if std::env::var_os("DMCONF_BLESS").is_some() {
        if let Err(e) = std::fs::write(&path, &actual) {
            eprintln!("selftest: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("selftest: wrote {}", path.display());
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    let mut failed = false;
    if expected != actual {
        eprintln!(
            "selftest: the verdicts differ from {} (refresh with DMCONF_BLESS=1 after a deliberate change):\n{}",
            path.display(),
            dmconf::vectors::unified_diff(&expected, &actual)
        );
        failed = true;
    }
    for s in report
        .scenarios
        .iter()
        .filter(|s| s.verdict.as_str() != "pass")
    {
        eprintln!(
            "selftest: {} {} — {}",
            s.id,
            s.verdict.as_str(),
            s.reason.as_deref().unwrap_or("")
        );
    }
    if report.exit_code != 0 {
        eprintln!(
            "selftest: the reference pair does not pass the suite (exit code {})",
            report.exit_code
        );
        failed = true;
    }
    println!(
        "selftest: {} scenarios, {:?}, {}",
        report.scenarios.len(),
        report.totals,
        if failed { "FAILED" } else { "ok" }
    );
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
