//! `dm-tree`: the device management tree of an OMA DM 1.2 device.
//!
//! A [`Tree`] holds interior and leaf nodes with their run-time properties (facts §4.2, §4.3),
//! enforces ACLs per ServerID (§4.4) and the MO definitions loaded from DDF documents (§9.1),
//! and answers every tree command with the status code the fact sheet requires (§3.2, §4.5,
//! §4.6). It is sans-IO apart from the optional SQLite [`store`]: time comes from an injectable
//! [`Clock`], so results are reproducible.
//!
//! Layers, bottom up:
//! - [`Tree`] primitives with an undo log: every operation runs in a transaction, nested
//!   operations in savepoints, so a failed implicit add or TNDS import leaves nothing behind
//!   and `Atomic` can roll back (§2.6);
//! - node operations ([`Tree::add`], [`Tree::get`], [`Tree::replace`], [`Tree::delete`],
//!   [`Tree::copy`], [`Tree::exec`], properties and `?list=` queries) taking the acting
//!   [`Principal`];
//! - [`Processor`]: dm-protocol commands (including `Atomic`, `Sequence` and chunked large
//!   objects, §8) in, per-item statuses and Results items out — what a client session needs;
//! - plug-ins ([`MoPlugin`]): [`ExecHandler`]s registered per URI pattern, write
//!   [`Validator`]s per subtree, Inbox routes by MO type, change subscriptions
//!   ([`ChangeEvent`]).
//!
//! See `docs/tree.md` for the model, the ACL rules with examples and the persistence format.
//! "facts §N" cites the project's protocol fact sheet.

mod clock;
mod error;
mod exec;
mod list;
mod node;
mod observe;
mod ops;
mod plugin;
mod principal;
mod process;
mod props;
pub mod schema;
pub mod standard;
pub mod store;
mod tnds_io;
mod tree;

pub use clock::{format_tstamp, parse_tstamp, Clock, ManualClock, SystemClock};
pub use error::{NotAllowed, TreeError};
pub use exec::{Completion, ExecCall, ExecHandler, ExecOutcome};
pub use list::{ListItem, ListOutput};
pub use node::{LeafValue, NodeInfo, NodeKind};
pub use observe::{ChangeEvent, ChangeKind, SubscriptionId};
pub use ops::{GetResult, NewNode, ReplaceValue};
pub use plugin::{ChangeCommand, MoPlugin, ProposedChange, Validator};
pub use principal::Principal;
pub use process::{AlertAnswer, CommandHooks, CommandOutcome, ItemStatus, NoHooks, Processor};
pub use tnds_io::ImportMode;
pub use tree::{Faults, Tree, TreeConfig};
