//! `dmconf`: the OMA DM conformance suite's command-line tool.
//!
//! Today it holds the codec tools (`dmconf codec ...`) and the golden-vector checker
//! (`dmconf vectors check`). Later issues grow the cucumber runner, adapters and reports here.

pub mod cli;
pub mod vectors;
