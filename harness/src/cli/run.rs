//! `dmconf run`: run the feature files against an implementation (or the self-test) and
//! write the reports.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;

use super::Failure;
use crate::run::{run, RunOptions};
use crate::verdict::Verdict;

/// `dmconf run` arguments.
#[derive(Debug, Args)]
#[command(
    after_help = "Without --profile, runs the self-test: the reference client and the \
reference server, each a separate process driven through an adapter, each tested by the other \
reference peer in tester mode.\n\nExit codes: 0 every applicable @must scenario passed; 1 one \
failed or was inconclusive; 2 a harness or usage error.\nGuides: docs/vendor-guide.md, \
docs/interop-guide.md; profiles: docs/profiles.md"
)]
pub struct RunArgs {
    /// The implementation's profile (TOML, docs/profiles.md); none: the self-test. Give two
    /// (a dm-client and a dm-server) to run them against each other (interop).
    #[arg(long, value_name = "FILE")]
    profile: Vec<PathBuf>,
    /// Only scenarios matching this tag expression, e.g. "@auth and not @may".
    #[arg(long, value_name = "EXPR")]
    tags: Option<String>,
    /// Reports go to `DIR/<run-id>/`.
    #[arg(long, value_name = "DIR", default_value = "reports/runs")]
    report_dir: PathBuf,
    /// Seed of every random choice (nonces, session ids): the same seed replays a run.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Each step's deadline in seconds (default: the profile's step_timeout_secs).
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Scenarios run at once (use 1 for a single physical device).
    #[arg(long, value_name = "N", default_value_t = 4)]
    concurrency: usize,
    /// Stop after the first scenario that does not pass.
    #[arg(long)]
    fail_fast: bool,
    /// The features folder.
    #[arg(long, value_name = "DIR", default_value = "features")]
    features: PathBuf,
    /// The session golden vectors folder.
    #[arg(long, value_name = "DIR", default_value = "vectors/sessions")]
    session_vectors: PathBuf,
    /// Write the session vectors from this run instead of comparing (review the diff!).
    #[arg(long)]
    bless: bool,
    /// Where the dm-client and dm-server binaries are (default: beside dmconf).
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
    /// Print only the summary, not one line per scenario.
    #[arg(long, short)]
    quiet: bool,
}

/// The folder of the running executable: the reference binaries are built beside it.
pub fn default_bin_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A run id from the clock: `YYYY-MM-DDThh-mm-ss`.
pub fn run_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::html::utc(secs)
        .trim_end_matches(" UTC")
        .replace(' ', "T")
        .replace(':', "-")
}

impl RunArgs {
    /// The run options these arguments ask for.
    pub fn options(&self) -> RunOptions {
        RunOptions {
            profiles: self.profile.clone(),
            tags: self.tags.clone(),
            features: self.features.clone(),
            session_vectors: self.session_vectors.clone(),
            seed: self.seed,
            timeout: self.timeout.map(Duration::from_secs),
            concurrency: self.concurrency,
            fail_fast: self.fail_fast,
            bin_dir: self.bin_dir.clone().unwrap_or_else(default_bin_dir),
            bless: self.bless,
            server_faults: Vec::new(),
            client_faults: Vec::new(),
            progress: !self.quiet,
        }
    }
}

/// Run and report.
pub fn execute(args: RunArgs) -> Result<(), Failure> {
    let id = run_id();
    let opts = args.options();
    let (report, cucumber) = run(&opts, &id).map_err(|e| Failure::Usage(e.to_string()))?;
    let dir = args.report_dir.join(&id);
    report
        .write(&dir)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let cucumber_path = dir.join("cucumber.json");
    let text = serde_json::to_string_pretty(&cucumber).unwrap_or_default();
    std::fs::write(&cucumber_path, text)
        .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", cucumber_path.display())))?;
    let totals: Vec<String> = report
        .totals
        .iter()
        .map(|(v, n)| format!("{n} {v}"))
        .collect();
    println!(
        "{} scenarios: {}; seed {}; reports in {}",
        report.scenarios.len(),
        totals.join(", "),
        report.seed,
        dir.display()
    );
    for s in report.scenarios.iter().filter(|s| {
        matches!(
            s.verdict,
            Verdict::Fail | Verdict::Inconclusive | Verdict::Error
        )
    }) {
        println!(
            "  {} {} [{}]: {}",
            s.verdict.as_str(),
            s.id,
            s.reqs.join(", "),
            s.reason.as_deref().unwrap_or("")
        );
    }
    match report.exit_code {
        0 => Ok(()),
        1 => Err(Failure::Check(format!(
            "an applicable @must scenario did not pass; see {}",
            dir.join("summary.md").display()
        ))),
        _ => Err(Failure::Usage(format!(
            "the harness failed on a scenario (verdict error); see {}",
            dir.join("summary.md").display()
        ))),
    }
}

/// `dmconf mutants` arguments.
#[derive(Debug, Args)]
#[command(
    after_help = "Runs the self-test once as a baseline, then once per fault-injection \
switch of the reference client and server; a switch is caught when a scenario that passed in \
the baseline does not pass with it. Exit 0 when at least 90% of the switches are caught, 1 \
otherwise, 2 on a harness or usage error.\nResults: docs/suite-power.md"
)]
pub struct MutantsArgs {
    /// Only this switch (e.g. no_final).
    #[arg(long, value_name = "NAME")]
    only: Option<String>,
    /// Write the Markdown table to FILE as well as printing it.
    #[arg(long, value_name = "FILE")]
    write: Option<PathBuf>,
    /// The features folder.
    #[arg(long, value_name = "DIR", default_value = "features")]
    features: PathBuf,
    /// The session golden vectors folder.
    #[arg(long, value_name = "DIR", default_value = "vectors/sessions")]
    session_vectors: PathBuf,
    /// Where the dm-client and dm-server binaries are (default: beside dmconf).
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
    /// Seed of every run (default 1).
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// Scenarios run at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    concurrency: usize,
}

/// Run `dmconf mutants`.
pub fn mutants(args: MutantsArgs) -> Result<(), Failure> {
    use crate::run::mutants::{client_switches, markdown, run_mutants, server_switches};
    if let Some(o) = &args.only {
        if !client_switches().contains(o) && !server_switches().contains(o) {
            return Err(Failure::Usage(format!(
                "unknown switch {o:?}; client: {}; server: {}",
                client_switches().join(", "),
                server_switches().join(", ")
            )));
        }
    }
    let opts = RunOptions {
        profiles: Vec::new(),
        tags: None,
        features: args.features.clone(),
        session_vectors: args.session_vectors.clone(),
        seed: Some(args.seed),
        timeout: None,
        concurrency: args.concurrency,
        fail_fast: false,
        bin_dir: args.bin_dir.clone().unwrap_or_else(default_bin_dir),
        bless: false,
        server_faults: Vec::new(),
        client_faults: Vec::new(),
        progress: false,
    };
    let power = run_mutants(&opts, args.only.as_deref(), true)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let table = markdown(&power);
    println!("{table}");
    if let Some(path) = &args.write {
        std::fs::write(path, &table)
            .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", path.display())))?;
    }
    let (caught, all) = power.ratio();
    if args.only.is_none() && caught * 10 < all * 9 {
        return Err(Failure::Check(format!(
            "only {caught} of {all} switches caught; the suite needs at least 90%"
        )));
    }
    Ok(())
}
