//! The server engine against the real reference client engine, in memory (quinn-style
//! pair): every message is encoded, decoded and handed over with its HMAC header.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use dm_client::session::{
    ClientFaults, Credentials, EndReason, Initiation, Received as ClientReceived, Session,
    SessionConfig, Step,
};
use dm_protocol::auth::AuthType;
use dm_protocol::codec::{self, DecodeOptions, Encoding};
use dm_protocol::model::{
    Alert, Command, Container, Data, Exec, Item, ItemCommand, Locator, Meta, SyncMl,
};
use dm_server::faults::ServerFaults;
use dm_server::model::{
    AlertRecord, AuthKind, Device, DeviceState, Job, JobSpec, JobState, JobUpdate, Secret,
};
use dm_server::session::{ManualClock, Received, ServerSession, SessionSetup};
use dm_tree::standard::{install, put_account, Account, DeviceIdentity};
use dm_tree::{CommandHooks, NoHooks, Tree, TreeConfig};

/// The device's DevId.
pub const DEV: &str = "IMEI:493005100592800";
/// The server's URL.
pub const SRV: &str = "https://dm.example/dm";
/// Start time of the clocks.
pub const T0: u64 = 1_700_000_000;

/// The standard test device with account `srvA`, and a leaf `./Big` (Get, Replace, Exec by
/// srvA) for large objects and Execs.
pub fn device() -> Tree {
    let mut t = Tree::with_clock(TreeConfig::default(), Arc::new(ManualClock::at(T0)));
    install(
        &mut t,
        &DeviceIdentity {
            dev_id: DEV.into(),
            man: "Acme".into(),
            ..DeviceIdentity::default()
        },
    )
    .unwrap();
    put_account(
        &mut t,
        &Account {
            node: "srvA".into(),
            server_id: "srvA".into(),
            name: "A".into(),
            addr: SRV.into(),
            aauth_pref: String::new(),
            auth: vec![],
        },
    )
    .unwrap();
    t.add(
        &dm_tree::Principal::Local,
        "./Big",
        dm_tree::NewNode::leaf(""),
    )
    .unwrap();
    t.replace_prop(
        &dm_tree::Principal::Local,
        "./Big",
        dm_protocol::uri::Property::Acl,
        "Get=srvA&Replace=srvA&Exec=srvA",
    )
    .unwrap();
    t
}

/// A client-initiated session config with no authentication.
pub fn client_config() -> SessionConfig {
    SessionConfig {
        session_id: "7F".into(),
        server_uri: SRV.into(),
        server_id: "srvA".into(),
        initiation: Initiation::Client,
        client_auth: None,
        server_auth: None,
        max_msg_size: Some(16_384),
        max_obj_size: None,
        alerts: vec![],
        seed: 11,
        faults: ClientFaults::default(),
    }
}

/// Client-side credentials.
pub fn creds(auth_type: AuthType, name: &str, secret: &str, nonce: &[u8]) -> Credentials {
    Credentials {
        auth_type,
        name: name.into(),
        secret: secret.into(),
        nonce: nonce.to_vec(),
    }
}

/// Server-side credentials.
pub fn secret(kind: AuthKind, name: &str, secret: &str) -> Secret {
    Secret {
        kind,
        name: name.into(),
        secret: secret.into(),
    }
}

/// The registered device with no authentication.
pub fn registered() -> Device {
    Device {
        dev_id: DEV.into(),
        server_id: "srvA".into(),
        client_auth: None,
        server_auth: None,
        notify: vec![],
    }
}

/// A server setup for `device` with `jobs`.
pub fn setup(device: Device, state: DeviceState, jobs: Vec<Job>) -> SessionSetup {
    SessionSetup {
        device,
        state,
        server_uri: SRV.into(),
        jobs,
        seed: 5,
        max_msg_size: Some(65_536),
        max_obj_size: None,
        faults: ServerFaults::default(),
        idle_timeout_secs: 300,
    }
}

/// A queued job.
pub fn job(id: u64, commands: Vec<Command>) -> Job {
    Job {
        id,
        dev_id: DEV.into(),
        spec: JobSpec { commands },
        state: JobState::Queued,
        created_at: T0,
        updated_at: T0,
        session_id: None,
        statuses: vec![],
        results: vec![],
        completions: vec![],
    }
}

