//! The server peer of a scenario: the server under test (spawned reference server or a
//! vendor's, through the admin API contract) or, when a client is under test, the reference
//! server library in tester mode — a DM service with its own store in the scenario's scratch
//! directory, scripted through jobs and tester hooks, whose transcripts are the raw
//! observation.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dm_protocol::model::{Cred, SyncMl};
use dm_server::endpoint::{self, EndpointConfig};
use dm_server::faults::ServerFaults;
use dm_server::model::{Device, Direction, Job, JobSpec, NotifyRequest};
use dm_server::service::{DmService, ServiceConfig};
use dm_server::session::ServerTester;
use dm_server::store::Store;
use tokio::io::AsyncBufReadExt as _;

use super::world::{Msg, Observed, Party, Why};
use std::collections::BTreeMap;

use crate::adapter::exec::ExecAdapter;
use crate::adapter::http::HttpAdapter;
use crate::adapter::AdapterError;

/// Misbehaviour of the tester server, set by Given steps (client role).
#[derive(Debug, Clone, Default)]
pub struct ServerScript {
    /// Send the server credentials of the first session again in later sessions (a
    /// replay).
    pub replay_credentials: bool,
    /// Answer package 1 with bytes that are not a DM message.
    pub garbage: bool,
    /// Declare a size one byte larger than the object in the first chunk of a large object
    /// (facts §8: the device must answer 424 when the sizes do not match).
    pub wrong_size: bool,
}

#[derive(Default)]
struct Memory {
    first_cred: Option<Cred>,
}

struct Hooks {
    script: ServerScript,
    memory: Arc<Mutex<Memory>>,
    replies: usize,
}

impl ServerTester for Hooks {
    fn before_encode(&mut self, msg: &mut SyncMl) {
        let mut mem = match self.memory.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        if self.script.wrong_size {
            for c in &mut msg.body.commands {
                if let dm_protocol::model::Command::Add(i)
                | dm_protocol::model::Command::Replace(i) = c
                {
                    for item in &mut i.items {
                        if let Some(size) = item.meta.as_mut().and_then(|m| m.size.as_mut()) {
                            *size += 1;
                        }
                    }
                }
            }
        }
        if self.replies == 0 {
            match (&mem.first_cred, self.script.replay_credentials) {
                (None, _) => mem.first_cred = msg.hdr.cred.clone(),
                (Some(old), true) => msg.hdr.cred = Some(old.clone()),
                (Some(_), false) => {}
            }
        }
        self.replies += 1;
    }

    fn replace_bytes(&mut self, _msg: &SyncMl, _encoded: &[u8]) -> Option<Vec<u8>> {
        (self.script.garbage && self.replies == 1).then(|| b"<html>not DM</html>".to_vec())
    }
}

/// The tester's knobs for one scenario.
#[derive(Debug, Clone)]
pub struct TesterServerConfig {
    /// MaxMsgSize announced.
    pub max_msg_size: Option<u64>,
    /// MaxObjSize announced.
    pub max_obj_size: Option<u64>,
    /// Fault switches used as tester misbehaviour.
    pub faults: ServerFaults,
    /// Scripted misbehaviour.
    pub script: ServerScript,
    /// Nonce seed.
    pub seed: u64,
    /// The device expects a nonce it does not know: its first credentials fail.
    pub unknown_nonce: bool,
    /// Serve HTTPS through this front (facts §6.4, docs/tls.md); `None`: plain HTTP.
    pub tls: Option<Arc<super::tls::TesterTls>>,
}

