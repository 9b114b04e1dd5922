//! The scenario world: what one scenario set up, did and observed.
//!
//! Steps are **role-neutral**: "the client" and "the server" name the two peers whichever of
//! them is the implementation under test (IUT); the other one is the reference peer in tester
//! mode. A step that makes a peer act goes to the IUT's adapter or to the tester; a step that
//! checks messages reads what the tester observed on the wire (shared/docs/conformance-model.md
//! "Roles").

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use dm_protocol::model::{Command, SyncMl};
use dm_server::model::{Direction, TranscriptEntry};

use super::client_side::ClientSide;
use super::context::RunContext;
use super::server_side::ServerSide;
use crate::profile::{Credentials, Role};

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The DM client (device).
    Client,
    /// The DM server.
    Server,
}

impl Party {
    /// The other peer.
    pub fn other(self) -> Party {
        match self {
            Party::Client => Party::Server,
            Party::Server => Party::Client,
        }
    }

    /// "client" or "server".
    pub fn name(self) -> &'static str {
        match self {
            Party::Client => "client",
            Party::Server => "server",
        }
    }

    /// The party of a step's `client`/`server` word.
    pub fn parse(s: &str) -> Party {
        if s == "client" {
            Party::Client
        } else {
            Party::Server
        }
    }
}

/// One message as the tester saw it.
#[derive(Debug, Clone)]
pub struct Msg {
    /// Who sent it.
    pub from: Party,
    /// The exact bytes.
    pub bytes: Vec<u8>,
    /// The decoded message (lenient decoding), if it decoded.
    pub msg: Option<SyncMl>,
    /// Unix seconds.
    pub time: u64,
}

impl Msg {
    /// A message from its bytes.
    pub fn new(from: Party, bytes: Vec<u8>, time: u64) -> Msg {
        let msg = dm_protocol::codec::decode(&bytes, dm_protocol::codec::DecodeOptions::LENIENT)
            .ok()
            .map(|d| d.message);
        Msg {
            from,
            bytes,
            msg,
            time,
        }
    }

    /// Its top-level commands (empty when it did not decode).
    pub fn commands(&self) -> &[Command] {
        self.msg.as_ref().map_or(&[], |m| &m.body.commands)
    }

    /// Its MsgID.
    pub fn msg_id(&self) -> &str {
        self.msg.as_ref().map_or("", |m| &m.hdr.msg_id)
    }
}

/// One session as the tester observed it.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Every message, in order.
    pub messages: Vec<Msg>,
    /// How it ended, in the tester's words (`completed` when it ran to its normal end).
    pub end: String,
    /// Whether it ran to its normal end.
    pub completed: bool,
    /// The tester's TLS handshake with the server under test failed (facts §6.4).
    pub tls_failure: Option<TlsFailure>,
}

/// Why the tester could not set up TLS with the server under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFailure {
    /// The server does not speak TLS at its `https://` URL (its answer is no TLS record).
    NotTls(String),
    /// The server's certificate is not trusted by the IXIT's trust anchors, or does not name
    /// the host: a profile matter, not the server's fault.
    CertificateNotAccepted(String),
    /// Anything else: no common protocol version or suite (e.g. a TLS 1.0-only server, which
    /// the harness cannot test), a client certificate demanded, the connection closed.
    Other(String),
}

impl Observed {
    /// The messages `from` sent.
    pub fn from(&self, from: Party) -> impl Iterator<Item = &Msg> {
        self.messages.iter().filter(move |m| m.from == from)
    }
}

/// How a step did not pass. Recorded in the world; the scenario's verdict follows from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// The IUT broke a rule: the requirement, the expectation, what was received.
    Fail(String),
    /// The IUT did not answer in time, or the adapter failed.
    Inconclusive(String),
    /// The scenario cannot apply to this IUT (found at run time, e.g. a feature it lacks).
    NotApplicable(String),
    /// The harness failed (a bug, a broken scenario).
    Error(String),
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Why::Fail(s) | Why::Inconclusive(s) | Why::NotApplicable(s) | Why::Error(s) => {
                f.write_str(s)
            }
        }
    }
}

/// A step's result.
pub type StepResult = Result<(), Why>;

/// What Given steps configure before the peers are set up.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// Client → server authentication kind (`basic`, `md5`, `hmac`); `None`: the IXIT's.
    pub client_auth: Option<String>,
    /// Server → client authentication kind; `None`: the server does not authenticate.
    pub server_auth: Option<String>,
    /// The server knows a different client secret than the client uses.
    pub wrong_client_secret: bool,
    /// The server presents a different secret than the client expects.
    pub wrong_server_secret: bool,
    /// The server expects a nonce the client does not know (forces a challenge).
    pub unknown_nonce: bool,
    /// MaxMsgSize the (tester) server announces.
    pub server_max_msg: Option<u64>,
    /// MaxObjSize the (tester) server announces.
    pub server_max_obj: Option<u64>,
    /// MaxMsgSize the (tester) client announces.
    pub client_max_msg: Option<u64>,
    /// MaxObjSize the (tester) client announces.
    pub client_max_obj: Option<u64>,
    /// The (tester) client speaks WBXML.
    pub wbxml: bool,
    /// Misbehaviours of the tester server (client role).
    pub tester_faults: dm_server::faults::ServerFaults,
    /// Scripted misbehaviour of the tester client (server role).
    pub tester_client: super::client_side::ClientScript,
    /// Scripted misbehaviour of the tester server (client role).
    pub tester_server: super::server_side::ServerScript,
}

