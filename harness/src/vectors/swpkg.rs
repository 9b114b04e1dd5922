//! Checker for `vectors/swpkg/` (docs/scomo-package.md): a package's bytes, the device's trust
//! store and identity → verified (with its id, name, version and payload digest) or the
//! refusal's kind and SCOMO result code (facts §10.3). Format: `vectors/swpkg/README.md`.

use dm_protocol::swpkg::{self, DeviceIdentity, Package, TrustStore};
use serde_json::{json, Value};
use std::path::Path;

use super::sec_cases::{expect, run, s, unknown_op};
use super::Outcome;

/// Check every case in `dir` (normally `vectors/swpkg`).
pub fn check(dir: &Path) -> Vec<Outcome> {
    run(dir, "swpkg", &op)
}

fn b64(i: &Value, field: &str) -> Result<Vec<u8>, String> {
    dm_protocol::auth::b64_decode(s(i, field)?)
        .map_err(|_| format!("malformed vector: input.{field} is not base64"))
}

fn op(name: &str, input: &Value) -> Result<Value, String> {
    if name != "verify" {
        return Err(unknown_op("swpkg", name));
    }
    let bytes = b64(input, "package_b64")?;
    let mut trust = TrustStore::new();
    for t in input
        .get("trusted")
        .and_then(Value::as_array)
        .ok_or("malformed vector: input.trusted is not an array")?
    {
        trust.add(s(t, "id")?, &b64(t, "public_key")?);
    }
    let d = input
        .get("device")
        .ok_or("malformed vector: no input.device")?;
    let device = DeviceIdentity {
        dev_id: s(d, "dev_id")?.to_owned(),
        manufacturer: s(d, "manufacturer")?.to_owned(),
        model: s(d, "model")?.to_owned(),
    };
    let outcome = Package::parse(&bytes).and_then(|p| p.verify(&trust, &device).map(|()| p));
    Ok(match outcome {
        Ok(p) => expect(json!({
            "ok": true,
            "pkg_id": p.pkg_id,
            "name": p.name,
            "version": p.version,
            "payload_sha256": swpkg::sha256(&p.payload).iter().map(|b| format!("{b:02x}")).collect::<String>(),
        })),
        // `status` is the SCOMO result code the device reports (facts §10.3).
        Err(e) => json!({"error": e.kind(), "status": e.result_code()}),
    })
}
