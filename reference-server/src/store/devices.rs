//! Registered devices and their per-session state.

use rusqlite::{params, OptionalExtension, Transaction};

use super::{from_json, to_json, Store, StoreError};
use crate::model::{Device, DeviceState};

impl Store {
    /// Registers a device. Fails with [`StoreError::DeviceExists`] if its `DevId` is taken,
    /// [`StoreError::InvalidDevice`] if a required field is empty.
    pub fn add_device(&self, device: &Device) -> Result<(), StoreError> {
        validate(device)?;
        let json = to_json("device", device)?;
        self.write(|tx| {
            if device_exists(tx, &device.dev_id)? {
                return Err(StoreError::DeviceExists {
                    dev_id: device.dev_id.clone(),
                });
            }
            tx.execute(
                "INSERT INTO devices (dev_id, json) VALUES (?1, ?2)",
                params![device.dev_id, json],
            )
            .map_err(StoreError::sql("insert a device"))?;
            Ok(())
        })
    }

    /// Replaces a registered device's record (credentials, ServerID, notification
    /// addresses); its state, jobs, alerts and sessions stay.
    pub fn update_device(&self, device: &Device) -> Result<(), StoreError> {
        validate(device)?;
        let json = to_json("device", device)?;
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE devices SET json = ?2 WHERE dev_id = ?1",
                    params![device.dev_id, json],
                )
                .map_err(StoreError::sql("update a device"))?;
            if n == 0 {
                return Err(StoreError::UnknownDevice {
                    dev_id: device.dev_id.clone(),
                });
            }
            Ok(())
        })
    }

    /// The device registered as `dev_id`.
    pub fn device(&self, dev_id: &str) -> Result<Device, StoreError> {
        self.read(|tx| load_device(tx, dev_id))
    }

    /// Every registered device, in registration order.
    pub fn devices(&self) -> Result<Vec<Device>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare("SELECT dev_id, json FROM devices ORDER BY rowid")
                .map_err(StoreError::sql("list devices"))?;
            let rows = stmt
                .query_map([], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })
                .map_err(StoreError::sql("list devices"))?;
            let mut out = Vec::new();
            for row in rows {
                let (key, json) = row.map_err(StoreError::sql("list devices"))?;
                out.push(from_json("device", &key, &json)?);
            }
            Ok(out)
        })
    }

    /// Deletes a device with everything of it: state, jobs, alerts, sessions and
    /// transcripts.
    pub fn delete_device(&self, dev_id: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx
                .execute("DELETE FROM devices WHERE dev_id = ?1", [dev_id])
                .map_err(StoreError::sql("delete a device"))?;
            if n == 0 {
                return Err(StoreError::UnknownDevice {
                    dev_id: dev_id.to_string(),
                });
            }
            Ok(())
        })
    }

    /// The device's state; the default (no nonces, no DevInfo) until one was saved.
    pub fn device_state(&self, dev_id: &str) -> Result<DeviceState, StoreError> {
        self.read(|tx| load_state(tx, dev_id))
    }

    /// Saves the device's state (one transaction).
    pub fn set_device_state(&self, dev_id: &str, state: &DeviceState) -> Result<(), StoreError> {
        self.write(|tx| save_state(tx, dev_id, state))
    }
}

/// What a device must have: a DevId (the registry key, facts §1.3) and a ServerID (the
/// package #0 digest and the DMAcc account are keyed by it, facts §5.4, §7.2).
fn validate(device: &Device) -> Result<(), StoreError> {
    let invalid = |reason: &str| {
        Err(StoreError::InvalidDevice {
            reason: reason.to_string(),
        })
    };
    if device.dev_id.trim().is_empty() {
        return invalid("`dev_id` is empty");
    }
    if device.server_id.trim().is_empty() {
        return invalid("`server_id` is empty");
    }
    if device.server_id.len() > 255 {
        // facts §7.1: the ServerID length is one byte in package #0.
        return invalid("`server_id` is longer than 255 bytes (package #0 limit, facts §7.1)");
    }
    if let Some(a) = device.notify.iter().find(|a| a.address.trim().is_empty()) {
        return Err(StoreError::InvalidDevice {
            reason: format!("a {:?} notification address is empty", a.transport),
        });
    }
    Ok(())
}

/// Whether `dev_id` is registered.
pub(super) fn device_exists(tx: &Transaction<'_>, dev_id: &str) -> Result<bool, StoreError> {
    tx.query_row("SELECT 1 FROM devices WHERE dev_id = ?1", [dev_id], |_| {
        Ok(())
    })
    .optional()
    .map(|found| found.is_some())
    .map_err(StoreError::sql("look up a device"))
}

/// [`StoreError::UnknownDevice`] unless `dev_id` is registered.
pub(super) fn require_device(tx: &Transaction<'_>, dev_id: &str) -> Result<(), StoreError> {
    if device_exists(tx, dev_id)? {
        Ok(())
    } else {
        Err(StoreError::UnknownDevice {
            dev_id: dev_id.to_string(),
        })
    }
}

fn load_device(tx: &Transaction<'_>, dev_id: &str) -> Result<Device, StoreError> {
    let json: Option<String> = tx
        .query_row(
            "SELECT json FROM devices WHERE dev_id = ?1",
            [dev_id],
            |row| row.get(0),
        )
        .optional()
        .map_err(StoreError::sql("read a device"))?;
    match json {
        Some(json) => from_json("device", dev_id, &json),
        None => Err(StoreError::UnknownDevice {
            dev_id: dev_id.to_string(),
        }),
    }
}

fn load_state(tx: &Transaction<'_>, dev_id: &str) -> Result<DeviceState, StoreError> {
    require_device(tx, dev_id)?;
    let json: Option<String> = tx
        .query_row(
            "SELECT json FROM device_state WHERE dev_id = ?1",
            [dev_id],
            |row| row.get(0),
        )
        .optional()
        .map_err(StoreError::sql("read a device state"))?;
    match json {
        Some(json) => from_json("device state", dev_id, &json),
        None => Ok(DeviceState::default()),
    }
}

/// Saves a device state inside a caller's transaction.
pub(super) fn save_state(
    tx: &Transaction<'_>,
    dev_id: &str,
    state: &DeviceState,
) -> Result<(), StoreError> {
    require_device(tx, dev_id)?;
    let json = to_json("device state", state)?;
    tx.execute(
        "INSERT INTO device_state (dev_id, json) VALUES (?1, ?2)
         ON CONFLICT(dev_id) DO UPDATE SET json = excluded.json",
        params![dev_id, json],
    )
    .map_err(StoreError::sql("save a device state"))?;
    Ok(())
}
