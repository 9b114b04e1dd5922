//! Device migration on the server (issue 8 item 6; seed 000, DM13-MIG-6.1.x; project-defined
//! MO, docs/migration.md): a backup job starts the device's backup application
//! (`Exec ./Backup/Operations/Backup` with a server-given upload URL), the device uploads the
//! selected subtrees as a TNDS document to `/upload/backups/<device>/<n>.tnds` (`n` random),
//! and a
//! restore job starts the restore on any device (`Exec ./Backup/Operations/Restore` with the
//! URL of a stored backup). Each operation is answered 202 and reported by a Generic Alert
//! `urn:dmconf:at:backup:1.0:OperationComplete` with the Exec's Correlator.

use serde::{Deserialize, Serialize};

use crate::model::JobSpec;
use crate::store::{ContentInfo, Store, StoreError};

/// The Generic Alert type of a finished backup or restore.
pub const OPERATION_COMPLETE: &str = "urn:dmconf:at:backup:1.0:OperationComplete";

/// `POST /devices/{dev_id}/backup`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupRequest {
    /// The subtrees to back up (`./Backup/Subtrees`, comma-separated on the device); none:
    /// the device's own choice (its current setting).
    #[serde(default)]
    pub subtrees: Vec<String>,
    /// The device's backup MO root, default `./Backup`.
    #[serde(default)]
    pub root: Option<String>,
}

/// `POST /devices/{dev_id}/restore`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreRequest {
    /// The stored backup: its content name (`GET /devices/{dev_id}/backups`), possibly of
    /// another device — that is the migration.
    pub backup: String,
    /// The device's backup MO root, default `./Backup`.
    #[serde(default)]
    pub root: Option<String>,
}

/// A DevId as one content-name segment: letters, digits and `-` kept, every other byte
/// (`.` and `_` included, so no `.`/`..` segment and no collision) as `_XX` (hex).
pub fn device_segment(dev_id: &str) -> String {
    let mut out = String::new();
    for b in dev_id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("_{b:02X}"));
        }
    }
    out
}

fn root(r: &Option<String>) -> String {
    r.as_deref()
        .unwrap_or("./Backup")
        .trim_end_matches('/')
        .to_owned()
}

/// The content name of backup number `n` of `dev_id` (as uploaded through `/upload/`).
pub fn backup_name(dev_id: &str, n: u64) -> String {
    format!("uploads/backups/{}/{n}.tnds", device_segment(dev_id))
}

/// The backup job: optionally set `Subtrees`, then `Exec Operations/Backup` with the upload
/// URL (`base` + `/upload/backups/<device>/<n>.tnds`).
pub fn backup_job(
    dev_id: &str,
    req: &BackupRequest,
    base: &str,
    n: u64,
) -> Result<JobSpec, String> {
    let r = root(&req.root);
    let upload = format!(
        "{base}/upload/{}",
        backup_name(dev_id, n).trim_start_matches("uploads/")
    );
    let mut commands = Vec::new();
    if !req.subtrees.is_empty() {
        if req
            .subtrees
            .iter()
            .any(|s| s.contains(',') || !s.starts_with('.'))
        {
            return Err("subtrees are device URIs (starting with `.`) without commas".into());
        }
        commands.push(
            serde_json::json!({"Command": "Replace", "CmdID": "0", "Items": [
            {"Target": {"LocURI": format!("{r}/Subtrees")}, "Meta": {"Format": "chr"},
             "Data": {"text": req.subtrees.join(",")}}]}),
        );
    }
    commands.push(
        serde_json::json!({"Command": "Exec", "CmdID": "0", "Items": [
        {"Target": {"LocURI": format!("{r}/Operations/Backup")}, "Meta": {"Format": "chr"},
         "Data": {"text": upload}}]}),
    );
    serde_json::from_value(serde_json::json!({ "commands": commands })).map_err(|e| e.to_string())
}

/// The restore job: `Exec Operations/Restore` with the backup's download URL.
pub fn restore_job(store: &Store, req: &RestoreRequest, base: &str) -> Result<JobSpec, StoreError> {
    // The backup must exist (404 unknown_content otherwise).
    store.content(&req.backup)?;
    let r = root(&req.root);
    let url = format!("{base}/content/{}", req.backup);
    let spec = serde_json::json!({"commands": [{"Command": "Exec", "CmdID": "0", "Items": [
        {"Target": {"LocURI": format!("{r}/Operations/Restore")}, "Meta": {"Format": "chr"},
         "Data": {"text": url}}]}]});
    serde_json::from_value(spec).map_err(|source| StoreError::Encode {
        what: "restore job",
        source,
    })
}

/// The stored backups of `dev_id`, by name.
pub fn backups(store: &Store, dev_id: &str) -> Result<Vec<ContentInfo>, StoreError> {
    let prefix = format!("uploads/backups/{}/", device_segment(dev_id));
    Ok(store
        .contents()?
        .into_iter()
        .filter(|c| c.name.starts_with(&prefix))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_segments_are_content_safe_and_distinct() {
        assert_eq!(device_segment("IMEI:1"), "IMEI_3A1");
        assert_ne!(device_segment("a/b"), device_segment("a_2Fb_"));
        assert_eq!(backup_name("IMEI:1", 7), "uploads/backups/IMEI_3A1/7.tnds");
    }

    #[test]
    fn a_backup_job_names_the_upload_url_and_the_subtrees() {
        let spec = backup_job(
            "IMEI:1",
            &BackupRequest {
                subtrees: vec!["./Vendor".into(), "./DMAcc".into()],
                root: None,
            },
            "http://h:1",
            3,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let text = serde_json::to_string(&spec).unwrap_or_default();
        assert!(
            text.contains("./Backup/Subtrees") && text.contains("./Vendor,./DMAcc"),
            "{text}"
        );
        assert!(
            text.contains("http://h:1/upload/backups/IMEI_3A1/3.tnds"),
            "{text}"
        );
        assert!(backup_job(
            "d",
            &BackupRequest {
                subtrees: vec!["a,b".into()],
                root: None
            },
            "h",
            1
        )
        .is_err());
    }
}
