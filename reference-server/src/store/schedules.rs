//! Schedules per device, the jobs that carry them, and the reports devices send
//! (docs/scheduling.md "The server side"). Each change is one transaction: a schedule job is
//! queued together with its schedule record, and a Status or report alert updates the
//! schedule in the transaction that stores it.

use rusqlite::{params, OptionalExtension, Transaction};

use super::devices::require_device;
use super::{from_json, to_i64, to_json, Store, StoreError};
use crate::model::{AlertRecord, Job, JobSpec, JobStatus};
use crate::schedules::{
    apply_status, parse_report, report_schedule, ScheduleAction, ScheduleDefinition,
    ScheduleRecord, ScheduleReport, ScheduleState,
};

impl Store {
    /// Queues `spec` for the device's schedule `name` doing `action`, and saves the
    /// schedule: created (state `requested`) when `action` is [`ScheduleAction::Create`], else
    /// updated; `definition`, when given, becomes the stored one. `last_error` is cleared
    /// (a new request). One transaction: the job and the record are saved together or not
    /// at all.
    pub fn add_schedule_job(
        &self,
        dev_id: &str,
        name: &str,
        definition: Option<&ScheduleDefinition>,
        action: &ScheduleAction,
        spec: &JobSpec,
        now: u64,
    ) -> Result<(ScheduleRecord, Job), StoreError> {
        self.write(|tx| {
            require_device(tx, dev_id)?;
            let job = super::jobs::insert_job(tx, dev_id, spec, now)?;
            let existing = load(tx, dev_id, name)?;
            let mut record = match (existing, action) {
                (Some(r), ScheduleAction::Create) => ScheduleRecord {
                    jobs: r.jobs,
                    created_at: r.created_at,
                    ..fresh(dev_id, name, now)
                },
                (None, ScheduleAction::Create) => fresh(dev_id, name, now),
                (Some(r), _) => r,
                (None, _) => {
                    return Err(StoreError::UnknownSchedule {
                        dev_id: dev_id.to_string(),
                        name: name.to_string(),
                    })
                }
            };
            if let Some(d) = definition {
                record.definition = d.clone();
            }
            if let ScheduleAction::State { state } = action {
                record.definition.state = Some(state.clone());
            }
            record.last_error = None;
            record.jobs.push(job.id);
            record.updated_at = now;
            save(tx, &record)?;
            tx.execute(
                "INSERT INTO schedule_jobs (job_id, dev_id, name, action) VALUES (?1, ?2, ?3, ?4)",
                params![
                    to_i64("job id", job.id)?,
                    dev_id,
                    name,
                    to_json("schedule action", action)?
                ],
            )
            .map_err(StoreError::sql("link a job to its schedule"))?;
            Ok((record, job))
        })
    }

