//! The client peer of a scenario: the client under test (through its adapter) or, when a
//! server is under test, the reference client library in tester mode (a device in a scratch
//! directory, driven with tester hooks that script its misbehaviour and see every byte).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dm_client::device::{Device, SessionRequest};
use dm_client::driver::Direction;
use dm_client::session::EndReason;
use dm_client::tester::{SendAction, TesterHooks};
use dm_protocol::model::{Alert, Cred, SyncMl};

use super::world::{Msg, Observed, Party, TlsFailure, Why};
use crate::adapter::exec::{ActionOutput, ExecAdapter};
use crate::adapter::manual::ManualAdapter;
use crate::adapter::reference::ReferenceClient;
use crate::profile::Credentials;

/// Misbehaviour of the tester client, set by Given steps (server role).
#[derive(Debug, Clone, Default)]
pub struct ClientScript {
    /// Replace every MsgRef of our Statuses with a wrong one.
    pub wrong_msg_ref: bool,
    /// Send the credentials of the previous session again (a replay).
    pub replay_credentials: bool,
    /// Send no credentials at all.
    pub no_credentials: bool,
    /// Abort (Alert 1223) instead of sending our second message.
    pub abort_second: bool,
    /// Send bytes that are not a DM message instead of package 1.
    pub garbage: bool,
    /// Drop the connection after sending our second message.
    pub drop_second: bool,
    /// Corrupt the `x-syncml-hmac` header.
    pub bad_hmac: bool,
    /// Send package 1 without Final: the package goes on in a next message (facts §2.4), so
    /// the server must answer with statuses and Alert 1222 only.
    pub open_package1: bool,
}

/// The tester hooks of one tester-client session.
struct Hooks {
    script: ClientScript,
    replay: Option<Cred>,
    first_cred: Option<Cred>,
    sent: usize,
}

impl TesterHooks for Hooks {
    fn abort_instead(&mut self, _msg: &SyncMl) -> bool {
        self.script.abort_second && self.sent == 1
    }

    fn before_encode(&mut self, msg: &mut SyncMl) {
        if self.sent == 0 {
            if self.script.open_package1 {
                msg.body.final_ = false;
            }
            self.first_cred = msg.hdr.cred.clone();
            if self.script.replay_credentials {
                if let Some(old) = &self.replay {
                    msg.hdr.cred = Some(old.clone());
                }
            }
            if self.script.no_credentials {
                msg.hdr.cred = None;
            }
        }
        if self.script.open_package1 && self.sent == 1 {
            // The package's last message: Final, and no request for more of the server's.
            msg.body.final_ = true;
            msg.body.commands.retain(|c| {
                !matches!(c, dm_protocol::model::Command::Alert(a)
                    if a.code.is_some_and(|c| c.as_u16() == 1222))
            });
        }
        if self.script.wrong_msg_ref {
            for c in &mut msg.body.commands {
                if let dm_protocol::model::Command::Status(s) = c {
                    s.msg_ref.push('9');
                }
            }
        }
    }

    fn replace_bytes(&mut self, _msg: &SyncMl, _encoded: &[u8]) -> Option<Vec<u8>> {
        (self.script.garbage && self.sent == 0).then(|| b"this is not a SyncML message".to_vec())
    }

    fn edit_headers(&mut self, _msg: &SyncMl, headers: &mut Vec<(String, String)>) {
        if self.script.bad_hmac {
            for (name, value) in headers.iter_mut() {
                if name == dm_client::session::HMAC_HEADER {
                    // Flip the MAC's last character: the header stays well-formed.
                    let flipped = if value.ends_with('A') { 'B' } else { 'A' };
                    value.pop();
                    value.push(flipped);
                }
            }
        }
    }

    fn send_action(&mut self, _msg: &SyncMl) -> SendAction {
        self.sent += 1;
        if self.script.drop_second && self.sent == 2 {
            SendAction::DropAfterSend
        } else {
            SendAction::Send
        }
    }
}

/// The reference client library as the tester's device.
pub struct TesterClient {
    device: Device,
    last_cred: Option<Cred>,
}

/// What the tester device is.
#[derive(Debug, Clone)]
pub struct TesterDevice<'a> {
    /// DevId.
    pub dev_id: &'a str,
    /// The server's ServerID.
    pub server_id: &'a str,
    /// The server's DM URL.
    pub url: &'a str,
    /// What the device presents.
    pub client_auth: Option<&'a Credentials>,
    /// What the device requires of the server.
    pub server_auth: Option<&'a Credentials>,
    /// MaxMsgSize announced.
    pub max_msg_size: Option<u64>,
    /// MaxObjSize announced.
    pub max_obj_size: Option<u64>,
    /// WBXML instead of XML.
    pub wbxml: bool,
    /// Start with a client nonce the server does not expect (its first credentials fail).
    pub unknown_nonce: bool,
    /// The software originator to trust (SCOMO on): key id and base64 public key.
    pub trust: Option<(String, String)>,
    /// The CA certificates (PEM files) trusted for an `https://` server.
    pub trust_anchors: &'a [std::path::PathBuf],
}

