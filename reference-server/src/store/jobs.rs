//! Job queues: a job is queued by the admin, sent in the device's next session, and done when
//! every status, result and asynchronous completion arrived.
//!
//! Life cycle ([`check_transition`]):
//!
//! ```text
//! Queued ──Sent──▶ Sent ──▶ Waiting ──▶ Done
//!   │               │ └───────────────▶ Done
//!   │               └──▶ Interrupted ──Sent──▶ Sent …
//!   └──▶ Cancelled ◀──────────┘
//! ```
//!
//! `Interrupted` jobs are queued again: [`Store::pending_jobs`] returns them with the
//! `Queued` ones, in job order. A new `Sent` starts a new attempt: the statuses and results
//! of the interrupted one are cleared (the device answers everything again).

use rusqlite::{params, OptionalExtension, Transaction};

use super::devices::require_device;
use super::{from_json, to_i64, to_json, to_u64, Store, StoreError};
use crate::model::{Job, JobSpec, JobState, JobUpdate};

use dm_protocol::model::Command;

/// Whether a job may move from `from` to `to` by a [`JobUpdate::State`] (or a cancel).
/// Staying in the same state is always allowed. `Sent` is reached only through
/// [`JobUpdate::Sent`] (from `Queued` or `Interrupted`).
pub fn check_transition(from: JobState, to: JobState) -> bool {
    use JobState::*;
    from == to
        || matches!(
            (from, to),
            (Queued | Interrupted, Cancelled)
                | (Sent, Waiting | Done | Interrupted)
                | (Waiting, Done)
        )
}

/// The `state` column value (the serde name).
fn state_name(state: JobState) -> &'static str {
    match state {
        JobState::Queued => "queued",
        JobState::Sent => "sent",
        JobState::Waiting => "waiting",
        JobState::Done => "done",
        JobState::Interrupted => "interrupted",
        JobState::Cancelled => "cancelled",
    }
}

/// What a job may hold: at least one command, and only commands a server sends as management
/// or UI commands (facts §2.1: package 2 carries management and UI commands; `Status` and
/// `Results` are answers the session engine writes itself).
fn validate(spec: &JobSpec) -> Result<(), StoreError> {
    if spec.commands.is_empty() {
        return Err(StoreError::InvalidJob {
            reason: "`commands` is empty (a job needs at least one command)".into(),
        });
    }
    fn check(commands: &[Command], path: &str) -> Result<(), StoreError> {
        for (i, command) in commands.iter().enumerate() {
            let here = if path.is_empty() {
                format!("{}", i + 1)
            } else {
                format!("{path}.{}", i + 1)
            };
            match command {
                Command::Status(_) | Command::Results(_) => {
                    return Err(StoreError::InvalidJob {
                        reason: format!(
                            "command {here} is a {}: the session engine writes those itself \
                             (facts §2.1); a job holds management and UI commands",
                            command.name()
                        ),
                    })
                }
                Command::Atomic(c) | Command::Sequence(c) => check(&c.commands, &here)?,
                _ => {}
            }
        }
        Ok(())
    }
    check(&spec.commands, "")
}

impl Store {
    /// Queues a job for a registered device; it gets the next id and state `Queued`.
    pub fn add_job(&self, dev_id: &str, spec: &JobSpec, now: u64) -> Result<Job, StoreError> {
        validate(spec)?;
        self.write(|tx| insert_job(tx, dev_id, spec, now))
    }

    /// The job `id`.
    pub fn job(&self, id: u64) -> Result<Job, StoreError> {
        self.read(|tx| load_job(tx, id))
    }

    /// Every job of a device, oldest first.
    pub fn jobs(&self, dev_id: &str) -> Result<Vec<Job>, StoreError> {
        self.read(|tx| {
            require_device(tx, dev_id)?;
            query_jobs(
                tx,
                "SELECT id, json FROM jobs WHERE dev_id = ?1 ORDER BY id",
                dev_id,
            )
        })
    }

