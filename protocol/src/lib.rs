//! `dm-protocol`: the sans-IO core of the OMA DM conformance suite.
//!
//! Everything both reference peers and the harness share: the SyncML DM 1.2 message model, its
//! XML and WBXML codecs, security primitives, package #0, node URIs, ACLs and TNDS/DDF
//! documents. No sockets, no async runtime, no clock: callers bring those.
//!
//! Layering: bytes are decoded into a [`dom::Element`] tree by [`xml`] or [`wbxml`]; the typed
//! models are mapped from and to that tree. Facts cited as "facts §N" refer to the project's
//! protocol fact sheet (`shared/docs/omadm-facts.md`).

pub mod acl;
pub mod auth;
pub mod codec;
pub mod codes;
pub mod dom;
pub mod model;
pub mod packing;
pub mod pkg0;
pub mod swpkg;
pub mod tnds;
pub mod uri;
pub mod violation;
pub mod wbxml;
pub mod xml;
