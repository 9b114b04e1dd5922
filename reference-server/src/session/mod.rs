//! The server session engine: sans-IO, one device message in, our reply out (facts §2).
//!
//! One [`ServerSession`] per (DevId, SessionID). The transport decodes a device message and
//! calls [`ServerSession::handle`] with its exact bytes and `x-syncml-hmac` header; the
//! [`Output`] carries the reply (as a message and as the bytes to send, with their HTTP
//! headers), what happened to the jobs, the alerts received, the device state to persist, and
//! whether the session is over. No sockets, no threads: time comes from an injected
//! [`Clock`], nonces from a seeded [`NonceGenerator`], so sessions are replayable.
//!
//! What the engine does, in order, for each device message:
//! 1. retransmission and replay check (a MsgID already processed: the byte-identical
//!    previous message gets our previous reply again, anything else is refused; see
//!    [`ServerSession::handle`]), header checks (SessionID, DevId, our MaxMsgSize; facts §1.3);
//! 2. authentication of the device (`auth`, facts §6.2, §6.3); on 401/407 only Statuses
//!    with a Chal go back (facts §6.2);
//! 3. the device's Statuses and Results, attributed to job commands (`jobs`), chunked
//!    Results reassembled (facts §8);
//! 4. its other commands: Alerts (1200/1201, 1222, 1223, 1224, 1225, 1226), the DevInfo
//!    Replace (facts §2.1, §5.2); anything else is refused with 405;
//! 5. the reply: Status for the SyncHdr first, one per device command (facts §1.4); then,
//!    when the device's package is complete, the next job commands, cut to the device's
//!    MaxMsgSize (`outbox`, facts §2.4, §8). A final message with no management command
//!    ends the session (facts §2.2).

mod auth;
mod jobs;
mod outbox;
mod tester;

use std::collections::HashSet;
use std::sync::Arc;

use dm_protocol::auth::NonceGenerator;
use dm_protocol::codec::{self, Encoding};
use dm_protocol::codes::{AlertCode, StatusCode};
use dm_protocol::model::{
    Alert, Chal, Command, Data, Item, Locator, Meta, Status, SyncBody, SyncHdr, SyncMl,
};
pub use dm_tree::{Clock, ManualClock, SystemClock};

use crate::faults::ServerFaults;
use crate::model::{AlertItem, AlertRecord, AuthKind, Device, DeviceState, Job, JobUpdate, Secret};
use auth::{Check, Verdict};
use jobs::JobBook;
use outbox::Outbox;
pub use tester::{NoTester, ServerTester};

/// The name of the HMAC transport header (facts §6.3).
pub const HMAC_HEADER: &str = "x-syncml-hmac";

/// Authentication failures (device credentials refused, or ours refused by the device) after
/// which the session ends: the device retries once after a challenge (facts §6.2).
pub const MAX_AUTH_FAILURES: u32 = 2;

/// The largest object (Results item, reassembled large object) accepted from a device when
/// we announce no `MaxObjSize`: 16 MiB. Bigger ones get 413 (facts §3.1, §8) and are
/// dropped, so reassembly memory is bounded.
pub const MAX_INBOUND_OBJECT: u64 = 16 * 1024 * 1024;

/// How many used nonces [`DeviceState::used_client_nonces`] keeps (the newest).
pub const USED_NONCES_KEPT: usize = 64;

/// Everything a session needs to start.
#[derive(Debug, Clone)]
pub struct SessionSetup {
    /// The device, with the credentials of both directions.
    pub device: Device,
    /// Its state from the last session (nonces, DevInfo).
    pub state: DeviceState,
    /// Our URL: `Source/LocURI` of our messages (facts §1.3).
    pub server_uri: String,
    /// The device's jobs: Queued or Interrupted ones are sent (in this order), Waiting ones
    /// wait for their Generic Alert, others are ignored.
    pub jobs: Vec<Job>,
    /// Seed of the nonces we issue (facts §6.2).
    pub seed: u64,
    /// Our `MaxMsgSize`, announced in our SyncHdr Meta (facts §1.3).
    pub max_msg_size: Option<u64>,
    /// Our `MaxObjSize`, announced in our SyncHdr Meta (facts §8).
    pub max_obj_size: Option<u64>,
    /// Fault-injection switches.
    pub faults: ServerFaults,
    /// Seconds without a device message after which [`ServerSession::expired`] is true.
    pub idle_timeout_secs: u64,
}

/// Why a [`SessionSetup`] cannot start a session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// A job belongs to another device.
    #[error("job {job} is for device {job_dev:?}, not {dev:?}: pass only the device's own jobs")]
    ForeignJob {
        /// The job.
        job: u64,
        /// Its device.
        job_dev: String,
        /// The session's device.
        dev: String,
    },
    /// A job to send has no command.
    #[error("job {job} has no commands: give it at least one command or cancel it")]
    EmptyJob {
        /// The job.
        job: u64,
    },
    /// The server URI is empty.
    #[error("the server URI is empty: set SessionSetup::server_uri to the URL devices use")]
    EmptyServerUri,
    /// The device id is empty.
    #[error("the device has an empty dev_id")]
    EmptyDevId,
}

/// A device message as received: exact bytes and `x-syncml-hmac` header (needed for HMAC,
/// facts §6.3) with the decoded message.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// The HTTP body, exactly as received (its first byte also tells XML from WBXML).
    pub bytes: &'a [u8],
    /// The `x-syncml-hmac` header value, if any.
    pub hmac_header: Option<&'a str>,
    /// The decoded message.
    pub msg: &'a SyncMl,
}

/// What the engine made of one device message.
#[derive(Debug, Clone)]
pub struct Output {
    /// Our reply; `None`: send nothing (the session was already over).
    pub reply: Option<SyncMl>,
    /// The exact bytes to send (the reply encoded like the device's message, or what the
    /// tester put instead); `None` when the session was already over, or on an
    /// [`Output::internal_error`].
    pub bytes: Option<Vec<u8>>,
    /// The encoding of `bytes` (for the Content-Type).
    pub encoding: Encoding,
    /// HTTP headers to send with `bytes` (`x-syncml-hmac` when we authenticate with HMAC).
    pub headers: Vec<(String, String)>,
    /// What happened to the jobs, in order.
    pub jobs: Vec<JobUpdate>,
    /// Client alerts received (1224, 1226).
    pub alerts: Vec<AlertRecord>,
    /// The device state to persist (nonces, DevInfo).
    pub state: DeviceState,
    /// Why the session is over, when it is.
    pub ended: Option<String>,
    /// Protocol deviations of the device, with the facts section.
    pub deviations: Vec<String>,
    /// Rules our own reply had to break (e.g. a command over the device's MaxMsgSize).
    pub own_deviations: Vec<String>,
    /// The engine failed on its own side (e.g. our reply does not encode): `bytes` is
    /// `None`, `reply` is what could not be encoded, the session has ended with this reason,
    /// and the transport should answer HTTP 500, not a SyncML message.
    pub internal_error: Option<String>,
}