    /// The jobs to send in the device's next session: `Queued` and `Interrupted` ones,
    /// oldest first.
    pub fn pending_jobs(&self, dev_id: &str) -> Result<Vec<Job>, StoreError> {
        self.read(|tx| {
            require_device(tx, dev_id)?;
            query_jobs(
                tx,
                "SELECT id, json FROM jobs WHERE dev_id = ?1
                 AND state IN ('queued', 'interrupted') ORDER BY id",
                dev_id,
            )
        })
    }

    /// Cancels a job that was not sent, or was interrupted and not sent again; fails with
    /// [`StoreError::NotCancellable`] otherwise. Returns the cancelled job.
    pub fn cancel_job(&self, id: u64, now: u64) -> Result<Job, StoreError> {
        self.write(|tx| {
            let mut job = load_job(tx, id)?;
            if !matches!(job.state, JobState::Queued | JobState::Interrupted) {
                return Err(StoreError::NotCancellable {
                    id,
                    state: job.state,
                });
            }
            job.state = JobState::Cancelled;
            job.updated_at = now;
            save_job(tx, &job)?;
            Ok(job)
        })
    }

    /// Applies updates from a session, in order, all or nothing.
    pub fn apply_job_updates(&self, updates: &[JobUpdate], now: u64) -> Result<(), StoreError> {
        self.write(|tx| apply_updates(tx, updates, now))
    }

    /// Marks the `Sent` jobs of a device's session `Interrupted` (the session ended before
    /// they completed), so they are sent again in the next session. Returns their ids.
    pub fn interrupt_jobs(
        &self,
        dev_id: &str,
        session_id: &str,
        now: u64,
    ) -> Result<Vec<u64>, StoreError> {
        self.write(|tx| interrupt(tx, dev_id, session_id, now))
    }
}

/// Queues a job inside a caller's transaction (checked with the same rules as
/// [`Store::add_job`]).
pub(super) fn insert_job(
    tx: &Transaction<'_>,
    dev_id: &str,
    spec: &JobSpec,
    now: u64,
) -> Result<Job, StoreError> {
    validate(spec)?;
    require_device(tx, dev_id)?;
    let mut job = Job {
        id: 0,
        dev_id: dev_id.to_string(),
        spec: spec.clone(),
        state: JobState::Queued,
        created_at: now,
        updated_at: now,
        session_id: None,
        statuses: Vec::new(),
        results: Vec::new(),
        completions: Vec::new(),
    };
    tx.execute(
        "INSERT INTO jobs (dev_id, state, json) VALUES (?1, ?2, '')",
        params![dev_id, state_name(JobState::Queued)],
    )
    .map_err(StoreError::sql("insert a job"))?;
    job.id = to_u64("job id", tx.last_insert_rowid())?;
    save_job(tx, &job)?;
    Ok(job)
}

/// Applies updates inside a caller's transaction.
pub(super) fn apply_updates(
    tx: &Transaction<'_>,
    updates: &[JobUpdate],
    now: u64,
) -> Result<(), StoreError> {
    for update in updates {
        apply_one(tx, update, now)?;
    }
    Ok(())
}

