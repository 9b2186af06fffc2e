//! Sockets, users and processes in plain words, for summaries and explanations that are
//! pasted into incident channels: every name passes through the sanitizer.

use crate::model::{Netns, NetnsId, Snapshot, Socket};
use crate::text::clean;
use std::collections::BTreeSet;

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

/// ` in namespace 'web'` (or `net:[ID]` when unnamed) for namespace `id`; nothing when the
/// snapshot holds one namespace.
pub fn in_netns(snap: &Snapshot, id: NetnsId) -> String {
    if snap.netns.len() <= 1 {
        return String::new();
    }
    match snap.netns.iter().find(|n| n.id == id) {
        Some(Netns { name: Some(n), .. }) => format!(" in namespace '{}'", clean(n)),
        _ => format!(" in namespace net:[{id}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::socket as sample;

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
}
