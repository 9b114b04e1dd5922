//! `dmconf`: the OMA DM conformance suite's command-line tool.
//!
//! Today it holds the codec tools (`dmconf codec ...`) and the golden-vector checker
//! (`dmconf vectors check`), the requirement coverage matrix (`dmconf coverage`), and the
//! first pieces of `dmconf run`: implementation profiles ([`profile`]: ICS, IXIT, adapter)
//! verdicts ([`verdict`]: scenario tags, applicability, exit codes) and run reports
//! ([`report`]: results.json, junit.xml, summary.md), and the `exec` and `http`
//! adapters ([`adapter`]). The cucumber runner and the other adapters come next (issue 7).

pub mod adapter;
pub mod cli;
pub mod coverage;
pub mod html;
pub mod profile;
pub mod report;
pub mod vectors;
pub mod verdict;
