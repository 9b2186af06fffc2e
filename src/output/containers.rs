//! Which container a socket belongs to, for every table and export: the containers of its
//! holders, else the owner of its namespace. One rule, so the table's CONTAINER column,
//! the dashboard, CSV and Prometheus never disagree.

use crate::model::{Container, NetnsId, Snapshot, Socket};
use crate::text::clean;
use std::collections::HashMap;

/// The owner container of each namespace that has one.
pub fn owners(snap: &Snapshot) -> HashMap<NetnsId, &Container> {
    snap.netns
        .iter()
        .filter_map(|n| Some((n.id, n.container.as_ref()?)))
        .collect()
}

/// A socket's containers: its holders', each once, in holder order; when it has no holder
/// in a container, the owner of its namespace (`owner`). A host-network container's socket
/// sits in the host namespace, which no container owns: its holder names the container.
/// A socket with holders none of which is in a container, in a namespace a container owns
/// (a process that entered it with `nsenter`), still belongs to that container's network.
pub fn of_socket<'a>(s: &'a Socket, owner: Option<&'a Container>) -> Vec<&'a Container> {
    let mut out: Vec<&Container> = Vec::new();
    for c in s.holders.iter().filter_map(|h| h.container.as_deref()) {
        if !out.iter().any(|o| same(o, c)) {
            out.push(c);
        }
    }
    if out.is_empty() {
        out.extend(owner);
    }
    out
}

/// One container whether a file wrote it once or a holder and a namespace each hold a copy.
pub fn same(a: &Container, b: &Container) -> bool {
    a.runtime == b.runtime && a.id == b.id
}

/// The cell of a CONTAINER column: `web`, `web +1` (more containers hold it), or empty.
/// Sanitized: names come from runtime state files anyone who can run a container writes.
pub fn cell(list: &[&Container]) -> String {
    match list {
        [] => String::new(),
        [one] => clean(&one.label()).into_owned(),
        [first, rest @ ..] => format!("{} +{}", clean(&first.label()), rest.len()),
    }
}

/// [`cell`] of [`of_socket`].
pub fn socket_cell(s: &Socket, owner: Option<&Container>) -> String {
    cell(&of_socket(s, owner))
}

/// A namespace's owner and the count of the others living in it: `web +2`, or empty.
pub fn netns_cell(owner: Option<&Container>, members: &[Container]) -> String {
    let Some(first) = owner.or(members.first()) else {
        return String::new();
    };
    let others = members.iter().filter(|m| !same(m, first)).count();
    if others == 0 {
        clean(&first.label()).into_owned()
    } else {
        format!("{} +{others}", clean(&first.label()))
    }
}

/// `web · docker 02175b2a1941 · image nginx:1.25 · pod default/api`: everything known of a
/// container, sanitized, for detail panes and reports.
pub fn describe(c: &Container) -> String {
    let mut out = format!(
        "{} · {} {}",
        clean(&c.label()),
        c.runtime.name(),
        clean(c.short_id())
    );
    if let Some(i) = &c.image {
        out.push_str(&format!(" · image {}", clean(i)));
    }
    if let Some(p) = &c.pod {
        out.push_str(&format!(" · pod {}", clean(&p.label())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Pod, Runtime};
    use crate::testing::{container, socket};
    use std::sync::Arc;

    #[test]
    fn holders_first_then_the_namespace_owner() {
        let web = container(Runtime::Docker, "web");
        let side = container(Runtime::Docker, "side");
        let mut s = socket();
        // No holder in a container: the owner.
        assert_eq!(socket_cell(&s, Some(&web)), "web");
        assert_eq!(socket_cell(&s, None), "");
        // A holder in one: that one, whatever owns the namespace (host network).
        s.holders[0].container = Some(Arc::new(side.clone()));
        assert_eq!(socket_cell(&s, Some(&web)), "side");
        assert_eq!(socket_cell(&s, None), "side");
        // Two holders in one container count once; a third in another is `+1`.
        s.holders.push(s.holders[0].clone());
        assert_eq!(socket_cell(&s, None), "side");
        let mut other = s.holders[0].clone();
        other.container = Some(Arc::new(web.clone()));
        s.holders.push(other);
        assert_eq!(socket_cell(&s, None), "side +1");
        assert_eq!(of_socket(&s, None).len(), 2);
    }

    #[test]
    fn labels_fall_back_to_the_short_id_and_are_sanitized() {
        let mut c = container(Runtime::Podman, "p\x1b[2Jweb");
        assert_eq!(cell(&[&c]), "p\\x1b[2Jweb");
        c.name = None;
        assert_eq!(cell(&[&c]), format!("podman:{}", &c.id[..12]));
        c.image = Some("localhost/bs:1".into());
        c.pod = Some(Pod {
            namespace: Some("default".into()),
            name: "api".into(),
        });
        assert_eq!(
            describe(&c),
            format!(
                "podman:{0} · podman {0} · image localhost/bs:1 · pod default/api",
                &c.id[..12]
            )
        );
    }

    #[test]
    fn a_namespace_shows_its_owner_and_how_many_more() {
        let web = container(Runtime::Docker, "web");
        let side = container(Runtime::Docker, "side");
        assert_eq!(netns_cell(None, &[]), "");
        assert_eq!(netns_cell(Some(&web), std::slice::from_ref(&web)), "web");
        assert_eq!(
            netns_cell(Some(&web), &[web.clone(), side.clone()]),
            "web +1"
        );
        // An old file: members but no owner.
        assert_eq!(netns_cell(None, &[side, web]), "side +1");
    }
}
