//! A device kept in a state directory: its profile, its persistent tree and its small
//! run-time state, and the glue that runs a session of it against one of its servers.
//!
//! Layout of the state directory (docs/reference-client.md "State directory"):
//! - `profile.toml`: the profile given to `init`, with file paths made absolute;
//! - `tree.db`: the DM tree (SQLite, written durably at every commit, see `dm_tree`);
//! - `ddf/`: copies of the profile's extra DDF files, loaded at every open;
//! - `state.json`: the next client-initiated SessionID, the UI answers not yet used and the
//!   asynchronous Exec completions not yet reported, replaced atomically (write, fsync,
//!   rename);
//! - `scomo/`: partial SCOMO downloads and delivered packages (docs/reference-client.md
//!   "SCOMO"); the pending operations themselves (SCOMO and backup MO) are in `state.json`;
//! - `lock`: held (advisory file lock) while a process uses the directory, so two
//!   `dm-client` processes never work on the same device at once.

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dm_protocol::model::Alert;
use dm_protocol::tnds::TndsDocument;
use dm_protocol::uri::NodeUri;
use dm_tree::standard;
use dm_tree::{
    Clock, Completion, Faults, ImportMode, ManualClock, Principal, SystemClock, Tree, TreeConfig,
};
use serde::{Deserialize, Serialize};

use crate::account::{self, AccountError, DeviceAccount};
use crate::backup;
use crate::driver::{self, DriverError, Exchange};
use crate::jobs::{self, Operation, OperationReport, PendingOperation, Queue};
use crate::profile::{DeviceProfile, ProfileError};
use crate::schedule;
use crate::scomo;
use crate::session::{
    ClientFaults, Deviation, EndReason, Initiation, OwnDeviation, Session, SessionConfig,
};
use crate::tester::{Dropped, NoTester, TesterHooks};
use crate::transport::{Transport, TransportError};
use crate::ui::{UiEvent, UiHooks, UiPolicy};

