//! The SCOMO management object (facts §10) at `./SCOMO`: an Exec on an `Operations` node is
//! answered 202 and queued; after the session the worker performs it (HTTP(S) download with
//! resume, `DMPKG 1` verification, user confirmation, inventory changes) and reports it as a
//! Generic Alert `urn:oma:at:scomo:1.0:OperationComplete` with the Exec's Correlator
//! (facts §3.5, §10.3). User guide: docs/reference-client.md "SCOMO".

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use dm_protocol::codes::{AlertCode, StatusCode};
use dm_protocol::model::{Alert, Data, Item};
use dm_protocol::swpkg::{self, result_code, Package, PackageError, TrustStore};
use dm_protocol::tnds::{Format, TndsDocument};
use dm_protocol::uri::{escape_name, NodeUri, Property};
use dm_tree::standard::put_leaf;
use dm_tree::{ExecCall, ExecOutcome, NewNode, Principal, Tree, TreeError};
use serde::{Deserialize, Serialize};

use crate::jobs::{self, Outcome};
pub use crate::jobs::{OperationReport, PendingOperation, Queue};
use crate::profile::FaultsSection;
use crate::transport::{BodySink, Response, Transport};
use crate::ui::{UiHooks, UiKind, UiPolicy};

/// The MO identifier (facts §10).
pub const MO_TYPE: &str = "urn:oma:mo:oma-scomo:1.0";
/// Where the reference client places the MO.
pub const ROOT: &str = "./SCOMO";
/// The DDF (docs/mo/scomo.ddf.xml).
pub const DDF: &str = include_str!("../../docs/mo/scomo.ddf.xml");
/// The Generic Alert type of a finished operation (facts §10.3).
pub const ALERT_TYPE: &str = "urn:oma:at:scomo:1.0:OperationComplete";

/// ACL of `./SCOMO` (facts §4.4): anyone may read.
pub const ACL_ROOT: &str = "Get=*";
/// ACL of `./SCOMO/Download`: servers create, change, delete and execute delivery entries
/// (new `Download/<x>` nodes inherit it).
pub const ACL_DOWNLOAD: &str = "Add=*&Delete=*&Exec=*&Get=*&Replace=*";
/// ACL of `./SCOMO/Inventory`: servers read and execute; only the device creates entries.
pub const ACL_INVENTORY: &str = "Delete=*&Exec=*&Get=*";

/// `[scomo]` of the device profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScomoSection {
    /// Create `./SCOMO` and handle its operations.
    #[serde(default)]
    pub enabled: bool,
    /// The software originators whose packages the device accepts (the `swpkg` trust store).
    #[serde(default)]
    pub trusted_originators: Vec<TrustedOriginator>,
    /// HTTP requests one download may take, each resuming where the previous one broke off.
    #[serde(default = "default_attempts")]
    pub download_attempts: u32,
    /// Whether the installed-application list may be reported: `granted`, `ask` (default:
    /// the user is asked) or `refused` (DMRD-6.1.4-16, [`crate::privacy`]).
    #[serde(default)]
    pub inventory_consent: crate::privacy::InventoryConsent,
}

fn default_attempts() -> u32 {
    3
}

impl Default for ScomoSection {
    fn default() -> Self {
        ScomoSection {
            enabled: false,
            trusted_originators: Vec::new(),
            download_attempts: default_attempts(),
            inventory_consent: crate::privacy::InventoryConsent::default(),
        }
    }
}

/// One trusted software originator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedOriginator {
    /// The key id packages name in `Originator`.
    pub id: String,
    /// The Ed25519 public key, base64 of its 32 bytes.
    pub public_key: String,
}

impl ScomoSection {
    /// Check the settings.
    pub fn validate(&self) -> Result<(), String> {
        for o in &self.trusted_originators {
            let key = dm_protocol::auth::b64_decode(&o.public_key).map_err(|e| {
                format!(
                    "[scomo] originator {:?}: public_key is not base64: {e}",
                    o.id
                )
            })?;
            if key.len() != 32 {
                return Err(format!(
                    "[scomo] originator {:?}: public_key has {} bytes, an Ed25519 key has 32",
                    o.id,
                    key.len()
                ));
            }
        }
        if self.download_attempts == 0 {
            return Err("[scomo] download_attempts must be at least 1".into());
        }
        Ok(())
    }