/// Accumulates what one `handle` learns.
#[derive(Debug, Default)]
struct Cx {
    jobs: Vec<JobUpdate>,
    alerts: Vec<AlertRecord>,
    deviations: Vec<String>,
    own: Vec<String>,
}

impl Cx {
    fn dev(&mut self, msg_id: &str, what: impl std::fmt::Display) {
        self.deviations
            .push(format!("device message {msg_id}: {what}"));
    }
}

/// A large object the device is sending in chunked Results (facts §8).
#[derive(Debug, Clone)]
struct Inbound {
    msg_ref: String,
    cmd_ref: String,
    meta: Option<Meta>,
    item: Item,
    declared: Option<u64>,
    data: Vec<u8>,
    binary: bool,
}

/// Our reply to the previous device message, kept to answer a retransmission identically.
#[derive(Debug, Clone)]
struct CachedReply {
    reply: SyncMl,
    bytes: Vec<u8>,
    headers: Vec<(String, String)>,
    encoding: Encoding,
}

/// Acts on a device's own requests, carried as Generic Alerts of project-defined types (e.g.
/// a SCOMO install the device asks for, SCOMO-OSR-Device-XX; see `crate::packages`). Called
/// only for alerts of an authenticated device; a returned job (already stored, queued) is
/// sent in this same session.
pub trait DeviceRequests: Send {
    /// The job answering `alert`, if it is a request this server serves. `devinfo` is the
    /// DevInfo the device reported (facts §5.2), for targeting.
    fn on_generic_alert(
        &mut self,
        alert: &AlertRecord,
        devinfo: &std::collections::BTreeMap<String, String>,
    ) -> Option<Job>;
}

/// One DM session on the server side. See the module documentation.
pub struct ServerSession {
    setup: SessionSetup,
    clock: Arc<dyn Clock>,
    nonces: NonceGenerator,
    tester: Box<dyn ServerTester>,
    requests: Option<Box<dyn DeviceRequests>>,
    session_id: Option<String>,
    peer_uri: String,
    next_msg_id: u64,
    last_sent: Option<String>,
    /// Our MsgIDs of the package the device is answering: since the device's last complete
    /// package, every message we sent (its Statuses and Results may name any of them when
    /// it splits its package, facts §1.4, §2.4).
    package_msgs: Vec<String>,
    seen_msg_ids: HashSet<String>,
    /// The previous device message (bytes, `x-syncml-hmac`), to recognise a retransmission.
    last_received: Option<(Vec<u8>, Option<String>)>,
    /// Our reply to it, sent again on a retransmission.
    last_reply: Option<CachedReply>,
    device_authenticated: bool,
    auth_failures: u32,
    server_authenticated: bool,
    server_refusals: u32,
    package1_seen: bool,
    device_max_msg_size: Option<u64>,
    device_max_obj_size: Option<u64>,
    book: JobBook,
    outbox: Outbox,
    sending_package: bool,
    awaiting_chunk: Option<(String, String)>,
    inbound: Option<Inbound>,
    /// (our MsgID, CmdID) of the Get whose chunked object was refused with 413: its later
    /// chunks are dropped.
    refused_inbound: Option<(String, String)>,
    last_activity: u64,
    ended: Option<String>,
    encoding: Encoding,
}

impl std::fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSession")
            .field("dev_id", &self.setup.device.dev_id)
            .field("session_id", &self.session_id)
            .field("next_msg_id", &self.next_msg_id)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// The largest item data in a command, nested commands included (bytes as carried).
fn largest_object(c: &Command) -> u64 {
    let items = |items: &[Item]| {
        items
            .iter()
            .filter_map(|i| i.data.as_ref())
            .map(|d| dm_protocol::packing::data_len(d) as u64)
            .max()
            .unwrap_or(0)
    };
    match c {
        Command::Add(x) | Command::Replace(x) | Command::Copy(x) => items(&x.items),
        Command::Exec(e) => items(&e.items),
        Command::Alert(a) => items(&a.items),
        Command::Atomic(x) | Command::Sequence(x) => {
            x.commands.iter().map(largest_object).max().unwrap_or(0)
        }
        _ => 0,
    }
}

fn status(msg_ref: &str, cmd_ref: &str, cmd: &str, code: StatusCode) -> Status {
    Status {
        cmd_id: String::new(),
        msg_ref: msg_ref.to_owned(),
        cmd_ref: cmd_ref.to_owned(),
        cmd: cmd.to_owned(),
        target_refs: Vec::new(),
        source_refs: Vec::new(),
        cred: None,
        chal: None,
        items: Vec::new(),
        code,
    }
}

fn alert(code: AlertCode) -> Command {
    Command::Alert(Alert {
        code: Some(code),
        ..Alert::default()
    })
}

fn loc(l: Option<&Locator>) -> Option<String> {
    l.map(|l| l.loc_uri.clone())
}

fn data_bytes(d: Option<&Data>) -> (Vec<u8>, bool) {
    match d {
        None => (Vec::new(), false),
        Some(Data::Text(t)) => (t.as_bytes().to_vec(), false),
        Some(Data::Binary(b)) => (b.clone(), true),
        Some(Data::Markup(m)) => (m.to_xml().into_bytes(), false),
    }
}

impl ServerSession {
    /// A session waiting for the device's package 1.
    pub fn new(setup: SessionSetup, clock: Arc<dyn Clock>) -> Result<Self, SetupError> {
        if setup.server_uri.is_empty() {
            return Err(SetupError::EmptyServerUri);
        }
        if setup.device.dev_id.is_empty() {
            return Err(SetupError::EmptyDevId);
        }
        for j in &setup.jobs {
            if j.dev_id != setup.device.dev_id {
                return Err(SetupError::ForeignJob {
                    job: j.id,
                    job_dev: j.dev_id.clone(),
                    dev: setup.device.dev_id.clone(),
                });
            }
            if j.spec.commands.is_empty() {
                return Err(SetupError::EmptyJob { job: j.id });
            }
        }
        let now = clock.now_unix();
        Ok(ServerSession {
            nonces: NonceGenerator::from_seed(setup.seed),
            book: JobBook::new(setup.jobs.clone()),
            peer_uri: setup.device.dev_id.clone(),
            device_authenticated: setup.device.client_auth.is_none(),
            setup,
            clock,
            tester: Box::new(NoTester),
            requests: None,
            session_id: None,
            next_msg_id: 1,
            last_sent: None,
            package_msgs: Vec::new(),
            seen_msg_ids: HashSet::new(),
            last_received: None,
            last_reply: None,
            auth_failures: 0,
            server_authenticated: false,
            server_refusals: 0,
            package1_seen: false,
            device_max_msg_size: None,
            device_max_obj_size: None,
            outbox: Outbox::default(),
            sending_package: false,
            awaiting_chunk: None,
            inbound: None,
            refused_inbound: None,
            last_activity: now,
            ended: None,
            encoding: Encoding::Xml,
        })
    }

