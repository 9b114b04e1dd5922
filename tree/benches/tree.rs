//! Benchmarks of the tree engine (placeholder: none yet).
fn main() {}
