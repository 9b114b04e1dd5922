//! Given steps that configure the peers, and the step that sets both up.

use std::collections::BTreeMap;

use cucumber::step::Context;
use dm_server::model::{AuthKind, Device, Secret};

use super::{arg, def, Def};
use crate::adapter::exec::ExecAdapter;
use crate::adapter::reference::ReferenceClient;
use crate::profile::{Adapter, Credentials, Feature, Role};
use crate::run::client_side::{ClientIut, ClientSide, TesterClient, TesterDevice};
use crate::run::server_side::{ServerSide, TesterServer, TesterServerConfig};
use crate::run::world::{DmWorld, StepResult, Why};

pub(super) fn defs() -> Vec<Def> {
    vec![
        def!(
            Given,
            r"the client authenticates with (basic|md5|hmac)",
            client_auth
        ),
        def!(
            Given,
            r"the server authenticates with (basic|md5|hmac)",
            server_auth
        ),
        def!(
            Given,
            r"the server knows a wrong secret of the client",
            wrong_client_secret
        ),
        def!(
            Given,
            r"the server presents a wrong secret",
            wrong_server_secret
        ),
        def!(
            Given,
            r"the server expects a nonce the client does not know",
            unknown_nonce
        ),
        def!(
            Given,
            r"the (client|server) announces a (MaxMsgSize|MaxObjSize) of (\d+)",
            announce
        ),
        def!(Given, r"the client speaks WBXML", wbxml),
        def!(
            Given,
            r"the tester server misbehaves: (\w+)",
            tester_server_fault
        ),
        def!(
            Given,
            r"the tester client misbehaves: (\w+)",
            tester_client_fault
        ),
        def!(Given, r"the client has an account on the server", account),
        def!(
            Given,
            r"the tester client leaves package 1 open \(no Final\)",
            open_package1
        ),
    ]
}

/// Steps that configure the reference peer in tester mode: only for scenarios of `role`, and
/// not applicable between two implementations (an interop run has no tester to script).
pub(super) fn only(w: &DmWorld, role: Role, what: &str) -> StepResult {
    if w.ctx()?.interop() {
        return Err(Why::NotApplicable(format!(
            "`{what}` scripts the reference tester; an interop run has none"
        )));
    }
    if w.role()? == role {
        Ok(())
    } else {
        Err(Why::Error(format!(
            "`{what}` configures the tester, which is the {} here: the scenario's role tag is wrong",
            if role == Role::Client { "server" } else { "client" }
        )))
    }
}

async fn client_auth(w: &mut DmWorld, c: &Context) -> StepResult {
    w.setup.client_auth = Some(arg(c, 1).to_owned());
    Ok(())
}

async fn server_auth(w: &mut DmWorld, c: &Context) -> StepResult {
    w.setup.server_auth = Some(arg(c, 1).to_owned());
    Ok(())
}

async fn wrong_client_secret(w: &mut DmWorld, _c: &Context) -> StepResult {
    w.setup.wrong_client_secret = true;
    Ok(())
}

async fn wrong_server_secret(w: &mut DmWorld, _c: &Context) -> StepResult {
    w.setup.wrong_server_secret = true;
    Ok(())
}

async fn unknown_nonce(w: &mut DmWorld, _c: &Context) -> StepResult {
    let role = w.role()?;
    only(
        w,
        role,
        "the server expects a nonce the client does not know",
    )?;
    w.setup.unknown_nonce = true;
    Ok(())
}

async fn announce(w: &mut DmWorld, c: &Context) -> StepResult {
    let n: u64 = arg(c, 3)
        .parse()
        .map_err(|e| Why::Error(format!("bad size: {e}")))?;
    match (arg(c, 1), arg(c, 2)) {
        ("server", "MaxMsgSize") => {
            only(w, Role::Client, "the server announces")?;
            w.setup.server_max_msg = Some(n);
        }
        ("server", _) => {
            only(w, Role::Client, "the server announces")?;
            w.setup.server_max_obj = Some(n);
        }
        ("client", "MaxMsgSize") => {
            only(w, Role::Server, "the client announces")?;
            w.setup.client_max_msg = Some(n);
        }
        _ => {
            only(w, Role::Server, "the client announces")?;
            w.setup.client_max_obj = Some(n);
        }
    }
    Ok(())
}

async fn wbxml(w: &mut DmWorld, _c: &Context) -> StepResult {
    only(w, Role::Server, "the client speaks WBXML")?;
    w.setup.wbxml = true;
    Ok(())
}

