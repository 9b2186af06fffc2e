//! The systemd unit a process belongs to, from `/proc/PID/cgroup`; its container is
//! `collect::runtime::cgroup`'s (a process in a container has no unit here).

use crate::collect::runtime::cgroup;

/// The systemd unit of a whole `/proc/PID/cgroup` file: the deepest `.service`, `.scope`
/// or `.socket` of the selected path (see [`cgroup::parse`]); `None` for a container's
/// process, the root cgroup, or only slices.
pub fn parse_cgroup_unit(text: &str) -> Option<String> {
    match cgroup::parse(text) {
        cgroup::CgroupOwner::Unit(u) => Some(u),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D64: &str = "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708";

    fn unit(s: &str) -> Option<String> {
        parse_cgroup_unit(s)
    }

    #[test]
    fn cgroup_systemd_units() {
        assert_eq!(
            unit("0::/system.slice/nginx.service\n"),
            Some("nginx.service".into())
        );
        assert_eq!(unit("0::/init.scope\n"), Some("init.scope".into()));
        assert_eq!(unit("0::/\n"), None);
        assert_eq!(unit("0::/system.slice\n"), None);
        assert_eq!(
            unit("0::/user.slice/user-1000.slice/session-3.scope\n"),
            Some("session-3.scope".into())
        );
        assert_eq!(
            unit("0::/system.slice/systemd-resolved.socket\n"),
            Some("systemd-resolved.socket".into())
        );
        // a delegated subtree below a unit still belongs to the unit
        assert_eq!(
            unit("0::/system.slice/foo.service/workers/w1\n"),
            Some("foo.service".into())
        );
    }

    #[test]
    fn containers_are_not_units() {
        // Holder.unit and Netns.unit keep only units since containers have their own field.
        for c in [
            format!("0::/system.slice/docker-{D64}.scope\n"),
            format!("0::/system.slice/docker-{D64}.scope/init.scope\n"),
            format!("3:memory:/docker/{D64}\n2:cpu:/docker/{D64}\n1:cpuset:/\n"),
            format!("0::/machine.slice/libpod-{D64}.scope\n"),
            format!("0::/system.slice/cri-containerd-{D64}.scope\n"),
            "0::/lxc.payload.c1\n".to_string(),
        ] {
            assert_eq!(unit(&c), None, "{c}");
        }
        assert_eq!(unit("0::/r13ns/plain1\n"), None);
    }

    #[test]
    fn cgroup_malformed() {
        assert_eq!(unit(""), None);
        assert_eq!(unit("garbage"), None);
        assert_eq!(unit("0:"), None);
        assert_eq!(unit("0::"), None);
        assert_eq!(unit("0::system.slice/x.service"), None);
        assert_eq!(unit("0::/system.slice/.service"), None);
        assert_eq!(unit("\u{0}\n::\n:::/\n"), None);
    }
}
