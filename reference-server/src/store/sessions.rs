//! Sessions and their transcripts.
//!
//! A device may use a SessionID again in a later session (package #0 ids are 16-bit, facts
//! §7.3), so a session is found by `(DevId, SessionID)` as the **latest** session started
//! with that id; earlier ones stay in the device's list.

use rusqlite::{params, OptionalExtension, Transaction};

use super::devices::require_device;
use super::{from_json, to_i64, to_json, to_u64, Store, StoreError};
use crate::model::{SessionRecord, SessionSummary, TranscriptEntry};

/// A `sessions` row as listed: SessionID, start, end time, end reason, message count.
type SummaryRow = (String, i64, Option<i64>, Option<String>, i64);

impl Store {
    /// Records the start of a session of a registered device.
    pub fn start_session(
        &self,
        dev_id: &str,
        session_id: &str,
        started_at: u64,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            require_device(tx, dev_id)?;
            tx.execute(
                "INSERT INTO sessions (dev_id, session_id, started_at) VALUES (?1, ?2, ?3)",
                params![dev_id, session_id, to_i64("start time", started_at)?],
            )
            .map_err(StoreError::sql("insert a session"))?;
            Ok(())
        })
    }

    /// Appends one message to the transcript of the device's latest session `session_id`.
    pub fn append_transcript(
        &self,
        dev_id: &str,
        session_id: &str,
        entry: &TranscriptEntry,
    ) -> Result<(), StoreError> {
        let json = to_json("transcript entry", entry)?;
        self.write(|tx| {
            let (row, _) = latest(tx, dev_id, session_id)?;
            tx.execute(
                "INSERT INTO transcript (session, seq, json) VALUES (?1,
                 (SELECT coalesce(max(seq), 0) + 1 FROM transcript WHERE session = ?1), ?2)",
                params![row, json],
            )
            .map_err(StoreError::sql("append to a transcript"))?;
            Ok(())
        })
    }

    /// Records the end of the device's latest session `session_id`: when, and how
    /// (`completed`, `aborted by the device`, …). Fails with [`StoreError::SessionEnded`]
    /// if it already ended.
    pub fn end_session(
        &self,
        dev_id: &str,
        session_id: &str,
        ended_at: u64,
        end: &str,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let (row, ended) = latest(tx, dev_id, session_id)?;
            if ended {
                return Err(StoreError::SessionEnded {
                    dev_id: dev_id.to_string(),
                    session_id: session_id.to_string(),
                });
            }
            tx.execute(
                "UPDATE sessions SET ended_at = ?2, end_reason = ?3 WHERE id = ?1",
                params![row, to_i64("end time", ended_at)?, end],
            )
            .map_err(StoreError::sql("end a session"))?;
            Ok(())
        })
    }

    /// The sessions of a device, oldest first, without transcripts.
    pub fn sessions(&self, dev_id: &str) -> Result<Vec<SessionSummary>, StoreError> {
        self.read(|tx| {
            require_device(tx, dev_id)?;
            let mut stmt = tx
                .prepare(
                    "SELECT s.session_id, s.started_at, s.ended_at, s.end_reason,
                     (SELECT count(*) FROM transcript t WHERE t.session = s.id)
                     FROM sessions s WHERE s.dev_id = ?1 ORDER BY s.id",
                )
                .map_err(StoreError::sql("list sessions"))?;
            let rows: Vec<SummaryRow> = stmt
                .query_map([dev_id], |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    ))
                })
                .and_then(Iterator::collect)
                .map_err(StoreError::sql("list sessions"))?;
            rows.into_iter()
                .map(|(session_id, started, ended, end, messages)| {
                    Ok(SessionSummary {
                        dev_id: dev_id.to_string(),
                        session_id,
                        started_at: to_u64("start time", started)?,
                        ended_at: ended.map(|t| to_u64("end time", t)).transpose()?,
                        end,
                        messages: to_u64("message count", messages)?,
                    })
                })
                .collect()
        })
    }

    /// The device's latest session `session_id`, with its transcript.
    pub fn session(&self, dev_id: &str, session_id: &str) -> Result<SessionRecord, StoreError> {
        self.read(|tx| {
            let (row, _) = latest(tx, dev_id, session_id)?;
            let (started, ended, end): (i64, Option<i64>, Option<String>) = tx
                .query_row(
                    "SELECT started_at, ended_at, end_reason FROM sessions WHERE id = ?1",
                    [row],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .map_err(StoreError::sql("read a session"))?;
            let mut stmt = tx
                .prepare("SELECT seq, json FROM transcript WHERE session = ?1 ORDER BY seq")
                .map_err(StoreError::sql("read a transcript"))?;
            let entries: Vec<(i64, String)> = stmt
                .query_map([row], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(Iterator::collect)
                .map_err(StoreError::sql("read a transcript"))?;
            let transcript = entries
                .iter()
                .map(|(seq, json)| {
                    from_json("transcript entry", &format!("{session_id}#{seq}"), json)
                })
                .collect::<Result<Vec<TranscriptEntry>, _>>()?;
            Ok(SessionRecord {
                dev_id: dev_id.to_string(),
                session_id: session_id.to_string(),
                started_at: to_u64("start time", started)?,
                ended_at: ended.map(|t| to_u64("end time", t)).transpose()?,
                end,
                transcript,
            })
        })
    }
}

/// The row id of the device's latest session `session_id`, and whether it ended.
fn latest(tx: &Transaction<'_>, dev_id: &str, session_id: &str) -> Result<(i64, bool), StoreError> {
    require_device(tx, dev_id)?;
    tx.query_row(
        "SELECT id, ended_at IS NOT NULL FROM sessions WHERE dev_id = ?1 AND session_id = ?2
         ORDER BY id DESC LIMIT 1",
        params![dev_id, session_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()
    .map_err(StoreError::sql("look up a session"))?
    .ok_or_else(|| StoreError::UnknownSession {
        dev_id: dev_id.to_string(),
        session_id: session_id.to_string(),
    })
}
