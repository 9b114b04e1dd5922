//! The client session engine: sans-IO, messages in and messages out (facts §2).
//!
//! A [`Session`] builds package 1 ([`Session::start`]), then turns each server message into
//! the client's reply ([`Session::handle`]): Status for the SyncHdr first, then one Status per
//! server command followed by its Results (facts §1.4), client alerts (1222 next message,
//! 1225 broken large object, 1226 asynchronous Exec completions), `Final` only when the
//! server closed its package (facts §2.4). It authenticates to the server (basic, md5; the
//! 401/407 retry restarts package 1 with the same SessionID, facts §6.2) and verifies the
//! server's credentials when the account asks for them. With `syncml:auth-MAC` both ways
//! are per message: [`Session::outgoing_headers`] gives the `x-syncml-hmac` header of each
//! encoded message and [`Session::handle_received`] checks the server's (facts §6.3).
//! Replies larger than the server's `MaxMsgSize` are cut into several messages, and Results
//! items too large for one message go as large-object chunks (facts §2.4, §8; see
//! `outbox`). No I/O: the driver encodes, sends, and feeds the answer back; time comes from
//! an injected [`Clock`], so sessions are replayable.

mod outbox;

use std::sync::Arc;

use dm_protocol::auth::{self, AuthType, HmacHeader, NonceGenerator};
use dm_protocol::codec::Encoding;
use dm_protocol::codes::{AlertCode, StatusCode};
use dm_protocol::model::{
    Alert, Chal, Command, Cred, Data, Item, Locator, Meta, Results, Status, SyncBody, SyncHdr,
    SyncMl,
};
use dm_tree::{
    Clock, CommandHooks, CommandOutcome, Completion, Faults, Principal, Processor, SystemClock,
    Tree,
};

use outbox::Outbox;

/// How the session was started (facts §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiation {
    /// By the device (Alert 1201).
    Client,
    /// After a package #0 (Alert 1200).
    Server,
}

/// Credentials of one direction, with the nonce to use next (facts §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `syncml:auth-basic`, `syncml:auth-md5` or `syncml:auth-MAC` (per-message HMAC in the
    /// `x-syncml-hmac` HTTP header instead of a `Cred`, facts §6.3).
    pub auth_type: AuthType,
    /// User name (`AAuthName`; also `Source/LocName` for md5).
    pub name: String,
    /// Secret (`AAuthSecret`).
    pub secret: String,
    /// The nonce for the next md5 digest or HMAC (`AAuthData`), raw bytes.
    pub nonce: Vec<u8>,
}

impl Credentials {
    fn cred(&self) -> Cred {
        let data = match self.auth_type {
            AuthType::Md5 => auth::md5_credential(&self.name, &self.secret, &self.nonce),
            _ => auth::basic_credential(&self.name, &self.secret),
        };
        Cred {
            meta: Some(Meta {
                type_: Some(self.auth_type.as_str().to_owned()),
                format: Some("b64".into()),
                ..Meta::default()
            }),
            data,
        }
    }

    fn verify(&self, cred: &Cred) -> bool {
        let ty = cred.meta.as_ref().and_then(|m| m.type_.as_deref());
        if ty != Some(self.auth_type.as_str()) {
            return false;
        }
        match self.auth_type {
            AuthType::Md5 => auth::verify_md5(&cred.data, &self.name, &self.secret, &self.nonce),
            AuthType::Basic => auth::verify_basic(&cred.data, &self.name, &self.secret),
            _ => false,
        }
    }

    /// The `x-syncml-hmac` value for `body` with the current nonce (facts §6.3).
    fn hmac_header(&self, body: &[u8]) -> HmacHeader {
        HmacHeader::new(
            self.name.clone(),
            auth::hmac_mac(&self.name, &self.secret, &self.nonce, body),
        )
    }

    /// Check a received `x-syncml-hmac` value over `body` (facts §6.3): 407 when there is
    /// none, 401 when it does not parse or does not match, 200 when it does (facts §6.2:
    /// per-message authentication answers 200, not 212).
    fn verify_hmac(&self, header: Option<&str>, body: &[u8]) -> StatusCode {
        let Some(value) = header else {
            return StatusCode::MissingCredentials;
        };
        match HmacHeader::parse(value) {
            Ok(h) if auth::verify_hmac(&h, &self.name, &self.secret, &self.nonce, body) => {
                StatusCode::Ok
            }
            _ => StatusCode::InvalidCredentials,
        }
    }
}

/// A server message as received: the exact bytes and the `x-syncml-hmac` header (both needed
/// to check a per-message HMAC, facts §6.3) with the decoded message.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// The HTTP body, exactly as received.
    pub bytes: &'a [u8],
    /// The `x-syncml-hmac` header value, if the response had one.
    pub hmac_header: Option<&'a str>,
    /// The decoded message.
    pub msg: &'a SyncMl,
}

/// The name of the HMAC transport header (facts §6.3).
pub const HMAC_HEADER: &str = "x-syncml-hmac";