    /// The trust store of package verification.
    pub fn trust_store(&self) -> TrustStore {
        let mut t = TrustStore::new();
        for o in &self.trusted_originators {
            if let Ok(key) = dm_protocol::auth::b64_decode(&o.public_key) {
                t.add(&o.id, &key);
            }
        }
        t
    }
}

/// A SCOMO operation (facts §10.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `Download/<x>/Operations/Download`.
    Download,
    /// `Download/<x>/Operations/DownloadInstall`.
    DownloadInstall,
    /// `Download/<x>/Operations/DownloadInstallInactive`.
    DownloadInstallInactive,
    /// `Inventory/Delivered/<x>/Operations/Install`.
    Install,
    /// `Inventory/Delivered/<x>/Operations/InstallInactive`.
    InstallInactive,
    /// `Inventory/Delivered/<x>/Operations/Remove`.
    RemoveDelivered,
    /// `Inventory/Deployed/<x>/Operations/Activate`.
    Activate,
    /// `Inventory/Deployed/<x>/Operations/Deactivate`.
    Deactivate,
    /// `Inventory/Deployed/<x>/Operations/Remove`.
    RemoveDeployed,
}

impl Operation {
    /// The operation an Exec on `uri` asks for, and the entry (`Download/<x>`, ...) it acts on.
    pub fn of(uri: &NodeUri) -> Option<(Operation, NodeUri)> {
        let s: Vec<&str> = uri.segments().iter().map(String::as_str).collect();
        let op = match s.as_slice() {
            ["SCOMO", "Download", _, "Operations", name] => match *name {
                "Download" => Operation::Download,
                "DownloadInstall" => Operation::DownloadInstall,
                "DownloadInstallInactive" => Operation::DownloadInstallInactive,
                _ => return None,
            },
            ["SCOMO", "Inventory", "Delivered", _, "Operations", name] => match *name {
                "Install" => Operation::Install,
                "InstallInactive" => Operation::InstallInactive,
                "Remove" => Operation::RemoveDelivered,
                _ => return None,
            },
            ["SCOMO", "Inventory", "Deployed", _, "Operations", name] => match *name {
                "Activate" => Operation::Activate,
                "Deactivate" => Operation::Deactivate,
                "Remove" => Operation::RemoveDeployed,
                _ => return None,
            },
            _ => return None,
        };
        let entry = uri.parent()?.parent()?;
        Some((op, entry))
    }

    /// The entry's `Status` while the operation is pending (facts §10.2).
    pub fn progressing_status(self) -> u32 {
        match self {
            Operation::Download
            | Operation::DownloadInstall
            | Operation::DownloadInstallInactive => 30,
            Operation::Install | Operation::InstallInactive => 40,
            Operation::RemoveDelivered | Operation::RemoveDeployed => 30,
            Operation::Activate => 50,
            Operation::Deactivate => 70,
        }
    }
}

fn acl(tree: &mut Tree, at: &str, value: &str) -> Result<(), TreeError> {
    tree.replace_prop(&Principal::Local, at, Property::Acl, value)
}

fn uri(s: &str) -> Result<NodeUri, TreeError> {
    NodeUri::parse(s).map_err(|source| TreeError::BadUri {
        uri: s.to_owned(),
        source,
    })
}

fn ensure_interior(tree: &mut Tree, at: &str, type_: &str) -> Result<bool, TreeError> {
    if tree.exists(&uri(at)?) {
        return Ok(false);
    }
    tree.add(&Principal::Local, at, NewNode::interior().typed(type_))?;
    Ok(true)
}

