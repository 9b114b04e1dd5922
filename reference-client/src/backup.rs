//! The project-defined backup MO (docs/migration.md, `urn:dmconf:mo:backup:1.0`) at
//! `./Backup`: an Exec of `Operations/Backup` (Item/Data: an upload URL) or
//! `Operations/Restore` (Item/Data: a download URL) is answered 202 and queued with the
//! SCOMO operations ([`crate::jobs`]); after the session the worker exports `Subtrees` as one
//! TNDS document and PUTs it, or GETs a document and imports it, and reports a Generic Alert
//! `urn:dmconf:at:backup:1.0:OperationComplete` with the Exec's Correlator (facts §3.5).
//! User guide: docs/reference-client.md "Backup (migration)".

use dm_protocol::codes::StatusCode;
use dm_protocol::tnds::{Format, MgmtTree, TndsDocument};
use dm_protocol::uri::{ListQuery, NodeUri, Property, TndsField, TndsFilter};
use dm_tree::standard::put_leaf;
use dm_tree::{ExecCall, ExecOutcome, ImportMode, ListOutput, NewNode, Principal, Tree, TreeError};
use serde::{Deserialize, Serialize};

use crate::jobs::{self, OperationReport, Outcome, PendingOperation, Queue};
use crate::profile::FaultsSection;
use crate::transport::Transport;

/// The MO identifier (docs/migration.md).
pub const MO_TYPE: &str = "urn:dmconf:mo:backup:1.0";
/// Where the reference client places the MO.
pub const ROOT: &str = "./Backup";
/// The DDF (docs/mo/backup.ddf.xml).
pub const DDF: &str = include_str!("../../docs/mo/backup.ddf.xml");
/// The Generic Alert type of a finished operation.
pub const ALERT_TYPE: &str = "urn:dmconf:at:backup:1.0:OperationComplete";
/// The Content-Type of the uploaded document (facts §9.2: the TNDS XML type).
pub const DOCUMENT_TYPE: &str = "application/vnd.syncml.dmtnds+xml";
/// `./Backup/Subtrees`.
pub const SUBTREES: &str = "./Backup/Subtrees";
/// `./Backup/LastResult`.
pub const LAST_RESULT: &str = "./Backup/LastResult";

/// ACL of `./Backup` (facts §4.4): any server may read the MO.
pub const ACL_ROOT: &str = "Get=*";
/// ACL of `./Backup/Subtrees`: any server may choose what is backed up.
pub const ACL_SUBTREES: &str = "Get=*&Replace=*";
/// ACL of `./Backup/Operations` (its two leaves inherit it): any server may start either
/// operation; what the operation reads or changes is then limited by that server's own
/// rights on the nodes concerned.
pub const ACL_OPERATIONS: &str = "Exec=*&Get=*";

/// The result codes of a completion (docs/migration.md).
pub mod result_code {
    /// Done.
    pub const SUCCESS: u16 = 1200;
    /// The user refused (not used: the reference client asks no one, see the user guide).
    pub const USER_REFUSED: u16 = 1401;
    /// The upload or download failed (connection, non-2xx status).
    pub const TRANSFER_FAILED: u16 = 1402;
    /// The document could not be built or imported (a node refused, a malformed document).
    pub const IMPORT_FAILED: u16 = 1405;
}

/// `[backup]` of the device profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSection {
    /// Create `./Backup` and handle its operations.
    #[serde(default)]
    pub enabled: bool,
    /// The initial value of `./Backup/Subtrees` (comma-separated device URIs).
    #[serde(default = "default_subtrees")]
    pub subtrees: String,
}

fn default_subtrees() -> String {
    "./Vendor".into()
}

impl Default for BackupSection {
    fn default() -> Self {
        BackupSection {
            enabled: false,
            subtrees: default_subtrees(),
        }
    }
}

impl BackupSection {
    /// Check the settings.
    pub fn validate(&self) -> Result<(), String> {
        for s in subtree_list(&self.subtrees) {
            NodeUri::parse(s)
                .map_err(|e| format!("[backup] subtrees: {s:?} is not a device URI: {e}"))?;
        }
        Ok(())
    }
}

/// The URIs of a `Subtrees` value: comma-separated, blanks around each ignored.
pub fn subtree_list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// A backup MO operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `./Backup/Operations/Backup`.
    Backup,
    /// `./Backup/Operations/Restore`.
    Restore,
}

impl Operation {
    /// The operation an Exec on `uri` asks for.
    pub fn of(uri: &NodeUri) -> Option<Operation> {
        let s: Vec<&str> = uri.segments().iter().map(String::as_str).collect();
        match s.as_slice() {
            ["Backup", "Operations", "Backup"] => Some(Operation::Backup),
            ["Backup", "Operations", "Restore"] => Some(Operation::Restore),
            _ => None,
        }
    }
}

fn uri(s: &str) -> Result<NodeUri, TreeError> {
    NodeUri::parse(s).map_err(|source| TreeError::BadUri {
        uri: s.to_owned(),
        source,
    })
}

