//! Package #0 out: build a General Notification Initiated Session Alert for a device (facts
//! §7.1, §7.2) and deliver it to one of its notification addresses — a UDP datagram, a TCP
//! frame (2-byte big-endian length, then the package) or an HTTP `POST` of
//! `application/vnd.syncml.notification`: the framings the reference client's listeners
//! accept (docs/reference-client.md "Notifications"). TCP and HTTP bindings are
//! project-defined; facts §7.3 names WAP Push, SMS and OBEX, which need a network operator.

use std::time::Duration;

use dm_protocol::pkg0::{self, Initiator, Notification};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};

use crate::http_client::{request, HttpClientError};
use crate::model::{Device, DeviceState, NotifyAddress, NotifyTransport, UiMode};

/// The package #0 MIME type (facts §1.1).
pub const NOTIFICATION_MIME: &str = "application/vnd.syncml.notification";

/// Why a notification could not be built or delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// The device has no notification address (of the asked transport).
    #[error("device {dev_id} has no {what} notification address; add one to the device")]
    NoAddress {
        /// The device.
        dev_id: String,
        /// `udp`, `tcp`, `http` or empty for any.
        what: String,
    },
    /// The device has no server credentials: the digest needs the password (facts §7.2).
    #[error(
        "device {0} has no server_auth: a package #0 digest needs the server password (facts §7.2)"
    )]
    NoServerSecret(String),
    /// The package could not be built (e.g. a ServerID longer than 255 bytes, facts §7.1).
    #[error("cannot build the package #0: {0}")]
    Build(#[from] pkg0::Pkg0Error),
    /// The address is not usable.
    #[error("notification address {address:?}: {reason}")]
    BadAddress {
        /// The address.
        address: String,
        /// What is wrong.
        reason: String,
    },
    /// Sending failed.
    #[error("sending the notification to {address} over {transport} failed: {reason}")]
    Send {
        /// The address.
        address: String,
        /// `udp`, `tcp` or `http`.
        transport: &'static str,
        /// The cause.
        reason: String,
    },
    /// The HTTP listener refused it.
    #[error("the device's HTTP listener at {address} answered {status}: {body}")]
    Refused {
        /// The address.
        address: String,
        /// The HTTP status.
        status: u16,
        /// Its one-line reason.
        body: String,
    },
}

/// The notification for `device`: its ServerID, `session_id` (1..=0xFFFF), `ui_mode`,
/// initiator server, version 11, and the digest over the server password and the nonce the
/// device last issued to the server (facts §7.2; empty if none yet).
pub fn build(
    device: &Device,
    state: &DeviceState,
    session_id: u16,
    ui_mode: UiMode,
) -> Result<Vec<u8>, NotifyError> {
    let secret = device
        .server_auth
        .as_ref()
        .ok_or_else(|| NotifyError::NoServerSecret(device.dev_id.clone()))?;
    let n = Notification {
        digest: [0; 16],
        version: pkg0::VERSION_11,
        ui_mode: ui_mode.into(),
        initiator: Initiator::Server,
        session_id,
        server_id: device.server_id.clone(),
        vendor: Vec::new(),
    };
    Ok(n.build(&secret.secret, &state.server_nonce)?)
}

/// The address to use: the first of `transport`, or the first of all when `None`.
pub fn pick(
    device: &Device,
    transport: Option<NotifyTransport>,
) -> Result<&NotifyAddress, NotifyError> {
    device
        .notify
        .iter()
        .find(|a| transport.is_none_or(|t| a.transport == t))
        .ok_or_else(|| NotifyError::NoAddress {
            dev_id: device.dev_id.clone(),
            what: transport.map(transport_name).unwrap_or_default().to_owned(),
        })
}

/// The transport's name.
pub fn transport_name(t: NotifyTransport) -> &'static str {
    match t {
        NotifyTransport::Udp => "udp",
        NotifyTransport::Tcp => "tcp",
        NotifyTransport::Http => "http",
    }
}

