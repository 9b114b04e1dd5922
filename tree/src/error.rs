//! Why a tree operation was refused, and the status code each reason maps to.

use dm_protocol::acl::AclCommand;
use dm_protocol::codes::StatusCode;
use dm_protocol::tnds::AccessRight;
use dm_protocol::uri::{Property, UriError};

use crate::store::StoreError;

/// A refused tree operation. Each variant maps to exactly one DM status code
/// ([`TreeError::status`]); the message says what was wrong and cites the fact sheet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    /// The URI is not a valid node URI (facts §4.1). Status 500, as libdmclient answers
    /// malformed URIs (IMPL, facts §4.1); 404 would claim the node was looked up.
    #[error("invalid node URI {uri:?}: {source}")]
    BadUri {
        /// The URI as received.
        uri: String,
        /// What is wrong with it.
        source: UriError,
    },
    /// The URI exceeds `./DevDetail/URI` limits (facts §4.1, §5.3). Status 414.
    #[error("URI {uri} exceeds the device's limits: {source}")]
    UriTooLong {
        /// The URI.
        uri: String,
        /// Which limit.
        source: UriError,
    },
    /// The node does not exist (facts §4.5). Status 404.
    #[error("no node at {uri}")]
    NotFound {
        /// The URI looked up.
        uri: String,
    },
    /// The node already exists (Add, facts §4.5) or a sibling has the new name (rename,
    /// facts §4.3). Status 418.
    #[error("{uri} already exists")]
    AlreadyExists {
        /// The existing node.
        uri: String,
    },
    /// The command is not allowed on this node for anyone. Status 405.
    #[error("{command} not allowed on {uri}: {reason}")]
    NotAllowed {
        /// The node.
        uri: String,
        /// The command.
        command: &'static str,
        /// Why.
        reason: NotAllowed,
    },
    /// The acting server lacks the ACL right (facts §4.4). Status 425.
    #[error("permission denied: {server:?} lacks {right} on {uri} (facts §4.4)")]
    PermissionDenied {
        /// The node whose effective ACL was checked.
        uri: String,
        /// The right that was needed.
        right: AclCommand,
        /// The ServerID.
        server: String,
    },
    /// An optional feature the device does not support (facts §4.3, §4.6). Status 406.
    #[error("not supported: {what}")]
    Unsupported {
        /// The feature.
        what: String,
    },
    /// The value or type does not fit the node's format, its DDF definition or the
    /// property's syntax. Status 415 (listed for Add and Replace in facts §3.2; 400 is not).
    #[error("bad value for {uri}: {reason}")]
    BadValue {
        /// The node.
        uri: String,
        /// What is wrong.
        reason: String,
    },
    /// The value is larger than allowed (e.g. a Title over 255 bytes, facts §4.3). Status 413.
    #[error("value for {uri} too large: {reason}")]
    TooLarge {
        /// The node.
        uri: String,
        /// The limit.
        reason: String,
    },
    /// A reassembled large object does not have its announced size (facts §8). Status 424.
    #[error("large object for {uri}: announced {expected} bytes, received {actual}")]
    SizeMismatch {
        /// The target node.
        uri: String,
        /// `Meta/Size` of the first chunk.
        expected: u64,
        /// Bytes received.
        actual: u64,
    },
    /// Refused for a non-ACL reason (facts §3.2 Copy/Exec). Status 403.
    #[error("{uri}: {reason}")]
    Forbidden {
        /// The node.
        uri: String,
        /// Why.
        reason: String,
    },
    /// An Exec handler or plug-in failed. Status 500.
    #[error("{uri}: command failed: {reason}")]
    Failed {
        /// The node.
        uri: String,
        /// Why.
        reason: String,
    },
    /// The user declined the change when asked (facts §3.4: the "no" answer to a 1101
    /// confirm is 304), e.g. a schedule whose `Prompt` is `create` (docs/scheduling.md).
    /// Status 304.
    #[error("{uri}: the user declined: {reason}")]
    Declined {
        /// The node.
        uri: String,
        /// What was asked.
        reason: String,
    },
    /// Persisting the change failed; nothing was changed. Status 510 (data store failure).
    #[error("could not persist the change: {0}")]
    Store(#[from] StoreError),
}