    /// The schedules of a device, by name.
    pub fn schedules(&self, dev_id: &str) -> Result<Vec<ScheduleRecord>, StoreError> {
        self.read(|tx| {
            require_device(tx, dev_id)?;
            let mut stmt = tx
                .prepare("SELECT name, json FROM schedules WHERE dev_id = ?1 ORDER BY name")
                .map_err(StoreError::sql("list schedules"))?;
            let rows: Vec<(String, String)> = stmt
                .query_map([dev_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(Iterator::collect)
                .map_err(StoreError::sql("list schedules"))?;
            rows.iter()
                .map(|(name, json)| from_json("schedule", &format!("{dev_id}/{name}"), json))
                .collect()
        })
    }

    /// The device's schedule `name`; [`StoreError::UnknownSchedule`] if there is none.
    pub fn schedule(&self, dev_id: &str, name: &str) -> Result<ScheduleRecord, StoreError> {
        self.read(|tx| {
            require_device(tx, dev_id)?;
            load(tx, dev_id, name)?.ok_or_else(|| StoreError::UnknownSchedule {
                dev_id: dev_id.to_string(),
                name: name.to_string(),
            })
        })
    }

    /// The reports received for the device's schedule `name`, oldest first (also for a
    /// schedule the server has no record of).
    pub fn schedule_reports(
        &self,
        dev_id: &str,
        name: &str,
    ) -> Result<Vec<ScheduleReport>, StoreError> {
        self.read(|tx| {
            require_device(tx, dev_id)?;
            let mut stmt = tx
                .prepare(
                    "SELECT id, json FROM schedule_reports WHERE dev_id = ?1 AND name = ?2
                     ORDER BY id",
                )
                .map_err(StoreError::sql("list schedule reports"))?;
            let rows: Vec<(i64, String)> = stmt
                .query_map(params![dev_id, name], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(Iterator::collect)
                .map_err(StoreError::sql("list schedule reports"))?;
            rows.iter()
                .map(|(id, json)| from_json("schedule report", &id.to_string(), json))
                .collect()
        })
    }
}

fn fresh(dev_id: &str, name: &str, now: u64) -> ScheduleRecord {
    ScheduleRecord {
        dev_id: dev_id.to_string(),
        name: name.to_string(),
        definition: ScheduleDefinition {
            name: name.to_string(),
            ..ScheduleDefinition::default()
        },
        state: ScheduleState::Requested,
        verdict: None,
        last_error: None,
        jobs: Vec::new(),
        created_at: now,
        updated_at: now,
    }
}

fn load(
    tx: &Transaction<'_>,
    dev_id: &str,
    name: &str,
) -> Result<Option<ScheduleRecord>, StoreError> {
    let json: Option<String> = tx
        .query_row(
            "SELECT json FROM schedules WHERE dev_id = ?1 AND name = ?2",
            params![dev_id, name],
            |r| r.get(0),
        )
        .optional()
        .map_err(StoreError::sql("read a schedule"))?;
    json.map(|j| from_json("schedule", &format!("{dev_id}/{name}"), &j))
        .transpose()
}

fn save(tx: &Transaction<'_>, record: &ScheduleRecord) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO schedules (dev_id, name, json) VALUES (?1, ?2, ?3)
         ON CONFLICT (dev_id, name) DO UPDATE SET json = excluded.json",
        params![record.dev_id, record.name, to_json("schedule", record)?],
    )
    .map_err(StoreError::sql("save a schedule"))?;
    Ok(())
}

/// Updates the schedule of a schedule job for a Status the device sent (inside the caller's
/// transaction); nothing for any other job.
pub(super) fn on_status(
    tx: &Transaction<'_>,
    job: &Job,
    status: &JobStatus,
    now: u64,
) -> Result<(), StoreError> {
    let link: Option<(String, String)> = tx
        .query_row(
            "SELECT name, action FROM schedule_jobs WHERE job_id = ?1",
            [to_i64("job id", job.id)?],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(StoreError::sql("read a schedule job"))?;
    let Some((name, action)) = link else {
        return Ok(());
    };
    let action: ScheduleAction = from_json("schedule action", &job.id.to_string(), &action)?;
    let Some(mut record) = load(tx, &job.dev_id, &name)? else {
        return Ok(());
    };
    // The command the Status answers: its position (`3`, or `2.1` inside a container; the
    // schedule jobs have none) in the job.
    let target = status
        .command
        .split('.')
        .next()
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| job.spec.commands.get(n.checked_sub(1)?))
        .and_then(command_target)
        .or_else(|| status.target_refs.first().cloned());
    apply_status(&mut record, &action, target.as_deref(), status.code);
    record.updated_at = now;
    save(tx, &record)
}

/// The first item's `Target/LocURI` of an item command.
fn command_target(c: &dm_protocol::model::Command) -> Option<String> {
    use dm_protocol::model::Command;
    match c {
        Command::Add(i) | Command::Replace(i) | Command::Delete(i) => i
            .items
            .first()
            .and_then(|item| item.target.as_ref())
            .map(|t| t.loc_uri.clone()),
        _ => None,
    }
}

/// Stores the schedule reports an alert carries (inside the caller's transaction): every
/// item with Meta Type `urn:dmconf:at:schedule:1.0:Report` and Source `./Schedule/<x>`
/// (docs/scheduling.md "Reports"), whether or not the server knows schedule `<x>`.
/// Whether a report of the same run (same `Run` and `Time`) of this schedule is stored.
fn is_repeat(
    tx: &Transaction<'_>,
    dev_id: &str,
    name: &str,
    report: &crate::schedules::ScheduleReport,
) -> Result<bool, StoreError> {
    let mut stmt = tx
        .prepare("SELECT json FROM schedule_reports WHERE dev_id = ?1 AND name = ?2")
        .map_err(StoreError::sql("read the schedule reports"))?;
    let rows = stmt
        .query_map(params![dev_id, name], |r| r.get::<_, String>(0))
        .map_err(StoreError::sql("read the schedule reports"))?;
    for row in rows {
        let json = row.map_err(StoreError::sql("read the schedule reports"))?;
        if let Ok(old) = serde_json::from_str::<crate::schedules::ScheduleReport>(&json) {
            if old.run == report.run && old.time == report.time {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

pub(super) fn on_alert(tx: &Transaction<'_>, alert: &AlertRecord) -> Result<(), StoreError> {
    if alert.code != 1226 {
        return Ok(());
    }
    for item in &alert.items {
        let Some(name) = report_schedule(item) else {
            continue;
        };
        let report = parse_report(alert.at, &alert.session_id, item.data.as_deref());
        if report.run.is_some() && is_repeat(tx, &alert.dev_id, &name, &report)? {
            // Devices deliver reports at least once (docs/scheduling.md "Triggers and runs"):
            // a second copy of a run already stored is acknowledged and not kept twice.
            continue;
        }
        tx.execute(
            "INSERT INTO schedule_reports (dev_id, name, json) VALUES (?1, ?2, ?3)",
            params![alert.dev_id, name, to_json("schedule report", &report)?],
        )
        .map_err(StoreError::sql("insert a schedule report"))?;
    }
    Ok(())
}
