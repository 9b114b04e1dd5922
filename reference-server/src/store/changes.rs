//! Everything one session learned, saved in one transaction.

use super::{alerts, devices, jobs, Store, StoreError};
use crate::model::{AlertRecord, DeviceState, JobUpdate};

/// What the session engine hands over at the end of a session (or of a package), to be
/// saved all or nothing by [`Store::commit_session_changes`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionChanges {
    /// The device.
    pub dev_id: String,
    /// The device's new state (nonces, DevInfo), if it changed.
    pub state: Option<DeviceState>,
    /// Job updates, applied in order.
    pub jobs: Vec<JobUpdate>,
    /// Alerts received, in arrival order (each must name `dev_id`).
    pub alerts: Vec<AlertRecord>,
    /// If set: the SessionID of a session that ended; its jobs still `Sent` after `jobs`
    /// are applied become `Interrupted`, to be sent again.
    pub ended_session: Option<String>,
}

impl Store {
    /// Saves a session's changes in one transaction: the new state, the job updates in
    /// order, the alerts, then the interruption of the ended session's unfinished jobs.
    /// Returns the ids of the jobs interrupted. Any failure (unknown device or job, a move
    /// the job life cycle does not have) saves nothing.
    pub fn commit_session_changes(
        &self,
        changes: &SessionChanges,
        now: u64,
    ) -> Result<Vec<u64>, StoreError> {
        self.write(|tx| {
            devices::require_device(tx, &changes.dev_id)?;
            if let Some(state) = &changes.state {
                devices::save_state(tx, &changes.dev_id, state)?;
            }
            jobs::apply_updates(tx, &changes.jobs, now)?;
            for alert in &changes.alerts {
                if alert.dev_id != changes.dev_id {
                    return Err(StoreError::ForeignAlert {
                        dev_id: changes.dev_id.clone(),
                        alert_dev_id: alert.dev_id.clone(),
                    });
                }
                alerts::insert(tx, alert)?;
            }
            match &changes.ended_session {
                Some(session_id) => jobs::interrupt(tx, &changes.dev_id, session_id, now),
                None => Ok(Vec::new()),
            }
        })
    }
}
