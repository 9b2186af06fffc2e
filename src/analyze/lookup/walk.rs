//! One lookup: the two passes over chains in a given order (docs/lookup §1.1, §1.2,
//! `predict()`).

use super::entry::Known;
use super::score::{floor, score};
use crate::model::{Family, Proto, SocketId};

/// Which pass found the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pass {
    /// The destination address itself (pass 1).
    Exact,
    /// The wildcard (pass 2): only when nothing is bound to the address itself.
    Wildcard,
}

/// Who receives: one socket, or a SO_REUSEPORT group (its members, sorted), each packet
/// going to one member by a hash of its addresses and ports.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Receiver {
    One(SocketId),
    Group(Vec<SocketId>),
}

impl Receiver {
    pub fn ids(&self) -> Vec<SocketId> {
        match self {
            Receiver::One(id) => vec![id.clone()],
            Receiver::Group(ids) => ids.clone(),
        }
    }
}

/// The outcome of one lookup: nothing (refused / dropped), or the pass and the receiver.
pub type Outcome = Option<(Pass, Receiver)>;

/// One packet: its family, the arrival device (`None`: a device no socket is bound to),
/// and the socket given the per-CPU bonus (`sk_incoming_cpu` equal to the CPU that
/// processes it), if any.
#[derive(Debug, Clone, Copy)]
pub(super) struct Packet<'d> {
    pub proto: Proto,
    pub family: Family,
    pub dev: Option<&'d str>,
    pub cpu_bonus: Option<&'d SocketId>,
}

/// The walk of one chain (`inet_lhash2_lookup`, `udp4_lib_lookup2` and their IPv6 twins):
/// a socket replaces the best only with a strictly higher score; one with SO_REUSEPORT
/// that does returns its group at once, the rest of the chain unseen.
pub(super) fn walk(p: &Packet<'_>, chain: &[Known<'_, '_>]) -> Option<Receiver> {
    let mut best = floor(p.proto, p.family);
    let mut result = None;
    for k in chain {
        let bonus = p.cpu_bonus == Some(k.e.id);
        let Some(sc) = score(p.proto, p.family, k, p.dev, bonus) else {
            continue;
        };
        if sc > best {
            if k.rp {
                let mut ids: Vec<SocketId> = chain
                    .iter()
                    .filter(|m| m.rp && m.group_key() == k.group_key())
                    .map(|m| m.e.id.clone())
                    .collect();
                ids.sort();
                return Some(if ids.len() == 1 {
                    Receiver::One(k.e.id.clone())
                } else {
                    Receiver::Group(ids)
                });
            }
            result = Some(Receiver::One(k.e.id.clone()));
            best = sc;
        }
    }
    result
}

/// Both passes: the exact chain first; the wildcard chain only if it found nothing.
pub(super) fn lookup(p: &Packet<'_>, exact: &[Known<'_, '_>], wild: &[Known<'_, '_>]) -> Outcome {
    if let Some(r) = walk(p, exact) {
        return Some((Pass::Exact, r));
    }
    walk(p, wild).map(|r| (Pass::Wildcard, r))
}