    /// Serve the device's own requests with `requests` (see [`DeviceRequests`]).
    pub fn set_requests(&mut self, requests: Box<dyn DeviceRequests>) {
        self.requests = Some(requests);
    }

    /// Script the server side with `tester` (see [`ServerTester`]).
    pub fn set_tester(&mut self, tester: Box<dyn ServerTester>) {
        self.tester = tester;
    }

    /// The SessionID, once the first message arrived.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// The device state as it stands (nonces, DevInfo).
    pub fn state(&self) -> &DeviceState {
        &self.setup.state
    }

    /// Why the session ended, if it did.
    pub fn ended(&self) -> Option<&str> {
        self.ended.as_deref()
    }

    /// Whether no device message came for `idle_timeout_secs` before `now` (unix seconds)
    /// while the session was open. The protocol defines no timeout (facts §2.1); this is the
    /// server's own limit. See [`ServerSession::time_out`].
    pub fn expired(&self, now: u64) -> bool {
        self.ended.is_none()
            && now.saturating_sub(self.last_activity) >= self.setup.idle_timeout_secs
    }

    /// End the session because it expired: unfinished jobs become Interrupted; nothing is
    /// sent (facts §2.3: unsignalled ends must be tolerated).
    pub fn time_out(&mut self) -> Output {
        let mut cx = Cx::default();
        if self.ended.is_none() {
            self.end(&mut cx, "timed out");
        }
        // A retry after the timeout gets nothing: the session is over for both sides.
        self.last_reply = None;
        self.output(cx, None, None, Vec::new())
    }

    /// HTTP headers for our encoded message `encoded`: `x-syncml-hmac` over its exact bytes
    /// with the device's latest nonce when we authenticate with HMAC (facts §6.3).
    pub fn outgoing_headers(&self, encoded: &[u8]) -> Vec<(String, String)> {
        match &self.setup.device.server_auth {
            Some(s) if s.kind == AuthKind::Hmac && !self.setup.faults.no_server_credentials => {
                vec![(
                    HMAC_HEADER.to_owned(),
                    auth::hmac_value(s, &self.setup.state.server_nonce, encoded),
                )]
            }
            _ => Vec::new(),
        }
    }

    fn end(&mut self, cx: &mut Cx, why: &str) {
        self.ended = Some(why.to_owned());
        self.outbox.clear();
        self.book.interrupt_unfinished(&mut cx.jobs);
    }

    fn output(
        &mut self,
        cx: Cx,
        reply: Option<SyncMl>,
        bytes: Option<Vec<u8>>,
        headers: Vec<(String, String)>,
    ) -> Output {
        Output {
            reply,
            bytes,
            encoding: self.encoding,
            headers,
            jobs: cx.jobs,
            alerts: cx.alerts,
            state: self.setup.state.clone(),
            ended: self.ended.clone(),
            deviations: cx.deviations,
            own_deviations: cx.own,
            internal_error: None,
        }
    }

    fn fresh_nonce(&mut self) -> Vec<u8> {
        if self.setup.faults.stale_nonce && !self.setup.state.client_nonce.is_empty() {
            return self.setup.state.client_nonce.clone();
        }
        self.nonces.next_nonce().to_vec()
    }

    /// Issue a new nonce for the device (facts §6.2) and note the one it used.
    fn rotate_client_nonce(&mut self, used: bool) -> Vec<u8> {
        let fresh = self.fresh_nonce();
        if used && !self.setup.faults.stale_nonce {
            let old = dm_protocol::auth::b64(&self.setup.state.client_nonce);
            let list = &mut self.setup.state.used_client_nonces;
            if !list.contains(&old) {
                list.push(old);
            }
            let excess = list.len().saturating_sub(USED_NONCES_KEPT);
            list.drain(..excess);
        }
        self.setup.state.client_nonce.clone_from(&fresh);
        fresh
    }

    /// The SyncHdr verdict and Chal for the device's credentials (facts §6.2, §6.3).
    fn authenticate(&mut self, rx: &Received<'_>) -> (Verdict, Option<Chal>) {
        let Some(secret) = self.setup.device.client_auth.clone() else {
            return (Verdict::Accepted(StatusCode::Ok), None);
        };
        let hmac = secret.kind == AuthKind::Hmac;
        if self.device_authenticated && !hmac {
            return (Verdict::Accepted(StatusCode::Ok), None);
        }
        let mut verdict = Check {
            secret: &secret,
            nonce: &self.setup.state.client_nonce,
            used: &self.setup.state.used_client_nonces,
            msg: rx.msg,
            bytes: rx.bytes,
            hmac_header: rx.hmac_header,
        }
        .verdict();
        if self.setup.faults.accept_bad_credentials {
            if let Verdict::Refused(..) = verdict {
                verdict = Verdict::Accepted(if hmac {
                    StatusCode::Ok
                } else {
                    StatusCode::AuthenticationAccepted
                });
            }
        }
        let accepted = matches!(verdict, Verdict::Accepted(_));
        // facts §6.2: md5 and HMAC challenges carry a fresh NextNonce; after 212 (md5) it is
        // for the next session, HMAC gets one with every message; basic has none.
        let chal = match secret.kind {
            AuthKind::Basic => (!accepted).then(|| auth::chal(AuthKind::Basic, None)),
            kind => {
                let n = self.rotate_client_nonce(accepted);
                Some(auth::chal(kind, Some(&n)))
            }
        };
        if accepted && !hmac {
            self.device_authenticated = true;
        }
        (verdict, chal)
    }

