//! Tester hooks: script the server side of a session from a harness without forking the
//! engine (issue item 9).
//!
//! The engine calls a [`ServerTester`] for every device message it receives
//! ([`ServerTester::on_received`]) and for every message it answers with:
//! [`ServerTester::inject`] (extra commands), [`ServerTester::before_encode`] (change the
//! message), then [`ServerTester::replace_bytes`] (send other bytes). The engine's own state
//! (what it sent, which CmdIDs await a Status) is taken before the hooks run, so a hook that
//! breaks a message tests the device, not the engine. Every method has a no-op default.

use dm_protocol::model::{Command, SyncMl};

/// Hooks a test gives the engine with
/// [`ServerSession::set_tester`](super::ServerSession::set_tester).
pub trait ServerTester: Send {
    /// See every device message: its exact bytes and the decoded message.
    fn on_received(&mut self, _bytes: &[u8], _msg: &SyncMl) {}

    /// Commands to add at the end of the next reply, after the engine's own (CmdIDs are
    /// renumbered to stay unique). They are not attributed to any job: their Statuses are
    /// only visible through [`ServerTester::on_received`].
    fn inject(&mut self, _next_msg_id: &str) -> Vec<Command> {
        Vec::new()
    }

    /// Change the reply before it is encoded.
    fn before_encode(&mut self, _msg: &mut SyncMl) {}

    /// Bytes to send instead of the encoded reply (e.g. malformed XML); `None` keeps them.
    /// The HMAC header is computed over the bytes actually sent.
    fn replace_bytes(&mut self, _msg: &SyncMl, _encoded: &[u8]) -> Option<Vec<u8>> {
        None
    }
}

/// Tester hooks that do nothing: the server behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTester;

impl ServerTester for NoTester {}
