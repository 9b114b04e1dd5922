//! `dm-server`: the reference OMA DM 1.2 server, strict and durable, driven by tools through
//! an implementation-neutral admin API.
//!
//! - [`model`]: the records every part shares — devices and their credentials, per-device
//!   nonces, jobs with their statuses and results, received alerts, sessions and transcripts;
//! - [`session`]: the sans-IO session engine, one device message in, our reply out;
//! - [`faults`]: switches that make the server break chosen rules on purpose;
//! - [`store`]: their durable home, one SQLite file (`DIR/server.db`), one transaction per
//!   change;
//! - [`admin`]: the admin API (HTTP + JSON) tools use to register devices, queue jobs, read
//!   sessions and alerts and send notifications (contract: `docs/admin-api.md`);
//! - [`service`]: each device message through the engine into the store, in the device's
//!   encoding; bad input, unknown devices, idle sessions, recovery after a crash;
//! - [`endpoint`]: the device-facing HTTP(S) listener (DM messages, hosted content, uploads);
//! - [`http_client`]: the minimal HTTP client for HTTP push and the CLI's admin calls;
//! - [`notify`]: package #0 out — built for a device, delivered over UDP, TCP or HTTP;
//! - [`schedules`]: the schedule MO `./Schedule/<x>` as jobs, schedule records and reports
//!   (docs/scheduling.md "The server side");
//! - [`tls`]: rustls for the endpoint, client-certificate verification, a generated test CA;
//!
//! "facts §N" cites the project's protocol fact sheet.

pub mod admin;
pub mod endpoint;
pub mod faults;
pub mod http_client;
pub mod migration;
pub mod model;
pub mod notify;
pub mod packages;
pub mod schedules;
pub mod service;
pub mod session;
pub mod store;
pub mod tls;
