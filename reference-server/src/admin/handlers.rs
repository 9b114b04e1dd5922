//! One function per endpoint, and the request/response plumbing (body limit, JSON).

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Body;
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use hyper::{Method, Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::routes::Route;
use super::{Admin, ApiError};
use crate::model::{Device, DeviceState, JobSpec, NotifyRequest};
use crate::schedules::{ScheduleAction, ScheduleDefinition, ScheduleRecord, ScheduleState};
use crate::store::ContentInfo;

/// `GET /devices/{dev_id}`: the device with its state (nonces, last DevInfo).
#[derive(Debug, Serialize)]
struct DeviceView {
    device: Device,
    state: DeviceState,
}

/// A response to send.
enum Reply {
    /// JSON with a status.
    Json(StatusCode, serde_json::Value),
    /// 201 with a `Location` and JSON.
    Created(String, serde_json::Value),
    /// 204, no body.
    NoContent,
    /// Raw bytes with a content type (hosted content).
    Raw(String, Vec<u8>),
}

pub(super) async fn handle<B>(admin: &Admin, req: Request<B>) -> Response<Full<Bytes>>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let route = match Route::parse(req.uri().path()) {
        Ok(route) => route,
        Err(e) => return error_response(&e),
    };
    if !route.methods().contains(req.method()) {
        let allowed: Vec<&str> = route.methods().iter().map(Method::as_str).collect();
        let allowed = allowed.join(", ");
        let e = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("{} is not allowed here; allowed: {allowed}", req.method()),
        );
        let mut response = error_response(&e);
        if let Ok(v) = HeaderValue::from_str(&allowed) {
            response.headers_mut().insert(ALLOW, v);
        }
        return response;
    }
    match dispatch(admin, route, req).await {
        Ok(reply) => render(reply),
        Err(e) => error_response(&e),
    }
}