/// Why the device cannot do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The profile is unreadable or invalid.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// `init` on a directory that already holds a device.
    #[error("{0} already holds a device; use another directory or delete this one first")]
    AlreadyInitialised(PathBuf),
    /// A command other than `init` on a directory without a device.
    #[error("{0} holds no device; create one with `dm-client init --state {0} --profile FILE`")]
    NotInitialised(PathBuf),
    /// Another process uses the state directory.
    #[error("another dm-client process is using {0}; stop it or use another state directory")]
    Busy(PathBuf),
    /// A file of the state directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `state.json` is damaged.
    #[error("{path} is damaged ({message}); restore it from a backup or re-create the device")]
    BadState {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The tree database could not be opened or written.
    #[error("the device tree: {0}")]
    Store(#[from] dm_tree::store::StoreError),
    /// Building the initial tree failed.
    #[error("cannot build the initial tree: {0}")]
    Tree(#[from] dm_tree::TreeError),
    /// A DDF or TNDS file of the profile is not usable.
    #[error("{path}: {message}")]
    BadTreeFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No usable account.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// The transport could not be set up (e.g. unreadable trust anchors).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A notification listener could not start.
    #[error(transparent)]
    Listener(#[from] crate::listener::ListenerError),
    /// The trace file could not be written.
    #[error(transparent)]
    Trace(#[from] crate::trace::TraceError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DeviceError + '_ {
    move |source| DeviceError::Io {
        path: path.to_owned(),
        source,
    }
}

/// `state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunState {
    /// How many client-initiated sessions were started (see [`client_session_id`]).
    next_session: u64,
    /// The UI policy with the scripted answers not yet used.
    ui: UiPolicy,
    /// Asynchronous Exec completions not yet reported to their server (facts §3.5).
    #[serde(default)]
    completions: Vec<StoredCompletion>,
    /// SCOMO and backup MO operations accepted (202) and not performed yet, oldest first
    /// (docs/reference-client.md "SCOMO"; the name predates the backup MO).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    scomo: Vec<PendingOperation>,
    /// The simulated clock's time (Unix seconds) once `dm-client clock` set it; the device
    /// then runs on it instead of the system clock (docs/reference-client.md "Scheduling").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clock: Option<u64>,
}

/// A [`Completion`] as `state.json` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredCompletion {
    correlator: Option<String>,
    source: String,
    alert_type: String,
    format: String,
    mark: Option<String>,
    data: String,
    server: Option<String>,
}

impl From<&Completion> for StoredCompletion {
    fn from(c: &Completion) -> Self {
        StoredCompletion {
            correlator: c.correlator.clone(),
            source: c.source.to_string(),
            alert_type: c.alert_type.clone(),
            format: c.format.clone(),
            mark: c.mark.clone(),
            data: c.data.clone(),
            server: c.server.clone(),
        }
    }
}

impl StoredCompletion {
    fn restore(&self) -> Result<Completion, String> {
        Ok(Completion {
            correlator: self.correlator.clone(),
            source: NodeUri::parse(&self.source)
                .map_err(|e| format!("completion source {:?}: {e}", self.source))?,
            alert_type: self.alert_type.clone(),
            format: self.format.clone(),
            mark: self.mark.clone(),
            data: self.data.clone(),
            server: self.server.clone(),
        })
    }
}

/// What to run: see [`Device::run_session`].
#[derive(Debug, Clone, Default)]
pub struct SessionRequest {
    /// The ServerID to talk to; `None` applies the choosing rule of [`account::choose`].
    pub account: Option<String>,
    /// Server-initiated (after a package #0) or client-initiated.
    pub server_initiated: bool,
    /// The SessionID; `None` takes the next client-initiated one ([`client_session_id`]).
    pub session_id: Option<String>,
    /// Client alerts for package 1 (1224 client events, 1226 generic alerts).
    pub alerts: Vec<Alert>,
    /// Package 1 credentials built with this nonce instead of the stored one (the
    /// nonce-resync fallback of facts §7.2).
    pub resync_nonce: Option<Vec<u8>>,
    /// Seed of the nonces the device issues to the server; `None` draws one from the
    /// operating system (facts §6.2: nonces must be unpredictable). Tests fix it to replay.
    pub seed: Option<u64>,
}

/// How a session went.
#[derive(Debug)]
pub struct SessionReport {
    /// The server's ServerID.
    pub server_id: String,
    /// The URL the session started at.
    pub url: String,
    /// The SessionID used.
    pub session_id: String,
    /// How it ended: the engine's verdict, or why the driver could not carry the session to
    /// its end (server unreachable, HTTP error status, an answer that is not a DM message,
    /// too many messages).
    pub end: Result<EndReason, DriverError>,
    /// Every message, in order, including the ones before a failure.
    pub exchanges: Vec<Exchange>,
    /// Whether a tester hook dropped the connection.
    pub dropped: Option<Dropped>,
    /// Protocol deviations the client noticed in the server's messages.
    pub deviations: Vec<Deviation>,
    /// Rules the device itself could not keep (e.g. a command larger than the server's
    /// MaxMsgSize, sent whole), by our MsgID.
    pub own_deviations: Vec<OwnDeviation>,
    /// Every alert the UI policy saw.
    pub ui_events: Vec<UiEvent>,
}

/// A device opened from its state directory. See the module documentation.
pub struct Device {
    dir: PathBuf,
    profile: DeviceProfile,
    tree: Tree,
    state: RunState,
    clock: Arc<dyn Clock>,
    jobs: Queue,
    /// The UI policy as the schedule validator sees it (`Prompt = create`).
    policy: crate::schedule::PolicyCell,
    /// The tree changes under `./Schedule` (who added a schedule, changed triggers).
    schedule_events: Option<dm_tree::SubscriptionId>,
    _lock: File,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("dir", &self.dir)
            .field("dev_id", &self.profile.device.dev_id)
            .finish_non_exhaustive()
    }
}

fn tree_config(p: &DeviceProfile) -> TreeConfig {
    TreeConfig {
        implicit_add: p.tree.implicit_add,
        list_queries: p.tree.list_queries,
        tnds: p.tree.tnds_supported,
        ..TreeConfig::default()
    }
}

fn lock(dir: &Path) -> Result<File, DeviceError> {
    let path = dir.join("lock");
    let f = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(fs::TryLockError::WouldBlock) => Err(DeviceError::Busy(dir.to_owned())),
        Err(fs::TryLockError::Error(e)) => Err(DeviceError::Io { path, source: e }),
    }
}

