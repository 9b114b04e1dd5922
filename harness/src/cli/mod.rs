//! The `dmconf` command line: argument definitions and dispatch.
//!
//! Exit codes are a contract: 0 success, 1 a check failed (a vector mismatch, strict-mode
//! violations, a notification that does not verify), 2 usage or I/O errors — always with one
//! clear line on stderr.

mod codec;
mod coverage;
mod pkg0;
pub mod run;
mod vectors;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// OMA DM conformance suite.
#[derive(Debug, Parser)]
#[command(name = "dmconf", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode, encode and inspect SyncML DM messages and notifications.
    #[command(subcommand)]
    Codec(codec::CodecCommand),
    /// Work with the golden vectors.
    #[command(subcommand)]
    Vectors(VectorsCommand),
    /// Print the requirement × scenarios × verdict matrix, or lint it (--lint).
    ///
    /// Reads features/catalog.toml, the @req: tags of features/**/*.feature, features/pending.toml
    /// and optionally a results file. Exit 0 on success, 1 when --lint finds problems, 2 when an
    /// input cannot be read.
    Coverage(coverage::CoverageArgs),
    /// Run the conformance scenarios against an implementation (or the self-test).
    ///
    /// Writes results.json, junit.xml, cucumber.json, summary.md and index.html under
    /// REPORT_DIR/<run-id>/.
    Run(run::RunArgs),
    /// Measure the suite's power: run it against every fault-injection switch of the
    /// reference peers and report which scenarios catch each.
    Mutants(run::MutantsArgs),
}

#[derive(Debug, Subcommand)]
enum VectorsCommand {
    /// Check every golden vector under DIR (default: ./vectors) and print a summary.
    ///
    /// Prints each failing vector with a unified diff, then "N passed, M failed".
    /// Exit 0 when all pass, 1 when any fails, 2 when DIR cannot be read.
    Check {
        /// The vectors folder (holding codec/, auth/, pkg0/, uri/, acl/, tnds/).
        #[arg(default_value = "vectors")]
        dir: PathBuf,
        /// Print every vector, not only failures.
        #[arg(long, short)]
        verbose: bool,
    },
}

/// An error that ends the command: its message is the one line printed on stderr.
#[derive(Debug)]
pub enum Failure {
    /// A check failed (exit 1).
    Check(String),
    /// Usage or I/O problem (exit 2).
    Usage(String),
}

/// Parse the arguments and run; returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Codec(cmd) => codec::run(cmd),
        Command::Vectors(VectorsCommand::Check { dir, verbose }) => vectors::check(&dir, verbose),
        Command::Coverage(args) => coverage::run(args),
        Command::Run(args) => run::execute(args),
        Command::Mutants(args) => run::mutants(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Check(msg)) => {
            eprintln!("dmconf: {msg}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("dmconf: {msg}");
            ExitCode::from(2)
        }
    }
}

/// Read a file, or standard input for `-`.
fn read_input(path: &std::path::Path) -> Result<Vec<u8>, Failure> {
    use std::io::Read;
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| Failure::Usage(format!("cannot read standard input: {e}")))?;
        Ok(buf)
    } else {
        std::fs::read(path)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))
    }
}

/// Write bytes to a file, or standard output when no path is given.
fn write_output(path: Option<&std::path::Path>, bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    match path {
        Some(p) => std::fs::write(p, bytes)
            .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", p.display()))),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|()| out.flush())
                .map_err(|e| Failure::Usage(format!("cannot write standard output: {e}")))
        }
    }
}
