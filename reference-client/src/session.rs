//! Session engine (in progress).
