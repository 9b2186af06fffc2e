//! Collection: kernel sources → raw facts → the model.
//!
//! `raw` holds what the sources decode, `classify` and `join` are pure judgements over it,
//! `users` names uids, and `linux` holds the I/O and the collector that drives it.

pub mod changes;
pub mod classify;
pub mod holders;
pub mod join;
#[cfg(target_os = "linux")]
pub mod linux;
pub mod raw;
pub mod reasons;
pub mod runtime;
pub mod threads;
pub mod users;
