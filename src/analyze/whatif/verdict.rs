//! The question and the answer of the what-if as types: the bind asked about
//! ([`BindRequest`]), the errno and the call that returns it ([`BindResult`], [`Phase`]),
//! and the [`Verdict`] with the rule that decided ([`Explanation`]). The sockets, addresses,
//! options and rules behind a verdict are in [`super::cause`]; their words are in
//! `output::whatif`, the one place that writes them.

use super::cause::{Cause, NamespaceProblem, Note, Unknown};
use crate::model::{Proto, SocketId};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The bind to judge. The socket's family follows the address: IPv4 → AF_INET, IPv6
/// (v4-mapped included) → AF_INET6.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindRequest {
    pub proto: Proto,
    pub addr: IpAddr,
    pub port: u16,
    /// The `%name` of `[fe80::1%eth0]`: `sin6_scope_id`. Only link-local (and interface- or
    /// link-scope multicast) IPv6 addresses use it; the kernel ignores it elsewhere.
    #[serde(default)]
    pub scope_device: Option<String>,
    #[serde(default)]
    pub reuseaddr: bool,
    #[serde(default)]
    pub reuseport: bool,
    /// IPV6_V6ONLY set explicitly; `None`: the namespace's `net.ipv6.bindv6only`.
    #[serde(default)]
    pub v6only: Option<bool>,
    #[serde(default)]
    pub freebind: bool,
    #[serde(default)]
    pub transparent: bool,
    /// SO_BINDTODEVICE.
    #[serde(default)]
    pub device: Option<String>,
    /// The socket's uid (`sk_uid`: the fsuid of the process creating it).
    pub uid: u32,
    /// Also call listen() (TCP).
    #[serde(default)]
    pub listen: bool,
    /// The snapshot's sockets on this port are every socket that ever bound it (a fresh
    /// namespace, as `bindscope rules` makes one). Then the SO_REUSEPORT fast path of a
    /// TCP port can only have been set by one of them; on a live host it is left open.
    #[serde(default)]
    pub history_complete: bool,
}

impl BindRequest {
    /// Whether listen() is part of the question: asked for, and TCP (UDP has no listen()).
    pub fn listens(&self) -> bool {
        self.listen && self.proto == Proto::Tcp
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BindResult {
    #[serde(rename = "ok")]
    Ok,
    #[serde(rename = "EADDRINUSE")]
    Eaddrinuse,
    #[serde(rename = "EADDRNOTAVAIL")]
    Eaddrnotavail,
    #[serde(rename = "EACCES")]
    Eacces,
    #[serde(rename = "EINVAL")]
    Einval,
    /// IP_TRANSPARENT without CAP_NET_ADMIN/CAP_NET_RAW (setsockopt fails first).
    #[serde(rename = "EPERM")]
    Eperm,
    /// SO_BINDTODEVICE or a scope naming an interface the namespace does not have.
    #[serde(rename = "ENODEV")]
    Enodev,
    #[serde(rename = "uncertain")]
    Uncertain,
}

impl BindResult {
    /// The name used in JSON and text (the serde name).
    pub fn name(self) -> &'static str {
        match self {
            BindResult::Ok => "ok",
            BindResult::Eaddrinuse => "EADDRINUSE",
            BindResult::Eaddrnotavail => "EADDRNOTAVAIL",
            BindResult::Eacces => "EACCES",
            BindResult::Einval => "EINVAL",
            BindResult::Eperm => "EPERM",
            BindResult::Enodev => "ENODEV",
            BindResult::Uncertain => "uncertain",
        }
    }
}

/// The call that decides: a setsockopt before bind(), bind() or listen(). For `ok`, the
/// last call made (listen when asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Setsockopt,
    Bind,
    Listen,
}

impl Phase {
    /// The call as C programmers write it: `bind()`.
    pub fn call(self) -> &'static str {
        match self {
            Phase::Setsockopt => "setsockopt()",
            Phase::Bind => "bind()",
            Phase::Listen => "listen()",
        }
    }
}

/// The answer. Its JSON (`bindscope can-bind -f json`) is written by `output::whatif`,
/// with the explanation, the unknowns and the notes in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub result: BindResult,
    pub at: Phase,
    /// Sockets that refuse to share (for `uncertain`: that may refuse).
    pub blockers: Vec<SocketId>,
    /// The rule that decided, with the sockets, users and holders it names.
    pub explanation: Explanation,
    /// For `uncertain`: which inputs are missing (which option of which socket, which
    /// sysctl, the bind order).
    pub uncertain_because: Vec<Unknown>,
    /// For `uncertain`: the results that remain possible, in the kernel's check order.
    pub possible: Vec<BindResult>,
    /// Caveats that do not change the result (races, capabilities bindscope cannot see).
    pub notes: Vec<Note>,
}

/// Why the verdict is what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Explanation {
    /// A definite answer: the step that decided.
    Decided(Cause),
    /// Uncertain: every step that fails under some reading of the unknowns, in the kernel's
    /// order, and last what the walk reached when every unknown passed.
    Undecided(Vec<Outcome>),
    /// Uncertain before any check: the namespace's sockets and interfaces are unknown.
    CannotJudge(NamespaceProblem),
}

/// A definite result of one step of the walk, or of the whole walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub result: BindResult,
    pub at: Phase,
    pub blockers: Vec<SocketId>,
    pub cause: Cause,
}

impl Outcome {
    /// An outcome that no socket causes (an address, a port, an option; or ok).
    pub(super) fn new(result: BindResult, at: Phase, cause: Cause) -> Outcome {
        Outcome {
            result,
            at,
            blockers: Vec::new(),
            cause,
        }
    }
}
