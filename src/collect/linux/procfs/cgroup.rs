//! The unit or container a process belongs to, from `/proc/PID/cgroup`.

/// The unit or container a process belongs to, from the whole `/proc/PID/cgroup` file
/// (proc(5), cgroups(7): lines `hierarchy-ID:controller-list:cgroup-path`).
///
/// The path used is that of the v1 `name=systemd` hierarchy if present (systemd's tracking
/// hierarchy on legacy/hybrid hosts), else the v2 line `0::PATH`, else the first v1 line with
/// a path other than `/`. Then, in order:
/// - kubernetes: `…kubepods…/pod<uid>/<id>` (cgroupfs driver) or
///   `…kubepods-<qos>-pod<uid_with_underscores>.slice/<runtime>-<id>.scope` (systemd driver)
///   → `k8s-pod:<uid>`, plus `/<first 12 of the container id>` when a container level follows;
/// - docker `docker-<64hex>.scope` or `/docker/<64hex>` → `docker:<12>`;
/// - containerd CRI `cri-containerd-<id>.scope` → `containerd:<12>`;
/// - podman `libpod-<id>.scope` (not `libpod-conmon-`, which is the monitor) → `podman:<12>`;
/// - otherwise the deepest component ending in `.service`, `.scope` or `.socket` (so
///   `user@1000.service/app.slice/x.service` → `x.service`); a user manager's own
///   `user@N.service/init.scope` → `user@N.service`, while the host's `/init.scope` stays
///   `init.scope`;
/// - `/` or only slices → `None`.
pub fn parse_cgroup_unit(cgroup: &str) -> Option<String> {
    let path = select_cgroup_path(cgroup)?;
    // cgroup v2 marks a removed cgroup with " (deleted)" (kernel/cgroup/cgroup.c).
    let path = path.strip_suffix(" (deleted)").unwrap_or(path);
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    if comps.is_empty() {
        return None;
    }
    if let Some(pod) = k8s_unit(&comps) {
        return Some(pod);
    }
    for (i, comp) in comps.iter().enumerate() {
        if let Some(id) = comp
            .strip_prefix("docker-")
            .and_then(|r| r.strip_suffix(".scope"))
            .filter(|id| is_docker_id(id))
        {
            return Some(format!("docker:{}", &id[..12]));
        }
        if *comp == "docker"
            && let Some(id) = comps.get(i + 1).filter(|id| is_docker_id(id))
        {
            return Some(format!("docker:{}", &id[..12]));
        }
        if let Some(id) = comp
            .strip_prefix("cri-containerd-")
            .and_then(|r| r.strip_suffix(".scope"))
            .and_then(short_id)
        {
            return Some(format!("containerd:{id}"));
        }
        if let Some(rest) = comp.strip_prefix("libpod-")
            && !rest.starts_with("conmon-")
        {
            // systemd cgroup manager: libpod-<id>.scope; cgroupfs: libpod_parent/libpod-<id>.
            let id = rest.strip_suffix(".scope").unwrap_or(rest);
            if let Some(id) = short_id(id) {
                return Some(format!("podman:{id}"));
            }
        }
    }
    systemd_unit(&comps)
}

fn select_cgroup_path(cgroup: &str) -> Option<&str> {
    let mut v2 = None;
    let mut v1_other = None;
    for line in cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue; // malformed or truncated line
        };
        if !path.starts_with('/') {
            continue;
        }
        if controllers.split(',').any(|c| c == "name=systemd") {
            return Some(path);
        }
        if id == "0" && controllers.is_empty() {
            v2.get_or_insert(path);
        } else if path != "/" {
            v1_other.get_or_insert(path);
        }
    }
    v2.or(v1_other)
}

fn k8s_unit(comps: &[&str]) -> Option<String> {
    let first = comps.iter().position(|c| c.contains("kubepods"))?;
    for (i, comp) in comps.iter().enumerate().skip(first) {
        let uid = match comp.strip_suffix(".slice") {
            // systemd driver: kubepods-besteffort-pod<uid_with_underscores>.slice
            Some(stem) => stem
                .rsplit_once("-pod")
                .map(|(_, uid)| uid.replace('_', "-")),
            // cgroupfs driver: pod<uid>
            None => comp.strip_prefix("pod").map(str::to_owned),
        };
        let Some(uid) = uid.filter(|u| is_pod_uid(u)) else {
            continue;
        };
        let container = comps.get(i + 1).and_then(|c| k8s_container_id(c));
        return Some(match container {
            Some(id) => format!("k8s-pod:{uid}/{id}"),
            None => format!("k8s-pod:{uid}"),
        });
    }
    None
}

