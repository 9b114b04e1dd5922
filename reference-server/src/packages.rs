//! The software package repository (issue 8 item 5): packages uploaded with their metadata
//! are signed with the server's software-originator key (docs/scomo-package.md, `DMPKG 1`)
//! and hosted as content at a stable URL, `/content/packages/<pkg_id>.dmpkg` — the `PkgURL`
//! a SCOMO job gives the device. The metadata is kept beside it as
//! `packages/<pkg_id>.json`, so the repository needs no table of its own.
//!
//! The originator key is generated at the first start and kept in the data directory
//! (`originator.pk8`, readable by the owner only); it is never hosted. Devices trust the
//! public key that `GET /originator` shows.

use std::path::{Path, PathBuf};

use dm_protocol::swpkg::{self, Originator, PackageSpec, Target};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};

/// The name of the key file in the data directory.
pub const KEY_FILE: &str = "originator.pk8";

/// A package target in the admin API: exactly one of the two fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageTarget {
    /// A DevId the package is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev_id: Option<String>,
    /// `<manufacturer>/<model>` the package is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// `POST /packages`: a package to sign and host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageUpload {
    /// `PkgID`: letters, digits, `.`, `_`, `-`.
    pub pkg_id: String,
    /// Component name.
    pub name: String,
    /// Component version.
    pub version: String,
    /// MIME type of the payload.
    #[serde(default)]
    pub pkg_type: Option<String>,
    /// Who it is for (at least one).
    pub targets: Vec<PackageTarget>,
    /// The payload, base64.
    pub payload: String,
}

/// A hosted package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageInfo {
    /// `PkgID`.
    pub pkg_id: String,
    /// Component name.
    pub name: String,
    /// Component version.
    pub version: String,
    /// MIME type of the payload.
    #[serde(default)]
    pub pkg_type: Option<String>,
    /// Who it is for.
    pub targets: Vec<PackageTarget>,
    /// The signed package's size in bytes.
    pub size: u64,
    /// SHA-256 of the payload, lowercase hex.
    pub sha256: String,
    /// The signer (`GET /originator`).
    pub originator: String,
    /// Where devices download it: the content path (`/content/packages/<pkg_id>.dmpkg`) on
    /// the DM listener.
    pub content_path: String,
}

/// `GET /originator`: the key devices must trust for this server's packages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginatorInfo {
    /// The key id (`Originator:` in packages).
    pub id: String,
    /// The Ed25519 public key, base64 of 32 bytes.
    pub public_key: String,
}

/// Why a repository operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackageRepoError {
    /// The upload is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// No package with this id.
    #[error("no package `{0}`")]
    Unknown(String),
    /// The key file cannot be read or written.
    #[error("the originator key {path}: {reason}")]
    Key {
        /// The file.
        path: PathBuf,
        /// The cause.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn content(pkg_id: &str) -> String {
    format!("packages/{pkg_id}.dmpkg")
}

fn meta(pkg_id: &str) -> String {
    format!("packages/{pkg_id}.json")
}

/// The server's originator: its key from `dir`, made on first use.
pub fn originator(dir: &Path, id: &str) -> Result<Originator, PackageRepoError> {
    let path = dir.join(KEY_FILE);
    let key_err = |reason: String| PackageRepoError::Key {
        path: path.clone(),
        reason,
    };
    match std::fs::read(&path) {
        Ok(pkcs8) => Originator::from_pkcs8(id, &pkcs8).map_err(|e| key_err(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (o, pkcs8) = Originator::generate(id).map_err(|e| key_err(e.to_string()))?;
            write_private(&path, &pkcs8).map_err(|e| key_err(e.to_string()))?;
            Ok(o)
        }
        Err(e) => Err(key_err(e.to_string())),
    }
}

/// Write a private file crash-safely: a temporary file (owner-only on Unix), fsync, then
/// rename — a crash leaves the old state or the whole key, never half of one.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    let mut f = o.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        // The rename itself is durable once the directory is synced.
        std::fs::File::open(dir).and_then(|d| d.sync_all()).ok();
    }
    Ok(())
}