    /// Our previous reply again when `rx` is byte-identical (same HMAC header too) to the
    /// previous device message and repeats its MsgID: a retransmission (see
    /// [`ServerSession::handle`]).
    fn retransmission(&mut self, rx: &Received<'_>) -> Option<Output> {
        let (bytes, hmac) = self.last_received.as_ref()?;
        let same = bytes.as_slice() == rx.bytes
            && hmac.as_deref() == rx.hmac_header
            && self.seen_msg_ids.contains(&rx.msg.hdr.msg_id);
        if !same {
            return None;
        }
        let cached = self.last_reply.clone()?;
        let mut cx = Cx::default();
        cx.dev(
            &rx.msg.hdr.msg_id,
            "byte-identical retransmission of the previous message (MsgID already processed, \
             facts §1.3); our previous reply sent again, nothing processed",
        );
        if self.ended.is_none() {
            self.last_activity = self.clock.now_unix();
        }
        let mut out = self.output(cx, Some(cached.reply), Some(cached.bytes), cached.headers);
        out.encoding = cached.encoding;
        Some(out)
    }

    fn check_header(&mut self, rx: &Received<'_>, cx: &mut Cx) {
        let h = &rx.msg.hdr;
        match &self.session_id {
            None => self.session_id = Some(h.session_id.clone()),
            Some(s) if *s != h.session_id => cx.dev(
                &h.msg_id,
                format!(
                    "SessionID {:?} differs from the session's {s:?} (facts §1.3)",
                    h.session_id
                ),
            ),
            Some(_) => {}
        }
        if h.source.loc_uri != self.setup.device.dev_id {
            cx.dev(
                &h.msg_id,
                format!(
                    "Source/LocURI {:?} is not the DevId {:?} (facts §1.3)",
                    h.source.loc_uri, self.setup.device.dev_id
                ),
            );
        }
        if !h.source.loc_uri.is_empty() {
            self.peer_uri.clone_from(&h.source.loc_uri);
        }
        if h.ver_dtd != "1.2" || h.ver_proto != "DM/1.2" {
            cx.dev(
                &h.msg_id,
                format!(
                    "VerDTD {:?} / VerProto {:?}, expected 1.2 / DM/1.2 (facts §1.1)",
                    h.ver_dtd, h.ver_proto
                ),
            );
        }
        if let Some(max) = self.setup.max_msg_size {
            let len = rx.bytes.len() as u64;
            if len > max {
                cx.dev(
                    &h.msg_id,
                    format!("{len} bytes, over our MaxMsgSize {max} (facts §1.3); processed"),
                );
            }
        }
        if let Some(m) = &h.meta {
            self.device_max_msg_size = m.max_msg_size.or(self.device_max_msg_size);
            self.device_max_obj_size = m.max_obj_size.or(self.device_max_obj_size);
        }
    }

    /// Process one device message and say what to send (see the module documentation).
    ///
    /// A message whose MsgID was already processed in this session (facts §1.3: MsgID
    /// identifies a message) is either
    /// - a retransmission: byte-identical (with the same `x-syncml-hmac` header) to the
    ///   previous device message, as after an HTTP retry when our response was lost. It gets
    ///   our previous reply again, byte for byte; nothing is processed, no state changes
    ///   (only the idle clock restarts) and a deviation is noted. This works after the
    ///   session ended too, since the lost response may have been the last one;
    /// - or a replay: any other content. Nothing is executed. When the device must
    ///   authenticate this message (not yet authenticated, or HMAC) and its credentials are
    ///   wrong, it is an ordinary authentication failure (401 with Chal, facts §6.2, counted
    ///   toward [`MAX_AUTH_FAILURES`]); otherwise the SyncHdr and every command get 400 and
    ///   nothing is counted (a Chal still goes with it when the auth kind issues a nonce per
    ///   message).
    pub fn handle(&mut self, rx: &Received<'_>) -> Output {
        let mut cx = Cx::default();
        let msg = rx.msg;
        let their = msg.hdr.msg_id.clone();
        self.tester.on_received(rx.bytes, msg);
        if let Some(out) = self.retransmission(rx) {
            return out;
        }
        if self.ended.is_some() {
            cx.dev(&their, "message after the session ended; nothing sent");
            return self.output(cx, None, None, Vec::new());
        }
        self.last_activity = self.clock.now_unix();
        self.last_received = Some((rx.bytes.to_vec(), rx.hmac_header.map(str::to_owned)));
        self.last_reply = None;
        if !rx.bytes.is_empty() {
            self.encoding = Encoding::detect(rx.bytes);
        }
        self.check_header(rx, &mut cx);
        let repeated = !self.seen_msg_ids.insert(their.clone());
        let (mut verdict, chal) = self.authenticate(rx);
        let counted = matches!(verdict, Verdict::Refused(..));
        if repeated {
            let why = "MsgID already processed in this session with other content (replay \
                       refused; facts §1.3: MsgID identifies a message)";
            match &mut verdict {
                Verdict::Refused(_, w) => *w = format!("{why}; {w}"),
                v @ Verdict::Accepted(_) => {
                    *v = Verdict::Refused(StatusCode::BadRequest, why.to_owned());
                }
            }
        }
        let msg_ref = if self.setup.faults.ignore_msg_ref {
            format!("{their}9")
        } else {
            their.clone()
        };
        let hdr_code = match &verdict {
            Verdict::Accepted(c) | Verdict::Refused(c, _) => *c,
        };
        let mut hdr_st = status(&msg_ref, "0", "SyncHdr", hdr_code);
        hdr_st.target_refs = vec![msg.hdr.target.loc_uri.clone()];
        hdr_st.source_refs = vec![msg.hdr.source.loc_uri.clone()];
        hdr_st.chal = chal;
        let mut leading = vec![Command::Status(hdr_st)];

        if let Verdict::Refused(code, why) = verdict {
            // facts §6.2: only Status, one per received command, nothing executed.
            cx.dev(&their, &why);
            for c in &msg.body.commands {
                if matches!(c, Command::Status(_) | Command::Results(_)) {
                    continue;
                }
                if let Some(id) = c.cmd_id() {
                    leading.push(Command::Status(status(&msg_ref, id, c.name(), code)));
                }
            }
            if counted {
                self.auth_failures += 1;
                if self.auth_failures >= MAX_AUTH_FAILURES {
                    self.end(&mut cx, "authentication failed");
                }
            }
            return self.respond(cx, leading, Mode::StatusOnly { final_: true });
        }

        if !self.package1_seen {
            self.package1_seen = true;
            self.check_package1(msg, &mut cx);
        }
        let our_refused = self.device_statuses(msg, &mut cx);
        self.device_results(msg, &msg_ref, &mut leading, &mut cx);
        let aborted = self.device_commands(msg, &msg_ref, &mut leading, &mut cx);
        if let Some(a) = aborted {
            // facts §2.3: Status for the SyncHdr and the Alert only; the session ends.
            let keep: Vec<Command> = leading
                .into_iter()
                .filter(|c| matches!(c, Command::Status(s) if s.cmd_ref == "0" || s.cmd_ref == a))
                .collect();
            self.end(&mut cx, "aborted by the device");
            return self.respond(cx, keep, Mode::StatusOnly { final_: true });
        }
        if our_refused {
            self.server_refusals += 1;
            if let Some(last) = self.last_sent.clone() {
                self.book.resend_from(&last);
            }
            self.outbox.clear();
            self.awaiting_chunk = None;
            self.sending_package = false;
            if self.server_refusals >= MAX_AUTH_FAILURES {
                self.end(&mut cx, "the device refused our credentials");
                return self.respond(cx, leading, Mode::StatusOnly { final_: true });
            }
        }
        if !msg.body.final_ && !self.sending_package {
            // facts §2.4: the device's package goes on; ask for the next message.
            leading.push(alert(AlertCode::NextMessage));
            if self.setup.faults.commands_in_next_message_response {
                self.queue_jobs(&mut cx);
                return self.respond(cx, leading, Mode::Package { final_: false });
            }
            return self.respond(cx, leading, Mode::StatusOnly { final_: false });
        }
        if !self.sending_package {
            for ours in &self.package_msgs {
                let missing = self.book.missing_statuses(ours);
                if !missing.is_empty() {
                    cx.dev(
                        &their,
                        format!(
                            "no Status for our CmdID(s) {} of message {ours} (facts §1.4, \
                             §2.1 package 3: Status for every server command)",
                            missing.join(", ")
                        ),
                    );
                }
            }
            // The device's package is complete: our reply starts a new package.
            self.package_msgs.clear();
            self.queue_jobs(&mut cx);
        }
        self.respond(cx, leading, Mode::Package { final_: true })
    }