/// Replace `path` with `bytes` so that a crash leaves the old or the new content.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), DeviceError> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(parent) = path.parent() {
        // Make the rename itself durable; not every platform lets a directory be synced.
        if let Ok(d) = File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn read_tnds(path: &Path) -> Result<TndsDocument, DeviceError> {
    let bytes = fs::read(path).map_err(io(path))?;
    TndsDocument::parse_xml(&bytes).map_err(|e| DeviceError::BadTreeFile {
        path: path.to_owned(),
        message: format!("not a TNDS/DDF document (facts §9): {e}"),
    })
}

/// Remove what a failed `init` wrote (none of it existed before), so the same directory can
/// be used again once the profile is fixed.
fn remove_partial(dir: &Path) {
    for f in [
        "tree.db",
        "tree.db-wal",
        "tree.db-shm",
        "tree.db-journal",
        "state.json",
        "state.tmp",
        "profile.tmp",
    ] {
        let _ = fs::remove_file(dir.join(f));
    }
    let _ = fs::remove_dir_all(dir.join("ddf"));
    let _ = fs::remove_dir_all(dir.join("scomo"));
}

/// The SessionID of the `n`-th client-initiated session (from 0): uppercase hex of
/// `0x10000 + n` — five or more digits, so it never equals a package #0 session id (1–4 hex
/// digits, facts §7.3) and each is unique for the device (facts §1.3).
pub fn client_session_id(n: u64) -> String {
    format!("{:X}", 0x10000 + n)
}

/// Load the DDFs copied into `dir/ddf`, in name order.
fn load_ddf_dir(tree: &mut Tree, dir: &Path) -> Result<(), DeviceError> {
    let ddf_dir = dir.join("ddf");
    let mut ddfs: Vec<PathBuf> = match fs::read_dir(&ddf_dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(DeviceError::Io {
                path: ddf_dir,
                source,
            })
        }
    };
    ddfs.sort();
    for path in ddfs {
        let d = read_tnds(&path)?;
        tree.load_ddf(&d.tree)
            .map_err(|e| DeviceError::BadTreeFile {
                path: path.clone(),
                message: e.to_string(),
            })?;
    }
    Ok(())
}

impl Device {
    /// Create a device in `dir` (created if missing, refused if it already holds one) from the
    /// profile at `profile`: DevInfo, DevDetail, DMAcc and Inbox (facts §5), the profile's
    /// DDFs and TNDS files, and one DMAcc account per `[[account]]`.
    pub fn init(dir: &Path, profile: &Path) -> Result<Device, DeviceError> {
        Self::init_with_clock(dir, profile, Arc::new(SystemClock))
    }

    /// [`Device::init`] with an injected clock (node `TStamp`s).
    pub fn init_with_clock(
        dir: &Path,
        profile: &Path,
        clock: Arc<dyn Clock>,
    ) -> Result<Device, DeviceError> {
        let p = DeviceProfile::load(profile)?;
        fs::create_dir_all(dir).map_err(io(dir))?;
        let lock = lock(dir)?;
        let profile_copy = dir.join("profile.toml");
        if profile_copy.exists() || dir.join("tree.db").exists() {
            return Err(DeviceError::AlreadyInitialised(dir.to_owned()));
        }
        // Parse every file before anything is written.
        let tnds = p
            .tree
            .tnds
            .iter()
            .map(|f| read_tnds(f).map(|d| (f, d)))
            .collect::<Result<Vec<_>, _>>()?;
        for f in &p.tree.ddf {
            read_tnds(f)?;
        }
        let built = (|| {
            let ddf_dir = dir.join("ddf");
            fs::create_dir_all(&ddf_dir).map_err(io(&ddf_dir))?;
            for (i, path) in p.tree.ddf.iter().enumerate() {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let to = ddf_dir.join(format!("{:02}-{name}", i + 1));
                fs::copy(path, &to).map_err(io(&to))?;
            }
            let mut tree = Tree::open_dir(dir, tree_config(&p), clock.clone())?;
            standard::install(&mut tree, &p.identity())?;
            load_ddf_dir(&mut tree, dir)?;
            for (path, d) in &tnds {
                tree.import_tnds(&Principal::Local, ".", &d.tree, ImportMode::Add)
                    .map_err(|e| DeviceError::BadTreeFile {
                        path: (*path).clone(),
                        message: format!("cannot import at the root: {e}"),
                    })?;
            }
            for a in &p.accounts {
                standard::put_account(&mut tree, &a.to_account())?;
            }
            Ok(tree)
        })();
        let tree = match built {
            Ok(t) => t,
            Err(e) => {
                remove_partial(dir);
                return Err(e);
            }
        };
        let state = RunState {
            next_session: 0,
            ui: p.ui.clone(),
            completions: Vec::new(),
            scomo: Vec::new(),
            clock: None,
        };
        let dev = match Device::assemble(dir, p, tree, state, clock, lock) {
            Ok(d) => d,
            Err(e) => {
                remove_partial(dir);
                return Err(e);
            }
        };
        // The profile copy is written last: its presence marks a complete device.
        let mut dev = dev;
        let saved = dev
            .save_state()
            .and_then(|()| write_atomically(&profile_copy, dev.profile.to_toml().as_bytes()));
        if let Err(e) = saved {
            drop(dev);
            remove_partial(dir);
            return Err(e);
        }
        Ok(dev)
    }

