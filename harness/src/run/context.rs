//! What every scenario of one suite run shares: the profile, deadlines, the seed, the
//! scratch directory, and for a server under test the server (spawned or reached).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::server_side::ServerIut;
use crate::adapter::manual::ManualAdapter;
use crate::profile::{Profile, Role};

/// The context of one suite run (one IUT).
pub struct RunContext {
    /// The role under test (an interop run tests both: see [`RunContext::client_profile`]).
    pub role: Role,
    /// The IUT's profile (an interop run: the server's).
    pub profile: Profile,
    /// An interop run: the client under test's profile. The two implementations talk to
    /// each other through the harness's recording relay; no tester is involved.
    pub client_profile: Option<Profile>,
    /// Every step's deadline.
    pub step_timeout: Duration,
    /// The run's seed; each scenario derives its own from it and its id.
    pub seed: u64,
    /// Scratch space (tester databases, device state directories).
    pub work: PathBuf,
    /// Where `dm-client` and `dm-server` are (reference adapter).
    pub bin_dir: PathBuf,
    /// The server under test (server role).
    pub server_iut: Option<Arc<ServerIut>>,
    /// `[faults]` switches of the reference client under test (`dmconf mutants`).
    pub client_faults: Vec<String>,
    /// The session golden vectors (`vectors/sessions`).
    pub session_vectors: PathBuf,
    /// Write session vectors instead of comparing (`--bless`).
    pub bless: bool,
    /// The person performing actions (manual adapter), shared by all scenarios.
    pub manual: Option<Arc<Mutex<ManualAdapter>>>,
    /// The run's test CAs (docs/tls.md).
    pub tls: super::tls::RunTls,
    counter: AtomicU64,
}

impl std::fmt::Debug for RunContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunContext")
            .field("role", &self.role)
            .field("seed", &self.seed)
            .field("work", &self.work)
            .finish_non_exhaustive()
    }
}

/// The settings a [`RunContext`] is made from.
#[derive(Debug, Clone)]
pub struct ContextSettings {
    /// `--timeout`: overrides the IXIT's step deadline.
    pub timeout: Option<Duration>,
    /// The run's seed.
    pub seed: u64,
    /// Scratch space.
    pub work: PathBuf,
    /// Where the reference binaries are.
    pub bin_dir: PathBuf,
    /// Reference client faults.
    pub client_faults: Vec<String>,
    /// Session vectors folder.
    pub session_vectors: PathBuf,
    /// `--bless`.
    pub bless: bool,
    /// The run's test CAs.
    pub tls: super::tls::RunTls,
}

impl RunContext {
    /// A context for `profile`.
    pub fn new(
        profile: Profile,
        s: ContextSettings,
        server_iut: Option<Arc<ServerIut>>,
        manual: Option<Arc<Mutex<ManualAdapter>>>,
    ) -> Self {
        RunContext {
            role: profile.implementation.role,
            step_timeout: s
                .timeout
                .unwrap_or(Duration::from_secs(profile.ixit.step_timeout_secs)),
            profile,
            client_profile: None,
            seed: s.seed,
            work: s.work,
            bin_dir: s.bin_dir,
            server_iut,
            client_faults: s.client_faults,
            session_vectors: s.session_vectors,
            bless: s.bless,
            manual,
            tls: s.tls,
            counter: AtomicU64::new(0),
        }
    }

    /// An interop run between two implementations.
    pub fn interop(&self) -> bool {
        self.client_profile.is_some()
    }

    /// The profile of the implementation playing `role`, if one does.
    pub fn profile_for(&self, role: Role) -> Option<&Profile> {
        match (&self.client_profile, role) {
            (Some(c), Role::Client) => Some(c),
            (Some(_), Role::Server) => Some(&self.profile),
            (None, r) if r == self.role => Some(&self.profile),
            _ => None,
        }
    }

    /// The next scenario number.
    pub fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The seed of the scenario `id`: the run's seed mixed with the id (FNV-1a), so a
    /// scenario replays alone with the same `--seed`.
    pub fn scenario_seed(&self, id: &str) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ self.seed;
        for b in id.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h
    }
}