/// Deliberate client misbehaviours, to prove the suite catches them. All off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientFaults {
    /// Accept any server credentials (or none) without checking.
    pub skip_server_auth: bool,
    /// Put a wrong `MsgRef` in every Status.
    pub wrong_msg_ref: bool,
    /// Send no Results for successful Gets.
    pub no_results: bool,
    /// Leave DevInfo out of package 1.
    pub no_devinfo: bool,
    /// Grant every ACL check in the tree (dm-tree `Faults::ignore_acl`): server commands the
    /// ACL forbids succeed instead of 425 (facts §4.4).
    pub ignore_acl: bool,
    /// A failed `Atomic` keeps its successful children's changes (dm-tree
    /// `Faults::no_atomic_rollback`), while still answering 507/216 (facts §2.6).
    pub commit_failed_atomic: bool,
    /// Never put `Final` in a client message (facts §2.4: the last message of a package
    /// carries it).
    pub no_final: bool,
    /// Keep using the old nonce after a `Chal` brought a new one (facts §6.2: the newest
    /// nonce builds the next credentials).
    pub stale_nonce: bool,
    /// Send no `x-syncml-hmac` header although the account uses `syncml:auth-MAC`
    /// (facts §6.3: every message of the session carries it).
    pub no_hmac: bool,
}

impl ClientFaults {
    /// The dm-tree switches these faults map to, on top of `base`.
    fn tree_faults(&self, base: &Faults) -> Faults {
        Faults {
            ignore_acl: base.ignore_acl || self.ignore_acl,
            no_atomic_rollback: base.no_atomic_rollback || self.commit_failed_atomic,
            ..base.clone()
        }
    }
}

/// What a session needs to know.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// `SessionID` (facts §1.3): client-chosen, or from the package #0.
    pub session_id: String,
    /// The server's URL (`Target/LocURI` of our messages).
    pub server_uri: String,
    /// The server's ServerID, the principal its commands run as (facts §4.4).
    pub server_id: String,
    /// Client- or server-initiated.
    pub initiation: Initiation,
    /// Client → server credentials, sent in package 1 when configured.
    pub client_auth: Option<Credentials>,
    /// Server → client credentials the device requires, if any.
    pub server_auth: Option<Credentials>,
    /// `MaxMsgSize` announced in our SyncHdr Meta.
    pub max_msg_size: Option<u64>,
    /// `MaxObjSize` announced (large objects, facts §8).
    pub max_obj_size: Option<u64>,
    /// Client alerts to send in package 1 (1224 client events, 1226 generic alerts).
    pub alerts: Vec<Alert>,
    /// Seed for the nonces the device issues to the server.
    pub seed: u64,
    /// Fault-injection switches.
    pub faults: ClientFaults,
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The server's last package held no management command and no challenge (facts §2.2).
    Completed,
    /// The server sent Alert 1223 (facts §2.3); the client does not answer.
    AbortedByServer,
    /// We sent Alert 1223 (facts §2.3), see [`Session::abort`].
    AbortedByClient,
    /// The server refused our credentials (code 401 or 407 after a retry, or without Chal).
    AuthFailed(StatusCode),
    /// The server failed to authenticate and sent nothing to challenge (facts §6.2).
    ServerNotAuthenticated,
    /// The server refused our whole message: its Status for our SyncHdr carried a failure
    /// code other than the authentication flow's 401/407 (e.g. 403, 500, 512; facts §3.1).
    /// Its commands are not executed and nothing is sent.
    Refused(StatusCode),
    /// The server broke the protocol so that the session cannot go on.
    Protocol(String),
}

/// A protocol deviation the client noticed in a server message (kept going if it could).
/// Deviations of our own messages are [`OwnDeviation`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deviation {
    /// The server MsgID it was found in.
    pub msg_id: String,
    /// What was wrong, with the facts section.
    pub what: String,
}

/// A rule one of our own messages had to break (e.g. a command larger than the server's
/// `MaxMsgSize` sent whole because a command cannot be split, facts §2.4). Kept apart from
/// [`Deviation`], whose `msg_id` is always a server MsgID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnDeviation {
    /// The MsgID of our message concerned.
    pub our_msg_id: String,
    /// What was broken, with the facts section.
    pub what: String,
}

/// The engine's answer to a server message.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send this message to [`Session::target_uri`].
    Send(Box<SyncMl>),
    /// The session is over; send nothing.
    Finished(EndReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    New,
    /// Package 1 sent (possibly again after a challenge).
    Package1 {
        retried: bool,
    },
    Running,
    Done,
}

/// One DM session on the client side. See the module documentation.
pub struct Session {
    cfg: SessionConfig,
    phase: Phase,
    next_msg_id: u64,
    last_sent_msg_id: String,
    processor: Processor,
    resp_uri: Option<String>,
    /// We are authenticated for the rest of the session (212).
    client_authenticated: bool,
    /// The server proved its identity in this session.
    server_authenticated: bool,
    /// A nonce the server gave us that may be stored (the server was authenticated, or the
    /// account does not require server credentials; facts §6.2).
    storable_client_nonce: Option<Vec<u8>>,
    /// The newest nonce from a Chal, until we know the server may be believed.
    pending_client_nonce: Option<Vec<u8>>,
    nonces: NonceGenerator,
    /// The nonce in the Chal of the message we are about to send (md5, MAC), not yet known
    /// to have reached the server (facts §6.2, §6.3).
    pending_server_nonce: Option<Vec<u8>>,
    /// The last nonce known to have reached the server: the one its next credentials use,
    /// and the one to store.
    delivered_server_nonce: Option<Vec<u8>>,
    deviations: Vec<Deviation>,
    own_deviations: Vec<OwnDeviation>,
    clock: Arc<dyn Clock>,
    encoding: Encoding,
    /// Our package still to send (facts §2.4).
    outbox: Outbox,
    /// Asynchronous Exec completions reported in package 1 (kept for a restarted package 1).
    pkg1_completions: Vec<Completion>,
    /// Every completion put into one of our messages (see [`Session::reported_completions`]).
    reported: Vec<Completion>,
    /// Whether our package ends with `Final` once the outbox is empty.
    package_final: bool,
    /// CmdID (and MsgID) of a non-last chunk we sent, whose 213 we wait for (facts §8).
    awaiting_chunk: Option<(String, String)>,
    /// Server MaxMsgSize, if announced.
    pub server_max_msg_size: Option<u64>,
    /// Server MaxObjSize, if announced.
    pub server_max_obj_size: Option<u64>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("session_id", &self.cfg.session_id)
            .field("phase", &self.phase)
            .field("next_msg_id", &self.next_msg_id)
            .finish_non_exhaustive()
    }
}

