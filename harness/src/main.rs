//! The `dmconf` binary.
fn main() {}
