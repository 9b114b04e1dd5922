//! Adapters: how the harness makes the implementation under test act
//! (shared/docs/conformance-model.md "Roles"). A failing adapter makes a scenario
//! `inconclusive`, never `fail`.
//!
//! - [`exec`]: one command template per action;
//! - [`http`]: a server implementing the admin API contract (docs/admin-api.md);
//! - [`reference`](mod@reference): the bundled reference client as a process, through [`exec`];
//! - [`manual`]: a person at an interop event, prompted with a deadline.

pub mod exec;
pub mod http;
pub mod manual;
pub mod reference;

/// Why an action did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// The profile has no template for the action.
    #[error("the profile's exec adapter has no `{0}` action; add it to [adapter] actions")]
    NoAction(String),
    /// The template names a value the step does not provide.
    #[error("the `{action}` template uses {{{name}}}, which this step does not provide (it provides: {provided})")]
    UnknownPlaceholder {
        /// The action.
        action: String,
        /// The placeholder.
        name: String,
        /// The values given.
        provided: String,
    },
    /// The command could not be started.
    #[error("cannot run the `{action}` command: {reason}")]
    Spawn {
        /// The action.
        action: String,
        /// The cause.
        reason: String,
    },
    /// The command ran out of time and was killed.
    #[error("the `{action}` command did not finish within {secs} s and was stopped")]
    Timeout {
        /// The action.
        action: String,
        /// The deadline.
        secs: u64,
    },
    /// The IUT's admin API refused the request.
    #[error("the `{action}` request was refused: HTTP {status}: {body}")]
    Refused {
        /// The action.
        action: String,
        /// The HTTP status.
        status: u16,
        /// Its body (the API's error).
        body: String,
    },
    /// The IUT's admin API could not be reached.
    #[error("the `{action}` request could not be made: {reason}")]
    Unreachable {
        /// The action.
        action: String,
        /// The cause.
        reason: String,
    },
    /// The answer is not what the contract (docs/admin-api.md) says.
    #[error("the `{action}` answer does not follow docs/admin-api.md: {reason}")]
    BadAnswer {
        /// The action.
        action: String,
        /// What is wrong.
        reason: String,
    },
    /// The command exited with a failure.
    #[error("the `{action}` command failed (exit {code:?}): {stderr}")]
    Failed {
        /// The action.
        action: String,
        /// The exit code (`None`: killed by a signal).
        code: Option<i32>,
        /// The end of its stderr.
        stderr: String,
    },
}