/// Deliver `bytes` to `to` within `timeout`.
pub async fn deliver(
    to: &NotifyAddress,
    bytes: &[u8],
    timeout: Duration,
) -> Result<(), NotifyError> {
    let transport = transport_name(to.transport);
    let fail = |reason: String| NotifyError::Send {
        address: to.address.clone(),
        transport,
        reason,
    };
    let work = async {
        match to.transport {
            NotifyTransport::Udp => {
                let sock = UdpSocket::bind(("0.0.0.0", 0))
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                sock.send_to(bytes, to.address.as_str())
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                Ok(())
            }
            NotifyTransport::Tcp => {
                let len = u16::try_from(bytes.len()).map_err(|_| {
                    fail(format!(
                        "{} bytes do not fit the 2-byte frame length",
                        bytes.len()
                    ))
                })?;
                let mut s = TcpStream::connect(to.address.as_str())
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                let mut frame = len.to_be_bytes().to_vec();
                frame.extend_from_slice(bytes);
                s.write_all(&frame).await.map_err(|e| fail(e.to_string()))?;
                s.shutdown().await.map_err(|e| fail(e.to_string()))?;
                Ok(())
            }
            NotifyTransport::Http => {
                let answer = request("POST", &to.address, Some(NOTIFICATION_MIME), bytes.to_vec())
                    .await
                    .map_err(|e| match e {
                        HttpClientError::Url { reason, .. } => NotifyError::BadAddress {
                            address: to.address.clone(),
                            reason,
                        },
                        other => fail(other.to_string()),
                    })?;
                if (200..300).contains(&answer.status) {
                    Ok(())
                } else {
                    Err(NotifyError::Refused {
                        address: to.address.clone(),
                        status: answer.status,
                        body: String::from_utf8_lossy(&answer.body).trim().to_owned(),
                    })
                }
            }
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| fail(format!("no answer within {timeout:?}")))?
}

/// The admin API's [`crate::admin::Notifier`]: builds the package for the device (digest
/// over its current server nonce, facts §7.2), picks a session id when none is asked for
/// (random, 1..=0xFFFF, facts §7.1) and delivers it within `timeout`.
pub struct PackageNotifier {
    timeout: Duration,
    ids: std::sync::Mutex<dm_protocol::auth::NonceGenerator>,
}

impl std::fmt::Debug for PackageNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackageNotifier")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PackageNotifier {
    /// A notifier giving each delivery `timeout`; session ids from `seed` (replayable) or
    /// from the operating system.
    pub fn new(timeout: Duration, seed: Option<u64>) -> Self {
        let ids = match seed {
            Some(s) => dm_protocol::auth::NonceGenerator::from_seed(s),
            None => dm_protocol::auth::NonceGenerator::from_entropy(),
        };
        PackageNotifier {
            timeout,
            ids: std::sync::Mutex::new(ids),
        }
    }

    fn session_id(&self) -> u16 {
        let n = match self.ids.lock() {
            Ok(mut g) => g.next_nonce(),
            Err(p) => p.into_inner().next_nonce(),
        };
        u16::from_be_bytes([n[0], n[1]]).max(1)
    }
}

impl crate::admin::Notifier for PackageNotifier {
    fn notify<'a>(
        &'a self,
        device: &'a Device,
        state: &'a DeviceState,
        address: &'a NotifyAddress,
        request: &'a crate::model::NotifyRequest,
    ) -> crate::admin::NotifyFuture<'a> {
        Box::pin(async move {
            let sid = request.session_id.unwrap_or_else(|| self.session_id());
            let bytes = build(device, state, sid, request.ui_mode).map_err(|e| e.to_string())?;
            deliver(address, &bytes, self.timeout)
                .await
                .map_err(|e| e.to_string())?;
            Ok(crate::model::NotifyOutcome::new(
                address.transport,
                address.address.clone(),
                sid,
            ))
        })
    }
}
