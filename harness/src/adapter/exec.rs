//! The `exec` adapter (docs/profiles.md `[adapter] kind = "exec"`): the harness makes the
//! implementation under test act by running one command template per action — `bootstrap`,
//! `start_session`, `send_alert`, `restart`, `answer_ui` for a client; `register_device`,
//! `queue_job`, `notify`, `job_status` for a server.
//!
//! A template holds `{name}` placeholders filled from the step's values. Each value is
//! inserted single-quoted for the shell, so a value can never run as a command; the result
//! runs with `sh -c`. An action that does not finish within its deadline is killed. A
//! failing or late action makes the scenario `inconclusive`, never `fail`: the IUT was not
//! shown wrong (shared/docs/conformance-model.md "Verdicts").

use std::collections::BTreeMap;
use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::AdapterError;

/// What a successful action printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionOutput {
    /// Its stdout (e.g. a job id for `queue_job`).
    pub stdout: String,
}

/// Quote `s` for a POSIX shell: `'…'` with each `'` written as `'\''`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Fill `template`'s `{name}` placeholders with shell-quoted `values`; `{{` and `}}` stand
/// for literal braces.
pub fn fill(
    action: &str,
    template: &str,
    values: &BTreeMap<&str, String>,
) -> Result<String, AdapterError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if let Some(after) = tail.strip_prefix('}') {
            out.push('}');
            rest = after;
            continue;
        }
        let Some(end) = tail.find('}') else {
            out.push_str(tail);
            rest = "";
            break;
        };
        let name = &tail[1..end];
        let value = values
            .get(name)
            .ok_or_else(|| AdapterError::UnknownPlaceholder {
                action: action.to_owned(),
                name: name.to_owned(),
                provided: values.keys().copied().collect::<Vec<_>>().join(", "),
            })?;
        out.push_str(&shell_quote(value));
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The exec adapter of a profile.
#[derive(Debug, Clone)]
pub struct ExecAdapter {
    actions: BTreeMap<String, String>,
    timeout: Duration,
}

impl ExecAdapter {
    /// An adapter with these action templates and a deadline per action.
    pub fn new(actions: BTreeMap<String, String>, timeout: Duration) -> Self {
        ExecAdapter { actions, timeout }
    }

    /// The deadline of each action.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Run `action` with `values`; its stdout on success.
    pub fn perform(
        &self,
        action: &str,
        values: &BTreeMap<&str, String>,
    ) -> Result<ActionOutput, AdapterError> {
        let template = self
            .actions
            .get(action)
            .ok_or_else(|| AdapterError::NoAction(action.to_owned()))?;
        let command = fill(action, template, values)?;
        let spawn_err = |e: std::io::Error| AdapterError::Spawn {
            action: action.to_owned(),
            reason: e.to_string(),
        };
        let mut child = Command::new("sh")
            .args(["-c", &command])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_err)?;
        // Read both pipes on their own threads, so a chatty command cannot block on a full
        // pipe while we wait for it.
        let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut p) = pipe {
                    let _ = p.read_to_end(&mut buf);
                }
                String::from_utf8_lossy(&buf).into_owned()
            })
        };
        let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
        let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(AdapterError::Timeout {
                        action: action.to_owned(),
                        secs: self.timeout.as_secs(),
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(spawn_err(e)),
            }
        };
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        if status.success() {
            Ok(ActionOutput { stdout })
        } else {
            let tail: String = stderr
                .trim()
                .chars()
                .rev()
                .take(500)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            Err(AdapterError::Failed {
                action: action.to_owned(),
                code: status.code(),
                stderr: tail,
            })
        }
    }
}