fn text_item(source: &str, value: String) -> Item {
    Item {
        source: Some(Locator::uri(source)),
        data: Some(Data::Text(value)),
        ..Item::default()
    }
}

impl Session {
    /// A session that has not started.
    pub fn new(cfg: SessionConfig) -> Self {
        let mut processor = Processor::new();
        processor.max_obj_size = cfg.max_obj_size;
        let nonces = NonceGenerator::from_seed(cfg.seed);
        Session {
            cfg,
            phase: Phase::New,
            next_msg_id: 1,
            last_sent_msg_id: String::new(),
            processor,
            resp_uri: None,
            client_authenticated: false,
            server_authenticated: false,
            storable_client_nonce: None,
            pending_client_nonce: None,
            nonces,
            pending_server_nonce: None,
            delivered_server_nonce: None,
            deviations: Vec::new(),
            own_deviations: Vec::new(),
            clock: Arc::new(SystemClock),
            encoding: Encoding::Xml,
            outbox: Outbox::default(),
            pkg1_completions: Vec::new(),
            reported: Vec::new(),
            package_final: true,
            awaiting_chunk: None,
            server_max_msg_size: None,
            server_max_obj_size: None,
        }
    }

    /// Use `clock` for everything time-related (the driver's Exchange timestamps); the
    /// default is the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The session's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The encoding messages will be sent in, so the engine can measure them against the
    /// server's `MaxMsgSize` (facts §1.5); the default is XML. The driver sets it.
    pub fn set_encoding(&mut self, encoding: Encoding) {
        self.encoding = encoding;
    }

    /// [`Session::set_encoding`] as a builder.
    pub fn with_encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// The encoding messages are measured in.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// HTTP headers to send with the encoded message `encoded`: `x-syncml-hmac` over its
    /// exact bytes when the client authenticates with `syncml:auth-MAC` (facts §6.3), else
    /// none.
    pub fn outgoing_headers(&self, encoded: &[u8]) -> Vec<(String, String)> {
        match &self.cfg.client_auth {
            Some(c) if c.auth_type == AuthType::Mac && !self.cfg.faults.no_hmac => {
                vec![(HMAC_HEADER.to_owned(), c.hmac_header(encoded).to_string())]
            }
            _ => Vec::new(),
        }
    }

    /// Where the next message goes: the server's `RespURI` if it gave one, else its URL
    /// (facts §1.3).
    pub fn target_uri(&self) -> &str {
        self.resp_uri.as_deref().unwrap_or(&self.cfg.server_uri)
    }

    /// Deviations noticed so far in the server's messages.
    pub fn deviations(&self) -> &[Deviation] {
        &self.deviations
    }

    /// Rules our own messages had to break so far (see [`OwnDeviation`]).
    pub fn own_deviations(&self) -> &[OwnDeviation] {
        &self.own_deviations
    }

    /// A new client nonce to store in `AAuthData` (only from an authenticated server, facts
    /// §6.2), if the server sent one.
    pub fn client_nonce_to_store(&self) -> Option<&[u8]> {
        self.storable_client_nonce.as_deref()
    }

    /// The nonce the device issued to the server for its next credentials, to store: the
    /// last one whose message reached the server (see [`Session::delivered`]); `None` when
    /// no message carrying a nonce was delivered (basic never carries one, facts §6.2).
    pub fn server_nonce_to_store(&self) -> Option<&[u8]> {
        self.delivered_server_nonce.as_deref()
    }

    /// Tell the engine that the message it last returned reached the server (the driver
    /// got an HTTP 2xx answer to it). A nonce that message's Chal carried (md5, MAC) is
    /// then the one the server must use next and the one to store (facts §6.2, §6.3); until
    /// then the previous one stays in force. [`Session::handle_received`] implies it: an
    /// answer proves the delivery. Calling it again, or with no nonce pending, does nothing.
    pub fn delivered(&mut self) {
        let Some(n) = self.pending_server_nonce.take() else {
            return;
        };
        if let Some(a) = self.cfg.server_auth.as_mut() {
            a.nonce.clone_from(&n);
        }
        self.delivered_server_nonce = Some(n);
    }

    /// The asynchronous Exec completions this session put into its messages (Generic Alerts
    /// 1226, facts §3.5), so a device can report them again if the session did not complete.
    pub fn reported_completions(&self) -> &[Completion] {
        &self.reported
    }

