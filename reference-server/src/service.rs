//! The DM service: what the endpoint does with each device message. It decodes the message
//! (leniently, recording each leniency), finds the device and its live session by (DevId,
//! SessionID), runs the sans-IO engine, stores everything the engine learned in one
//! transaction (device state, job updates, alerts, the transcript), and answers in the
//! device's encoding. Sessions of different devices never wait for each other; messages of
//! one session are handled one at a time.
//!
//! Bad input (docs/reference-server.md "Bad input"): a message whose SyncHdr can be read
//! but not the rest gets a SyncML Status 400 for the SyncHdr (facts §3.1); bytes that are
//! not a DM message at all get HTTP 400 with a one-line reason; an unregistered device gets
//! Status 403 for its SyncHdr and no session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dm_protocol::codec::{self, DecodeOptions, Encoding};
use dm_protocol::codes::StatusCode;
use dm_protocol::model::{Command, Locator, Status, SyncBody, SyncHdr, SyncMl};
use dm_tree::Clock;

use crate::endpoint::{Backend, BoxFuture, DmRequest, DmResponse};
use crate::faults::ServerFaults;
use crate::model::{Direction, JobState, TranscriptEntry};
use crate::session::ServerTester;
use crate::session::{Output, Received, ServerSession, SessionSetup};
use crate::store::{SessionChanges, Store, StoreError};

/// Settings of the DM service.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Our URL as devices use it: `Source/LocURI` of our messages (facts §1.3).
    pub server_uri: String,
    /// `MaxMsgSize` we announce.
    pub max_msg_size: Option<u64>,
    /// `MaxObjSize` we announce.
    pub max_obj_size: Option<u64>,
    /// Fault-injection switches.
    pub faults: ServerFaults,
    /// Seconds without a message after which a session is ended ("timed out").
    pub idle_timeout_secs: u64,
    /// Seed of the nonces (replayable runs); `None`: from the operating system.
    pub seed: Option<u64>,
}

struct Live {
    engine: ServerSession,
}

type Key = (String, String);

/// Makes the tester hooks of each new session, given the device's DevId: the harness's
/// tester mode (scripted misbehaviour, raw observation; see [`ServerTester`]).
pub type TesterFactory = Arc<dyn Fn(&str) -> Box<dyn ServerTester> + Send + Sync>;

/// The [`Backend`] of the endpoint. Cheap to share (`Arc`).
pub struct DmService {
    store: Store,
    tester: Option<TesterFactory>,
    config: ServiceConfig,
    clock: Arc<dyn Clock>,
    sessions: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<Live>>>>,
    seeds: Mutex<dm_protocol::auth::NonceGenerator>,
}

impl std::fmt::Debug for DmService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmService")
            .field("server_uri", &self.config.server_uri)
            .finish_non_exhaustive()
    }
}