/// Create `at` with `node` and `acl` unless it exists; whether it was created.
fn ensure(tree: &mut Tree, at: &str, node: NewNode, acl: Option<&str>) -> Result<bool, TreeError> {
    if tree.exists(&uri(at)?) {
        return Ok(false);
    }
    tree.add(&Principal::Local, at, node)?;
    if let Some(acl) = acl {
        tree.replace_prop(&Principal::Local, at, Property::Acl, acl)?;
    }
    Ok(true)
}

/// Load the DDF, create the MO's fixed nodes the first time (with their ACLs and the
/// profile's `subtrees`) and register the Exec handler, which queues into `queue`.
/// Idempotent: called at every open.
pub fn install(tree: &mut Tree, settings: &BackupSection, queue: Queue) -> Result<(), TreeError> {
    let doc = TndsDocument::parse_xml(DDF.as_bytes()).map_err(|e| TreeError::Failed {
        uri: ROOT.into(),
        reason: format!("the backup DDF does not parse: {e}"),
    })?;
    tree.load_ddf(&doc.tree).map_err(|e| TreeError::Failed {
        uri: ROOT.into(),
        reason: format!("the backup DDF does not load: {e}"),
    })?;
    tree.atomically(|t| {
        ensure(t, ROOT, NewNode::interior().typed(MO_TYPE), Some(ACL_ROOT))?;
        let subtrees = NewNode::leaf(settings.subtrees.as_str()).format(Format::Chr);
        ensure(t, SUBTREES, subtrees, Some(ACL_SUBTREES))?;
        let ops = NewNode::interior();
        ensure(t, "./Backup/Operations", ops, Some(ACL_OPERATIONS))?;
        for o in ["Backup", "Restore"] {
            let leaf = NewNode::leaf("").format(Format::Chr);
            ensure(t, &format!("./Backup/Operations/{o}"), leaf, None)?;
        }
        ensure(t, LAST_RESULT, NewNode::leaf("0").format(Format::Int), None)?;
        Ok(())
    })?;
    tree.register_exec(
        "./Backup/Operations/*",
        move |tree: &mut Tree, call: &ExecCall| accept(tree, call, &queue),
    );
    Ok(())
}

/// The Exec handler: 202 and a queued operation; 405 for a node that is no operation, 412
/// without an `http://` or `https://` URL in Item/Data.
fn accept(_tree: &mut Tree, call: &ExecCall, queue: &Queue) -> ExecOutcome {
    let Some(op) = Operation::of(&call.uri) else {
        return ExecOutcome::Done(StatusCode::CommandNotAllowed);
    };
    let url = call
        .data
        .as_deref()
        .and_then(|d| std::str::from_utf8(d).ok())
        .map(str::trim)
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    let Some(url) = url else {
        return ExecOutcome::Done(StatusCode::IncompleteCommand);
    };
    jobs::enqueue(
        queue,
        PendingOperation {
            operation: jobs::Operation::Backup(op),
            entry: ROOT.into(),
            node: call.uri.to_string(),
            correlator: call.correlator.clone(),
            server: call.by.server_id().map(str::to_owned),
            argument: Some(url.to_owned()),
        },
    )
}

/// The properties a backup carries (`?list=TNDS+ACL+Format+Type+Value`, facts §4.6): what a
/// restore needs to re-create the nodes with the rights the servers had on them (a restore
/// runs as the server that asked, so it sets only ACLs that server may set, facts §4.4);
/// `TStamp`, `VerNo` and `Size` are the device's to set.
pub fn backup_filter() -> TndsFilter {
    TndsFilter::Include(vec![
        TndsField::Prop(Property::Acl),
        TndsField::Prop(Property::Format),
        TndsField::Prop(Property::Type),
        TndsField::Value,
    ])
}

/// What the worker needs besides the tree.
pub struct Worker<'a> {
    /// The device tree.
    pub tree: &'a mut Tree,
    /// The HTTP(S) client.
    pub transport: &'a Transport,
    /// The fault switches.
    pub faults: &'a FaultsSection,
    /// The user's setting for the installed-application list (DMRD-6.1.4-16): a backup
    /// that would include it needs `granted`, as nobody can be asked in the background.
    pub inventory: crate::privacy::InventoryConsent,
}

type Fail = (u16, String);