/// Load the DDF, create the permanent nodes (with their ACLs, the first time) and register
/// the Exec handler, which queues into `queue`. Idempotent: called at every open.
pub fn install(tree: &mut Tree, queue: Queue) -> Result<(), TreeError> {
    let doc = TndsDocument::parse_xml(DDF.as_bytes()).map_err(|e| TreeError::Failed {
        uri: ROOT.into(),
        reason: format!("the SCOMO DDF does not parse: {e}"),
    })?;
    tree.load_ddf(&doc.tree).map_err(|e| TreeError::Failed {
        uri: ROOT.into(),
        reason: format!("the SCOMO DDF does not load: {e}"),
    })?;
    tree.atomically(|t| {
        if ensure_interior(t, ROOT, MO_TYPE)? {
            acl(t, ROOT, ACL_ROOT)?;
        }
        if ensure_interior(t, "./SCOMO/Download", "")? {
            acl(t, "./SCOMO/Download", ACL_DOWNLOAD)?;
        }
        if ensure_interior(t, "./SCOMO/Inventory", "")? {
            acl(t, "./SCOMO/Inventory", ACL_INVENTORY)?;
        }
        ensure_interior(t, "./SCOMO/Inventory/Delivered", "")?;
        ensure_interior(t, "./SCOMO/Inventory/Deployed", "")?;
        Ok(())
    })?;
    for pattern in [
        "./SCOMO/Download/*/Operations/*",
        "./SCOMO/Inventory/Delivered/*/Operations/*",
        "./SCOMO/Inventory/Deployed/*/Operations/*",
    ] {
        let queue = queue.clone();
        tree.register_exec(pattern, move |tree: &mut Tree, call: &ExecCall| {
            accept(tree, call, &queue)
        });
    }
    Ok(())
}

/// The Exec handler: 202 and a queued operation, the entry's Status set to its progressing
/// value (facts §10.2); 405 for a node that is no operation.
fn accept(tree: &mut Tree, call: &ExecCall, queue: &Queue) -> ExecOutcome {
    let Some((op, entry)) = Operation::of(&call.uri) else {
        return ExecOutcome::Done(StatusCode::CommandNotAllowed);
    };
    let status = format!("{entry}/Status");
    if put_leaf(
        tree,
        &status,
        &op.progressing_status().to_string(),
        Format::Int,
    )
    .is_err()
    {
        return ExecOutcome::Done(StatusCode::CommandFailed);
    }
    jobs::enqueue(
        queue,
        PendingOperation {
            operation: jobs::Operation::Scomo(op),
            entry: entry.to_string(),
            node: call.uri.to_string(),
            correlator: call.correlator.clone(),
            server: call.by.server_id().map(str::to_owned),
            argument: None,
        },
    )
}

/// What the worker needs besides the tree.
pub struct Worker<'a> {
    /// The device tree.
    pub tree: &'a mut Tree,
    /// The state directory (partial downloads and delivered packages live in `scomo/`).
    pub dir: &'a Path,
    /// The HTTP(S) client.
    pub transport: &'a Transport,
    /// The SCOMO settings.
    pub settings: &'a ScomoSection,
    /// The fault switches.
    pub faults: &'a FaultsSection,
    /// The simulated user (scripted answers are consumed).
    pub ui: &'a mut UiPolicy,
}

/// A refusal: result code and why.
type Fail = (u16, String);

fn fail(code: u16, why: impl Into<String>) -> Fail {
    (code, why.into())
}