/// The originator's public view.
pub fn originator_info(o: &Originator) -> OriginatorInfo {
    OriginatorInfo {
        id: o.id().to_owned(),
        public_key: dm_protocol::auth::b64(&o.public_key()),
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !id.starts_with('.')
}

/// Sign and host a package; its info.
pub fn publish(
    store: &Store,
    o: &Originator,
    up: &PackageUpload,
    now: u64,
) -> Result<PackageInfo, PackageRepoError> {
    let invalid = |s: String| PackageRepoError::Invalid(s);
    if !valid_id(&up.pkg_id) {
        return Err(invalid(format!(
            "pkg_id `{}` must be 1–100 letters, digits, `.`, `_` or `-`, not starting with `.`",
            up.pkg_id
        )));
    }
    let pkg_type = up.pkg_type.clone().unwrap_or_else(|| "x".into());
    for (what, v) in [
        ("name", &up.name),
        ("version", &up.version),
        ("pkg_type", &pkg_type),
    ] {
        if v.is_empty() || v.contains('\n') || v.contains('\r') {
            return Err(invalid(format!("{what} must be one non-empty line")));
        }
    }
    if up.targets.is_empty() {
        return Err(invalid(
            "targets must name at least one dev_id or model".into(),
        ));
    }
    let mut targets = Vec::new();
    for t in &up.targets {
        targets.push(match (&t.dev_id, &t.model) {
            (Some(d), None) if !d.is_empty() && !d.contains('\n') => Target::DevId(d.clone()),
            (None, Some(m)) => match m.split_once('/') {
                Some((man, model)) if !man.is_empty() && !model.is_empty() && !m.contains('\n') => {
                    Target::Model {
                        manufacturer: man.to_owned(),
                        model: model.to_owned(),
                    }
                }
                _ => return Err(invalid(format!("model `{m}` is not `manufacturer/model`"))),
            },
            _ => {
                return Err(invalid(
                    "each target has exactly one of dev_id and model".into(),
                ))
            }
        });
    }
    let payload = dm_protocol::auth::b64_decode(&up.payload)
        .map_err(|_| invalid("payload is not base64".into()))?;
    let bytes = o.sign(&PackageSpec {
        pkg_id: up.pkg_id.clone(),
        name: up.name.clone(),
        version: up.version.clone(),
        pkg_type: up.pkg_type.clone(),
        targets,
        payload: payload.clone(),
    });
    let info = PackageInfo {
        pkg_id: up.pkg_id.clone(),
        name: up.name.clone(),
        version: up.version.clone(),
        pkg_type: up.pkg_type.clone(),
        targets: up.targets.clone(),
        size: bytes.len() as u64,
        sha256: swpkg::sha256(&payload)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        originator: o.id().to_owned(),
        content_path: format!("/content/{}", content(&up.pkg_id)),
    };
    let json = serde_json::to_vec(&info).map_err(|e| invalid(e.to_string()))?;
    store.put_content(
        &content(&up.pkg_id),
        "application/vnd.dmconf.dmpkg",
        &bytes,
        now,
    )?;
    store.put_content(&meta(&up.pkg_id), "application/json", &json, now)?;
    Ok(info)
}

/// Every hosted package, by id.
pub fn list(store: &Store) -> Result<Vec<PackageInfo>, PackageRepoError> {
    let mut out = Vec::new();
    for c in store.contents()? {
        if let Some(id) = c
            .name
            .strip_prefix("packages/")
            .and_then(|n| n.strip_suffix(".json"))
        {
            out.push(get(store, id)?);
        }
    }
    Ok(out)
}

/// One package's info.
pub fn get(store: &Store, pkg_id: &str) -> Result<PackageInfo, PackageRepoError> {
    if !valid_id(pkg_id) {
        return Err(PackageRepoError::Unknown(pkg_id.to_owned()));
    }
    let c = store
        .content(&meta(pkg_id))
        .map_err(|_| PackageRepoError::Unknown(pkg_id.to_owned()))?;
    serde_json::from_slice(&c.bytes)
        .map_err(|e| PackageRepoError::Invalid(format!("stored metadata of `{pkg_id}`: {e}")))
}

/// Remove a package and its metadata.
pub fn delete(store: &Store, pkg_id: &str) -> Result<(), PackageRepoError> {
    get(store, pkg_id)?;
    store.delete_content(&content(pkg_id))?;
    store.delete_content(&meta(pkg_id))?;
    Ok(())
}

/// A SCOMO operation to queue for a device (`POST /devices/{dev_id}/scomo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScomoOperation {
    /// Download only (`Download/<x>/Operations/Download`): the package lands in
    /// `Inventory/Delivered`.
    Download,
    /// Download and install, active (`DownloadInstall`). Also the update of a component: a
    /// newer package of the same name.
    Install,
    /// Download and install, inactive (`DownloadInstallInactive`).
    InstallInactive,
    /// Remove a deployed component (`Inventory/Deployed/<x>/Operations/Remove`).
    Remove,
    /// Activate a deployed component.
    Activate,
    /// Deactivate a deployed component.
    Deactivate,
    /// Read the inventory (`Get <root>/Inventory?list=StructData`).
    Inventory,
}

