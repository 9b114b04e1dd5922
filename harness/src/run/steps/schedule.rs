//! Scheduling steps (issue 9; docs/scheduling.md): the server creates, suspends, resumes,
//! terminates and deletes schedules; the device's clock is set and moved; the checks read
//! the schedule reports (Generic Alerts `urn:dmconf:at:schedule:1.0:Report`) on the wire and
//! as the server stored them.
//!
//! A schedule is written as a table of `field | value` rows whose fields are those of the
//! admin API's schedule definition (docs/admin-api.md "Schedules"); `commands` and a
//! group's commands use a short form, `;`-separated: `Get ./X`, `Replace ./X = v`,
//! `Add ./X = v`, `Delete ./X`, `Exec ./X` or `Exec ./X = data`; a row `group NAME` has the
//! value `CONDITION => COMMANDS`.
//!
//! A schedule's node is named after the scenario and the step's name (`SCHED-001`, `report`
//! → `./Schedule/sched-001-report`), so scenarios sharing a server under test or a device
//! never meet each other's schedules.

use std::collections::BTreeMap;

use cucumber::step::Context;
use dm_protocol::model::{Command, Data};
use dm_server::schedules::{ScheduleDefinition, ScheduleGroup, REPORT_TYPE};

use super::{arg, def, Def};
use crate::adapter::http::ScheduleRequest;
use crate::profile::Role;
use crate::run::client_side::ClientSide;
use crate::run::server_side::ServerSide;
use crate::run::world::{DmWorld, Party, StepResult, Why};

pub(super) fn defs() -> Vec<Def> {
    vec![
        def!(
            Given,
            r#"the client's clock is set to "(\d{8}T\d{6}Z)""#,
            set_clock
        ),
        def!(
            When,
            r"the client's clock advances by (\d+) seconds?",
            advance_clock
        ),
        def!(When, r"the client restarts", restart),
        def!(
            Given,
            r#"the server creates the schedule "([^"]*)" with:"#,
            create
        ),
        def!(
            Given,
            r#"the server (suspends|resumes|terminates|deletes) the schedule "([^"]*)""#,
            control
        ),
        def!(
            Given,
            r#"the server changes the schedule "([^"]*)" to:"#,
            change
        ),
        def!(
            Then,
            r#"the client reports run (\d+) of the schedule "([^"]*)" with result (\d+)"#,
            client_reports
        ),
        def!(
            Then,
            r#"the client answers the (create|suspend|resume|terminate|delete) of the schedule "([^"]*)" with (\d+(?: or \d+)*)"#,
            answers
        ),
        def!(
            Then,
            r#"the client's report of the schedule "([^"]*)" contains "([^"]*)""#,
            report_contains
        ),
        def!(
            Then,
            r#"the client has sent no report of the schedule "([^"]*)"(?: after run (\d+))?"#,
            no_report
        ),
        def!(
            Then,
            r#"the server stores run (\d+) of the schedule "([^"]*)" with result (\d+)"#,
            server_stores
        ),
        def!(
            Then,
            r#"the client holds the schedule "([^"]*)" with (State|Trigger/Every|Trigger/At|End/Count|Report/Mode) "([^"]*)""#,
            client_holds
        ),
        def!(
            When,
            r#"the client reports run (\d+) of the schedule "([^"]*)" with result (\d+) itself"#,
            tester_reports
        ),
        def!(
            Then,
            r#"the server keeps the schedule "([^"]*)" as (requested|active|suspended|terminated|refused|deleted)(?: with verdict (\d+))?"#,
            server_keeps
        ),
    ]
}

/// The node name of the scenario's schedule `name` (see the module documentation).
fn node_name(w: &DmWorld, name: &str) -> String {
    format!("{}-{name}", w.id.to_ascii_lowercase())
}

