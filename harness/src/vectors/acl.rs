//! Checker for `vectors/acl/` (facts §4.4): ACL grammar, permission checks, scrubbing,
//! inheritance. Format: `vectors/acl/README.md`.

use super::sec_cases::{error, expect, flag, run, s, unknown_op};
use super::Outcome;
use dm_protocol::acl::{self, Acl, AclCommand};
use serde_json::{json, Map, Value};
use std::path::Path;

/// Check every case in `dir` (normally `vectors/acl`).
pub fn check(dir: &Path) -> Vec<Outcome> {
    run(dir, "acl", &op)
}

fn parse_input(text: &str) -> Result<Acl, String> {
    Acl::parse(text)
        .map_err(|e| format!("malformed vector: input ACL {text:?} does not parse: {e}"))
}

fn op(name: &str, i: &Value) -> Result<Value, String> {
    Ok(match name {
        "parse" => match Acl::parse(s(i, "acl")?) {
            Ok(a) => {
                let mut entries = Map::new();
                for cmd in AclCommand::ALL {
                    if let Some(ids) = a.principals(cmd) {
                        let ids: Vec<&str> = ids.iter().map(|p| p.as_str()).collect();
                        entries.insert(cmd.as_str().into(), json!(ids));
                    }
                }
                expect(json!({
                    "canonical": a.to_string(),
                    "empty": a.is_empty(),
                    "entries": entries,
                }))
            }
            Err(e) => error(e.kind()),
        },
        "allows" => {
            let a = parse_input(s(i, "acl")?)?;
            let cmd_name = s(i, "command")?;
            let cmd = AclCommand::from_name(cmd_name)
                .ok_or_else(|| format!("malformed vector: unknown command {cmd_name:?}"))?;
            expect(json!({ "allowed": a.allows(cmd, s(i, "server_id")?) }))
        }
        "scrub" => {
            let mut a = parse_input(s(i, "acl")?)?;
            let id = s(i, "server_id")?;
            let changed = if flag(i, "root") {
                a.scrub_root(id)
            } else {
                a.scrub(id)
            };
            expect(json!({ "changed": changed, "acl": a.to_string() }))
        }
        "effective" => {
            let chain = i
                .get("chain")
                .and_then(Value::as_array)
                .ok_or("malformed vector: input.chain must be an array of strings")?
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| "malformed vector: chain item not a string".to_owned())
                        .and_then(parse_input)
                })
                .collect::<Result<Vec<Acl>, String>>()?;
            let found = acl::effective(&chain);
            let index = found.and_then(|f| chain.iter().position(|a| std::ptr::eq(a, f)));
            expect(json!({ "index": index }))
        }
        other => return Err(unknown_op("acl", other)),
    })
}
