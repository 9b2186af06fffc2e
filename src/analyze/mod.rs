//! Judgement over snapshots, pure functions only: which binds overlap and who receives what,
//! which ports another user could take, which listeners fall behind, and "can I bind here?".
//! The rules are linux-bind-semantics.md (§ numbers cited where used).

pub mod describe;
pub mod diff;
pub mod findings;
pub mod history;
pub mod lookup;
pub mod overlap;
pub mod ports;
pub mod rules;
pub mod whatif;