/// Set a boolean switch named `name` on `target` through its serde form.
fn switch<T: serde::Serialize + serde::de::DeserializeOwned>(
    target: &mut T,
    name: &str,
) -> StepResult {
    let mut v = serde_json::to_value(&*target).map_err(|e| Why::Error(e.to_string()))?;
    let obj = v
        .as_object_mut()
        .ok_or_else(|| Why::Error("switches are not an object".into()))?;
    if !obj.contains_key(name) {
        let known: Vec<&String> = obj.keys().collect();
        return Err(Why::Error(format!(
            "unknown misbehaviour {name:?}; known: {known:?}"
        )));
    }
    obj.insert(name.to_owned(), serde_json::Value::Bool(true));
    *target = serde_json::from_value(v).map_err(|e| Why::Error(e.to_string()))?;
    Ok(())
}

async fn tester_server_fault(w: &mut DmWorld, c: &Context) -> StepResult {
    only(w, Role::Client, "the tester server misbehaves")?;
    let name = arg(c, 1);
    match name {
        "replay_credentials" => w.setup.tester_server.replay_credentials = true,
        "garbage" => w.setup.tester_server.garbage = true,
        "wrong_size" => w.setup.tester_server.wrong_size = true,
        _ => switch(&mut w.setup.tester_faults, name)?,
    }
    Ok(())
}

async fn tester_client_fault(w: &mut DmWorld, c: &Context) -> StepResult {
    only(w, Role::Server, "the tester client misbehaves")?;
    let s = &mut w.setup.tester_client;
    match arg(c, 1) {
        "wrong_msg_ref" => s.wrong_msg_ref = true,
        "replay_credentials" => s.replay_credentials = true,
        "no_credentials" => s.no_credentials = true,
        "abort_second" => s.abort_second = true,
        "garbage" => s.garbage = true,
        "drop_second" => s.drop_second = true,
        "bad_hmac" => s.bad_hmac = true,
        other => {
            return Err(Why::Error(format!(
                "unknown tester client misbehaviour {other:?}"
            )))
        }
    }
    Ok(())
}

async fn open_package1(w: &mut DmWorld, _c: &Context) -> StepResult {
    only(w, Role::Server, "the tester client leaves package 1 open")?;
    w.setup.tester_client.open_package1 = true;
    Ok(())
}

fn kind(s: &str) -> Result<AuthKind, Why> {
    match s {
        "basic" => Ok(AuthKind::Basic),
        "md5" => Ok(AuthKind::Md5),
        "hmac" => Ok(AuthKind::Hmac),
        o => Err(Why::Error(format!("unknown authentication type {o:?}"))),
    }
}

fn secret(c: &Credentials, wrong: bool) -> Result<Secret, Why> {
    Ok(Secret {
        kind: kind(&c.kind)?,
        name: c.name.clone(),
        secret: if wrong {
            format!("{}-but-wrong", c.secret)
        } else {
            c.secret.clone()
        },
    })
}

/// The credentials of one direction: the IXIT's name and secret (or the harness's defaults)
/// with the scenario's type.
fn creds(
    ixit: Option<&Credentials>,
    kind: Option<&str>,
    default_name: &str,
    default_secret: &str,
) -> Option<Credentials> {
    match (ixit, kind) {
        (Some(c), Some(k)) => Some(Credentials {
            kind: k.to_owned(),
            ..c.clone()
        }),
        (None, Some(k)) => Some(Credentials {
            kind: k.to_owned(),
            name: default_name.to_owned(),
            secret: default_secret.to_owned(),
        }),
        (c, None) => c.cloned(),
    }
}

/// The credentials of both directions: the client's IXIT (its name and secrets, or the
/// harness's defaults) with the scenario's authentication types.
fn set_creds(w: &mut DmWorld, ixit: &crate::profile::Ixit) {
    w.client_creds = creds(
        ixit.client_auth.as_ref(),
        w.setup.client_auth.as_deref(),
        "dmconf-device",
        "dmconf-device-secret",
    );
    w.server_creds = match w.setup.server_auth.as_deref() {
        Some(k) => creds(
            ixit.server_auth.as_ref(),
            Some(k),
            "dmconf-server",
            "dmconf-server-secret",
        ),
        None => None,
    };
}

/// The admin API's Device for the scenario's device: DevId, ServerID and the credentials
/// the server must know (made wrong on purpose when the scenario says so).
pub(super) fn device(
    w: &DmWorld,
    server_id: &str,
    wrong_server_secret: bool,
) -> Result<Device, Why> {
    Ok(Device {
        dev_id: w.dev_id.clone(),
        server_id: server_id.to_owned(),
        client_auth: w
            .client_creds
            .as_ref()
            .map(|c| secret(c, w.setup.wrong_client_secret))
            .transpose()?,
        server_auth: w
            .server_creds
            .as_ref()
            .map(|c| secret(c, wrong_server_secret))
            .transpose()?,
        notify: vec![],
    })
}