/// Run an action on the client that may open sessions (moving the clock), and keep them.
async fn clock_action(
    w: &mut DmWorld,
    action: &'static str,
    values: BTreeMap<&'static str, String>,
    set: Option<u64>,
    advance: u64,
) -> StepResult {
    let seed = w.seed.wrapping_add(w.sessions.len() as u64);
    match (&mut w.client, &mut w.server) {
        (Some(ClientSide::Iut(iut, _)), Some(ServerSide::Tester(tester))) => {
            iut.perform(action, values).await?;
            let new = tester.new_sessions(&w.dev_id)?;
            w.sessions.extend(new);
            Ok(())
        }
        (Some(ClientSide::Iut(iut, _)), Some(ServerSide::Iut(_))) => {
            iut.perform(action, values).await?;
            if let Some(relay) = w.relay.as_mut() {
                let new = relay.new_sessions();
                w.sessions.extend(new);
            }
            Ok(())
        }
        (Some(ClientSide::Tester(t)), Some(ServerSide::Iut(_))) => {
            let new = t.clock(set, advance, seed).await?;
            w.sessions.extend(new);
            Ok(())
        }
        _ => Err(Why::Error(
            "move the clock after `the client has an account on the server`".into(),
        )),
    }
}

async fn set_clock(w: &mut DmWorld, c: &Context) -> StepResult {
    let time = arg(c, 1).to_owned();
    let unix = dm_tree::parse_tstamp(&time)
        .ok_or_else(|| Why::Error(format!("{time:?} is not a TStamp")))?;
    let values = BTreeMap::from([("time", time)]);
    clock_action(w, "set_clock", values, Some(unix), 0).await
}

async fn advance_clock(w: &mut DmWorld, c: &Context) -> StepResult {
    let secs: u64 = arg(c, 1)
        .parse()
        .map_err(|e| Why::Error(format!("bad number of seconds: {e}")))?;
    let values = BTreeMap::from([("seconds", secs.to_string())]);
    clock_action(w, "advance_clock", values, None, secs).await
}

/// DMRD-6.1.7-3: the device stops and starts again, keeping its state. The reference client
/// keeps no process between actions, so every action already reopens its state; the
/// `restart` action says so to a vendor's adapter.
async fn restart(w: &mut DmWorld, _c: &Context) -> StepResult {
    match &w.client {
        Some(ClientSide::Iut(iut, _)) => iut.perform("restart", BTreeMap::new()).await.map(|_| ()),
        Some(ClientSide::Tester(_)) => Err(Why::Error(
            "`the client restarts` tests a client; the tester device is not restarted".into(),
        )),
        None => Err(Why::Error(
            "restart after `the client has an account on the server`".into(),
        )),
    }
}

/// The short command form (module documentation) as SyncML XML.
pub fn commands_xml(short: &str) -> Result<String, Why> {
    let mut xml = String::new();
    for (i, part) in short
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        let (verb, rest) = part
            .split_once(' ')
            .ok_or_else(|| Why::Error(format!("{part:?}: expected `Verb ./URI [= value]`")))?;
        let (uri, value) = match rest.split_once(" = ") {
            Some((u, v)) => (u.trim(), Some(v.trim())),
            None => (rest.trim(), None),
        };
        if !matches!(verb, "Get" | "Add" | "Replace" | "Delete" | "Exec") {
            return Err(Why::Error(format!("{part:?}: unknown command {verb}")));
        }
        let esc = dm_client::jobs::xml_escape;
        let data = value
            .map(|v| format!("<Data>{}</Data>", esc(v)))
            .unwrap_or_default();
        xml.push_str(&format!(
            "<{verb}><CmdID>{}</CmdID><Item><Target><LocURI>{}</LocURI></Target>{data}</Item></{verb}>",
            i + 1,
            esc(uri)
        ));
    }
    Ok(xml)
}

fn definition(name: &str, c: &Context) -> Result<ScheduleDefinition, Why> {
    let table =
        c.step.table.as_ref().ok_or_else(|| {
            Why::Error("the schedule step needs a `| field | value |` table".into())
        })?;
    let mut def = ScheduleDefinition {
        name: name.to_owned(),
        ..ScheduleDefinition::default()
    };
    for row in &table.rows {
        let (field, value) = match row.as_slice() {
            [f, v] => (f.trim(), v.trim()),
            _ => return Err(Why::Error(format!("a schedule row has two cells: {row:?}"))),
        };
        let int = |v: &str| {
            v.parse::<u64>()
                .map_err(|e| Why::Error(format!("{field}: {v:?} is not a number: {e}")))
        };
        match field {
            "commands" => def.commands = Some(commands_xml(value)?),
            "at" => def.at = Some(value.to_owned()),
            "every" => def.every = Some(int(value)?),
            "when" => def.when = Some(value.to_owned()),
            "on_change" => def.on_change = Some(value.to_owned()),
            "count" => def.count = Some(int(value)?),
            "until" => def.until = Some(value.to_owned()),
            "report" => def.report = Some(value.to_owned()),
            "prompt" => def.prompt = Some(value.to_owned()),
            "state" => def.state = Some(value.to_owned()),
            f => match f.strip_prefix("group ") {
                Some(g) => {
                    let (cond, cmds) = value.split_once("=>").ok_or_else(|| {
                        Why::Error(format!("group {g}: expected `CONDITION => COMMANDS`"))
                    })?;
                    def.groups.push(ScheduleGroup {
                        name: g.trim().to_owned(),
                        condition: cond.trim().to_owned(),
                        commands: commands_xml(cmds)?,
                    });
                }
                None => return Err(Why::Error(format!("unknown schedule field {f:?}"))),
            },
        }
    }
    Ok(def)
}