/// A TCP listener on a free loopback port, and its address.
pub(crate) async fn bind_loopback() -> Result<(tokio::net::TcpListener, std::net::SocketAddr), Why>
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| Why::Error(format!("cannot listen on loopback: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Why::Error(format!("no local address: {e}")))?;
    Ok((listener, addr))
}

/// The reference server library as the tester's server.
pub struct TesterServer {
    store: Store,
    /// The DM URL.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
    seen: usize,
    /// The software originator that signs the tester's packages (made per scenario: no key
    /// is kept anywhere).
    pub originator: dm_protocol::swpkg::Originator,
    /// Over HTTPS: the TLS front, with the certificate it presents and its handshakes.
    pub tls: Option<Arc<super::tls::TesterTls>>,
}

impl Drop for TesterServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn store_err(e: impl std::fmt::Display) -> Why {
    Why::Error(format!("the tester server's store failed: {e}"))
}

impl TesterServer {
    /// Start a tester server knowing `device`, its store in `dir`.
    pub async fn start(dir: &Path, device: &Device, cfg: TesterServerConfig) -> Result<Self, Why> {
        let store = Store::open(dir).map_err(store_err)?;
        store.add_device(device).map_err(store_err)?;
        if cfg.unknown_nonce {
            let mut state = store.device_state(&device.dev_id).map_err(store_err)?;
            state.client_nonce = b"dmconf-unknown-nonce".to_vec();
            store
                .set_device_state(&device.dev_id, &state)
                .map_err(store_err)?;
        }
        let (listener, addr) = bind_loopback().await?;
        let scheme = if cfg.tls.is_some() { "https" } else { "http" };
        let no_tls = cfg.faults.no_tls;
        let url = format!("{scheme}://{addr}/dm");
        let memory = Arc::new(Mutex::new(Memory::default()));
        let script = cfg.script.clone();
        let svc = DmService::new(
            store.clone(),
            ServiceConfig {
                server_uri: url.clone(),
                max_msg_size: cfg.max_msg_size,
                max_obj_size: cfg.max_obj_size,
                faults: cfg.faults,
                idle_timeout_secs: 60,
                seed: Some(cfg.seed),
            },
            Arc::new(dm_tree::SystemClock),
        )
        .map_err(store_err)?
        .with_tester(Arc::new(move |_dev: &str| {
            Box::new(Hooks {
                script: script.clone(),
                memory: memory.clone(),
                replies: 0,
            }) as Box<dyn ServerTester>
        }));
        let backend: Arc<dyn endpoint::Backend> = Arc::new(Arc::new(svc));
        let task = match &cfg.tls {
            // The no_tls misbehaviour: an https URL, plain HTTP behind it.
            Some(_) if no_tls => tokio::spawn(endpoint::serve(
                listener,
                None,
                EndpointConfig::default(),
                backend,
            )),
            Some(front) => tokio::spawn(front.clone().serve(
                listener,
                EndpointConfig::default(),
                backend,
            )),
            None => tokio::spawn(endpoint::serve(
                listener,
                None,
                EndpointConfig::default(),
                backend,
            )),
        };
        let (originator, _key_never_stored) =
            dm_protocol::swpkg::Originator::generate("dmconf-tester")
                .map_err(|e| Why::Error(format!("cannot make the tester's originator key: {e}")))?;
        Ok(TesterServer {
            store,
            url,
            task,
            seen: 0,
            originator,
            tls: cfg.tls,
        })
    }

    /// Sign (with `by`, default the tester's own originator) and host a package.
    pub fn publish(
        &self,
        up: &dm_server::packages::PackageUpload,
        by: Option<&dm_protocol::swpkg::Originator>,
    ) -> Result<dm_server::packages::PackageInfo, Why> {
        dm_server::packages::publish(&self.store, by.unwrap_or(&self.originator), up, 0)
            .map_err(|e| Why::Error(format!("the tester cannot publish the package: {e}")))
    }

    /// Corrupt a hosted package's last byte (its payload): an integrity failure.
    pub fn tamper(&self, pkg_id: &str) -> Result<(), Why> {
        let name = format!("packages/{pkg_id}.dmpkg");
        let mut c = self.store.content(&name).map_err(store_err)?;
        if let Some(b) = c.bytes.last_mut() {
            *b ^= 0x20;
        }
        self.store
            .put_content(&name, &c.content_type, &c.bytes, 0)
            .map_err(store_err)
    }

    /// Queue a backup job for `dev_id` (its upload URL on this tester's listener).
    pub fn backup(
        &self,
        dev_id: &str,
        req: &dm_server::migration::BackupRequest,
    ) -> Result<u64, Why> {
        let n = self.store.jobs(dev_id).map_err(store_err)?.len() as u64 + 1;
        let spec = dm_server::migration::backup_job(
            dev_id,
            req,
            dm_server::packages::url_base(&self.url),
            n,
        )
        .map_err(Why::Error)?;
        self.queue(dev_id, &spec)
    }

    /// Queue a restore job of the stored backup `name` for `dev_id`.
    pub fn restore(&self, dev_id: &str, name: &str) -> Result<u64, Why> {
        let spec = dm_server::migration::restore_job(
            &self.store,
            &dm_server::migration::RestoreRequest {
                backup: name.to_owned(),
                root: None,
            },
            dm_server::packages::url_base(&self.url),
        )
        .map_err(store_err)?;
        self.queue(dev_id, &spec)
    }

    /// The stored backups of `dev_id` with their bytes, by name.
    pub fn backups(&self, dev_id: &str) -> Result<Vec<(String, Vec<u8>)>, Why> {
        let mut out = Vec::new();
        for c in dm_server::migration::backups(&self.store, dev_id).map_err(store_err)? {
            let bytes = self.store.content(&c.name).map_err(store_err)?.bytes;
            out.push((c.name, bytes));
        }
        Ok(out)
    }

    /// Store `bytes` as a backup of `dev_id` (as if the device had uploaded it); its name.
    pub fn put_backup(&self, dev_id: &str, bytes: &[u8]) -> Result<String, Why> {
        let name = dm_server::migration::backup_name(dev_id, 999);
        self.store
            .put_content(&name, "application/octet-stream", bytes, 0)
            .map_err(store_err)?;
        Ok(name)
    }

    /// Queue a SCOMO job for `dev_id`.
    pub fn scomo(&self, dev_id: &str, req: &dm_server::packages::ScomoRequest) -> Result<u64, Why> {
        let spec = dm_server::packages::scomo_job(
            &self.store,
            req,
            dm_server::packages::url_base(&self.url),
        )
        .map_err(|e| Why::Error(format!("the tester cannot build the SCOMO job: {e}")))?;
        self.queue(dev_id, &spec)
    }

    /// Queue a job; its id.
    pub fn queue(&self, dev_id: &str, spec: &JobSpec) -> Result<u64, Why> {
        Ok(self.store.add_job(dev_id, spec, 0).map_err(store_err)?.id)
    }

    /// A job.
    pub fn job(&self, id: u64) -> Result<Job, Why> {
        self.store.job(id).map_err(store_err)
    }

    /// The alerts the device sent.
    pub fn alerts(&self, dev_id: &str) -> Result<Vec<dm_server::model::AlertRecord>, Why> {
        self.store.alerts(dev_id).map_err(store_err)
    }

    /// A schedule as the tester keeps it.
    pub fn schedule_record(
        &self,
        dev_id: &str,
        name: &str,
    ) -> Result<dm_server::schedules::ScheduleRecord, Why> {
        self.store.schedule(dev_id, name).map_err(store_err)
    }

    /// The reports the tester stored for a schedule (docs/scheduling.md "Reports").
    pub fn schedule_reports(
        &self,
        dev_id: &str,
        name: &str,
    ) -> Result<Vec<dm_server::schedules::ScheduleReport>, Why> {
        self.store.schedule_reports(dev_id, name).map_err(store_err)
    }

    /// The sessions of `dev_id` that ended since the last call, as observed.
    pub fn new_sessions(&mut self, dev_id: &str) -> Result<Vec<Observed>, Why> {
        let all = self.store.sessions(dev_id).map_err(store_err)?;
        let mut out = Vec::new();
        for s in all.iter().skip(self.seen) {
            let rec = self
                .store
                .session(dev_id, &s.session_id)
                .map_err(store_err)?;
            let messages = rec
                .transcript
                .iter()
                .map(|t| {
                    let from = match t.direction {
                        Direction::Received => Party::Client,
                        Direction::Sent => Party::Server,
                    };
                    let bytes = dm_protocol::auth::b64_decode(&t.bytes_b64).unwrap_or_default();
                    Msg::new(from, bytes, t.time)
                })
                .collect();
            let end = rec.end.clone().unwrap_or_else(|| "still open".into());
            out.push(Observed {
                completed: end == "completed",
                end,
                messages,
                tls_failure: None,
            });
        }
        self.seen = all.len();
        Ok(out)
    }
}

/// How the harness makes a server under test act (docs/adapters.md): its admin API
/// (`http`, and the spawned reference server) or command templates (`exec`).
#[derive(Debug, Clone)]
pub enum ServerAdmin {
    /// The admin API contract of docs/admin-api.md.
    Http(HttpAdapter),
    /// One command per action; `queue_job` prints the job id, `job_status` the Job JSON.
    Exec(ExecAdapter),
}

fn json<T: serde::Serialize>(action: &str, v: &T) -> Result<String, AdapterError> {
    serde_json::to_string(v).map_err(|e| AdapterError::BadAnswer {
        action: action.into(),
        reason: e.to_string(),
    })
}

impl ServerAdmin {
    async fn exec(
        e: &ExecAdapter,
        action: &'static str,
        values: BTreeMap<&'static str, String>,
    ) -> Result<String, AdapterError> {
        let e = e.clone();
        tokio::task::spawn_blocking(move || e.perform(action, &values))
            .await
            .map_err(|err| AdapterError::Spawn {
                action: action.into(),
                reason: err.to_string(),
            })?
            .map(|o| o.stdout)
    }

    /// `register_device`.
    pub async fn register_device(&self, d: &Device) -> Result<(), AdapterError> {
        match self {
            ServerAdmin::Http(h) => h.register_device(d).await,
            ServerAdmin::Exec(e) => {
                let v = BTreeMap::from([("device", json("register_device", d)?)]);
                Self::exec(e, "register_device", v).await.map(|_| ())
            }
        }
    }

    /// `queue_job`: the job's id.
    pub async fn queue_job(&self, dev_id: &str, spec: &JobSpec) -> Result<u64, AdapterError> {
        match self {
            ServerAdmin::Http(h) => h.queue_job(dev_id, spec).await,
            ServerAdmin::Exec(e) => {
                let v = BTreeMap::from([
                    ("dev_id", dev_id.to_owned()),
                    ("job", json("queue_job", spec)?),
                ]);
                let out = Self::exec(e, "queue_job", v).await?;
                out.trim().parse().map_err(|_| AdapterError::BadAnswer {
                    action: "queue_job".into(),
                    reason: format!("expected the job id on stdout, got {:?}", out.trim()),
                })
            }
        }
    }

    /// `job_status`.
    pub async fn job(&self, id: u64) -> Result<Job, AdapterError> {
        match self {
            ServerAdmin::Http(h) => h.job(id).await,
            ServerAdmin::Exec(e) => {
                let v = BTreeMap::from([("job_id", id.to_string())]);
                let out = Self::exec(e, "job_status", v).await?;
                serde_json::from_str(&out).map_err(|err| AdapterError::BadAnswer {
                    action: "job_status".into(),
                    reason: format!("stdout is not the admin API's Job JSON: {err}"),
                })
            }
        }
    }

    /// The admin API, for what only it offers (packages, SCOMO, migration, content): an
    /// exec-driven server has none (an adapter error naming `what`).
    pub fn http(&self, what: &str) -> Result<&HttpAdapter, AdapterError> {
        match self {
            ServerAdmin::Http(h) => Ok(h),
            ServerAdmin::Exec(_) => Err(AdapterError::NoAction(format!("{what} (admin API only)"))),
        }
    }

    /// The device's alerts (admin API only).
    pub async fn alerts(
        &self,
        dev_id: &str,
    ) -> Result<Vec<dm_server::model::AlertRecord>, AdapterError> {
        match self {
            ServerAdmin::Http(h) => h.alerts(dev_id).await,
            ServerAdmin::Exec(_) => Err(AdapterError::NoAction("alerts (admin API only)".into())),
        }
    }

    /// `notify`.
    pub async fn notify(&self, dev_id: &str, req: &NotifyRequest) -> Result<(), AdapterError> {
        match self {
            ServerAdmin::Http(h) => h.notify(dev_id, req).await.map(|_| ()),
            ServerAdmin::Exec(e) => {
                let mut v = BTreeMap::from([("dev_id", dev_id.to_owned())]);
                if let Some(t) = &req.transport {
                    v.insert("transport", json("notify", t)?.trim_matches('"').to_owned());
                }
                v.insert(
                    "ui_mode",
                    json("notify", &req.ui_mode)?.trim_matches('"').to_owned(),
                );
                if let Some(sid) = req.session_id {
                    v.insert("session_id", sid.to_string());
                }
                Self::exec(e, "notify", v).await.map(|_| ())
            }
        }
    }

    /// Cancel an unsent job (admin API only; a no-op for exec).
    pub async fn cancel_job(&self, id: u64) -> Result<(), AdapterError> {
        match self {
            ServerAdmin::Http(h) => h.cancel_job(id).await,
            ServerAdmin::Exec(_) => Ok(()),
        }
    }
}

/// A server under test.
pub struct ServerIut {
    /// How it is made to act.
    pub admin: ServerAdmin,
    /// The URL devices use.
    pub dm_url: String,
    /// For an `https://` URL: the CA certificates (PEM) the tester's device trusts.
    pub trust_anchors: Vec<std::path::PathBuf>,
    _child: Option<tokio::process::Child>,
}

impl std::fmt::Debug for ServerIut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIut")
            .field("dm_url", &self.dm_url)
            .finish_non_exhaustive()
    }
}