    /// Whether the session is over.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Done
    }

    fn header(&mut self, tree: &Tree, with_cred: bool) -> SyncHdr {
        let msg_id = self.next_msg_id.to_string();
        self.next_msg_id += 1;
        self.last_sent_msg_id.clone_from(&msg_id);
        let dev_id = tree.value_str("./DevInfo/DevId").unwrap_or_default();
        // facts §6.1/§6.3: HMAC is never in Cred, but its user name is always in LocName.
        let mac = self
            .cfg
            .client_auth
            .as_ref()
            .filter(|c| c.auth_type == AuthType::Mac);
        let cred = self
            .cfg
            .client_auth
            .as_ref()
            .filter(|c| with_cred && c.auth_type != AuthType::Mac);
        let meta = Meta {
            max_msg_size: self.cfg.max_msg_size,
            max_obj_size: self.cfg.max_obj_size,
            ..Meta::default()
        };
        SyncHdr {
            ver_dtd: "1.2".into(),
            ver_proto: "DM/1.2".into(),
            session_id: self.cfg.session_id.clone(),
            msg_id,
            target: Locator::uri(self.cfg.server_uri.clone()),
            source: Locator {
                loc_uri: dev_id,
                loc_name: cred.or(mac).map(|c| c.name.clone()),
            },
            cred: cred.map(Credentials::cred),
            meta: (!meta.is_empty()).then_some(meta),
            ..SyncHdr::default()
        }
    }

    /// Package 1 (facts §2.1): Alert 1201/1200, the DevInfo Replace (facts §5.2), the
    /// configured client alerts, credentials when configured, `Final`.
    pub fn start(&mut self, tree: &mut Tree) -> SyncMl {
        let retried = matches!(self.phase, Phase::Package1 { .. });
        self.phase = Phase::Package1 { retried };
        let faults = self.cfg.faults.tree_faults(tree.faults());
        tree.set_faults(faults);
        let hdr = self.header(tree, self.cfg.client_auth.is_some());
        let mut ids = CmdIds::default();
        let code = match self.cfg.initiation {
            Initiation::Client => AlertCode::ClientInitiatedMgmt,
            Initiation::Server => AlertCode::ServerInitiatedMgmt,
        };
        let mut commands = vec![Command::Alert(Alert {
            cmd_id: ids.next(),
            code: Some(code),
            ..Alert::default()
        })];
        if !self.cfg.faults.no_devinfo {
            let items = ["DevId", "Man", "Mod", "DmV", "Lang"]
                .iter()
                .map(|n| {
                    let uri = format!("./DevInfo/{n}");
                    let v = tree.value_str(&uri).unwrap_or_default();
                    text_item(&uri, v)
                })
                .collect();
            commands.push(Command::Replace(dm_protocol::model::ItemCommand {
                cmd_id: ids.next(),
                items,
                ..Default::default()
            }));
        }
        for a in &self.cfg.alerts {
            let mut a = a.clone();
            a.cmd_id = ids.next();
            commands.push(Command::Alert(a));
        }
        // facts §3.5: Execs that finished since the last session (202 then) are reported to
        // their server in package 1 (taken once: a restarted package 1 repeats them).
        if !retried {
            self.pkg1_completions = take_completions_for(tree, &self.cfg.server_id);
            self.reported.extend(self.pkg1_completions.iter().cloned());
        }
        for c in &self.pkg1_completions {
            commands.push(completion_alert(&mut ids, c.clone()));
        }
        SyncMl {
            hdr,
            body: SyncBody {
                commands,
                final_: !self.cfg.faults.no_final,
            },
        }
    }

    fn deviation(&mut self, msg_id: &str, what: impl Into<String>) {
        self.deviations.push(Deviation {
            msg_id: msg_id.to_owned(),
            what: what.into(),
        });
    }

    /// Process one server message and say what to send (facts §2.1–§2.4, §6.2). Without
    /// the received bytes and headers: a server that must authenticate with HMAC is answered
    /// 407 (use [`Session::handle_received`]).
    pub fn handle(&mut self, tree: &mut Tree, msg: &SyncMl, hooks: &mut dyn CommandHooks) -> Step {
        let rx = Received {
            bytes: &[],
            hmac_header: None,
            msg,
        };
        self.handle_received(tree, &rx, hooks)
    }

    /// Process one server message with its exact bytes and `x-syncml-hmac` header (facts
    /// §6.3), and say what to send (facts §2.1–§2.4, §6.2, §8). The message is the answer
    /// to our last one, so that one counts as delivered ([`Session::delivered`]); a nonce
    /// issued in this reply is forgotten if the session ends with nothing sent.
    pub fn handle_received(
        &mut self,
        tree: &mut Tree,
        rx: &Received<'_>,
        hooks: &mut dyn CommandHooks,
    ) -> Step {
        self.delivered();
        let step = self.handle_inner(tree, rx, hooks);
        if matches!(step, Step::Finished(_)) {
            // facts §6.2: the Chal never left, so the server still uses the last nonce it got.
            self.pending_server_nonce = None;
        }
        step
    }

    fn handle_inner(
        &mut self,
        tree: &mut Tree,
        rx: &Received<'_>,
        hooks: &mut dyn CommandHooks,
    ) -> Step {
        let msg = rx.msg;
        let their_id = msg.hdr.msg_id.clone();
        if self.phase == Phase::Done {
            self.deviation(&their_id, "message after the session ended");
            return Step::Finished(EndReason::Protocol(
                "message after the session ended".into(),
            ));
        }
        if let Some(max) = self.cfg.max_msg_size {
            let len = rx.bytes.len() as u64;
            if len > max {
                // facts §1.3: the peer must not exceed the MaxMsgSize we announced. The
                // message is processed anyway.
                self.deviation(
                    &their_id,
                    format!(
                        "the message is {len} bytes, over the MaxMsgSize {max} we announced \
                         (facts §1.3: the peer must not exceed it); processed anyway"
                    ),
                );
            }
        }
        if msg.hdr.session_id != self.cfg.session_id {
            self.deviation(
                &their_id,
                format!(
                    "SessionID {:?} differs from the session's {:?} (facts §1.3)",
                    msg.hdr.session_id, self.cfg.session_id
                ),
            );
        }
        if let Some(r) = msg.hdr.resp_uri.as_ref().filter(|r| !r.is_empty()) {
            if is_https(self.target_uri()) && is_plain_http(r) {
                // DMRD-6.1.1.5-1, facts §6.4: a session protected by TLS never moves to
                // plain HTTP; the next message goes where the last one went.
                let here = self.target_uri().to_owned();
                self.deviation(
                    &their_id,
                    format!(
                        "RespURI {r:?} would move the session from HTTPS to plain HTTP; \
                         ignored, the session stays at {here} (DMRD-6.1.1.5-1)"
                    ),
                );
            } else {
                self.resp_uri = Some(r.clone());
            }
        }
        if let Some(m) = &msg.hdr.meta {
            self.server_max_msg_size = m.max_msg_size.or(self.server_max_msg_size);
            self.server_max_obj_size = m.max_obj_size.or(self.server_max_obj_size);
        }

        // 1. The server's verdict on our credentials: Status for our SyncHdr.
        let hdr_status = msg.body.commands.iter().find_map(|c| match c {
            Command::Status(s) if s.cmd_ref == "0" => Some(s),
            _ => None,
        });
        let mut send_cred = false;
        if let Some(s) = hdr_status {
            if s.msg_ref != self.last_sent_msg_id {
                self.deviation(
                    &their_id,
                    format!(
                        "Status for SyncHdr has MsgRef {:?}, expected {:?} (facts §1.4)",
                        s.msg_ref, self.last_sent_msg_id
                    ),
                );
            }
            if let Some(chal) = &s.chal {
                self.take_challenge(chal);
            }
            match s.code {
                StatusCode::AuthenticationAccepted => self.client_authenticated = true,
                StatusCode::InvalidCredentials | StatusCode::MissingCredentials => {
                    return self.challenged(tree, s, &their_id);
                }
                StatusCode::Ok => {
                    // facts §6.2: 200 with creds authenticates this message only.
                    send_cred = self.cfg.client_auth.is_some() && !self.client_authenticated;
                }
                c if c.is_success() => {
                    self.deviation(
                        &their_id,
                        format!(
                            "Status {} for our SyncHdr; expected 200, 212, 401 or 407 \
                             (facts §6.2); taken as 200",
                            c.as_u16()
                        ),
                    );
                    send_cred = self.cfg.client_auth.is_some() && !self.client_authenticated;
                }
                c => {
                    // The server refused the whole message (facts §3.1, e.g. 403, 500, 512):
                    // its commands are not executed and the session ends.
                    if matches!(c, StatusCode::Other(_)) {
                        self.deviation(
                            &their_id,
                            format!(
                                "Status {} for our SyncHdr is not a SyncML status code \
                                 (facts §3.1)",
                                c.as_u16()
                            ),
                        );
                    }
                    self.phase = Phase::Done;
                    return Step::Finished(EndReason::Refused(c));
                }
            }
        } else if matches!(self.phase, Phase::Package1 { .. }) {
            self.deviation(
                &their_id,
                "no Status for our SyncHdr (facts §2.1 package 2)",
            );
        }
        if matches!(self.phase, Phase::Package1 { .. }) {
            self.phase = Phase::Running;
        }

        // 2. Abort (facts §2.3): the client does not answer.
        let aborted = msg
            .body
            .commands
            .iter()
            .any(|c| matches!(c, Command::Alert(a) if a.code == Some(AlertCode::SessionAbort)));
        if aborted {
            self.phase = Phase::Done;
            return Step::Finished(EndReason::AbortedByServer);
        }

        // We are in the middle of sending our own package (facts §2.4).
        let continuing = !self.outbox.is_empty();

        // 3. A chunk we sent waits for its 213 before the next one (facts §8).
        if let Some((cmd_id, msg_id)) = self.awaiting_chunk.take() {
            let code = msg.body.commands.iter().find_map(|c| match c {
                Command::Status(s) if s.cmd_ref == cmd_id && s.msg_ref == msg_id => Some(s.code),
                _ => None,
            });
            if code != Some(StatusCode::ChunkedItemAccepted) {
                let got = code.map_or("no Status".to_owned(), |c| c.as_u16().to_string());
                self.outbox.abandon_chunk();
                self.deviation(
                    &their_id,
                    format!(
                        "{got} for our large-object chunk (CmdID {cmd_id} of message {msg_id}) \
                         instead of 213; the rest of the object is not sent (facts §8)"
                    ),
                );
            }
        }

        // 4. The server's credentials (facts §6.2, §6.3).
        let (hdr_code, hdr_chal) = self.check_server(rx);
        let server_ok = hdr_code.is_success();
        if self.cfg.server_auth.is_none() || self.server_authenticated {
            if let Some(n) = self.pending_client_nonce.take() {
                self.storable_client_nonce = Some(n);
            }
        }

        // 5. Commands.
        let management = msg
            .body
            .commands
            .iter()
            .any(|c| !matches!(c, Command::Status(_) | Command::Results(_)));
        if msg.body.final_ && !management && !continuing {
            // facts §2.2: no management command and no challenge to us → nothing is sent
            // and the session ends. facts §6.2: an unauthenticated server that sent no
            // commands does not get a Status-only challenge either.
            self.phase = Phase::Done;
            return Step::Finished(if server_ok {
                EndReason::Completed
            } else {
                EndReason::ServerNotAuthenticated
            });
        }
        let hdr = self.header(tree, send_cred);
        let mut ids = CmdIds::default();
        let msg_ref = if self.cfg.faults.wrong_msg_ref {
            format!("{their_id}9")
        } else {
            their_id.clone()
        };
        let mut hdr_st = status_for(&mut ids, &msg_ref, "0", "SyncHdr", hdr_code);
        hdr_st.target_refs = vec![msg.hdr.target.loc_uri.clone()];
        hdr_st.source_refs = vec![msg.hdr.source.loc_uri.clone()];
        hdr_st.chal = hdr_chal;
        let mut out: Vec<Command> = Vec::new();
        let who = Principal::server(self.cfg.server_id.clone());
        for cmd in &msg.body.commands {
            match cmd {
                Command::Status(_) | Command::Results(_) => {}
                Command::Alert(a) if a.code == Some(AlertCode::NextMessage) => {
                    // facts §2.4: Status for every Alert, 1222 included.
                    out.push(Command::Status(status_for(
                        &mut ids,
                        &msg_ref,
                        &a.cmd_id,
                        "Alert",
                        StatusCode::Ok,
                    )));
                }
                _ if !server_ok => {
                    // facts §6.2: an unauthenticated server's commands are not executed;
                    // each gets the header's code.
                    if let Some(id) = cmd.cmd_id() {
                        out.push(Command::Status(status_for(
                            &mut ids,
                            &msg_ref,
                            id,
                            cmd.name(),
                            hdr_code,
                        )));
                    }
                }
                _ => {
                    let o = self.processor.process(tree, &who, cmd, hooks);
                    self.emit_outcome(&mut ids, &msg_ref, &o, cmd_no_resp(cmd), &mut out);
                }
            }
        }
        // facts §6.2: an unauthenticated server gets only Status; completions stay queued in
        // the tree for the next reply.
        let completions = if server_ok {
            take_completions_for(tree, &self.cfg.server_id)
        } else {
            Vec::new()
        };
        for c in completions {
            self.reported.push(c.clone());
            out.push(completion_alert(&mut ids, c));
        }
        // facts §2.4: a non-final server message is answered without Final, asking for the
        // next message with 1222 when we have nothing but statuses to send.
        if !msg.body.final_ && !continuing {
            let only_status = out.iter().all(|c| matches!(c, Command::Status(_)));
            if only_status {
                out.push(Command::Alert(Alert {
                    cmd_id: ids.next(),
                    code: Some(AlertCode::NextMessage),
                    ..Alert::default()
                }));
            }
        }
        if !continuing {
            self.package_final = msg.body.final_;
        }
        self.outbox.push_front_all(out);
        Step::Send(Box::new(self.next_message(hdr, hdr_st)))
    }

    /// Turn `pending` (the message about to be sent) into an abort (facts §2.3): its header
    /// and its Status/Results for commands already executed are kept, every other command is
    /// dropped, Alert 1223 and `Final` are added, and the session is over — the server's
    /// answer, if any, is not processed. What was still queued is not sent.
    pub fn abort(&mut self, pending: SyncMl) -> SyncMl {
        let mut commands: Vec<Command> = pending
            .body
            .commands
            .into_iter()
            .filter(|c| matches!(c, Command::Status(_) | Command::Results(_)))
            .collect();
        let mut ids = CmdIds::default();
        for c in &mut commands {
            match c {
                Command::Status(st) => st.cmd_id = ids.next(),
                Command::Results(r) => r.cmd_id = ids.next(),
                _ => {}
            }
        }
        commands.push(Command::Alert(Alert {
            cmd_id: ids.next(),
            code: Some(AlertCode::SessionAbort),
            ..Alert::default()
        }));
        self.outbox = Outbox::default();
        self.awaiting_chunk = None;
        self.phase = Phase::Done;
        SyncMl {
            hdr: pending.hdr,
            body: SyncBody {
                commands,
                final_: true,
            },
        }
    }

    /// The next message of our package: the SyncHdr Status and as much of the outbox as fits
    /// the server's `MaxMsgSize` (facts §2.4); `Final` only on the package's last message.
    fn next_message(&mut self, hdr: SyncHdr, hdr_st: Status) -> SyncMl {
        let filled = self.outbox.fill(
            &hdr,
            &Command::Status(hdr_st.clone()),
            self.server_max_msg_size,
            self.encoding,
        );
        if let Some(name) = &filled.oversized {
            self.own_deviations.push(OwnDeviation {
                our_msg_id: hdr.msg_id.clone(),
                what: format!(
                    "our {name} does not fit the server's MaxMsgSize {:?} even alone; sent \
                     whole since a command cannot be split (facts §2.4)",
                    self.server_max_msg_size
                ),
            });
        }
        self.awaiting_chunk = filled
            .awaiting_chunk_status
            .map(|id| (id, hdr.msg_id.clone()));
        let mut commands = Vec::with_capacity(filled.commands.len() + 1);
        commands.push(Command::Status(hdr_st));
        commands.extend(filled.commands);
        let final_ = self.outbox.is_empty() && self.package_final && !self.cfg.faults.no_final;
        SyncMl {
            hdr,
            body: SyncBody { commands, final_ },
        }
    }

    /// A Chal on our SyncHdr status: its nonce is what we use next (facts §6.2: the newest
    /// nonce even from an unauthenticated peer); it may be stored only once the server is
    /// known (checked later).
    fn take_challenge(&mut self, chal: &Chal) {
        let Some(c) = self.cfg.client_auth.as_mut() else {
            return;
        };
        if let Some(t) = chal.meta.type_.as_deref() {
            let ty: AuthType = t.parse().unwrap_or(AuthType::Other(t.to_owned()));
            if matches!(ty, AuthType::Basic | AuthType::Md5 | AuthType::Mac) {
                c.auth_type = ty;
            }
        }
        if let Some(n) = chal.meta.next_nonce.as_deref() {
            if let Ok(raw) = auth::b64_decode(n) {
                if !self.cfg.faults.stale_nonce {
                    c.nonce.clone_from(&raw);
                }
                self.pending_client_nonce = Some(raw);
            }
        }
    }

    /// 401/407 on our SyncHdr: restart package 1 with credentials once (facts §6.2).
    fn challenged(&mut self, tree: &mut Tree, s: &Status, their_id: &str) -> Step {
        let first = matches!(self.phase, Phase::Package1 { retried: false });
        if s.chal.is_none() {
            self.deviation(
                their_id,
                format!("status {} without Chal (facts §6.2)", s.code.as_u16()),
            );
        }
        if !first || s.chal.is_none() || self.cfg.client_auth.is_none() {
            self.phase = Phase::Done;
            return Step::Finished(EndReason::AuthFailed(s.code));
        }
        self.phase = Phase::Package1 { retried: true };
        let mut m = self.start(tree);
        // `start` resets the retry marker; keep it.
        self.phase = Phase::Package1 { retried: true };
        if m.hdr.cred.is_none() {
            m.hdr.cred = self
                .cfg
                .client_auth
                .as_ref()
                .filter(|c| c.auth_type != AuthType::Mac)
                .map(Credentials::cred);
        }
        Step::Send(Box::new(m))
    }

    /// Verify the server's credentials; the SyncHdr status code to answer and the Chal.
    fn check_server(&mut self, rx: &Received<'_>) -> (StatusCode, Option<Chal>) {
        let Some(required) = self.cfg.server_auth.clone() else {
            return (StatusCode::Ok, None);
        };
        let mac = required.auth_type == AuthType::Mac;
        // facts §6.3: HMAC authenticates one message; every message is checked.
        if self.cfg.faults.skip_server_auth || (self.server_authenticated && !mac) {
            return (StatusCode::Ok, None);
        }
        let verdict = if mac {
            required.verify_hmac(rx.hmac_header, rx.bytes)
        } else {
            match &rx.msg.hdr.cred {
                None => StatusCode::MissingCredentials,
                Some(c) if required.verify(c) => StatusCode::AuthenticationAccepted,
                Some(_) => StatusCode::InvalidCredentials,
            }
        };
        // facts §6.2: md5 and MAC carry a NextNonce (MAC with every message), basic none. A
        // fresh nonce (new, unpredictable) is pending until the message carrying it is
        // delivered; the server's next credentials are checked against the last delivered.
        let nonced = required.auth_type == AuthType::Md5 || mac;
        let nonce = nonced.then(|| self.nonces.next_nonce().to_vec());
        self.pending_server_nonce.clone_from(&nonce);
        let chal = (nonced || !verdict.is_success()).then(|| Chal {
            meta: Meta {
                type_: Some(required.auth_type.as_str().to_owned()),
                format: Some("b64".into()),
                next_nonce: nonce.as_deref().map(auth::b64),
                ..Meta::default()
            },
        });
        self.server_authenticated = verdict.is_success();
        (verdict, chal)
    }

    fn emit_outcome(
        &self,
        ids: &mut CmdIds,
        msg_ref: &str,
        o: &CommandOutcome,
        no_resp: bool,
        out: &mut Vec<Command>,
    ) {
        if let Some((target, source)) = &o.broken_chunk {
            // facts §8: Alert 1225 naming the unfinished object.
            out.push(Command::Alert(Alert {
                cmd_id: ids.next(),
                code: Some(AlertCode::NoEndOfData),
                items: vec![Item {
                    target: target.clone().map(Locator::uri),
                    source: source.clone().map(Locator::uri),
                    ..Item::default()
                }],
                ..Alert::default()
            }));
        }
        // facts §8: the peer must not send an object bigger than the MaxObjSize it was told;
        // facts §3.2 lists 413 for Get, so a Get item whose value is bigger is answered 413
        // without Results; the Get's other items keep their codes and Results.
        let max_obj = self.server_max_obj_size.filter(|_| o.cmd == "Get");
        let too_big =
            |i: &Item| max_obj.is_some_and(|m| i.data.as_ref().is_some_and(|d| data_size(d) > m));
        let owners: Vec<Option<usize>> = o.results.iter().map(|r| result_owner(o, r)).collect();
        let refused_item = |k: usize| {
            o.results
                .iter()
                .zip(&owners)
                .any(|(r, owner)| too_big(r) && (o.items.len() <= 1 || *owner == Some(k)))
        };
        if !no_resp {
            if o.items.len() <= 1 {
                let code = if refused_item(0) {
                    StatusCode::RequestEntityTooLarge
                } else {
                    o.code
                };
                let mut st = status_for(ids, msg_ref, &o.cmd_id, o.cmd, code);
                if let Some(it) = o.items.first() {
                    st.target_refs.extend(it.target.clone());
                    st.source_refs.extend(it.source.clone());
                }
                if o.cmd == "Alert" && !o.results.is_empty() {
                    // UI answers travel in the Alert's Status items (facts §3.4).
                    st.items.clone_from(&o.results);
                }
                out.push(Command::Status(st));
            } else {
                // One Status per item, each with its own code and TargetRef (facts §1.4).
                for (k, it) in o.items.iter().enumerate() {
                    let code = if refused_item(k) {
                        StatusCode::RequestEntityTooLarge
                    } else {
                        it.code
                    };
                    let mut st = status_for(ids, msg_ref, &o.cmd_id, o.cmd, code);
                    st.target_refs.extend(it.target.clone());
                    st.source_refs.extend(it.source.clone());
                    out.push(Command::Status(st));
                }
            }
        }
        // The Results items still to send: none of a refused item's, and never one over
        // MaxObjSize (facts §8), even one no item could be matched to.
        let items: Vec<Item> = o
            .results
            .iter()
            .zip(&owners)
            .filter(|(r, owner)| {
                let refused = if o.items.len() <= 1 {
                    refused_item(0)
                } else {
                    owner.is_some_and(refused_item)
                };
                !too_big(r) && !refused
            })
            .map(|(r, _)| r.clone())
            .collect();
        if o.cmd == "Get" && !items.is_empty() && !self.cfg.faults.no_results {
            // facts §1.4: Results after the Status of the Get, CmdRef = the Get's CmdID.
            out.push(Command::Results(Results {
                cmd_id: ids.next(),
                msg_ref: Some(msg_ref.to_owned()),
                cmd_ref: o.cmd_id.clone(),
                items,
                ..Results::default()
            }));
        }
        for child in &o.children {
            self.emit_outcome(ids, msg_ref, child, false, out);
        }
    }
}

