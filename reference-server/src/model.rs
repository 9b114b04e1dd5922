//! The records the server keeps and the admin API exchanges (JSON via serde). Every part of
//! the server speaks these types: the session engine reads a [`Device`] with its
//! [`DeviceState`] and the device's queued [`Job`]s and reports [`JobUpdate`]s, received
//! [`AlertRecord`]s and a new [`DeviceState`]; the store persists them; the admin API shows
//! them. Field names are the JSON names (snake_case), documented in `docs/admin-api.md`.

use std::collections::BTreeMap;

use dm_protocol::model::Command;
use serde::{Deserialize, Serialize};

/// A credential type (facts §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    /// `syncml:auth-basic`.
    Basic,
    /// `syncml:auth-md5`.
    Md5,
    /// `syncml:auth-MAC`: HMAC per message in the `x-syncml-hmac` header (facts §6.3).
    Hmac,
}

/// Credentials of one direction: the type, the user name and the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secret {
    /// The credential type.
    #[serde(rename = "type")]
    pub kind: AuthKind,
    /// The user name (`LocName` for md5 and HMAC; the basic user).
    pub name: String,
    /// The password.
    pub secret: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// How a package #0 reaches the device (facts §7.3; TCP and HTTP framings are the
/// project-defined ones of docs/reference-client.md "Notifications").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyTransport {
    /// One UDP datagram.
    Udp,
    /// A TCP connection carrying a 2-byte big-endian length and the package.
    Tcp,
    /// An HTTP `POST` of `application/vnd.syncml.notification`.
    Http,
}

/// One notification address of a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyAddress {
    /// The transport.
    pub transport: NotifyTransport,
    /// `host:port` for UDP and TCP, a URL for HTTP.
    pub address: String,
}

/// A registered device: who it is and how the two sides authenticate (facts §5.4, §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// The device's `DevId` (`Source/LocURI` of its messages, facts §1.3), e.g.
    /// `IMEI:493005100592800`. The registry key.
    pub dev_id: String,
    /// The ServerID this server has on the device (its DMAcc account, facts §5.4); the
    /// package #0 digest is keyed by it (facts §7.2).
    pub server_id: String,
    /// What the device must present (client → server, its CLCRED); `None`: no credentials
    /// are required.
    #[serde(default)]
    pub client_auth: Option<Secret>,
    /// What the server presents to the device (server → client, the device's SRVCRED);
    /// also the password of package #0 digests. `None`: the server sends no credentials.
    #[serde(default)]
    pub server_auth: Option<Secret>,
    /// Where package #0 notifications go.
    #[serde(default)]
    pub notify: Vec<NotifyAddress>,
}

/// What changes about a device from session to session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceState {
    /// The nonce the server issued for the device's next md5/HMAC credentials (facts §6.2),
    /// raw bytes; empty until one was issued.
    #[serde(default, with = "b64_bytes")]
    pub client_nonce: Vec<u8>,
    /// The nonce the device issued for the server's next credentials and package #0 digest
    /// (facts §6.2, §7.2), raw bytes.
    #[serde(default, with = "b64_bytes")]
    pub server_nonce: Vec<u8>,
    /// Every nonce the server issued to the device and saw used: a reused one is refused
    /// (replay protection).
    #[serde(default)]
    pub used_client_nonces: Vec<String>,
    /// The last DevInfo the device reported (facts §5.2), by node name (`DevId`, `Man`, …).
    #[serde(default)]
    pub devinfo: BTreeMap<String, String>,
}

/// A job: management commands for one device, sent together in its next session (in the
/// order given, each with a fresh CmdID), done when every status and result has arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// The commands, in the JSON form of `dm_protocol::model::Command` (the form of the
    /// golden vectors and `dmconf codec decode --format json`). CmdIDs are replaced.
    pub commands: Vec<Command>,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for the device's next session.
    Queued,
    /// Sent; statuses or results still missing.
    Sent,
    /// An Exec was accepted (202); waiting for the Generic Alert with its Correlator
    /// (facts §3.5).
    Waiting,
    /// Every status (and every asynchronous completion) arrived.
    Done,
    /// The session ended before the job completed; it is sent again in the next one.
    Interrupted,
    /// Deleted by the admin before it was sent.
    Cancelled,
}

/// A Status the device sent for one of the job's commands (facts §1.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatus {
    /// The command's position in the job, from 1; `2.1` is the first command inside the
    /// second (Atomic or Sequence).
    pub command: String,
    /// The command name (`Get`, `Replace`, …).
    pub cmd: String,
    /// The status code.
    pub code: u16,
    /// `TargetRef`s.
    #[serde(default)]
    pub target_refs: Vec<String>,
    /// `SourceRef`s.
    #[serde(default)]
    pub source_refs: Vec<String>,
    /// Status items (e.g. UI alert answers, facts §3.3), as text.
    #[serde(default)]
    pub items: Vec<String>,
    /// Set when the server gave this status itself because it did not send the command
    /// (e.g. 413: an object larger than the device's MaxObjSize, facts §8); absent for a
    /// status the device sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One item of a Results (facts §1.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobResult {
    /// The Get's position in the job (see [`JobStatus::command`]).
    pub command: String,
    /// `Source/LocURI` of the item.
    pub source: Option<String>,
    /// `Meta/Format`.
    pub format: Option<String>,
    /// `Meta/Type`.
    pub type_: Option<String>,
    /// The data as text (XML for embedded markup such as TNDS; base64 for binary, marked
    /// by `format` = `b64`).
    pub data: String,
}

