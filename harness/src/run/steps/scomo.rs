//! SCOMO steps (issue 8; facts §10, docs/scomo.md): the server publishes packages and queues
//! operations, the device asks for installs, and the checks read the OperationComplete
//! reports. Package ids are derived from the name and version (`Antivirus`, `2.0` →
//! `antivirus-2.0`); against a server under test, whose repository all scenarios share, the
//! scenario id goes in front (`scomo-101-antivirus-2.0`), so concurrent scenarios never
//! replace each other's packages. The component's node is named after the package's name
//! (`Deployed/antivirus`), so a newer version replaces it: an update.

use std::collections::BTreeMap;

use cucumber::step::Context;
use dm_protocol::codes::AlertCode;
use dm_protocol::model::{Alert, Command, Data, Item, Meta};
use dm_server::packages::{
    PackageTarget, PackageUpload, ScomoOperation, ScomoRequest, DEVICE_REQUEST_TYPE,
};

use super::{arg, def, Def};
use crate::profile::Role;
use crate::run::server_side::{adapter, ServerSide};
use crate::run::world::{DmWorld, Party, StepResult, Why};

/// The OperationComplete alert type (facts §10.3).
pub const OPERATION_COMPLETE: &str = "urn:oma:at:scomo:1.0:OperationComplete";

pub(super) fn defs() -> Vec<Def> {
    vec![
        def!(
            Then,
            r#"the client withholds "([^"]*)" from the Get"#,
            withholds
        ),
        def!(
            Given,
            r#"the server publishes (?:a|the) package "([^"]*)" version "([^"]*)" for (the client|another model)"#,
            publish
        ),
        def!(
            Given,
            r#"the server publishes a tampered package "([^"]*)" version "([^"]*)" for the client"#,
            publish_tampered
        ),
        def!(
            Given,
            r#"the server publishes a package "([^"]*)" version "([^"]*)" signed by an unknown originator"#,
            publish_untrusted
        ),
        def!(
            Given,
            r#"the server queues an? (download|install|install_inactive|remove|activate|deactivate) of "([^"]*)" version "([^"]*)""#,
            queue_op
        ),
        def!(
            Given,
            r"the server queues an inventory query",
            queue_inventory
        ),
        def!(
            Given,
            r#"the server queues a Get of the (Version|State|Name) of the installed "([^"]*)" version "([^"]*)""#,
            queue_get_installed
        ),
        def!(
            Then,
            r#"the client reports (Version|State|Name) "([^"]*)" for the installed "([^"]*)" version "([^"]*)""#,
            reports_installed
        ),
        def!(
            Then,
            r#"the client has no installed "([^"]*)" version "([^"]*)""#,
            not_installed
        ),
        def!(
            When,
            r#"the client asks the server to (install|update) "([^"]*)""#,
            device_request
        ),
        def!(
            Then,
            r"the client reports the operation complete with result (\d+)",
            client_reports
        ),
        def!(
            Then,
            r"the server records the operation result (\d+)",
            server_records
        ),
    ]
}

/// The package id of `name` `version` in this scenario (see the module documentation).
pub fn scenario_pkg_id(w: &DmWorld, name: &str, version: &str) -> String {
    let base = pkg_id(name, version);
    match &w.server {
        Some(ServerSide::Iut(_)) => format!("{}-{base}", w.id.to_ascii_lowercase()),
        _ => base,
    }
}

/// `Antivirus`, `2.0` → `antivirus-2.0`.
pub fn pkg_id(name: &str, version: &str) -> String {
    let n: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("{n}-{version}")
}

fn upload(w: &DmWorld, name: &str, version: &str, for_client: bool) -> PackageUpload {
    PackageUpload {
        pkg_id: scenario_pkg_id(w, name, version),
        name: name.to_owned(),
        version: version.to_owned(),
        pkg_type: Some("application/vnd.dmconf.test-app".into()),
        targets: vec![if for_client {
            PackageTarget {
                dev_id: Some(w.dev_id.clone()),
                model: None,
            }
        } else {
            PackageTarget {
                dev_id: None,
                model: Some("NoSuchMaker/NoSuchModel".into()),
            }
        }],
        payload: dm_protocol::auth::b64(format!("{name} {version} component bytes\n").as_bytes()),
    }
}