/// The server creates a schedule (docs/scheduling.md "Life cycle"): a job with the Add of
/// `./Schedule/<name>`, sent in the device's next session.
async fn create(w: &mut DmWorld, c: &Context) -> StepResult {
    let def = definition(&node_name(w, arg(c, 1)), c)?;
    let server = w.server.as_ref().ok_or_else(|| {
        Why::Error("create a schedule after `the client has an account on the server`".into())
    })?;
    let id = server
        .schedule_job(&w.dev_id, &ScheduleRequest::Create(&def), None)
        .await?;
    w.jobs.push(id);
    w.schedules.insert(def.name.clone(), def);
    Ok(())
}

/// The server changes a schedule to a new definition (docs/scheduling.md "Life cycle":
/// Replace, Add and Delete of the leaves that differ; the admin API's `PUT`).
async fn change(w: &mut DmWorld, c: &Context) -> StepResult {
    let def = definition(&node_name(w, arg(c, 1)), c)?;
    let server = w
        .server
        .as_ref()
        .ok_or_else(|| Why::Error("no server".into()))?;
    let id = server
        .schedule_job(
            &w.dev_id,
            &ScheduleRequest::Modify(&def),
            w.schedules.get(&def.name),
        )
        .await?;
    w.jobs.push(id);
    w.schedules.insert(def.name.clone(), def);
    Ok(())
}

async fn control(w: &mut DmWorld, c: &Context) -> StepResult {
    let name = node_name(w, arg(c, 2));
    let request = match arg(c, 1) {
        "suspends" => ScheduleRequest::State(&name, "suspended"),
        "resumes" => ScheduleRequest::State(&name, "active"),
        "terminates" => ScheduleRequest::State(&name, "terminated"),
        _ => ScheduleRequest::Delete(&name),
    };
    let server = w
        .server
        .as_ref()
        .ok_or_else(|| Why::Error("no server".into()))?;
    let id = server
        .schedule_job(&w.dev_id, &request, w.schedules.get(&name))
        .await?;
    w.jobs.push(id);
    Ok(())
}

/// The client's status for the command a schedule request became (docs/scheduling.md
/// "Verification", "Life cycle"): create → the TNDS Add on `./Schedule`; suspend, resume,
/// terminate → the Replace of `State`; delete → the Delete of the schedule.
async fn answers(w: &mut DmWorld, c: &Context) -> StepResult {
    let node = format!("./Schedule/{}", node_name(w, arg(c, 2)));
    let (cmd, target) = match arg(c, 1) {
        "create" => ("Add", "./Schedule".to_owned()),
        "delete" => ("Delete", node),
        _ => ("Replace", format!("{node}/State")),
    };
    let want: Vec<u16> = arg(c, 3)
        .split(" or ")
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    super::check::check_answer(w, Party::Client, cmd, Some(&target), &want)
}

/// One schedule report the client sent: (schedule name, its Data).
fn reports(w: &DmWorld) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for m in w.sessions.iter().flat_map(|s| s.from(Party::Client)) {
        for cmd in m.commands() {
            let Command::Alert(a) = cmd else { continue };
            if a.code.map(|c| c.as_u16()) != Some(1226) {
                continue;
            }
            for i in &a.items {
                if i.meta.as_ref().and_then(|m| m.type_.as_deref()) != Some(REPORT_TYPE) {
                    continue;
                }
                let source = i
                    .source
                    .as_ref()
                    .map(|l| l.loc_uri.clone())
                    .unwrap_or_default();
                let name = source
                    .strip_prefix("./Schedule/")
                    .unwrap_or(&source)
                    .to_owned();
                let data = match &i.data {
                    Some(Data::Text(t)) => t.clone(),
                    Some(Data::Markup(x)) => x.to_xml(),
                    _ => String::new(),
                };
                out.push((name, data));
            }
        }
    }
    out
}

