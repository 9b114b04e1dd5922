//! Who performs an operation.

use std::fmt;

/// The actor of a tree operation: a DM server (identified by its ServerID, facts §4.4) whose
/// rights the ACLs and the DDF restrict, or the device's own code, which is not restricted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// A DM server, by the ServerID bound to its session through authentication.
    Server(String),
    /// Local device code (bootstrap, MO plug-ins, applications): no ACL or DDF checks.
    Local,
}

impl Principal {
    /// A server principal.
    pub fn server(id: impl Into<String>) -> Self {
        Principal::Server(id.into())
    }

    /// The ServerID, if a server.
    pub fn server_id(&self) -> Option<&str> {
        match self {
            Principal::Server(s) => Some(s),
            Principal::Local => None,
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::Server(s) => write!(f, "server {s:?}"),
            Principal::Local => f.write_str("the device"),
        }
    }
}