    fn queue_jobs(&mut self, cx: &mut Cx) {
        let sid = self.session_id.clone().unwrap_or_default();
        for (c, o) in self.book.take_unsent(&sid, &mut cx.jobs) {
            // facts §8: the peer must not send an object bigger than the receiver's
            // MaxObjSize — such a command is not sent; its job gets 413 from us.
            let biggest = largest_object(&c);
            if let Some(max) = self.device_max_obj_size.filter(|m| biggest > *m) {
                let note = format!(
                    "not sent: an object of {biggest} bytes exceeds the device's MaxObjSize \
                     {max} (facts §8)"
                );
                cx.own.push(format!("job command {}: {note}", o.position));
                self.book.refuse(
                    &o,
                    c.name(),
                    StatusCode::RequestEntityTooLarge,
                    &note,
                    &mut cx.jobs,
                );
                continue;
            }
            self.outbox.push(c, Some(o));
        }
    }

    /// facts §2.1, §5.2: package 1 carries Alert 1200/1201 and the DevInfo Replace.
    fn check_package1(&mut self, msg: &SyncMl, cx: &mut Cx) {
        let has_alert = msg.body.commands.iter().any(|c| {
            matches!(c, Command::Alert(a) if matches!(a.code,
                Some(AlertCode::ServerInitiatedMgmt | AlertCode::ClientInitiatedMgmt)))
        });
        if !has_alert {
            cx.dev(
                &msg.hdr.msg_id,
                "package 1 without Alert 1200 or 1201 (facts §2.1, §2.5)",
            );
        }
        let has_devinfo = msg.body.commands.iter().any(|c| {
            matches!(c, Command::Replace(r) if r.items.iter().any(|i| {
                loc(i.source.as_ref()).is_some_and(|u| devinfo_key(&u).is_some())
            }))
        });
        if !has_devinfo {
            cx.dev(
                &msg.hdr.msg_id,
                "package 1 without DevInfo (facts §2.1: DevInfo MUST be in the first message)",
            );
        }
    }

    /// The device's Statuses: our SyncHdr verdict and Chal, chunk acknowledgements, job
    /// statuses. Returns whether the device refused our credentials (401/407).
    fn device_statuses(&mut self, msg: &SyncMl, cx: &mut Cx) -> bool {
        let their = &msg.hdr.msg_id;
        let mut refused = false;
        for c in &msg.body.commands {
            let Command::Status(st) = c else { continue };
            if !(100..=599).contains(&st.code.as_u16()) {
                // Real clients send e.g. `0`: tolerated, kept as sent, recorded.
                cx.dev(
                    their,
                    format!(
                        "Status for CmdRef {} has code {}, not a SyncML status code (facts §3.1)",
                        st.cmd_ref,
                        st.code.as_u16()
                    ),
                );
            }
            if !self.package_msgs.contains(&st.msg_ref) {
                cx.dev(
                    their,
                    format!(
                        "Status for CmdRef {} has MsgRef {:?}, not one of our MsgIDs {:?} of \
                         the package it answers (facts §1.4)",
                        st.cmd_ref, st.msg_ref, self.package_msgs
                    ),
                );
            }
            if st.cmd_ref == "0" {
                if let Some(n) = st.chal.as_ref().and_then(|c| c.meta.next_nonce.as_deref()) {
                    // facts §6.2: the device's newest nonce builds our next credentials; the
                    // device is authenticated here, so it may be stored.
                    match dm_protocol::auth::b64_decode(n) {
                        Ok(raw) => self.setup.state.server_nonce = raw,
                        Err(e) => cx.dev(their, format!("NextNonce is not base64: {e}")),
                    }
                }
                match st.code {
                    StatusCode::AuthenticationAccepted => self.server_authenticated = true,
                    StatusCode::InvalidCredentials | StatusCode::MissingCredentials => {
                        if st.chal.is_none() {
                            cx.dev(their, "401/407 without Chal (facts §6.2)");
                        }
                        refused = self.last_sent.is_some();
                    }
                    c if c.is_success() => {}
                    c => cx.dev(
                        their,
                        format!("Status {} for our SyncHdr (facts §3.1)", c.as_u16()),
                    ),
                }
                continue;
            }
            if refused && st.code.needs_challenge() {
                continue;
            }
            let chunk_ack = self
                .awaiting_chunk
                .as_ref()
                .is_some_and(|(m, id)| *m == st.msg_ref && *id == st.cmd_ref);
            if chunk_ack {
                let id = st.cmd_ref.clone();
                self.awaiting_chunk = None;
                {
                    if st.code != StatusCode::ChunkedItemAccepted {
                        self.outbox.abandon_chunk();
                        cx.dev(
                            their,
                            format!(
                                "{} for our large-object chunk (CmdID {id}) instead of 213; \
                                 the rest is not sent (facts §8)",
                                st.code.as_u16()
                            ),
                        );
                    }
                }
            }
            // Our own 1222 is not a job command: its Status names nothing to attribute.
            if !self.book.on_status(st, &mut cx.jobs) && st.cmd != "Alert" {
                cx.dev(
                    their,
                    format!(
                        "Status for ({}, {}) names no command we sent (facts §1.4)",
                        st.msg_ref, st.cmd_ref
                    ),
                );
            }
        }
        if self.awaiting_chunk.is_some() && !refused {
            let (_, id) = self.awaiting_chunk.take().unwrap_or_default();
            self.outbox.abandon_chunk();
            cx.dev(
                their,
                format!("no Status for our large-object chunk (CmdID {id}); facts §8: 213"),
            );
        }
        refused
    }