fn element(data: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let rest = data.split(&open).nth(1)?;
    Some(rest.split(&close).next()?.trim().to_owned())
}

async fn client_reports(w: &mut DmWorld, c: &Context) -> StepResult {
    let (run, name, result) = (arg(c, 1), node_name(w, arg(c, 2)), arg(c, 3));
    let got = reports(w);
    let found = got.iter().any(|(n, d)| {
        *n == name
            && element(d, "Run").as_deref() == Some(run)
            && element(d, "ResultCode").as_deref() == Some(result)
    });
    if found {
        Ok(())
    } else {
        let seen: Vec<String> = got
            .iter()
            .map(|(n, d)| {
                format!(
                    "{n}: run {:?} result {:?}",
                    element(d, "Run"),
                    element(d, "ResultCode")
                )
            })
            .collect();
        Err(Why::Fail(format!(
            "docs/scheduling.md \"Reports\" (DMRD-6.1.7-1, use case 5.6.1: each run is reported \
             with a Generic Alert {REPORT_TYPE}, Source ./Schedule/<x>): expected run {run} of \
             {name:?} with result {result}; the client reported {seen:?}"
        )))
    }
}

async fn report_contains(w: &mut DmWorld, c: &Context) -> StepResult {
    let (name, want) = (node_name(w, arg(c, 1)), arg(c, 2));
    let got: Vec<String> = reports(w)
        .into_iter()
        .filter(|(n, _)| *n == name)
        .map(|(_, d)| d)
        .collect();
    if got.iter().any(|d| d.contains(want)) {
        Ok(())
    } else {
        Err(Why::Fail(format!(
            "docs/scheduling.md \"Reports\": expected a report of {name:?} containing {want:?}; \
             its reports: {got:?}"
        )))
    }
}

async fn no_report(w: &mut DmWorld, c: &Context) -> StepResult {
    let name = node_name(w, arg(c, 1));
    let after: u64 = arg(c, 2).parse().unwrap_or(0);
    let got: Vec<String> = reports(w)
        .into_iter()
        .filter(|(n, d)| {
            *n == name
                && element(d, "Run")
                    .and_then(|r| r.parse::<u64>().ok())
                    .unwrap_or(u64::MAX)
                    > after
        })
        .map(|(_, d)| d)
        .collect();
    if got.is_empty() {
        Ok(())
    } else {
        Err(Why::Fail(format!(
            "docs/scheduling.md \"Triggers and runs\" (a schedule runs only when its trigger is \
             due, only while active, and never after it ended): expected no report of {name:?} \
             after run {after}; the client sent {got:?}"
        )))
    }
}

/// DMRD-6.3.4.1-10: the server received and kept the device's report.
async fn server_stores(w: &mut DmWorld, c: &Context) -> StepResult {
    let (run, name, result) = (arg(c, 1), node_name(w, arg(c, 2)), arg(c, 3));
    let server = w
        .server
        .as_ref()
        .ok_or_else(|| Why::Error("no server".into()))?;
    let got = server.schedule_reports(&w.dev_id, &name).await?;
    let found = got.iter().any(|r| {
        r.run.map(|n| n.to_string()).as_deref() == Some(run)
            && r.result_code.map(|n| n.to_string()).as_deref() == Some(result)
    });
    if found {
        Ok(())
    } else {
        let seen: Vec<(Option<u64>, Option<u16>)> =
            got.iter().map(|r| (r.run, r.result_code)).collect();
        Err(Why::Fail(format!(
            "DMRD-6.3.4.1-10 (the server receives and keeps the reports of scheduled runs; \
             docs/admin-api.md \"Schedules\"): expected run {run} of {name:?} with result \
             {result} stored; the server has (run, result) {seen:?}"
        )))
    }
}

