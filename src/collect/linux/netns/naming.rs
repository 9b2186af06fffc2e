//! Naming a namespace after what runs in it: the containers and systemd units of its
//! processes' cgroups.

use crate::collect::linux::procfs::{ProcRoot, parse_cgroup_unit};
use std::collections::HashMap;

/// At most this many processes' `cgroup` files are read to name one namespace.
const MAX_CGROUP_READS: usize = 20;

#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Owners {
    pub container: Option<String>,
    pub unit: Option<String>,
}

/// Read the `cgroup` file of the first `MAX_CGROUP_READS` of `pids` and pick the owners.
/// A process that exited meanwhile is skipped silently (it was already counted as living in
/// the namespace); other failures are warnings.
pub(super) fn read_owners(root: &ProcRoot, pids: &[u32], warnings: &mut Vec<String>) -> Owners {
    let mut found = Vec::new();
    for &pid in pids.iter().take(MAX_CGROUP_READS) {
        let path = root.path().join(format!("{pid}/cgroup"));
        match std::fs::read(&path) {
            Ok(bytes) => found.extend(parse_cgroup_unit(&String::from_utf8_lossy(&bytes))),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ESRCH)) => {}
            Err(e) => warnings.push(format!("{}: {e}", path.display())),
        }
    }
    choose_owners(&found)
}

/// The pure part of [`read_owners`]: `found` holds [`parse_cgroup_unit`] results in pid
/// order.
fn choose_owners(found: &[String]) -> Owners {
    let containers: Vec<&str> = found
        .iter()
        .filter(|s| is_container(s))
        .map(|s| pod_of(s))
        .collect();
    let units: Vec<&str> = found
        .iter()
        .filter(|s| !is_container(s))
        .map(String::as_str)
        .collect();
    let strong: Vec<&str> = units.iter().copied().filter(|u| !is_weak_unit(u)).collect();
    let unit = most_common(&strong).or_else(|| most_common(&units));
    Owners {
        container: most_common(&containers).map(str::to_owned),
        unit: unit.map(str::to_owned),
    }
}

/// A [`parse_cgroup_unit`] result naming a container rather than a systemd unit.
pub(super) fn is_container(s: &str) -> bool {
    let unit_suffix = [".service", ".scope", ".socket"]
        .iter()
        .any(|suffix| s.ends_with(suffix));
    !unit_suffix
        && ["docker:", "containerd:", "podman:", "k8s-pod:"]
            .iter()
            .any(|p| s.starts_with(p))
}

/// `k8s-pod:UID/CONTAINER` → `k8s-pod:UID`: the network namespace is the pod's.
pub(super) fn pod_of(s: &str) -> &str {
    if s.starts_with("k8s-pod:") {
        s.split_once('/').map_or(s, |(pod, _)| pod)
    } else {
        s
    }
}

/// Units every login or user manager has; only used when nothing more specific is found.
fn is_weak_unit(u: &str) -> bool {
    u == "init.scope"
        || (u.starts_with("user@") && u.ends_with(".service"))
        || (u.starts_with("session-") && u.ends_with(".scope"))
}

/// The most frequent item; ties go to the one seen first.
fn most_common<'a>(items: &[&'a str]) -> Option<&'a str> {
    let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        counts.entry(item).or_insert((0, i)).0 += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
        .map(|(item, _)| item)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(choose_owners(&[]), Owners::default());
        // the most common unit, weak ones only as a fallback
        let o = choose_owners(&s(&[
            "session-3.scope",
            "session-3.scope",
            "session-3.scope",
            "b.service",
            "a.service",
            "a.service",
        ]));
        assert_eq!(o.unit.as_deref(), Some("a.service"));
        assert_eq!(o.container, None);
        let o = choose_owners(&s(&[
            "init.scope",
            "user@1000.service",
            "user@1000.service",
        ]));
        assert_eq!(o.unit.as_deref(), Some("user@1000.service"));
        // tie: first seen (lowest pid)
        let o = choose_owners(&s(&["y.service", "x.service"]));
        assert_eq!(o.unit.as_deref(), Some("y.service"));
        // containers win over units, pods are shortened
        let o = choose_owners(&s(&[
            "k8s-pod:0f1e/3f2a1b4c5d6e",
            "k8s-pod:0f1e/aaaaaaaaaaaa",
            "docker:bbbbbbbbbbbb",
            "libpod-conmon-x.scope",
        ]));
        assert_eq!(o.container.as_deref(), Some("k8s-pod:0f1e"));
        assert_eq!(o.unit.as_deref(), Some("libpod-conmon-x.scope"));
        // a unit whose name merely starts like a container
        assert!(!is_container("docker:x.service"));
        assert!(is_container("podman:3f2a1b4c5d6e"));
    }
}
