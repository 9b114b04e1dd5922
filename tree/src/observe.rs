//! Change subscriptions: local code asks to hear about changes under a URI and is told, after
//! each commit, what changed and by whom (needed for local applications, DM-HLF-016/017).
//! Changes rolled back (a failed `Atomic`, a refused TNDS import) are never reported.

use dm_protocol::uri::{NodeUri, Property};

use crate::principal::Principal;

/// Handle of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(pub(crate) u64);

/// What happened to a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// The node was created.
    Added,
    /// The leaf value (and possibly its Format/Type) was replaced.
    Replaced,
    /// The node and its subtree were deleted (one event for the subtree root).
    Deleted,
    /// The node was renamed; `uri` is the new URI.
    Renamed {
        /// The URI before the rename.
        from: NodeUri,
    },
    /// A run-time property (ACL or Title) was replaced.
    Property(Property),
}

/// One committed change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    /// The node changed (its new URI after a rename).
    pub uri: NodeUri,
    /// What changed.
    pub kind: ChangeKind,
    /// Who changed it.
    pub by: Principal,
}

#[derive(Debug)]
pub(crate) struct Subscription {
    pub id: SubscriptionId,
    pub prefix: NodeUri,
    pub queue: Vec<ChangeEvent>,
}

impl Subscription {
    /// Whether the event concerns this subscription: the node lies in the subscribed subtree,
    /// or a deleted/renamed ancestor took the subtree with it.
    pub fn wants(&self, ev: &ChangeEvent) -> bool {
        if ev.uri.starts_with(&self.prefix) {
            return true;
        }
        match &ev.kind {
            ChangeKind::Deleted => self.prefix.starts_with(&ev.uri),
            ChangeKind::Renamed { from } => {
                self.prefix.starts_with(from) || from.starts_with(&self.prefix)
            }
            _ => false,
        }
    }
}
