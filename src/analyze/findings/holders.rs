//! Facts about who holds sockets: sockets shared across users, and bound sockets whose
//! holder cannot be seen.

use super::PortUsers;
use super::fact::{Fact, HolderUnseen, Program, User};
use crate::analyze::ports::is_bind;
use crate::model::{NetnsId, Snapshot, Socket};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub fn facts(snap: &Snapshot) -> Vec<Fact<'_>> {
    let mut out: Vec<Fact> = snap
        .sockets
        .iter()
        .filter(|s| is_bind(s))
        .filter_map(|s| cross_user_socket(s).or_else(|| holder_unknown(s)))
        .collect();
    out.extend(shared_uid(snap));
    out
}

/// The processes of one user: pid → (program, parent pid).
type Processes<'s> = BTreeMap<u32, (&'s str, Option<u32>)>;

/// Users other than root whose receiving sockets are held by unrelated programs. Processes
/// are related when they run the same executable, when one is the parent of the other, or
/// when they hold the same socket (a fork); root is left out (it may do all of this anyway).
fn shared_uid(snap: &Snapshot) -> Vec<Fact<'_>> {
    // (uid, namespace) → its processes and its receiving sockets. Per namespace: programs
    // in other namespaces (containers) cannot join each other's SO_REUSEPORT groups.
    let mut by_uid: BTreeMap<(u32, NetnsId), (Processes, Vec<&Socket>)> = BTreeMap::new();
    let mut user_names: HashMap<u32, &str> = HashMap::new();
    let port_users = PortUsers::new(snap);
    for s in snap
        .sockets
        .iter()
        .filter(|s| is_bind(s) && s.remote_port.is_none() && !port_users.is_client_port(snap, s))
    {
        for h in s.holders.iter().filter(|h| h.uid != 0) {
            let program = h.exe.as_deref().unwrap_or(&h.name);
            let entry = by_uid.entry((h.uid, s.netns)).or_default();
            entry.0.insert(h.pid, (program, h.ppid));
            // Sockets come one at a time with all their holders: one already listed for
            // this user is the last one pushed. (A scan of the list here was a third of a
            // cold snapshot's CPU at 50,000 sockets: docs/perf/profile.md.)
            if entry.1.last().is_none_or(|t| t.id != s.id) {
                entry.1.push(s);
            }
            if let Some(u) = h.user.as_deref() {
                user_names.insert(h.uid, u);
            }
        }
    }
    let mut out = Vec::new();
    for ((uid, _), (procs, sockets)) in by_uid {
        let families = families(&procs, &sockets, uid);
        if families.len() < 2 {
            continue;
        }
        let reuseport = sockets
            .iter()
            .copied()
            .filter(|s| s.uid == uid && s.options.reuseport == Some(true))
            .collect();
        out.push(Fact::SharedUid {
            user: User {
                uid,
                name: user_names.get(&uid).copied(),
            },
            programs: families,
            sockets,
            reuseport,
        });
    }
    out
}

/// The processes of one user grouped into unrelated programs (union of: same executable,
/// parent and child, holders of one socket), each named by its first process's program.
fn families<'s>(procs: &Processes<'s>, sockets: &[&Socket], uid: u32) -> Vec<Program<'s>> {
    let pids: Vec<u32> = procs.keys().copied().collect();
    let mut root: HashMap<u32, u32> = pids.iter().map(|&p| (p, p)).collect();
    fn find(root: &mut HashMap<u32, u32>, p: u32) -> u32 {
        let mut r = p;
        while let Some(&up) = root.get(&r) {
            if up == r {
                break;
            }
            r = up;
        }
        root.insert(p, r);
        r
    }
    let join = |root: &mut HashMap<u32, u32>, a: u32, b: u32| {
        let (ra, rb) = (find(root, a), find(root, b));
        if ra != rb {
            root.insert(ra.max(rb), ra.min(rb));
        }
    };
    let mut first_of_program: HashMap<&str, u32> = HashMap::new();
    for (&pid, &(program, ppid)) in procs {
        if let Some(&other) = first_of_program.get(program) {
            join(&mut root, pid, other);
        } else {
            first_of_program.insert(program, pid);
        }
        if let Some(parent) = ppid.filter(|p| procs.contains_key(p)) {
            join(&mut root, pid, parent);
        }
    }
    for s in sockets {
        let holders: Vec<u32> = s
            .holders
            .iter()
            .filter(|h| h.uid == uid)
            .map(|h| h.pid)
            .collect();
        for w in holders.windows(2) {
            join(&mut root, w[0], w[1]);
        }
    }
    let mut out: BTreeMap<u32, Program<'s>> = BTreeMap::new();
    for (&pid, &(program, _)) in procs {
        let r = find(&mut root, pid);
        out.entry(r)
            .or_insert_with(|| Program {
                name: program,
                pids: Vec::new(),
            })
            .pids
            .push(pid);
    }
    out.into_values().collect()
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
