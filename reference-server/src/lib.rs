//! `dm-server`: the reference OMA DM 1.2 server, strict and durable, driven by tools through
//! an implementation-neutral admin API.
//!
//! - [`model`]: the records every part shares — devices and their credentials, per-device
//!   nonces, jobs with their statuses and results, received alerts, sessions and transcripts;
//! - [`store`]: their durable home, one SQLite file (`DIR/server.db`), one transaction per
//!   change;
//! - [`admin`]: the admin API (HTTP + JSON) tools use to register devices, queue jobs, read
//!   sessions and alerts and send notifications (contract: `docs/admin-api.md`);
//!
//! "facts §N" cites the project's protocol fact sheet.

pub mod admin;
pub mod model;
pub mod store;
