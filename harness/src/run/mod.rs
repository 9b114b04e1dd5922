//! `dmconf run`: the feature files, run by cucumber, drive a reference peer in tester mode
//! against an implementation under test (IUT) and give a verdict per scenario
//! (shared/docs/conformance-model.md).
//!
//! One suite run tests one IUT ([`run_suite`]). Without a profile, [`run`] does the
//! **self-test**: the reference client as a separate process (reference adapter) tested by the
//! reference server library in tester mode, then the reference server as a separate process
//! (driven through its admin API, the `http` adapter) tested by the reference client library
//! in tester mode. Both go into one report.
//!
//! Verdicts come from the world after each scenario: a step that recorded a [`world::Why`]
//! decides; a panic is a harness `error`; scenarios whose role or ICS features do not match
//! the profile are `not-applicable` without running; scenarios with malformed tags or steps
//! no definition matches are `error` without running.

pub mod client_side;
pub mod context;
pub mod mutants;
pub mod proxy;
pub mod server_side;
pub mod steps;
pub mod tls;
pub mod world;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cucumber::gherkin;
use cucumber::tag::Ext as _;

use self::context::{ContextSettings, RunContext};
use self::server_side::ServerIut;
use self::world::{DmWorld, Why};
use crate::adapter::manual::ManualAdapter;
use crate::profile::{Adapter, Feature, Profile, Role};
use crate::report::{RunReport, ScenarioReport};
use crate::verdict::{ScenarioTags, Verdict};

/// The reference client's self-test profile.
pub const REFERENCE_CLIENT_PROFILE: &str = include_str!("../../profiles/reference-client.toml");
/// The reference server's self-test profile.
pub const REFERENCE_SERVER_PROFILE: &str = include_str!("../../profiles/reference-server.toml");

/// What `dmconf run` was asked.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The IUT's profile; none runs the self-test; two (a client and a server) run the
    /// implementations against each other (interop, docs/interop-guide.md).
    pub profiles: Vec<PathBuf>,
    /// A cucumber tag expression selecting scenarios (e.g. `@auth and not @may`).
    pub tags: Option<String>,
    /// The features folder.
    pub features: PathBuf,
    /// The session vectors folder.
    pub session_vectors: PathBuf,
    /// The run's seed (`None`: from the clock).
    pub seed: Option<u64>,
    /// Overrides the IXIT step deadline.
    pub timeout: Option<Duration>,
    /// Scenarios run at once.
    pub concurrency: usize,
    /// Stop at the first scenario that does not pass.
    pub fail_fast: bool,
    /// Where `dm-client` and `dm-server` are.
    pub bin_dir: PathBuf,
    /// Write session vectors instead of comparing.
    pub bless: bool,
    /// Fault switches of the reference server under test (`dmconf mutants`).
    pub server_faults: Vec<String>,
    /// Fault switches of the reference client under test (`dmconf mutants`).
    pub client_faults: Vec<String>,
    /// Print one line per scenario.
    pub progress: bool,
}