async fn publish(w: &mut DmWorld, c: &Context) -> StepResult {
    let up = upload(w, arg(c, 1), arg(c, 2), arg(c, 3) == "the client");
    match &w.server {
        Some(ServerSide::Tester(t)) => t.publish(&up, None).map(|_| ()),
        Some(ServerSide::Iut(s)) => s
            .admin
            .http("publish_package")
            .map_err(adapter)?
            .publish_package(&up)
            .await
            .map(|_| ())
            .map_err(adapter),
        None => Err(Why::Error(
            "publish after `the client has an account on the server`".into(),
        )),
    }
}

async fn publish_tampered(w: &mut DmWorld, c: &Context) -> StepResult {
    super::setup::only(w, Role::Client, "the server publishes a tampered package")?;
    let up = upload(w, arg(c, 1), arg(c, 2), true);
    let Some(ServerSide::Tester(t)) = &w.server else {
        return Err(Why::Error("no tester server".into()));
    };
    t.publish(&up, None)?;
    t.tamper(&up.pkg_id)
}

async fn publish_untrusted(w: &mut DmWorld, c: &Context) -> StepResult {
    super::setup::only(
        w,
        Role::Client,
        "the server publishes a package signed by an unknown originator",
    )?;
    let up = upload(w, arg(c, 1), arg(c, 2), true);
    let Some(ServerSide::Tester(t)) = &w.server else {
        return Err(Why::Error("no tester server".into()));
    };
    // Same key id, another key: the device must check the signature, not the name.
    let (stranger, _) = dm_protocol::swpkg::Originator::generate(t.originator.id())
        .map_err(|e| Why::Error(format!("cannot make a key: {e}")))?;
    t.publish(&up, Some(&stranger)).map(|_| ())
}

async fn queue_scomo(w: &mut DmWorld, req: ScomoRequest) -> StepResult {
    let server = w.server.as_ref().ok_or_else(|| {
        Why::Error("queue after `the client has an account on the server`".into())
    })?;
    let id = server.scomo(&w.dev_id, &req).await?;
    w.jobs.push(id);
    Ok(())
}

async fn queue_op(w: &mut DmWorld, c: &Context) -> StepResult {
    let id = scenario_pkg_id(w, arg(c, 2), arg(c, 3));
    let component = dm_server::packages::entry_name(arg(c, 2));
    let (operation, pkg, component) = match arg(c, 1) {
        "download" => (ScomoOperation::Download, Some(id), None),
        "install" => (ScomoOperation::Install, Some(id), None),
        "install_inactive" => (ScomoOperation::InstallInactive, Some(id), None),
        "remove" => (ScomoOperation::Remove, None, Some(component)),
        "activate" => (ScomoOperation::Activate, None, Some(component)),
        _ => (ScomoOperation::Deactivate, None, Some(component)),
    };
    queue_scomo(
        w,
        ScomoRequest {
            operation,
            pkg_id: pkg,
            component,
            root: None,
        },
    )
    .await
}

async fn queue_inventory(w: &mut DmWorld, _c: &Context) -> StepResult {
    queue_scomo(
        w,
        ScomoRequest {
            operation: ScomoOperation::Inventory,
            pkg_id: None,
            component: None,
            root: None,
        },
    )
    .await
}

/// SCOMO-OSR-Device-XX (docs/scomo.md): package 1 carries the request alert.
async fn device_request(w: &mut DmWorld, c: &Context) -> StepResult {
    let data = format!(
        "<Operation>{}</Operation><Name>{}</Name>",
        arg(c, 1),
        arg(c, 2)
    );
    let alert = Alert {
        cmd_id: "0".into(),
        code: Some(AlertCode::from_u16(1226)),
        items: vec![Item {
            meta: Some(Meta {
                type_: Some(DEVICE_REQUEST_TYPE.into()),
                format: Some("xml".into()),
                ..Meta::default()
            }),
            data: Some(Data::Text(data.clone())),
            ..Item::default()
        }],
        ..Alert::default()
    };
    let values = BTreeMap::from([
        ("type", DEVICE_REQUEST_TYPE.to_owned()),
        ("format", "xml".to_owned()),
        ("data", data),
        ("code", "1226".to_owned()),
    ]);
    super::act::session(w, vec![alert], "send_alert", values).await
}

