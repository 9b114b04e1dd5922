//! `dm-client run`: the device stays up, its package #0 listeners (facts §7) turn verified
//! notifications into server-initiated sessions (Alert 1200, facts §2.5), one at a time.
//!
//! The listeners check digests against a snapshot of the accounts' server credentials
//! (SRVCRED secret and nonce, facts §7.2), refreshed after every session because sessions
//! rotate nonces. A session that fails is reported and the device keeps listening: one
//! misbehaving server never stops the device.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use dm_protocol::pkg0::UiMode;
use dm_tree::Clock;

use crate::device::{Device, DeviceError, SessionReport, SessionRequest};
use crate::listener::{self, RejectedNotification, ServerCredentials, VerifiedNotification};
use crate::trace;
use crate::ui::{Fallback, UiPolicy};

/// Whether the device starts the session a notification asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consent {
    /// Start it.
    Start,
    /// Do not: the simulated user declined (the reason says how).
    Declined(&'static str),
}

/// The decision for a notification's ui-mode (facts §7.1) under the device's UI policy
/// (docs/reference-client.md "Running: notifications to sessions"): not-specified,
/// background and informative sessions start at once; a user-interaction session starts
/// only if the simulated user agrees — `accept` and `headless` (no user to ask) start it,
/// `reject` and `timeout` do not, `scripted` follows its fallback.
pub fn consent(ui_mode: UiMode, policy: &UiPolicy) -> Consent {
    if ui_mode != UiMode::UserInteraction {
        return Consent::Start;
    }
    let fallback = match policy {
        UiPolicy::Accept { .. } | UiPolicy::Headless => return Consent::Start,
        UiPolicy::Reject => return Consent::Declined("the user declined the session"),
        UiPolicy::Timeout => return Consent::Declined("nobody answered the session prompt"),
        UiPolicy::Scripted { fallback, .. } => *fallback,
    };
    match fallback {
        Fallback::Accept | Fallback::Headless => Consent::Start,
        Fallback::Timeout => Consent::Declined("nobody answered the session prompt"),
        _ => Consent::Declined("the user declined the session"),
    }
}

/// Settings of a run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Append every session's messages here (see [`trace`]).
    pub trace: Option<PathBuf>,
    /// Stop after this many sessions (tests, scripted runs); `None`: run until stopped.
    pub max_sessions: Option<usize>,
    /// Seed for the nonces the device issues (replay); random by default.
    pub seed: Option<u64>,
}

/// What happens during a run, in order; the binary prints these.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunEvent {
    /// The listeners are up, on these addresses.
    Listening {
        /// UDP.
        udp: Option<SocketAddr>,
        /// TCP.
        tcp: Option<SocketAddr>,
        /// HTTP.
        http: Option<SocketAddr>,
    },
    /// A notification was refused.
    Rejected(RejectedNotification),
    /// A verified notification did not lead to a session.
    Declined {
        /// The notification.
        notification: VerifiedNotification,
        /// Why.
        reason: &'static str,
    },
    /// A session ran (completed or not).
    Session(Box<SessionReport>),
    /// An operation accepted in a session (SCOMO, facts §10; backup MO, docs/migration.md)
    /// was performed.
    Operation(Box<crate::jobs::OperationReport>),
    /// The operation worker or the session reporting its completions could not run.
    OperationsFailed(DeviceError),
    /// A schedule ran (docs/scheduling.md).
    Schedule(Box<crate::schedule::ScheduleRun>),
    /// The schedules could not be checked, or the session reporting their runs not run.
    SchedulesFailed(DeviceError),
    /// The trace of a session could not be written.
    TraceFailed(crate::trace::TraceError),
    /// A session could not start (no usable account, unusable transport settings) or its
    /// results could not be stored.
    SessionFailed {
        /// The notification that asked for it.
        notification: VerifiedNotification,
        /// What went wrong.
        error: DeviceError,
    },
}

type Snapshot = Arc<Mutex<HashMap<String, ServerCredentials>>>;

