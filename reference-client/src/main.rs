//! The `dm-client` binary: a simulated DM device kept in a state directory. See
//! `dm-client --help` and docs/reference-client.md ("Command line").
//!
//! Exit codes are a contract: 0 success (for `session` and `alert`: the session completed
//! normally), 1 the session did not complete (the server aborted, refused our credentials,
//! failed to authenticate, broke the protocol, answered with an HTTP error or with something
//! that is not a DM message) or a `tree get` found nothing, 2 usage, profile or state-directory
//! errors, 3 the server could not be reached. Always one clear line on stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use dm_client::alerts::{ClientAlert, ClientAlertKind};
use dm_client::device::{Device, DeviceError, SessionReport, SessionRequest};
use dm_client::driver::DriverError;
use dm_client::runner::{self, RunEvent, RunOptions};
use dm_client::session::EndReason;
use dm_client::trace;
use dm_client::transport::{TimeoutPhase, TransportError};
use dm_protocol::uri::{NodeUri, TndsFilter};
use dm_tree::{GetResult, Principal};

/// A strict OMA DM 1.2 device simulator (the reference client of the conformance suite).
#[derive(Debug, Parser)]
#[command(
    name = "dm-client",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 done (the session completed normally); 1 the session did not \
                  complete, or `tree get` found nothing; 2 usage, profile or state-directory \
                  error; 3 the server could not be reached.\n\
                  Guide, profile format and examples: docs/reference-client.md"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a device in a state directory from a profile (TOML).
    ///
    /// Builds DevInfo, DevDetail, DMAcc (one account per [[account]]) and Inbox, loads the
    /// profile's DDFs and imports its TNDS files. Refuses a directory that already holds a
    /// device.
    Init {
        /// The state directory (created if missing).
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// The device profile.
        #[arg(long, value_name = "FILE")]
        profile: PathBuf,
    },
    /// Run one client-initiated session (Alert 1201) and report how it ended.
    ///
    /// Exit 0 when the server ended the session normally; 1 when it did not complete; 3 when
    /// the server could not be reached.
    Session {
        #[command(flatten)]
        common: Talk,
    },
    /// Stay up: listen for package #0 notifications and run a server-initiated session
    /// (Alert 1200) for each verified one, and check the schedules once a second
    /// (docs/scheduling.md), until Ctrl-C or --max-sessions.
    ///
    /// The listeners are those of the profile's [notification] table. Prints one
    /// `listening <udp|tcp|http> ADDR` line per listener, then one line per completed session
    /// or declined notification; sessions that did not complete and refused notifications
    /// go to stderr. A session that fails does not stop the device.
    Run {
        /// The state directory.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// Append every session's messages to FILE as JSON lines.
        #[arg(long, value_name = "FILE")]
        trace: Option<PathBuf>,
        /// Stop after N sessions (completed or not).
        #[arg(long, value_name = "N")]
        max_sessions: Option<usize>,
        /// Seed for the nonces the device issues (replayable sessions); random by default.
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
    },
    /// Send a client alert (Generic Alert 1226 or client event 1224) in package 1 of a
    /// client-initiated session.
    Alert {
        #[command(flatten)]
        common: Talk,
        #[command(flatten)]
        alert: AlertArgs,
    },
    /// Show, set or advance the device's simulated clock; setting or advancing it checks the
    /// schedules (docs/scheduling.md) and reports their runs.
    ///
    /// Once set, the device runs on this clock instead of the system clock (in every
    /// command) until the state directory is recreated. A run whose report mode is `alert`
    /// opens a session to its server; exit codes as for `session`.
    Clock {
        #[command(flatten)]
        common: Talk,
        #[command(subcommand)]
        command: ClockCommand,
    },
    /// Read the device's tree (as the device: no ACL applies).
    Tree {
        /// The state directory.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        #[command(subcommand)]
        command: TreeCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ClockCommand {
    /// Print the device's time (TStamp form) and whether it is simulated.
    Show,
    /// Put the device on a simulated clock at TIME (TStamp form, e.g. 20261203T120000Z).
    Set {
        /// The time, `YYYYMMDDTHHMMSSZ` in UTC (facts §4.3).
        time: String,
    },
    /// Move the simulated clock forward by SECS seconds (from the system time if none is
    /// set yet).
    Advance {
        /// Seconds.
        secs: u64,
    },
}

#[derive(Debug, Subcommand)]
enum TreeCommand {
    /// Print a leaf's value, or an interior node's children one per line. Exit 1 if the node
    /// does not exist.
    Get {
        /// The node, e.g. ./DevInfo/DevId.
        uri: String,
    },
    /// Print a subtree (default: the whole tree) as a TNDS document (facts §9.2).
    Export {
        /// The subtree's root.
        #[arg(default_value = ".")]
        uri: String,
    },
}

/// The alert of `dm-client alert`.
#[derive(Debug, Args)]
struct AlertArgs {
    /// The alert code: 1226 (Generic Alert) or 1224 (client event).
    #[arg(long, default_value_t = 1226)]
    code: u16,
    /// Item/Meta/Type, e.g. urn:oma:at:scomo:1.0:OperationComplete.
    #[arg(long = "type", value_name = "TYPE")]
    type_: String,
    /// Item/Meta/Format, e.g. int, chr, xml.
    #[arg(long, value_name = "FMT")]
    format: String,
    /// Item/Data.
    #[arg(long)]
    data: String,
    /// Item/Source/LocURI: the related node.
    #[arg(long, value_name = "URI")]
    source: Option<String>,
    /// Item/Target/LocURI.
    #[arg(long, value_name = "URI")]
    target: Option<String>,
    /// Item/Meta/Mark, e.g. critical.
    #[arg(long)]
    mark: Option<String>,
    /// Correlator of the Exec this alert completes (1226 only).
    #[arg(long)]
    correlator: Option<String>,
}

impl AlertArgs {
    fn into_alert(self) -> Result<dm_protocol::model::Alert, Failure> {
        let kind = ClientAlertKind::from_code(self.code).ok_or_else(|| {
            Failure::Usage(format!(
                "--code {}: a device sends 1226 (Generic Alert) or 1224 (client event)",
                self.code
            ))
        })?;
        ClientAlert {
            kind,
            type_: self.type_,
            format: self.format,
            data: self.data,
            source: self.source,
            target: self.target,
            mark: self.mark,
            correlator: self.correlator,
        }
        .to_alert()
        .map_err(|e| Failure::Usage(e.to_string()))
    }
}

/// Options of every command that runs a session.
#[derive(Debug, Args)]
struct Talk {
    /// The state directory.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// The ServerID of the server to talk to (see "Choosing the server" in the docs).
    #[arg(long, value_name = "SERVER_ID")]
    account: Option<String>,
    /// Append every message to FILE as JSON lines (direction, encoding, bytes, XML,
    /// violations).
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Seed for the nonces the device issues (replayable sessions); random by default.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
}

enum Failure {
    NotCompleted(String),
    Usage(String),
    Unreachable(String),
}

impl From<DeviceError> for Failure {
    fn from(e: DeviceError) -> Self {
        match e {
            DeviceError::Transport(t) => Failure::Usage(t.to_string()),
            other => Failure::Usage(other.to_string()),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let (code, msg) = match f {
                Failure::NotCompleted(m) => (1, m),
                Failure::Usage(m) => (2, m),
                Failure::Unreachable(m) => (3, m),
            };
            eprintln!("dm-client: {msg}");
            ExitCode::from(code)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the async runtime: {e}")))
}

fn run(cmd: Command) -> Result<(), Failure> {
    match cmd {
        Command::Init { state, profile } => {
            let dev = Device::init(&state, &profile)?;
            let ids: Vec<String> = dev.accounts().into_iter().map(|a| a.server_id).collect();
            println!(
                "created device {} in {} with {} account(s){}{}",
                dev.profile().device.dev_id,
                state.display(),
                ids.len(),
                if ids.is_empty() { "" } else { ": " },
                ids.join(", ")
            );
            Ok(())
        }
        Command::Session { common } => talk(&common, Vec::new()),
        Command::Run {
            state,
            trace,
            max_sessions,
            seed,
        } => serve(
            &state,
            RunOptions {
                trace,
                max_sessions,
                seed,
            },
        ),
        Command::Alert { common, alert } => talk(&common, vec![alert.into_alert()?]),
        Command::Clock { common, command } => clock(&common, command),
        Command::Tree { state, command } => tree(&state, command),
    }
}

fn clock(t: &Talk, cmd: ClockCommand) -> Result<(), Failure> {
    let mut dev = Device::open(&t.state)?;
    match cmd {
        ClockCommand::Show => {
            println!(
                "{} ({})",
                dm_tree::format_tstamp(dev.now()),
                if dev.simulated_clock() {
                    "simulated"
                } else {
                    "system clock"
                }
            );
            return Ok(());
        }
        ClockCommand::Set { time } => {
            let unix = dm_tree::parse_tstamp(&time).ok_or_else(|| {
                Failure::Usage(format!(
                    "{time:?} is not a time in the form YYYYMMDDTHHMMSSZ (UTC), e.g. 20261203T120000Z"
                ))
            })?;
            dev.set_clock(unix)?;
        }
        ClockCommand::Advance { secs } => {
            dev.advance_clock(secs)?;
        }
    }
    println!("clock {}", dm_tree::format_tstamp(dev.now()));
    let rt = runtime()?;
    let (outcome, reports) = rt.block_on(runner::run_schedules_and_report(&mut dev, t.seed))?;
    print_schedule_runs(&outcome);
    report_sessions(t, &reports, Ok(()))
}

fn print_schedule_runs(outcome: &dm_client::schedule::TickOutcome) {
    for r in &outcome.runs {
        println!(
            "schedule {} run {} at {}: result {} (report: {})",
            r.name, r.run, r.time, r.result, r.report_mode
        );
    }
    for (name, e) in &outcome.errors {
        eprintln!("dm-client: schedule {name}: {e}");
    }
}

/// Trace and summarize the sessions that followed the first one; the first failure wins.
fn report_sessions(
    t: &Talk,
    reports: &[SessionReport],
    first: Result<(), Failure>,
) -> Result<(), Failure> {
    let mut outcome = first;
    for r in reports {
        if let Some(path) = &t.trace {
            trace::append(path, r).map_err(|e| Failure::Usage(e.to_string()))?;
        }
        let done = summarize(r);
        if outcome.is_ok() {
            outcome = done;
        }
    }
    outcome
}

fn talk(t: &Talk, alerts: Vec<dm_protocol::model::Alert>) -> Result<(), Failure> {
    let mut dev = Device::open(&t.state)?;
    let req = SessionRequest {
        account: t.account.clone(),
        alerts,
        seed: t.seed,
        ..SessionRequest::default()
    };
    let rt = runtime()?;
    // Operations (SCOMO, backup) left by an earlier run (docs/reference-client.md "SCOMO") are performed
    // first, so their completions go in this session's package 1.
    let earlier = rt.block_on(dev.perform_operations())?;
    print_operations(&earlier);
    let report = rt.block_on(dev.run_session(req))?;
    if let Some(path) = &t.trace {
        trace::append(path, &report).map_err(|e| Failure::Usage(e.to_string()))?;
    }
    let first = summarize(&report);
    // Operations the session accepted (202): performed now, then reported right away.
    let (ops, reports) = rt.block_on(runner::perform_and_report(&mut dev, t.seed))?;
    print_operations(&ops);
    let outcome = report_sessions(t, &reports, first);
    // Schedules the session added or triggered (docs/scheduling.md "Triggers and runs").
    let (schedules, reports) = rt.block_on(runner::run_schedules_and_report(&mut dev, t.seed))?;
    print_schedule_runs(&schedules);
    report_sessions(t, &reports, outcome)
}

fn print_operations(ops: &[dm_client::jobs::OperationReport]) {
    for o in ops.iter().filter(|o| !o.skipped) {
        let mo = match o.operation.operation {
            dm_client::jobs::Operation::Scomo(_) => "scomo",
            dm_client::jobs::Operation::Backup(_) => "backup",
        };
        println!(
            "{mo} {} ({:?}): result {}{}",
            o.operation.node,
            o.operation.correlator.as_deref().unwrap_or(""),
            o.result_code,
            o.detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        );
    }
}

fn serve(state: &std::path::Path, opts: RunOptions) -> Result<(), Failure> {
    let mut dev = Device::open(state)?;
    let stop = async {
        // Without a signal handler the device runs until killed, which is safe too: every
        // change is durable when it is made.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let clock = std::sync::Arc::new(dm_tree::SystemClock);
    runtime()?.block_on(runner::run(&mut dev, &opts, clock, stop, |ev| match ev {
        RunEvent::Listening { udp, tcp, http } => {
            for (name, addr) in [("udp", udp), ("tcp", tcp), ("http", http)] {
                if let Some(a) = addr {
                    println!("listening {name} {a}");
                }
            }
            if udp.is_none() && tcp.is_none() && http.is_none() {
                eprintln!(
                    "dm-client: no listener is configured ([notification.udp|tcp|http] in the \
                     profile): no server can start a session (schedules still run if \
                     [schedule] is enabled)"
                );
            }
        }
        RunEvent::Rejected(r) => eprintln!(
            "dm-client: notification from {} over {} refused: {}",
            r.peer, r.transport, r.reason
        ),
        RunEvent::Declined {
            notification: n,
            reason,
        } => println!(
            "notification from {} (session {}) not followed: {reason}",
            n.server_id, n.session_id
        ),
        RunEvent::Session(r) => {
            if let Err(f) = summarize(&r) {
                let (Failure::NotCompleted(m) | Failure::Usage(m) | Failure::Unreachable(m)) = f;
                eprintln!("dm-client: {m}");
            }
        }
        RunEvent::TraceFailed(e) => eprintln!("dm-client: {e}"),
        RunEvent::Operation(o) => print_operations(std::slice::from_ref(&*o)),
        RunEvent::OperationsFailed(e) => eprintln!("dm-client: asynchronous operations: {e}"),
        RunEvent::Schedule(r) => println!(
            "schedule {} run {} at {}: result {} (report: {})",
            r.name, r.run, r.time, r.result, r.report_mode
        ),
        RunEvent::SchedulesFailed(e) => eprintln!("dm-client: schedules: {e}"),
        RunEvent::SessionFailed {
            notification: n,
            error,
        } => eprintln!(
            "dm-client: session {} with {} failed: {error}",
            n.session_id, n.server_id
        ),
        _ => {}
    }))?;
    Ok(())
}

fn summarize(r: &SessionReport) -> Result<(), Failure> {
    for d in &r.deviations {
        eprintln!(
            "dm-client: deviation in server message {}: {}",
            d.msg_id, d.what
        );
    }
    for d in &r.own_deviations {
        eprintln!(
            "dm-client: our message {} breaks a rule: {}",
            d.our_msg_id, d.what
        );
    }
    let head = format!(
        "session {} with {} ({}), {} messages",
        r.session_id,
        r.server_id,
        r.url,
        r.exchanges.len()
    );
    let end = match &r.end {
        Ok(end) => end,
        Err(DriverError::Transport(t)) => {
            let msg = format!("{head}: {t}");
            return Err(match t {
                // The server could not be reached at all.
                TransportError::Connect { .. }
                | TransportError::Tls { .. }
                | TransportError::Timeout {
                    phase: TimeoutPhase::Connect,
                    ..
                } => Failure::Unreachable(msg),
                // The profile's transport settings are wrong.
                TransportError::Config { .. }
                | TransportError::NoTrustAnchors { .. }
                | TransportError::BadCertificate { .. }
                | TransportError::BadKey { .. } => Failure::Usage(msg),
                // Reached, but the exchange broke mid-session (read timeout, oversized or
                // broken answer, an unusable RespURI).
                _ => Failure::NotCompleted(msg),
            });
        }
        Err(e) => return Err(Failure::NotCompleted(format!("{head}: {e}"))),
    };
    match end {
        EndReason::Completed => {
            println!("{head}: completed");
            Ok(())
        }
        EndReason::AbortedByClient => Err(Failure::NotCompleted(format!(
            "{head}: the device aborted the session (Alert 1223)"
        ))),
        EndReason::AbortedByServer => Err(Failure::NotCompleted(format!(
            "{head}: the server aborted the session (Alert 1223)"
        ))),
        EndReason::AuthFailed(code) => Err(Failure::NotCompleted(format!(
            "{head}: the server refused our credentials ({}); check the account's client_auth",
            code.as_u16()
        ))),
        EndReason::ServerNotAuthenticated => Err(Failure::NotCompleted(format!(
            "{head}: the server did not authenticate itself; check the account's server_auth"
        ))),
        EndReason::Protocol(why) => Err(Failure::NotCompleted(format!(
            "{head}: the server broke the protocol: {why}"
        ))),
        EndReason::Refused(code) => Err(Failure::NotCompleted(format!(
            "{head}: the server refused our message ({})",
            code.as_u16()
        ))),
    }
}

fn tree(state: &std::path::Path, cmd: TreeCommand) -> Result<(), Failure> {
    let dev = Device::open(state)?;
    match cmd {
        TreeCommand::Get { uri } => match dev.tree().get(&Principal::Local, &uri) {
            Ok(GetResult::Leaf { value, .. }) => {
                match String::from_utf8(value) {
                    Ok(s) => println!("{s}"),
                    Err(e) => println!("b64:{}", dm_protocol::auth::b64(e.as_bytes())),
                }
                Ok(())
            }
            Ok(GetResult::Interior { children, .. }) => {
                for c in children {
                    println!("{c}");
                }
                Ok(())
            }
            Err(e @ dm_tree::TreeError::BadUri { .. }) => Err(Failure::Usage(e.to_string())),
            Err(e) => Err(Failure::NotCompleted(format!("{uri}: {e}"))),
        },
        TreeCommand::Export { uri } => {
            let parsed = NodeUri::parse(&uri)
                .map_err(|e| Failure::Usage(format!("{uri} is not a node URI: {e}")))?;
            let doc = dev
                .tree()
                .export_tnds(&parsed, &TndsFilter::All)
                .map_err(|e| Failure::NotCompleted(format!("{uri}: {e}")))?;
            let xml = dm_protocol::xml::write(
                &dm_protocol::tnds::to_dom(&doc),
                dm_protocol::xml::WriteOptions::PRETTY,
            )
            .map_err(|e| Failure::Usage(format!("cannot write the TNDS document: {e}")))?;
            println!("{xml}");
            Ok(())
        }
    }
}
