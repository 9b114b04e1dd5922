//! The accept loop the stream listeners (TCP, HTTP) share: at most `max_connections`
//! connections at once, extra ones closed at once and reported, accept errors (out of
//! descriptors, a reset before accept) waited out.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::sink::Sink;
use super::verify::{RejectReason, Transport};

/// Accept connections until the task is aborted (which also aborts every connection),
/// serving each with `handle`.
pub(crate) async fn accept_loop<F, Fut>(
    listener: TcpListener,
    transport: Transport,
    max_connections: usize,
    sink: Arc<Sink>,
    handle: F,
) where
    F: Fn(TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(max_connections));
    let mut connections = JoinSet::new();
    loop {
        // Reap finished connection tasks so the set does not grow.
        while connections.try_join_next().is_some() {}
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            sink.reject(
                transport,
                peer,
                RejectReason::TooManyConnections {
                    limit: max_connections,
                },
            );
            drop(stream);
            continue;
        };
        let served = handle(stream, peer);
        connections.spawn(async move {
            served.await;
            drop(permit);
        });
    }
}
