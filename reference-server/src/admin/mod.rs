//! The admin API: HTTP/1.1 + JSON on its own listener, the implementation-neutral contract
//! the harness uses to drive a server under test (`docs/admin-api.md`,
//! `docs/admin-api.openapi.yaml`).
//!
//! Register devices, queue jobs (management commands in the JSON form of
//! `dm_protocol::model::Command`), read jobs, sessions with transcripts and alerts, host
//! content, and ask for a package #0 through a [`Notifier`] the binary provides.
//!
//! ```no_run
//! # async fn demo(store: dm_server::store::Store,
//! #     notifier: std::sync::Arc<dyn dm_server::admin::Notifier>) -> std::io::Result<()> {
//! use dm_server::admin::{serve_admin, Admin};
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
//! let admin = Admin::new(store, notifier).with_max_body(1 << 20);
//! serve_admin(listener, admin, std::future::pending()).await
//! # }
//! ```

mod error;
mod handlers;
mod routes;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Body;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub use error::ApiError;

use crate::model::{Device, DeviceState, NotifyAddress, NotifyOutcome, NotifyRequest};
use crate::store::Store;

/// Default request body limit: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

/// How long a connection may take to send a request head (also the keep-alive idle limit).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// The future a [`Notifier`] returns: the package #0 sent, or why not (one line).
pub type NotifyFuture<'a> =
    Pin<Box<dyn Future<Output = Result<NotifyOutcome, String>> + Send + 'a>>;

/// Sends a package #0 (facts §7) for `POST /devices/{dev_id}/notify`. The admin API has
/// already checked the device and chosen `address` (the first of the requested transport,
/// or the device's first); the notifier builds the package (digest with the device's
/// `server_auth` secret and `state.server_nonce`, facts §7.2), picks a session-id when
/// `request.session_id` is `None`, sends it and says what it sent.
pub trait Notifier: Send + Sync {
    /// Sends one package #0; `Err` carries a one-line reason (shown as `notify_failed`).
    fn notify<'a>(
        &'a self,
        device: &'a Device,
        state: &'a DeviceState,
        address: &'a NotifyAddress,
        request: &'a NotifyRequest,
    ) -> NotifyFuture<'a>;
}

/// The admin API service: the store, the notifier and the limits. Cheap to clone.
#[derive(Clone)]
pub struct Admin {
    store: Store,
    notifier: Arc<dyn Notifier>,
    max_body: usize,
    originator_id: String,
    public_base: String,
    originator: Arc<std::sync::Mutex<Option<Arc<dm_protocol::swpkg::Originator>>>>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("store", &self.store)
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

impl Admin {
    /// The admin API over `store`, sending notifications through `notifier`, with the
    /// default body limit ([`DEFAULT_MAX_BODY`]).
    pub fn new(store: Store, notifier: Arc<dyn Notifier>) -> Self {
        Admin {
            store,
            notifier,
            max_body: DEFAULT_MAX_BODY,
            originator_id: "dm-server".into(),
            public_base: String::new(),
            originator: Arc::new(std::sync::Mutex::new(None)),
        }
    }

    /// The key id the server signs packages with (`Originator:`; default `dm-server`).
    #[must_use]
    pub fn with_originator_id(mut self, id: &str) -> Self {
        id.clone_into(&mut self.originator_id);
        self
    }

    /// The scheme, host and port devices reach the DM listener at (e.g.
    /// `http://dms.example:8080`): the base of the `PkgURL`s SCOMO jobs send.
    #[must_use]
    pub fn with_public_base(mut self, base: &str) -> Self {
        base.trim_end_matches('/').clone_into(&mut self.public_base);
        self
    }

    /// The software originator key, loaded from (or made in) the data directory on first use
    /// (see [`crate::packages`]).
    pub(crate) fn originator(&self) -> Result<Arc<dm_protocol::swpkg::Originator>, ApiError> {
        let dir = self
            .store
            .path()
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        // Loaded once; a failure is not kept, so a fixed data directory works without a
        // restart. The lock also keeps two first requests from making two keys.
        let mut slot = match self.originator.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(o) = slot.as_ref() {
            return Ok(o.clone());
        }
        let o = crate::packages::originator(&dir, &self.originator_id)
            .map(Arc::new)
            .map_err(|e| {
                ApiError::new(
                    hyper::StatusCode::INTERNAL_SERVER_ERROR,
                    "originator_key",
                    e.to_string(),
                )
            })?;
        *slot = Some(o.clone());
        Ok(o)
    }

    /// The same with another request body limit, in bytes (larger bodies get 413).
    pub fn with_max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Answers one request. Usable inside another hyper service; [`serve_admin`] calls it
    /// for every request of every connection.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        handlers::handle(self, req).await
    }
}

/// Serves the admin API on `listener` until `shutdown` completes; then stops accepting
/// and closes open connections. A store call is synchronous and one transaction, so closing
/// never leaves a change half done. Accept errors (e.g. too many open files) are retried
/// after a short pause; the result is `Ok` once shut down.
pub async fn serve_admin(
    listener: TcpListener,
    admin: Admin,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let admin = admin.clone();
        connections.spawn(async move {
            let service = service_fn(move |req| {
                let admin = admin.clone();
                async move { Ok::<_, std::convert::Infallible>(admin.handle(req).await) }
            });
            // A failed connection (reset, malformed request head, timeout) only ends itself.
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(64 * 1024)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    connections.shutdown().await;
    Ok(())
}
