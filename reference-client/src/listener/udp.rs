//! UDP listener: one datagram = one package #0 (facts §7.1; UDP as a notification transport
//! is DM13-WID-1.5).

use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;

use super::config::UdpConfig;
use super::sink::Sink;
use super::verify::{RejectReason, Transport};

/// The largest UDP payload; the receive buffer holds any datagram whole, so an oversize one
/// is reported with its real size.
const MAX_DATAGRAM: usize = 65_536;

/// Receive datagrams until the task is aborted. Each is verified on its own; nothing is
/// sent back. Receive errors (e.g. ICMP-triggered resets) are skipped after a short pause.
pub(crate) async fn serve(socket: UdpSocket, config: UdpConfig, sink: Arc<Sink>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, peer) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if len > config.max_bytes {
            sink.reject(
                Transport::Udp,
                peer,
                RejectReason::Oversize {
                    size: len,
                    limit: config.max_bytes,
                },
            );
            continue;
        }
        let _ = sink.deliver(buf.get(..len).unwrap_or_default(), Transport::Udp, peer);
    }
}