fn auth_table(c: Option<&Credentials>) -> Option<toml::Value> {
    c.map(|c| {
        let mut t = toml::Table::new();
        t.insert("type".into(), c.kind.clone().into());
        t.insert("name".into(), c.name.clone().into());
        t.insert("secret".into(), c.secret.clone().into());
        toml::Value::Table(t)
    })
}

impl TesterClient {
    /// Create the device in `dir`.
    pub fn create(dir: &Path, d: &TesterDevice<'_>, timeout: Duration) -> Result<Self, Why> {
        let err = |e: String| Why::Error(format!("cannot create the tester device: {e}"));
        let mut device = toml::Table::new();
        device.insert("dev_id".into(), d.dev_id.into());
        device.insert("manufacturer".into(), "dmconf".into());
        device.insert("model".into(), "tester".into());
        device.insert("large_objects".into(), d.max_obj_size.is_some().into());
        if let Some(m) = d.max_msg_size {
            device.insert("max_msg_size".into(), (m as i64).into());
        }
        if let Some(m) = d.max_obj_size {
            device.insert("max_obj_size".into(), (m as i64).into());
        }
        let mut account = toml::Table::new();
        account.insert("server_id".into(), d.server_id.into());
        account.insert("url".into(), d.url.into());
        account.insert(
            "encoding".into(),
            if d.wbxml { "wbxml" } else { "xml" }.into(),
        );
        if let Some(mut v) = auth_table(d.client_auth) {
            if let (true, Some(t)) = (d.unknown_nonce, v.as_table_mut()) {
                t.insert("nonce".into(), "dmconf-unknown-nonce".into());
            }
            account.insert("client_auth".into(), v);
        }
        if let Some(v) = auth_table(d.server_auth) {
            account.insert("server_auth".into(), v);
        }
        let mut transport = toml::Table::new();
        transport.insert("retries".into(), 0.into());
        transport.insert(
            "read_timeout_secs".into(),
            (timeout.as_secs() as i64).into(),
        );
        if !d.trust_anchors.is_empty() {
            transport.insert(
                "trust_anchors".into(),
                toml::Value::Array(
                    d.trust_anchors
                        .iter()
                        .map(|p| p.display().to_string().into())
                        .collect(),
                ),
            );
        }
        let mut profile = toml::Table::new();
        // The migration MO (docs/migration.md) is always on in the tester device.
        let mut backup = toml::Table::new();
        backup.insert("enabled".into(), true.into());
        profile.insert("backup".into(), backup.into());
        // So is the schedule MO (docs/scheduling.md): a server under test's schedules land here.
        let mut schedule = toml::Table::new();
        schedule.insert("enabled".into(), true.into());
        profile.insert("schedule".into(), schedule.into());
        if let Some((id, key)) = &d.trust {
            let mut o = toml::Table::new();
            o.insert("id".into(), id.clone().into());
            o.insert("public_key".into(), key.clone().into());
            let mut scomo = toml::Table::new();
            scomo.insert("enabled".into(), true.into());
            // The harness's device is not judged on consent: its user enabled reporting.
            scomo.insert("inventory_consent".into(), "granted".into());
            scomo.insert(
                "trusted_originators".into(),
                toml::Value::Array(vec![o.into()]),
            );
            profile.insert("scomo".into(), scomo.into());
        }
        profile.insert("device".into(), device.into());
        profile.insert("account".into(), toml::Value::Array(vec![account.into()]));
        profile.insert("transport".into(), transport.into());
        let text = toml::to_string(&profile).map_err(|e| err(e.to_string()))?;
        std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        let path = dir.join("profile.toml");
        std::fs::write(&path, text).map_err(|e| err(e.to_string()))?;
        let device = Device::init(&dir.join("state"), &path).map_err(|e| err(e.to_string()))?;
        Ok(TesterClient {
            device,
            last_cred: None,
        })
    }

    /// Run one session (client-initiated unless `server_initiated`) with `alerts` in
    /// package 1 and the misbehaviour of `script`.
    pub async fn session(
        &mut self,
        alerts: Vec<Alert>,
        script: &ClientScript,
        server_initiated: bool,
        session_id: Option<String>,
        seed: u64,
    ) -> Result<Observed, Why> {
        let mut hooks = Hooks {
            script: script.clone(),
            replay: self.last_cred.clone(),
            first_cred: None,
            sent: 0,
        };
        let req = SessionRequest {
            account: None,
            server_initiated,
            session_id,
            alerts,
            resync_nonce: None,
            seed: Some(seed),
        };
        let report = self
            .device
            .run_session_with(req, &mut hooks)
            .await
            .map_err(|e| Why::Error(format!("the tester device failed: {e}")))?;
        self.last_cred = hooks.first_cred.take();
        Ok(observed_of(&report))
    }