/// Why a run could not happen (exit code 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The profile is unusable.
    #[error(transparent)]
    Profile(#[from] crate::profile::ProfileError),
    /// The `--tags` expression does not parse.
    #[error("--tags {expr:?} is not a tag expression: {reason} (example: \"@auth and not @may\")")]
    Tags {
        /// The expression.
        expr: String,
        /// The parser's message.
        reason: String,
    },
    /// The features folder cannot be read or a feature does not parse.
    #[error("cannot read the features under {path}: {reason}")]
    Features {
        /// The folder.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The IUT could not be prepared (spawned, reached).
    #[error("cannot prepare the implementation under test: {0}")]
    Setup(String),
}

/// The results of one suite run.
#[derive(Debug)]
pub struct SuiteResult {
    /// The IUT (an interop run: the server).
    pub profile: Profile,
    /// An interop run: the client.
    pub client_profile: Option<Profile>,
    /// Every scenario.
    pub scenarios: Vec<ScenarioReport>,
    /// Cucumber JSON of the scenarios that ran.
    pub cucumber_json: Vec<serde_json::Value>,
}

/// Run the suite: against the profile's IUT, or the self-test without one.
pub fn run(
    opts: &RunOptions,
    run_id: &str,
) -> Result<(RunReport, Vec<serde_json::Value>), RunError> {
    let seed = opts.seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let started_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let loaded: Vec<Profile> = opts
        .profiles
        .iter()
        .map(|p| Profile::load(p))
        .collect::<Result<_, _>>()?;
    // Each suite run: (the IUT or interop server, the interop client).
    let suites: Vec<(Profile, Option<Profile>)> = match loaded.len() {
        0 => vec![
            Profile::from_toml(
                REFERENCE_CLIENT_PROFILE,
                Path::new("profiles/reference-client.toml"),
            )?,
            Profile::from_toml(
                REFERENCE_SERVER_PROFILE,
                Path::new("profiles/reference-server.toml"),
            )?,
        ]
        .into_iter()
        .map(|p| (p, None))
        .collect(),
        1 => loaded.into_iter().map(|p| (p, None)).collect(),
        2 => {
            let mut it = loaded.into_iter();
            let (a, b) = match (it.next(), it.next()) {
                (Some(a), Some(b)) => (a, b),
                _ => return Err(RunError::Setup("two profiles expected".into())),
            };
            let (client, server) = match (a.implementation.role, b.implementation.role) {
                (Role::Client, Role::Server) => (a, b),
                (Role::Server, Role::Client) => (b, a),
                _ => {
                    return Err(RunError::Setup(
                        "an interop run needs one dm-client profile and one dm-server profile".into(),
                    ))
                }
            };
            vec![(server, Some(client))]
        }
        n => {
            return Err(RunError::Setup(format!(
                "{n} profiles given: give one (test an implementation), two (a client and a server: interop) or none (self-test)"
            )))
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| RunError::Setup(format!("cannot start the async runtime: {e}")))?;
    let mut scenarios = Vec::new();
    let mut cucumber_json = Vec::new();
    let mut implementations = Vec::new();
    for (profile, client) in suites {
        let r = rt.block_on(run_suite(opts, profile, client, seed))?;
        if let Some(c) = &r.client_profile {
            implementations.push(c.implementation.clone());
        }
        implementations.push(r.profile.implementation.clone());
        scenarios.extend(r.scenarios);
        cucumber_json.extend(r.cucumber_json);
    }
    Ok((
        RunReport::new(
            run_id.to_owned(),
            started_at,
            seed,
            implementations,
            scenarios,
        ),
        cucumber_json,
    ))
}

/// Scenario selection and pre-flight (tags, applicability, step definitions).
struct Selection {
    tags: Option<gherkin::tagexpr::TagOperation>,
    patterns: Vec<(steps::Kind, regex::Regex)>,
    ctx: Arc<RunContext>,
    not_run: Arc<Mutex<Vec<ScenarioReport>>>,
}

fn rel_path(feature: &gherkin::Feature) -> String {
    feature
        .path
        .as_ref()
        .map(|p| {
            let s = p.display().to_string();
            match s.find("features/") {
                Some(i) => s[i..].to_owned(),
                None => s,
            }
        })
        .unwrap_or_default()
}

fn all_tags(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    sc: &gherkin::Scenario,
) -> Vec<String> {
    let mut t = feature.tags.clone();
    if let Some(r) = rule {
        t.extend(r.tags.iter().cloned());
    }
    t.extend(sc.tags.iter().cloned());
    t
}

impl Selection {
    fn unrun(
        &self,
        feature: &gherkin::Feature,
        sc: &gherkin::Scenario,
        tags: Option<&ScenarioTags>,
        verdict: Verdict,
        reason: String,
    ) {
        let report = ScenarioReport {
            id: tags.map_or_else(|| format!("line-{}", sc.position.line), |t| t.id.clone()),
            name: sc.name.clone(),
            feature: rel_path(feature),
            reqs: tags.map(|t| t.reqs.clone()).unwrap_or_default(),
            role: tags.map_or(self.ctx.role, |t| t.role),
            level: tags.map_or(crate::verdict::Level::Must, |t| t.level),
            verdict,
            reason: Some(reason),
            duration_ms: 0,
            seed: tags.map_or(0, |t| self.ctx.scenario_seed(&t.id)),
            transcript: Vec::new(),
            diffs: Vec::new(),
        };
        match self.not_run.lock() {
            Ok(mut v) => v.push(report),
            Err(p) => p.into_inner().push(report),
        }
    }

    /// Whether cucumber should run the scenario; records those it will not run (except
    /// those `--tags` leaves out).
    fn select(
        &self,
        feature: &gherkin::Feature,
        rule: Option<&gherkin::Rule>,
        sc: &gherkin::Scenario,
    ) -> bool {
        let tags = all_tags(feature, rule, sc);
        if let Some(op) = &self.tags {
            if !op.eval(tags.iter()) {
                return false;
            }
        }
        let parsed = match ScenarioTags::parse(tags.iter().map(String::as_str)) {
            Ok(t) => t,
            Err(e) => {
                self.unrun(
                    feature,
                    sc,
                    None,
                    Verdict::Error,
                    format!("scenario tags: {e}"),
                );
                return false;
            }
        };
        // A scenario for a role no implementation plays is simply not part of the run.
        let Some(judged) = self.ctx.profile_for(parsed.role) else {
            return false;
        };
        let mut applies = parsed.applies_to(judged);
        // Between two implementations, both must claim what the scenario needs.
        if let (Ok(()), Some(other)) = (
            &applies,
            self.ctx.profile_for(match parsed.role {
                Role::Client => Role::Server,
                Role::Server => Role::Client,
            }),
        ) {
            let missing: Vec<&str> = parsed
                .needs
                .iter()
                .filter(|f| !f.one_sided() && !other.claims(**f))
                .map(|f| f.name())
                .collect();
            if !missing.is_empty() {
                applies = Err(format!(
                    "the other implementation does not claim {} in its ICS",
                    missing.join(", ")
                ));
            }
        }
        if let Err(why) = applies {
            self.unrun(feature, sc, Some(&parsed), Verdict::NotApplicable, why);
            return false;
        }
        let background = feature.background.iter().flat_map(|b| &b.steps);
        for step in background.chain(&sc.steps) {
            let kind = match step.ty {
                gherkin::StepType::Given => steps::Kind::Given,
                gherkin::StepType::When => steps::Kind::When,
                gherkin::StepType::Then => steps::Kind::Then,
            };
            if !self
                .patterns
                .iter()
                .any(|(k, re)| *k == kind && re.is_match(&step.value))
            {
                self.unrun(
                    feature,
                    sc,
                    Some(&parsed),
                    Verdict::Error,
                    format!(
                        "no step definition matches `{} {}` (docs/steps.md lists them)",
                        step.keyword.trim(),
                        step.value
                    ),
                );
                return false;
            }
        }
        true
    }
}

fn server_url(profile: &Profile) -> Result<String, RunError> {
    // The trust anchors are read by every tester device: a missing file is said once, here.
    for a in &profile.ixit.trust_anchors {
        std::fs::read(a).map_err(|e| {
            RunError::Setup(format!(
                "[ixit] trust_anchors: cannot read {} ({e}); give the PEM file of the CA that \
                 issued the server's certificate",
                a.display()
            ))
        })?;
    }
    profile.ixit.server_url.clone().ok_or_else(|| {
        RunError::Setup("a server profile needs [ixit] server_url: the DM URL devices use".into())
    })
}

/// Prepare the IUT of `profile` and run every selected scenario against it.
pub async fn run_suite(
    opts: &RunOptions,
    profile: Profile,
    client_profile: Option<Profile>,
    seed: u64,
) -> Result<SuiteResult, RunError> {
    let tags = match &opts.tags {
        Some(e) => {
            Some(
                e.parse::<gherkin::tagexpr::TagOperation>()
                    .map_err(|err| RunError::Tags {
                        expr: e.clone(),
                        reason: err.to_string(),
                    })?,
            )
        }
        None => None,
    };
    let work = tempfile::Builder::new()
        .prefix("dmconf-run-")
        .tempdir()
        .map_err(|e| RunError::Setup(format!("cannot make a scratch directory: {e}")))?;
    let step_timeout = opts
        .timeout
        .unwrap_or(Duration::from_secs(profile.ixit.step_timeout_secs));
    let manual = [Some(&profile), client_profile.as_ref()]
        .into_iter()
        .flatten()
        .find_map(|p| match &p.adapter {
            Adapter::Manual { timeout_secs } => Some(Arc::new(Mutex::new(
                ManualAdapter::terminal(Duration::from_secs(*timeout_secs)),
            ))),
            _ => None,
        });
    // facts §6.4: the run's test CAs, for the peers the harness runs over HTTPS.
    let tls = tls::RunTls::generate(&work.path().join("tls")).map_err(RunError::Setup)?;
    let server_iut = match (profile.implementation.role, &profile.adapter) {
        (Role::Server, Adapter::Reference) => {
            let bin = opts.bin_dir.join(format!("dm-server{}", std::env::consts::EXE_SUFFIX));
            // A reference server claiming `tls` serves HTTPS only, as a deployed one would.
            let https = profile.claims(Feature::Tls).then_some(&tls);
            Some(Arc::new(
                ServerIut::spawn(
                    &bin,
                    &work.path().join("iut-server"),
                    seed,
                    &opts.server_faults,
                    https,
                    step_timeout.max(Duration::from_secs(10)),
                )
                .await
                .map_err(RunError::Setup)?,
            ))
        }
        (Role::Server, Adapter::Http { admin_url }) => Some(Arc::new(ServerIut::reach(
            server_side::ServerAdmin::Http(crate::adapter::http::HttpAdapter::new(
                admin_url,
                step_timeout,
            )),
            &server_url(&profile)?,
            profile.ixit.trust_anchors.clone(),
        ))),
        (Role::Server, Adapter::Exec { actions }) => Some(Arc::new(ServerIut::reach(
            server_side::ServerAdmin::Exec(crate::adapter::exec::ExecAdapter::new(
                actions.clone(),
                step_timeout,
            )),
            &server_url(&profile)?,
            profile.ixit.trust_anchors.clone(),
        ))),
        (Role::Server, Adapter::Manual { .. }) => {
            return Err(RunError::Setup(
                "a dm-server under test must report its jobs' statuses to the harness: use [adapter] kind = \"http\" (docs/admin-api.md) or \"exec\" (docs/adapters.md); manual is for clients".into(),
            ))
        }
        (Role::Client, _) => None,
    };
    let mut ctx = RunContext::new(
        profile.clone(),
        ContextSettings {
            timeout: opts.timeout,
            seed,
            work: work.path().to_owned(),
            bin_dir: opts.bin_dir.clone(),
            client_faults: opts.client_faults.clone(),
            session_vectors: opts.session_vectors.clone(),
            bless: opts.bless,
            tls,
        },
        server_iut,
        manual,
    );
    ctx.client_profile = client_profile.clone();
    let ctx = Arc::new(ctx);
    let (collection, patterns) = steps::collection().map_err(RunError::Setup)?;
    let not_run = Arc::new(Mutex::new(Vec::new()));
    let ran = Arc::new(Mutex::new(Vec::new()));
    let selection = Selection {
        tags,
        patterns,
        ctx: ctx.clone(),
        not_run: not_run.clone(),
    };
    if !opts.features.is_dir() {
        return Err(RunError::Features {
            path: opts.features.clone(),
            reason: "not a folder (run from the repository root or pass --features)".into(),
        });
    }
    let json_path = work.path().join("cucumber.json");
    let json_file = std::fs::File::create(&json_path)
        .map_err(|e| RunError::Setup(format!("cannot write {}: {e}", json_path.display())))?;
    // One device under test (a vendor's client, or any interop run) takes one scenario at a
    // time; the reference client gets a fresh device per scenario.
    let one_device = client_profile.is_some()
        || (profile.implementation.role == Role::Client && profile.adapter != Adapter::Reference);
    let concurrency = if one_device {
        1
    } else {
        opts.concurrency.max(1)
    };
    let before_ctx = ctx.clone();
    let after_ran = ran.clone();
    let progress = opts.progress;
    let cuc = cucumber::Cucumber::<DmWorld, _, PathBuf, _, _, cucumber::cli::Empty>::custom(
        cucumber::parser::Basic::new(),
        cucumber::runner::Basic::default(),
        cucumber::writer::Json::new(json_file),
    )
    .steps(collection)
    .with_default_cli()
    .max_concurrent_scenarios(concurrency)
    .before(move |feature, rule, sc, w: &mut DmWorld| {
        let ctx = before_ctx.clone();
        Box::pin(async move {
            let tags = all_tags(feature, rule, sc);
            let parsed = ScenarioTags::parse(tags.iter().map(String::as_str)).ok();
            w.id = parsed.as_ref().map(|t| t.id.clone()).unwrap_or_default();
            w.scenario_role = parsed.map(|t| t.role);
            w.n = ctx.next();
            w.seed = ctx.scenario_seed(&w.id);
            w.dir = ctx.work.join(format!("{:03}-{}", w.n, w.id));
            w.started = Some(Instant::now());
            w.ctx = Some(ctx);
        })
    })
    .after(move |feature, rule, sc, ev, w: Option<&mut DmWorld>| {
        let ran = after_ran.clone();
        Box::pin(async move {
            // Jobs the scenario left unsent must not reach a later scenario's session.
            if let Some(w) = w.as_ref() {
                if let Some(server_side::ServerSide::Iut(s)) = &w.server {
                    for id in &w.jobs {
                        let _ = s.admin.cancel_job(*id).await;
                    }
                }
            }
            let report = scenario_report(feature, rule, sc, ev, w);
            if progress {
                eprintln!(
                    "{:<14} {:<15} {}",
                    report.verdict.as_str(),
                    report.id,
                    report.name
                );
            }
            match ran.lock() {
                Ok(mut v) => v.push(report),
                Err(p) => p.into_inner().push(report),
            }
        })
    });
    let cuc = if opts.fail_fast { cuc.fail_fast() } else { cuc };
    let parse_errors = cuc
        .filter_run(opts.features.clone(), move |f, r, s| {
            selection.select(f, r, s)
        })
        .await;
    drop(parse_errors);
    let mut scenarios: Vec<ScenarioReport> = Vec::new();
    for v in [&not_run, &ran] {
        let mut g = match v.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        scenarios.append(&mut g);
    }
    scenarios.sort_by(|a, b| (&a.feature, &a.id).cmp(&(&b.feature, &b.id)));
    let cucumber_json = std::fs::read_to_string(&json_path)
        .ok()
        .and_then(|t| serde_json::from_str::<Vec<serde_json::Value>>(&t).ok())
        .unwrap_or_default();
    Ok(SuiteResult {
        profile,
        client_profile,
        scenarios,
        cucumber_json,
    })
}

/// The report of a scenario that ran, from its world and how it finished.
fn scenario_report(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    sc: &gherkin::Scenario,
    ev: &cucumber::event::ScenarioFinished,
    w: Option<&mut DmWorld>,
) -> ScenarioReport {
    use cucumber::event::ScenarioFinished as F;
    let tags = all_tags(feature, rule, sc);
    let parsed = ScenarioTags::parse(tags.iter().map(String::as_str)).ok();
    let (verdict, reason) = match (ev, w.as_ref().and_then(|w| w.why.clone())) {
        (_, Some(Why::Fail(r))) => (Verdict::Fail, Some(r)),
        (_, Some(Why::Inconclusive(r))) => (Verdict::Inconclusive, Some(r)),
        (_, Some(Why::NotApplicable(r))) => (Verdict::NotApplicable, Some(r)),
        (_, Some(Why::Error(r))) => (Verdict::Error, Some(format!("harness: {r}"))),
        (F::StepPassed, None) => (Verdict::Pass, None),
        (F::StepSkipped, None) => (Verdict::Error, Some("harness: a step was skipped".into())),
        (F::BeforeHookFailed(_), None) => (
            Verdict::Error,
            Some("harness: the before hook failed".into()),
        ),
        (F::StepFailed(_, _, e), None) => (
            Verdict::Error,
            Some(format!("harness: a step panicked: {e}")),
        ),
    };
    let (duration_ms, seed, transcript, diffs) = match w {
        Some(w) => (
            w.started.map_or(0, |s| s.elapsed().as_millis() as u64),
            w.seed,
            w.transcript(),
            std::mem::take(&mut w.diffs),
        ),
        None => (0, 0, Vec::new(), Vec::new()),
    };
    ScenarioReport {
        id: parsed
            .as_ref()
            .map_or_else(|| format!("line-{}", sc.position.line), |t| t.id.clone()),
        name: sc.name.clone(),
        feature: rel_path(feature),
        reqs: parsed.as_ref().map(|t| t.reqs.clone()).unwrap_or_default(),
        role: parsed.as_ref().map_or(Role::Client, |t| t.role),
        level: parsed
            .as_ref()
            .map_or(crate::verdict::Level::Must, |t| t.level),
        verdict,
        reason,
        duration_ms,
        seed,
        transcript,
        diffs,
    }
}
