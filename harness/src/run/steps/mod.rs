//! The step library: role-neutral Gherkin steps (docs/steps.md lists them with examples).
//!
//! Each step is an async function `(&mut DmWorld, &Context) -> StepResult`. Registration
//! wraps it with the step deadline (a step that overruns is `inconclusive`, never a hang)
//! and records a failing result in the world, where the after hook finds it: `Why::Fail`
//! (the IUT broke a rule), `Why::Inconclusive` (no answer in time, adapter failure),
//! `Why::Error` (a harness fault). A panic inside a step is a harness error too.

mod act;
mod check;
mod migration;
mod schedule;
mod scomo;
mod setup;
mod tls;

use std::pin::Pin;
use std::time::Duration;

use cucumber::step::Context;
use regex::Regex;

use super::world::{DmWorld, StepResult, Why};

/// `Given`, `When` or `Then`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Set-up.
    Given,
    /// Action.
    When,
    /// Check.
    Then,
}

/// The future a cucumber step returns.
pub type StepFuture<'a> = Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

/// One step definition.
pub struct Def {
    /// Its keyword.
    pub kind: Kind,
    /// Its pattern (anchored).
    pub pattern: &'static str,
    /// The cucumber step.
    pub step: cucumber::step::Step<DmWorld>,
}

/// A step's deadline: twice the IXIT step deadline (inner waits use the deadline itself, so
/// they report first and more precisely).
pub(crate) fn limit(w: &DmWorld) -> Duration {
    w.ctx
        .as_ref()
        .map_or(Duration::from_secs(30), |c| c.step_timeout * 2)
}

/// Run a step body within `limit`: overrunning is `inconclusive`.
pub(crate) async fn within<F>(limit: Duration, body: F) -> StepResult
where
    F: std::future::Future<Output = StepResult>,
{
    match tokio::time::timeout(limit, body).await {
        Ok(r) => r,
        Err(_) => Err(Why::Inconclusive(format!(
            "the step did not finish within {} s (twice the step deadline)",
            limit.as_secs()
        ))),
    }
}

/// Record a step's outcome; a failure stops the scenario.
pub(crate) fn record(w: &mut DmWorld, r: StepResult) {
    if let Err(why) = r {
        let text = why.to_string();
        w.why = Some(why);
        // Not panic!: resume_unwind skips the panic hook, so no backtrace noise.
        std::panic::resume_unwind(Box::new(text));
    }
}

/// Define a cucumber step from an async step function.
macro_rules! def {
    ($kind:ident, $pattern:literal, $f:path) => {{
        fn step<'a>(
            w: &'a mut $crate::run::world::DmWorld,
            c: cucumber::step::Context,
        ) -> $crate::run::steps::StepFuture<'a> {
            Box::pin(async move {
                let lim = $crate::run::steps::limit(w);
                let r = $crate::run::steps::within(lim, $f(&mut *w, &c)).await;
                $crate::run::steps::record(w, r);
            })
        }
        $crate::run::steps::Def {
            kind: $crate::run::steps::Kind::$kind,
            pattern: concat!("^", $pattern, "$"),
            step,
        }
    }};
}
pub(crate) use def;

/// The compiled patterns of every definition, by keyword.
pub type Patterns = Vec<(Kind, Regex)>;

/// Every step definition.
pub fn definitions() -> Vec<Def> {
    let mut all = setup::defs();
    all.extend(act::defs());
    all.extend(check::defs());
    all.extend(scomo::defs());
    all.extend(migration::defs());
    all.extend(schedule::defs());
    all.extend(tls::defs());
    all
}

/// The cucumber collection of [`definitions`], and their compiled patterns for checking
/// scenarios before they run.
pub fn collection() -> Result<(cucumber::step::Collection<DmWorld>, Patterns), String> {
    let mut c = cucumber::step::Collection::new();
    let mut res = Vec::new();
    for d in definitions() {
        let re = Regex::new(d.pattern).map_err(|e| format!("step pattern {}: {e}", d.pattern))?;
        res.push((d.kind, re.clone()));
        c = match d.kind {
            // Set-up steps may also come between two When steps (a second session's job).
            Kind::Given => {
                res.push((Kind::When, re.clone()));
                c.given(None, re.clone(), d.step).when(None, re, d.step)
            }
            Kind::When => c.when(None, re, d.step),
            Kind::Then => c.then(None, re, d.step),
        };
    }
    Ok((c, res))
}

/// The `n`th capture group (1-based) of a step.
pub(crate) fn arg(c: &Context, n: usize) -> &str {
    c.matches.get(n).map_or("", |(_, v)| v.as_str())
}
