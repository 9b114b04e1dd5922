//! Crash-safe persistence of the tree in a state directory (SQLite, bundled).
//!
//! Every committed tree transaction is one SQLite transaction that upserts the changed nodes
//! and deletes the removed ones, so a kill at any instant leaves the last committed state or
//! the one before it, never a mix. The database runs in WAL mode with `synchronous=FULL`:
//! a commit that returned is durable.
//!
//! Format (`tree.db`, table `nodes`, one row per node; see `docs/tree.md`):
//! `id` (stable node id), `parent` (NULL for the root), `name` (decoded), `format` (token),
//! `type`, `acl` (canonical text), `title` (nullable), `tstamp` (Unix seconds), `verno`,
//! `permanent` (0/1), `value` (BLOB, NULL for interior nodes). Table `meta` holds
//! `schema_version`.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

/// Version of the on-disk layout; a database with another version is refused.
pub const SCHEMA_VERSION: i64 = 1;

/// One node row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNode {
    /// Stable node id.
    pub id: u64,
    /// Parent id, `None` for the root.
    pub parent: Option<u64>,
    /// Decoded name (empty for the root).
    pub name: String,
    /// Format token (`node`, `chr`, ...).
    pub format: String,
    /// `Type`.
    pub type_: String,
    /// Own ACL text.
    pub acl: String,
    /// `Title`.
    pub title: Option<String>,
    /// `TStamp`, Unix seconds.
    pub tstamp: u64,
    /// `VerNo`.
    pub ver_no: u16,
    /// Permanent node.
    pub permanent: bool,
    /// Leaf value; `None` for interior nodes.
    pub value: Option<Vec<u8>>,
}

/// The changes of one committed transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Nodes created or changed (full rows).
    pub upserts: Vec<StoredNode>,
    /// Ids of nodes removed.
    pub deletes: Vec<u64>,
}

/// Why the state could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

impl StoreError {
    fn sql(path: &Path, what: &str, e: rusqlite::Error) -> Self {
        StoreError(format!("{what} ({}): {e}", path.display()))
    }
}

/// Where the tree's state lives.
pub trait Store: Send {
    /// Every stored node (empty for a fresh store).
    fn load(&mut self) -> Result<Vec<StoredNode>, StoreError>;
    /// Apply one batch atomically and durably.
    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError>;
}

/// SQLite store in `<state dir>/tree.db`.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// File name inside the state directory.
    pub const FILE: &'static str = "tree.db";

    /// Open (creating if needed) the store in `dir`, which is created if missing.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError(format!(
                "cannot create state directory {}: {e}",
                dir.display()
            ))
        })?;
        let path = dir.join(Self::FILE);
        let conn = Connection::open(&path).map_err(|e| StoreError::sql(&path, "open", e))?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS nodes (
                 id INTEGER PRIMARY KEY,
                 parent INTEGER,
                 name TEXT NOT NULL,
                 format TEXT NOT NULL,
                 type TEXT NOT NULL,
                 acl TEXT NOT NULL,
                 title TEXT,
                 tstamp INTEGER NOT NULL,
                 verno INTEGER NOT NULL,
                 permanent INTEGER NOT NULL,
                 value BLOB
             );",
        )
        .map_err(|e| StoreError::sql(&path, "initialise", e))?;
        let version: Option<i64> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| StoreError::sql(&path, "read schema version", e))?;
        match version {
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                    [SCHEMA_VERSION],
                )
                .map_err(|e| StoreError::sql(&path, "write schema version", e))?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(v) => {
                return Err(StoreError(format!(
                    "{} has layout version {v}, this build reads {SCHEMA_VERSION}; use a matching dm-tree or a fresh state directory",
                    path.display()
                )))
            }
        }
        Ok(SqliteStore { conn, path })
    }
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Vec<StoredNode>, StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, "load nodes", e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, parent, name, format, type, acl, title, tstamp, verno, permanent, value
                 FROM nodes ORDER BY id",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(StoredNode {
                    id: r.get::<_, i64>(0)? as u64,
                    parent: r.get::<_, Option<i64>>(1)?.map(|p| p as u64),
                    name: r.get(2)?,
                    format: r.get(3)?,
                    type_: r.get(4)?,
                    acl: r.get(5)?,
                    title: r.get(6)?,
                    tstamp: r.get::<_, i64>(7)? as u64,
                    ver_no: r.get::<_, i64>(8)? as u16,
                    permanent: r.get::<_, i64>(9)? != 0,
                    value: r.get(10)?,
                })
            })
            .map_err(err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err)
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |e| StoreError::sql(&path, "commit", e);
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut del = tx
                .prepare_cached("DELETE FROM nodes WHERE id = ?1")
                .map_err(err)?;
            for id in &batch.deletes {
                del.execute([*id as i64]).map_err(err)?;
            }
            let mut up = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO nodes
                     (id, parent, name, format, type, acl, title, tstamp, verno, permanent, value)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .map_err(err)?;
            for n in &batch.upserts {
                up.execute(params![
                    n.id as i64,
                    n.parent.map(|p| p as i64),
                    n.name,
                    n.format,
                    n.type_,
                    n.acl,
                    n.title,
                    n.tstamp as i64,
                    i64::from(n.ver_no),
                    i64::from(n.permanent),
                    n.value,
                ])
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }
}

/// An in-memory store that can be told to fail, for tests of the commit path.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    /// The committed rows by id.
    pub rows: std::collections::BTreeMap<u64, StoredNode>,
    /// When set, the next commit fails with this message (and the flag clears).
    pub fail_next: Option<String>,
    /// Number of successful commits.
    pub commits: usize,
}

impl Store for MemoryStore {
    fn load(&mut self) -> Result<Vec<StoredNode>, StoreError> {
        Ok(self.rows.values().cloned().collect())
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if let Some(msg) = self.fail_next.take() {
            return Err(StoreError(msg));
        }
        for id in &batch.deletes {
            self.rows.remove(id);
        }
        for n in &batch.upserts {
            self.rows.insert(n.id, n.clone());
        }
        self.commits += 1;
        Ok(())
    }
}

/// A [`MemoryStore`] shared with the test that inspects it.
impl Store for std::sync::Arc<std::sync::Mutex<MemoryStore>> {
    fn load(&mut self) -> Result<Vec<StoredNode>, StoreError> {
        self.lock()
            .map_err(|_| StoreError("memory store lock poisoned".into()))?
            .load()
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        self.lock()
            .map_err(|_| StoreError("memory store lock poisoned".into()))?
            .commit(batch)
    }
}
