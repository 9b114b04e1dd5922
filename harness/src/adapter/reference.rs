//! The `reference` adapter for a client under test: the bundled reference client
//! (`dm-client`) as a separate process, driven exactly like a vendor's client through the
//! [`exec`](super::exec) adapter — with built-in command templates — so the self-test
//! exercises the vendor path on every run (shared/docs/conformance-model.md "Roles").
//!
//! `bootstrap` writes a device profile from the IXIT pointing at the tester's URL and runs
//! `dm-client init`; `start_session` runs `dm-client session`; `send_alert` runs
//! `dm-client alert`. A session that did not complete (`dm-client` exit 1) still counts as the
//! action done — the scenario's observations judge it; exit 2 or 3 (setup, unreachable) is an
//! adapter error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::exec::{ActionOutput, ExecAdapter};
use super::AdapterError;
use crate::profile::{Credentials, Ixit};

/// A reference client under test, kept in `dir`.
#[derive(Debug, Clone)]
pub struct ReferenceClient {
    bin: PathBuf,
    dir: PathBuf,
    exec: ExecAdapter,
    faults: Vec<String>,
}

/// A software originator the device trusts (SCOMO): key id and base64 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedOriginator {
    /// The key id.
    pub id: String,
    /// Base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
}

fn auth_line(key: &str, c: &Option<Credentials>) -> String {
    match c {
        Some(c) => format!(
            "{key} = {{ type = {:?}, name = {:?}, secret = {:?} }}\n",
            c.kind, c.name, c.secret
        ),
        None => String::new(),
    }
}

impl ReferenceClient {
    /// The `dm-client` binary at `bin`, its state and files under `dir`, each action
    /// limited to `timeout`.
    pub fn new(bin: &Path, dir: &Path, timeout: Duration) -> Self {
        let actions = [
            ("bootstrap", "{bin} init --state {state} --profile {profile}"),
            ("start_session", "{bin} session --state {state} --trace {trace}"),
            (
                "send_alert",
                "{bin} alert --state {state} --trace {trace} --type {type} --format {format} --data {data}",
            ),
            (
                "set_clock",
                "{bin} clock --state {state} --trace {trace} set {time}",
            ),
            (
                "advance_clock",
                "{bin} clock --state {state} --trace {trace} advance {seconds}",
            ),
        ]
        .into_iter()
        .map(|(a, t)| (a.to_owned(), t.to_owned()))
        .collect();
        ReferenceClient {
            bin: bin.to_owned(),
            dir: dir.to_owned(),
            exec: ExecAdapter::new(actions, timeout),
            faults: Vec::new(),
        }
    }

    /// Turn on these `[faults]` switches of the device profile (docs/reference-client.md
    /// "Fault injection") at `bootstrap`: a deliberately faulty client for `dmconf mutants`.
    #[must_use]
    pub fn with_faults(mut self, faults: Vec<String>) -> Self {
        self.faults = faults;
        self
    }

    /// Perform one action of docs/adapters.md with its `values`, as a vendor's exec adapter
    /// would: `bootstrap`, `start_session`, `send_alert`, `answer_ui` (sets the simulated
    /// user's `[ui]` answer in the device's profile for the following sessions), `restart`
    /// (nothing to do: `dm-client` keeps no process between actions).
    pub fn perform(
        &self,
        action: &str,
        values: &BTreeMap<&str, String>,
    ) -> Result<ActionOutput, AdapterError> {
        let get = |k: &str| values.get(k).cloned().unwrap_or_default();
        match action {
            "bootstrap" => {
                let creds = |prefix: &str| {
                    values
                        .get(format!("{prefix}_type").as_str())
                        .map(|t| Credentials {
                            kind: t.clone(),
                            name: get(&format!("{prefix}_name")),
                            secret: get(&format!("{prefix}_secret")),
                        })
                };
                let ixit = Ixit {
                    dev_id: get("dev_id"),
                    server_id: get("server_id"),
                    server_url: None,
                    client_auth: creds("client_auth"),
                    server_auth: creds("server_auth"),
                    trust_anchors: Vec::new(),
                    step_timeout_secs: self.exec_timeout_secs(),
                };
                let trust = match (values.get("originator_id"), values.get("originator_key")) {
                    (Some(id), Some(key)) => Some(TrustedOriginator {
                        id: id.clone(),
                        public_key: key.clone(),
                    }),
                    _ => None,
                };
                let server_ca = values.get("server_ca").map(std::path::PathBuf::from);
                self.bootstrap_trusting(
                    &ixit,
                    &get("server_url"),
                    trust.as_ref(),
                    server_ca.as_deref(),
                )
            }
            "start_session" => self.start_session(),
            "send_alert" => self.send_alert(&get("type"), &get("format"), &get("data")),
            "answer_ui" => self.answer_ui(&get("answer")),
            // docs/scheduling.md: the device's simulated clock; moving it runs the due
            // schedules and reports them (sessions the tester records).
            "set_clock" | "advance_clock" => self.sessions(action, values),
            "restart" => Ok(ActionOutput {
                stdout: String::new(),
            }),
            other => Err(AdapterError::NoAction(other.to_owned())),
        }
    }

