//! Plug-in points for MOs implemented by code (SCOMO, scheduling, backup): a plug-in brings
//! its DDF, creates its nodes, registers Exec handlers and write validators.

use dm_protocol::tnds::MgmtTree;
use dm_protocol::uri::NodeUri;

use crate::error::TreeError;
use crate::principal::Principal;
use crate::tree::Tree;

/// What a server is about to change, as a validator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedChange<'a> {
    /// The node.
    pub uri: &'a NodeUri,
    /// The command.
    pub kind: ChangeCommand,
    /// The new leaf value (Add/Replace of a leaf).
    pub value: Option<&'a [u8]>,
    /// The server asking.
    pub by: &'a Principal,
}

/// The command of a [`ProposedChange`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeCommand {
    /// Add.
    Add,
    /// Replace of a value.
    Replace,
    /// Delete.
    Delete,
}

/// Code that may veto a server's change under a subtree (e.g. a schedule MO checking a
/// request it cannot run). Runs after the tree's own checks; its error is the status sent.
pub trait Validator: Send {
    /// Accept or refuse the change.
    fn check(&mut self, tree: &Tree, change: &ProposedChange<'_>) -> Result<(), TreeError>;
}

impl<F> Validator for F
where
    F: FnMut(&Tree, &ProposedChange<'_>) -> Result<(), TreeError> + Send,
{
    fn check(&mut self, tree: &Tree, change: &ProposedChange<'_>) -> Result<(), TreeError> {
        self(tree, change)
    }
}

/// An MO implemented by code.
pub trait MoPlugin {
    /// The MO identifier (`urn:oma:mo:...`).
    fn mo_type(&self) -> &str;
    /// The MO's DDF, loaded before [`MoPlugin::install`].
    fn ddf(&self) -> Option<MgmtTree>;
    /// Create the MO's permanent nodes and register handlers, validators and subscriptions.
    fn install(&mut self, tree: &mut Tree) -> Result<(), TreeError>;
}

impl Tree {
    /// Install an MO plug-in: load its DDF, then let it set itself up.
    pub fn install_plugin(&mut self, plugin: &mut dyn MoPlugin) -> Result<(), TreeError> {
        if let Some(ddf) = plugin.ddf() {
            self.load_ddf(&ddf).map_err(|e| TreeError::Failed {
                uri: ".".into(),
                reason: format!("the DDF of {} does not load: {e}", plugin.mo_type()),
            })?;
        }
        plugin.install(self)
    }

    /// Register a validator for server changes in the subtree at `prefix`.
    pub fn register_validator(&mut self, prefix: NodeUri, validator: impl Validator + 'static) {
        self.validators.push((prefix, Box::new(validator)));
    }

    /// Run the validators whose subtree holds `change.uri` (servers only).
    pub(crate) fn validate(&mut self, change: &ProposedChange<'_>) -> Result<(), TreeError> {
        if matches!(change.by, Principal::Local) || self.validators.is_empty() {
            return Ok(());
        }
        let mut validators = std::mem::take(&mut self.validators);
        let mut result = Ok(());
        for (prefix, v) in &mut validators {
            if change.uri.starts_with(prefix) {
                result = v.check(self, change);
                if result.is_err() {
                    break;
                }
            }
        }
        // Validators registered during the call (unusual) are kept after the existing ones.
        validators.append(&mut self.validators);
        self.validators = validators;
        result
    }
}
