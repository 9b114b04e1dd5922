//! Paths of the admin API: which endpoint a path names, with its percent-decoded parameters.

use hyper::{Method, StatusCode};

use super::ApiError;

/// An endpoint, with its path parameters decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `/health`
    Health,
    /// `/devices`
    Devices,
    /// `/devices/{dev_id}`
    Device(String),
    /// `/devices/{dev_id}/jobs`
    DeviceJobs(String),
    /// `/devices/{dev_id}/sessions`
    DeviceSessions(String),
    /// `/devices/{dev_id}/alerts`
    DeviceAlerts(String),
    /// `/devices/{dev_id}/notify`
    Notify(String),
    /// `/devices/{dev_id}/scomo`
    Scomo(String),
    /// `/devices/{dev_id}/backup`
    Backup(String),
    /// `/devices/{dev_id}/backups`
    Backups(String),
    /// `/devices/{dev_id}/restore`
    Restore(String),
    /// `/devices/{dev_id}/schedules`
    Schedules(String),
    /// `/devices/{dev_id}/schedules/{name}`
    Schedule(String, String),
    /// `/devices/{dev_id}/schedules/{name}/state`
    ScheduleState(String, String),
    /// `/devices/{dev_id}/schedules/{name}/reports`
    ScheduleReports(String, String),
    /// `/jobs/{id}`
    Job(u64),
    /// `/sessions/{dev_id}/{session_id}`
    Session(String, String),
    /// `/alerts`
    Alerts,
    /// `/content`
    Contents,
    /// `/content/{name}` (the name may span segments: `fw/v2.bin`)
    Content(String),
    /// `/originator`
    Originator,
    /// `/packages`
    Packages,
    /// `/packages/{pkg_id}`
    Package(String),
}

impl Route {
    /// The route a path (without query) names.
    pub(crate) fn parse(path: &str) -> Result<Route, ApiError> {
        let raw = path.strip_prefix('/').unwrap_or(path);
        let segments = raw
            .split('/')
            .map(percent_decode)
            .collect::<Result<Vec<String>, ApiError>>()?;
        let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
        let non_empty = |s: &str| !s.is_empty();
        Ok(match parts.as_slice() {
            ["health"] => Route::Health,
            ["devices"] => Route::Devices,
            ["devices", id] if non_empty(id) => Route::Device(id.to_string()),
            ["devices", id, "jobs"] if non_empty(id) => Route::DeviceJobs(id.to_string()),
            ["devices", id, "sessions"] if non_empty(id) => Route::DeviceSessions(id.to_string()),
            ["devices", id, "alerts"] if non_empty(id) => Route::DeviceAlerts(id.to_string()),
            ["devices", id, "notify"] if non_empty(id) => Route::Notify(id.to_string()),
            ["devices", id, "scomo"] if non_empty(id) => Route::Scomo(id.to_string()),
            ["devices", id, "backup"] if non_empty(id) => Route::Backup(id.to_string()),
            ["devices", id, "backups"] if non_empty(id) => Route::Backups(id.to_string()),
            ["devices", id, "restore"] if non_empty(id) => Route::Restore(id.to_string()),
            ["devices", id, "schedules"] if non_empty(id) => Route::Schedules(id.to_string()),
            ["devices", id, "schedules", name] if non_empty(id) && non_empty(name) => {
                Route::Schedule(id.to_string(), name.to_string())
            }
            ["devices", id, "schedules", name, "state"] if non_empty(id) && non_empty(name) => {
                Route::ScheduleState(id.to_string(), name.to_string())
            }
            ["devices", id, "schedules", name, "reports"] if non_empty(id) && non_empty(name) => {
                Route::ScheduleReports(id.to_string(), name.to_string())
            }
            ["jobs", id] => Route::Job(id.parse().map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_path",
                    format!("job id `{id}` is not a number"),
                )
            })?),
            ["sessions", dev, sid] if non_empty(dev) && non_empty(sid) => {
                Route::Session(dev.to_string(), sid.to_string())
            }
            ["alerts"] => Route::Alerts,
            ["content"] => Route::Contents,
            ["content", ..] if parts.len() > 1 => Route::Content(parts[1..].join("/")),
            ["originator"] => Route::Originator,
            ["packages"] => Route::Packages,
            ["packages", id] if non_empty(id) => Route::Package(id.to_string()),
            _ => return Err(ApiError::not_found(path)),
        })
    }

    /// The methods the endpoint answers.
    pub(crate) fn methods(&self) -> &'static [Method] {
        match self {
            Route::Health
            | Route::DeviceSessions(_)
            | Route::DeviceAlerts(_)
            | Route::Session(..)
            | Route::Alerts
            | Route::Contents
            | Route::Originator => &[Method::GET],
            Route::Devices | Route::DeviceJobs(_) | Route::Packages => &[Method::GET, Method::POST],
            Route::Package(_) => &[Method::GET, Method::DELETE],
            Route::Device(_) => &[Method::GET, Method::PUT, Method::DELETE],
            Route::Notify(_) | Route::Scomo(_) | Route::Backup(_) | Route::Restore(_) => {
                &[Method::POST]
            }
            Route::Backups(_) | Route::ScheduleReports(..) => &[Method::GET],
            Route::Schedules(_) => &[Method::GET, Method::POST],
            Route::Schedule(..) => &[Method::GET, Method::PUT, Method::DELETE],
            Route::ScheduleState(..) => &[Method::POST],
            Route::Job(_) => &[Method::GET, Method::DELETE],
            Route::Content(_) => &[Method::GET, Method::PUT, Method::DELETE],
        }
    }
}

