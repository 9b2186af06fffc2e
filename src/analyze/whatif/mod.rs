//! The can-bind what-if: would `bind(addr, port)` (and `listen()`) by a socket of `uid` with
//! these options succeed now, in this namespace; if not, with which errno and because of which
//! sockets (linux-bind-semantics.md §6).
//!
//! The checks run in the kernel's order (`__inet_bind`, `__inet6_bind`, then `get_port`), so
//! the first failing step gives the errno. Every step is three-valued: when the snapshot lacks
//! an input that the decision needs (an option that could not be read, a sysctl, the order
//! in which sockets were bound), the verdict is `uncertain` and says which input; a definite
//! answer is only given when every reading of the unknowns agrees.
//!
//! Where the kernel disagrees with the semantics doc, the kernel wins; each case is marked
//! "KERNEL:" where it is decided and was measured on 6.18 (see tests/whatif_differential.rs).
//!
//! The verdict is data: the errno, the call, and the rule with the sockets, addresses and
//! options it names ([`Cause`], [`Note`], [`Unknown`]). Its words, for the terminal, the JSON
//! and the dashboard, are written in one place: `output::whatif`.
//!
//! - [`verdict`]: the request and the verdict's types
//! - [`cause`]: the rules, caveats and unknowns a verdict carries
//! - `order`: the walk through the checks in the kernel's order ([`can_bind`])
//! - `address`: may the namespace bind this address at all
//! - `port`, `tcp`, `udp`: the conflicts on the port
//! - `endpoint`: `ADDR:PORT` as people type it ([`parse_endpoint`])

mod address;
pub mod cause;
mod endpoint;
mod order;
mod port;
mod tcp;
mod udp;
pub mod verdict;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;

pub use cause::{
    Cause, InUse, Lack, NamespaceProblem, Note, Refusal, RefusalRule, ShareRule, Sharer, Unknown,
    V4Accepted, V6Unusable,
};
pub use endpoint::{EndpointError, EndpointErrorKind, parse_endpoint};
pub use order::can_bind;
pub use verdict::{BindRequest, BindResult, Explanation, Outcome, Phase, Verdict};
