//! The `http` adapter (docs/profiles.md `[adapter] kind = "http"`): drives a DM server under
//! test through the admin API contract of docs/admin-api.md — the one the reference server
//! implements — to register the tester's device, queue the jobs a scenario needs, wake the
//! device with a package #0 and read what the jobs got.

use std::time::{Duration, Instant};

use dm_server::http_client::{path_segment, request, HttpClientError};
use dm_server::model::{AlertRecord, Device, Job, JobSpec, NotifyOutcome, NotifyRequest};
use serde::de::DeserializeOwned;

use super::AdapterError;

/// The admin API of a server under test.
#[derive(Debug, Clone)]
pub struct HttpAdapter {
    base: String,
    timeout: Duration,
}

impl HttpAdapter {
    /// The admin API at `base` (e.g. `http://127.0.0.1:8081`); each request gets `timeout`.
    pub fn new(base: &str, timeout: Duration) -> Self {
        HttpAdapter {
            base: base.trim_end_matches('/').to_owned(),
            timeout,
        }
    }

    async fn call(
        &self,
        action: &str,
        method: &str,
        path: &str,
        body: Option<String>,
        ok: &[u16],
    ) -> Result<(u16, Vec<u8>), AdapterError> {
        let url = format!("{}{path}", self.base);
        let (ct, bytes) = match body {
            Some(b) => (Some("application/json"), b.into_bytes()),
            None => (None, Vec::new()),
        };
        let unreachable = |reason: String| AdapterError::Unreachable {
            action: action.to_owned(),
            reason,
        };
        let answer = tokio::time::timeout(self.timeout, request(method, &url, ct, bytes))
            .await
            .map_err(|_| AdapterError::Timeout {
                action: action.to_owned(),
                secs: self.timeout.as_secs(),
            })?
            .map_err(|e| match e {
                HttpClientError::Url { reason, .. } => unreachable(format!("{url}: {reason}")),
                other => unreachable(other.to_string()),
            })?;
        if ok.contains(&answer.status) {
            Ok((answer.status, answer.body))
        } else {
            Err(AdapterError::Refused {
                action: action.to_owned(),
                status: answer.status,
                body: String::from_utf8_lossy(&answer.body).trim().to_owned(),
            })
        }
    }

    fn parse<T: DeserializeOwned>(action: &str, body: &[u8]) -> Result<T, AdapterError> {
        serde_json::from_slice(body).map_err(|e| AdapterError::BadAnswer {
            action: action.to_owned(),
            reason: e.to_string(),
        })
    }

    fn json(action: &str, v: &impl serde::Serialize) -> Result<String, AdapterError> {
        serde_json::to_string(v).map_err(|e| AdapterError::BadAnswer {
            action: action.to_owned(),
            reason: e.to_string(),
        })
    }

    /// Register the device, or update it when the server already has one with this DevId
    /// (`POST /devices`, then `PUT /devices/{dev_id}` on 409).
    pub async fn register_device(&self, device: &Device) -> Result<(), AdapterError> {
        let body = Self::json("register_device", device)?;
        let (status, _) = self
            .call(
                "register_device",
                "POST",
                "/devices",
                Some(body.clone()),
                &[201, 409],
            )
            .await?;
        if status == 409 {
            let path = format!("/devices/{}", path_segment(&device.dev_id));
            self.call("register_device", "PUT", &path, Some(body), &[200])
                .await?;
        }
        Ok(())
    }

    /// Queue a job; its id.
    pub async fn queue_job(&self, dev_id: &str, spec: &JobSpec) -> Result<u64, AdapterError> {
        let path = format!("/devices/{}/jobs", path_segment(dev_id));
        let (_, body) = self
            .call(
                "queue_job",
                "POST",
                &path,
                Some(Self::json("queue_job", spec)?),
                &[201],
            )
            .await?;
        Ok(Self::parse::<Job>("queue_job", &body)?.id)
    }

    /// A job as the server shows it.
    pub async fn job(&self, id: u64) -> Result<Job, AdapterError> {
        let (_, body) = self
            .call("job_status", "GET", &format!("/jobs/{id}"), None, &[200])
            .await?;
        Self::parse("job_status", &body)
    }