fn snapshot(dev: &Device, into: &Snapshot) {
    let map = dev
        .accounts()
        .into_iter()
        .filter_map(|a| {
            let s = a.server_auth?;
            // facts §7.2: MD5(server-identifier ":" password); the ServerID is the
            // identifier of the spec text.
            Some((
                a.server_id.clone(),
                ServerCredentials::new(a.server_id, s.secret, s.nonce),
            ))
        })
        .collect();
    if let Ok(mut g) = into.lock() {
        *g = map;
    }
}

/// Run the listeners of the profile's `[notification]` table and a session per verified
/// notification, until `stop` resolves or `max_sessions` sessions ran.
pub async fn run(
    dev: &mut Device,
    opts: &RunOptions,
    clock: Arc<dyn Clock>,
    stop: impl std::future::Future<Output = ()>,
    mut events: impl FnMut(RunEvent),
) -> Result<(), DeviceError> {
    let creds: Snapshot = Arc::default();
    snapshot(dev, &creds);
    let lookup = {
        let creds = creds.clone();
        move |id: &str| creds.lock().ok().and_then(|g| g.get(id).cloned())
    };
    let config = dev.profile().notification.clone();
    let (listeners, mut queues) = listener::start(&config, Arc::new(lookup), clock).await?;
    events(RunEvent::Listening {
        udp: listeners.udp_addr(),
        tcp: listeners.tcp_addr(),
        http: listeners.http_addr(),
    });
    tokio::pin!(stop);
    let mut sessions = 0;
    // docs/scheduling.md: the schedules are checked once a second.
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Without listeners a device with schedules still runs: its ticks are its work.
    let scheduling = dev.profile().schedule.enabled;
    let mut listening = true;
    while opts.max_sessions.is_none_or(|m| sessions < m) {
        let n = tokio::select! {
            _ = &mut stop => break,
            _ = ticker.tick() => {
                schedules(dev, opts, &mut events).await;
                continue;
            }
            Some(r) = queues.rejected.recv() => {
                events(RunEvent::Rejected(r));
                continue;
            }
            n = queues.verified.recv(), if listening => match n {
                Some(n) => n,
                None if scheduling => {
                    listening = false;
                    continue;
                }
                None => break,
            },
        };
        if let Consent::Declined(reason) = consent(n.ui_mode, dev.ui_policy()) {
            events(RunEvent::Declined {
                notification: n,
                reason,
            });
            continue;
        }
        let req = SessionRequest {
            account: Some(n.server_id.clone()),
            server_initiated: true,
            session_id: Some(n.session_id.clone()),
            resync_nonce: n.resync_nonce.map(|r| r.bytes().to_vec()),
            seed: opts.seed,
            ..SessionRequest::default()
        };
        sessions += 1;
        match dev.run_session(req).await {
            Ok(report) => {
                if let Some(path) = &opts.trace {
                    // A trace that cannot be written is reported; the device keeps serving.
                    if let Err(e) = trace::append(path, &report) {
                        events(RunEvent::TraceFailed(e));
                    }
                }
                events(RunEvent::Session(Box::new(report)));
            }
            Err(error) => events(RunEvent::SessionFailed {
                notification: n,
                error,
            }),
        }
        // facts §10.3: operations accepted with 202 are performed now and reported in a
        // client-initiated session right away.
        match perform_and_report(dev, opts.seed).await {
            Ok((ops, reports)) => {
                for o in ops {
                    events(RunEvent::Operation(Box::new(o)));
                }
                for r in reports {
                    if let Some(path) = &opts.trace {
                        if let Err(e) = trace::append(path, &r) {
                            events(RunEvent::TraceFailed(e));
                        }
                    }
                    events(RunEvent::Session(Box::new(r)));
                }
            }
            Err(e) => events(RunEvent::OperationsFailed(e)),
        }
        schedules(dev, opts, &mut events).await;
        snapshot(dev, &creds);
    }
    listeners.shutdown().await;
    dev.save_pending()
}