impl ServerIut {
    /// A server already running, driven by `admin`, reached at `dm_url` (trusting
    /// `trust_anchors` when it is `https://`).
    pub fn reach(admin: ServerAdmin, dm_url: &str, trust_anchors: Vec<std::path::PathBuf>) -> Self {
        ServerIut {
            admin,
            dm_url: dm_url.to_owned(),
            trust_anchors,
            _child: None,
        }
    }

    /// Spawn the reference server `bin` as a separate process on free loopback ports, its
    /// data in `data`, with fault switches `faults`, over HTTPS with the run's server
    /// certificate when `tls` is given; it is killed when this is dropped.
    pub async fn spawn(
        bin: &Path,
        data: &Path,
        seed: u64,
        faults: &[String],
        tls: Option<&super::tls::RunTls>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let mut cmd = tokio::process::Command::new(bin);
        cmd.arg("serve")
            .arg("--data")
            .arg(data)
            .args(["--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"])
            .args(["--seed", &seed.to_string(), "--idle-timeout", "60"])
            // Limits a real server announces, so multi-message and large-object scenarios
            // exercise the server's side of them (facts §1.5, §8).
            .args(["--max-msg-size", "16384", "--max-obj-size", "1048576"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for f in faults {
            cmd.args(["--fault", f]);
        }
        if let Some(t) = tls {
            cmd.arg("--tls-cert")
                .arg(&t.server.cert)
                .arg("--tls-key")
                .arg(&t.server.key);
        }
        let mut child = cmd.spawn().map_err(|e| {
            format!(
                "cannot start {}: {e}; build it with `cargo build --release -p dm-server` or pass --bin-dir",
                bin.display()
            )
        })?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| "the server's stdout is not readable".to_owned())?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let (mut dm, mut admin) = (None, None);
        let read = async {
            while dm.is_none() || admin.is_none() {
                match lines.next_line().await {
                    Ok(Some(l)) => {
                        if let Some(u) = l.strip_prefix("dm ") {
                            dm = Some(u.trim().to_owned());
                        } else if let Some(u) = l.strip_prefix("admin ") {
                            admin = Some(u.trim().to_owned());
                        }
                    }
                    _ => return Err("the server exited before it listened".to_owned()),
                }
            }
            Ok(())
        };
        tokio::time::timeout(timeout, read)
            .await
            .map_err(|_| format!("the server did not listen within {} s", timeout.as_secs()))??;
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let (Some(dm), Some(admin)) = (dm, admin) else {
            return Err("the server did not print its URLs".into());
        };
        Ok(ServerIut {
            admin: ServerAdmin::Http(HttpAdapter::new(&admin, timeout)),
            dm_url: dm,
            trust_anchors: tls.map(|t| vec![t.ca.clone()]).unwrap_or_default(),
            _child: Some(child),
        })
    }
}

/// The server peer of a scenario.
pub enum ServerSide {
    /// The reference server in tester mode (client role).
    Tester(Box<TesterServer>),
    /// The server under test (server role).
    Iut(Arc<ServerIut>),
}

/// An adapter failure: the scenario is inconclusive (docs/adapters.md).
pub(crate) fn adapter(e: crate::adapter::AdapterError) -> Why {
    Why::Inconclusive(format!("the server's adapter failed: {e}"))
}

impl ServerSide {
    /// Queue a job for `dev_id`.
    pub async fn queue(&self, dev_id: &str, spec: &JobSpec) -> Result<u64, Why> {
        match self {
            ServerSide::Tester(t) => t.queue(dev_id, spec),
            ServerSide::Iut(s) => s.admin.queue_job(dev_id, spec).await.map_err(adapter),
        }
    }

