//! Naming a namespace after the systemd unit its processes run in (containers are named
//! later, from their runtimes' state: `collect::linux::containers`).

use crate::collect::linux::procfs::{self, ProcRoot, parse_cgroup_unit};
use std::collections::HashMap;

/// At most this many processes' `cgroup` files are read to name one namespace.
const MAX_CGROUP_READS: usize = 20;

/// Read the `cgroup` file of the first `MAX_CGROUP_READS` of `pids` and pick the unit.
/// A process that exited meanwhile is skipped silently (it was already counted as living in
/// the namespace); other failures are warnings.
pub(super) fn read_unit(
    root: &ProcRoot,
    pids: &[u32],
    warnings: &mut Vec<String>,
) -> Option<String> {
    let mut found = Vec::new();
    for &pid in pids.iter().take(MAX_CGROUP_READS) {
        let path = root.path().join(format!("{pid}/cgroup"));
        match procfs::read_path(&path) {
            Ok(bytes) => found.extend(parse_cgroup_unit(&String::from_utf8_lossy(&bytes))),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ESRCH)) => {}
            Err(e) => warnings.push(format!("{}: {e}", path.display())),
        }
    }
    choose_unit(&found)
}

/// The pure part of [`read_unit`]: `found` holds units in pid order. The most common one;
/// `init.scope`, `user@N.service` and `session-N.scope` only when nothing better is found.
fn choose_unit(found: &[String]) -> Option<String> {
    let units: Vec<&str> = found.iter().map(String::as_str).collect();
    let strong: Vec<&str> = units.iter().copied().filter(|u| !is_weak_unit(u)).collect();
    most_common(&strong)
        .or_else(|| most_common(&units))
        .map(str::to_owned)
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
    fn units() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(choose_unit(&[]), None);
        // the most common unit, weak ones only as a fallback
        let u = choose_unit(&s(&[
            "session-3.scope",
            "session-3.scope",
            "session-3.scope",
            "b.service",
            "a.service",
            "a.service",
        ]));
        assert_eq!(u.as_deref(), Some("a.service"));
        let u = choose_unit(&s(&[
            "init.scope",
            "user@1000.service",
            "user@1000.service",
        ]));
        assert_eq!(u.as_deref(), Some("user@1000.service"));
        // tie: first seen (lowest pid)
        assert_eq!(
            choose_unit(&s(&["y.service", "x.service"])).as_deref(),
            Some("y.service")
        );
    }
}