/// Check the schedules and report their runs, telling `events`.
async fn schedules(dev: &mut Device, opts: &RunOptions, events: &mut impl FnMut(RunEvent)) {
    match run_schedules_and_report(dev, opts.seed).await {
        Ok((outcome, reports)) => {
            for r in outcome.runs {
                events(RunEvent::Schedule(Box::new(r)));
            }
            for (name, e) in outcome.errors {
                events(RunEvent::SchedulesFailed(DeviceError::Tree(
                    dm_tree::TreeError::Failed {
                        uri: format!("{}/{name}", crate::schedule::ROOT),
                        reason: e.to_string(),
                    },
                )));
            }
            for r in reports {
                if let Some(path) = &opts.trace {
                    if let Err(e) = trace::append(path, &r) {
                        events(RunEvent::TraceFailed(e));
                    }
                }
                events(RunEvent::Session(Box::new(r)));
            }
        }
        Err(e) => events(RunEvent::SchedulesFailed(e)),
    }
}

/// Check the schedules ([`Device::run_schedules`]), then open one client-initiated session
/// per server with a run whose report mode is `alert`, to deliver the reports as Generic
/// Alerts (docs/scheduling.md "Reports"); `batch` reports wait for the next session.
pub async fn run_schedules_and_report(
    dev: &mut Device,
    seed: Option<u64>,
) -> Result<(crate::schedule::TickOutcome, Vec<SessionReport>), DeviceError> {
    let outcome = dev.run_schedules()?;
    let mut servers: Vec<Option<String>> = Vec::new();
    for r in outcome.runs.iter().filter(|r| r.report_mode == "alert") {
        if !servers.contains(&r.server) {
            servers.push(r.server.clone());
        }
    }
    let mut reports = Vec::new();
    let mut first_error = None;
    for server in servers {
        let req = SessionRequest {
            account: server,
            seed,
            ..SessionRequest::default()
        };
        // One server that cannot be reached does not hold back the others' reports; its
        // reports stay queued for its next session (at least once).
        match dev.run_session(req).await {
            Ok(r) => reports.push(r),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if reports.is_empty() => Err(e),
        _ => Ok((outcome, reports)),
    }
}

/// Perform the device's pending operations (SCOMO, backup MO), then open one
/// client-initiated session per server that has new completions to report them (Generic
/// Alerts in package 1, facts §3.5).
pub async fn perform_and_report(
    dev: &mut Device,
    seed: Option<u64>,
) -> Result<(Vec<crate::jobs::OperationReport>, Vec<SessionReport>), DeviceError> {
    let ops = dev.perform_operations().await?;
    let mut servers: Vec<Option<String>> = Vec::new();
    for o in ops.iter().filter(|o| !o.skipped) {
        if !servers.contains(&o.operation.server) {
            servers.push(o.operation.server.clone());
        }
    }
    let mut reports = Vec::new();
    for server in servers {
        let req = SessionRequest {
            account: server,
            seed,
            ..SessionRequest::default()
        };
        reports.push(dev.run_session(req).await?);
    }
    Ok((ops, reports))
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use rstest::rstest;

    fn scripted(fallback: Fallback) -> UiPolicy {
        UiPolicy::Scripted {
            fallback,
            answers: VecDeque::new(),
        }
    }

    #[rstest]
    #[case(UiMode::NotSpecified, UiPolicy::Reject, true)]
    #[case(UiMode::Background, UiPolicy::Timeout, true)]
    #[case(UiMode::Informative, UiPolicy::Reject, true)]
    #[case(UiMode::UserInteraction, UiPolicy::Accept { text: None }, true)]
    #[case(UiMode::UserInteraction, UiPolicy::Headless, true)]
    #[case(UiMode::UserInteraction, UiPolicy::Reject, false)]
    #[case(UiMode::UserInteraction, UiPolicy::Timeout, false)]
    #[case(UiMode::UserInteraction, scripted(Fallback::Accept), true)]
    #[case(UiMode::UserInteraction, scripted(Fallback::Reject), false)]
    #[case(UiMode::UserInteraction, scripted(Fallback::Cancel), false)]
    fn ui_mode_consent(#[case] mode: UiMode, #[case] policy: UiPolicy, #[case] start: bool) {
        assert_eq!(consent(mode, &policy) == Consent::Start, start);
    }

    #[test]
    fn timeout_and_refusal_are_told_apart() {
        assert_eq!(
            consent(UiMode::UserInteraction, &UiPolicy::Timeout),
            Consent::Declined("nobody answered the session prompt")
        );
        assert_eq!(
            consent(UiMode::UserInteraction, &UiPolicy::Reject),
            Consent::Declined("the user declined the session")
        );
    }
}