/// Decodes `%XX` escapes of one path segment (RFC 3986 §2.1); the result must be UTF-8.
/// `+` is kept as is (it means a space only in form data).
pub(crate) fn percent_decode(segment: &str) -> Result<String, ApiError> {
    let bad = |why: &str| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_path",
            format!("path segment `{segment}`: {why}"),
        )
    };
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .ok_or_else(|| bad("`%` must be followed by two hex digits"))?;
            let text = std::str::from_utf8(hex).map_err(|_| bad("bad `%` escape"))?;
            let value = u8::from_str_radix(text, 16)
                .map_err(|_| bad("`%` must be followed by two hex digits"))?;
            out.push(value);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad("the decoded segment is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_decoded_and_parsed() {
        assert_eq!(
            Route::parse("/devices/IMEI%3A4930%2F1/jobs").ok(),
            Some(Route::DeviceJobs("IMEI:4930/1".into()))
        );
        assert_eq!(
            Route::parse("/devices/IMEI:1").ok(),
            Some(Route::Device("IMEI:1".into()))
        );
        assert_eq!(
            Route::parse("/sessions/a%20b/1A2B").ok(),
            Some(Route::Session("a b".into(), "1A2B".into()))
        );
        assert_eq!(Route::parse("/jobs/17").ok(), Some(Route::Job(17)));
        assert_eq!(
            Route::parse("/devices/IMEI:1/schedules/r%201/state").ok(),
            Some(Route::ScheduleState("IMEI:1".into(), "r 1".into()))
        );
        assert_eq!(
            Route::parse("/devices/IMEI:1/schedules/r1/reports").ok(),
            Some(Route::ScheduleReports("IMEI:1".into(), "r1".into()))
        );
        assert_eq!(
            Route::parse("/content/fw/v2.bin").ok(),
            Some(Route::Content("fw/v2.bin".into()))
        );
        assert_eq!(percent_decode("a+b").ok().as_deref(), Some("a+b"));
        assert_eq!(percent_decode("%c3%bc").ok().as_deref(), Some("ü"));
    }

    #[test]
    fn bad_paths_are_typed() {
        for (path, kind) in [
            ("/devices/%zz", "bad_path"),
            ("/devices/%4", "bad_path"),
            ("/devices/%ff", "bad_path"),
            ("/jobs/abc", "bad_path"),
            ("/devices/", "not_found"),
            ("/devices//jobs", "not_found"),
            ("/nothing", "not_found"),
            ("/", "not_found"),
        ] {
            assert_eq!(
                Route::parse(path).err().map(|e| e.kind),
                Some(kind),
                "{path}"
            );
        }
    }
}