impl TranscriptEntry {
    /// The record of one message: its bytes (base64), encoding, pretty XML when it decodes,
    /// the representation violations found plus `notes`. Used by the service's transcripts
    /// and by the harness's scenario reports, so both show a message the same way.
    pub fn of_bytes(direction: Direction, time: u64, bytes: &[u8], notes: Vec<String>) -> Self {
        let decoded = codec::decode(bytes, DecodeOptions::LENIENT).ok();
        let mut violations: Vec<String> = decoded
            .as_ref()
            .map(|d| d.violations.iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        violations.extend(notes);
        TranscriptEntry {
            direction,
            time,
            encoding: Encoding::detect(bytes).as_str().into(),
            bytes_b64: dm_protocol::auth::b64(bytes),
            xml: decoded.and_then(|d| codec::to_pretty_xml(&d.message).ok()),
            violations,
        }
    }
}

/// Store what one `handle` produced — the two transcript entries, then the state, job
/// updates, alerts and the session's end in one transaction — off the async threads (SQLite
/// writes wait for the disk).
async fn persist(
    store: Store,
    dev_id: String,
    sid: String,
    mut received: TranscriptEntry,
    out: Output,
    now: u64,
) -> Result<(), StoreError> {
    let work = move || {
        received.violations.extend(out.deviations.iter().cloned());
        store.append_transcript(&dev_id, &sid, &received)?;
        if let Some(bytes) = &out.bytes {
            let notes = out
                .own_deviations
                .iter()
                .map(|d| format!("ours: {d}"))
                .collect();
            store.append_transcript(
                &dev_id,
                &sid,
                &TranscriptEntry::of_bytes(Direction::Sent, now, bytes, notes),
            )?;
        }
        store.commit_session_changes(
            &SessionChanges {
                dev_id: dev_id.clone(),
                state: Some(out.state.clone()),
                jobs: out.jobs.clone(),
                alerts: out.alerts.clone(),
                ended_session: out.ended.as_ref().map(|_| sid.clone()),
            },
            now,
        )?;
        if let Some(why) = &out.ended {
            store.end_session(&dev_id, &sid, now, why)?;
        }
        Ok(())
    };
    match tokio::task::spawn_blocking(work).await {
        Ok(r) => r,
        Err(e) => Err(StoreError::Task(e.to_string())),
    }
}

/// What a received Content-Type tells (facts §1.1), as leniency notes.
fn content_type_notes(content_type: Option<&str>, body: &[u8]) -> Vec<String> {
    codec::content_type_leniency(content_type, body)
        .map(|l| format!("leniency: {l}"))
        .into_iter()
        .collect()
}

fn store_failure(e: StoreError) -> DmResponse {
    // The details (paths, SQL) are for the operator, not for a device.
    eprintln!("dm-server: storing a session failed: {e}");
    DmResponse::text(
        500,
        "the server could not store the session; see the server's log",
    )
}

impl DmService {
    /// A service over `store`. Sessions left open by a previous process (a crash or a kill)
    /// are ended as "server restarted" and their unfinished jobs queued again, so no job is
    /// lost (issue 6 item 6).
    pub fn new(
        store: Store,
        config: ServiceConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let now = clock.now_unix();
        for device in store.devices()? {
            for s in store.sessions(&device.dev_id)? {
                if s.ended_at.is_none() {
                    store.end_session(&device.dev_id, &s.session_id, now, "server restarted")?;
                }
            }
            for job in store.jobs(&device.dev_id)? {
                if let (JobState::Sent, Some(sid)) = (job.state, &job.session_id) {
                    store.interrupt_jobs(&device.dev_id, sid, now)?;
                }
            }
        }
        let seeds = match config.seed {
            Some(s) => dm_protocol::auth::NonceGenerator::from_seed(s),
            None => dm_protocol::auth::NonceGenerator::from_entropy(),
        };
        Ok(DmService {
            store,
            tester: None,
            config,
            clock,
            sessions: Mutex::new(HashMap::new()),
            seeds: Mutex::new(seeds),
        })
    }

    /// Give every session opened from now on the hooks `factory` makes (tester mode).
    #[must_use]
    pub fn with_tester(mut self, factory: TesterFactory) -> Self {
        self.tester = Some(factory);
        self
    }

    fn next_seed(&self) -> u64 {
        match self.seeds.lock() {
            Ok(mut g) => g.next_u64(),
            Err(p) => p.into_inner().next_u64(),
        }
    }

    /// The live session of `key`, opened (and its start stored) if there is none — under the
    /// map's lock, so two first messages of one session never open two.
    #[allow(clippy::type_complexity)]
    fn live_or_open(
        &self,
        key: &Key,
    ) -> Result<Result<Arc<tokio::sync::Mutex<Live>>, String>, StoreError> {
        let mut map = match self.sessions.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        if let Some(l) = map.get(key) {
            return Ok(Ok(l.clone()));
        }
        Ok(match self.open(&key.0, &key.1)? {
            Ok(l) => {
                let l = Arc::new(tokio::sync::Mutex::new(l));
                map.insert(key.clone(), l.clone());
                Ok(l)
            }
            Err(why) => Err(why),
        })
    }

    fn forget(&self, key: &Key) {
        match self.sessions.lock() {
            Ok(mut m) => m.remove(key),
            Err(p) => p.into_inner().remove(key),
        };
    }

    /// A new engine for the device's session `sid`, its start stored.
    fn open(&self, dev_id: &str, sid: &str) -> Result<Result<Live, String>, StoreError> {
        let device = self.store.device(dev_id)?;
        let state = self.store.device_state(dev_id)?;
        let jobs = self
            .store
            .jobs(dev_id)?
            .into_iter()
            .filter(|j| {
                matches!(
                    j.state,
                    JobState::Queued | JobState::Interrupted | JobState::Waiting
                )
            })
            .collect();
        let setup = SessionSetup {
            device,
            state,
            server_uri: self.config.server_uri.clone(),
            jobs,
            seed: self.next_seed(),
            max_msg_size: self.config.max_msg_size,
            max_obj_size: self.config.max_obj_size,
            faults: self.config.faults.clone(),
            idle_timeout_secs: self.config.idle_timeout_secs,
        };
        let mut engine = match ServerSession::new(setup, self.clock.clone()) {
            Ok(e) => e,
            Err(e) => return Ok(Err(e.to_string())),
        };
        if let Some(factory) = &self.tester {
            engine.set_tester(factory(dev_id));
        }
        // SCOMO-OSR-Device-XX: the device's own requests become jobs of this session.
        engine.set_requests(Box::new(crate::packages::StoreRequests {
            served: false,
            store: self.store.clone(),
            base: crate::packages::url_base(&self.config.server_uri).to_owned(),
            now: self.clock.now_unix(),
        }));
        self.store
            .start_session(dev_id, sid, self.clock.now_unix())?;
        Ok(Ok(Live { engine }))
    }

