//! `dmconf mutants`: the suite's power (issue 7 item 10). The self-test runs once as a
//! baseline, then once per fault-injection switch of the reference peers — the server's
//! `--fault` switches (docs/reference-server-engine.md) against the server scenarios, the
//! client's `[faults]` switches (docs/reference-client.md) against the client scenarios. A
//! switch is **caught** when a scenario that passed in the baseline does not pass with it.

use std::fmt::Write as _;

use super::{run_suite, RunError, RunOptions, REFERENCE_CLIENT_PROFILE, REFERENCE_SERVER_PROFILE};
use crate::profile::{Profile, Role};
use crate::report::ScenarioReport;
use crate::verdict::Verdict;

/// What one switch did to the suite.
#[derive(Debug, Clone)]
pub struct Mutant {
    /// The peer it breaks (the role under test).
    pub role: Role,
    /// The switch's name.
    pub fault: String,
    /// Scenarios that passed in the baseline and did not with the switch, with their
    /// verdict and reason.
    pub caught_by: Vec<(String, Verdict, String)>,
}

/// The outcome of `dmconf mutants`.
#[derive(Debug, Clone)]
pub struct Power {
    /// Every switch.
    pub mutants: Vec<Mutant>,
    /// Baseline scenarios per role that did not pass (they cannot catch anything).
    pub baseline_open: Vec<String>,
    /// Baseline scenarios that passed.
    pub baseline_passed: usize,
}

impl Power {
    /// Switches caught / all switches.
    pub fn ratio(&self) -> (usize, usize) {
        let caught = self
            .mutants
            .iter()
            .filter(|m| !m.caught_by.is_empty())
            .count();
        (caught, self.mutants.len())
    }
}

/// The names of a switch set: the fields of its serde form (all booleans).
fn names<T: serde::Serialize + Default>() -> Vec<String> {
    serde_json::to_value(T::default())
        .ok()
        .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
        .unwrap_or_default()
}

/// Every server switch.
pub fn server_switches() -> Vec<String> {
    names::<dm_server::faults::ServerFaults>()
}

/// Every client switch.
pub fn client_switches() -> Vec<String> {
    names::<dm_client::profile::FaultsSection>()
}

fn profile(role: Role) -> Result<Profile, RunError> {
    let (text, path) = match role {
        Role::Client => (REFERENCE_CLIENT_PROFILE, "profiles/reference-client.toml"),
        Role::Server => (REFERENCE_SERVER_PROFILE, "profiles/reference-server.toml"),
    };
    Ok(Profile::from_toml(text, std::path::Path::new(path))?)
}

/// Run the baseline and every switch (or only `only`). `progress` prints a line per switch.
pub fn run_mutants(
    opts: &RunOptions,
    only: Option<&str>,
    progress: bool,
) -> Result<Power, RunError> {
    let seed = opts.seed.unwrap_or(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| RunError::Setup(format!("cannot start the async runtime: {e}")))?;
    let quiet = RunOptions {
        progress: false,
        server_faults: Vec::new(),
        client_faults: Vec::new(),
        ..opts.clone()
    };
    let mut mutants = Vec::new();
    let mut baseline_open = Vec::new();
    let mut baseline_passed = 0;
    for role in [Role::Client, Role::Server] {
        let base = rt
            .block_on(run_suite(&quiet, profile(role)?, None, seed))?
            .scenarios;
        let passed: Vec<&ScenarioReport> =
            base.iter().filter(|s| s.verdict == Verdict::Pass).collect();
        baseline_passed += passed.len();
        baseline_open.extend(
            base.iter()
                .filter(|s| s.verdict != Verdict::Pass && s.verdict != Verdict::NotApplicable)
                .map(|s| format!("{} ({})", s.id, s.verdict.as_str())),
        );
        let switches = match role {
            Role::Client => client_switches(),
            Role::Server => server_switches(),
        };
        for fault in switches {
            if only.is_some_and(|o| o != fault) {
                continue;
            }
            let mut o = quiet.clone();
            match role {
                Role::Client => o.client_faults = vec![fault.clone()],
                Role::Server => o.server_faults = vec![fault.clone()],
            }
            let with = rt
                .block_on(run_suite(&o, profile(role)?, None, seed))?
                .scenarios;
            let caught_by: Vec<(String, Verdict, String)> = with
                .iter()
                .filter(|s| s.verdict != Verdict::Pass && passed.iter().any(|p| p.id == s.id))
                .map(|s| {
                    (
                        s.id.clone(),
                        s.verdict,
                        s.reason.clone().unwrap_or_default(),
                    )
                })
                .collect();
            if progress {
                eprintln!(
                    "{:<7} {:<36} {}",
                    role.tag(),
                    fault,
                    if caught_by.is_empty() {
                        "NOT CAUGHT".to_owned()
                    } else {
                        format!("caught by {} scenario(s)", caught_by.len())
                    }
                );
            }
            mutants.push(Mutant {
                role,
                fault,
                caught_by,
            });
        }
    }
    Ok(Power {
        mutants,
        baseline_open,
        baseline_passed,
    })
}

/// The result as a Markdown table (the body of docs/suite-power.md).
pub fn markdown(p: &Power) -> String {
    let (caught, all) = p.ratio();
    let mut out = format!(
        "{caught} of {all} fault-injection switches caught ({}%); baseline: {} scenarios passed",
        (caught * 100).checked_div(all).unwrap_or(0),
        p.baseline_passed
    );
    if p.baseline_open.is_empty() {
        out.push_str(", none open.\n\n");
    } else {
        let _ = write!(out, "; open: {}.\n\n", p.baseline_open.join(", "));
    }
    out.push_str("| peer | switch | caught by | first reason |\n|---|---|---|---|\n");
    for m in &p.mutants {
        let peer = match m.role {
            Role::Client => "dm-client",
            Role::Server => "dm-server",
        };
        let ids: Vec<&str> = m.caught_by.iter().map(|(id, _, _)| id.as_str()).collect();
        let reason = m
            .caught_by
            .first()
            .map(|(_, v, r)| format!("{}: {}", v.as_str(), r.replace('|', "\\|")))
            .unwrap_or_else(|| "**not caught**".into());
        let _ = writeln!(
            out,
            "| {peer} | `{}` | {} | {} |",
            m.fault,
            if ids.is_empty() {
                "—".to_owned()
            } else {
                ids.join(", ")
            },
            reason
        );
    }
    out
}
