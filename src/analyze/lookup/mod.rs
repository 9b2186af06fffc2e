//! The kernel's socket lookup for new traffic, as docs/lookup (issue 14) measured it on 6.18
//! and `predict()` / `chain_orders()` of `tests/helpers/lookup/run_lookup.py` model it: two
//! passes (the exact destination address, then the wildcard), `compute_score` per protocol
//! and family, a strictly higher score replacing the best, the SO_REUSEPORT early return,
//! and the hash chain order for ties, taken from the sock_diag dump (`Socket::dump_pos`).
//! What no dump shows (the IPv4/IPv6 interleaving of a UDP chain, options not read, files
//! without positions) is tried every possible way: answers that differ make a route
//! `certain: false` naming every candidate.
//!
//! Pure: sockets in, routes out.

mod chain;
mod entry;
mod routes;
mod score;
mod unknowns;
mod walk;
mod words;

pub use entry::Entry;
pub use routes::{Route, routes};

#[cfg(test)]
mod tests;
