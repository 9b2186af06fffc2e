//! Sockets, users and processes in plain words, for summaries and explanations that are
//! pasted into incident channels: every name passes through the sanitizer.

use crate::model::{Netns, NetnsId, Snapshot, Socket};
use crate::text::clean;
use std::collections::{BTreeSet, HashMap};

/// `tcp 0.0.0.0:8080`, `udp [::1]:53`, with `%dev` when device-bound.
pub fn endpoint(s: &Socket) -> String {
    let proto = s.proto.name();
    format!(
        "{proto} {}",
        crate::model::addr::endpoint(s.local_addr, s.local_port, s.device.as_deref())
    )
}

/// `alice (uid 1001)` or `uid 1001`.
pub fn user(name: Option<&str>, uid: u32) -> String {
    match name {
        Some(n) => format!("{} (uid {uid})", clean(n)),
        None => format!("uid {uid}"),
    }
}

/// The holders as `nginx[812] root, nginx[813] www-data`, or why there are none.
pub fn holders(s: &Socket) -> String {
    if s.holders.is_empty() {
        return if s.inode == 0 {
            "no process (kernel-held)".to_string()
        } else {
            "no visible process".to_string()
        };
    }
    let mut parts: Vec<String> = s
        .holders
        .iter()
        .map(|h| {
            let who = h
                .user
                .as_deref()
                .map(|u| clean(u).into_owned())
                .unwrap_or_else(|| format!("uid {}", h.uid));
            format!("{}[{}] {who}", clean(&h.name), h.pid)
        })
        .collect();
    parts.dedup();
    if parts.len() > 4 {
        let more = parts.len() - 3;
        parts.truncate(3);
        parts.push(format!("{more} more"));
    }
    parts.join(", ")
}

/// `tcp 0.0.0.0:8080 of alice (uid 1001), held by api[812] alice`.
pub fn socket(s: &Socket) -> String {
    format!(
        "{} of {}, held by {}",
        endpoint(s),
        user(s.user.as_deref(), s.uid),
        holders(s)
    )
}

/// The process names holding a socket, for summaries: `nginx`, `api, worker`.
pub fn process_names(s: &Socket) -> String {
    let names: BTreeSet<String> = s
        .holders
        .iter()
        .map(|h| clean(&h.name).into_owned())
        .collect();
    if names.is_empty() {
        "?".to_string()
    } else {
        names.into_iter().collect::<Vec<_>>().join(", ")
    }
}

/// The namespace of a socket in words: `in namespace 'web'`, or empty for a snapshot of one.
pub fn netns_of(snap: &Snapshot, s: &Socket) -> String {
    in_netns(snap, s.netns)
}

/// ` in namespace 'web'` (or its unquoted [`netns_label`] when nothing names it) for
/// namespace `id`; nothing when the snapshot holds one namespace.
pub fn in_netns(snap: &Snapshot, id: NetnsId) -> String {
    if snap.netns.len() <= 1 {
        return String::new();
    }
    match snap.netns.iter().find(|n| n.id == id) {
        Some(Netns { name: Some(n), .. }) => format!(" in namespace '{}'", clean(n)),
        _ => format!(" in namespace {}", netns_label(snap, id)),
    }
}

/// A namespace as every screen and export names it, sanitized: its name (`host`, an `ip
/// netns` name, the owner container's or its pod's label, a unit); for one nothing names,
/// `net:[ID] · socat (uid 1001)`: the process that holds most of its sockets, with its
/// uid, since an inode alone tells an admin nothing and the holder is usually what they
/// know it by; `net:[ID]` when no socket of it has a visible holder.
pub fn netns_label(snap: &Snapshot, id: NetnsId) -> String {
    let ns = snap.netns.iter().find(|n| n.id == id);
    if let Some(name) = given_name(ns) {
        return name;
    }
    let mut tally = HolderTally::default();
    for s in snap.sockets.iter().filter(|s| s.netns == id) {
        tally.add(s);
    }
    unnamed_label(id, tally.top())
}

/// [`netns_label`] of every namespace of the snapshot (and of any a socket names that the
/// namespace list lacks), in one pass over the sockets: for tables of 50,000 rows.
pub fn netns_labels(snap: &Snapshot) -> HashMap<NetnsId, String> {
    let mut tallies: HashMap<NetnsId, HolderTally> = HashMap::new();
    let named: HashMap<NetnsId, String> = snap
        .netns
        .iter()
        .filter_map(|n| Some((n.id, given_name(Some(n))?)))
        .collect();
    for s in &snap.sockets {
        if !named.contains_key(&s.netns) {
            tallies.entry(s.netns).or_default().add(s);
        }
    }
    let mut out = named;
    for n in &snap.netns {
        out.entry(n.id)
            .or_insert_with(|| unnamed_label(n.id, tallies.get(&n.id).and_then(|t| t.top())));
    }
    for (id, t) in &tallies {
        out.entry(*id)
            .or_insert_with(|| unnamed_label(*id, t.top()));
    }
    out
}

/// What names a namespace without looking at its sockets: its name, else its owner
/// container's label (a file whose collector left the name empty), else its unit.
fn given_name(ns: Option<&Netns>) -> Option<String> {
    let n = ns?;
    let name = match (&n.name, &n.container, &n.unit) {
        (Some(name), _, _) => name.clone(),
        (None, Some(c), _) => c.label(),
        (None, None, Some(u)) => u.clone(),
        (None, None, None) => return None,
    };
    Some(clean(&name).into_owned())
}