    /// Perform the device's pending asynchronous operations (SCOMO, backup) and the sessions
    /// that report them, as `dm-client session` does after a session.
    pub async fn perform(&mut self, seed: u64) -> Result<Vec<Observed>, Why> {
        let (_, reports) = dm_client::runner::perform_and_report(&mut self.device, Some(seed))
            .await
            .map_err(|e| Why::Error(format!("the tester device's operations failed: {e}")))?;
        Ok(reports.iter().map(observed_of).collect())
    }
}

impl TesterClient {
    /// Move the tester device's simulated clock (`set` to a Unix time, or forward by
    /// `advance` seconds), then run its due schedules and the sessions reporting them
    /// (docs/scheduling.md), as `dm-client clock` does.
    pub async fn clock(
        &mut self,
        set: Option<u64>,
        advance: u64,
        seed: u64,
    ) -> Result<Vec<Observed>, Why> {
        let err = |e: dm_client::device::DeviceError| {
            Why::Error(format!(
                "the tester device's clock or schedules failed: {e}"
            ))
        };
        if let Some(t) = set {
            self.device.set_clock(t).map_err(err)?;
        }
        if advance > 0 {
            self.device.advance_clock(advance).map_err(err)?;
        }
        let (_, reports) =
            dm_client::runner::run_schedules_and_report(&mut self.device, Some(seed))
                .await
                .map_err(err)?;
        Ok(reports.iter().map(observed_of).collect())
    }

    /// A value of the tester device's tree, read as the device.
    pub fn value(&self, uri: &str) -> Option<String> {
        self.device.tree().value_str(uri)
    }
}

/// A session of the tester device as the harness observes it.
fn observed_of(report: &dm_client::device::SessionReport) -> Observed {
    {
        let messages = report
            .exchanges
            .iter()
            .map(|x| {
                let from = match x.direction {
                    Direction::Sent => Party::Client,
                    Direction::Received => Party::Server,
                };
                Msg::new(from, x.bytes.clone(), x.time)
            })
            .collect();
        let (end, completed) = match &report.end {
            Ok(EndReason::Completed) => ("completed".to_owned(), true),
            Ok(other) => (format!("{other:?}"), false),
            Err(e) => (e.to_string(), false),
        };
        let mut end = end;
        for d in &report.deviations {
            end.push_str(&format!(
                "; the tester noticed in message {}: {}",
                d.msg_id, d.what
            ));
        }
        let tls_failure = match &report.end {
            Err(dm_client::driver::DriverError::Transport(t)) if t.kind() == "tls" => {
                let text = t.to_string();
                Some(match t.tls_error() {
                    Some(rustls::Error::InvalidMessage(_)) => TlsFailure::NotTls(text),
                    Some(rustls::Error::InvalidCertificate(_)) => {
                        TlsFailure::CertificateNotAccepted(text)
                    }
                    _ => TlsFailure::Other(text),
                })
            }
            _ => None,
        };
        Observed {
            messages,
            end,
            completed,
            tls_failure,
        }
    }
}

/// How the client under test is made to act.
#[derive(Clone)]
pub enum ClientIut {
    /// The bundled reference client.
    Reference(ReferenceClient),
    /// Command templates.
    Exec(ExecAdapter),
    /// A person.
    Manual(Arc<Mutex<ManualAdapter>>),
}

impl ClientIut {
    /// Perform `action` (docs/adapters.md) off the async threads; an adapter failure is
    /// `inconclusive` (the IUT was not shown wrong).
    pub async fn perform(
        &self,
        action: &'static str,
        values: BTreeMap<&'static str, String>,
    ) -> Result<ActionOutput, Why> {
        let me = self.clone();
        let r = tokio::task::spawn_blocking(move || match &me {
            ClientIut::Reference(r) => r.perform(action, &values),
            ClientIut::Exec(e) => e.perform(action, &values),
            ClientIut::Manual(m) => match m.lock() {
                Ok(mut m) => m.perform(action, &values),
                Err(p) => p.into_inner().perform(action, &values),
            },
        })
        .await
        .map_err(|e| Why::Error(format!("the adapter task failed: {e}")))?;
        r.map_err(|e| Why::Inconclusive(format!("the adapter could not `{action}`: {e}")))
    }
}

/// The client peer of a scenario.
pub enum ClientSide {
    /// The reference client in tester mode (server role).
    Tester(Box<TesterClient>),
    /// The client under test (client role), with its scratch directory.
    Iut(ClientIut, PathBuf),
}
