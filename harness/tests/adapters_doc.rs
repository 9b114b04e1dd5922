#![allow(clippy::unwrap_used, clippy::expect_used)]
//! docs/adapters.md, docs/adapter-actions.schema.json and the profile's action lists name
//! the same actions.

use std::collections::BTreeSet;
use std::path::Path;

use dmconf::profile::{CLIENT_ACTIONS, SERVER_ACTIONS};

fn doc(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../docs")
            .join(name),
    )
    .unwrap()
}

#[test]
fn doc_schema_and_code_agree_on_actions() {
    let code: BTreeSet<String> = CLIENT_ACTIONS
        .iter()
        .chain(SERVER_ACTIONS.iter())
        .map(|s| s.to_string())
        .collect();
    let schema: serde_json::Value =
        serde_json::from_str(&doc("adapter-actions.schema.json")).unwrap();
    let in_schema: BTreeSet<String> = schema["properties"]["action"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(in_schema, code);
    let per_action: BTreeSet<String> = schema["allOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["if"]["properties"]["action"]["const"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(per_action, code, "every action has its values described");
    let md = doc("adapters.md");
    let in_table: BTreeSet<String> = md
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_owned)
        .collect();
    assert_eq!(in_table, code);
}
