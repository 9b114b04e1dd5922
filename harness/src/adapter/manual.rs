//! The `manual` adapter (docs/profiles.md `[adapter] kind = "manual"`): at an interop event a
//! person makes the implementation act. Each action is printed with its values; the person
//! answers `done` (or just Enter) when it is done, or `fail <why>` when it cannot be done; no
//! answer within the deadline is a timeout. Both failures make the scenario `inconclusive`.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use super::exec::ActionOutput;
use super::AdapterError;

/// A person at a terminal (or any line source, for tests).
pub struct ManualAdapter {
    answers: Receiver<String>,
    prompt: Box<dyn Write + Send>,
    timeout: Duration,
}

impl std::fmt::Debug for ManualAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManualAdapter")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ManualAdapter {
    /// Prompts go to `prompt`; answers are read, one line each, from `input` (read on its own
    /// thread so a deadline can pass while nobody types).
    pub fn new(
        input: impl BufRead + Send + 'static,
        prompt: impl Write + Send + 'static,
        timeout: Duration,
    ) -> Self {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in input.lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        ManualAdapter {
            answers: rx,
            prompt: Box::new(prompt),
            timeout,
        }
    }

    /// The standard input and standard error of this process.
    pub fn terminal(timeout: Duration) -> Self {
        Self::new(
            std::io::BufReader::new(std::io::stdin()),
            std::io::stderr(),
            timeout,
        )
    }

    /// Ask the person to perform `action` with `values` and wait for the answer.
    pub fn perform(
        &mut self,
        action: &str,
        values: &BTreeMap<&str, String>,
    ) -> Result<ActionOutput, AdapterError> {
        let mut text =
            format!("\n>>> please perform `{action}` on the implementation under test\n");
        for (k, v) in values {
            text.push_str(&format!("    {k}: {v}\n"));
        }
        text.push_str(&format!(
            "    answer `done` (or Enter) when done, `fail <why>` if it cannot be done; {} s\n",
            self.timeout.as_secs()
        ));
        // A prompt that cannot be shown is still waited for: the person may see the log.
        let _ = self.prompt.write_all(text.as_bytes());
        let _ = self.prompt.flush();
        match self.answers.recv_timeout(self.timeout) {
            Ok(line) => {
                let line = line.trim();
                if line.is_empty() || line.eq_ignore_ascii_case("done") {
                    Ok(ActionOutput {
                        stdout: String::new(),
                    })
                } else {
                    let why = line
                        .strip_prefix("fail")
                        .map(str::trim)
                        .filter(|w| !w.is_empty())
                        .unwrap_or(line);
                    Err(AdapterError::Failed {
                        action: action.to_owned(),
                        code: None,
                        stderr: format!("the operator answered: {why}"),
                    })
                }
            }
            Err(RecvTimeoutError::Timeout) => Err(AdapterError::Timeout {
                action: action.to_owned(),
                secs: self.timeout.as_secs(),
            }),
            Err(RecvTimeoutError::Disconnected) => Err(AdapterError::Unreachable {
                action: action.to_owned(),
                reason: "the operator's input is closed".into(),
            }),
        }
    }
}
