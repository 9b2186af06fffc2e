//! Findings about who holds sockets: sockets shared across users, and bound sockets whose
//! holder cannot be seen.

use super::finding;
use crate::analyze::describe::{self, endpoint};
use crate::analyze::ports::is_bind;
use crate::model::FindingKind;
use crate::model::{Finding, Severity, Snapshot, Socket};
use std::collections::BTreeSet;

pub fn findings(snap: &Snapshot) -> Vec<Finding> {
    snap.sockets
        .iter()
        .filter(|s| is_bind(s))
        .filter_map(|s| cross_user_socket(snap, s).or_else(|| holder_unknown(snap, s)))
        .collect()
}

/// One socket held by processes of different users, or whose socket uid is not its holders'.
fn cross_user_socket(snap: &Snapshot, s: &Socket) -> Option<Finding> {
    if s.holders.is_empty() {
        return None;
    }
    let holder_uids: BTreeSet<u32> = s.holders.iter().map(|h| h.uid).collect();
    let foreign_owner = !holder_uids.contains(&s.uid);
    if holder_uids.len() < 2 && !foreign_owner {
        return None;
    }
    let users: Vec<String> = holder_uids
        .iter()
        .map(|u| {
            let name = s
                .holders
                .iter()
                .find(|h| h.uid == *u)
                .and_then(|h| h.user.as_deref());
            describe::user(name, *u)
        })
        .collect();
    let why = if foreign_owner {
        format!(
            "The socket was created by {} but is held only by other users: the fd was passed (socket activation, \
             SCM_RIGHTS) or the creator dropped privileges. SO_REUSEPORT compares the socket's uid, not the holders': \
             only sockets created by {} can join its port.",
            describe::user(s.user.as_deref(), s.uid),
            describe::user(s.user.as_deref(), s.uid)
        )
    } else {
        "Processes of different users hold the same socket (a privileged parent and unprivileged workers, or an \
         inherited fd). Each of them can accept, read and close it."
            .to_string()
    };
    Some(finding(
        FindingKind::CrossUserSocket,
        Severity::Info,
        &[s],
        format!(
            "{}{} is held by {} (socket of {})",
            endpoint(s),
            describe::netns_of(snap, s),
            users.join(", "),
            describe::user(s.user.as_deref(), s.uid)
        ),
        format!(
            "{}. {why} Usually intended; if a worker should not be able to accept on this socket, close it in the worker.",
            describe::socket(s)
        ),
    ))
}

/// A bound socket with no visible holder.
fn holder_unknown(snap: &Snapshot, s: &Socket) -> Option<Finding> {
    if !s.holders.is_empty() {
        return None;
    }
    let (severity, why) = match (&s.holders_unknown, s.inode) {
        (_, 0) => (
            Severity::Notice,
            "Its inode is 0: no file refers to it. The kernel holds it (an in-kernel server such as nfsd or ksmbd), or it is \
             an orphan left behind."
                .to_string(),
        ),
        (Some(reason), _) => (
            Severity::Info,
            format!(
                "No process visible to bindscope holds it: {reason}. Run bindscope with the privileges it names to see the holder."
            ),
        ),
        (None, _) => (
            Severity::Notice,
            "Every process was readable and none holds it: it belongs to a process in another PID namespace that is \
             not visible from here, or to the kernel."
                .to_string(),
        ),
    };
    Some(finding(
        FindingKind::HolderUnknown,
        severity,
        &[s],
        format!(
            "{}{} has no visible holder",
            endpoint(s),
            describe::netns_of(snap, s)
        ),
        format!(
            "{} (socket of {}). {why}",
            endpoint(s),
            describe::user(s.user.as_deref(), s.uid)
        ),
    ))
}