    /// A job as the server has it.
    pub async fn job(&self, id: u64) -> Result<Job, Why> {
        match self {
            ServerSide::Tester(t) => t.job(id),
            ServerSide::Iut(s) => s.admin.job(id).await.map_err(adapter),
        }
    }

    /// The alerts the device sent, as the server recorded them.
    pub async fn alerts(&self, dev_id: &str) -> Result<Vec<dm_server::model::AlertRecord>, Why> {
        match self {
            ServerSide::Tester(t) => t.alerts(dev_id),
            ServerSide::Iut(s) => s.admin.alerts(dev_id).await.map_err(adapter),
        }
    }

    /// Ask for a schedule job (docs/scheduling.md): the tester queues the job its library
    /// builds (`dm_server::schedules`); a server under test gets the admin API request.
    pub async fn schedule_job(
        &self,
        dev_id: &str,
        request: &crate::adapter::http::ScheduleRequest<'_>,
        current: Option<&dm_server::schedules::ScheduleDefinition>,
    ) -> Result<u64, Why> {
        use crate::adapter::http::ScheduleRequest as R;
        match self {
            ServerSide::Tester(t) => {
                let bad = |e: dm_server::schedules::InvalidSchedule| {
                    Why::Error(format!("the scenario's schedule is not valid: {}", e.0))
                };
                let spec = match request {
                    R::Create(def) => dm_server::schedules::create_job(def).map_err(bad)?,
                    R::State(name, state) => {
                        let def = current.ok_or_else(|| {
                            Why::Error(format!("no schedule {name:?} was created in this scenario"))
                        })?;
                        dm_server::schedules::state_job(def, state).map_err(bad)?
                    }
                    R::Delete(name) => dm_server::schedules::delete_job(name).map_err(bad)?,
                    R::Modify(def) => {
                        let old = current.ok_or_else(|| {
                            Why::Error(format!(
                                "no schedule {:?} was created in this scenario",
                                def.name
                            ))
                        })?;
                        dm_server::schedules::modify_job(old, def)
                            .map_err(bad)?
                            .ok_or_else(|| {
                                Why::Error("the changed schedule is the same as before".into())
                            })?
                    }
                };
                t.queue(dev_id, &spec)
            }
            ServerSide::Iut(s) => s
                .admin
                .http("schedules")
                .map_err(adapter)?
                .schedule_job(dev_id, request)
                .await
                .map_err(adapter),
        }
    }

