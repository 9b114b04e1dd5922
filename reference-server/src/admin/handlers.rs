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
