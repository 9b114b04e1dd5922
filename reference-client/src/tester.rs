//! Tester hooks: script the device side of a session from a test without forking the engine.
//!
//! The driver ([`crate::driver::run_with`]) calls a [`TesterHooks`] at each step of every
//! client message: to change the message before it is encoded (wrong references, stale or
//! wrong credentials, extra or malformed commands), to replace its bytes or HTTP headers
//! (malformed messages, wrong HMAC), to wait before sending, to drop the connection instead
//! of sending or after sending, and to observe every received message. Every method has a
//! no-op default, so a test implements only what it needs; [`NoTester`] implements none.

use std::time::Duration;

use dm_protocol::model::SyncMl;

/// What to do with a client message about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SendAction {
    /// Send it and process the answer (the normal case).
    #[default]
    Send,
    /// Do not send it: the session ends as if the connection was lost before the message
    /// (facts §2.3: unsignalled aborts must be tolerated by the server).
    DropBeforeSend,
    /// Send it, then ignore the server's answer and end the session, as if the connection
    /// was lost right after the request went out.
    DropAfterSend,
}

/// Where the tester dropped the session (see [`SendAction`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// Our MsgID of the message concerned.
    pub msg_id: String,
    /// `DropBeforeSend` or `DropAfterSend`.
    pub action: SendAction,
}

/// Hooks a test passes to the driver to make the device misbehave on purpose. Methods are
/// called in this order for each client message: [`TesterHooks::abort_instead`],
/// [`TesterHooks::before_encode`],
/// [`TesterHooks::replace_bytes`], [`TesterHooks::edit_headers`],
/// [`TesterHooks::send_action`], [`TesterHooks::delay_before_send`]; then
/// [`TesterHooks::on_received`] for the answer.
pub trait TesterHooks: Send {
    /// Abort the session instead of sending this message: the engine turns it into an
    /// Alert 1223 message (see [`crate::session::Session::abort`]), which goes through the
    /// other hooks like any message; the session then ends with
    /// [`crate::session::EndReason::AbortedByClient`].
    fn abort_instead(&mut self, _msg: &SyncMl) -> bool {
        false
    }

    /// Change the message before it is encoded (the engine's state is not affected).
    fn before_encode(&mut self, _msg: &mut SyncMl) {}

    /// Bytes to send instead of the encoded message (e.g. a malformed message); `None`
    /// sends the encoded message. The HMAC header is computed over the bytes actually sent.
    fn replace_bytes(&mut self, _msg: &SyncMl, _encoded: &[u8]) -> Option<Vec<u8>> {
        None
    }

    /// Change the HTTP headers the engine wants to send (e.g. a wrong `x-syncml-hmac`).
    fn edit_headers(&mut self, _msg: &SyncMl, _headers: &mut Vec<(String, String)>) {}

    /// Whether to send this message, drop the connection instead, or drop it after sending.
    fn send_action(&mut self, _msg: &SyncMl) -> SendAction {
        SendAction::Send
    }

    /// How long to wait before sending (real time: the server's timeouts are real).
    fn delay_before_send(&mut self, _msg: &SyncMl) -> Option<Duration> {
        None
    }

    /// See every received message: its exact bytes and, if it decoded, the message.
    fn on_received(&mut self, _bytes: &[u8], _decoded: Option<&SyncMl>) {}
}

/// Tester hooks that do nothing: the device behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTester;

impl TesterHooks for NoTester {}