fn target_item(uri: &str, data: Option<Data>) -> Item {
    Item {
        target: Some(Locator::uri(uri)),
        data,
        ..Item::default()
    }
}

/// `Get` of `uris`.
pub fn get(uris: &[&str]) -> Command {
    Command::Get(ItemCommand {
        items: uris.iter().map(|u| target_item(u, None)).collect(),
        ..ItemCommand::default()
    })
}

/// `Replace` of `uri` with text.
pub fn replace(uri: &str, text: &str) -> Command {
    Command::Replace(ItemCommand {
        meta: Some(Meta {
            format: Some("chr".into()),
            ..Meta::default()
        }),
        items: vec![target_item(uri, Some(Data::Text(text.into())))],
        ..ItemCommand::default()
    })
}

/// `Exec` of `uri`.
pub fn exec(uri: &str, correlator: Option<&str>) -> Command {
    Command::Exec(Exec {
        correlator: correlator.map(str::to_owned),
        items: vec![target_item(uri, None)],
        ..Exec::default()
    })
}

/// `Atomic` of `children`.
pub fn atomic(children: Vec<Command>) -> Command {
    Command::Atomic(Container {
        commands: children,
        ..Container::default()
    })
}

/// `Sequence` of `children`.
pub fn sequence(children: Vec<Command>) -> Command {
    Command::Sequence(Container {
        commands: children,
        ..Container::default()
    })
}

/// A 1101 confirm UI alert.
pub fn confirm(text: &str) -> Command {
    Command::Alert(Alert {
        code: Some(dm_protocol::codes::AlertCode::ConfirmOrReject),
        items: vec![
            Item::default(),
            Item {
                data: Some(Data::Text(text.into())),
                ..Item::default()
            },
        ],
        ..Alert::default()
    })
}

/// One message of a run.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// True: device → server.
    pub from_device: bool,
    /// The exact bytes.
    pub bytes: Vec<u8>,
    /// The decoded message.
    pub msg: SyncMl,
}

/// What a run produced.
#[derive(Debug, Default)]
pub struct Run {
    /// Every message, in order.
    pub log: Vec<Exchange>,
    /// Every job update.
    pub updates: Vec<JobUpdate>,
    /// Every alert received.
    pub alerts: Vec<AlertRecord>,
    /// Every device deviation the server noticed.
    pub deviations: Vec<String>,
    /// Every own deviation of the server.
    pub own: Vec<String>,
    /// The last device state.
    pub state: Option<DeviceState>,
    /// Why the server session ended.
    pub server_end: Option<String>,
    /// Why the client session ended.
    pub client_end: Option<EndReason>,
    /// Deviations the client noticed in our messages.
    pub client_deviations: Vec<String>,
}

impl Run {
    /// Device messages.
    pub fn device_msgs(&self) -> Vec<&SyncMl> {
        self.log
            .iter()
            .filter(|e| e.from_device)
            .map(|e| &e.msg)
            .collect()
    }

    /// Server messages.
    pub fn server_msgs(&self) -> Vec<&SyncMl> {
        self.log
            .iter()
            .filter(|e| !e.from_device)
            .map(|e| &e.msg)
            .collect()
    }

    /// The last state a job reached.
    pub fn job_state(&self, id: u64) -> Option<JobState> {
        self.updates.iter().rev().find_map(|u| match u {
            JobUpdate::State { job, state } if *job == id => Some(*state),
            _ => None,
        })
    }

    /// Status codes for a job, as (position, code).
    pub fn job_statuses(&self, id: u64) -> Vec<(String, u16)> {
        self.updates
            .iter()
            .filter_map(|u| match u {
                JobUpdate::Status { job, status } if *job == id => {
                    Some((status.command.clone(), status.code))
                }
                _ => None,
            })
            .collect()
    }

    /// Results for a job.
    pub fn job_results(&self, id: u64) -> Vec<dm_server::model::JobResult> {
        self.updates
            .iter()
            .filter_map(|u| match u {
                JobUpdate::Result { job, result } if *job == id => Some(result.clone()),
                _ => None,
            })
            .collect()
    }
}