    /// The device's Results, with chunked ones reassembled (facts §8).
    fn device_results(
        &mut self,
        msg: &SyncMl,
        msg_ref: &str,
        leading: &mut Vec<Command>,
        cx: &mut Cx,
    ) {
        let their = &msg.hdr.msg_id;
        for c in &msg.body.commands {
            let Command::Results(r) = c else { continue };
            let get_msg = match &r.msg_ref {
                Some(m) => m.clone(),
                None => self.results_msg_ref(&r.cmd_ref),
            };
            for item in &r.items {
                if let Some(ib) = &self.inbound {
                    if ib.cmd_ref != r.cmd_ref || ib.msg_ref != get_msg {
                        // facts §8: a new object before the last chunk → Alert 1225.
                        let broken = self.inbound.take();
                        cx.dev(
                            their,
                            "a new Results before the last chunk of a large object (facts §8)",
                        );
                        if let Some(b) = broken {
                            leading.push(Command::Alert(Alert {
                                code: Some(AlertCode::NoEndOfData),
                                items: vec![Item {
                                    target: b.item.target.clone(),
                                    source: b.item.source.clone(),
                                    ..Item::default()
                                }],
                                ..Alert::default()
                            }));
                        }
                    }
                }
                let (bytes, binary) = data_bytes(item.data.as_ref());
                let limit = self.inbound_limit();
                if let Some(refused) = self.refused_inbound.take() {
                    if self.inbound.is_none() && refused == (get_msg.clone(), r.cmd_ref.clone()) {
                        // A later chunk of an object refused with 413: dropped as well.
                        if item.more_data {
                            self.refused_inbound = Some(refused);
                        }
                        leading.push(Command::Status(status(
                            msg_ref,
                            &r.cmd_id,
                            "Results",
                            StatusCode::RequestEntityTooLarge,
                        )));
                        continue;
                    }
                }
                if let Some(ib) = self.inbound.take() {
                    let total = (ib.data.len() as u64).saturating_add(bytes.len() as u64);
                    if total > limit {
                        let (m, c) = (ib.msg_ref.clone(), ib.cmd_ref.clone());
                        self.refuse_object(
                            (&m, &c),
                            &format!("reassembled data reached {total} bytes"),
                            limit,
                            item.more_data,
                            (msg_ref, &r.cmd_id, their),
                            leading,
                            cx,
                        );
                        continue;
                    }
                    self.inbound = Some(ib);
                }
                if let Some(mut ib) = self.inbound.take() {
                    ib.data.extend_from_slice(&bytes);
                    ib.binary |= binary;
                    if item.more_data {
                        self.inbound = Some(ib);
                        leading.push(Command::Status(status(
                            msg_ref,
                            &r.cmd_id,
                            "Results",
                            StatusCode::ChunkedItemAccepted,
                        )));
                        continue;
                    }
                    let actual = ib.data.len() as u64;
                    if ib.declared.is_some_and(|d| d != actual) {
                        // facts §8: size mismatch → 424, nothing kept.
                        cx.dev(
                            their,
                            format!(
                                "large object of {actual} bytes, Meta/Size said {:?} (facts §8)",
                                ib.declared
                            ),
                        );
                        leading.push(Command::Status(status(
                            msg_ref,
                            &r.cmd_id,
                            "Results",
                            StatusCode::SizeMismatch,
                        )));
                        continue;
                    }
                    let mut whole = ib.item.clone();
                    whole.data = Some(if ib.binary {
                        Data::Binary(ib.data)
                    } else {
                        Data::Text(String::from_utf8_lossy(&ib.data).into_owned())
                    });
                    whole.more_data = false;
                    if !self.book.on_result(
                        &ib.msg_ref,
                        &ib.cmd_ref,
                        ib.meta.as_ref(),
                        &whole,
                        &mut cx.jobs,
                    ) {
                        cx.dev(their, "Results for no Get of ours (facts §1.4)");
                    }
                    continue;
                }
                let declared = item
                    .meta
                    .as_ref()
                    .and_then(|m| m.size)
                    .or_else(|| r.meta.as_ref().and_then(|m| m.size));
                let first_size = (bytes.len() as u64).max(declared.unwrap_or(0));
                if first_size > limit {
                    let what = match declared {
                        Some(d) if d >= bytes.len() as u64 => format!("Meta/Size {d}"),
                        _ => format!("{} bytes of data", bytes.len()),
                    };
                    self.refuse_object(
                        (&get_msg, &r.cmd_ref),
                        &what,
                        limit,
                        item.more_data,
                        (msg_ref, &r.cmd_id, their),
                        leading,
                        cx,
                    );
                    continue;
                }
                if item.more_data {
                    if declared.is_none() {
                        cx.dev(
                            their,
                            "first chunk of a large object without Meta/Size (facts §8)",
                        );
                    }
                    let mut first = item.clone();
                    first.data = None;
                    if let Some(m) = first.meta.as_mut() {
                        m.size = None;
                    }
                    self.inbound = Some(Inbound {
                        msg_ref: get_msg.clone(),
                        cmd_ref: r.cmd_ref.clone(),
                        meta: r.meta.clone(),
                        item: first,
                        declared,
                        data: bytes,
                        binary,
                    });
                    leading.push(Command::Status(status(
                        msg_ref,
                        &r.cmd_id,
                        "Results",
                        StatusCode::ChunkedItemAccepted,
                    )));
                    continue;
                }
                // facts §1.4: no Status for a Results when it would be 200.
                if !self
                    .book
                    .on_result(&get_msg, &r.cmd_ref, r.meta.as_ref(), item, &mut cx.jobs)
                {
                    cx.dev(
                        their,
                        format!(
                            "Results for ({get_msg}, {}) names no Get of ours (facts §1.4)",
                            r.cmd_ref
                        ),
                    );
                }
            }
        }
    }

