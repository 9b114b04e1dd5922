//! docs/admin-api.md and docs/admin-api.openapi.yaml agree with the code and with each other:
//! every tagged JSON example decodes as the model type it shows, every job spec example is
//! accepted by the store, and both documents list the same endpoints and error kinds.

use std::collections::BTreeSet;

use dm_server::model::{
    AlertRecord, Device, DeviceState, Job, JobSpec, NotifyOutcome, NotifyRequest, SessionRecord,
    SessionSummary,
};
use dm_server::store::Store;

type R = Result<(), Box<dyn std::error::Error>>;

fn read(name: &str) -> Result<String, std::io::Error> {
    std::fs::read_to_string(format!("{}/../docs/{name}", env!("CARGO_MANIFEST_DIR")))
}

/// The fenced blocks opened by "```json TAG", as (tag, text).
fn tagged_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        match (&mut current, line.strip_prefix("```json ")) {
            (None, Some(tag)) => current = Some((tag.trim().to_string(), String::new())),
            (Some(_), _) if line.starts_with("```") => out.extend(current.take()),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

fn decode<T: serde::de::DeserializeOwned>(tag: &str, text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("example `{tag}` does not decode: {e}\n{text}"))
}

#[test]
fn every_tagged_example_decodes_as_its_model_type() -> R {
    let md = read("admin-api.md")?;
    let blocks = tagged_blocks(&md);
    let tags: BTreeSet<&str> = blocks.iter().map(|(t, _)| t.as_str()).collect();
    for expected in [
        "device",
        "device-view",
        "jobspec",
        "job",
        "session-list",
        "session",
        "alerts",
        "notify-request",
        "notify-outcome",
        "schedule-definition",
        "schedule",
        "schedule-reports",
    ] {
        assert!(tags.contains(expected), "no `{expected}` example");
    }
    let tmp = tempfile::tempdir()?;
    let store = Store::open(tmp.path())?;
    let mut jobspecs = 0;
    for (tag, text) in &blocks {
        match tag.as_str() {
            "device" => {
                let device: Device = decode(tag, text)?;
                store.add_device(&device)?;
            }
            "device-view" => {
                let view: serde_json::Value = decode(tag, text)?;
                let _: Device = serde_json::from_value(view["device"].clone())?;
                let _: DeviceState = serde_json::from_value(view["state"].clone())?;
            }
            "jobspec" => {
                let spec: JobSpec = decode(tag, text)?;
                let job = store.add_job("IMEI:493005100592800", &spec, 1)?;
                assert_eq!(job.spec, spec);
                jobspecs += 1;
            }
            "job" => {
                let _: Job = decode(tag, text)?;
            }
            "session-list" => {
                let _: Vec<SessionSummary> = decode(tag, text)?;
            }
            "session" => {
                let _: SessionRecord = decode(tag, text)?;
            }
            "alerts" => {
                let _: Vec<AlertRecord> = decode(tag, text)?;
            }
            "notify-request" => {
                let request: NotifyRequest = decode(tag, text)?;
                assert_ne!(
                    request.session_id,
                    Some(0),
                    "facts §7.1: session-id 1..=65535"
                );
            }
            "notify-outcome" => {
                let outcome: NotifyOutcome = decode(tag, text)?;
                let derived = NotifyOutcome::new(
                    outcome.transport,
                    outcome.address.clone(),
                    outcome.session_id,
                );
                assert_eq!(outcome, derived, "sync_hdr_session_id is the hex form");
            }
            "package-upload" => {
                let up: dm_server::packages::PackageUpload = decode(tag, text)?;
                let (o, _) = dm_protocol::swpkg::Originator::generate("dm-server")?;
                let dir = tempfile::tempdir()?;
                let store = Store::open(dir.path())?;
                dm_server::packages::publish(&store, &o, &up, 1)?;
            }
            "backup-request" => {
                let _: dm_server::migration::BackupRequest = decode(tag, text)?;
            }
            "restore-request" => {
                let _: dm_server::migration::RestoreRequest = decode(tag, text)?;
            }
            "scomo-request" => {
                let _: dm_server::packages::ScomoRequest = decode(tag, text)?;
            }
            "package-info" => {
                let _: dm_server::packages::PackageInfo = decode(tag, text)?;
            }
            "schedule-definition" => {
                let def: dm_server::schedules::ScheduleDefinition = decode(tag, text)?;
                // A documented definition is one the server accepts and turns into a job.
                let spec = dm_server::schedules::create_job(&def)?;
                store.add_job("IMEI:493005100592800", &spec, 1)?;
            }
            "schedule" => {
                let r: dm_server::schedules::ScheduleRecord = decode(tag, text)?;
                dm_server::schedules::validate(&r.definition)?;
            }
            "schedule-reports" => {
                let _: Vec<dm_server::schedules::ScheduleReport> = decode(tag, text)?;
            }
            other => panic!("unknown example tag `{other}`"),
        }
    }
    assert_eq!(jobspecs, 3, "Get, Replace, Atomic + Exec");
    Ok(())
}

/// The error kinds of the markdown table (first column after the status).
fn md_error_kinds(md: &str) -> BTreeSet<String> {
    md.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let status_ok = cells
                .get(1)
                .is_some_and(|c| c.len() == 3 && c.parse::<u16>().is_ok());
            let kind = cells.get(2)?.strip_prefix('`')?.strip_suffix('`')?;
            status_ok.then(|| kind.to_string())
        })
        .collect()
}

/// The endpoints of the markdown table, as (method, path).
fn md_endpoints(md: &str) -> BTreeSet<(String, String)> {
    md.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let method = *cells.get(1)?;
            let path = cells.get(2)?.strip_prefix('`')?.strip_suffix('`')?;
            ["GET", "POST", "PUT", "DELETE"]
                .contains(&method)
                .then(|| (method.to_string(), path.to_string()))
        })
        .collect()
}

/// The endpoints of the OpenAPI document: the `  /path:` keys (indent 2) and the method
/// keys under them (indent 4).
fn openapi_endpoints(yaml: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut path: Option<String> = None;
    for line in yaml.lines() {
        let indent = line.len() - line.trim_start().len();
        if line.trim().is_empty() {
            continue;
        }
        if indent <= 2 {
            path = line
                .strip_prefix("  /")
                .and_then(|p| p.strip_suffix(':'))
                .map(|p| format!("/{p}"));
        } else if let (Some(p), 4) = (&path, indent) {
            let key = line.trim();
            for method in ["get", "post", "put", "delete"] {
                if key == format!("{method}:") {
                    out.insert((method.to_uppercase(), p.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn markdown_and_openapi_list_the_same_endpoints_and_error_kinds() -> R {
    let md = read("admin-api.md")?;
    let yaml = read("admin-api.openapi.yaml")?;
    let md_paths = md_endpoints(&md);
    assert_eq!(md_paths.len(), 35, "{md_paths:?}");
    assert_eq!(md_paths, openapi_endpoints(&yaml));

    let kinds = md_error_kinds(&md);
    assert!(
        kinds.contains("bad_json")
            && kinds.contains("notify_failed")
            && kinds.contains("unknown_schedule")
            && kinds.contains("schedule_not_on_device"),
        "{kinds:?}"
    );
    let enum_line: String = yaml
        .split("enum: [bad_json")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .map(|rest| format!("bad_json{rest}"))
        .ok_or("no error kind enum in the OpenAPI document")?;
    let yaml_kinds: BTreeSet<String> = enum_line
        .split(',')
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .collect();
    assert_eq!(kinds, yaml_kinds);
    Ok(())
}