fn apply_one(tx: &Transaction<'_>, update: &JobUpdate, now: u64) -> Result<(), StoreError> {
    let id = match update {
        JobUpdate::Sent { job, .. }
        | JobUpdate::Status { job, .. }
        | JobUpdate::Result { job, .. }
        | JobUpdate::Completion { job, .. }
        | JobUpdate::State { job, .. } => *job,
    };
    let mut job = load_job(tx, id)?;
    if job.state == JobState::Cancelled {
        // Cancelled by the admin while a live session had it loaded: nothing of it is kept,
        // and the session goes on (docs/admin-api.md "Jobs").
        return Ok(());
    }
    let refuse = |what: String| StoreError::InvalidUpdate {
        id,
        state: job.state,
        update: what,
    };
    match update {
        JobUpdate::Sent { session_id, .. } => {
            // Sent again in the same session (our package resent after the device refused
            // our credentials, facts §6.2): the earlier attempt's answers are dropped.
            let resent = job.state == JobState::Sent
                && job.session_id.as_deref() == Some(session_id.as_str());
            if !resent && !matches!(job.state, JobState::Queued | JobState::Interrupted) {
                return Err(refuse(format!("Sent in session `{session_id}`")));
            }
            job.state = JobState::Sent;
            job.session_id = Some(session_id.clone());
            job.statuses.clear();
            job.results.clear();
        }
        JobUpdate::Status { status, .. } => {
            // Done too: a device may send one Status per item (facts §1.4) or repeat one
            // after the job completed; each is kept as received.
            if !matches!(
                job.state,
                JobState::Sent | JobState::Waiting | JobState::Done
            ) {
                return Err(refuse(format!(
                    "a Status {} for command {}",
                    status.code, status.command
                )));
            }
            job.statuses.push(status.clone());
        }
        JobUpdate::Result { result, .. } => {
            if !matches!(
                job.state,
                JobState::Sent | JobState::Waiting | JobState::Done
            ) {
                return Err(refuse(format!(
                    "a Results item for command {}",
                    result.command
                )));
            }
            job.results.push(result.clone());
        }
        JobUpdate::Completion { alert, .. } => {
            // A device reports a completion at least once (it may repeat one), so any job
            // that went out takes it; one never sent cannot have one (facts §3.5).
            if job.state == JobState::Queued {
                return Err(refuse(format!(
                    "a Generic Alert completion (Correlator {:?})",
                    alert.correlator
                )));
            }
            job.completions.push(alert.clone());
        }
        JobUpdate::State { state, .. } => {
            if *state == JobState::Sent || !check_transition(job.state, *state) {
                return Err(refuse(format!("a move to {state:?}")));
            }
            job.state = *state;
        }
    }
    job.updated_at = now;
    save_job(tx, &job)?;
    if let JobUpdate::Status { status, .. } = update {
        // A schedule job's Status moves its schedule, in this same transaction
        // (docs/scheduling.md "The server side").
        super::schedules::on_status(tx, &job, status, now)?;
    }
    Ok(())
}

/// Interrupts the `Sent` jobs of a session inside a caller's transaction.
pub(super) fn interrupt(
    tx: &Transaction<'_>,
    dev_id: &str,
    session_id: &str,
    now: u64,
) -> Result<Vec<u64>, StoreError> {
    require_device(tx, dev_id)?;
    let sent = query_jobs(
        tx,
        "SELECT id, json FROM jobs WHERE dev_id = ?1 AND state = 'sent' ORDER BY id",
        dev_id,
    )?;
    let mut ids = Vec::new();
    for mut job in sent {
        if job.session_id.as_deref() == Some(session_id) {
            job.state = JobState::Interrupted;
            job.updated_at = now;
            save_job(tx, &job)?;
            ids.push(job.id);
        }
    }
    Ok(ids)
}

fn load_job(tx: &Transaction<'_>, id: u64) -> Result<Job, StoreError> {
    let key = to_i64("job id", id)?;
    let json: Option<String> = tx
        .query_row("SELECT json FROM jobs WHERE id = ?1", [key], |row| {
            row.get(0)
        })
        .optional()
        .map_err(StoreError::sql("read a job"))?;
    match json {
        Some(json) => from_json("job", &id.to_string(), &json),
        None => Err(StoreError::UnknownJob { id }),
    }
}

fn save_job(tx: &Transaction<'_>, job: &Job) -> Result<(), StoreError> {
    let json = to_json("job", job)?;
    tx.execute(
        "UPDATE jobs SET state = ?2, json = ?3 WHERE id = ?1",
        params![to_i64("job id", job.id)?, state_name(job.state), json],
    )
    .map_err(StoreError::sql("save a job"))?;
    Ok(())
}

fn query_jobs(tx: &Transaction<'_>, sql: &str, dev_id: &str) -> Result<Vec<Job>, StoreError> {
    let mut stmt = tx.prepare(sql).map_err(StoreError::sql("list jobs"))?;
    let rows = stmt
        .query_map([dev_id], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(StoreError::sql("list jobs"))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, json) = row.map_err(StoreError::sql("list jobs"))?;
        out.push(from_json("job", &id.to_string(), &json)?);
    }
    Ok(out)
}
