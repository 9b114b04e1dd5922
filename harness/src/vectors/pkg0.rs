//! Checker for `vectors/pkg0/` (facts §7): package #0 decode, build, digest verify, SessionID.
//! Format: `vectors/pkg0/README.md`.

use super::sec_cases::{error, expect, hex, run, s, to_hex, uint, unknown_op};
use super::Outcome;
use dm_protocol::pkg0::{
    self, DecodeOptions, DigestCheck, Initiator, Notification, ResyncNonce, UiMode,
};
use serde_json::{json, Value};
use std::path::Path;

/// Check every case in `dir` (normally `vectors/pkg0`).
pub fn check(dir: &Path) -> Vec<Outcome> {
    run(dir, "pkg0", &op)
}

fn ui_mode(name: &str) -> Result<UiMode, String> {
    [
        UiMode::NotSpecified,
        UiMode::Background,
        UiMode::Informative,
        UiMode::UserInteraction,
    ]
    .into_iter()
    .find(|m| m.name() == name)
    .ok_or_else(|| format!("malformed vector: unknown ui_mode {name:?}"))
}

fn initiator(name: &str) -> Result<Initiator, String> {
    [Initiator::Client, Initiator::Server]
        .into_iter()
        .find(|m| m.name() == name)
        .ok_or_else(|| format!("malformed vector: unknown initiator {name:?}"))
}

fn u16_field(i: &Value, field: &str) -> Result<u16, String> {
    u16::try_from(uint(i, field)?).map_err(|_| format!("malformed vector: input.{field} > 65535"))
}

fn resync_name(r: ResyncNonce) -> &'static str {
    match r {
        ResyncNonce::AsciiText => "ascii_text",
        ResyncNonce::ZeroBytes => "zero_bytes",
    }
}

fn op(name: &str, i: &Value) -> Result<Value, String> {
    Ok(match name {
        "decode" => {
            let mut opts = DecodeOptions::default();
            if let Some(v) = i.get("accepted_versions") {
                opts.accepted_versions = v
                    .as_array()
                    .ok_or("malformed vector: accepted_versions must be an array")?
                    .iter()
                    .map(|x| x.as_u64().and_then(|n| u16::try_from(n).ok()))
                    .collect::<Option<Vec<u16>>>()
                    .ok_or("malformed vector: accepted_versions must hold u16 values")?;
            }
            match pkg0::decode_with(&hex(i, "message_hex")?, &opts) {
                Ok(n) => expect(json!({
                    "digest_hex": to_hex(&n.digest),
                    "version": n.version,
                    "ui_mode": n.ui_mode.name(),
                    "initiator": n.initiator.name(),
                    "session_id": n.session_id,
                    "session_id_hex": pkg0::session_id_to_hex(n.session_id),
                    "server_id": n.server_id,
                    "vendor_hex": to_hex(&n.vendor),
                })),
                Err(e) => error(e.kind()),
            }
        }
        "build" => {
            let n = Notification {
                digest: [0; 16],
                version: u16_field(i, "version")?,
                ui_mode: ui_mode(s(i, "ui_mode")?)?,
                initiator: initiator(s(i, "initiator")?)?,
                session_id: u16_field(i, "session_id")?,
                server_id: s(i, "server_id")?.to_owned(),
                vendor: hex(i, "vendor_hex")?,
            };
            match n.build(s(i, "server_password")?, &hex(i, "nonce_hex")?) {
                Ok(bytes) => expect(json!({ "message_hex": to_hex(&bytes) })),
                Err(e) => error(e.kind()),
            }
        }
        "verify" => match pkg0::verify(
            &hex(i, "message_hex")?,
            s(i, "name")?,
            s(i, "password")?,
            &hex(i, "nonce_hex")?,
        ) {
            Ok(valid) => expect(json!({ "valid": valid })),
            Err(e) => error(e.kind()),
        },
        "verify_resync" => {
            let order = i
                .get("resync")
                .and_then(Value::as_array)
                .ok_or("malformed vector: input.resync must be an array")?
                .iter()
                .map(|v| match v.as_str() {
                    Some("ascii_text") => Ok(ResyncNonce::AsciiText),
                    Some("zero_bytes") => Ok(ResyncNonce::ZeroBytes),
                    _ => Err(format!("malformed vector: unknown resync reading {v}")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            match pkg0::verify_with_resync(
                &hex(i, "message_hex")?,
                s(i, "name")?,
                s(i, "password")?,
                &hex(i, "nonce_hex")?,
                &order,
            ) {
                Ok(DigestCheck::Valid) => expect(json!({ "result": "valid" })),
                Ok(DigestCheck::Invalid) => expect(json!({ "result": "invalid" })),
                Ok(DigestCheck::ValidWithResync(r)) => {
                    expect(json!({ "result": format!("resync_{}", resync_name(r)) }))
                }
                Err(e) => error(e.kind()),
            }
        }
        "session_id_to_hex" => expect(json!({
            "hex": pkg0::session_id_to_hex(u16_field(i, "session_id")?)
        })),
        "session_id_from_hex" => match pkg0::session_id_from_hex(s(i, "hex")?) {
            Ok(id) => expect(json!({ "session_id": id })),
            Err(e) => error(e.kind()),
        },
        other => return Err(unknown_op("pkg0", other)),
    })
}