/// Answers a request whose route and method were checked.
async fn dispatch<B>(admin: &Admin, route: Route, req: Request<B>) -> Result<Reply, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let method = req.method().clone();
    let store = &admin.store;
    let now = now();
    match (route, method) {
        (Route::Health, _) => Ok(json(StatusCode::OK, &serde_json::json!({"status": "ok"}))),
        (Route::Devices, Method::GET) => Ok(json(StatusCode::OK, &store.devices()?)),
        (Route::Devices, _) => {
            let device: Device = read_json(admin, req, "device").await?;
            store.add_device(&device)?;
            Ok(created(
                format!("/devices/{}", percent_encode(&device.dev_id)),
                &device,
            ))
        }
        (Route::Device(dev_id), Method::GET) => {
            let view = DeviceView {
                device: store.device(&dev_id)?,
                state: store.device_state(&dev_id)?,
            };
            Ok(json(StatusCode::OK, &view))
        }
        (Route::Device(dev_id), Method::PUT) => {
            let device: Device = read_json(admin, req, "device").await?;
            if device.dev_id != dev_id {
                return Err(ApiError::invalid(format!(
                    "the body's dev_id `{}` differs from the path's `{dev_id}` (a device \
                     cannot be renamed; delete and register it)",
                    device.dev_id
                )));
            }
            store.update_device(&device)?;
            Ok(json(StatusCode::OK, &device))
        }
        (Route::Device(dev_id), _) => {
            store.delete_device(&dev_id)?;
            Ok(Reply::NoContent)
        }
        (Route::DeviceJobs(dev_id), Method::GET) => Ok(json(StatusCode::OK, &store.jobs(&dev_id)?)),
        (Route::DeviceJobs(dev_id), _) => {
            // Check the device first: an unknown device is 404 whatever the body.
            store.device(&dev_id)?;
            let spec: JobSpec = read_json(admin, req, "job spec").await?;
            let job = store.add_job(&dev_id, &spec, now)?;
            Ok(created(format!("/jobs/{}", job.id), &job))
        }
        (Route::DeviceSessions(dev_id), _) => Ok(json(StatusCode::OK, &store.sessions(&dev_id)?)),
        (Route::DeviceAlerts(dev_id), _) => Ok(json(StatusCode::OK, &store.alerts(&dev_id)?)),
        (Route::Notify(dev_id), _) => notify(admin, req, &dev_id).await,
        (Route::Schedules(dev_id), Method::GET) => {
            Ok(json(StatusCode::OK, &store.schedules(&dev_id)?))
        }
        (Route::Schedules(dev_id), _) => {
            store.device(&dev_id)?;
            let def: ScheduleDefinition = read_json(admin, req, "schedule").await?;
            create_schedule(admin, &dev_id, def, now)
        }
        (Route::Schedule(dev_id, name), Method::GET) => {
            Ok(json(StatusCode::OK, &store.schedule(&dev_id, &name)?))
        }
        (Route::Schedule(dev_id, name), Method::PUT) => {
            store.device(&dev_id)?;
            let mut def: ScheduleDefinition = read_json(admin, req, "schedule").await?;
            if def.name.is_empty() {
                def.name.clone_from(&name);
            } else if def.name != name {
                return Err(ApiError::invalid(format!(
                    "the body's name `{}` differs from the path's `{name}` (a schedule cannot \
                     be renamed; delete it and create another)",
                    def.name
                )));
            }
            modify_schedule(admin, &dev_id, def, now)
        }
        (Route::Schedule(dev_id, name), _) => {
            let current = store.schedule(&dev_id, &name)?;
            if current.state == ScheduleState::Deleted {
                return Err(not_on_device(&current));
            }
            let spec = crate::schedules::delete_job(&name).map_err(invalid_schedule)?;
            send_schedule_job(admin, &dev_id, &name, &ScheduleAction::Delete, &spec, now)
        }
        (Route::ScheduleState(dev_id, name), _) => {
            let current = store.schedule(&dev_id, &name)?;
            let r: StateRequest = read_json(admin, req, "state request").await?;
            if !current.state.on_device() {
                return Err(not_on_device(&current));
            }
            let spec = crate::schedules::state_job(&current.definition, &r.state)
                .map_err(invalid_schedule)?;
            let action = ScheduleAction::State { state: r.state };
            send_schedule_job(admin, &dev_id, &name, &action, &spec, now)
        }
        (Route::ScheduleReports(dev_id, name), _) => {
            let reports = store.schedule_reports(&dev_id, &name)?;
            if reports.is_empty() {
                // 404 only when the server knows neither the schedule nor any report of it.
                store.schedule(&dev_id, &name)?;
            }
            Ok(json(StatusCode::OK, &reports))
        }
        (Route::Job(id), Method::GET) => Ok(json(StatusCode::OK, &store.job(id)?)),
        (Route::Job(id), _) => Ok(json(StatusCode::OK, &store.cancel_job(id, now)?)),
        (Route::Session(dev_id, session_id), _) => {
            Ok(json(StatusCode::OK, &store.session(&dev_id, &session_id)?))
        }
        (Route::Alerts, _) => Ok(json(StatusCode::OK, &store.all_alerts()?)),
        (Route::Contents, _) => Ok(json(StatusCode::OK, &store.contents()?)),
        (Route::Content(name), Method::GET) => {
            let content = store.content(&name)?;
            Ok(Reply::Raw(content.content_type, content.bytes))
        }
        (Route::Content(name), Method::PUT) => {
            let content_type = req
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_string();
            let bytes = read_body(admin, req).await?;
            store.put_content(&name, &content_type, &bytes, now)?;
            let info = ContentInfo {
                name,
                content_type,
                size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
                updated_at: now,
            };
            Ok(json(StatusCode::OK, &info))
        }
        (Route::Content(name), _) => {
            store.delete_content(&name)?;
            Ok(Reply::NoContent)
        }
        (Route::Scomo(dev_id), _) => {
            store.device(&dev_id)?;
            let r: crate::packages::ScomoRequest = read_json(admin, req, "scomo request").await?;
            let spec = crate::packages::scomo_job(store, &r, &admin.public_base)?;
            let job = store.add_job(&dev_id, &spec, now)?;
            Ok(created(format!("/jobs/{}", job.id), &job))
        }
        (Route::Backup(dev_id), _) => {
            store.device(&dev_id)?;
            let body = read_body(admin, req).await?;
            let r: crate::migration::BackupRequest = if body.is_empty() {
                crate::migration::BackupRequest::default()
            } else {
                serde_json::from_slice(&body)
                    .map_err(|e| ApiError::bad_json("backup request", &e))?
            };
            // A random number names the backup: unguessable by other devices, and no two
            // backups of a device collide (docs/admin-api.md "Migration").
            let n = dm_protocol::auth::NonceGenerator::from_entropy().next_u64();
            let spec = crate::migration::backup_job(&dev_id, &r, &admin.public_base, n)
                .map_err(ApiError::invalid)?;
            let job = store.add_job(&dev_id, &spec, now)?;
            Ok(created(format!("/jobs/{}", job.id), &job))
        }
        (Route::Backups(dev_id), _) => {
            store.device(&dev_id)?;
            Ok(json(
                StatusCode::OK,
                &crate::migration::backups(store, &dev_id)?,
            ))
        }
        (Route::Restore(dev_id), _) => {
            store.device(&dev_id)?;
            let r: crate::migration::RestoreRequest =
                read_json(admin, req, "restore request").await?;
            let spec = crate::migration::restore_job(store, &r, &admin.public_base)?;
            let job = store.add_job(&dev_id, &spec, now)?;
            Ok(created(format!("/jobs/{}", job.id), &job))
        }
        (Route::Originator, _) => Ok(json(
            StatusCode::OK,
            &crate::packages::originator_info(&*admin.originator()?),
        )),
        (Route::Packages, Method::GET) => Ok(json(StatusCode::OK, &crate::packages::list(store)?)),
        (Route::Packages, _) => {
            let up: crate::packages::PackageUpload = read_json(admin, req, "package").await?;
            let info = crate::packages::publish(store, &*admin.originator()?, &up, now)?;
            Ok(created(
                format!("/packages/{}", percent_encode(&info.pkg_id)),
                &info,
            ))
        }
        (Route::Package(id), Method::GET) => {
            Ok(json(StatusCode::OK, &crate::packages::get(store, &id)?))
        }
        (Route::Package(id), _) => {
            crate::packages::delete(store, &id)?;
            Ok(Reply::NoContent)
        }
    }
}

