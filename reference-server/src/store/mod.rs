//! Durable state of the server in SQLite: devices, device state, jobs, alerts, sessions with
//! their transcripts, hosted content blobs, and schedules with their reports.
//!
//! One database file, `DIR/server.db`, in WAL mode with `synchronous=FULL`: a change is on
//! disk when its call returns, and a crash at any instant leaves the last committed state.
//! Every logical change (one call) is one transaction; a call that fails changes nothing.
//!
//! [`Store`] is `Clone + Send + Sync`: every clone shares one connection behind a mutex, so
//! calls are serialised and each is short (one transaction, one fsync at most). Async
//! callers may call it directly from a task.
//!
//! ```no_run
//! # fn demo() -> Result<(), dm_server::store::StoreError> {
//! use dm_server::model::Device;
//! use dm_server::store::Store;
//!
//! let store = Store::open(std::path::Path::new("/var/lib/dm-server"))?;
//! store.add_device(&Device {
//!     dev_id: "IMEI:493005100592800".into(),
//!     server_id: "dms.example.com".into(),
//!     client_auth: None,
//!     server_auth: None,
//!     notify: Vec::new(),
//! })?;
//! # Ok(()) }
//! ```

mod alerts;
mod changes;
mod content;
mod devices;
mod error;
mod jobs;
mod schedules;
mod schema;
mod sessions;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, Transaction};

pub use changes::SessionChanges;
pub use content::{Content, ContentInfo};
pub use error::StoreError;
pub use jobs::check_transition;
pub use schema::SCHEMA_VERSION;

/// The database file name inside the data directory.
pub const DB_FILE: &str = "server.db";

/// The server's durable state (see the module documentation).
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store in the data directory `dir` (created if
    /// missing): `dir/server.db`, WAL journal, `synchronous=FULL`, foreign keys on, schema
    /// created or checked.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
            dir: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(DB_FILE);
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Open {
                path: path.clone(),
                source: rusqlite::Error::InvalidParameterName(format!(
                    "journal_mode WAL refused (got `{mode}`)"
                )),
            });
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
            .map_err(open_err)?;
        schema::migrate(&mut conn, &path)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
            path: Arc::new(path),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection. A panic in another caller cannot leave a transaction open (a
    /// dropped `Transaction` rolls back), so a poisoned lock is safe to take over.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` in one immediate transaction: committed if `f` returns `Ok`, rolled back
    /// otherwise.
    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(StoreError::sql("begin a transaction"))?;
        let value = f(&tx)?;
        tx.commit().map_err(StoreError::sql("commit"))?;
        Ok(value)
    }

    /// Runs a read-only `f` in one (deferred) transaction, so it sees one snapshot.
    fn read<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction()
            .map_err(StoreError::sql("begin a transaction"))?;
        f(&tx)
    }
}

/// JSON text of a record, for a TEXT column.
fn to_json<T: serde::Serialize>(what: &'static str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Encode { what, source })
}

/// A record from its JSON column; a failure means the file was edited or corrupted.
fn from_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    key: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::Corrupt {
        what,
        key: key.to_string(),
        reason: source.to_string(),
    })
}

/// An SQLite integer as a u64 (ids, times); negative values are corruption.
fn to_u64(what: &'static str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt {
        what,
        key: value.to_string(),
        reason: "negative value".into(),
    })
}

/// A u64 (ids, times) as an SQLite integer.
fn to_i64(what: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange { what, value })
}