    /// End every session idle for longer than the timeout (facts §2.1 sets none; ours is a
    /// project choice, `idle_timeout_secs`): their unfinished jobs are queued again.
    pub async fn reap(&self) -> Result<usize, StoreError> {
        let now = self.clock.now_unix();
        let all: Vec<(Key, Arc<tokio::sync::Mutex<Live>>)> = match self.sessions.lock() {
            Ok(m) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Err(p) => p
                .into_inner()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        let mut ended = 0;
        let mut first_error = None;
        for (key, live) in all {
            let mut live = live.lock().await;
            if live.engine.ended().is_some() || !live.engine.expired(now) {
                continue;
            }
            let out = live.engine.time_out();
            // The device state is not written back: a newer session of the same device may
            // have changed it since this one last did (nonces, replay list).
            let saved = self
                .store
                .commit_session_changes(
                    &SessionChanges {
                        dev_id: key.0.clone(),
                        state: None,
                        jobs: out.jobs.clone(),
                        alerts: out.alerts.clone(),
                        ended_session: Some(key.1.clone()),
                    },
                    now,
                )
                .and_then(|_| {
                    let why = out.ended.clone().unwrap_or_else(|| "timed out".into());
                    self.store.end_session(&key.0, &key.1, now, &why)
                });
            drop(live);
            // Forgotten whatever happened, so one bad session never blocks the others.
            self.forget(&key);
            match saved {
                Ok(()) => ended += 1,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(ended),
        }
    }

    /// Answer one DM message (see the module documentation).
    pub async fn handle(&self, req: DmRequest) -> DmResponse {
        let now = self.clock.now_unix();
        let notes = content_type_notes(req.content_type.as_deref(), &req.body);
        let decoded = match codec::decode(&req.body, DecodeOptions::LENIENT) {
            Ok(d) => d,
            Err(e) => return self.unreadable(&req.body, &e.to_string()),
        };
        let msg = decoded.message;
        let dev_id = msg.hdr.source.loc_uri.clone();
        let sid = msg.hdr.session_id.clone();
        match self.store.device(&dev_id) {
            Ok(_) => {}
            Err(StoreError::UnknownDevice { .. }) => {
                return header_status(
                    &msg,
                    decoded.encoding,
                    StatusCode::Forbidden,
                    &self.config.server_uri,
                )
            }
            Err(e) => return store_failure(e),
        }
        let key = (dev_id.clone(), sid.clone());
        let live = match self.live_or_open(&key) {
            Ok(Ok(l)) => l,
            Ok(Err(why)) => {
                eprintln!("dm-server: cannot start session {sid} of {dev_id}: {why}");
                return DmResponse::text(500, "cannot start the session; see the server's log");
            }
            Err(e) => return store_failure(e),
        };
        let mut live = live.lock().await;
        if live.engine.ended().is_some() {
            // The reaper ended it while this message waited: the device is told its session
            // is over (facts §3.1: 408 Request timeout) and starts a new one.
            drop(live);
            self.forget(&key);
            return header_status(
                &msg,
                decoded.encoding,
                StatusCode::RequestTimeout,
                &self.config.server_uri,
            );
        }
        let out = live.engine.handle(&Received {
            bytes: &req.body,
            hmac_header: req.hmac.as_deref(),
            msg: &msg,
        });
        let received = TranscriptEntry::of_bytes(Direction::Received, now, &req.body, notes);
        let ended = out.ended.is_some();
        let internal = out.internal_error.clone();
        let (bytes, encoding, headers) = (out.bytes.clone(), out.encoding, out.headers.clone());
        let saved = persist(
            self.store.clone(),
            dev_id.clone(),
            sid.clone(),
            received,
            out,
            now,
        )
        .await;
        if let Err(e) = saved {
            return store_failure(e);
        }
        if ended {
            drop(live);
            self.forget(&key);
        }
        if let Some(why) = internal {
            // Our reply could not be encoded: the session was ended (its jobs go out again);
            // the device gets a plain 500, the operator the reason.
            eprintln!("dm-server: session {sid} of {dev_id}: {why}");
            return DmResponse::text(
                500,
                "the server could not encode its reply; see the server's log",
            );
        }
        let out_bytes = bytes;
        match out_bytes {
            Some(body) => DmResponse {
                status: 200,
                content_type: encoding.content_type().into(),
                headers,
                body,
            },
            // facts §2.3: nothing is sent after the session ended.
            None => DmResponse {
                status: 204,
                content_type: encoding.content_type().into(),
                headers: Vec::new(),
                body: Vec::new(),
            },
        }
    }

    /// Bytes the codec refused: a SyncML Status 400 for the SyncHdr when the header can be
    /// read, else HTTP 400 with the reason.
    fn unreadable(&self, body: &[u8], why: &str) -> DmResponse {
        let Some(hdr) = readable_header(body) else {
            return DmResponse::text(400, format!("not a SyncML DM message: {why}"));
        };
        let msg = SyncMl {
            hdr,
            body: SyncBody::default(),
        };
        header_status(
            &msg,
            Encoding::detect(body),
            StatusCode::BadRequest,
            &self.config.server_uri,
        )
    }
}

/// The SyncHdr of a message whose body could not be decoded, if the header itself can be
/// read (the message cut after `</SyncHdr>` and closed again).
fn readable_header(body: &[u8]) -> Option<SyncHdr> {
    if Encoding::detect(body) != Encoding::Xml {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let end = text.find("</SyncHdr>")? + "</SyncHdr>".len();
    let start = text[..end].find("<SyncML")?;
    let head = &text[start..end];
    let open_end = head.find('>')? + 1;
    let candidate = format!(
        "{}{}<SyncBody/></SyncML>",
        &head[..open_end],
        &head[open_end..]
    );
    codec::decode(candidate.as_bytes(), DecodeOptions::LENIENT)
        .ok()
        .map(|d| d.message.hdr)
}

/// A final message with only the Status for the device's SyncHdr (facts §1.4, §3.1).
fn header_status(
    msg: &SyncMl,
    encoding: Encoding,
    code: StatusCode,
    server_uri: &str,
) -> DmResponse {
    let hdr = SyncHdr {
        ver_dtd: "1.2".into(),
        ver_proto: "DM/1.2".into(),
        session_id: msg.hdr.session_id.clone(),
        msg_id: "1".into(),
        target: Locator::uri(msg.hdr.source.loc_uri.clone()),
        source: Locator::uri(server_uri.to_owned()),
        ..SyncHdr::default()
    };
    let status = Status {
        cmd_id: "1".into(),
        msg_ref: msg.hdr.msg_id.clone(),
        cmd_ref: "0".into(),
        cmd: "SyncHdr".into(),
        target_refs: vec![msg.hdr.target.loc_uri.clone()],
        source_refs: vec![msg.hdr.source.loc_uri.clone()],
        cred: None,
        chal: None,
        items: Vec::new(),
        code,
    };
    let reply = SyncMl {
        hdr,
        body: SyncBody {
            commands: vec![Command::Status(status)],
            final_: true,
        },
    };
    match codec::encode(&reply, encoding) {
        Ok(body) => DmResponse {
            status: 200,
            content_type: encoding.content_type().into(),
            headers: Vec::new(),
            body,
        },
        Err(e) => DmResponse::text(500, format!("cannot encode our answer: {e}")),
    }
}

impl Backend for Arc<DmService> {
    fn dm(&self, req: DmRequest) -> BoxFuture<DmResponse> {
        let me = self.clone();
        Box::pin(async move { me.handle(req).await })
    }

    fn content(&self, name: &str) -> Option<(String, Vec<u8>)> {
        self.store
            .content(name)
            .ok()
            .map(|c| (c.content_type, c.bytes))
    }

    /// Device uploads are kept as opaque bytes (`application/octet-stream`, whatever the
    /// device said), so a stored upload can never be served as a page.
    fn upload(&self, name: &str, _content_type: &str, body: Vec<u8>) -> Result<(), String> {
        self.store
            .put_content(
                &format!("uploads/{name}"),
                "application/octet-stream",
                &body,
                self.clock.now_unix(),
            )
            .map_err(|e| e.to_string())
    }
}