/// `POST /devices/{dev_id}/schedules/{name}/state`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StateRequest {
    state: String,
}

/// What the schedule endpoints that send a job answer: the schedule record and the job
/// (`None` when a `PUT` changed nothing).
#[derive(Debug, Serialize)]
struct ScheduleAnswer {
    schedule: ScheduleRecord,
    job: Option<crate::model::Job>,
}

fn invalid_schedule(e: crate::schedules::InvalidSchedule) -> ApiError {
    ApiError::invalid(e.0)
}

/// Queue a state or delete job for a schedule the device holds and answer 200 with the
/// schedule and the job (docs/admin-api.md "Schedules").
fn send_schedule_job(
    admin: &Admin,
    dev_id: &str,
    name: &str,
    action: &ScheduleAction,
    spec: &crate::model::JobSpec,
    now: u64,
) -> Result<Reply, ApiError> {
    let (schedule, job) = admin
        .store
        .add_schedule_job(dev_id, name, None, action, spec, now)?;
    Ok(json(
        StatusCode::OK,
        &ScheduleAnswer {
            schedule,
            job: Some(job),
        },
    ))
}

/// 409 `schedule_not_on_device`: the device refused or deleted the schedule.
fn not_on_device(r: &ScheduleRecord) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "schedule_not_on_device",
        format!(
            "schedule `{}` of device `{}` is {:?} on the device (create it again with POST or \
             PUT)",
            r.name, r.dev_id, r.state
        ),
    )
}

fn schedule_location(dev_id: &str, name: &str) -> String {
    format!(
        "/devices/{}/schedules/{}",
        percent_encode(dev_id),
        percent_encode(name)
    )
}