/// Set up both peers: the tester side and the IUT's account for it.
async fn account(w: &mut DmWorld, _c: &Context) -> StepResult {
    let ctx = w.ctx()?;
    if let Some(client) = ctx.client_profile.clone() {
        set_creds(w, &client.ixit);
        return interop_account(w, &client).await;
    }
    let ixit = &ctx.profile.ixit;
    set_creds(w, ixit);
    match ctx.role {
        Role::Client => {
            w.dev_id = ixit.dev_id.clone();
            let device = device(w, &ixit.server_id, w.setup.wrong_server_secret)?;
            // facts §6.4: a client claiming `tls` meets the tester over HTTPS only, trusting
            // the run's CA (docs/tls.md).
            let front = if ctx.profile.claims(Feature::Tls) {
                Some(std::sync::Arc::new(crate::run::tls::TesterTls::new(
                    &ctx.tls,
                )?))
            } else {
                None
            };
            let tester = TesterServer::start(
                &w.dir.join("tester"),
                &device,
                TesterServerConfig {
                    max_msg_size: w.setup.server_max_msg,
                    max_obj_size: w.setup.server_max_obj,
                    faults: w.setup.tester_faults.clone(),
                    script: w.setup.tester_server.clone(),
                    seed: w.seed,
                    unknown_nonce: w.setup.unknown_nonce,
                    tls: front,
                },
            )
            .await?;
            let iut = client_iut(w, &ctx.profile)?;
            let trust = (
                tester.originator.id().to_owned(),
                dm_protocol::auth::b64(&tester.originator.public_key()),
            );
            // Always given, so one template serves with and without TLS.
            let server_ca = ctx.tls.ca.clone();
            bootstrap(
                w,
                &iut,
                &tester.url,
                &ixit.server_id,
                Some(trust),
                &server_ca,
            )
            .await?;
            w.server = Some(ServerSide::Tester(Box::new(tester)));
            w.client = Some(ClientSide::Iut(iut, w.dir.join("iut")));
        }
        Role::Server => {
            let iut = ctx
                .server_iut
                .clone()
                .ok_or_else(|| Why::Error("no server under test in the run".into()))?;
            // Each scenario gets its own device (named after the scenario, so runs compare),
            // so scenarios never share server state.
            w.dev_id = format!("{}-{}", ixit.dev_id, w.id);
            if let Some(c) = w.client_creds.as_mut() {
                c.name = format!("{}-{}", c.name, w.id);
            }
            // The tester device expects the wrong secret instead (below).
            let device = device(w, &ixit.server_id, false)?;
            iut.admin.register_device(&device).await.map_err(|e| {
                Why::Inconclusive(format!("cannot register the tester's device: {e}"))
            })?;
            let expected_server = w.server_creds.as_ref().map(|c| Credentials {
                secret: if w.setup.wrong_server_secret {
                    format!("{}-but-wrong", c.secret)
                } else {
                    c.secret.clone()
                },
                ..c.clone()
            });
            // SCOMO: the tester device trusts the server's originator, when it has one.
            let trust = match iut.admin.http("originator") {
                Ok(h) => h.originator().await.ok(),
                Err(_) => None,
            }
            .map(|o| (o.id, o.public_key));
            let tester = TesterClient::create(
                &w.dir.join("tester"),
                &TesterDevice {
                    dev_id: &w.dev_id,
                    server_id: &ixit.server_id,
                    url: &iut.dm_url,
                    client_auth: w.client_creds.as_ref(),
                    server_auth: expected_server.as_ref(),
                    max_msg_size: w.setup.client_max_msg,
                    max_obj_size: w.setup.client_max_obj,
                    wbxml: w.setup.wbxml,
                    unknown_nonce: w.setup.unknown_nonce,
                    trust,
                    trust_anchors: &iut.trust_anchors,
                },
                ctx.step_timeout,
            )?;
            w.server = Some(ServerSide::Iut(iut));
            w.client = Some(ClientSide::Tester(Box::new(tester)));
        }
    }
    Ok(())
}

