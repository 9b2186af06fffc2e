//! The words of every finding, in one place: a summary line and an explanation in plain
//! words (who, what, why, what to do) for each fact, and for a group of facts merged into
//! one finding. Pure: fact and snapshot in, text out. The snapshot is only asked how to
//! name namespaces (a snapshot of one namespace does not name it). Every name from the
//! host passes through `describe`, which sanitizes it.

mod addresses;
mod binds;
mod holders;
mod queues;

use super::fact::Fact;
use crate::analyze::describe;
use crate::model::{Snapshot, Socket};

/// What a finding says: the file format's `summary` and `explanation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    pub summary: String,
    pub explanation: String,
}

/// The words of one fact.
pub fn of(fact: &Fact, snap: &Snapshot) -> Words {
    match fact {
        Fact::WildcardOverlap {
            proto,
            port,
            sockets,
            users,
            routes,
            multicast,
        } => binds::wildcard_overlap(snap, *proto, *port, sockets, users, routes, *multicast),
        Fact::ReuseportGroup {
            proto,
            members,
            uid,
        } => binds::reuseport_group(snap, *proto, members, *uid),
        Fact::FamilySplit {
            proto,
            port,
            open,
            receivers,
            ..
        } => binds::family_split(snap, *proto, *port, *open, receivers),
        Fact::CrossUserPort {
            proto,
            port,
            members,
            users,
            udp_overlap,
            multicast,
            held_by_one,
        } => binds::cross_user_port(
            snap,
            *proto,
            *port,
            members,
            users,
            *udp_overlap,
            *multicast,
            *held_by_one,
        ),
        Fact::UdpReuseaddrTakeover {
            socket,
            unprivileged_from,
            multicast,
        } => binds::udp_reuseaddr_takeover(snap, socket, *unprivileged_from, *multicast),
        Fact::ListenRace { socket } => binds::listen_race(snap, socket),
        Fact::DeviceGap { socket, device } => binds::device_gap(snap, socket, device),
        Fact::AcceptQueueGrowing {
            socket,
            first,
            last,
            samples,
        } => queues::accept_queue_growing(snap, socket, first, last, *samples),
        Fact::AcceptQueueFull {
            socket,
            queue,
            overflows,
        } => queues::accept_queue_full(snap, socket, queue, *overflows),
        Fact::OverflowsUnseen { netns, rise } => queues::overflows_unseen(netns, *rise),
        Fact::SynBacklog {
            socket,
            syn_recv,
            backlog,
            defer_accept,
            shared,
        } => queues::syn_backlog(snap, socket, *syn_recv, *backlog, *defer_accept, *shared),
        Fact::SynQueueOverflow {
            netns,
            drops,
            cookies,
            at_limit,
        } => queues::syn_queue_overflow(netns, *drops, *cookies, at_limit),
        Fact::BlockingListener { socket, acceptors } => {
            queues::blocking_listener(snap, socket, *acceptors)
        }
        Fact::NonlocalBind { socket, allowed_by } => {
            addresses::nonlocal_bind(snap, socket, *allowed_by)
        }
        Fact::TentativeBind { socket, problem } => {
            addresses::tentative_bind(snap, socket, *problem)
        }
        Fact::StuckAddress {
            netns,
            interface,
            address,
            problem,
        } => addresses::stuck_address(snap, netns, interface, address, *problem),
        Fact::CrossUserSocket {
            socket,
            owner,
            holders,
            foreign_owner,
        } => holders::cross_user_socket(snap, socket, owner, holders, *foreign_owner),
        Fact::HolderUnknown { socket, why } => holders::holder_unknown(snap, socket, *why),
        Fact::SharedUid {
            user,
            programs,
            sockets,
            reuseport,
        } => holders::shared_uid(user, programs, sockets, reuseport),
    }
}

/// How many sockets of a merged group its explanation names before it counts the rest.
const GROUP_LISTED: usize = 20;

/// The words of many findings of one kind merged into one: `first` is the first finding's
/// words, `sockets` every socket of the group (those of the first finding first).
pub fn of_group(first: &Words, sockets: &[&Socket]) -> Words {
    let owner = match sockets.first() {
        Some(s) if !s.holders.is_empty() => format!("of {}", describe::holders(s)),
        _ => "with no visible holder".to_string(),
    };
    let listed: Vec<String> = sockets
        .iter()
        .take(GROUP_LISTED)
        .map(|s| describe::endpoint(s))
        .collect();
    let more = sockets.len().saturating_sub(listed.len());
    Words {
        summary: format!("{} sockets {owner}: {}", sockets.len(), first.summary),
        explanation: format!(
            "{}\nThe same holds for every socket of this group: {}{}.",
            first.explanation,
            listed.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ),
    }
}

#[cfg(test)]
mod tests;