/// `POST /devices/{dev_id}/scomo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScomoRequest {
    /// What to do.
    pub operation: ScomoOperation,
    /// The package (download and install operations): a `pkg_id` of this repository.
    #[serde(default)]
    pub pkg_id: Option<String>,
    /// The component's node name: of the deployed component (remove, activate, deactivate),
    /// or of the `Download` entry and so of the deployed component it becomes (download and
    /// install; default: [`entry_name`] of the package's name, so installing a newer package
    /// of the same component replaces it — an update).
    #[serde(default)]
    pub component: Option<String>,
    /// The device's SCOMO root (facts §10: device-defined), default `./SCOMO`.
    #[serde(default)]
    pub root: Option<String>,
}

fn leaf(uri: String, value: &str) -> serde_json::Value {
    serde_json::json!({"Target": {"LocURI": uri}, "Meta": {"Format": "chr"}, "Data": {"text": value}})
}

/// The node name of a component: its name in lower case, every other character than a
/// letter or digit as `-` (`Anti Virus` → `anti-virus`).
pub fn entry_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// The job commands of a SCOMO request (facts §10.1): for a download, `Add` the
/// `Download/<component>` node with `PkgID`, `Name`, `PkgURL` (`base` + the package's content
/// path), `PkgType`, then `Exec` its operation; for an installed component, `Exec` its
/// operation. Execs get their Correlator from the engine; the device answers 202 and reports
/// with `urn:oma:at:scomo:1.0:OperationComplete` (facts §10.3), which completes the job.
pub fn scomo_job(
    store: &Store,
    req: &ScomoRequest,
    base: &str,
) -> Result<crate::model::JobSpec, PackageRepoError> {
    let invalid = |s: &str| PackageRepoError::Invalid(s.to_owned());
    let root = req
        .root
        .as_deref()
        .unwrap_or("./SCOMO")
        .trim_end_matches('/');
    let node_name =
        |s: &str| !s.is_empty() && !s.contains('/') && !s.contains('?') && s != "." && s != "..";
    let commands = match req.operation {
        ScomoOperation::Download | ScomoOperation::Install | ScomoOperation::InstallInactive => {
            let id = req
                .pkg_id
                .as_deref()
                .ok_or_else(|| invalid("this operation needs a pkg_id"))?;
            let p = get(store, id)?;
            let op = match req.operation {
                ScomoOperation::Download => "Download",
                ScomoOperation::Install => "DownloadInstall",
                _ => "DownloadInstallInactive",
            };
            let entry = match &req.component {
                Some(c) if node_name(c) => c.clone(),
                Some(_) => return Err(invalid("component must be a node name")),
                None => entry_name(&p.name),
            };
            let x = format!("{root}/Download/{entry}");
            let mut items = vec![
                leaf(format!("{x}/PkgID"), &p.pkg_id),
                leaf(format!("{x}/Name"), &p.name),
                leaf(format!("{x}/PkgURL"), &format!("{base}{}", p.content_path)),
            ];
            if let Some(t) = &p.pkg_type {
                items.push(leaf(format!("{x}/PkgType"), t));
            }
            let mut cmds = vec![serde_json::json!({"Command": "Add", "CmdID": "0",
                "Items": [{"Target": {"LocURI": x}, "Meta": {"Format": "node"}}]})];
            cmds.extend(
                items
                    .into_iter()
                    .map(|i| serde_json::json!({"Command": "Add", "CmdID": "0", "Items": [i]})),
            );
            // A device that makes the Operations leaves itself answers this Add 418; one that
            // expects the server to stage them (the reference client) gets it: either way
            // the Exec follows (facts §10.1 leaves it open; not inside an Atomic on purpose).
            cmds.push(serde_json::json!({"Command": "Add", "CmdID": "0",
                "Items": [{"Target": {"LocURI": format!("{x}/Operations/{op}")}}]}));
            cmds.push(serde_json::json!({"Command": "Exec", "CmdID": "0",
                "Items": [{"Target": {"LocURI": format!("{x}/Operations/{op}")}}]}));
            cmds
        }
        ScomoOperation::Remove | ScomoOperation::Activate | ScomoOperation::Deactivate => {
            let c = req
                .component
                .as_deref()
                .filter(|c| node_name(c))
                .ok_or_else(|| invalid("this operation needs a component (a node name)"))?;
            let op = match req.operation {
                ScomoOperation::Remove => "Remove",
                ScomoOperation::Activate => "Activate",
                _ => "Deactivate",
            };
            vec![serde_json::json!({"Command": "Exec", "CmdID": "0",
                "Items": [{"Target": {"LocURI": format!("{root}/Inventory/Deployed/{c}/Operations/{op}")}}]})]
        }
        ScomoOperation::Inventory => vec![serde_json::json!({"Command": "Get", "CmdID": "0",
            "Items": [{"Target": {"LocURI": format!("{root}/Inventory?list=StructData")}}]})],
    };
    serde_json::from_value(serde_json::json!({ "commands": commands }))
        .map_err(|e| PackageRepoError::Invalid(format!("cannot build the job: {e}")))
}

