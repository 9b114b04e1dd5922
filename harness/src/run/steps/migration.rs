//! Migration steps (issue 8; seed 000, docs/migration.md): the server starts the device's
//! backup application and stores what it uploads, and restores a backup onto a device.

use cucumber::step::Context;
use dm_server::migration::{BackupRequest, OPERATION_COMPLETE};

use super::{arg, def, Def};
use crate::profile::Role;
use crate::run::server_side::ServerSide;
use crate::run::world::{DmWorld, StepResult, Why};

pub(super) fn defs() -> Vec<Def> {
    vec![
        def!(
            Given,
            r#"the server queues a backup of "([^"]*)""#,
            queue_backup
        ),
        def!(
            Given,
            r#"the server holds a backup for the client setting "([^"]*)" to "([^"]*)""#,
            put_backup
        ),
        def!(
            Given,
            r"the server holds a malformed backup for the client",
            put_malformed
        ),
        def!(
            Given,
            r"the server queues a restore of the client's latest backup",
            queue_restore
        ),
        def!(Given, r"the server also knows a new client", new_client),
        def!(
            Given,
            r"the server queues a restore of the client's latest backup onto the new client",
            queue_restore_onto_new
        ),
        def!(When, r"the new client starts a session", new_client_session),
        def!(
            Given,
            r#"the server queues a Get of "([^"]*)" for the new client"#,
            queue_get_new
        ),
        def!(
            Then,
            r"the client reports the (backup|restore) complete with result (\d+)",
            client_reports
        ),
        def!(
            Then,
            r#"the server holds a backup of the client containing "([^"]*)""#,
            holds_backup
        ),
    ]
}

async fn queue_backup(w: &mut DmWorld, c: &Context) -> StepResult {
    let req = BackupRequest {
        subtrees: vec![arg(c, 1).to_owned()],
        root: None,
    };
    let id = server(w)?.backup(&w.dev_id, &req).await?;
    w.jobs.push(id);
    Ok(())
}

fn server(w: &DmWorld) -> Result<&ServerSide, Why> {
    w.server
        .as_ref()
        .ok_or_else(|| Why::Error("queue after `the client has an account on the server`".into()))
}

/// The name of the client's newest stored backup.
async fn latest_backup(w: &DmWorld) -> Result<String, Why> {
    server(w)?
        .backups(&w.dev_id)
        .await?
        .pop()
        .map(|(name, _)| name)
        .ok_or_else(|| {
            Why::Inconclusive("the server holds no backup of the client to restore".into())
        })
}

/// A TNDS backup holding one leaf (facts §9.2), as the device's backup application would
/// have uploaded it.
fn tnds_with(uri: &str, value: &str) -> Result<String, Why> {
    let path = uri.trim_end_matches('/');
    let (parent, name) = path
        .rsplit_once('/')
        .ok_or_else(|| Why::Error(format!("{uri} is not a device URI")))?;
    Ok(format!(
        "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD><Node><NodeName>{name}</NodeName>\
         <Path>{parent}</Path><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type>\
         </RTProperties><Value>{value}</Value></Node></MgmtTree>"
    ))
}

async fn put_backup(w: &mut DmWorld, c: &Context) -> StepResult {
    super::setup::only(w, Role::Client, "the server holds a backup for the client")?;
    let doc = tnds_with(arg(c, 1), arg(c, 2))?;
    let Some(ServerSide::Tester(t)) = &w.server else {
        return Err(Why::Error("no tester server".into()));
    };
    t.put_backup(&w.dev_id, doc.as_bytes())?;
    Ok(())
}

async fn put_malformed(w: &mut DmWorld, _c: &Context) -> StepResult {
    super::setup::only(
        w,
        Role::Client,
        "the server holds a malformed backup for the client",
    )?;
    let Some(ServerSide::Tester(t)) = &w.server else {
        return Err(Why::Error("no tester server".into()));
    };
    t.put_backup(&w.dev_id, b"<MgmtTree><Node>not closed")?;
    Ok(())
}