/// The size of an item's data as carried in `Data` (b64 text counts encoded, facts §8).
/// Embedded markup (a TNDS document, facts §9.2) counts by its XML text, the form it is
/// chunked in.
fn data_size(d: &Data) -> u64 {
    match d {
        Data::Text(t) => t.len() as u64,
        Data::Binary(b) => b.len() as u64,
        Data::Markup(m) => m.to_xml().len() as u64,
    }
}

/// The index of the Get item (in `o.items`) a Results item answers: the successful item whose
/// Target is the Results item's Source (plain, property and `?list=TNDS` Gets name the
/// requested URI), else the first successful `?list=` item whose node holds it (`Struct`
/// and `StructData` name each node, facts §4.6). `None` if no item matches.
fn result_owner(o: &CommandOutcome, r: &Item) -> Option<usize> {
    let src = r.source.as_ref().map(|l| l.loc_uri.as_str())?;
    let ok = |it: &&dm_tree::ItemStatus| it.code.is_success();
    let target = |it: &dm_tree::ItemStatus| it.target.clone().unwrap_or_default();
    if let Some(k) = o.items.iter().position(|it| ok(&it) && target(it) == src) {
        return Some(k);
    }
    let bare = |u: &str| u.trim_start_matches("./").trim_end_matches('/').to_owned();
    let src = bare(src);
    o.items.iter().position(|it| {
        let t = target(it);
        let Some((node, _)) = t.split_once("?list=") else {
            return false;
        };
        let node = bare(node);
        ok(&it)
            && (node.is_empty()
                || node == "."
                || src == node
                || src.starts_with(&format!("{node}/")))
    })
}