    /// A schedule as the server keeps it.
    pub async fn schedule_record(
        &self,
        dev_id: &str,
        name: &str,
    ) -> Result<dm_server::schedules::ScheduleRecord, Why> {
        match self {
            ServerSide::Tester(t) => t.schedule_record(dev_id, name),
            ServerSide::Iut(s) => s
                .admin
                .http("schedule")
                .map_err(adapter)?
                .schedule(dev_id, name)
                .await
                .map_err(adapter),
        }
    }

    /// The reports the server stored for a schedule.
    pub async fn schedule_reports(
        &self,
        dev_id: &str,
        name: &str,
    ) -> Result<Vec<dm_server::schedules::ScheduleReport>, Why> {
        match self {
            ServerSide::Tester(t) => t.schedule_reports(dev_id, name),
            ServerSide::Iut(s) => s
                .admin
                .http("schedule_reports")
                .map_err(adapter)?
                .schedule_reports(dev_id, name)
                .await
                .map_err(adapter),
        }
    }

    /// Queue a SCOMO job (the tester's repository, or the admin API's).
    pub async fn scomo(
        &self,
        dev_id: &str,
        req: &dm_server::packages::ScomoRequest,
    ) -> Result<u64, Why> {
        match self {
            ServerSide::Tester(t) => t.scomo(dev_id, req),
            ServerSide::Iut(s) => s
                .admin
                .http("scomo")
                .map_err(adapter)?
                .scomo(dev_id, req)
                .await
                .map_err(adapter),
        }
    }