/// Run a whole session: the client's package 1, then message for message until one side
/// stops (at most 40 messages each way).
pub fn run(
    tree: &mut Tree,
    client: &mut Session,
    server: &mut ServerSession,
    encoding: Encoding,
    hooks: &mut dyn CommandHooks,
) -> Run {
    run_tweaked(
        tree,
        client,
        server,
        encoding,
        hooks,
        &mut Tweaks::default(),
    )
}

/// Changes a device message (its index among the device messages, from 0).
pub type EditFn<'a> = &'a mut dyn FnMut(usize, &mut SyncMl);

/// How [`run_tweaked`] tampers with the device's side of a run.
#[derive(Default)]
pub struct Tweaks<'a> {
    /// Changes every device message (its index among the device messages, from 0) before it
    /// is encoded, as a non-conforming device would send it.
    pub edit: Option<EditFn<'a>>,
    /// Indices of device messages delivered twice (an HTTP retry after a lost response):
    /// the first reply is dropped, the client gets the second.
    pub twice: Vec<usize>,
    /// Every server [`dm_server::session::Output`] of a repeated delivery (see `twice`).
    pub repeated_outputs: Vec<dm_server::session::Output>,
}

/// [`run`] with the device's messages edited or delivered twice (see [`Tweaks`]).
pub fn run_tweaked(
    tree: &mut Tree,
    client: &mut Session,
    server: &mut ServerSession,
    encoding: Encoding,
    hooks: &mut dyn CommandHooks,
    tweaks: &mut Tweaks<'_>,
) -> Run {
    let mut out = Run::default();
    let mut msg = client.start(tree);
    for k in 0..40 {
        if let Some(edit) = tweaks.edit.as_mut() {
            edit(k, &mut msg);
        }
        let bytes = codec::encode(&msg, encoding).unwrap();
        let headers = client.outgoing_headers(&bytes);
        let hmac = headers
            .iter()
            .find(|(n, _)| n == "x-syncml-hmac")
            .map(|(_, v)| v.clone());
        let decoded = codec::decode(&bytes, DecodeOptions::LENIENT)
            .unwrap()
            .message;
        out.log.push(Exchange {
            from_device: true,
            bytes: bytes.clone(),
            msg: decoded.clone(),
        });
        let rx = Received {
            bytes: &bytes,
            hmac_header: hmac.as_deref(),
            msg: &decoded,
        };
        let mut o = server.handle(&rx);
        if tweaks.twice.contains(&k) {
            out.updates.extend(o.jobs.clone());
            out.alerts.extend(o.alerts.clone());
            out.deviations.extend(o.deviations.clone());
            out.own.extend(o.own_deviations.clone());
            let first = o.bytes.clone();
            o = server.handle(&rx);
            assert_eq!(o.bytes, first, "a retransmission gets the same reply bytes");
            tweaks.repeated_outputs.push(o.clone());
        }
        out.updates.extend(o.jobs);
        out.alerts.extend(o.alerts);
        out.deviations.extend(o.deviations);
        out.own.extend(o.own_deviations);
        out.state = Some(o.state);
        out.server_end.clone_from(&o.ended);
        let Some(reply_bytes) = o.bytes else { break };
        assert_eq!(
            o.encoding, encoding,
            "the reply goes in the device's encoding"
        );
        let reply = codec::decode(&reply_bytes, DecodeOptions::LENIENT)
            .map(|d| d.message)
            .ok();
        if let Some(r) = &reply {
            out.log.push(Exchange {
                from_device: false,
                bytes: reply_bytes.clone(),
                msg: r.clone(),
            });
        }
        let Some(reply) = reply else { break };
        let hmac = o
            .headers
            .iter()
            .find(|(n, _)| n == "x-syncml-hmac")
            .map(|(_, v)| v.clone());
        let step = client.handle_received(
            tree,
            &ClientReceived {
                bytes: &reply_bytes,
                hmac_header: hmac.as_deref(),
                msg: &reply,
            },
            hooks,
        );
        match step {
            Step::Send(m) => msg = *m,
            Step::Finished(r) => {
                out.client_end = Some(r);
                break;
            }
        }
    }
    out.client_deviations = client.deviations().iter().map(|d| d.what.clone()).collect();
    out
}

