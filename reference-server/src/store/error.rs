//! Why a store call failed.

use std::path::PathBuf;

use crate::model::JobState;

/// A store failure. Each variant says what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {dir}: {source} (check the path and permissions)")]
    DataDir {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database could not be opened or configured.
    #[error("cannot open the database {path}: {source} (is it an SQLite file, writable, on a local file system?)")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// The database was written by a newer server version.
    #[error("the database {path} has schema version {found}; this server knows versions up to {supported} (use a newer dm-server or another data directory)")]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// An SQL statement failed (disk full, I/O error, locked database, …).
    #[error("database error while trying to {doing}: {source}")]
    Sql {
        /// What the store was doing.
        doing: &'static str,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// A record could not be turned into JSON.
    #[error("cannot encode the {what} as JSON: {source}")]
    Encode {
        /// Which record.
        what: &'static str,
        /// The serde error.
        source: serde_json::Error,
    },
    /// A stored record does not decode: the file was edited or is damaged.
    #[error(
        "stored {what} `{key}` is unreadable: {reason} (the database was edited or is damaged)"
    )]
    Corrupt {
        /// Which record kind.
        what: &'static str,
        /// Its key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A number does not fit an SQLite integer.
    #[error("{what} {value} is too large to store (at most {max})", max = i64::MAX)]
    OutOfRange {
        /// Which number.
        what: &'static str,
        /// The value.
        value: u64,
    },
    /// A device with this `DevId` is already registered.
    #[error("device `{dev_id}` is already registered (delete it first to register it again)")]
    DeviceExists {
        /// The DevId.
        dev_id: String,
    },
    /// No device with this `DevId` is registered.
    #[error("no device `{dev_id}` is registered")]
    UnknownDevice {
        /// The DevId.
        dev_id: String,
    },
    /// A device record is not acceptable.
    #[error("invalid device: {reason}")]
    InvalidDevice {
        /// What is wrong.
        reason: String,
    },
    /// A job spec is not acceptable.
    #[error("invalid job: {reason}")]
    InvalidJob {
        /// What is wrong.
        reason: String,
    },
    /// No job has this id.
    #[error("no job {id}")]
    UnknownJob {
        /// The id.
        id: u64,
    },
    /// A job cannot be cancelled in its state (only queued or interrupted jobs can).
    #[error("job {id} is {state:?} and can no longer be cancelled (only queued or interrupted jobs can)")]
    NotCancellable {
        /// The job.
        id: u64,
        /// Its state.
        state: JobState,
    },
    /// A job update asks for a move the job life cycle does not have.
    #[error("job {id}: {update} is not allowed while the job is {state:?}")]
    InvalidUpdate {
        /// The job.
        id: u64,
        /// Its state.
        state: JobState,
        /// The update, described.
        update: String,
    },
    /// Session changes of one device carry an alert of another.
    #[error("the changes of device `{dev_id}` carry an alert of device `{alert_dev_id}` (save each device's changes separately)")]
    ForeignAlert {
        /// The device of the changes.
        dev_id: String,
        /// The device the alert names.
        alert_dev_id: String,
    },
    /// The worker thread a store call ran on failed (a bug; the call's transaction was not
    /// committed).
    #[error("a storing task failed: {0}")]
    Task(String),
    /// The session already ended.
    #[error("session `{session_id}` of device `{dev_id}` already ended")]
    SessionEnded {
        /// The DevId.
        dev_id: String,
        /// The SessionID.
        session_id: String,
    },
    /// No session with this SessionID was recorded for the device.
    #[error("no session `{session_id}` of device `{dev_id}`")]
    UnknownSession {
        /// The DevId.
        dev_id: String,
        /// The SessionID.
        session_id: String,
    },
    /// The device has no schedule of this name (docs/scheduling.md "The server side").
    #[error("device `{dev_id}` has no schedule `{name}`")]
    UnknownSchedule {
        /// The DevId.
        dev_id: String,
        /// The schedule name.
        name: String,
    },
    /// A content name is not acceptable.
    #[error("invalid content name `{name}`: {reason}")]
    InvalidContentName {
        /// The name.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// No content has this name.
    #[error("no content named `{name}`")]
    UnknownContent {
        /// The name.
        name: String,
    },
}

impl StoreError {
    /// A mapper from an SQLite error, for `map_err`.
    pub(crate) fn sql(doing: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
        move |source| StoreError::Sql { doing, source }
    }
}
