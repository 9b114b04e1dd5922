//! Benchmarks of the tree engine (placeholder; see docs/performance.md).
fn main() {}