/// The result codes of the SCOMO OperationComplete alerts the client sent, with whether the
/// Correlator names an Exec the server sent.
fn reported(w: &DmWorld) -> Vec<(u16, bool)> {
    reported_of(w, OPERATION_COMPLETE)
}

/// The result codes of the client's Generic Alerts of type `alert_type`, with whether the
/// Correlator names an Exec the server sent.
pub(super) fn reported_of(w: &DmWorld, alert_type: &str) -> Vec<(u16, bool)> {
    let execs: Vec<String> = w
        .sessions
        .iter()
        .flat_map(|s| s.from(Party::Server))
        .flat_map(|m| m.commands())
        .filter_map(|c| match c {
            Command::Exec(e) => e.correlator.clone(),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for m in w.sessions.iter().flat_map(|s| s.from(Party::Client)) {
        for c in m.commands() {
            let Command::Alert(a) = c else { continue };
            if a.code.map(|c| c.as_u16()) != Some(1226) {
                continue;
            }
            for i in &a.items {
                let is_op = i.meta.as_ref().and_then(|m| m.type_.as_deref()) == Some(alert_type);
                let text = match &i.data {
                    Some(Data::Text(t)) => t.clone(),
                    Some(Data::Markup(x)) => x.to_xml(),
                    _ => String::new(),
                };
                let code = text
                    .split("<ResultCode>")
                    .nth(1)
                    .and_then(|r| r.split("</ResultCode>").next())
                    .and_then(|n| n.trim().parse().ok());
                if let (true, Some(code)) = (is_op, code) {
                    let correlated = a.correlator.as_ref().is_some_and(|c| execs.contains(c));
                    out.push((code, correlated));
                }
            }
        }
    }
    out
}

async fn client_reports(w: &mut DmWorld, c: &Context) -> StepResult {
    let want: u16 = arg(c, 1)
        .parse()
        .map_err(|e| Why::Error(format!("bad result code: {e}")))?;
    let got = reported(w);
    if got
        .iter()
        .any(|(code, correlated)| *code == want && *correlated)
    {
        Ok(())
    } else {
        Err(Why::Fail(format!(
            "facts §10.3 (an asynchronous SCOMO operation ends with a Generic Alert {OPERATION_COMPLETE} \
             carrying the Exec's Correlator and the result code): expected result {want}; \
             received (result, correlator matches an Exec) {got:?}"
        )))
    }
}

async fn server_records(w: &mut DmWorld, c: &Context) -> StepResult {
    let want = format!("<ResultCode>{}</ResultCode>", arg(c, 1));
    let server = w
        .server
        .as_ref()
        .ok_or_else(|| Why::Error("no server".into()))?;
    let alerts = server.alerts(&w.dev_id).await?;
    let found = alerts.iter().any(|a| {
        a.items.iter().any(|i| {
            i.type_.as_deref() == Some(OPERATION_COMPLETE)
                && i.data.as_deref().is_some_and(|d| d.contains(&want))
        })
    });
    if found {
        Ok(())
    } else {
        let seen: Vec<String> = alerts
            .iter()
            .flat_map(|a| a.items.iter().filter_map(|i| i.data.clone()))
            .collect();
        Err(Why::Fail(format!(
            "DMRD-6.3.4.1-9 (the server processes the device's report of success or failure): \
             expected an OperationComplete with {want} recorded; received alerts {seen:?}"
        )))
    }
}

/// The deployed component's node: the server names the Download entry, and so the
/// component, after the package's name (`dm_server::packages::entry_name`); `version` only
/// reads well in the step.
fn deployed(_w: &DmWorld, name: &str, _version: &str) -> String {
    format!(
        "./SCOMO/Inventory/Deployed/{}",
        dm_server::packages::entry_name(name)
    )
}

async fn queue_get_installed(w: &mut DmWorld, c: &Context) -> StepResult {
    let uri = format!("{}/{}", deployed(w, arg(c, 2), arg(c, 3)), arg(c, 1));
    let server = w.server.as_ref().ok_or_else(|| {
        Why::Error("queue after `the client has an account on the server`".into())
    })?;
    let spec: dm_server::model::JobSpec = serde_json::from_value(serde_json::json!({"commands": [
        {"Command": "Get", "CmdID": "0", "Items": [{"Target": {"LocURI": uri}}]}]}))
    .map_err(|e| Why::Error(e.to_string()))?;
    let id = server.queue(&w.dev_id, &spec).await?;
    w.jobs.push(id);
    Ok(())
}

/// Every value the client reported for `uri` (in Results of a Get or of a `?list=` query).
fn values_of(w: &DmWorld, uri: &str) -> Vec<String> {
    super::check::results_for(w, uri)
        .iter()
        .map(|i| super::check::text(&i.data))
        .collect()
}

async fn reports_installed(w: &mut DmWorld, c: &Context) -> StepResult {
    let uri = format!("{}/{}", deployed(w, arg(c, 3), arg(c, 4)), arg(c, 1));
    let want = arg(c, 2);
    let got = values_of(w, &uri);
    if got.iter().any(|v| v == want) {
        Ok(())
    } else {
        Err(Why::Fail(format!(
            "facts §10.1/§10.2 (Inventory/Deployed/<x> with its Name, Version and State: 10 \
             inactive, 20 active): expected {uri} = {want:?}; received {got:?}"
        )))
    }
}

/// The client answered a Get of the component's Version with 404: nothing deployed.
async fn not_installed(w: &mut DmWorld, c: &Context) -> StepResult {
    let uri = format!("{}/Version", deployed(w, arg(c, 1), arg(c, 2)));
    super::check::check_answer(w, Party::Client, "Get", Some(&uri), &[404])
}

/// DMRD-6.1.4-16: the client refused the Get of `uri` (a Status that is not 2xx; the
/// project's mechanism answers 425, docs/scomo.md "Inventory consent", but the requirement
/// only asks that the data stay on the device) and sent no Results for it or below it.
async fn withholds(w: &mut DmWorld, c: &Context) -> StepResult {
    let uri = arg(c, 1).trim_end_matches('/');
    const RULE: &str = "DMRD-6.1.4-16 (the installed-application list is not sent unless the \
                        user enabled it or agreed when asked)";
    let codes: Vec<u16> = w
        .sessions
        .iter()
        .flat_map(|s| super::check::answers(s, Party::Client, "Get", Some(uri)))
        .map(|(st, _)| st.code.as_u16())
        .collect();
    if codes.is_empty() {
        return Err(Why::Fail(format!(
            "{RULE}: expected a Status for the Get of {uri}; received none"
        )));
    }
    if let Some(ok) = codes.iter().find(|c| (200..300).contains(*c)) {
        return Err(Why::Fail(format!(
            "{RULE}: expected the Get of {uri} refused; received Status {ok}"
        )));
    }
    let leaked: Vec<String> = w
        .sessions
        .iter()
        .flat_map(|s| s.from(Party::Client))
        .flat_map(|m| m.commands().iter())
        .filter_map(|c| match c {
            Command::Results(r) => Some(r),
            _ => None,
        })
        .flat_map(|r| r.items.iter())
        .filter_map(|i| i.source.as_ref().map(|l| l.loc_uri.clone()))
        .filter(|src| {
            let node = src.split('?').next().unwrap_or("");
            node == uri || node.strip_prefix(uri).is_some_and(|r| r.starts_with('/'))
        })
        .collect();
    if !leaked.is_empty() {
        return Err(Why::Fail(format!(
            "{RULE}: expected no Results for {uri} or below it; received Results for {leaked:?}"
        )));
    }
    Ok(())
}
