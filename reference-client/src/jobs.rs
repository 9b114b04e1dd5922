//! The asynchronous operation worker shared by the MOs whose Execs are answered 202 (facts
//! §4.5) and finished after the session — SCOMO (`crate::scomo`) and the backup MO
//! (`crate::backup`): the queue the Exec handlers fill, kept in `state.json`, the report of a
//! performed operation and its completion, a Generic Alert with the Exec's Correlator
//! (facts §3.5). `Device::perform_operations` runs the queue; `runner::perform_and_report`
//! reports right away. User guide: docs/reference-client.md "SCOMO" and "Backup (migration)".

use std::sync::{Arc, Mutex};

use dm_protocol::codes::StatusCode;
use dm_protocol::uri::NodeUri;
use dm_tree::{Completion, ExecOutcome, Tree};
use serde::{Deserialize, Serialize};

use crate::profile::FaultsSection;

/// The operation of a queued Exec, by MO. Serialized as the bare operation name
/// (`"download_install"`, `"backup"`, ...), so `state.json` files written before the backup MO
/// existed still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Operation {
    /// A SCOMO operation (facts §10).
    Scomo(crate::scomo::Operation),
    /// A backup MO operation (docs/migration.md).
    Backup(crate::backup::Operation),
}

/// An accepted operation not performed yet; `state.json` keeps the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingOperation {
    /// What to do.
    pub operation: Operation,
    /// The entry acted on, e.g. `./SCOMO/Download/pkg1` (`./Backup` for the backup MO).
    pub entry: String,
    /// The executed node (the completion's `Item/Source`).
    pub node: String,
    /// The Exec's Correlator.
    pub correlator: Option<String>,
    /// The server that asked.
    pub server: Option<String>,
    /// The Exec's `Item/Data` when the operation needs it (the backup MO's URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argument: Option<String>,
}

/// The queue shared by the Exec handlers and the device, oldest first.
pub type Queue = Arc<Mutex<Vec<PendingOperation>>>;

/// Queue `op` and answer the Exec 202 (facts §4.5); 500 if the queue is unusable.
pub fn enqueue(queue: &Queue, op: PendingOperation) -> ExecOutcome {
    let Ok(mut q) = queue.lock() else {
        return ExecOutcome::Done(StatusCode::CommandFailed);
    };
    q.push(op);
    ExecOutcome::Accepted
}

/// The oldest queued operation.
pub fn first(queue: &Queue) -> Option<PendingOperation> {
    queue.lock().ok().and_then(|q| q.first().cloned())
}

/// Drop `op` from the head of the queue once performed (if it is still there).
pub fn finished(queue: &Queue, op: &PendingOperation) {
    if let Ok(mut q) = queue.lock() {
        if q.first() == Some(op) {
            q.remove(0);
        }
    }
}

/// How one operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationReport {
    /// The operation.
    pub operation: PendingOperation,
    /// The result code as it happened (facts §10.3), before any fault switch.
    pub result_code: u16,
    /// The component or package identifier reported (SCOMO; empty for the backup MO).
    pub identifier: String,
    /// Why it failed, if it did.
    pub detail: Option<String>,
    /// Whether it was skipped (the Exec was rolled back or its entry is gone): no completion.
    pub skipped: bool,
}

impl OperationReport {
    /// A report of `op`, successful until told otherwise.
    pub fn new(op: &PendingOperation) -> Self {
        OperationReport {
            operation: op.clone(),
            result_code: 1200,
            identifier: String::new(),
            detail: None,
            skipped: false,
        }
    }
}

/// What a completion says besides the operation it reports.
pub struct Outcome<'a> {
    /// The Generic Alert's `Meta/Type`.
    pub alert_type: &'a str,
    /// The result code as it happened.
    pub result_code: u16,
    /// Mark the alert `warning` when the code is not 1200 (SCOMO, facts §10.3).
    pub warn_on_failure: bool,
    /// XML after `<ResultCode>N</ResultCode>` in `Data` (e.g. SCOMO's `<Identifier>`).
    pub extra_data: String,
}

/// Queue the completion of `op` in the tree, for its server (facts §3.5): `Meta/Format`
/// `xml`, the Exec's Correlator, `Item/Source` the executed node, `Data`
/// `<ResultCode>N</ResultCode>…`. The fault `report_success_on_failure` reports 1200 whatever
/// happened. Returns the code reported.
pub fn complete(
    tree: &mut Tree,
    faults: &FaultsSection,
    op: &PendingOperation,
    outcome: Outcome<'_>,
) -> u16 {
    let code = if faults.report_success_on_failure {
        1200
    } else {
        outcome.result_code
    };
    let source = NodeUri::parse(&op.node).unwrap_or_else(|_| NodeUri::root());
    tree.complete_exec(Completion {
        correlator: op.correlator.clone(),
        source,
        alert_type: outcome.alert_type.into(),
        format: "xml".into(),
        mark: (outcome.warn_on_failure && code != 1200).then(|| "warning".to_owned()),
        data: format!("<ResultCode>{code}</ResultCode>{}", outcome.extra_data),
        server: op.server.clone(),
    });
    code
}

/// `s` with `&`, `<` and `>` escaped for XML text.
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn operations_serialize_as_bare_names() {
        let s =
            serde_json::to_string(&Operation::Scomo(crate::scomo::Operation::Download)).unwrap();
        assert_eq!(s, "\"download\"");
        let b: Operation = serde_json::from_str("\"restore\"").unwrap();
        assert_eq!(b, Operation::Backup(crate::backup::Operation::Restore));
        let d: Operation = serde_json::from_str("\"download_install\"").unwrap();
        assert_eq!(
            d,
            Operation::Scomo(crate::scomo::Operation::DownloadInstall)
        );
    }
}