/// The client under test's adapter, its files in the scenario's directory.
fn client_iut(w: &DmWorld, profile: &crate::profile::Profile) -> Result<ClientIut, Why> {
    let ctx = w.ctx()?;
    Ok(match &profile.adapter {
        Adapter::Reference => ClientIut::Reference(
            ReferenceClient::new(
                &ctx.bin_dir
                    .join(format!("dm-client{}", std::env::consts::EXE_SUFFIX)),
                // Interop: one device for the whole run, as a vendor's device is.
                &if ctx.interop() {
                    ctx.work.join("iut-client")
                } else {
                    w.dir.join("iut")
                },
                ctx.step_timeout,
            )
            .with_faults(ctx.client_faults.clone()),
        ),
        Adapter::Exec { actions } => {
            ClientIut::Exec(ExecAdapter::new(actions.clone(), ctx.step_timeout))
        }
        Adapter::Manual { .. } => ClientIut::Manual(
            ctx.manual
                .clone()
                .ok_or_else(|| Why::Error("no manual adapter in the run".into()))?,
        ),
        Adapter::Http { .. } => {
            return Err(Why::Error(
                "the http adapter drives servers; a client needs reference, exec or manual".into(),
            ))
        }
    })
}

/// docs/adapters.md `bootstrap`: an account for the server at `url`, trusting the software
/// originator `trust` (id, base64 key) for SCOMO packages and the CA certificate(s)
/// `server_ca` (PEM file) for `https://` URLs.
async fn bootstrap(
    w: &DmWorld,
    iut: &ClientIut,
    url: &str,
    server_id: &str,
    trust: Option<(String, String)>,
    server_ca: &std::path::Path,
) -> StepResult {
    let mut values: BTreeMap<&'static str, String> = BTreeMap::from([
        ("server_url", url.to_owned()),
        ("server_id", server_id.to_owned()),
        ("dev_id", w.dev_id.clone()),
        ("server_ca", server_ca.display().to_string()),
    ]);
    if let Some(c) = &w.client_creds {
        values.insert("client_auth_type", c.kind.clone());
        values.insert("client_auth_name", c.name.clone());
        values.insert("client_auth_secret", c.secret.clone());
    }
    if let Some(c) = &w.server_creds {
        values.insert("server_auth_type", c.kind.clone());
        values.insert("server_auth_name", c.name.clone());
        values.insert("server_auth_secret", c.secret.clone());
    }
    if let Some((id, key)) = trust {
        values.insert("originator_id", id);
        values.insert("originator_key", key);
    }
    iut.perform("bootstrap", values).await?;
    Ok(())
}

/// An interop run: the server under test learns the client's device (DevId and credentials
/// from the client's IXIT, the scenario's authentication types), a relay is started in front
/// of the server, and the client under test gets an account for the server at the relay.
async fn interop_account(w: &mut DmWorld, client: &crate::profile::Profile) -> StepResult {
    let ctx = w.ctx()?;
    let server = ctx
        .server_iut
        .clone()
        .ok_or_else(|| Why::Error("no server under test in the run".into()))?;
    w.dev_id = client.ixit.dev_id.clone();
    let server_id = ctx.profile.ixit.server_id.clone();
    let device = device(w, &server_id, w.setup.wrong_server_secret)?;
    server.admin.register_device(&device).await.map_err(|e| {
        Why::Inconclusive(format!("cannot register the device with the server: {e}"))
    })?;
    let relay =
        crate::run::proxy::Relay::start(&server.dm_url, &server.trust_anchors, ctx.step_timeout)
            .await?;
    let iut = client_iut(w, client)?;
    let trust = match server.admin.http("originator") {
        Ok(h) => h.originator().await.ok(),
        Err(_) => None,
    }
    .map(|o| (o.id, o.public_key));
    // The client reaches the server itself for hosted content (SCOMO packages, backups):
    // for an https:// server it must trust the server's CAs, one PEM bundle (docs/tls.md).
    let server_ca = if server.trust_anchors.is_empty() {
        ctx.tls.ca.clone()
    } else {
        let mut bundle = Vec::new();
        for a in &server.trust_anchors {
            let pem = std::fs::read(a).map_err(|e| {
                Why::Error(format!("cannot read the trust anchor {}: {e}", a.display()))
            })?;
            bundle.extend_from_slice(&pem);
            bundle.push(b'\n');
        }
        let path = w.dir.join("server-ca.pem");
        std::fs::create_dir_all(&w.dir)
            .and_then(|()| std::fs::write(&path, bundle))
            .map_err(|e| Why::Error(format!("cannot write {}: {e}", path.display())))?;
        path
    };
    bootstrap(w, &iut, &relay.url, &server_id, trust, &server_ca).await?;
    w.relay = Some(relay);
    w.server = Some(ServerSide::Iut(server));
    w.client = Some(ClientSide::Iut(iut, w.dir.join("iut")));
    Ok(())
}