/// A plain session: the standard device, no auth, `jobs`, XML.
pub fn plain(jobs: Vec<Job>) -> (Tree, Run) {
    plain_with(jobs, ServerFaults::default(), &mut NoHooks)
}

/// The engine for the registered device with `jobs`, fresh state, at `T0`.
pub fn server_for(jobs: Vec<Job>) -> ServerSession {
    ServerSession::new(
        setup(registered(), DeviceState::default(), jobs),
        Arc::new(ManualClock::at(T0)),
    )
    .unwrap()
}

/// [`plain`] with server faults and client hooks.
pub fn plain_with(
    jobs: Vec<Job>,
    faults: ServerFaults,
    hooks: &mut dyn CommandHooks,
) -> (Tree, Run) {
    let mut tree = device();
    let mut client = Session::new(client_config());
    let mut s = setup(registered(), DeviceState::default(), jobs);
    s.faults = faults;
    let mut jobs = s.jobs.clone();
    let mut server = ServerSession::new(s, Arc::new(ManualClock::at(T0))).unwrap();
    let run = run(&mut tree, &mut client, &mut server, Encoding::Xml, hooks);
    if let Err(e) = apply(&mut jobs, &run.updates) {
        panic!("the store would refuse this session's updates: {e}");
    }
    (tree, run)
}

/// Apply `updates` to `jobs` the way `dm_server::store::Store` does, refusing what it
/// refuses: a `State` move must pass [`dm_server::store::check_transition`] (and never be to
/// Sent); `Sent` is allowed from Queued and Interrupted (a new attempt: statuses and results
/// cleared) and from Sent in the same session (a repeat, nothing cleared);
/// `Status`, `Result` and `Completion` are allowed on Sent, Waiting and Done jobs (a device
/// may repeat a Status after the job completed). An update for an unknown job is refused.
/// Stops at the first refused update and says which.
pub fn apply(jobs: &mut [Job], updates: &[JobUpdate]) -> Result<(), String> {
    use dm_server::store::check_transition;
    for (k, u) in updates.iter().enumerate() {
        let id = match u {
            JobUpdate::Sent { job, .. }
            | JobUpdate::Status { job, .. }
            | JobUpdate::Result { job, .. }
            | JobUpdate::Completion { job, .. }
            | JobUpdate::State { job, .. } => *job,
        };
        let j = jobs
            .iter_mut()
            .find(|j| j.id == id)
            .ok_or_else(|| format!("update {k} names unknown job {id}: {u:?}"))?;
        let refused = |j: &Job| format!("update {k} refused in state {:?}: {u:?}", j.state);
        let answer_ok = matches!(j.state, JobState::Sent | JobState::Waiting | JobState::Done);
        match u {
            JobUpdate::Sent { session_id, .. } => {
                let again =
                    j.state == JobState::Sent && j.session_id.as_deref() == Some(session_id);
                if !again && !matches!(j.state, JobState::Queued | JobState::Interrupted) {
                    return Err(refused(j));
                }
                if !again {
                    j.statuses.clear();
                    j.results.clear();
                }
                j.state = JobState::Sent;
                j.session_id = Some(session_id.clone());
            }
            JobUpdate::Status { status, .. } => {
                if !answer_ok {
                    return Err(refused(j));
                }
                j.statuses.push(status.clone());
            }
            JobUpdate::Result { result, .. } => {
                if !answer_ok {
                    return Err(refused(j));
                }
                j.results.push(result.clone());
            }
            JobUpdate::Completion { alert, .. } => {
                if !answer_ok {
                    return Err(refused(j));
                }
                j.completions.push(alert.clone());
            }
            JobUpdate::State { state, .. } => {
                if *state == JobState::Sent || !check_transition(j.state, *state) {
                    return Err(refused(j));
                }
                j.state = *state;
            }
        }
    }
    Ok(())
}
