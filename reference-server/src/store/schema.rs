//! The SQL schema and its version.
//!
//! Records are kept as JSON text of the `model` types (so a new `#[serde(default)]` field
//! needs no migration), with the columns the store queries by beside them.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use super::StoreError;

/// The schema version this build writes. A database with a higher one is refused.
pub const SCHEMA_VERSION: i64 = 1;

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

/// Creates the schema of an empty database, or checks the version of an existing one.
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
    match found {
        None => {
            tx.execute_batch(V1)
                .map_err(StoreError::sql("create the schema"))?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [SCHEMA_VERSION],
            )
            .map_err(StoreError::sql("record the schema version"))?;
        }
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
