//! `dmconf`: the OMA DM conformance suite's command-line tool.
//!
//! Today it holds the codec tools (`dmconf codec ...`) and the golden-vector checker
//! (`dmconf vectors check`), and the requirement coverage matrix (`dmconf coverage`). Later issues grow the cucumber runner, adapters and reports here.

pub mod cli;
pub mod coverage;
pub mod vectors;
