//! `dm-client`: the reference OMA DM 1.2 client, a strict device simulator.
//!
//! - [`device`]: a device kept in a state directory (profile, persistent tree, run-time
//!   state), running sessions against its servers;
//! - [`profile`]: the device profile (TOML);
//! - [`runner`]: `dm-client run`, notifications to server-initiated sessions;
//! - [`scomo`]: the SCOMO management object (facts §10): Exec on its operations, the
//!   download/verify/install worker, completions;
//! - [`schedule`]: the project-defined schedule MO (docs/scheduling.md): verification of
//!   server writes, triggers on the device clock, runs as the creating server, reports;
//! - [`backup`]: the project-defined backup MO (docs/migration.md): backup to and restore
//!   from an HTTP(S) URL as TNDS;
//! - [`jobs`]: the asynchronous operation worker both share (queue, reports, completions);
//! - [`alerts`]: client alerts (Generic Alert 1226, client events 1224);
//! - [`trace`]: `--trace` JSON lines;
//! - [`account`]: DMAcc accounts read from the tree, the choice of server, nonce storage;
//! - [`driver`]: runs a session over the transport, keeping every message;
//! - [`listener`]: package #0 notification listeners (UDP, TCP, HTTP) with digest
//!   verification, nonce-resync fallback and repeat suppression;
//! - [`session`]: the sans-IO session engine (packages 1 and 3, statuses and results,
//!   authentication, multi-message packages, session end and abort), driven by messages in and
//!   messages out, no I/O, time from an injected clock;
//! - [`tester`]: hooks a test passes to the driver to make the device misbehave on purpose;
//! - [`ui`]: the policy that answers UI alerts 1100–1104;
//! - [`transport`]: HTTP/1.1 over TCP and TLS (rustls with the ring provider), timeouts and
//!   retries while no connection exists.
//!
//! The device's tree is a [`dm_tree::Tree`]. "facts §N" cites the project's protocol fact sheet.

pub mod account;
pub mod alerts;
pub mod backup;
pub mod device;
pub mod driver;
pub mod jobs;
pub mod listener;
pub mod privacy;
pub mod profile;
pub mod runner;
pub mod schedule;
pub mod scomo;
pub mod session;
pub mod tester;
pub mod trace;
pub mod transport;
pub mod ui;