fn unnamed_label(id: NetnsId, top: Option<(&str, u32)>) -> String {
    match top {
        Some((name, uid)) => format!("net:[{id}] · {} (uid {uid})", clean(name)),
        None => format!("net:[{id}]"),
    }
}

/// Sockets per (process name, uid) among a namespace's holders; a process holding a
/// socket through several fds, or several processes of one name and uid, count it once.
#[derive(Default)]
struct HolderTally<'a> {
    counts: HashMap<(&'a str, u32), u32>,
}

impl<'a> HolderTally<'a> {
    fn add(&mut self, s: &'a Socket) {
        let mut seen: Vec<(&str, u32)> = Vec::new();
        for h in &s.holders {
            let key = (&*h.name, h.uid);
            if !seen.contains(&key) {
                seen.push(key);
                *self.counts.entry(key).or_default() += 1;
            }
        }
    }

    /// The most frequent; ties go to the smaller name, then uid, so the label is stable.
    fn top(&self) -> Option<(&'a str, u32)> {
        self.counts
            .iter()
            .max_by(|(ka, ca), (kb, cb)| ca.cmp(cb).then_with(|| kb.cmp(ka)))
            .map(|(k, _)| *k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Container, NetnsKind, Runtime};
    use crate::testing::{netns, snapshot_of, socket as sample};
    use std::sync::Arc;

    #[test]
    fn words_are_sanitized() {
        let s = sample();
        assert_eq!(endpoint(&s), "tcp [::]%lo:8080");
        assert_eq!(holders(&s), "web\\x1b[31m[42] www-data");
        assert_eq!(
            socket(&s),
            "tcp [::]%lo:8080 of alice (uid 1001), held by web\\x1b[31m[42] www-data"
        );
    }

    /// Three sockets in an unnamed namespace: socat of 1001 holds two, nc of 0 one.
    fn anonymous() -> Snapshot {
        let mut socks = Vec::new();
        for (i, (name, uid)) in [("socat", 1001), ("nc", 0), ("socat", 1001)]
            .into_iter()
            .enumerate()
        {
            let mut s = sample();
            s.id = crate::model::SocketId(format!("s{i}"));
            s.netns = NetnsId(9);
            s.holders[0].name = Arc::from(name);
            s.holders[0].uid = uid;
            // The same process twice (two fds) counts once.
            s.holders.push(s.holders[0].clone());
            socks.push(s);
        }
        let mut unnamed = netns(9, None, None);
        unnamed.kind = NetnsKind::Process;
        snapshot_of(socks, vec![netns(1, Some("host"), None), unnamed])
    }

    #[test]
    fn an_unnamed_namespace_is_named_by_its_commonest_holder() {
        let snap = anonymous();
        assert_eq!(netns_label(&snap, NetnsId(9)), "net:[9] · socat (uid 1001)");
        assert_eq!(netns_label(&snap, NetnsId(1)), "host");
        assert_eq!(
            in_netns(&snap, NetnsId(9)),
            " in namespace net:[9] · socat (uid 1001)"
        );
        let all = netns_labels(&snap);
        assert_eq!(
            all.get(&NetnsId(9)).map(String::as_str),
            Some("net:[9] · socat (uid 1001)")
        );
        assert_eq!(all.get(&NetnsId(1)).map(String::as_str), Some("host"));
        // No holders: the inode alone.
        let mut bare = snap.clone();
        for s in &mut bare.sockets {
            s.holders.clear();
        }
        assert_eq!(netns_label(&bare, NetnsId(9)), "net:[9]");
        assert_eq!(
            netns_labels(&bare).get(&NetnsId(9)).map(String::as_str),
            Some("net:[9]")
        );
        // A namespace only sockets name (not in the list) gets a label too.
        bare.netns.truncate(1);
        assert!(netns_labels(&bare).contains_key(&NetnsId(9)));
    }

    #[test]
    fn ties_are_stable_and_names_are_sanitized() {
        let mut snap = anonymous();
        snap.sockets[1].holders[0].name = Arc::from("a\x1b[2J");
        snap.sockets[1].holders[1].name = Arc::from("a\x1b[2J");
        snap.sockets[1].holders[0].uid = 7;
        snap.sockets[1].holders[1].uid = 7;
        snap.sockets.truncate(2);
        snap.sockets[0].holders.truncate(1);
        // socat(1001) and the hostile name (uid 7) hold one socket each: the smaller name.
        let label = netns_label(&snap, NetnsId(9));
        assert_eq!(label, "net:[9] · a\\x1b[2J (uid 7)");
        assert_eq!(netns_labels(&snap).get(&NetnsId(9)), Some(&label));
    }

    #[test]
    fn an_unnamed_namespace_with_an_owner_takes_its_label() {
        let mut snap = anonymous();
        snap.netns[1].container = Some(Container {
            runtime: Runtime::Docker,
            id: "02175b2a1941f7f7b1a4301c29df7bd0cbfb075bd2aa98a733d75725acb36a5f".into(),
            name: None,
            image: None,
            pod: None,
        });
        assert_eq!(netns_label(&snap, NetnsId(9)), "docker:02175b2a1941");
    }
}
