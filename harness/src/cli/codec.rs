//! `dmconf codec …`: decode and encode messages.

use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};
use dm_protocol::codec::{self, DecodeOptions, Encoding};
use dm_protocol::model::SyncMl;

use super::{read_input, write_output, Failure};

#[derive(Debug, Subcommand)]
pub(super) enum CodecCommand {
    /// Decode a SyncML DM message (XML or WBXML, detected) and print it.
    ///
    /// Representation violations (wrong element order, missing elements, non-DM elements,
    /// wrong namespaces, bad numbers…) are printed on stderr as `LINE:COL: what [kind]` (byte
    /// offsets for WBXML). With --strict any violation makes the command fail with exit 1.
    Decode {
        /// The message file (`-` for standard input).
        file: PathBuf,
        /// Output form: the decoded model as JSON, or canonical indented XML.
        #[arg(long, value_enum, default_value_t = DecodeFormat::Json)]
        format: DecodeFormat,
        /// Treat every representation violation as an error (exit 1).
        #[arg(long)]
        strict: bool,
    },
    /// Re-encode a message (XML, WBXML or the JSON model form, detected) as XML or WBXML.
    ///
    /// Output is canonical: compact XML (or indented with --pretty), or WBXML 1.2 with public
    /// id 0x1201. Binary output goes to standard output unless --output is given.
    Encode {
        /// The message file (`-` for standard input).
        file: PathBuf,
        /// The encoding to produce.
        #[arg(long, value_enum)]
        to: Target,
        /// Indent XML output (ignored for WBXML).
        #[arg(long)]
        pretty: bool,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Decode a package #0 notification (facts §7) and print its fields as JSON.
    ///
    /// With --verify, also check the digest against the server password and nonce; exit 1
    /// when it does not verify.
    Pkg0(super::pkg0::Pkg0Args),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum DecodeFormat {
    /// The decoded model as JSON (the golden vectors' form).
    Json,
    /// Canonical indented XML.
    Xml,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum Target {
    /// XML text.
    Xml,
    /// WAP Binary XML.
    Wbxml,
}

pub(super) fn run(cmd: CodecCommand) -> Result<(), Failure> {
    match cmd {
        CodecCommand::Decode {
            file,
            format,
            strict,
        } => decode(&file, format, strict),
        CodecCommand::Encode {
            file,
            to,
            pretty,
            output,
        } => encode(&file, to, pretty, output.as_deref()),
        CodecCommand::Pkg0(args) => super::pkg0::run(args),
    }
}

fn decode(file: &Path, format: DecodeFormat, strict: bool) -> Result<(), Failure> {
    let bytes = read_input(file)?;
    let decoded = codec::decode(&bytes, DecodeOptions::LENIENT)
        .map_err(|e| Failure::Check(format!("{}: {e}", file.display())))?;
    for v in &decoded.violations {
        eprintln!("{}:{v}", file.display());
    }
    let out = match format {
        DecodeFormat::Json => {
            let mut s = serde_json::to_string_pretty(&decoded.message)
                .map_err(|e| Failure::Usage(format!("cannot render JSON: {e}")))?;
            s.push('\n');
            s
        }
        DecodeFormat::Xml => codec::to_pretty_xml(&decoded.message)
            .map_err(|e| Failure::Check(format!("{}: {e}", file.display())))?,
    };
    write_output(None, out.as_bytes())?;
    if strict && !decoded.violations.is_empty() {
        return Err(Failure::Check(format!(
            "{}: strict mode: {} representation violation(s)",
            file.display(),
            decoded.violations.len()
        )));
    }
    Ok(())
}

/// Read a message in any form this tool writes: XML, WBXML or the JSON model.
fn read_message(file: &Path) -> Result<SyncMl, Failure> {
    let bytes = read_input(file)?;
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return serde_json::from_slice(&bytes).map_err(|e| {
            Failure::Check(format!(
                "{}: not a message in JSON form: {e}",
                file.display()
            ))
        });
    }
    codec::decode(&bytes, DecodeOptions::LENIENT)
        .map(|d| d.message)
        .map_err(|e| Failure::Check(format!("{}: {e}", file.display())))
}

fn encode(file: &Path, to: Target, pretty: bool, output: Option<&Path>) -> Result<(), Failure> {
    let message = read_message(file)?;
    let bytes = match (to, pretty) {
        (Target::Xml, true) => codec::to_pretty_xml(&message).map(String::into_bytes),
        (Target::Xml, false) => codec::encode(&message, Encoding::Xml),
        (Target::Wbxml, _) => codec::encode(&message, Encoding::Wbxml),
    }
    .map_err(|e| Failure::Check(format!("{}: {e}", file.display())))?;
    write_output(output, &bytes)
}