    /// The MsgID of our Get a Results without MsgRef (optional, facts §1.2) answers, by its
    /// CmdRef: the large object being reassembled (or refused) for that CmdRef, else the
    /// newest message of our current package that sent a Get with that CmdID, else our
    /// last message.
    fn results_msg_ref(&self, cmd_ref: &str) -> String {
        if let Some(ib) = self.inbound.as_ref().filter(|ib| ib.cmd_ref == cmd_ref) {
            return ib.msg_ref.clone();
        }
        if let Some((m, _)) = self.refused_inbound.as_ref().filter(|(_, c)| c == cmd_ref) {
            return m.clone();
        }
        self.package_msgs
            .iter()
            .rev()
            .find(|m| self.book.origin(m, cmd_ref).is_some())
            .cloned()
            .or_else(|| self.last_sent.clone())
            .unwrap_or_default()
    }

    /// The largest object we accept from the device: our MaxObjSize, or
    /// [`MAX_INBOUND_OBJECT`] when we announce none.
    fn inbound_limit(&self) -> u64 {
        self.setup.max_obj_size.unwrap_or(MAX_INBOUND_OBJECT)
    }

    /// Refuse the device's object for our Get (`get`: our MsgID and CmdID) with 413 (facts
    /// §3.1, §8): Status 413 for the Results `answer` (our MsgRef for it, its CmdID, the
    /// device's MsgID), nothing kept, the job's Get answered 413 by us; when `more` chunks
    /// follow, they are dropped too.
    #[allow(clippy::too_many_arguments)]
    fn refuse_object(
        &mut self,
        get: (&str, &str),
        what: &str,
        limit: u64,
        more: bool,
        answer: (&str, &str, &str),
        leading: &mut Vec<Command>,
        cx: &mut Cx,
    ) {
        let (msg_ref, results_id, their) = answer;
        let ours = match self.setup.max_obj_size {
            Some(m) => format!("our MaxObjSize {m}"),
            None => format!("our limit of {limit} bytes (no MaxObjSize announced)"),
        };
        let note =
            format!("object refused by the server: {what} exceeds {ours} (facts §8); nothing kept");
        cx.dev(their, format!("Results for CmdRef {}: {note}", get.1));
        self.inbound = None;
        self.refused_inbound = more.then(|| (get.0.to_owned(), get.1.to_owned()));
        leading.push(Command::Status(status(
            msg_ref,
            results_id,
            "Results",
            StatusCode::RequestEntityTooLarge,
        )));
        self.book.refuse_result(
            get.0,
            get.1,
            StatusCode::RequestEntityTooLarge,
            &note,
            &mut cx.jobs,
        );
    }

    /// The device's Alerts and Replace (and anything a client must not send). Returns the
    /// CmdID of an Alert 1223 (abort), if there was one.
    fn device_commands(
        &mut self,
        msg: &SyncMl,
        msg_ref: &str,
        leading: &mut Vec<Command>,
        cx: &mut Cx,
    ) -> Option<String> {
        let their = &msg.hdr.msg_id;
        let sid = self.session_id.clone().unwrap_or_default();
        let now = self.clock.now_unix();
        let mut aborted = None;
        for c in &msg.body.commands {
            match c {
                Command::Status(_) | Command::Results(_) => {}
                Command::Alert(a) => {
                    let code = self.device_alert(a, &sid, now, their, cx);
                    if a.code == Some(AlertCode::SessionAbort) {
                        aborted = Some(a.cmd_id.clone());
                    }
                    if a.code == Some(AlertCode::NoEndOfData) {
                        self.outbox.abandon_chunk();
                        self.awaiting_chunk = None;
                    }
                    let skip = self.setup.faults.no_status_for_alerts
                        && a.code != Some(AlertCode::SessionAbort);
                    if !skip {
                        leading.push(Command::Status(status(msg_ref, &a.cmd_id, "Alert", code)));
                    }
                }
                Command::Replace(r) => {
                    // One Status for the command (facts §1.4); no SourceRefs, so the
                    // answer to package 1 stays small under a small MaxMsgSize.
                    let mut st = status(msg_ref, &r.cmd_id, "Replace", StatusCode::Ok);
                    for i in &r.items {
                        let src = loc(i.source.as_ref()).unwrap_or_default();
                        match devinfo_key(&src) {
                            Some(key) => {
                                let v = i.data.as_ref().map(|d| data_bytes(Some(d)).0);
                                let v = String::from_utf8_lossy(&v.unwrap_or_default()).into();
                                self.setup.state.devinfo.insert(key, v);
                            }
                            None => {
                                st.code = StatusCode::CommandNotAllowed;
                                cx.dev(
                                    their,
                                    format!(
                                        "Replace of {src:?}: a client replaces only DevInfo \
                                         (facts §2.1)"
                                    ),
                                );
                            }
                        }
                    }
                    leading.push(Command::Status(st));
                }
                other => {
                    cx.dev(
                        their,
                        format!(
                            "{} from the device: a client only sends Replace (DevInfo), \
                             Results, Alert and Status (facts §2.1)",
                            other.name()
                        ),
                    );
                    if let Some(id) = other.cmd_id() {
                        leading.push(Command::Status(status(
                            msg_ref,
                            id,
                            other.name(),
                            StatusCode::CommandNotAllowed,
                        )));
                    }
                }
            }
        }
        aborted
    }

    /// One device Alert: record it, and the Status code to answer (facts §3.2–§3.5).
    fn device_alert(
        &mut self,
        a: &Alert,
        sid: &str,
        now: u64,
        their: &str,
        cx: &mut Cx,
    ) -> StatusCode {
        let Some(code) = a.code else {
            cx.dev(their, "Alert without an alert code (facts §1.2)");
            return StatusCode::IncompleteCommand;
        };
        match code {
            AlertCode::ServerInitiatedMgmt
            | AlertCode::ClientInitiatedMgmt
            | AlertCode::NextMessage
            | AlertCode::SessionAbort
            | AlertCode::NoEndOfData => StatusCode::Ok,
            AlertCode::ClientEvent | AlertCode::GenericAlert => {
                let record = AlertRecord {
                    dev_id: self.setup.device.dev_id.clone(),
                    session_id: sid.to_owned(),
                    at: now,
                    code: code.as_u16(),
                    correlator: a.correlator.clone(),
                    items: a
                        .items
                        .iter()
                        .map(|i| AlertItem {
                            source: loc(i.source.as_ref()),
                            target: loc(i.target.as_ref()),
                            type_: i.meta.as_ref().and_then(|m| m.type_.clone()),
                            format: i.meta.as_ref().and_then(|m| m.format.clone()),
                            mark: i.meta.as_ref().and_then(|m| m.mark.clone()),
                            data: i
                                .data
                                .as_ref()
                                .map(|d| String::from_utf8_lossy(&data_bytes(Some(d)).0).into()),
                        })
                        .collect(),
                };
                // facts §3.3 (1224), §3.5 (1226): Item Meta Type and Format are required.
                let incomplete = record.items.is_empty()
                    || record
                        .items
                        .iter()
                        .any(|i| i.type_.is_none() || i.format.is_none());
                if code == AlertCode::GenericAlert {
                    self.book.on_completion(&record, &mut cx.jobs);
                    // Only a well-formed alert (Type and Format present) is a request.
                    if let (false, Some(r)) = (incomplete, self.requests.as_mut()) {
                        if let Some(job) = r.on_generic_alert(&record, &self.setup.state.devinfo) {
                            self.book.add(job);
                        }
                    }
                }
                cx.alerts.push(record);
                if incomplete {
                    cx.dev(
                        their,
                        format!(
                            "Alert {} item without Meta Type or Format (facts §3.3, §3.5)",
                            code.as_u16()
                        ),
                    );
                    return StatusCode::IncompleteCommand;
                }
                StatusCode::Ok
            }
            other => {
                // facts §3.4: UI alerts from a client are ignored; facts §3.2: unsupported
                // alert data → 406.
                cx.dev(
                    their,
                    format!(
                        "Alert {} is not a client alert (facts §3.3, §3.4)",
                        other.as_u16()
                    ),
                );
                StatusCode::OptionalFeatureNotSupported
            }
        }
    }

