//! Exec dispatch (facts §4.5): handlers registered by code per URI pattern, answering either
//! at once or with 202 and a later completion that the session reports as a Generic Alert
//! carrying the Exec's Correlator (facts §3.5).

use dm_protocol::codes::StatusCode;
use dm_protocol::uri::NodeUri;

use crate::principal::Principal;
use crate::tree::Tree;

/// One Exec request as a handler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCall {
    /// The node executed.
    pub uri: NodeUri,
    /// The argument (`Item/Data`), if any.
    pub data: Option<Vec<u8>>,
    /// The Exec's `Correlator`, if any.
    pub correlator: Option<String>,
    /// Who asked.
    pub by: Principal,
}

/// A handler's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecOutcome {
    /// Finished synchronously with this status (200 or an error code).
    Done(StatusCode),
    /// Accepted (202); the handler will later call [`Tree::complete_exec`].
    Accepted,
}

/// Code that implements an executable node (SCOMO operations, backup, ...).
pub trait ExecHandler: Send {
    /// Run the command. The handler may read and change the tree as the device
    /// ([`Principal::Local`]); the changes commit with the Exec.
    fn exec(&mut self, tree: &mut Tree, call: &ExecCall) -> ExecOutcome;
}

impl<F> ExecHandler for F
where
    F: FnMut(&mut Tree, &ExecCall) -> ExecOutcome + Send,
{
    fn exec(&mut self, tree: &mut Tree, call: &ExecCall) -> ExecOutcome {
        self(tree, call)
    }
}

/// The result of an asynchronous Exec, for the session to send as a Generic Alert (1226)
/// with the original Correlator (facts §3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// Correlator of the Exec, echoed in the alert.
    pub correlator: Option<String>,
    /// The executed node (the alert's `Item/Source`).
    pub source: NodeUri,
    /// Alert `Meta/Type`, e.g. `urn:oma:at:scomo:1.0:OperationComplete`.
    pub alert_type: String,
    /// Alert `Meta/Format`, usually `int` for a result code.
    pub format: String,
    /// Alert `Meta/Mark`, e.g. `critical`, if any.
    pub mark: Option<String>,
    /// Alert `Item/Data`: the result.
    pub data: String,
    /// The server the alert is for.
    pub server: Option<String>,
}

/// A URI pattern: segments match literally, `*` matches any one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern(pub Vec<String>);

impl Pattern {
    pub fn parse(s: &str) -> Self {
        let s = s.strip_prefix("./").unwrap_or(s);
        Pattern(
            s.split('/')
                .filter(|p| !p.is_empty() && *p != ".")
                .map(str::to_owned)
                .collect(),
        )
    }

    pub fn matches(&self, uri: &NodeUri) -> bool {
        self.0.len() == uri.depth()
            && self
                .0
                .iter()
                .zip(uri.segments())
                .all(|(p, s)| p == "*" || p == s)
    }
}

pub(crate) struct Registered {
    pub pattern: Pattern,
    pub handler: Option<Box<dyn ExecHandler>>,
}
