//! Deliberate server misbehaviours (issue item 9): switches a tester turns on to prove that a
//! device under test notices a broken server. All off by default; each names the rule of the
//! fact sheet it breaks, and `docs/reference-server-engine.md` lists what the device sees.

use serde::{Deserialize, Serialize};

/// Fault-injection switches of one server session. All `false` by default: the server
/// follows every rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerFaults {
    /// Accept any device credentials (wrong or missing) as if they were right: 212 (200 for
    /// HMAC). Breaks facts §6.2 (401/407 with a Chal for bad or missing credentials).
    pub accept_bad_credentials: bool,
    /// Put a wrong `MsgRef` (the device's MsgID with `9` appended) in every Status we send.
    /// Breaks facts §1.4 (`MsgRef` = MsgID of the message holding the referenced command).
    pub ignore_msg_ref: bool,
    /// Never put `Final` in our messages. Breaks facts §2.4 (the last message of a package
    /// carries `Final`) and so facts §2.2 (the device cannot see the session end).
    pub never_final: bool,
    /// Send no Status for the device's Alerts (1200/1201, 1222, 1224, 1226). Breaks facts §2.4
    /// (Status MUST be sent for Alert) and facts §3.5 (a Generic Alert is answered 200/202).
    pub no_status_for_alerts: bool,
    /// Issue the old nonce again instead of a fresh one in every `Chal` we send, and keep it
    /// as the device's next nonce. Breaks facts §6.2 (new, unpredictable nonce per session;
    /// for HMAC per message).
    pub stale_nonce: bool,
    /// Send no credentials to the device although `Device::server_auth` is set. Breaks facts
    /// §6.2 (both ends must be authenticated): a strict device answers 407 and executes
    /// nothing.
    pub no_server_credentials: bool,
    /// Send management commands in the answer to a non-final device message. Breaks facts
    /// §2.4 (the "next message" response holds only Status and Alert 1222).
    pub commands_in_next_message_response: bool,
    /// `dm-server serve` with `--tls-cert`/`--tls-key` answers in plain HTTP on its DM
    /// endpoint while its URL still says `https://` (a server without working HTTPS). Breaks
    /// DMRD-6.3.1.2-4 (the server supports HTTPS) and facts §6.4. Read by the endpoint
    /// set-up, not by the session engine.
    pub no_tls: bool,
}