/// The completions for `server_id` (or for no particular server); the others stay queued in
/// the tree for their own server's session.
fn take_completions_for(tree: &mut Tree, server_id: &str) -> Vec<Completion> {
    let (mine, others): (Vec<_>, Vec<_>) = tree
        .take_completions()
        .into_iter()
        .partition(|c| c.server.as_deref().is_none_or(|s| s == server_id));
    for c in others {
        tree.complete_exec(c);
    }
    mine
}

/// Generic Alert 1226 reporting an asynchronous Exec's end (facts §3.5): the Exec's
/// Correlator, Item Source = the executed node, Meta Type/Format/Mark, Data = the result.
fn completion_alert(ids: &mut CmdIds, c: Completion) -> Command {
    Command::Alert(Alert {
        cmd_id: ids.next(),
        code: Some(AlertCode::GenericAlert),
        correlator: c.correlator,
        items: vec![Item {
            source: Some(Locator::uri(c.source.to_string())),
            meta: Some(Meta {
                type_: Some(c.alert_type),
                format: Some(c.format),
                mark: c.mark,
                ..Meta::default()
            }),
            data: Some(Data::Text(c.data)),
            ..Item::default()
        }],
        ..Alert::default()
    })
}

fn cmd_no_resp(cmd: &Command) -> bool {
    match cmd {
        Command::Add(c)
        | Command::Replace(c)
        | Command::Delete(c)
        | Command::Copy(c)
        | Command::Get(c) => c.no_resp,
        Command::Exec(e) => e.no_resp,
        Command::Alert(a) => a.no_resp,
        Command::Atomic(c) | Command::Sequence(c) => c.no_resp,
        _ => false,
    }
}

fn status_for(
    ids: &mut CmdIds,
    msg_ref: &str,
    cmd_ref: &str,
    cmd: &str,
    code: StatusCode,
) -> Status {
    Status {
        cmd_id: ids.next(),
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

/// CmdIDs of one message: 1, 2, 3, ... (unique within the message, facts §1.3).
#[derive(Debug, Default)]
struct CmdIds(u64);

impl CmdIds {
    fn next(&mut self) -> String {
        self.0 += 1;
        self.0.to_string()
    }
}

/// Whether `uri` is an `https://` URL (scheme compared without regard to case).
fn is_https(uri: &str) -> bool {
    uri.get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

/// Whether `uri` is an `http://` URL (scheme compared without regard to case).
fn is_plain_http(uri: &str) -> bool {
    uri.get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
}