/// The scheme, host and port of a URL (`http://h:8080/dm` → `http://h:8080`).
pub fn url_base(url: &str) -> &str {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            &url[..i + 3 + rest.find('/').unwrap_or(rest.len())]
        }
        None => url,
    }
}

/// The Generic Alert type of a device's own SCOMO request (project-defined,
/// SCOMO-OSR-Device-XX; docs/scomo.md): Format `xml`, Data
/// `<Operation>install</Operation><Name>Antivirus</Name>` (or `<PkgID>…</PkgID>`); the
/// operation is `install` or `update`, which are the same job: the newest package of that
/// name targeted at the device.
pub const DEVICE_REQUEST_TYPE: &str = "urn:dmconf:at:scomo:1.0:DeviceRequest";

/// The text of `<tag>…</tag>` in `data`.
fn element<'a>(data: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = data.find(&open)? + open.len();
    let len = data[start..].find(&format!("</{tag}>"))?;
    Some(data[start..start + len].trim())
}

/// Dotted versions compared segment by segment, numerically where both are numbers
/// (`2.10` > `2.9`).
fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.split('.'), b.split('.'));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(p), Some(q)) => {
                let o = match (p.parse::<u64>(), q.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    _ => p.cmp(q),
                };
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

/// Whether `p` is for the device (facts §5.2 DevInfo `Man`/`Mod` as the device reported them).
fn targets_device(
    p: &PackageInfo,
    dev_id: &str,
    devinfo: &std::collections::BTreeMap<String, String>,
) -> bool {
    let model = match (devinfo.get("Man"), devinfo.get("Mod")) {
        (Some(m), Some(d)) => Some(format!("{m}/{d}")),
        _ => None,
    };
    p.targets
        .iter()
        .any(|t| t.dev_id.as_deref() == Some(dev_id) || (t.model.is_some() && t.model == model))
}

/// The job answering a device's request alert (see [`DEVICE_REQUEST_TYPE`]), stored as a
/// queued job; `None` when the alert is not such a request or no package fits.
pub fn device_request(
    store: &Store,
    alert: &crate::model::AlertRecord,
    devinfo: &std::collections::BTreeMap<String, String>,
    base: &str,
    now: u64,
) -> Result<Option<crate::model::Job>, PackageRepoError> {
    let Some(item) = alert
        .items
        .iter()
        .find(|i| i.type_.as_deref() == Some(DEVICE_REQUEST_TYPE))
    else {
        return Ok(None);
    };
    if item.format.as_deref() != Some("xml") {
        return Err(PackageRepoError::Invalid(
            "a device request's Meta Format must be xml (docs/scomo.md)".into(),
        ));
    }
    let data = item.data.as_deref().unwrap_or("");
    let op = element(data, "Operation").unwrap_or("install");
    if op != "install" && op != "update" {
        return Err(PackageRepoError::Invalid(format!(
            "device request for `{op}`: only install and update are served"
        )));
    }
    let pkg = match (element(data, "PkgID"), element(data, "Name")) {
        (Some(id), _) => {
            Some(get(store, id)?).filter(|p| targets_device(p, &alert.dev_id, devinfo))
        }
        (None, Some(name)) => list(store)?
            .into_iter()
            .filter(|p| p.name == name && targets_device(p, &alert.dev_id, devinfo))
            .max_by(|a, b| version_cmp(&a.version, &b.version)),
        (None, None) => None,
    };
    let Some(pkg) = pkg else { return Ok(None) };
    let spec = scomo_job(
        store,
        &ScomoRequest {
            operation: ScomoOperation::Install,
            pkg_id: Some(pkg.pkg_id),
            component: None,
            root: None,
        },
        base,
    )?;
    Ok(Some(store.add_job(&alert.dev_id, &spec, now)?))
}

/// [`crate::session::DeviceRequests`] over the store: a device's SCOMO requests become jobs
/// of this session.
pub struct StoreRequests {
    /// Whether this session already got its one request job (a device cannot flood the
    /// store with jobs by repeating the alert).
    pub served: bool,
    /// The store.
    pub store: Store,
    /// The PkgURL base ([`url_base`] of the server's URL).
    pub base: String,
    /// Now, Unix seconds.
    pub now: u64,
}

impl crate::session::DeviceRequests for StoreRequests {
    fn on_generic_alert(
        &mut self,
        alert: &crate::model::AlertRecord,
        devinfo: &std::collections::BTreeMap<String, String>,
    ) -> Option<crate::model::Job> {
        if self.served {
            return None;
        }
        match device_request(&self.store, alert, devinfo, &self.base, self.now) {
            Ok(job) => {
                self.served = job.is_some();
                job
            }
            Err(e) => {
                // The alert is still acknowledged; the operator sees why nothing was queued.
                eprintln!(
                    "dm-server: device request of {} not served: {e}",
                    alert.dev_id
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically_by_segment() {
        use std::cmp::Ordering::*;
        assert_eq!(version_cmp("2.10", "2.9"), Greater);
        assert_eq!(version_cmp("1.0", "1.0"), Equal);
        assert_eq!(version_cmp("1.0", "1.0.1"), Less);
        assert_eq!(version_cmp("1.a", "1.b"), Less);
    }

    fn alert(data: &str) -> crate::model::AlertRecord {
        crate::model::AlertRecord {
            dev_id: "IMEI:1".into(),
            session_id: "1".into(),
            at: 0,
            code: 1226,
            correlator: None,
            items: vec![crate::model::AlertItem {
                source: None,
                target: None,
                type_: Some(DEVICE_REQUEST_TYPE.into()),
                format: Some("xml".into()),
                mark: None,
                data: Some(data.into()),
            }],
        }
    }

    #[test]
    fn a_device_request_queues_the_newest_package_for_the_device(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path())?;
        store.add_device(&crate::model::Device {
            dev_id: "IMEI:1".into(),
            server_id: "s".into(),
            client_auth: None,
            server_auth: None,
            notify: vec![],
        })?;
        let (o, _) = Originator::generate("dm-server")?;
        for (id, version, target) in [
            ("av-1", "1.9", "Acme/Phone"),
            ("av-2", "1.10", "Acme/Phone"),
            ("av-3", "9.0", "Other/Model"),
        ] {
            publish(
                &store,
                &o,
                &PackageUpload {
                    pkg_id: id.into(),
                    name: "Antivirus".into(),
                    version: version.into(),
                    pkg_type: None,
                    targets: vec![PackageTarget {
                        dev_id: None,
                        model: Some(target.into()),
                    }],
                    payload: dm_protocol::auth::b64(b"x"),
                },
                1,
            )?;
        }
        let devinfo = [
            ("Man".to_owned(), "Acme".to_owned()),
            ("Mod".to_owned(), "Phone".to_owned()),
        ]
        .into_iter()
        .collect();
        let job = device_request(
            &store,
            &alert("<Operation>update</Operation><Name>Antivirus</Name>"),
            &devinfo,
            "http://h",
            5,
        )?
        .ok_or("no job")?;
        let text = serde_json::to_string(&job.spec)?;
        assert!(
            text.contains("http://h/content/packages/av-2.dmpkg"),
            "the newest for the model: {text}"
        );
        assert_eq!(store.jobs("IMEI:1")?.len(), 1, "stored, queued");
        // A package by id, an unknown name, an operation we do not serve.
        assert!(device_request(
            &store,
            &alert("<PkgID>av-1</PkgID>"),
            &devinfo,
            "http://h",
            5
        )?
        .is_some());
        assert!(
            device_request(&store, &alert("<Name>Nope</Name>"), &devinfo, "http://h", 5)?.is_none()
        );
        assert!(device_request(
            &store,
            &alert("<Operation>remove</Operation><Name>Antivirus</Name>"),
            &devinfo,
            "http://h",
            5
        )
        .is_err());
        let mut other = alert("<Name>Antivirus</Name>");
        other.items[0].type_ = Some("org.example.other".into());
        assert!(device_request(&store, &other, &devinfo, "http://h", 5)?.is_none());
        Ok(())
    }

    #[test]
    fn url_base_keeps_scheme_host_and_port() {
        assert_eq!(
            url_base("http://127.0.0.1:8080/dm"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(url_base("https://dms.example/a/b?x"), "https://dms.example");
        assert_eq!(url_base("https://dms.example"), "https://dms.example");
        assert_eq!(url_base("no-scheme"), "no-scheme");
    }
}
