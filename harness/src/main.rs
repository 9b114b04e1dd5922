//! The `dmconf` binary: see `dmconf --help`.

fn main() -> std::process::ExitCode {
    dmconf::cli::run()
}
