//! The standard MOs (facts §5): their DDFs (shipped in `docs/mo/`) and a builder for a
//! device's DevInfo, DevDetail, DMAcc and Inbox.