/// A job as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Unique id.
    pub id: u64,
    /// The device.
    pub dev_id: String,
    /// What to send.
    pub spec: JobSpec,
    /// Where it is.
    pub state: JobState,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds of the last change.
    pub updated_at: u64,
    /// The SessionID it was last sent in.
    pub session_id: Option<String>,
    /// Statuses received, in arrival order.
    pub statuses: Vec<JobStatus>,
    /// Results received.
    pub results: Vec<JobResult>,
    /// Generic Alerts that completed its asynchronous Execs (facts §3.5).
    pub completions: Vec<AlertRecord>,
}

/// What a session learned about a job (the engine's output, applied by the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobUpdate {
    /// The job went out in this session.
    Sent {
        /// The job.
        job: u64,
        /// The SessionID.
        session_id: String,
    },
    /// A Status arrived.
    Status {
        /// The job.
        job: u64,
        /// The status.
        status: JobStatus,
    },
    /// A Results item arrived.
    Result {
        /// The job.
        job: u64,
        /// The item.
        result: JobResult,
    },
    /// A Generic Alert carrying a Correlator of the job arrived.
    Completion {
        /// The job.
        job: u64,
        /// The alert.
        alert: AlertRecord,
    },
    /// The job's new state.
    State {
        /// The job.
        job: u64,
        /// The state.
        state: JobState,
    },
}

/// One item of a received alert.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertItem {
    /// `Source/LocURI`.
    pub source: Option<String>,
    /// `Target/LocURI`.
    pub target: Option<String>,
    /// `Meta/Type`.
    pub type_: Option<String>,
    /// `Meta/Format`.
    pub format: Option<String>,
    /// `Meta/Mark`.
    pub mark: Option<String>,
    /// `Data` as text.
    pub data: Option<String>,
}

/// An alert a device sent (1224, 1226, and any other the admin may want to see).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// The device.
    pub dev_id: String,
    /// The session.
    pub session_id: String,
    /// Unix seconds.
    pub at: u64,
    /// The alert code.
    pub code: u16,
    /// `Correlator` (facts §3.5).
    pub correlator: Option<String>,
    /// The items.
    pub items: Vec<AlertItem>,
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Device → server.
    Received,
    /// Server → device.
    Sent,
}

/// One message of a session transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptEntry {
    /// Which way.
    pub direction: Direction,
    /// Unix seconds.
    pub time: u64,
    /// `xml` or `wbxml`.
    pub encoding: String,
    /// The exact bytes, base64.
    pub bytes_b64: String,
    /// The message as pretty XML, when it decoded.
    pub xml: Option<String>,
    /// Violations and leniencies found in it, and protocol deviations of the device.
    pub violations: Vec<String>,
}

/// A session as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The device.
    pub dev_id: String,
    /// The SessionID.
    pub session_id: String,
    /// Unix seconds of the first message.
    pub started_at: u64,
    /// Unix seconds of the end, if it ended.
    pub ended_at: Option<u64>,
    /// How it ended (`completed`, `aborted by the device`, `timed out`, …), if it ended.
    pub end: Option<String>,
    /// Every message, in order.
    pub transcript: Vec<TranscriptEntry>,
}

/// A session as listed: without its transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// The device.
    pub dev_id: String,
    /// The SessionID.
    pub session_id: String,
    /// Unix seconds of the first message.
    pub started_at: u64,
    /// Unix seconds of the end, if it ended.
    pub ended_at: Option<u64>,
    /// How it ended, if it ended.
    pub end: Option<String>,
    /// How many messages the transcript holds.
    pub messages: u64,
}

/// The user-interaction mode a package #0 asks for (facts §7.1, 2 bits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UiMode {
    /// 0: not specified.
    #[default]
    NotSpecified,
    /// 1: background.
    Background,
    /// 2: informative.
    Informative,
    /// 3: user interaction.
    UserInteraction,
}

impl From<UiMode> for dm_protocol::pkg0::UiMode {
    fn from(mode: UiMode) -> Self {
        match mode {
            UiMode::NotSpecified => dm_protocol::pkg0::UiMode::NotSpecified,
            UiMode::Background => dm_protocol::pkg0::UiMode::Background,
            UiMode::Informative => dm_protocol::pkg0::UiMode::Informative,
            UiMode::UserInteraction => dm_protocol::pkg0::UiMode::UserInteraction,
        }
    }
}

/// An admin's request to send a package #0 to a device (facts §7).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyRequest {
    /// Which of the device's notification addresses to use: the first of this transport;
    /// `None`: the device's first address.
    #[serde(default)]
    pub transport: Option<NotifyTransport>,
    /// The ui-mode field (facts §7.1).
    #[serde(default)]
    pub ui_mode: UiMode,
    /// The session-id field, 1..=0xFFFF (facts §7.1); `None`: the sender picks one.
    #[serde(default)]
    pub session_id: Option<u16>,
}

/// What a sent package #0 was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyOutcome {
    /// The transport used.
    pub transport: NotifyTransport,
    /// The address it went to.
    pub address: String,
    /// The session-id field sent (facts §7.1).
    pub session_id: u16,
    /// The `SyncHdr/SessionID` the device will use for it: uppercase hex, no leading zeros
    /// (facts §7.3).
    pub sync_hdr_session_id: String,
}

impl NotifyOutcome {
    /// The outcome of a package #0 with `session_id` sent to `address`; the
    /// `SyncHdr/SessionID` form is derived (facts §7.3: uppercase hex, no leading zeros).
    pub fn new(transport: NotifyTransport, address: impl Into<String>, session_id: u16) -> Self {
        NotifyOutcome {
            transport,
            address: address.into(),
            session_id,
            sync_hdr_session_id: format!("{session_id:X}"),
        }
    }
}

/// serde for raw bytes as base64 text.
mod b64_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&dm_protocol::auth::b64(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        dm_protocol::auth::b64_decode(&text).map_err(serde::de::Error::custom)
    }
}
