//! Errors of the admin API: `{"error": {"kind": "...", "message": "..."}}` with an HTTP
//! status. The kinds are part of the contract (docs/admin-api.md "Errors").

use hyper::StatusCode;
use serde::Serialize;

use crate::store::StoreError;

/// An admin API failure: the HTTP status, a stable machine-readable kind and a message for
/// people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {kind}: {message}")]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable kind (`bad_json`, `unknown_device`, …).
    pub kind: &'static str,
    /// What went wrong and what to do about it.
    pub message: String,
}

impl ApiError {
    /// An error of `kind` with `status`.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }

    /// 400 `bad_json`: the body is not the expected JSON (the serde message says where).
    pub fn bad_json(what: &str, e: &serde_json::Error) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the body is not a valid {what}: {e}"),
        )
    }

    /// 400 `invalid_request`: well-formed JSON whose values are not acceptable.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 404 `not_found`: no such endpoint.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no endpoint at `{path}` (see docs/admin-api.md)"),
        )
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        #[derive(Serialize)]
        struct Inner<'a> {
            kind: &'a str,
            message: &'a str,
        }
        #[derive(Serialize)]
        struct Outer<'a> {
            error: Inner<'a>,
        }
        serde_json::to_value(Outer {
            error: Inner {
                kind: self.kind,
                message: &self.message,
            },
        })
        .unwrap_or(serde_json::Value::Null)
    }
}

impl From<crate::packages::PackageRepoError> for ApiError {
    fn from(e: crate::packages::PackageRepoError) -> Self {
        use crate::packages::PackageRepoError as P;
        match e {
            P::Invalid(m) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_package", m),
            P::Unknown(id) => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_package",
                format!("no package `{id}`"),
            ),
            P::Key { .. } => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "originator_key",
                e.to_string(),
            ),
            P::Store(s) => s.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let (status, kind) = match &e {
            StoreError::DeviceExists { .. } => (StatusCode::CONFLICT, "device_exists"),
            StoreError::UnknownDevice { .. } => (StatusCode::NOT_FOUND, "unknown_device"),
            StoreError::UnknownJob { .. } => (StatusCode::NOT_FOUND, "unknown_job"),
            StoreError::UnknownSession { .. } => (StatusCode::NOT_FOUND, "unknown_session"),
            StoreError::UnknownContent { .. } => (StatusCode::NOT_FOUND, "unknown_content"),
            StoreError::UnknownSchedule { .. } => (StatusCode::NOT_FOUND, "unknown_schedule"),
            StoreError::NotCancellable { .. } => (StatusCode::CONFLICT, "job_not_cancellable"),
            StoreError::InvalidDevice { .. } => (StatusCode::BAD_REQUEST, "invalid_device"),
            StoreError::InvalidJob { .. } => (StatusCode::BAD_REQUEST, "invalid_job"),
            StoreError::InvalidContentName { .. } => {
                (StatusCode::BAD_REQUEST, "invalid_content_name")
            }
            // Session-engine errors: no admin endpoint can cause them.
            StoreError::InvalidUpdate { .. }
            | StoreError::ForeignAlert { .. }
            | StoreError::SessionEnded { .. }
            | StoreError::Task(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            StoreError::DataDir { .. }
            | StoreError::Open { .. }
            | StoreError::SchemaTooNew { .. }
            | StoreError::Sql { .. }
            | StoreError::Encode { .. }
            | StoreError::Corrupt { .. }
            | StoreError::OutOfRange { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "store_error"),
        };
        ApiError::new(status, kind, e.to_string())
    }
}
