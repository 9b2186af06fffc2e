//! Facts about who holds sockets: sockets shared across users, and bound sockets whose
//! holder cannot be seen.

use super::fact::{Fact, HolderUnseen, User};
use crate::analyze::ports::is_bind;
use crate::model::{Snapshot, Socket};
use std::collections::BTreeSet;

pub fn facts(snap: &Snapshot) -> Vec<Fact<'_>> {
    snap.sockets
        .iter()
        .filter(|s| is_bind(s))
        .filter_map(|s| cross_user_socket(s).or_else(|| holder_unknown(s)))
        .collect()
}

/// One socket held by processes of different users, or whose socket uid is not its holders'.
fn cross_user_socket(s: &Socket) -> Option<Fact<'_>> {
    if s.holders.is_empty() {
        return None;
    }
    let holder_uids: BTreeSet<u32> = s.holders.iter().map(|h| h.uid).collect();
    let foreign_owner = !holder_uids.contains(&s.uid);
    if holder_uids.len() < 2 && !foreign_owner {
        return None;
    }
    let holders = holder_uids
        .into_iter()
        .map(|uid| User {
            uid,
            name: s
                .holders
                .iter()
                .find(|h| h.uid == uid)
                .and_then(|h| h.user.as_deref()),
        })
        .collect();
    Some(Fact::CrossUserSocket {
        socket: s,
        owner: User::of_socket(s),
        holders,
        foreign_owner,
    })
}

/// A bound socket with no visible holder.
fn holder_unknown(s: &Socket) -> Option<Fact<'_>> {
    if !s.holders.is_empty() {
        return None;
    }
    let why = match (&s.holders_unknown, s.inode) {
        (_, 0) => HolderUnseen::KernelHeld,
        (Some(reason), _) => HolderUnseen::Unreadable(reason),
        (None, _) => HolderUnseen::NotVisible,
    };
    Some(Fact::HolderUnknown { socket: s, why })
}
