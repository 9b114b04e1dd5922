//! Where the listeners hand their bytes: the shared [`Verifier`], the clock and the two
//! output queues. Nothing here blocks or waits: a full queue never stalls a listener.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use dm_tree::Clock;
use tokio::sync::mpsc::{self, error::TrySendError};

use super::verify::{
    RejectReason, RejectedNotification, Transport, VerifiedNotification, Verifier,
};

/// The verifier and the output queues, shared by every listener task.
pub(crate) struct Sink {
    verifier: Mutex<Verifier>,
    clock: Arc<dyn Clock>,
    verified: mpsc::Sender<VerifiedNotification>,
    rejected: mpsc::Sender<RejectedNotification>,
}

impl Sink {
    /// A sink over `verifier` sending into the two queues.
    pub(crate) fn new(
        verifier: Verifier,
        clock: Arc<dyn Clock>,
        verified: mpsc::Sender<VerifiedNotification>,
        rejected: mpsc::Sender<RejectedNotification>,
    ) -> Self {
        Sink {
            verifier: Mutex::new(verifier),
            clock,
            verified,
            rejected,
        }
    }

    /// Verify one package #0 and queue the result: the notification on success, a
    /// rejection otherwise (the rejection is also returned, for the HTTP answer).
    pub(crate) fn deliver(
        &self,
        bytes: &[u8],
        transport: Transport,
        peer: SocketAddr,
    ) -> Result<(), RejectReason> {
        let now = self.clock.now_unix();
        // The verifier never panics, but a poisoned lock must not stop the listeners either.
        let mut verifier = self.verifier.lock().unwrap_or_else(PoisonError::into_inner);
        let result = verifier.check(bytes, transport, peer, now);
        let outcome = match result {
            Ok(n) => match self.verified.try_send(n) {
                Ok(()) => Ok(()),
                Err(TrySendError::Full(n) | TrySendError::Closed(n)) => {
                    // Not delivered: let the server's next attempt through.
                    verifier.forget(&n);
                    Err(RejectReason::QueueFull)
                }
            },
            Err(reason) => Err(reason),
        };
        drop(verifier);
        if let Err(reason) = &outcome {
            self.reject_at(transport, peer, reason.clone(), now);
        }
        outcome
    }

    /// Log a rejection that happened before verification (framing, size, timeouts, HTTP).
    pub(crate) fn reject(&self, transport: Transport, peer: SocketAddr, reason: RejectReason) {
        self.reject_at(transport, peer, reason, self.clock.now_unix());
    }

    fn reject_at(&self, transport: Transport, peer: SocketAddr, reason: RejectReason, at: u64) {
        // A full or closed rejection queue drops the entry: the log must never stall a
        // listener.
        let _ = self.rejected.try_send(RejectedNotification {
            transport,
            peer,
            reason,
            at,
        });
    }
}