    /// The alerts the device sent (`GET /devices/{dev_id}/alerts`), newest last.
    pub async fn alerts(&self, dev_id: &str) -> Result<Vec<AlertRecord>, AdapterError> {
        let path = format!("/devices/{}/alerts", path_segment(dev_id));
        let (_, body) = self.call("alerts", "GET", &path, None, &[200]).await?;
        Self::parse("alerts", &body)
    }

    /// The software-originator key the server signs packages with (`GET /originator`).
    pub async fn originator(&self) -> Result<dm_server::packages::OriginatorInfo, AdapterError> {
        let (_, body) = self
            .call("originator", "GET", "/originator", None, &[200])
            .await?;
        Self::parse("originator", &body)
    }

    /// Publish a package (`POST /packages`).
    pub async fn publish_package(
        &self,
        up: &dm_server::packages::PackageUpload,
    ) -> Result<dm_server::packages::PackageInfo, AdapterError> {
        let body = Self::json("publish_package", up)?;
        let (_, out) = self
            .call("publish_package", "POST", "/packages", Some(body), &[201])
            .await?;
        Self::parse("publish_package", &out)
    }

    /// Queue a SCOMO job (`POST /devices/{dev_id}/scomo`); its id.
    pub async fn scomo(
        &self,
        dev_id: &str,
        req: &dm_server::packages::ScomoRequest,
    ) -> Result<u64, AdapterError> {
        let path = format!("/devices/{}/scomo", path_segment(dev_id));
        let (_, out) = self
            .call(
                "scomo",
                "POST",
                &path,
                Some(Self::json("scomo", req)?),
                &[201],
            )
            .await?;
        Ok(Self::parse::<Job>("scomo", &out)?.id)
    }