    fn assemble(
        dir: &Path,
        profile: DeviceProfile,
        mut tree: Tree,
        state: RunState,
        clock: Arc<dyn Clock>,
        lock: File,
    ) -> Result<Device, DeviceError> {
        tree.set_faults(profile.faults.tree_faults());
        let queue: Queue = Arc::new(std::sync::Mutex::new(state.scomo.clone()));
        if profile.scomo.enabled {
            // Exec handlers are code, not tree content: registered at every open.
            scomo::install(&mut tree, queue.clone())?;
        }
        if profile.backup.enabled {
            backup::install(&mut tree, &profile.backup, queue.clone())?;
        }
        let policy: schedule::PolicyCell = Arc::new(std::sync::Mutex::new(state.ui.clone()));
        let schedule_events = if profile.schedule.enabled {
            Some(schedule::install(&mut tree, policy.clone())?)
        } else {
            None
        };
        Ok(Device {
            dir: dir.to_owned(),
            profile,
            tree,
            state,
            clock,
            jobs: queue,
            policy,
            schedule_events,
            _lock: lock,
        })
    }

    /// Open the device kept in `dir`.
    pub fn open(dir: &Path) -> Result<Device, DeviceError> {
        Self::open_with_clock(dir, Arc::new(SystemClock))
    }

    /// [`Device::open`] with an injected clock.
    pub fn open_with_clock(dir: &Path, clock: Arc<dyn Clock>) -> Result<Device, DeviceError> {
        let profile_copy = dir.join("profile.toml");
        if !profile_copy.exists() {
            return Err(DeviceError::NotInitialised(dir.to_owned()));
        }
        let lock = lock(dir)?;
        let p = DeviceProfile::load(&profile_copy)?;
        let state_path = dir.join("state.json");
        let text = fs::read(&state_path).map_err(io(&state_path))?;
        let state: RunState = serde_json::from_slice(&text).map_err(|e| DeviceError::BadState {
            path: state_path,
            message: e.to_string(),
        })?;
        // A simulated clock set with `dm-client clock` replaces the given one.
        let clock: Arc<dyn Clock> = match state.clock {
            Some(t) => Arc::new(ManualClock::at(t)),
            None => clock,
        };
        let mut tree = Tree::open_dir(dir, tree_config(&p), clock.clone())?;
        standard::load_standard_ddfs(&mut tree).map_err(|e| DeviceError::BadTreeFile {
            path: dir.join("tree.db"),
            message: e.to_string(),
        })?;
        load_ddf_dir(&mut tree, dir)?;
        for c in &state.completions {
            let c = c.restore().map_err(|message| DeviceError::BadState {
                path: dir.join("state.json"),
                message,
            })?;
            tree.complete_exec(c);
        }
        if p.schedule.enabled && p.faults.forget_schedules {
            // The `forget_schedules` fault: a device that loses its schedules at restart.
            schedule::forget_all(&mut tree)?;
        }
        Device::assemble(dir, p, tree, state, clock, lock)
    }

    fn save_state(&mut self) -> Result<(), DeviceError> {
        write_state(&self.dir, &mut self.state, &self.jobs)
    }

