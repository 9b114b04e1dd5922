//! Steps that make a peer act: the server queues commands (a job), the client opens a
//! session or sends an alert, the user answers, the server wakes the client.

use std::collections::BTreeMap;
use std::time::Duration;

use cucumber::step::Context;
use dm_protocol::codes::AlertCode;
use dm_protocol::model::{Alert, Command, Data, Exec, Item, ItemCommand, Locator, Meta};
use dm_server::model::{JobSpec, NotifyRequest, NotifyTransport, UiMode};

use super::{arg, def, Def};
use crate::profile::Role;
use crate::run::client_side::ClientSide;
use crate::run::server_side::ServerSide;
use crate::run::world::{DmWorld, StepResult, Why};

pub(super) fn defs() -> Vec<Def> {
    vec![
        def!(
            Given,
            r#"the server queues an? (Get|Delete|Exec) (?:of|on) "([^"]*)""#,
            queue_simple
        ),
        def!(
            Given,
            r#"the server queues an? (Add|Replace) of "([^"]*)" with value "([^"]*)""#,
            queue_value
        ),
        def!(
            Given,
            r#"the server queues an? (Add|Replace) of "([^"]*)" with format "(\w+)" and value "([^"]*)""#,
            queue_format_value
        ),
        def!(
            Given,
            r#"the server queues an? (Add|Replace) of "([^"]*)" with (\d+) bytes"#,
            queue_large
        ),
        def!(
            Given,
            r#"the server queues an Add of interior node "([^"]*)""#,
            queue_interior
        ),
        def!(
            Given,
            r#"the server queues an Add of its own interior node "([^"]*)""#,
            queue_own_interior
        ),
        def!(
            Given,
            r#"the server queues a Replace of the ACL of "([^"]*)" with "([^"]*)""#,
            queue_acl
        ),
        def!(
            Given,
            r#"the server queues a Copy of "([^"]*)" to "([^"]*)""#,
            queue_copy
        ),
        def!(
            Given,
            r#"the server queues an? (display|confirmation|text input|single choice|multiple choice) alert "([^"]*)""#,
            queue_ui
        ),
        def!(Given, r"the server queues these commands:", queue_json),
        def!(Given, r"the user will (accept|reject|cancel)", user_will),
        def!(Given, r#"the user will type "([^"]*)""#, user_types),
        def!(
            When,
            r"the client starts (?:a|another) session",
            start_session
        ),
        def!(
            When,
            r#"the client sends a generic alert of type "([^"]*)" with data "([^"]*)""#,
            generic_alert
        ),
        def!(When, r"the server wakes the client over UDP", wake_udp),
        def!(
            When,
            r"the client answers the package #0 with a session",
            answer_pkg0
        ),
    ]
}

pub(super) fn target(uri: &str) -> Item {
    Item {
        target: Some(Locator::uri(uri)),
        ..Item::default()
    }
}

fn value_item(uri: &str, format: Option<&str>, value: &str) -> Item {
    Item {
        meta: format.map(|f| Meta {
            format: Some(f.to_owned()),
            ..Meta::default()
        }),
        data: Some(Data::Text(value.to_owned())),
        ..target(uri)
    }
}

fn item_cmd(items: Vec<Item>) -> ItemCommand {
    ItemCommand {
        cmd_id: "0".into(),
        items,
        ..ItemCommand::default()
    }
}

pub(super) fn named(name: &str, items: Vec<Item>) -> Result<Command, Why> {
    Ok(match name {
        "Get" => Command::Get(item_cmd(items)),
        "Delete" => Command::Delete(item_cmd(items)),
        "Add" => Command::Add(item_cmd(items)),
        "Replace" => Command::Replace(item_cmd(items)),
        "Copy" => Command::Copy(item_cmd(items)),
        "Exec" => Command::Exec(Exec {
            cmd_id: "0".into(),
            items,
            ..Exec::default()
        }),
        o => return Err(Why::Error(format!("cannot queue a {o}"))),
    })
}

async fn queue(w: &mut DmWorld, commands: Vec<Command>) -> StepResult {
    let server = w.server.as_ref().ok_or_else(|| {
        Why::Error("queue after `the client has an account on the server`".into())
    })?;
    let id = server.queue(&w.dev_id, &JobSpec { commands }).await?;
    w.jobs.push(id);
    Ok(())
}

async fn queue_simple(w: &mut DmWorld, c: &Context) -> StepResult {
    let cmd = named(arg(c, 1), vec![target(arg(c, 2))])?;
    queue(w, vec![cmd]).await
}

async fn queue_value(w: &mut DmWorld, c: &Context) -> StepResult {
    let cmd = named(
        arg(c, 1),
        vec![value_item(arg(c, 2), Some("chr"), arg(c, 3))],
    )?;
    queue(w, vec![cmd]).await
}

async fn queue_format_value(w: &mut DmWorld, c: &Context) -> StepResult {
    let cmd = named(
        arg(c, 1),
        vec![value_item(arg(c, 2), Some(arg(c, 3)), arg(c, 4))],
    )?;
    queue(w, vec![cmd]).await
}

/// A value of `n` bytes that shows where a chunk boundary went wrong: `0123456789` repeated.
pub(crate) fn large_value(n: usize) -> String {
    (0..n).map(|i| char::from(b'0' + (i % 10) as u8)).collect()
}

async fn queue_large(w: &mut DmWorld, c: &Context) -> StepResult {
    let n: usize = arg(c, 3)
        .parse()
        .map_err(|e| Why::Error(format!("bad size: {e}")))?;
    let cmd = named(
        arg(c, 1),
        vec![value_item(arg(c, 2), Some("chr"), &large_value(n))],
    )?;
    queue(w, vec![cmd]).await
}

async fn queue_interior(w: &mut DmWorld, c: &Context) -> StepResult {
    let mut item = target(arg(c, 1));
    item.meta = Some(Meta {
        format: Some("node".into()),
        ..Meta::default()
    });
    queue(w, vec![Command::Add(item_cmd(vec![item]))]).await
}

/// facts §4.4: "the creator sets an explicit ACL after Add" — the ServerID of the IXIT gets
/// every right on its node; children inherit it.
async fn queue_own_interior(w: &mut DmWorld, c: &Context) -> StepResult {
    let uri = arg(c, 1);
    let sid = w.ctx()?.profile.ixit.server_id.clone();
    let mut item = target(uri);
    item.meta = Some(Meta {
        format: Some("node".into()),
        ..Meta::default()
    });
    let acl = format!("Add={sid}&Delete={sid}&Exec={sid}&Get={sid}&Replace={sid}");
    queue(
        w,
        vec![
            Command::Add(item_cmd(vec![item])),
            Command::Replace(item_cmd(vec![value_item(
                &format!("{uri}?prop=ACL"),
                None,
                &acl,
            )])),
        ],
    )
    .await
}

/// `{server}` in the ACL stands for the IXIT's ServerID.
async fn queue_acl(w: &mut DmWorld, c: &Context) -> StepResult {
    let sid = w.ctx()?.profile.ixit.server_id.clone();
    let acl = arg(c, 2).replace("{server}", &sid);
    let cmd = Command::Replace(item_cmd(vec![value_item(
        &format!("{}?prop=ACL", arg(c, 1)),
        None,
        &acl,
    )]));
    queue(w, vec![cmd]).await
}

async fn queue_copy(w: &mut DmWorld, c: &Context) -> StepResult {
    let item = Item {
        source: Some(Locator::uri(arg(c, 1))),
        ..target(arg(c, 2))
    };
    queue(w, vec![Command::Copy(item_cmd(vec![item]))]).await
}

/// A UI alert (facts §3.4): item 1 the options (`MAXDT` so a user who never answers
/// times out), item 2 the text, then the choices.
async fn queue_ui(w: &mut DmWorld, c: &Context) -> StepResult {
    let (code, choices): (u16, &[&str]) = match arg(c, 1) {
        "display" => (1100, &[]),
        "confirmation" => (1101, &[]),
        "text input" => (1102, &[]),
        "single choice" => (1103, &["red", "green"]),
        _ => (1104, &["red", "green", "blue"]),
    };
    let text = |t: &str| Item {
        data: Some(Data::Text(t.to_owned())),
        ..Item::default()
    };
    let mut items = vec![text("MAXDT=5"), text(arg(c, 2))];
    items.extend(choices.iter().map(|t| text(t)));
    let alert = Alert {
        cmd_id: "0".into(),
        code: Some(AlertCode::from_u16(code)),
        items,
        ..Alert::default()
    };
    queue(w, vec![Command::Alert(alert)]).await
}

async fn queue_json(w: &mut DmWorld, c: &Context) -> StepResult {
    let doc = c.step.docstring.as_deref().ok_or_else(|| {
        Why::Error("`the server queues these commands:` needs a doc string".into())
    })?;
    let commands: Vec<Command> = serde_json::from_str(doc).map_err(|e| {
        Why::Error(format!(
            "the doc string is not a JSON array of commands (the JobSpec form of docs/admin-api.md): {e}"
        ))
    })?;
    queue(w, commands).await
}

async fn answer_ui(w: &mut DmWorld, answer: String) -> StepResult {
    match &w.client {
        Some(ClientSide::Iut(iut, _)) => {
            iut.perform("answer_ui", BTreeMap::from([("answer", answer)]))
                .await?;
            Ok(())
        }
        Some(ClientSide::Tester(_)) => Err(Why::Error(
            "the user's answers are a client-under-test step".into(),
        )),
        None => Err(Why::Error(
            "answer after `the client has an account on the server`".into(),
        )),
    }
}

async fn user_will(w: &mut DmWorld, c: &Context) -> StepResult {
    answer_ui(w, arg(c, 1).to_owned()).await
}

async fn user_types(w: &mut DmWorld, c: &Context) -> StepResult {
    answer_ui(w, format!("text:{}", arg(c, 1))).await
}

/// Run a session: the IUT client through its adapter (the tester server records it), or the
/// tester client against the IUT server.
pub(super) async fn session(
    w: &mut DmWorld,
    alerts: Vec<Alert>,
    action: &'static str,
    values: BTreeMap<&'static str, String>,
) -> StepResult {
    let seed = w.seed.wrapping_add(w.sessions.len() as u64);
    match (&mut w.client, &mut w.server) {
        (Some(ClientSide::Iut(iut, _)), Some(ServerSide::Tester(tester))) => {
            iut.perform(action, values).await?;
            let new = tester.new_sessions(&w.dev_id)?;
            if new.is_empty() {
                return Err(Why::Inconclusive(format!(
                    "the client's `{action}` action succeeded but no session reached the tester at {}",
                    tester.url
                )));
            }
            w.sessions.extend(new);
            Ok(())
        }
        (Some(ClientSide::Iut(iut, _)), Some(ServerSide::Iut(_))) => {
            // Interop: the two implementations talk through the relay, which recorded it.
            iut.perform(action, values).await?;
            let relay = w
                .relay
                .as_mut()
                .ok_or_else(|| Why::Error("an interop scenario without its relay".into()))?;
            let new = relay.new_sessions();
            if new.is_empty() {
                return Err(Why::Inconclusive(format!(
                    "the client's `{action}` action succeeded but no session went through the relay at {}",
                    relay.url
                )));
            }
            w.sessions.extend(new);
            Ok(())
        }
        (Some(ClientSide::Tester(tester)), Some(ServerSide::Iut(_))) => {
            let script = w.setup.tester_client.clone();
            let observed = tester.session(alerts, &script, false, None, seed).await?;
            if observed
                .messages
                .iter()
                .all(|m| m.from != crate::run::world::Party::Server)
            {
                let why = format!("the server under test did not answer: {}", observed.end);
                w.sessions.push(observed);
                return Err(Why::Inconclusive(why));
            }
            w.sessions.push(observed);
            // As a device does after a session: its accepted operations (SCOMO, backup), then
            // the sessions reporting them (dm-client session does the same for a client
            // under test).
            let more = tester.perform(seed.wrapping_add(1000)).await?;
            w.sessions.extend(more);
            // And its schedules (docs/scheduling.md "Triggers and runs"): new ones adopted,
            // due ones run and reported.
            let more = tester.clock(None, 0, seed.wrapping_add(2000)).await?;
            w.sessions.extend(more);
            Ok(())
        }
        _ => Err(Why::Error(
            "start a session after `the client has an account on the server`".into(),
        )),
    }
}

async fn start_session(w: &mut DmWorld, _c: &Context) -> StepResult {
    session(w, Vec::new(), "start_session", BTreeMap::new()).await
}

async fn generic_alert(w: &mut DmWorld, c: &Context) -> StepResult {
    let (type_, data) = (arg(c, 1).to_owned(), arg(c, 2).to_owned());
    let alert = Alert {
        cmd_id: "0".into(),
        code: Some(AlertCode::from_u16(1226)),
        items: vec![Item {
            meta: Some(Meta {
                type_: Some(type_.clone()),
                format: Some("chr".into()),
                ..Meta::default()
            }),
            data: Some(Data::Text(data.clone())),
            ..Item::default()
        }],
        ..Alert::default()
    };
    let values = BTreeMap::from([
        ("type", type_),
        ("format", "chr".to_owned()),
        ("data", data),
        ("code", "1226".to_owned()),
    ]);
    session(w, vec![alert], "send_alert", values).await
}

/// Server role: bind a UDP socket as the device's notification address, ask the server
/// under test for a package #0 and keep what arrives.
async fn wake_udp(w: &mut DmWorld, _c: &Context) -> StepResult {
    if w.role()? != Role::Server {
        return Err(Why::Error(
            "waking the client over UDP tests a server".into(),
        ));
    }
    if w.ctx()?.interop() {
        return Err(Why::NotApplicable(
            "the harness listens for the package #0 as the device; in an interop run the client under test does".into(),
        ));
    }
    let ctx = w.ctx()?;
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .map_err(|e| Why::Error(format!("cannot bind UDP: {e}")))?;
    let addr = sock
        .local_addr()
        .map_err(|e| Why::Error(format!("no UDP address: {e}")))?;
    let Some(ServerSide::Iut(iut)) = &w.server else {
        return Err(Why::Error(
            "wake the client after `the client has an account on the server`".into(),
        ));
    };
    // Re-register the device with the notification address (the admin API's Device).
    let mut device = super::setup::device(w, &ctx.profile.ixit.server_id, false)?;
    device.notify = vec![dm_server::model::NotifyAddress {
        transport: NotifyTransport::Udp,
        address: addr.to_string(),
    }];
    iut.admin
        .register_device(&device)
        .await
        .map_err(|e| Why::Inconclusive(format!("cannot give the server the UDP address: {e}")))?;
    let req = NotifyRequest {
        transport: Some(NotifyTransport::Udp),
        ui_mode: UiMode::Background,
        session_id: None,
    };
    iut.admin
        .notify(&w.dev_id, &req)
        .await
        .map_err(|e| Why::Inconclusive(format!("the server could not be asked to notify: {e}")))?;
    let mut buf = vec![0u8; 2048];
    let n = tokio::time::timeout(
        ctx.step_timeout.min(Duration::from_secs(10)),
        sock.recv(&mut buf),
    )
    .await
    .map_err(|_| {
        Why::Fail("no package #0 arrived on the device's UDP address (facts §7.3)".into())
    })?
    .map_err(|e| Why::Error(format!("UDP receive failed: {e}")))?;
    buf.truncate(n);
    w.pkg0.push(buf);
    Ok(())
}

/// Server role: the tester device answers the last package #0 as a device does (facts §2.5,
/// §7.3): a server-initiated session (Alert 1200) whose SessionID is the trigger's
/// session-id in uppercase hex without leading zeros.
async fn answer_pkg0(w: &mut DmWorld, _c: &Context) -> StepResult {
    let bytes = w
        .pkg0
        .last()
        .ok_or_else(|| Why::Error("no package #0 was received: wake the client first".into()))?;
    let n = dm_protocol::pkg0::decode(bytes).map_err(|e| {
        Why::Fail(format!(
            "facts §7.1 (package #0 layout): expected a well-formed package #0; received {e}"
        ))
    })?;
    let sid = format!("{:X}", n.session_id);
    let seed = w.seed.wrapping_add(w.sessions.len() as u64);
    let script = w.setup.tester_client.clone();
    let Some(ClientSide::Tester(tester)) = &mut w.client else {
        return Err(Why::Error(
            "answering a package #0 is the tester device's step (server role)".into(),
        ));
    };
    let observed = tester
        .session(Vec::new(), &script, true, Some(sid), seed)
        .await?;
    w.sessions.push(observed);
    Ok(())
}