impl Worker<'_> {
    /// Perform one operation, set `LastResult` and queue the completion in the tree.
    pub async fn perform(&mut self, op: &PendingOperation) -> OperationReport {
        let mut report = OperationReport::new(op);
        let jobs::Operation::Backup(kind) = op.operation else {
            report.skipped = true;
            return report;
        };
        let who = op
            .server
            .as_deref()
            .map_or(Principal::Local, Principal::server);
        let url = op.argument.clone().unwrap_or_default();
        let result = match kind {
            Operation::Backup => self.backup(&who, &url).await,
            Operation::Restore => self.restore(&who, &url).await,
        };
        if let Err((code, why)) = result {
            report.result_code = code;
            report.detail = Some(why);
        }
        let code = jobs::complete(
            self.tree,
            self.faults,
            op,
            Outcome {
                alert_type: ALERT_TYPE,
                result_code: report.result_code,
                warn_on_failure: false,
                extra_data: String::new(),
            },
        );
        // LastResult is what the server is told.
        let _ = put_leaf(self.tree, LAST_RESULT, &code.to_string(), Format::Int);
        report
    }

    /// The backup document: every subtree of `Subtrees` as the asking server may read it
    /// (the nodes a `?list=TNDS` Get of it would return), one TNDS document.
    pub fn export(&self, who: &Principal) -> Result<Vec<u8>, Fail> {
        let failed = |why: String| (result_code::IMPORT_FAILED, why);
        let value = self.tree.value_str(SUBTREES).unwrap_or_default();
        let mut nodes = Vec::new();
        for s in subtree_list(&value) {
            let canonical = NodeUri::parse(s).map_or_else(|_| s.to_owned(), |u| u.to_string());
            let inventory_here =
                NodeUri::parse(crate::privacy::INVENTORY).is_ok_and(|u| self.tree.exists(&u));
            if inventory_here
                && crate::privacy::discloses_inventory(&canonical, true)
                && self.inventory != crate::privacy::InventoryConsent::Granted
                && !self.faults.report_inventory_without_consent
            {
                return Err((
                    result_code::USER_REFUSED,
                    format!(
                        "{s} holds the installed-application list, which leaves the device only \
                         if the user enabled that (DMRD-6.1.4-16, [scomo] inventory_consent)"
                    ),
                ));
            }
            match self.tree.list(who, s, &ListQuery::Tnds(backup_filter())) {
                Ok(ListOutput::Tnds(t)) => nodes.extend(t.nodes),
                Ok(ListOutput::Items(_)) => {}
                Err(e) => return Err(failed(format!("cannot export {s}: {e}"))),
            }
        }
        if nodes.is_empty() {
            return Err(failed(format!(
                "{SUBTREES} ({value:?}) names no node to back up"
            )));
        }
        TndsDocument::from_tree(MgmtTree::new(nodes))
            .to_xml(false)
            .map(String::into_bytes)
            .map_err(|e| failed(format!("cannot write the TNDS document: {e}")))
    }

    async fn backup(&mut self, who: &Principal, url: &str) -> Result<(), Fail> {
        let doc = self.export(who)?;
        let r = self
            .transport
            .put(url, DOCUMENT_TYPE, doc, &[])
            .await
            .map_err(|e| (result_code::TRANSFER_FAILED, format!("PUT {url}: {e}")))?;
        if !(200..300).contains(&r.status) {
            return Err((
                result_code::TRANSFER_FAILED,
                format!("PUT {url}: HTTP {}", r.status),
            ));
        }
        Ok(())
    }

    async fn restore(&mut self, who: &Principal, url: &str) -> Result<(), Fail> {
        let r = self
            .transport
            .get_body(url, &[])
            .await
            .map_err(|e| (result_code::TRANSFER_FAILED, format!("GET {url}: {e}")))?;
        if !(200..300).contains(&r.status) {
            return Err((
                result_code::TRANSFER_FAILED,
                format!("GET {url}: HTTP {}", r.status),
            ));
        }
        import(self.tree, who, &r.body)
    }
}

/// Import a backup document as `who` (facts §9.2): every node through the tree's checks and
/// `who`'s ACL rights, the described subtrees replacing the existing ones
/// ([`ImportMode::Replace`]), all or nothing.
pub fn import(tree: &mut Tree, who: &Principal, bytes: &[u8]) -> Result<(), Fail> {
    let failed = |why: String| (result_code::IMPORT_FAILED, why);
    let doc =
        TndsDocument::parse(bytes).map_err(|e| failed(format!("not a TNDS document: {e}")))?;
    if doc.tree.nodes.is_empty() {
        return Err(failed("the TNDS document holds no node".into()));
    }
    tree.import_tnds(who, ".", &doc.tree, ImportMode::Replace)
        .map(|_| ())
        .map_err(|e| failed(format!("the import was refused: {e}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_recognised_by_uri() {
        let u = NodeUri::parse("./Backup/Operations/Restore").unwrap();
        assert_eq!(Operation::of(&u), Some(Operation::Restore));
        let u = NodeUri::parse("./Backup/Operations/Format").unwrap();
        assert_eq!(Operation::of(&u), None);
    }

    #[test]
    fn subtrees_are_split_and_checked() {
        let v: Vec<&str> = subtree_list(" ./Vendor, ,./DMAcc ").collect();
        assert_eq!(v, ["./Vendor", "./DMAcc"]);
        let s = BackupSection {
            enabled: true,
            subtrees: "./Vendor,./a//b".into(),
        };
        assert!(s.validate().is_err());
    }
}