/// The world of one scenario.
#[derive(Default)]
pub struct DmWorld {
    /// The run (set by the before hook).
    pub ctx: Option<Arc<RunContext>>,
    /// The scenario's number in the run (unique DevIds and directories).
    pub n: u64,
    /// The scenario's `@id:`.
    pub id: String,
    /// The scenario's role tag: the implementation it judges.
    pub scenario_role: Option<Role>,
    /// Interop runs: the relay between the two implementations.
    pub relay: Option<super::proxy::Relay>,
    /// Its scratch directory.
    pub dir: PathBuf,
    /// When it started.
    pub started: Option<Instant>,
    /// The seed of its randomness.
    pub seed: u64,
    /// Why it did not pass, once a step said so.
    pub why: Option<Why>,
    /// Golden-vector diffs.
    pub diffs: Vec<String>,
    /// Given configuration.
    pub setup: Setup,
    /// The server peer, once set up.
    pub server: Option<ServerSide>,
    /// The client peer, once set up.
    pub client: Option<ClientSide>,
    /// Migration: the new device (a second tester device) and its DevId, swapped in while it
    /// acts.
    pub other_client: Option<(ClientSide, String)>,
    /// The DevId in use.
    pub dev_id: String,
    /// Credentials the client presents.
    pub client_creds: Option<Credentials>,
    /// Credentials the server presents.
    pub server_creds: Option<Credentials>,
    /// Sessions observed, in order.
    pub sessions: Vec<Observed>,
    /// Jobs queued, in order.
    pub jobs: Vec<u64>,
    /// Package #0 datagrams the tester received.
    pub pkg0: Vec<Vec<u8>>,
    /// The schedules the scenario had the server create, by name (docs/scheduling.md).
    pub schedules: std::collections::BTreeMap<String, dm_server::schedules::ScheduleDefinition>,
    /// How the last action the client may rightly refuse ended (`the client tries to start a
    /// session`), for the reason of a later check.
    pub attempt: Option<String>,
    /// When the tester switched its certificate: how many TLS handshakes and sessions it had
    /// seen by then (docs/tls.md).
    pub tls_mark: Option<(usize, usize)>,
}

impl std::fmt::Debug for DmWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmWorld")
            .field("id", &self.id)
            .field("dev_id", &self.dev_id)
            .field("sessions", &self.sessions.len())
            .field("why", &self.why)
            .finish_non_exhaustive()
    }
}

impl cucumber::World for DmWorld {
    type Error = std::convert::Infallible;

    async fn new() -> Result<Self, Self::Error> {
        Ok(DmWorld::default())
    }
}

impl DmWorld {
    /// The run context (the before hook always sets it).
    pub fn ctx(&self) -> Result<Arc<RunContext>, Why> {
        self.ctx
            .clone()
            .ok_or_else(|| Why::Error("the scenario has no run context".into()))
    }

    /// The role the scenario judges (its role tag).
    pub fn role(&self) -> Result<Role, Why> {
        self.scenario_role
            .ok_or_else(|| Why::Error("the scenario has no role tag".into()))
    }

    /// The peer the scenario does not judge: the tester, or in an interop run the other
    /// implementation.
    pub fn other_party(&self) -> Party {
        match self.scenario_role {
            Some(Role::Client) => Party::Server,
            _ => Party::Client,
        }
    }

    /// The last session observed.
    pub fn last(&self) -> Result<&Observed, Why> {
        self.sessions
            .last()
            .ok_or_else(|| Why::Error("no session was observed yet: add a When step".into()))
    }

    /// The last job queued.
    pub fn last_job(&self) -> Result<u64, Why> {
        self.jobs
            .last()
            .copied()
            .ok_or_else(|| Why::Error("no job was queued: add a Given step".into()))
    }

    /// The exchange for the report, seen from the tester (`sent` = the tester sent it).
    pub fn transcript(&self) -> Vec<TranscriptEntry> {
        let tester = self.other_party();
        self.sessions
            .iter()
            .flat_map(|s| &s.messages)
            .map(|m| {
                let dir = if m.from == tester {
                    Direction::Sent
                } else {
                    Direction::Received
                };
                TranscriptEntry::of_bytes(dir, m.time, &m.bytes, Vec::new())
            })
            .collect()
    }
}
