//! Checker for `vectors/auth/` (facts §6): credentials, digests, the HMAC header.
//! Format: `vectors/auth/README.md`.

use super::sec_cases::{error, expect, hex, run, s, unknown_op};
use super::Outcome;
use dm_protocol::auth::{self, AuthType, HmacHeader};
use serde_json::{json, Value};
use std::path::Path;

/// Check every case in `dir` (normally `vectors/auth`).
pub fn check(dir: &Path) -> Vec<Outcome> {
    run(dir, "auth", &op)
}

fn op(name: &str, i: &Value) -> Result<Value, String> {
    Ok(match name {
        "basic_encode" => expect(json!({
            "credential": auth::basic_credential(s(i, "username")?, s(i, "password")?)
        })),
        "basic_decode" => match auth::parse_basic_credential(s(i, "credential")?) {
            Ok((u, p)) => expect(json!({ "username": u, "password": p })),
            Err(e) => error(e.kind()),
        },
        "md5_credential" => expect(json!({
            "credential": auth::md5_credential(s(i, "username")?, s(i, "password")?, &hex(i, "nonce_hex")?)
        })),
        "md5_verify" => expect(json!({
            "valid": auth::verify_md5(
                s(i, "credential")?,
                s(i, "username")?,
                s(i, "password")?,
                &hex(i, "nonce_hex")?
            )
        })),
        "hmac_mac" => expect(json!({
            "mac": auth::hmac_mac(
                s(i, "username")?,
                s(i, "password")?,
                &hex(i, "nonce_hex")?,
                &hex(i, "body_hex")?
            )
        })),
        "hmac_header_parse" => match HmacHeader::parse(s(i, "header")?) {
            Ok(h) => expect(json!({
                "algorithm": h.algorithm,
                "username": h.username,
                "mac": h.mac
            })),
            Err(e) => error(e.kind()),
        },
        "hmac_verify" => match HmacHeader::parse(s(i, "header")?) {
            Ok(h) => expect(json!({
                "valid": auth::verify_hmac(
                    &h,
                    s(i, "username")?,
                    s(i, "password")?,
                    &hex(i, "nonce_hex")?,
                    &hex(i, "body_hex")?
                )
            })),
            Err(e) => error(e.kind()),
        },
        "auth_type" => {
            let text = s(i, "meta_type")?;
            let t: AuthType = match text.parse() {
                Ok(t) => t,
                Err(never) => match never {},
            };
            expect(json!({
                "known": !matches!(t, AuthType::Other(_)),
                "aauth_type": t.aauth_type().map(|a| a.as_str()),
                "display": t.to_string()
            }))
        }
        other => return Err(unknown_op("auth", other)),
    })
}
