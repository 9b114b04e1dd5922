//! TCP listener with project-defined framing (TCP/IP as a notification transport is
//! DM13-WID-1.3; facts §7.3 defines no raw-TCP binding).
//!
//! A connection carries frames: a 2-byte big-endian length `L` (1..=`max_bytes`), then `L`
//! bytes of package #0. The listener reads frames until the peer closes; nothing is ever
//! written back. Peers are bounded: each frame must arrive whole within `read_timeout`
//! (also the idle limit before the next frame), a length above `max_bytes` or 0 ends the
//! connection, and at most `max_connections` are served at once.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use super::accept::accept_loop;
use super::config::TcpConfig;
use super::sink::Sink;
use super::verify::{RejectReason, Transport};

/// Accept connections until the task is aborted (which also aborts every connection).
pub(crate) async fn serve(listener: TcpListener, config: TcpConfig, sink: Arc<Sink>) {
    let limit = config.max_connections;
    let handle = {
        let sink = Arc::clone(&sink);
        move |stream, peer| {
            let (config, sink) = (config.clone(), Arc::clone(&sink));
            async move {
                serve_connection(stream, peer, &config, &sink).await;
            }
        }
    };
    accept_loop(listener, Transport::Tcp, limit, sink, handle).await;
}

/// How reading a fixed number of bytes ended when it did not complete.
enum Short {
    /// The peer closed after `got` bytes.
    Eof { got: usize },
    /// The deadline passed after `got` bytes.
    Timeout { got: usize },
    /// A read failed.
    Io(io::Error),
}

/// Fill `buf` before `deadline`.
async fn read_full(stream: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> Result<(), Short> {
    let mut got = 0;
    while got < buf.len() {
        let Some(rest) = buf.get_mut(got..) else {
            break;
        };
        match tokio::time::timeout_at(deadline, stream.read(rest)).await {
            Err(_) => return Err(Short::Timeout { got }),
            Ok(Err(e)) => return Err(Short::Io(e)),
            Ok(Ok(0)) => return Err(Short::Eof { got }),
            Ok(Ok(n)) => got += n,
        }
    }
    Ok(())
}

/// Read and deliver frames until the peer closes, stalls or breaks the framing.
async fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    config: &TcpConfig,
    sink: &Sink,
) {
    let timeout_ms = config.read_timeout_ms;
    let reject = |reason| sink.reject(Transport::Tcp, peer, reason);
    let short = |s: Short, expected: usize, before: usize| match s {
        Short::Eof { got } => RejectReason::Truncated {
            expected,
            got: before + got,
        },
        Short::Timeout { got } => RejectReason::Timeout {
            timeout_ms,
            got: before + got,
        },
        Short::Io(e) => RejectReason::Io {
            message: e.to_string(),
        },
    };
    let mut frames = 0usize;
    loop {
        let deadline = Instant::now() + config.read_timeout();
        let mut prefix = [0u8; 2];
        match read_full(&mut stream, &mut prefix, deadline).await {
            Ok(()) => {}
            // A clean close between frames ends the connection.
            Err(Short::Eof { got: 0 }) => return,
            // Idle after at least one frame: close quietly, nothing was lost.
            Err(Short::Timeout { got: 0 }) if frames > 0 => return,
            Err(s) => return reject(short(s, 2, 0)),
        }
        let len = usize::from(u16::from_be_bytes(prefix));
        if len == 0 {
            return reject(RejectReason::EmptyFrame);
        }
        if len > config.max_bytes {
            return reject(RejectReason::Oversize {
                size: len,
                limit: config.max_bytes,
            });
        }
        let mut body = vec![0u8; len];
        if let Err(s) = read_full(&mut stream, &mut body, deadline).await {
            return reject(short(s, len + 2, 2));
        }
        frames += 1;
        let _ = sink.deliver(&body, Transport::Tcp, peer);
    }
}