/// A file name for a node name (letters, digits, `-`, `_` kept; other bytes as `%XX`).
fn file_name(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where the partial download of `Download/<name>` is kept.
pub fn partial_path(dir: &Path, name: &str) -> PathBuf {
    dir.join("scomo")
        .join(format!("download-{}.part", file_name(name)))
}

/// Where the package of `Inventory/Delivered/<name>` is kept.
pub fn delivered_path(dir: &Path, name: &str) -> PathBuf {
    dir.join("scomo")
        .join(format!("delivered-{}.pkg", file_name(name)))
}

/// Writes a download into the partial file: appends on 206 (after checking the
/// `Content-Range` starts where the file ends), starts over on 200, ignores other bodies.
struct FileSink {
    path: PathBuf,
    offset: u64,
    file: Option<File>,
    status: u16,
}

impl BodySink for FileSink {
    fn head(&mut self, r: &Response) -> std::io::Result<()> {
        self.status = r.status;
        let file = match r.status {
            200 => File::create(&self.path)?,
            206 => {
                let range = r.header("content-range").unwrap_or_default();
                let expected = format!("bytes {}-", self.offset);
                if !range.trim().starts_with(&expected) {
                    return Err(std::io::Error::other(format!(
                        "206 with Content-Range {range:?}, expected {expected}…"
                    )));
                }
                File::options().append(true).open(&self.path)?
            }
            _ => return Ok(()),
        };
        self.file = Some(file);
        Ok(())
    }

    fn data(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match &mut self.file {
            Some(f) => f.write_all(chunk),
            None => Ok(()),
        }
    }
}

impl Worker<'_> {
    fn value(&self, at: &str) -> Option<String> {
        self.tree.value_str(at).filter(|v| !v.is_empty())
    }

    fn identity(&self) -> swpkg::DeviceIdentity {
        let v = |at: &str| self.tree.value_str(at).unwrap_or_default();
        swpkg::DeviceIdentity {
            dev_id: v("./DevInfo/DevId"),
            manufacturer: v("./DevInfo/Man"),
            model: v("./DevInfo/Mod"),
        }
    }

    /// Perform one operation and queue its completion in the tree.
    pub async fn perform(&mut self, op: &PendingOperation) -> OperationReport {
        let mut report = OperationReport::new(op);
        let jobs::Operation::Scomo(kind) = op.operation else {
            report.skipped = true;
            return report;
        };
        // An Exec rolled back (inside a failed Atomic) or an entry deleted since: the Status
        // no longer says the operation is progressing, so there is nothing to do.
        let status = self.value(&format!("{}/Status", op.entry));
        if status.as_deref() != Some(&kind.progressing_status().to_string()) {
            report.skipped = true;
            return report;
        }
        let name = NodeUri::parse(&op.entry)
            .ok()
            .and_then(|u| u.name().map(str::to_owned))
            .unwrap_or_default();
        report.identifier = self
            .value(&format!("{}/PkgID", op.entry))
            .or_else(|| self.value(&format!("{}/ID", op.entry)))
            .unwrap_or_else(|| name.clone());
        let result = match kind {
            Operation::Download => self.download_only(op, &name).await,
            Operation::DownloadInstall => self.download_install(op, &name, true).await,
            Operation::DownloadInstallInactive => self.download_install(op, &name, false).await,
            Operation::Install => self.install_delivered(op, &name, true),
            Operation::InstallInactive => self.install_delivered(op, &name, false),
            Operation::RemoveDelivered => self.remove_delivered(op, &name),
            Operation::Activate => self.set_state(op, true),
            Operation::Deactivate => self.set_state(op, false),
            Operation::RemoveDeployed => self
                .tree
                .delete(&Principal::Local, &op.entry)
                .map(|()| None)
                .map_err(|e| fail(result_code::REMOVE_FAILED, e.to_string())),
        };
        match result {
            Ok(Some(id)) => report.identifier = id,
            Ok(None) => {}
            Err((code, why)) => {
                report.result_code = code;
                report.detail = Some(why);
                self.mark_failed(op, kind, code);
            }
        }
        jobs::complete(
            self.tree,
            self.faults,
            op,
            Outcome {
                alert_type: ALERT_TYPE,
                result_code: report.result_code,
                warn_on_failure: true,
                extra_data: format!(
                    "<Identifier>{}</Identifier>",
                    jobs::xml_escape(&report.identifier)
                ),
            },
        );
        report
    }

    /// The entry's Status after a failure (facts §10.2).
    fn mark_failed(&mut self, op: &PendingOperation, kind: Operation, code: u16) {
        let status = match kind {
            Operation::Download
            | Operation::DownloadInstall
            | Operation::DownloadInstallInactive => match code {
                result_code::DOWNLOAD_FAILED => 20,
                _ if kind == Operation::Download => 20,
                _ => 70,
            },
            Operation::Install | Operation::InstallInactive => 50,
            Operation::RemoveDelivered | Operation::RemoveDeployed => 20,
            Operation::Activate => 40,
            Operation::Deactivate => 60,
        };
        let at = format!("{}/Status", op.entry);
        if self
            .tree
            .exists(&NodeUri::parse(&at).unwrap_or_else(|_| NodeUri::root()))
        {
            let _ = put_leaf(self.tree, &at, &status.to_string(), Format::Int);
        }
    }

    /// GET the entry's PkgURL into its partial file, resuming with `Range`; the bytes.
    async fn fetch(&mut self, op: &PendingOperation, name: &str) -> Result<Vec<u8>, Fail> {
        let url = self
            .value(&format!("{}/PkgURL", op.entry))
            .ok_or_else(|| fail(result_code::DOWNLOAD_FAILED, "no PkgURL"))?;
        let path = partial_path(self.dir, name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| fail(result_code::DOWNLOAD_FAILED, e.to_string()))?;
        }
        let mut last = String::from("no attempt");
        for _ in 0..self.settings.download_attempts {
            let offset = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let headers = if offset > 0 {
                vec![("Range".to_owned(), format!("bytes={offset}-"))]
            } else {
                Vec::new()
            };
            let mut sink = FileSink {
                path: path.clone(),
                offset,
                file: None,
                status: 0,
            };
            match self.transport.get(&url, &headers, &mut sink).await {
                Ok(r) if r.status == 200 || r.status == 206 => {
                    drop(sink);
                    return fs::read(&path)
                        .map_err(|e| fail(result_code::DOWNLOAD_FAILED, e.to_string()));
                }
                Ok(r) if r.status == 416 => {
                    // The partial file is no prefix of what the server has: start over.
                    let _ = fs::remove_file(&path);
                    last = "416 for the resumed range".into();
                }
                Ok(r) => {
                    return Err(fail(
                        result_code::DOWNLOAD_FAILED,
                        format!("GET {url}: HTTP {}", r.status),
                    ))
                }
                Err(e) => {
                    if matches!(e, crate::transport::TransportError::Sink { .. }) {
                        let _ = fs::remove_file(&path);
                    }
                    last = e.to_string();
                }
            }
        }
        Err(fail(
            result_code::DOWNLOAD_FAILED,
            format!("GET {url}: {last}"),
        ))
    }

    /// Parse and verify (facts §10.3 codes via `swpkg`); `skip_signature_check` lets an
    /// originator failure pass but still checks the targets.
    fn check(&self, bytes: &[u8]) -> Result<Package, Fail> {
        let pkg = Package::parse(bytes).map_err(|e| fail(e.result_code(), e.to_string()))?;
        let device = self.identity();
        match pkg.verify(&self.settings.trust_store(), &device) {
            Ok(()) => Ok(pkg),
            Err(PackageError::UntrustedOriginator(_) | PackageError::BadSignature(_))
                if self.faults.skip_signature_check =>
            {
                let for_us = pkg.targets.iter().any(|t| match t {
                    swpkg::Target::DevId(d) => *d == device.dev_id,
                    swpkg::Target::Model {
                        manufacturer,
                        model,
                    } => *manufacturer == device.manufacturer && *model == device.model,
                });
                if for_us {
                    Ok(pkg)
                } else {
                    Err(fail(
                        result_code::UNSUPPORTED_ENVIRONMENT,
                        "the package is not for this device",
                    ))
                }
            }
            Err(e) => Err(fail(e.result_code(), e.to_string())),
        }
    }

    /// Ask the simulated user to confirm (1101, facts §3.4); a headless device has nobody to
    /// ask and goes ahead.
    fn confirm(&mut self, pkg: &Package) -> bool {
        if *self.ui == UiPolicy::Headless {
            return true;
        }
        let mut hooks = UiHooks::new(self.ui.clone());
        let item = |s: String| Item {
            data: Some(Data::Text(s)),
            ..Item::default()
        };
        let alert = Alert {
            cmd_id: "0".into(),
            code: Some(AlertCode::ConfirmOrReject),
            items: vec![
                item(String::new()),
                item(format!("Install {} {}?", pkg.name, pkg.version)),
            ],
            ..Alert::default()
        };
        let answer = hooks.answer_ui(UiKind::Confirm, &alert);
        *self.ui = hooks.policy().clone();
        answer.code == StatusCode::Ok || self.faults.ignore_user_refusal
    }

    async fn download_only(
        &mut self,
        op: &PendingOperation,
        name: &str,
    ) -> Result<Option<String>, Fail> {
        let bytes = self.fetch(op, name).await?;
        let partial = partial_path(self.dir, name);
        let pkg = self.check(&bytes).inspect_err(|_| {
            let _ = fs::remove_file(&partial);
        })?;
        let delivered = format!("./SCOMO/Inventory/Delivered/{}", escape_name(name));
        let description = self.value(&format!("{}/Description", op.entry));
        let pkg_type = self
            .value(&format!("{}/PkgType", op.entry))
            .or(pkg.pkg_type.clone());
        let entry = op.entry.clone();
        self.tree
            .atomically(|t| {
                if t.exists(&uri(&delivered)?) {
                    t.delete(&Principal::Local, &delivered)?;
                }
                t.add(&Principal::Local, &delivered, NewNode::interior())?;
                put_leaf(t, &format!("{delivered}/PkgID"), &pkg.pkg_id, Format::Chr)?;
                put_leaf(t, &format!("{delivered}/Name"), &pkg.name, Format::Chr)?;
                if let Some(d) = &description {
                    put_leaf(t, &format!("{delivered}/Description"), d, Format::Chr)?;
                }
                put_leaf(t, &format!("{delivered}/Status"), "10", Format::Int)?;
                put_leaf(t, &format!("{delivered}/State"), "10", Format::Int)?;
                if let Some(p) = &pkg_type {
                    put_leaf(t, &format!("{delivered}/PkgType"), p, Format::Chr)?;
                }
                for o in ["Install", "InstallInactive", "Remove"] {
                    put_leaf(t, &format!("{delivered}/Operations/{o}"), "", Format::Chr)?;
                }
                t.delete(&Principal::Local, &entry)
            })
            .map_err(|e| fail(result_code::DOWNLOAD_FAILED, e.to_string()))?;
        fs::rename(&partial, delivered_path(self.dir, name))
            .map_err(|e| fail(result_code::DOWNLOAD_FAILED, e.to_string()))?;
        Ok(Some(pkg.pkg_id))
    }

    async fn download_install(
        &mut self,
        op: &PendingOperation,
        name: &str,
        active: bool,
    ) -> Result<Option<String>, Fail> {
        let bytes = self.fetch(op, name).await?;
        let partial = partial_path(self.dir, name);
        let result = self.check(&bytes).and_then(|pkg| {
            if !self.confirm(&pkg) {
                return Err(fail(result_code::USER_CANCELLED, "the user refused"));
            }
            let description = self.value(&format!("{}/Description", op.entry));
            self.deploy(&pkg, name, description.as_deref(), active, &op.entry)
        });
        // The package file goes whatever happened: installed, refused or invalid.
        let _ = fs::remove_file(&partial);
        result.map(Some)
    }

    fn install_delivered(
        &mut self,
        op: &PendingOperation,
        name: &str,
        active: bool,
    ) -> Result<Option<String>, Fail> {
        let path = delivered_path(self.dir, name);
        let bytes = fs::read(&path).map_err(|e| {
            fail(
                result_code::INSTALL_FAILED,
                format!("the delivered package is gone: {e}"),
            )
        })?;
        let pkg = self.check(&bytes)?;
        if !self.confirm(&pkg) {
            return Err(fail(result_code::USER_CANCELLED, "the user refused"));
        }
        let description = self.value(&format!("{}/Description", op.entry));
        let id = self.deploy(&pkg, name, description.as_deref(), active, &op.entry)?;
        let _ = fs::remove_file(&path);
        Ok(Some(id))
    }

    fn remove_delivered(
        &mut self,
        op: &PendingOperation,
        name: &str,
    ) -> Result<Option<String>, Fail> {
        self.tree
            .delete(&Principal::Local, &op.entry)
            .map_err(|e| fail(result_code::REMOVE_FAILED, e.to_string()))?;
        let _ = fs::remove_file(delivered_path(self.dir, name));
        Ok(None)
    }

    fn set_state(&mut self, op: &PendingOperation, active: bool) -> Result<Option<String>, Fail> {
        let code = if active {
            result_code::ACTIVATE_FAILED
        } else {
            result_code::DEACTIVATE_FAILED
        };
        let entry = op.entry.clone();
        self.tree
            .atomically(|t| {
                put_leaf(
                    t,
                    &format!("{entry}/State"),
                    if active { "20" } else { "10" },
                    Format::Int,
                )?;
                put_leaf(t, &format!("{entry}/Status"), "10", Format::Int)
            })
            .map_err(|e| fail(code, e.to_string()))?;
        Ok(None)
    }

    /// Create `Inventory/Deployed/<name>` (replacing an older one) and delete `source`.
    fn deploy(
        &mut self,
        pkg: &Package,
        name: &str,
        description: Option<&str>,
        active: bool,
        source: &str,
    ) -> Result<String, Fail> {
        let at = format!("./SCOMO/Inventory/Deployed/{}", escape_name(name));
        self.tree
            .atomically(|t| {
                if t.exists(&uri(&at)?) {
                    t.delete(&Principal::Local, &at)?;
                }
                t.add(&Principal::Local, &at, NewNode::interior())?;
                put_leaf(t, &format!("{at}/ID"), &pkg.pkg_id, Format::Chr)?;
                put_leaf(t, &format!("{at}/PkgIDRef"), &pkg.pkg_id, Format::Chr)?;
                put_leaf(t, &format!("{at}/Name"), &pkg.name, Format::Chr)?;
                if let Some(d) = description {
                    put_leaf(t, &format!("{at}/Description"), d, Format::Chr)?;
                }
                put_leaf(t, &format!("{at}/Version"), &pkg.version, Format::Chr)?;
                let state = if active { "20" } else { "10" };
                put_leaf(t, &format!("{at}/State"), state, Format::Int)?;
                put_leaf(t, &format!("{at}/Status"), "10", Format::Int)?;
                for o in ["Activate", "Deactivate", "Remove"] {
                    put_leaf(t, &format!("{at}/Operations/{o}"), "", Format::Chr)?;
                }
                t.delete(&Principal::Local, source)
            })
            .map_err(|e| fail(result_code::INSTALL_FAILED, e.to_string()))?;
        Ok(pkg.pkg_id.clone())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_recognised_by_uri() {
        let u = NodeUri::parse("./SCOMO/Download/p1/Operations/DownloadInstall").unwrap();
        let (op, entry) = Operation::of(&u).unwrap();
        assert_eq!(op, Operation::DownloadInstall);
        assert_eq!(entry.to_string(), "./SCOMO/Download/p1");
        let u = NodeUri::parse("./SCOMO/Inventory/Deployed/c/Operations/Remove").unwrap();
        assert_eq!(Operation::of(&u).unwrap().0, Operation::RemoveDeployed);
        let u = NodeUri::parse("./SCOMO/Download/p1/Operations/Format").unwrap();
        assert!(Operation::of(&u).is_none());
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_name("a-b_1"), "a-b_1");
        assert_eq!(file_name("../x"), "%2E%2E%2Fx");
    }

    #[test]
    fn bad_keys_are_refused() {
        let s = ScomoSection {
            enabled: true,
            trusted_originators: vec![TrustedOriginator {
                id: "o".into(),
                public_key: dm_protocol::auth::b64(&[1; 31]),
            }],
            ..ScomoSection::default()
        };
        assert!(s.validate().unwrap_err().contains("31 bytes"));
    }
}
