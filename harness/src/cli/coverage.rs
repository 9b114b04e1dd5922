//! `dmconf coverage`: the requirement × scenarios × verdict matrix, and its lint.

use std::path::PathBuf;

use clap::Args;

use super::Failure;
use crate::coverage::{report, Format, Inputs};

/// Arguments of `dmconf coverage`.
#[derive(Debug, Args)]
pub(super) struct CoverageArgs {
    /// The requirement catalog.
    #[arg(long, default_value = "features/catalog.toml")]
    catalog: PathBuf,
    /// The folder scanned (recursively) for *.feature files.
    #[arg(long, default_value = "features")]
    features: PathBuf,
    /// The pending list (label = "reason").
    #[arg(long, default_value = "features/pending.toml")]
    pending: PathBuf,
    /// A run's results file (provisional shape: {"scenarios":[{"id":"X","verdict":"pass"}]}).
    #[arg(long)]
    results: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    format: Format,
    /// Check consistency instead of printing the matrix: exit 1 and list the problems if any.
    #[arg(long)]
    lint: bool,
    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    write: Option<PathBuf>,
}

pub(super) fn run(args: CoverageArgs) -> Result<(), Failure> {
    let inputs = Inputs::load(
        &args.catalog,
        &args.features,
        &args.pending,
        args.results.as_deref(),
    )
    .map_err(|e| Failure::Usage(e.to_string()))?;
    if args.lint {
        let problems = inputs.lint();
        for p in &problems {
            println!("{}: {p}", p.kind());
        }
        println!(
            "{} entries, {} scenarios, {} pending, {} lint problem(s)",
            inputs.catalog.entries.len(),
            inputs.scenarios.len(),
            inputs.pending.entries.len(),
            problems.len()
        );
        return if problems.is_empty() {
            Ok(())
        } else {
            Err(Failure::Check(format!(
                "coverage lint found {} problem(s)",
                problems.len()
            )))
        };
    }
    let text = report::render(&inputs.report(), args.format);
    super::write_output(args.write.as_deref(), text.as_bytes())
}
