//! `dmconf codec pkg0`: decode (and optionally verify) a package #0 notification.

use std::path::Path;

use clap::Args;
use dm_protocol::auth;
use dm_protocol::pkg0::{self, DecodeOptions, DigestCheck, ResyncNonce};
use serde_json::json;

use super::Failure;

#[derive(Debug, Args)]
pub(super) struct Pkg0Args {
    /// The notification: a file (raw bytes or hex text) or hex on the command line (spaces
    /// and colons allowed).
    input: String,
    /// Also accept these version values besides 11 (facts §7.1: whether 12 is valid for
    /// DM 1.2 is unconfirmed). Repeatable.
    #[arg(long = "accept-version", value_name = "N")]
    accept_versions: Vec<u16>,
    /// Check the digest (facts §7.2); needs --password and a nonce.
    #[arg(long, requires = "password")]
    verify: bool,
    /// The server password (the SRVCRED AAuthSecret of the DMAcc entry).
    #[arg(long)]
    password: Option<String>,
    /// The name in front of the digest's colon; defaults to the ServerID in the trigger
    /// (libdmclient uses the SRVCRED AAuthName instead; facts §7.2).
    #[arg(long)]
    name: Option<String>,
    /// The server nonce (SRVCRED AAuthData) as base64.
    #[arg(long, conflicts_with = "nonce_hex")]
    nonce: Option<String>,
    /// The server nonce as hex.
    #[arg(long)]
    nonce_hex: Option<String>,
    /// If the digest fails, also try the resync nonce (facts §7.2) in both readings.
    #[arg(long)]
    resync: bool,
}

fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    let digits = digits.strip_prefix("0x").unwrap_or(&digits);
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_notification(input: &str) -> Result<Vec<u8>, Failure> {
    let path = Path::new(input);
    if path.is_file() {
        let bytes =
            std::fs::read(path).map_err(|e| Failure::Usage(format!("cannot read {input}: {e}")))?;
        // A file of hex text is accepted too.
        if let Some(decoded) = std::str::from_utf8(&bytes).ok().and_then(parse_hex) {
            return Ok(decoded);
        }
        return Ok(bytes);
    }
    parse_hex(input).ok_or_else(|| {
        Failure::Usage(format!(
            "{input:?} is neither a readable file nor hex bytes (e.g. 02E8000000...)"
        ))
    })
}

pub(super) fn run(args: Pkg0Args) -> Result<(), Failure> {
    let bytes = read_notification(&args.input)?;
    let mut options = DecodeOptions::default();
    options
        .accepted_versions
        .extend(args.accept_versions.iter().copied());
    let n = pkg0::decode_with(&bytes, &options)
        .map_err(|e| Failure::Check(format!("not a valid notification: {e}")))?;
    let mut out = json!({
        "digest": hex(&n.digest),
        "version": n.version,
        "ui_mode": n.ui_mode.name(),
        "initiator": n.initiator.name(),
        "session_id": n.session_id,
        "SessionID": pkg0::session_id_to_hex(n.session_id),
        "server_id": n.server_id,
        "vendor": hex(&n.vendor),
    });
    let mut verdict = Ok(());
    if args.verify {
        let nonce = match (&args.nonce, &args.nonce_hex) {
            (Some(b64), _) => auth::b64_decode(b64)
                .map_err(|e| Failure::Usage(format!("--nonce is not base64: {e}")))?,
            (None, Some(h)) => {
                parse_hex(h).ok_or_else(|| Failure::Usage("--nonce-hex is not hex".to_string()))?
            }
            (None, None) => {
                return Err(Failure::Usage(
                    "--verify needs the server nonce: --nonce BASE64 or --nonce-hex HEX".into(),
                ))
            }
        };
        let name = args.name.clone().unwrap_or_else(|| n.server_id.clone());
        let password = args.password.clone().unwrap_or_default();
        let resync: &[ResyncNonce] = if args.resync {
            &[ResyncNonce::AsciiText, ResyncNonce::ZeroBytes]
        } else {
            &[]
        };
        let check = pkg0::verify_with_resync(&bytes, &name, &password, &nonce, resync)
            .map_err(|e| Failure::Check(e.to_string()))?;
        out["digest_check"] = json!(match check {
            DigestCheck::Valid => "valid",
            DigestCheck::ValidWithResync(ResyncNonce::AsciiText) => "valid-with-resync-text",
            DigestCheck::ValidWithResync(ResyncNonce::ZeroBytes) => "valid-with-resync-zero-bytes",
            DigestCheck::Invalid => "invalid",
        });
        if check == DigestCheck::Invalid {
            verdict = Err(Failure::Check(format!(
                "digest does not verify for name {name:?} with the given password and nonce"
            )));
        }
    }
    let mut text = serde_json::to_string_pretty(&out)
        .map_err(|e| Failure::Usage(format!("cannot render JSON: {e}")))?;
    text.push('\n');
    super::write_output(None, text.as_bytes())?;
    verdict
}
