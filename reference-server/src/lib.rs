//! `dm-server`: the reference OMA DM 1.2 server, strict and durable, driven by tools through
//! an implementation-neutral admin API.
//!
//! - [`model`]: the records every part shares — devices and their credentials, per-device
//!   nonces, jobs with their statuses and results, received alerts, sessions and transcripts;
//! - [`session`]: the sans-IO session engine, one device message in, our reply out;
//! - [`faults`]: switches that make the server break chosen rules on purpose;
//!
//! "facts §N" cites the project's protocol fact sheet.

pub mod faults;
pub mod model;
pub mod session;