/// DMRD-6.3.4-36: the server keeps each schedule's definition and state, and the device's
/// verdict (docs/admin-api.md "Schedules").
async fn server_keeps(w: &mut DmWorld, c: &Context) -> StepResult {
    let (name, state, verdict) = (node_name(w, arg(c, 1)), arg(c, 2), arg(c, 3));
    let server = w
        .server
        .as_ref()
        .ok_or_else(|| Why::Error("no server".into()))?;
    let rec = server.schedule_record(&w.dev_id, &name).await?;
    let got_state = serde_json::to_value(rec.state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let got_verdict = rec.verdict.map(|v| v.to_string()).unwrap_or_default();
    let same_def = w
        .schedules
        .get(&name)
        .is_none_or(|d| d.commands == rec.definition.commands && d.every == rec.definition.every);
    if got_state == state && (verdict.is_empty() || got_verdict == verdict) && same_def {
        Ok(())
    } else {
        Err(Why::Fail(format!(
            "DMRD-6.3.4-36 (the server keeps each device's schedules, their state and the \
             device's verdict): expected {name:?} kept as {state}{}; the server has state \
             {got_state}, verdict {:?}, definition as created: {same_def}",
            if verdict.is_empty() {
                String::new()
            } else {
                format!(" with verdict {verdict}")
            },
            rec.verdict
        )))
    }
}

/// Server role: what the tester device holds after the server's jobs.
async fn client_holds(w: &mut DmWorld, c: &Context) -> StepResult {
    super::setup::only(w, Role::Server, "the client holds the schedule")?;
    let (name, leaf, want) = (node_name(w, arg(c, 1)), arg(c, 2), arg(c, 3));
    let Some(ClientSide::Tester(t)) = &w.client else {
        return Err(Why::Error("no tester device".into()));
    };
    let got = t.value(&format!("./Schedule/{name}/{leaf}"));
    if got.as_deref() == Some(want) {
        Ok(())
    } else {
        Err(Why::Fail(format!(
            "DMRD-6.1.7-2, DMRD-6.3.4-35 (the server creates, changes, suspends, resumes and \
             ends schedules on the device; docs/scheduling.md \"Life cycle\"): expected \
             ./Schedule/{name}/{leaf} = {want:?} on the device; it holds {got:?}"
        )))
    }
}

/// Server role: the tester device sends a report of a run as a Generic Alert, as a device
/// would after running the schedule (docs/scheduling.md "Reports").
async fn tester_reports(w: &mut DmWorld, c: &Context) -> StepResult {
    super::setup::only(w, Role::Server, "the client reports a run itself")?;
    let (run, name, result) = (arg(c, 1), node_name(w, arg(c, 2)), arg(c, 3));
    let data = format!(
        "<Report><ResultCode>{result}</ResultCode><Run>{run}</Run><Time>20261203T120000Z</Time>\
         <Results></Results><Statuses></Statuses></Report>"
    );
    let alert = dm_protocol::model::Alert {
        cmd_id: "0".into(),
        code: Some(dm_protocol::codes::AlertCode::from_u16(1226)),
        items: vec![dm_protocol::model::Item {
            source: Some(dm_protocol::model::Locator::uri(format!(
                "./Schedule/{name}"
            ))),
            meta: Some(dm_protocol::model::Meta {
                type_: Some(REPORT_TYPE.into()),
                format: Some("xml".into()),
                ..dm_protocol::model::Meta::default()
            }),
            data: Some(Data::Text(data.clone())),
            ..dm_protocol::model::Item::default()
        }],
        ..dm_protocol::model::Alert::default()
    };
    let values = BTreeMap::from([
        ("type", REPORT_TYPE.to_owned()),
        ("format", "xml".to_owned()),
        ("data", data),
        ("source", format!("./Schedule/{name}")),
        ("code", "1226".to_owned()),
    ]);
    super::act::session(w, vec![alert], "send_alert", values).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn short_commands_become_syncml() {
        let x = commands_xml("Get ./A; Replace ./B = x<y").unwrap();
        assert_eq!(
            x,
            "<Get><CmdID>1</CmdID><Item><Target><LocURI>./A</LocURI></Target></Item></Get>\
             <Replace><CmdID>2</CmdID><Item><Target><LocURI>./B</LocURI></Target><Data>x&lt;y</Data></Item></Replace>"
        );
        assert!(commands_xml("Frobnicate ./A").is_err());
    }
}