    /// Queue a backup job.
    pub async fn backup(
        &self,
        dev_id: &str,
        req: &dm_server::migration::BackupRequest,
    ) -> Result<u64, Why> {
        match self {
            ServerSide::Tester(t) => t.backup(dev_id, req),
            ServerSide::Iut(s) => s
                .admin
                .http("backup")
                .map_err(adapter)?
                .backup(dev_id, req)
                .await
                .map_err(adapter),
        }
    }

    /// Queue a restore of the stored backup `name` onto `dev_id`.
    pub async fn restore(&self, dev_id: &str, name: &str) -> Result<u64, Why> {
        match self {
            ServerSide::Tester(t) => t.restore(dev_id, name),
            ServerSide::Iut(s) => s
                .admin
                .http("restore")
                .map_err(adapter)?
                .restore(
                    dev_id,
                    &dm_server::migration::RestoreRequest {
                        backup: name.to_owned(),
                        root: None,
                    },
                )
                .await
                .map_err(adapter),
        }
    }

    /// The stored backups of `dev_id` with their bytes, by name.
    pub async fn backups(&self, dev_id: &str) -> Result<Vec<(String, Vec<u8>)>, Why> {
        match self {
            ServerSide::Tester(t) => t.backups(dev_id),
            ServerSide::Iut(s) => {
                let h = s.admin.http("backups").map_err(adapter)?;
                let mut out = Vec::new();
                for c in h.backups(dev_id).await.map_err(adapter)? {
                    let bytes = h.content(&c.name).await.map_err(adapter)?;
                    out.push((c.name, bytes));
                }
                Ok(out)
            }
        }
    }

    /// Ask the server to send a package #0.
    pub async fn notify(&self, dev_id: &str, req: &NotifyRequest) -> Result<(), Why> {
        match self {
            ServerSide::Tester(_) => Err(Why::Error(
                "the tester server does not send package #0 in this scenario".into(),
            )),
            ServerSide::Iut(s) => s.admin.notify(dev_id, req).await.map_err(adapter),
        }
    }
}