/// `POST /devices/{dev_id}/schedules`: a job with one TNDS Add (docs/scheduling.md "The
/// server side"); 409 `schedule_exists` while the device holds (or is being sent) one of
/// that name.
fn create_schedule(
    admin: &Admin,
    dev_id: &str,
    def: ScheduleDefinition,
    now: u64,
) -> Result<Reply, ApiError> {
    let spec = crate::schedules::create_job(&def).map_err(invalid_schedule)?;
    match admin.store.schedule(dev_id, &def.name) {
        Ok(r) if r.state.on_device() => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "schedule_exists",
                format!(
                    "device `{dev_id}` already has schedule `{}` ({:?}); change it with PUT or \
                     delete it first",
                    def.name, r.state
                ),
            ))
        }
        Ok(_) | Err(crate::store::StoreError::UnknownSchedule { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let (schedule, job) = admin.store.add_schedule_job(
        dev_id,
        &def.name,
        Some(&def),
        &ScheduleAction::Create,
        &spec,
        now,
    )?;
    Ok(created(
        schedule_location(dev_id, &def.name),
        &ScheduleAnswer {
            schedule,
            job: Some(job),
        },
    ))
}

/// `PUT /devices/{dev_id}/schedules/{name}`: Replace/Add/Delete of the leaves that changed;
/// a schedule the device refused or deleted is sent again whole (one TNDS Add).
fn modify_schedule(
    admin: &Admin,
    dev_id: &str,
    def: ScheduleDefinition,
    now: u64,
) -> Result<Reply, ApiError> {
    let current = admin.store.schedule(dev_id, &def.name)?;
    let (spec, action) = if current.state.on_device() {
        match crate::schedules::modify_job(&current.definition, &def).map_err(invalid_schedule)? {
            Some(spec) => (spec, ScheduleAction::Modify),
            None => {
                return Ok(json(
                    StatusCode::OK,
                    &ScheduleAnswer {
                        schedule: current,
                        job: None,
                    },
                ))
            }
        }
    } else {
        (
            crate::schedules::create_job(&def).map_err(invalid_schedule)?,
            ScheduleAction::Create,
        )
    };
    let (schedule, job) =
        admin
            .store
            .add_schedule_job(dev_id, &def.name, Some(&def), &action, &spec, now)?;
    Ok(json(
        StatusCode::OK,
        &ScheduleAnswer {
            schedule,
            job: Some(job),
        },
    ))
}

/// `POST /devices/{dev_id}/notify`.
async fn notify<B>(admin: &Admin, req: Request<B>, dev_id: &str) -> Result<Reply, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let device = admin.store.device(dev_id)?;
    let state = admin.store.device_state(dev_id)?;
    let body = read_body(admin, req).await?;
    // An empty body asks for the defaults.
    let request: NotifyRequest = if body.iter().all(u8::is_ascii_whitespace) {
        NotifyRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_json("notify request", &e))?
    };
    if request.session_id == Some(0) {
        return Err(ApiError::invalid(
            "session_id must be 1..=65535 (facts §7.1: a package #0 session-id is never 0)",
        ));
    }
    let address = device
        .notify
        .iter()
        .find(|a| request.transport.is_none_or(|t| a.transport == t))
        .ok_or_else(|| {
            let wanted = match request.transport {
                Some(t) => format!("no {t:?} notification address"),
                None => "no notification address".to_string(),
            };
            ApiError::new(
                StatusCode::CONFLICT,
                "no_notify_address",
                format!("device `{dev_id}` has {wanted} (add one with PUT /devices/{{dev_id}})"),
            )
        })?;
    let outcome = admin
        .notifier
        .notify(&device, &state, address, &request)
        .await
        .map_err(|reason| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "notify_failed",
                format!("package #0 to {} was not sent: {reason}", address.address),
            )
        })?;
    Ok(json(StatusCode::OK, &outcome))
}

/// The body, at most `admin.max_body` bytes (413 beyond).
async fn read_body<B>(admin: &Admin, req: Request<B>) -> Result<Bytes, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let limit = admin.max_body;
    let too_big = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    };
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return Err(too_big());
    }
    match Limited::new(req.into_body(), limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(too_big()),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_body",
            format!("the request body could not be read: {e}"),
        )),
    }
}

/// The body as JSON of `T`; `what` names it in the error.
async fn read_json<T, B>(admin: &Admin, req: Request<B>, what: &str) -> Result<T, ApiError>
where
    T: DeserializeOwned,
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let body = read_body(admin, req).await?;
    serde_json::from_slice(&body).map_err(|e| ApiError::bad_json(what, &e))
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Reply {
    match serde_json::to_value(value) {
        Ok(v) => Reply::Json(status, v),
        Err(e) => Reply::Json(
            StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("cannot encode the answer: {e}"),
            )
            .body(),
        ),
    }
}

fn created<T: Serialize>(location: String, value: &T) -> Reply {
    match json(StatusCode::CREATED, value) {
        Reply::Json(StatusCode::CREATED, v) => Reply::Created(location, v),
        other => other,
    }
}

fn render(reply: Reply) -> Response<Full<Bytes>> {
    match reply {
        Reply::Json(status, value) => json_response(status, &value),
        Reply::Created(location, value) => {
            let mut response = json_response(StatusCode::CREATED, &value);
            if let Ok(v) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(LOCATION, v);
            }
            response
        }
        Reply::NoContent => {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
        Reply::Raw(content_type, bytes) => {
            let mut response = Response::new(Full::new(Bytes::from(bytes)));
            let value = HeaderValue::from_str(&content_type)
                .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
            response.headers_mut().insert(CONTENT_TYPE, value);
            response
        }
    }
}

fn error_response(e: &ApiError) -> Response<Full<Bytes>> {
    json_response(e.status, &e.body())
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut text = serde_json::to_vec_pretty(value).unwrap_or_default();
    text.push(b'\n');
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Unix seconds now.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Percent-encodes a path segment: everything but RFC 3986 unreserved characters and `:`.
fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