    /// A schedule request (docs/admin-api.md "Schedules"): `POST /devices/{dev_id}/schedules`
    /// (create), `PUT …/{name}` (change), `POST …/{name}/state` (suspend, resume,
    /// terminate), `DELETE …/{name}`; the id of the job it queued.
    pub async fn schedule_job(
        &self,
        dev_id: &str,
        request: &ScheduleRequest<'_>,
    ) -> Result<u64, AdapterError> {
        let base = format!("/devices/{}/schedules", path_segment(dev_id));
        let (action, method, path, body, ok) = match request {
            ScheduleRequest::Create(def) => (
                "create_schedule",
                "POST",
                base,
                Some(Self::json("create_schedule", def)?),
                &[201u16][..],
            ),
            ScheduleRequest::State(name, state) => (
                "schedule_state",
                "POST",
                format!("{base}/{}/state", path_segment(name)),
                Some(serde_json::json!({ "state": state }).to_string()),
                &[200u16][..],
            ),
            ScheduleRequest::Delete(name) => (
                "delete_schedule",
                "DELETE",
                format!("{base}/{}", path_segment(name)),
                None,
                &[200u16][..],
            ),
            ScheduleRequest::Modify(def) => (
                "change_schedule",
                "PUT",
                format!("{base}/{}", path_segment(&def.name)),
                Some(Self::json("change_schedule", def)?),
                &[200u16][..],
            ),
        };
        let (_, out) = self.call(action, method, &path, body, ok).await?;
        let v: serde_json::Value = Self::parse(action, &out)?;
        v.pointer("/job/id")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| AdapterError::BadAnswer {
                action: action.into(),
                reason: "no job.id in the answer".into(),
            })
    }

    /// A schedule as the server keeps it (`GET /devices/{dev_id}/schedules/{name}`).
    pub async fn schedule(
        &self,
        dev_id: &str,
        name: &str,
    ) -> Result<dm_server::schedules::ScheduleRecord, AdapterError> {
        let path = format!(
            "/devices/{}/schedules/{}",
            path_segment(dev_id),
            path_segment(name)
        );
        let (_, body) = self.call("schedule", "GET", &path, None, &[200]).await?;
        Self::parse("schedule", &body)
    }

    /// The reports the server stored for a schedule (`GET …/schedules/{name}/reports`).
    pub async fn schedule_reports(
        &self,
        dev_id: &str,
        name: &str,
    ) -> Result<Vec<dm_server::schedules::ScheduleReport>, AdapterError> {
        let path = format!(
            "/devices/{}/schedules/{}/reports",
            path_segment(dev_id),
            path_segment(name)
        );
        let (_, body) = self
            .call("schedule_reports", "GET", &path, None, &[200])
            .await?;
        Self::parse("schedule_reports", &body)
    }

    /// Queue a backup job (`POST /devices/{dev_id}/backup`); its id.
    pub async fn backup(
        &self,
        dev_id: &str,
        req: &dm_server::migration::BackupRequest,
    ) -> Result<u64, AdapterError> {
        let path = format!("/devices/{}/backup", path_segment(dev_id));
        let (_, out) = self
            .call(
                "backup",
                "POST",
                &path,
                Some(Self::json("backup", req)?),
                &[201],
            )
            .await?;
        Ok(Self::parse::<Job>("backup", &out)?.id)
    }

    /// A device's stored backups (`GET /devices/{dev_id}/backups`).
    pub async fn backups(
        &self,
        dev_id: &str,
    ) -> Result<Vec<dm_server::store::ContentInfo>, AdapterError> {
        let path = format!("/devices/{}/backups", path_segment(dev_id));
        let (_, out) = self.call("backups", "GET", &path, None, &[200]).await?;
        Self::parse("backups", &out)
    }

    /// Queue a restore job (`POST /devices/{dev_id}/restore`); its id.
    pub async fn restore(
        &self,
        dev_id: &str,
        req: &dm_server::migration::RestoreRequest,
    ) -> Result<u64, AdapterError> {
        let path = format!("/devices/{}/restore", path_segment(dev_id));
        let (_, out) = self
            .call(
                "restore",
                "POST",
                &path,
                Some(Self::json("restore", req)?),
                &[201],
            )
            .await?;
        Ok(Self::parse::<Job>("restore", &out)?.id)
    }

    /// Hosted content (`GET /content/{name}`).
    pub async fn content(&self, name: &str) -> Result<Vec<u8>, AdapterError> {
        let path = format!(
            "/content/{}",
            name.split('/')
                .map(path_segment)
                .collect::<Vec<_>>()
                .join("/")
        );
        let (_, out) = self.call("content", "GET", &path, None, &[200]).await?;
        Ok(out)
    }

    /// Cancel a job that was not sent (`DELETE /jobs/{id}`); a job already sent or done is
    /// left as it is (409).
    pub async fn cancel_job(&self, id: u64) -> Result<(), AdapterError> {
        self.call(
            "cancel_job",
            "DELETE",
            &format!("/jobs/{id}"),
            None,
            &[200, 409],
        )
        .await
        .map(|_| ())
    }

    /// Poll a job until `done` says so or `within` has passed (then `Timeout`).
    pub async fn wait_job(
        &self,
        id: u64,
        within: Duration,
        done: impl Fn(&Job) -> bool,
    ) -> Result<Job, AdapterError> {
        let deadline = Instant::now() + within;
        loop {
            let job = self.job(id).await?;
            if done(&job) {
                return Ok(job);
            }
            if Instant::now() >= deadline {
                return Err(AdapterError::Timeout {
                    action: "job_status".into(),
                    secs: within.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Ask the server to send the device a package #0.
    pub async fn notify(
        &self,
        dev_id: &str,
        req: &NotifyRequest,
    ) -> Result<NotifyOutcome, AdapterError> {
        let path = format!("/devices/{}/notify", path_segment(dev_id));
        let (_, body) = self
            .call(
                "notify",
                "POST",
                &path,
                Some(Self::json("notify", req)?),
                &[200],
            )
            .await?;
        Self::parse("notify", &body)
    }
}

/// What [`HttpAdapter::schedule_job`] asks for.
#[derive(Debug, Clone, Copy)]
pub enum ScheduleRequest<'a> {
    /// Create a schedule.
    Create(&'a dm_server::schedules::ScheduleDefinition),
    /// Set the State of the named schedule (`active`, `suspended`, `terminated`).
    State(&'a str, &'a str),
    /// Delete the named schedule.
    Delete(&'a str),
    /// Change a schedule to this definition (`PUT`, docs/admin-api.md "Schedules").
    Modify(&'a dm_server::schedules::ScheduleDefinition),
}