    /// Persist what must survive a restart besides the tree: the UI answers left and the
    /// asynchronous Exec completions not yet reported (facts §3.5). Sessions call it; call it
    /// after completing an Exec outside a session.
    pub fn save_pending(&mut self) -> Result<(), DeviceError> {
        write_pending(&mut self.tree, &self.dir, &mut self.state, &self.jobs)
    }

    /// The consent gate of the installed-application list, when the device has SCOMO
    /// (DMRD-6.1.4-16, [`crate::privacy`]).
    fn inventory_gate(&self) -> Option<crate::privacy::InventoryGate> {
        self.profile.scomo.enabled.then(|| {
            crate::privacy::InventoryGate::new(
                self.profile.scomo.inventory_consent,
                self.profile.faults.report_inventory_without_consent,
            )
        })
    }

    /// The transport the profile describes, with the `accept_any_certificate` fault applied
    /// (and a warning on stderr, so a profile copied from a fixture cannot switch off server
    /// authentication silently).
    fn transport_config(&self) -> crate::transport::TransportConfig {
        if self.profile.faults.accept_any_certificate {
            eprintln!(
                "dm-client: WARNING: [faults] accept_any_certificate is on: server \
                 certificates are NOT verified (a deliberately faulty device)"
            );
        }
        crate::transport::TransportConfig {
            accept_any_certificate: self.profile.faults.accept_any_certificate,
            ..self.profile.transport.to_config()
        }
    }

    /// The device's time (Unix seconds): the simulated clock when one is set.
    pub fn now(&self) -> u64 {
        self.state.clock.unwrap_or_else(|| self.clock.now_unix())
    }

    /// Whether the device runs on a simulated clock (`dm-client clock set`).
    pub fn simulated_clock(&self) -> bool {
        self.state.clock.is_some()
    }

    /// Put the device on a simulated clock standing at `unix` (docs/reference-client.md
    /// "Scheduling"); it moves only with [`Device::advance_clock`]. Takes effect for node
    /// `TStamp`s at the next open.
    pub fn set_clock(&mut self, unix: u64) -> Result<(), DeviceError> {
        self.state.clock = Some(unix);
        self.save_state()
    }

    /// Move the simulated clock forward (starting from the system time when none is set).
    pub fn advance_clock(&mut self, secs: u64) -> Result<u64, DeviceError> {
        let t = self.now().saturating_add(secs);
        self.set_clock(t)?;
        Ok(t)
    }

    /// Check the schedules (docs/scheduling.md "Triggers and runs"): adopt new ones, run the
    /// due ones and queue their reports; the reports and the tree are durable when it
    /// returns. Nothing happens when the profile has no `[schedule] enabled`.
    pub fn run_schedules(&mut self) -> Result<schedule::TickOutcome, DeviceError> {
        let Some(sub) = self
            .schedule_events
            .filter(|_| self.profile.schedule.enabled)
        else {
            return Ok(schedule::TickOutcome::default());
        };
        let faults = schedule::ScheduleFaults {
            skip_rights: self.profile.faults.skip_schedule_rights,
            report_early: self.profile.faults.report_early,
        };
        let now = self.now();
        let events = self.tree.take_events(sub);
        let policy = self.state.ui.clone();
        let inventory = self.inventory_gate();
        let (dir, state, jobs) = (&self.dir, &mut self.state, &self.jobs);
        let mut persist =
            |tree: &mut Tree| write_pending(tree, dir, state, jobs).map_err(|e| e.to_string());
        let outcome = schedule::tick(
            &mut self.tree,
            now,
            &policy,
            faults,
            inventory,
            events,
            &mut persist,
        );
        self.save_pending()?;
        Ok(outcome)
    }

    /// Operations (SCOMO, backup MO) accepted and not performed yet, oldest first.
    pub fn pending_operations(&self) -> Vec<PendingOperation> {
        self.jobs.lock().map(|q| q.clone()).unwrap_or_default()
    }

