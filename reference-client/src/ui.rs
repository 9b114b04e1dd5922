//! UI alert policy (in progress).