    fn header(&mut self) -> SyncHdr {
        let msg_id = self.next_msg_id.to_string();
        self.next_msg_id += 1;
        let server = self.setup.device.server_auth.clone();
        let send_cred = !self.setup.faults.no_server_credentials;
        let cred = server
            .as_ref()
            .filter(|_| send_cred && !self.server_authenticated)
            .and_then(|s| auth::our_cred(s, &self.setup.state.server_nonce));
        let loc_name = server
            .as_ref()
            .filter(|s| send_cred && s.kind != AuthKind::Basic)
            .map(|s: &Secret| s.name.clone());
        let meta = Meta {
            max_msg_size: self.setup.max_msg_size,
            max_obj_size: self.setup.max_obj_size,
            ..Meta::default()
        };
        SyncHdr {
            ver_dtd: "1.2".into(),
            ver_proto: "DM/1.2".into(),
            session_id: self.session_id.clone().unwrap_or_default(),
            msg_id,
            target: Locator::uri(self.peer_uri.clone()),
            source: Locator {
                loc_uri: self.setup.server_uri.clone(),
                loc_name,
            },
            cred,
            meta: (!meta.is_empty()).then_some(meta),
            ..SyncHdr::default()
        }
    }

    /// Build, encode and hand out our reply.
    fn respond(&mut self, mut cx: Cx, leading: Vec<Command>, mode: Mode) -> Output {
        let hdr = self.header();
        let msg_id = hdr.msg_id.clone();
        let mut leading = leading;
        for (k, c) in leading.iter_mut().enumerate() {
            set_cmd_id(c, (k + 1).to_string());
        }
        let (commands, final_) = match mode {
            Mode::StatusOnly { final_ } => (leading, final_),
            Mode::Package { final_: may_final } => {
                let filled =
                    self.outbox
                        .fill(&hdr, &leading, self.device_max_msg_size, self.encoding);
                for p in filled.placed {
                    self.book.register(&msg_id, &p.cmd_id, p.origin);
                }
                if let Some(name) = filled.oversized {
                    cx.own.push(format!(
                        "our message {msg_id}: {name} does not fit the device's MaxMsgSize {:?} \
                         even alone; sent whole since a command cannot be split (facts §2.4)",
                        self.device_max_msg_size
                    ));
                }
                self.awaiting_chunk = filled.awaiting_chunk.map(|id| (msg_id.clone(), id));
                let management = !filled.commands.is_empty();
                let done = self.outbox.is_empty() && self.awaiting_chunk.is_none();
                self.sending_package = !done;
                let mut all = leading;
                all.extend(filled.commands);
                if done && !management && may_final {
                    // facts §2.2: a final message without management commands ends it.
                    self.end(&mut cx, "completed");
                }
                (all, done && may_final)
            }
        };
        let mut commands = commands;
        let injected = self.tester.inject(&msg_id);
        let mut next = commands.len();
        for mut c in injected {
            next += 1;
            set_cmd_id(&mut c, next.to_string());
            commands.push(c);
        }
        let final_ = final_ && !self.setup.faults.never_final;
        let mut reply = SyncMl {
            hdr,
            body: SyncBody { commands, final_ },
        };
        self.package_msgs.push(msg_id.clone());
        self.last_sent = Some(msg_id);
        self.tester.before_encode(&mut reply);
        let bytes = match codec::encode(&reply, self.encoding) {
            Ok(b) => b,
            Err(e) => {
                // Nothing valid to send: the transport answers HTTP 500 (see
                // `Output::internal_error`) and the session ends, its jobs Interrupted.
                let why = format!("internal error: our reply does not encode: {e}");
                cx.own
                    .push(format!("our message {}: {why}", reply.hdr.msg_id));
                self.end(&mut cx, &why);
                let mut out = self.output(cx, Some(reply), None, Vec::new());
                out.internal_error = Some(why);
                return out;
            }
        };
        let bytes = self.tester.replace_bytes(&reply, &bytes).unwrap_or(bytes);
        let headers = self.outgoing_headers(&bytes);
        self.last_reply = Some(CachedReply {
            reply: reply.clone(),
            bytes: bytes.clone(),
            headers: headers.clone(),
            encoding: self.encoding,
        });
        self.output(cx, Some(reply), Some(bytes), headers)
    }
}

/// How a reply is built.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Only the leading Statuses (and Alert 1222): an auth failure, an abort answer, a "next
    /// message" response.
    StatusOnly { final_: bool },
    /// Statuses and as many queued commands as fit; `final_: false` keeps the package open.
    Package { final_: bool },
}

fn set_cmd_id(c: &mut Command, id: String) {
    match c {
        Command::Add(x)
        | Command::Copy(x)
        | Command::Delete(x)
        | Command::Get(x)
        | Command::Replace(x) => x.cmd_id = id,
        Command::Alert(a) => a.cmd_id = id,
        Command::Exec(e) => e.cmd_id = id,
        Command::Results(r) => r.cmd_id = id,
        Command::Status(s) => s.cmd_id = id,
        Command::Atomic(ct) | Command::Sequence(ct) => ct.cmd_id = id,
        Command::Other(_) => {}
    }
}

/// The DevInfo node name of a `./DevInfo/...` URI (facts §5.2).
fn devinfo_key(uri: &str) -> Option<String> {
    let bare = uri.strip_prefix("./").unwrap_or(uri);
    bare.strip_prefix("DevInfo/")
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
}
