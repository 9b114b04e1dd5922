//! The SQL schema and its version.
//!
//! Records are kept as JSON text of the `model` types (so a new `#[serde(default)]` field
//! needs no migration), with the columns the store queries by beside them.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use super::StoreError;

/// The schema version this build writes. A database with a higher one is refused.
pub const SCHEMA_VERSION: i64 = 2;

/// Version 1: every table.
const V1: &str = "
CREATE TABLE devices (
    dev_id  TEXT PRIMARY KEY NOT NULL,
    json    TEXT NOT NULL
);
CREATE TABLE device_state (
    dev_id  TEXT PRIMARY KEY NOT NULL REFERENCES devices(dev_id) ON DELETE CASCADE,
    json    TEXT NOT NULL
);
CREATE TABLE jobs (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    dev_id  TEXT NOT NULL REFERENCES devices(dev_id) ON DELETE CASCADE,
    state   TEXT NOT NULL,
    json    TEXT NOT NULL
);
CREATE INDEX jobs_by_device ON jobs(dev_id, id);
CREATE TABLE alerts (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    dev_id  TEXT NOT NULL REFERENCES devices(dev_id) ON DELETE CASCADE,
    json    TEXT NOT NULL
);
CREATE INDEX alerts_by_device ON alerts(dev_id, id);
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dev_id      TEXT NOT NULL REFERENCES devices(dev_id) ON DELETE CASCADE,
    session_id  TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    end_reason  TEXT
);
CREATE INDEX sessions_by_device ON sessions(dev_id, session_id, id);
CREATE TABLE transcript (
    session  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    json     TEXT NOT NULL,
    PRIMARY KEY (session, seq)
);
CREATE TABLE content (
    name          TEXT PRIMARY KEY NOT NULL,
    content_type  TEXT NOT NULL,
    bytes         BLOB NOT NULL,
    updated_at    INTEGER NOT NULL
);
";

/// Version 2: schedules (docs/scheduling.md "The server side"): one record per device and
/// name, the jobs that carry them, and the reports received.
const V2: &str = "
CREATE TABLE schedules (
    dev_id  TEXT NOT NULL REFERENCES devices(dev_id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    json    TEXT NOT NULL,
    PRIMARY KEY (dev_id, name)
);
CREATE TABLE schedule_jobs (
    job_id  INTEGER PRIMARY KEY NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    dev_id  TEXT NOT NULL,
    name    TEXT NOT NULL,
    action  TEXT NOT NULL
);
CREATE TABLE schedule_reports (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    dev_id  TEXT NOT NULL REFERENCES devices(dev_id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    json    TEXT NOT NULL
);
CREATE INDEX schedule_reports_by_schedule ON schedule_reports(dev_id, name, id);
";

/// Creates the schema of an empty database, upgrades an older one (each version's tables
/// added in one transaction), or checks the version of an existing one.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(StoreError::sql("begin the schema check"))?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .map_err(StoreError::sql("create the schema version table"))?;
    let found: Option<i64> = tx
        .query_row("SELECT max(version) FROM schema_version", [], |row| {
            row.get(0)
        })
        .optional()
        .map_err(StoreError::sql("read the schema version"))?
        .flatten();
    let upgrade = |from: i64| -> Result<(), StoreError> {
        if from < 1 {
            tx.execute_batch(V1)
                .map_err(StoreError::sql("create the schema"))?;
        }
        if from < 2 {
            tx.execute_batch(V2)
                .map_err(StoreError::sql("add the schedule tables"))?;
        }
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [SCHEMA_VERSION],
        )
        .map_err(StoreError::sql("record the schema version"))?;
        Ok(())
    };
    match found {
        None => upgrade(0)?,
        Some(v) if v < SCHEMA_VERSION => upgrade(v)?,
        Some(v) if v > SCHEMA_VERSION => {
            return Err(StoreError::SchemaTooNew {
                path: path.to_path_buf(),
                found: v,
                supported: SCHEMA_VERSION,
            })
        }
        Some(_) => {}
    }
    tx.commit().map_err(StoreError::sql("commit the schema"))
}