    fn exec_timeout_secs(&self) -> u64 {
        self.exec.timeout().as_secs().max(1)
    }

    /// Set the simulated user's answer (docs/adapters.md `answer_ui`) in the device's state: `accept`, `reject`, `cancel` (the user lets it time out),
    /// `text:<text>` (accept, typing the text), `choices:<n>` (accept, picking the first
    /// default or choice 1 — the reference user's rule).
    fn answer_ui(&self, answer: &str) -> Result<ActionOutput, AdapterError> {
        let fail = |reason: String| AdapterError::Spawn {
            action: "answer_ui".into(),
            reason,
        };
        let mut ui = serde_json::Map::new();
        let mode = match answer {
            "accept" => "accept",
            "reject" => "reject",
            "cancel" => "timeout",
            a if a.starts_with("choices:") => "accept",
            a => match a.strip_prefix("text:") {
                Some(t) => {
                    ui.insert("text".into(), t.into());
                    "accept"
                }
                None => return Err(fail(format!("unknown answer {a:?}; see docs/adapters.md"))),
            },
        };
        ui.insert("mode".into(), mode.into());
        // The device keeps its simulated user's policy in state.json (docs/reference-client.md
        // "State directory"); dm-client runs no process between actions, so it is edited here.
        let path = self.dir.join("state").join("state.json");
        let mut state: serde_json::Value = std::fs::read_to_string(&path)
            .map_err(|e| {
                fail(format!(
                    "cannot read {}: {e}; bootstrap first",
                    path.display()
                ))
            })
            .and_then(|t| {
                serde_json::from_str(&t)
                    .map_err(|e| fail(format!("{} is not JSON: {e}", path.display())))
            })?;
        let obj = state
            .as_object_mut()
            .ok_or_else(|| fail(format!("{} is not a JSON object", path.display())))?;
        obj.insert("ui".into(), serde_json::Value::Object(ui));
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, state.to_string())
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
        Ok(ActionOutput {
            stdout: String::new(),
        })
    }

    fn values(&self) -> BTreeMap<&'static str, String> {
        let p = |s: &str| self.dir.join(s).display().to_string();
        BTreeMap::from([
            ("bin", self.bin.display().to_string()),
            ("state", p("state")),
            ("profile", p("profile.toml")),
            ("trace", p("trace.jsonl")),
        ])
    }

    /// Where the client's `--trace` JSON lines go.
    pub fn trace_path(&self) -> PathBuf {
        self.dir.join("trace.jsonl")
    }

    /// Create the device: DevId, ServerID and credentials from `ixit`, the account's URL
    /// `server_url` (the tester's).
    pub fn bootstrap(&self, ixit: &Ixit, server_url: &str) -> Result<ActionOutput, AdapterError> {
        self.bootstrap_trusting(ixit, server_url, None, None)
    }

    /// [`ReferenceClient::bootstrap`], the device's SCOMO MO on and trusting `trust`, and
    /// trusting the CA certificate `server_ca` (PEM) for an `https://` server.
    pub fn bootstrap_trusting(
        &self,
        ixit: &Ixit,
        server_url: &str,
        trust: Option<&TrustedOriginator>,
        server_ca: Option<&Path>,
    ) -> Result<ActionOutput, AdapterError> {
        let profile = format!(
            "[device]\ndev_id = {:?}\nmanufacturer = \"dmconf\"\nmodel = \"reference\"\n\
             max_msg_size = 8192\nmax_obj_size = 1048576\n\n\
             [transport]\nretries = 0\nread_timeout_secs = {}\n{}\n\
             [[account]]\nserver_id = {:?}\nurl = {:?}\n{}{}\n{}[backup]\nenabled = true\n\n[schedule]\nenabled = true\n\n[faults]\n{}",
            ixit.dev_id,
            ixit.step_timeout_secs,
            server_ca
                .map(|ca| format!("trust_anchors = [{:?}]\n", ca.display().to_string()))
                .unwrap_or_default(),
            ixit.server_id,
            server_url,
            auth_line("client_auth", &ixit.client_auth),
            auth_line("server_auth", &ixit.server_auth),
            trust
                .map(|t| format!(
                    "[scomo]\nenabled = true\ninventory_consent = \"ask\"\ntrusted_originators = [{{ id = {:?}, public_key = {:?} }}]\n\n",
                    t.id, t.public_key
                ))
                .unwrap_or_default(),
            self.faults
                .iter()
                .map(|f| format!("{f} = true\n"))
                .collect::<String>(),
        );
        // A device bootstrapped again keeps counting its sessions (facts §1.3: no two of its
        // sessions share a SessionID): the previous state's counter is carried over.
        let state = self.dir.join("state");
        let next_session = std::fs::read_to_string(state.join("state.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v.get("next_session").cloned());
        if state.exists() {
            std::fs::remove_dir_all(&state).map_err(|e| AdapterError::Spawn {
                action: "bootstrap".into(),
                reason: format!("cannot reset {}: {e}", state.display()),
            })?;
        }
        let path = self.dir.join("profile.toml");
        std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(&path, profile))
            .map_err(|e| AdapterError::Spawn {
                action: "bootstrap".into(),
                reason: format!("cannot write {}: {e}", path.display()),
            })?;
        let out = self.exec.perform("bootstrap", &self.values())?;
        if let Some(n) = next_session {
            let file = state.join("state.json");
            let carried = std::fs::read_to_string(&file)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|mut v| {
                    v.as_object_mut()?.insert("next_session".into(), n);
                    Some(v.to_string())
                });
            if let Some(text) = carried {
                std::fs::write(&file, text).map_err(|e| AdapterError::Spawn {
                    action: "bootstrap".into(),
                    reason: format!("cannot write {}: {e}", file.display()),
                })?;
            }
        }
        Ok(out)
    }

    /// One client-initiated session.
    pub fn start_session(&self) -> Result<ActionOutput, AdapterError> {
        acted(self.exec.perform("start_session", &self.values()))
    }

    /// A Generic Alert (1226) in package 1 of a client-initiated session.
    pub fn send_alert(
        &self,
        type_: &str,
        format: &str,
        data: &str,
    ) -> Result<ActionOutput, AdapterError> {
        let mut v = self.values();
        v.insert("type", type_.to_owned());
        v.insert("format", format.to_owned());
        v.insert("data", data.to_owned());
        acted(self.exec.perform("send_alert", &v))
    }

    /// `set_clock` (`time`) or `advance_clock` (`seconds`): `dm-client clock`, which also
    /// checks the schedules and opens the sessions reporting their runs.
    fn sessions(
        &self,
        action: &str,
        values: &BTreeMap<&str, String>,
    ) -> Result<ActionOutput, AdapterError> {
        let mut v = self.values();
        for k in ["time", "seconds"] {
            if let Some(x) = values.get(k) {
                v.insert(k, x.clone());
            }
        }
        acted(self.exec.perform(action, &v))
    }
}

/// `dm-client` exit 1 means the session ran but did not complete: the action was done.
fn acted(r: Result<ActionOutput, AdapterError>) -> Result<ActionOutput, AdapterError> {
    match r {
        Err(AdapterError::Failed {
            code: Some(1),
            stderr,
            ..
        }) => Ok(ActionOutput { stdout: stderr }),
        other => other,
    }
}