impl TreeError {
    /// The DM status code for this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            // facts §4.6: a `?list=` attribute the device does not support is 406.
            TreeError::BadUri {
                source: dm_protocol::uri::UriError::UnknownListAttribute { .. },
                ..
            } => StatusCode::OptionalFeatureNotSupported,
            TreeError::BadUri { .. } => StatusCode::CommandFailed,
            TreeError::UriTooLong { .. } => StatusCode::UriTooLong,
            TreeError::NotFound { .. } => StatusCode::NotFound,
            TreeError::AlreadyExists { .. } => StatusCode::AlreadyExists,
            TreeError::NotAllowed { .. } => StatusCode::CommandNotAllowed,
            TreeError::PermissionDenied { .. } => StatusCode::PermissionDenied,
            TreeError::Unsupported { .. } => StatusCode::OptionalFeatureNotSupported,
            TreeError::BadValue { .. } => StatusCode::UnsupportedMediaType,
            TreeError::TooLarge { .. } => StatusCode::RequestEntityTooLarge,
            TreeError::SizeMismatch { .. } => StatusCode::SizeMismatch,
            TreeError::Forbidden { .. } => StatusCode::Forbidden,
            TreeError::Failed { .. } => StatusCode::CommandFailed,
            TreeError::Declined { .. } => StatusCode::NotModified,
            TreeError::Store(_) => StatusCode::DataStoreFailure,
        }
    }

    /// A stable snake_case name for reports and vectors.
    pub fn kind(&self) -> &'static str {
        match self {
            TreeError::BadUri { .. } => "bad_uri",
            TreeError::UriTooLong { .. } => "uri_too_long",
            TreeError::NotFound { .. } => "not_found",
            TreeError::AlreadyExists { .. } => "already_exists",
            TreeError::NotAllowed { .. } => "not_allowed",
            TreeError::PermissionDenied { .. } => "permission_denied",
            TreeError::Unsupported { .. } => "unsupported",
            TreeError::BadValue { .. } => "bad_value",
            TreeError::TooLarge { .. } => "too_large",
            TreeError::SizeMismatch { .. } => "size_mismatch",
            TreeError::Forbidden { .. } => "forbidden",
            TreeError::Failed { .. } => "failed",
            TreeError::Declined { .. } => "declined",
            TreeError::Store(_) => "store",
        }
    }
}

/// Why a command is not allowed on a node (status 405), with the fact it follows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotAllowed {
    /// The root cannot be deleted or renamed (facts §4.5, §4.3).
    #[error("the root node cannot be deleted or renamed (facts §4.5)")]
    Root,
    /// Permanent nodes cannot be deleted or renamed by a server (facts §4.2).
    #[error("the node is permanent (facts §4.2)")]
    Permanent,
    /// A node cannot be added under a leaf (facts §4.2).
    #[error("the parent is a leaf node (facts §4.2)")]
    ParentIsLeaf,
    /// An interior node has no value to Replace, Copy or read as data (facts §4.2, §4.5).
    #[error("the node is an interior node (facts §4.2, §4.5)")]
    Interior,
    /// Nothing under `./Inbox` can be read (facts §4.5, §5.5).
    #[error("Get on ./Inbox or below is not allowed (facts §5.5)")]
    Inbox,
    /// The property is read-only, or properties cannot take this command (facts §4.3).
    #[error("property {0} does not accept this command (facts §4.3)")]
    Property(Property),
    /// The DDF `AccessType` of the node lacks this command (facts §4.2, §9.1).
    #[error("the MO definition's AccessType lacks {} (facts §9.1)", .0.as_str())]
    AccessType(AccessRight),
    /// The node's MO does not define a node of this name here (facts §9.1).
    #[error("the MO definition has no node of this name here (facts §9.1)")]
    NotInMo,
    /// The MO definition's `Occurrence` allows no further (or no fewer) instances (facts §9.1).
    #[error("the MO definition's Occurrence {0} would be violated (facts §9.1)")]
    Occurrence(String),
    /// The MO fixes the name of this node; it cannot be renamed (facts §9.1).
    #[error("the MO definition fixes this node's name (facts §9.1)")]
    FixedName,
    /// The root ACL must stay non-empty with `Add=*` (facts §4.4).
    #[error("the root ACL must stay non-empty and keep Add=* (facts §4.4)")]
    RootAcl,
    /// No Exec handler is registered for the node.
    #[error("the node is not executable")]
    NotExecutable,
    /// `Get` and `Exec` cannot run inside `Atomic`, nor can `Atomic` nest (facts §2.6); reported
    /// with status 500 by the processor, kept here for callers of the node API.
    #[error("not allowed inside Atomic (facts §2.6)")]
    InsideAtomic,
    /// Copy works on leaf nodes only in DM 1.2 (facts §4.5).
    #[error("Copy works on leaf nodes only (facts §4.5)")]
    CopyInterior,
}