/// A pod UID: a UUID, or a hash for static pods; hex digits and dashes.
fn is_pod_uid(uid: &str) -> bool {
    uid.bytes().any(|b| b.is_ascii_hexdigit())
        && uid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// The container level under a pod: `<64hex>` (cgroupfs) or `<runtime>-<id>.scope`
/// (`cri-containerd-`, `docker-`, `crio-`); a runtime's monitor (`crio-conmon-…`) is not a
/// container.
fn k8s_container_id(comp: &str) -> Option<String> {
    if comp.contains("conmon") {
        return None;
    }
    let stem = comp.strip_suffix(".scope").unwrap_or(comp);
    let id = stem.rsplit_once('-').map_or(stem, |(_, id)| id);
    short_id(id)
}

fn is_docker_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// First 12 characters of a hex container id of at least 12 characters.
fn short_id(id: &str) -> Option<String> {
    (id.len() >= 12 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| id[..12].to_owned())
}

fn systemd_unit(comps: &[&str]) -> Option<String> {
    let mut units = comps.iter().filter(|c| {
        [".service", ".scope", ".socket"]
            .iter()
            .any(|suffix| c.len() > suffix.len() && c.ends_with(suffix))
    });
    let deepest = units.next_back()?;
    if *deepest == "init.scope"
        && let Some(parent) = units.next_back()
    {
        // A delegated manager (systemd --user) runs in its own unit's init.scope.
        return Some((*parent).to_owned());
    }
    Some((*deepest).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D64: &str = "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708";

    #[test]
    fn d64_is_a_docker_id() {
        assert!(is_docker_id(D64));
    }

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
            unit("0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.service\n"),
            Some("x.service".into())
        );
        assert_eq!(
            unit("0::/user.slice/user-1000.slice/user@1000.service/init.scope\n"),
            Some("user@1000.service".into())
        );
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
        assert_eq!(
            unit("0::/system.slice/bar.service (deleted)\n"),
            Some("bar.service".into())
        );
        // the podman monitor is an ordinary transient scope
        assert_eq!(
            unit(&format!("0::/machine.slice/libpod-conmon-{D64}.scope\n")),
            Some(format!("libpod-conmon-{D64}.scope"))
        );
    }

    #[test]
    fn cgroup_v1_prefers_name_systemd() {
        let v1 = "12:pids:/user.slice/user-1000.slice\n\
                  11:cpu,cpuacct:/\n\
                  1:name=systemd:/system.slice/sshd.service\n\
                  0::/system.slice/other.service\n";
        assert_eq!(unit(v1), Some("sshd.service".into()));
        // v1 without systemd (e.g. docker on a non-systemd host)
        let plain = format!("3:memory:/docker/{D64}\n2:cpu:/docker/{D64}\n1:cpuset:/\n");
        assert_eq!(unit(&plain), Some(format!("docker:{}", &D64[..12])));
    }

    #[test]
    fn cgroup_containers() {
        let short = &D64[..12];
        assert_eq!(
            unit(&format!("0::/system.slice/docker-{D64}.scope\n")),
            Some(format!("docker:{short}"))
        );
        assert_eq!(
            unit(&format!("0::/docker/{D64}\n")),
            Some(format!("docker:{short}"))
        );
        // systemd inside the container
        assert_eq!(
            unit(&format!("0::/system.slice/docker-{D64}.scope/init.scope\n")),
            Some(format!("docker:{short}"))
        );
        // docker id must be 64 hex
        assert_eq!(unit("0::/docker/abc\n"), None);
        assert_eq!(
            unit(&format!("0::/system.slice/cri-containerd-{D64}.scope\n")),
            Some(format!("containerd:{short}"))
        );
        assert_eq!(
            unit(&format!("0::/machine.slice/libpod-{D64}.scope\n")),
            Some(format!("podman:{short}"))
        );
        assert_eq!(
            unit(&format!("0::/machine.slice/libpod-{D64}.scope/container\n")),
            Some(format!("podman:{short}"))
        );
        assert_eq!(
            unit(&format!(
                "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{D64}.scope\n"
            )),
            Some(format!("podman:{short}"))
        );
        assert_eq!(
            unit(&format!("0::/libpod_parent/libpod-{D64}\n")),
            Some(format!("podman:{short}"))
        );
    }

    #[test]
    fn cgroup_kubernetes() {
        let short = &D64[..12];
        let uid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
        let uid_ = uid.replace('-', "_");
        assert_eq!(
            unit(&format!(
                "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid_}.slice/cri-containerd-{D64}.scope\n"
            )),
            Some(format!("k8s-pod:{uid}/{short}"))
        );
        assert_eq!(
            unit(&format!(
                "0::/kubepods.slice/kubepods-pod{uid_}.slice/crio-{D64}.scope\n"
            )),
            Some(format!("k8s-pod:{uid}/{short}"))
        );
        assert_eq!(
            unit(&format!(
                "0::/kubepods.slice/kubepods-pod{uid_}.slice/crio-conmon-{D64}.scope\n"
            )),
            Some(format!("k8s-pod:{uid}"))
        );
        assert_eq!(
            unit(&format!("0::/kubepods/burstable/pod{uid}/{D64}\n")),
            Some(format!("k8s-pod:{uid}/{short}"))
        );
        assert_eq!(
            unit(&format!("0::/kubepods/pod{uid}\n")),
            Some(format!("k8s-pod:{uid}"))
        );
        assert_eq!(
            unit(&format!(
                "0::/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod{uid_}.slice/docker-{D64}.scope\n"
            )),
            Some(format!("k8s-pod:{uid}/{short}"))
        );
        // kubepods QoS slices alone name no pod
        assert_eq!(unit("0::/kubepods.slice/kubepods-burstable.slice\n"), None);
    }

    #[test]
    fn cgroup_malformed() {
        assert_eq!(unit(""), None);
        assert_eq!(unit("garbage"), None);
        assert_eq!(unit("0:"), None);
        assert_eq!(unit("0::"), None);
        assert_eq!(unit("0::system.slice/x.service"), None);
        assert_eq!(unit("0::/system.slice/.service"), None);
        assert_eq!(unit("0::/system.slice/docker-abc"), None);
        assert_eq!(unit(&format!("0::/docker/{}", &D64[..30])), None);
        assert_eq!(unit("0::/kubepods/pod/"), None);
        assert_eq!(unit("0::/kubepods.slice/kubepods-pod.slice"), None);
        // not a container id: only the transient scope remains
        assert_eq!(
            unit("0::/machine.slice/libpod-zz.scope"),
            Some("libpod-zz.scope".into())
        );
        assert_eq!(unit("\u{0}\n::\n:::/\n"), None);
    }
}