/// Migration's new device (`@server` only): a second tester device, `<DevId>-new`, known to
/// the server with the same credentials, SCOMO trust and backup MO as the first.
async fn new_client(w: &mut DmWorld, _c: &Context) -> StepResult {
    if w.ctx()?.interop() || w.role()? != Role::Server {
        return Err(Why::NotApplicable(
            "a second device is a tester device: only a server under test can be given one".into(),
        ));
    }
    let ctx = w.ctx()?;
    let Some(ServerSide::Iut(iut)) = &w.server else {
        return Err(Why::Error(
            "add the new client after `the client has an account on the server`".into(),
        ));
    };
    let old = w.dev_id.clone();
    w.dev_id = format!("{old}-new");
    let device = super::setup::device(w, &ctx.profile.ixit.server_id, false)?;
    let dev_id = std::mem::replace(&mut w.dev_id, old);
    iut.admin
        .register_device(&device)
        .await
        .map_err(|e| Why::Inconclusive(format!("cannot register the new device: {e}")))?;
    let tester = crate::run::client_side::TesterClient::create(
        &w.dir.join("tester-new"),
        &crate::run::client_side::TesterDevice {
            dev_id: &dev_id,
            server_id: &ctx.profile.ixit.server_id,
            url: &iut.dm_url,
            client_auth: w.client_creds.as_ref(),
            server_auth: w.server_creds.as_ref(),
            max_msg_size: None,
            max_obj_size: None,
            wbxml: false,
            unknown_nonce: false,
            trust: None,
            trust_anchors: &iut.trust_anchors,
        },
        ctx.step_timeout,
    )?;
    w.other_client = Some((
        crate::run::client_side::ClientSide::Tester(Box::new(tester)),
        dev_id,
    ));
    Ok(())
}

/// Swap the new device in (or back out).
fn swap(w: &mut DmWorld) -> StepResult {
    let (client, dev_id) = w.other_client.take().ok_or_else(|| {
        Why::Error("no new client: add `the server also knows a new client`".into())
    })?;
    let old_client = w.client.replace(client);
    let old_dev = std::mem::replace(&mut w.dev_id, dev_id);
    w.other_client = old_client.map(|c| (c, old_dev));
    Ok(())
}

async fn new_client_session(w: &mut DmWorld, _c: &Context) -> StepResult {
    swap(w)?;
    let r = super::act::session(
        w,
        Vec::new(),
        "start_session",
        std::collections::BTreeMap::new(),
    )
    .await;
    swap(w)?;
    r
}

/// The DevId of the new client (`the server also knows a new client`).
fn new_device(w: &DmWorld) -> Result<String, Why> {
    w.other_client
        .as_ref()
        .map(|(_, d)| d.clone())
        .ok_or_else(|| Why::Error("no new client: add `the server also knows a new client`".into()))
}

async fn queue_get_new(w: &mut DmWorld, c: &Context) -> StepResult {
    let new_dev = new_device(w)?;
    let get = super::act::named("Get", vec![super::act::target(arg(c, 1))])?;
    let spec = dm_server::model::JobSpec {
        commands: vec![get],
    };
    let server = w
        .server
        .as_ref()
        .ok_or_else(|| Why::Error("no server".into()))?;
    let id = server.queue(&new_dev, &spec).await?;
    w.jobs.push(id);
    Ok(())
}

async fn queue_restore_onto_new(w: &mut DmWorld, _c: &Context) -> StepResult {
    let name = latest_backup(w).await?;
    let new_dev = new_device(w)?;
    let id = server(w)?.restore(&new_dev, &name).await?;
    w.jobs.push(id);
    Ok(())
}

async fn queue_restore(w: &mut DmWorld, _c: &Context) -> StepResult {
    let name = latest_backup(w).await?;
    let id = server(w)?.restore(&w.dev_id, &name).await?;
    w.jobs.push(id);
    Ok(())
}

async fn client_reports(w: &mut DmWorld, c: &Context) -> StepResult {
    let want: u16 = arg(c, 2)
        .parse()
        .map_err(|e| Why::Error(format!("bad result code: {e}")))?;
    let got = super::scomo::reported_of(w, OPERATION_COMPLETE);
    if got
        .iter()
        .any(|(code, correlated)| *code == want && *correlated)
    {
        Ok(())
    } else {
        Err(Why::Fail(format!(
            "docs/migration.md (a backup or restore ends with a Generic Alert {OPERATION_COMPLETE} carrying \
             the Exec's Correlator and the result code; DM13-MIG-6.1.1-2): expected result {want}; \
             received (result, correlator matches an Exec) {got:?}"
        )))
    }
}

async fn holds_backup(w: &mut DmWorld, c: &Context) -> StepResult {
    let want = arg(c, 1);
    let list = server(w)?.backups(&w.dev_id).await?;
    if list
        .iter()
        .any(|(_, b)| String::from_utf8_lossy(b).contains(want))
    {
        Ok(())
    } else {
        let names: Vec<&str> = list.iter().map(|(n, _)| n.as_str()).collect();
        Err(Why::Fail(format!(
            "DM13-MIG-6.1.1-3 (the backup application sends its data to the remote store): \
             expected a stored backup containing {want:?}; the server holds {names:?}"
        )))
    }
}
