//! `dmconf`: the OMA DM conformance suite's command-line tool.
//!
//! - [`run`]: `dmconf run` — the cucumber runner: feature files drive a reference peer in
//!   tester mode against an implementation under test; [`run::steps`] is the step library;
//! - [`profile`]: implementation profiles (ICS, IXIT, adapter); [`adapter`]: how the
//!   harness makes the implementation act (reference, exec, http, manual);
//! - [`verdict`]: scenario tags, applicability, exit codes; [`report`] and [`html`]: the
//!   run reports (results.json, junit.xml, summary.md, index.html);
//! - [`vectors`]: the golden-vector checker (`dmconf vectors check`) and session vectors;
//! - [`coverage`]: the requirement coverage matrix (`dmconf coverage`);
//! - [`cli`]: the command line, including the codec tools (`dmconf codec …`).

pub mod adapter;
pub mod cli;
pub mod coverage;
pub mod html;
pub mod profile;
pub mod report;
pub mod run;
pub mod vectors;
pub mod verdict;
