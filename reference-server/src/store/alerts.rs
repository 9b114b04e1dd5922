//! Alerts the devices sent (Generic Alerts 1226, client events 1224, …), kept in arrival
//! order.

use rusqlite::{params, Transaction};

use super::devices::require_device;
use super::{from_json, to_json, Store, StoreError};
use crate::model::AlertRecord;

impl Store {
    /// Records an alert of a registered device (`alert.dev_id`).
    pub fn add_alert(&self, alert: &AlertRecord) -> Result<(), StoreError> {
        self.write(|tx| insert(tx, alert))
    }

    /// The alerts of a device, oldest first (newest last).
    pub fn alerts(&self, dev_id: &str) -> Result<Vec<AlertRecord>, StoreError> {
        self.read(|tx| {
            require_device(tx, dev_id)?;
            query(
                tx,
                "SELECT id, json FROM alerts WHERE dev_id = ?1 ORDER BY id",
                Some(dev_id),
            )
        })
    }

    /// The alerts of every device, oldest first (newest last).
    pub fn all_alerts(&self) -> Result<Vec<AlertRecord>, StoreError> {
        self.read(|tx| query(tx, "SELECT id, json FROM alerts ORDER BY id", None))
    }
}

/// Records an alert inside a caller's transaction.
pub(super) fn insert(tx: &Transaction<'_>, alert: &AlertRecord) -> Result<(), StoreError> {
    require_device(tx, &alert.dev_id)?;
    let json = to_json("alert", alert)?;
    tx.execute(
        "INSERT INTO alerts (dev_id, json) VALUES (?1, ?2)",
        params![alert.dev_id, json],
    )
    .map_err(StoreError::sql("insert an alert"))?;
    // A schedule report is also kept as a report of its schedule (docs/scheduling.md
    // "Reports"), in the same transaction.
    super::schedules::on_alert(tx, alert)
}

fn query(
    tx: &Transaction<'_>,
    sql: &str,
    dev_id: Option<&str>,
) -> Result<Vec<AlertRecord>, StoreError> {
    let mut stmt = tx.prepare(sql).map_err(StoreError::sql("list alerts"))?;
    let map = |row: &rusqlite::Row<'_>| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?));
    let rows: Vec<(i64, String)> = match dev_id {
        Some(dev_id) => stmt.query_map([dev_id], map),
        None => stmt.query_map([], map),
    }
    .and_then(Iterator::collect)
    .map_err(StoreError::sql("list alerts"))?;
    rows.iter()
        .map(|(id, json)| from_json("alert", &id.to_string(), json))
        .collect()
}
