//! Package #0 notification listeners (facts §7): UDP, TCP and HTTP, each optional.
//!
//! Every received package #0 goes through one [`Verifier`]: structure and version
//! (facts §7.1), the account by ServerID through an [`AccountLookup`], the digest with the
//! stored server nonce and then the resync nonce `0x00000000` (facts §7.2), and repeat
//! suppression within a window (facts §7.3, DMRD-6.1.1.1-2). What passes comes out of
//! [`Notifications::verified`] as a [`VerifiedNotification`], with the `SyncHdr/SessionID`
//! already in its facts §7.3 form; everything else comes out of
//! [`Notifications::rejected`] as a [`RejectedNotification`] with a typed
//! [`RejectReason`]. A bad notification never stops a listener.
//!
//! ```no_run
//! # async fn demo(accounts: std::sync::Arc<dyn dm_client::listener::AccountLookup>)
//! # -> Result<(), dm_client::listener::ListenerError> {
//! use std::sync::Arc;
//! use dm_client::listener::{self, NotificationConfig, UdpConfig};
//!
//! let config = NotificationConfig {
//!     udp: Some(UdpConfig { bind: "127.0.0.1:0".parse().expect("address"), max_bytes: 1024 }),
//!     ..NotificationConfig::default()
//! };
//! let (listeners, mut notifications) =
//!     listener::start(&config, accounts, Arc::new(dm_tree::SystemClock)).await?;
//! println!("UDP on {:?}", listeners.udp_addr());
//! while let Some(n) = notifications.verified.recv().await {
//!     println!("start a session with {} as SessionID {}", n.server_id, n.session_id);
//! }
//! # Ok(()) }
//! ```

mod accept;
mod config;
mod dedupe;
mod http;
mod sink;
mod tcp;
mod udp;
mod verify;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use dm_tree::Clock;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use config::{
    HttpConfig, NotificationConfig, ResyncReading, TcpConfig, UdpConfig,
    DEFAULT_DEDUPE_WINDOW_SECS, DEFAULT_MAX_BYTES, MAX_READ_TIMEOUT_MS,
};
pub use dedupe::{Dedupe, DedupeKey};
pub use http::NOTIFICATION_MIME;
pub use verify::{
    AccountLookup, RejectReason, RejectedNotification, ServerCredentials, Transport,
    VerifiedNotification, Verifier,
};

use sink::Sink;

/// Why the listeners could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListenerError {
    /// A setting has a value the listeners cannot work with.
    #[error("invalid notification setting `{field}`: {reason}")]
    InvalidConfig {
        /// The setting, as named in the `[notification]` profile table.
        field: String,
        /// What is wrong and what would be accepted.
        reason: String,
    },
    /// A socket could not be bound (address in use, no permission, no such interface).
    #[error("cannot bind the {transport} notification listener to {addr}: {source}")]
    Bind {
        /// Which listener.
        transport: Transport,
        /// The configured address.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

impl ListenerError {
    /// A stable snake_case name for the error.
    pub fn kind(&self) -> &'static str {
        match self {
            ListenerError::InvalidConfig { .. } => "invalid_config",
            ListenerError::Bind { .. } => "bind",
        }
    }
}

/// The two output queues of the listeners.
#[derive(Debug)]
pub struct Notifications {
    /// Notifications that passed verification, in arrival order.
    pub verified: mpsc::Receiver<VerifiedNotification>,
    /// The rejection log. Entries are dropped when it is full, so read it or drop it.
    pub rejected: mpsc::Receiver<RejectedNotification>,
}

/// The running listeners. Dropping this (or [`Listeners::shutdown`]) stops them all and
/// closes their connections.
#[derive(Debug)]
pub struct Listeners {
    udp: Option<SocketAddr>,
    tcp: Option<SocketAddr>,
    http: Option<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl Listeners {
    /// The address the UDP listener is bound to (the real port when 0 was configured).
    pub fn udp_addr(&self) -> Option<SocketAddr> {
        self.udp
    }

    /// The address the TCP listener is bound to.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp
    }

    /// The address the HTTP listener is bound to.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http
    }

    /// Stop every listener and wait until their sockets are closed.
    pub async fn shutdown(mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Validate `config`, bind every configured listener and start serving on the current tokio
/// runtime. `accounts` is asked for every notification's ServerID; `clock` stamps
/// notifications and drives the dedupe window.
///
/// Either all configured listeners start or none does.
pub async fn start(
    config: &NotificationConfig,
    accounts: Arc<dyn AccountLookup>,
    clock: Arc<dyn Clock>,
) -> Result<(Listeners, Notifications), ListenerError> {
    config.validate()?;
    let bind_error = |transport, addr| {
        move |source| ListenerError::Bind {
            transport,
            addr,
            source,
        }
    };
    let udp = match &config.udp {
        Some(c) => {
            let socket = UdpSocket::bind(c.bind)
                .await
                .map_err(bind_error(Transport::Udp, c.bind))?;
            let addr = socket
                .local_addr()
                .map_err(bind_error(Transport::Udp, c.bind))?;
            Some((socket, addr, c.clone()))
        }
        None => None,
    };
    let tcp = match &config.tcp {
        Some(c) => {
            let listener = TcpListener::bind(c.bind)
                .await
                .map_err(bind_error(Transport::Tcp, c.bind))?;
            let addr = listener
                .local_addr()
                .map_err(bind_error(Transport::Tcp, c.bind))?;
            Some((listener, addr, c.clone()))
        }
        None => None,
    };
    let http = match &config.http {
        Some(c) => {
            let listener = TcpListener::bind(c.bind)
                .await
                .map_err(bind_error(Transport::Http, c.bind))?;
            let addr = listener
                .local_addr()
                .map_err(bind_error(Transport::Http, c.bind))?;
            Some((listener, addr, c.clone()))
        }
        None => None,
    };

    let (verified_tx, verified) = mpsc::channel(config.queue_capacity);
    let (rejected_tx, rejected) = mpsc::channel(config.queue_capacity);
    let verifier = Verifier::new(
        accounts,
        config.decode_options(),
        config.resync_nonces(),
        config.dedupe_window_secs,
    );
    let sink = Arc::new(Sink::new(verifier, clock, verified_tx, rejected_tx));

    let mut listeners = Listeners {
        udp: None,
        tcp: None,
        http: None,
        tasks: Vec::new(),
    };
    if let Some((socket, addr, c)) = udp {
        listeners.udp = Some(addr);
        listeners
            .tasks
            .push(tokio::spawn(udp::serve(socket, c, Arc::clone(&sink))));
    }
    if let Some((listener, addr, c)) = tcp {
        listeners.tcp = Some(addr);
        listeners
            .tasks
            .push(tokio::spawn(tcp::serve(listener, c, Arc::clone(&sink))));
    }
    if let Some((listener, addr, c)) = http {
        listeners.http = Some(addr);
        listeners
            .tasks
            .push(tokio::spawn(http::serve(listener, c, Arc::clone(&sink))));
    }
    Ok((listeners, Notifications { verified, rejected }))
}

#[cfg(test)]
mod tests;