    /// Perform the pending operations of the SCOMO and backup MOs, oldest first
    /// (docs/reference-client.md "SCOMO", "Backup (migration)"): each one's completion is
    /// queued for its server and the queue and completions are saved after each, so a
    /// restart neither loses nor repeats a finished operation.
    pub async fn perform_operations(&mut self) -> Result<Vec<OperationReport>, DeviceError> {
        let mut reports = Vec::new();
        if jobs::first(&self.jobs).is_none() {
            return Ok(reports);
        }
        let transport = Transport::new(self.transport_config())?;
        while let Some(op) = jobs::first(&self.jobs) {
            let report = match op.operation {
                Operation::Scomo(_) if self.profile.scomo.enabled => {
                    let mut ui = self.state.ui.clone();
                    let report = scomo::Worker {
                        tree: &mut self.tree,
                        dir: &self.dir,
                        transport: &transport,
                        settings: &self.profile.scomo,
                        faults: &self.profile.faults,
                        ui: &mut ui,
                    }
                    .perform(&op)
                    .await;
                    self.state.ui = ui;
                    report
                }
                Operation::Backup(_) if self.profile.backup.enabled => {
                    backup::Worker {
                        tree: &mut self.tree,
                        transport: &transport,
                        faults: &self.profile.faults,
                        inventory: self.profile.scomo.inventory_consent,
                    }
                    .perform(&op)
                    .await
                }
                // The MO was switched off since (a new profile): nothing can perform it.
                _ => OperationReport {
                    skipped: true,
                    ..OperationReport::new(&op)
                },
            };
            jobs::finished(&self.jobs, &op);
            self.save_pending()?;
            reports.push(report);
        }
        Ok(reports)
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The profile.
    pub fn profile(&self) -> &DeviceProfile {
        &self.profile
    }

    /// The UI policy as it stands (for a scripted one: the answers not used yet).
    pub fn ui_policy(&self) -> &UiPolicy {
        &self.state.ui
    }

    /// The tree.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// The tree, for local changes (they are persisted at every commit).
    pub fn tree_mut(&mut self) -> &mut Tree {
        &mut self.tree
    }

    /// The accounts in the tree.
    pub fn accounts(&self) -> Vec<DeviceAccount> {
        account::accounts(&self.tree)
    }

    /// The account a session with `requested` (or none) would use.
    pub fn choose_account(&self, requested: Option<&str>) -> Result<DeviceAccount, DeviceError> {
        let all = self.accounts();
        let default = self
            .profile
            .accounts
            .iter()
            .find(|a| a.default)
            .map(|a| a.server_id.as_str());
        Ok(account::choose(&all, requested, default)?.clone())
    }

    /// Run one session to its end and keep what it changed: the tree (as the server's
    /// commands left it), the rotated nonces (facts §6.2), the UI answers used.
    pub async fn run_session(&mut self, req: SessionRequest) -> Result<SessionReport, DeviceError> {
        self.run_session_with(req, &mut NoTester).await
    }

    /// [`Device::run_session`] with tester hooks scripting misbehaviour (see
    /// [`crate::tester`]).
    pub async fn run_session_with(
        &mut self,
        req: SessionRequest,
        tester: &mut dyn TesterHooks,
    ) -> Result<SessionReport, DeviceError> {
        let acc = self.choose_account(req.account.as_deref())?;
        let mut client_auth = acc
            .client_auth
            .as_ref()
            .map(|a| a.credentials())
            .transpose()?;
        if let (Some(c), Some(n)) = (client_auth.as_mut(), &req.resync_nonce) {
            c.nonce.clone_from(n);
        }
        let server_auth = acc
            .server_auth
            .as_ref()
            .map(|a| a.credentials())
            .transpose()?;
        let session_id = match req.session_id {
            Some(id) => id,
            None => {
                let id = client_session_id(self.state.next_session);
                self.state.next_session += 1;
                self.save_state()?;
                id
            }
        };
        let settings = self.profile.account(&acc.server_id).cloned();
        let encoding = settings
            .as_ref()
            .map(|s| s.encoding)
            .unwrap_or(dm_protocol::codec::Encoding::Xml);
        let cfg = SessionConfig {
            session_id: session_id.clone(),
            server_uri: acc.url.clone(),
            server_id: acc.server_id.clone(),
            initiation: if req.server_initiated {
                Initiation::Server
            } else {
                Initiation::Client
            },
            client_auth,
            server_auth,
            max_msg_size: self.profile.device.max_msg_size,
            max_obj_size: self
                .profile
                .device
                .max_obj_size
                .filter(|_| self.profile.device.large_objects),
            alerts: req.alerts,
            seed: req.seed.unwrap_or_else(random_seed),
            faults: self.profile.faults.client_faults(),
        };
        let transport = Transport::new(self.transport_config())?;
        let mut session = Session::new(cfg).with_clock(self.clock.clone());
        let mut hooks = UiHooks::new(self.state.ui.clone());
        if let Some(gate) = self.inventory_gate() {
            hooks = hooks.with_inventory_gate(gate);
        }
        if let Ok(mut p) = self.policy.lock() {
            // The schedule validator answers `Prompt = create` with the same policy.
            *p = self.state.ui.clone();
        }
        let mut exchanges = Vec::new();
        let result = driver::run_recording(
            &mut self.tree,
            &mut session,
            &transport,
            encoding,
            &mut hooks,
            tester,
            self.profile.transport.max_messages,
            &mut exchanges,
        )
        .await;
        // Keep nonces and UI answers whatever the outcome: a nonce the engine allows to be
        // stored is the one the server expects next (facts §6.2).
        if let (Some(n), Some(a)) = (session.client_nonce_to_store(), &acc.client_auth) {
            account::store_nonce(&mut self.tree, a, n)?;
        }
        if let (Some(n), Some(a)) = (session.server_nonce_to_store(), &acc.server_auth) {
            account::store_nonce(&mut self.tree, a, n)?;
        }
        self.state.ui = hooks.policy().clone();
        // facts §3.5: a completion is reported until a session that carried it completes
        // (at least once: the Correlator lets the server recognise a repeat).
        if !matches!(result, Ok((EndReason::Completed, _))) {
            for c in session.reported_completions() {
                self.tree.complete_exec(c.clone());
            }
        }
        self.save_pending()?;
        let (end, dropped) = match result {
            Ok((end, dropped)) => (Ok(end), dropped),
            Err(e) => (Err(e), None),
        };
        Ok(SessionReport {
            server_id: acc.server_id,
            url: acc.url,
            session_id,
            end,
            exchanges,
            dropped,
            deviations: session.deviations().to_vec(),
            own_deviations: session.own_deviations().to_vec(),
            ui_events: hooks.take_events(),
        })
    }
}

/// Write `state.json` (atomically): the run-time state and the operation queue.
fn write_state(dir: &Path, state: &mut RunState, jobs: &Queue) -> Result<(), DeviceError> {
    if let Ok(q) = jobs.lock() {
        state.scomo = q.clone();
    }
    let json = serde_json::to_vec_pretty(&*state).map_err(|e| DeviceError::BadState {
        path: dir.join("state.json"),
        message: e.to_string(),
    })?;
    write_atomically(&dir.join("state.json"), &json)
}

/// [`Device::save_pending`] on the parts of a device.
fn write_pending(
    tree: &mut Tree,
    dir: &Path,
    state: &mut RunState,
    jobs: &Queue,
) -> Result<(), DeviceError> {
    let pending = tree.take_completions();
    state.completions = pending.iter().map(StoredCompletion::from).collect();
    for c in pending {
        tree.complete_exec(c);
    }
    write_state(dir, state, jobs)
}

fn random_seed() -> u64 {
    dm_protocol::auth::NonceGenerator::from_entropy().next_u64()
}

impl crate::profile::FaultsSection {
    /// The session-engine switches (the engine applies `ignore_acl` and
    /// `commit_failed_atomic` to the tree when the session starts).
    pub fn client_faults(&self) -> ClientFaults {
        ClientFaults {
            skip_server_auth: self.skip_server_auth,
            wrong_msg_ref: self.wrong_msg_ref,
            no_results: self.no_results,
            no_devinfo: self.no_devinfo,
            ignore_acl: self.ignore_acl,
            commit_failed_atomic: self.commit_failed_atomic,
            no_final: self.no_final,
            stale_nonce: self.stale_nonce,
            no_hmac: self.no_hmac,
        }
    }

    /// The tree switches that are not session switches, applied when the device opens.
    pub fn tree_faults(&self) -> Faults {
        Faults {
            add_overwrites: self.add_overwrites,
            delete_permanent: self.delete_permanent,
            frozen_versions: self.frozen_versions,
            ignore_size_mismatch: self.ignore_size_mismatch,
            fail_rollback: self.fail_rollback,
            ..Faults::default()
        }
    }
}
