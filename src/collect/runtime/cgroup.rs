//! The container (or else the systemd unit) a process's cgroup names, with the runtime's
//! FULL id: the id is the key to the runtime's state files, so it is never shortened here.
//!
//! `/proc/PID/cgroup` is readable by every user (proc(5)), which makes it the first source
//! of a process's container. The patterns, measured in docs/container-runtimes.md §8:
//!
//! | runtime | cgroup path segment |
//! |---|---|
//! | Kubernetes | `…kubepods…/pod<uid>/<id>` (cgroupfs) or `…-pod<uid_>.slice/<runtime>-<id>.scope` |
//! | Docker | `docker-<64hex>.scope`, or `docker/<64hex>` (also under a custom `--cgroup-parent`) |
//! | Podman | `libpod-<id>[.scope]` (not `libpod-conmon-`); the pod from `libpod_parent/<podid>/` or `machine-libpod_pod_<podid>.slice` |
//! | CRI-O | `crio-<id>[.scope]` (not `crio-conmon-`) |
//! | containerd CRI | `cri-containerd-<id>.scope` |
//! | LXC | `lxc.payload.<name>` (attached processes below it, in `.lxc`) |
//! | systemd-nspawn | `machine-<escaped name>.scope` |
//! | containerd (`ctr run`) | `/<namespace>/<id>`: only a container when the parent shim agrees |
//!
//! Otherwise the deepest systemd unit (`.service`, `.scope`, `.socket`).

use crate::model::Runtime;

/// A pod a cgroup path names, by id only (names come from the runtime's state).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PodRef {
    /// A Podman pod's 64-hex id.
    Podman(String),
    /// A Kubernetes pod's UID.
    Kubernetes(String),
}

/// A container as its cgroup names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CgroupContainer {
    pub runtime: Runtime,
    /// The full id (the name for LXC and nspawn, which have no other).
    pub id: String,
    pub pod: Option<PodRef>,
    /// `N` when the container's cgroup lies under `user@N.service`: a subtree systemd
    /// delegates to user N, who can name cgroups in it anything (`docker-<id>.scope` of
    /// someone else's container included). Only rootless Podman legitimately puts containers
    /// there; the caller trusts nothing else from such a path.
    pub delegated_to: Option<u32>,
}

/// The `N` of the first `user@N.service` component of a cgroup path.
fn delegated_to(comps: &[&str]) -> Option<u32> {
    comps.iter().find_map(|c| {
        c.strip_prefix("user@")?
            .strip_suffix(".service")?
            .parse()
            .ok()
    })
}

/// What a cgroup file says of its process.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CgroupOwner {
    /// Nothing: the root cgroup, only slices, or no cgroup file.
    #[default]
    None,
    Container(CgroupContainer),
    /// `/<namespace>/<id>`: what `ctr run` makes, but also any two-level cgroup someone
    /// made. A container only if the process's parent is the shim of that namespace and id.
    MaybeContainerd {
        namespace: String,
        id: String,
    },
    /// A systemd unit (`nginx.service`, `session-3.scope`).
    Unit(String),
}

impl CgroupOwner {
    pub fn unit(&self) -> Option<&str> {
        match self {
            CgroupOwner::Unit(u) => Some(u),
            _ => None,
        }
    }
}

/// Parses a whole `/proc/PID/cgroup` (lines `hierarchy-ID:controller-list:path`,
/// cgroups(7)). The path used is the v1 `name=systemd` hierarchy's if present (systemd's
/// tracking hierarchy on hybrid hosts), else the v2 `0::` line's, else the first v1 path
/// other than `/`.
pub fn parse(cgroup: &str) -> CgroupOwner {
    let Some(path) = select_path(cgroup) else {
        return CgroupOwner::None;
    };
    // cgroup v2 marks a removed cgroup with " (deleted)" (kernel/cgroup/cgroup.c).
    let path = path.strip_suffix(" (deleted)").unwrap_or(path);
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    if let Some(mut c) = kubernetes(&comps).or_else(|| runtime_segment(&comps)) {
        c.delegated_to = delegated_to(&comps);
        return CgroupOwner::Container(c);
    }
    if let [namespace, id] = comps.as_slice()
        && !is_unit(namespace)
        && !is_unit(id)
        && !namespace.ends_with(".slice")
        && !namespace.starts_with("kubepods")
        && is_plain_name(namespace)
        && is_plain_name(id)
    {
        return CgroupOwner::MaybeContainerd {
            namespace: (*namespace).to_string(),
            id: (*id).to_string(),
        };
    }
    systemd_unit(&comps).map_or(CgroupOwner::None, CgroupOwner::Unit)
}

fn select_path(cgroup: &str) -> Option<&str> {
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

fn is_hex_id(id: &str) -> bool {
    id.len() >= 12 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A containerd namespace or id: letters, digits, `_`, `-`, `.` (containerd's identifiers
/// package), not a hidden directory.
fn is_plain_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn is_unit(c: &str) -> bool {
    [".service", ".scope", ".socket"]
        .iter()
        .any(|suffix| c.len() > suffix.len() && c.ends_with(suffix))
}

/// A pod UID: a UUID, or a hash for static pods; hex digits and dashes.
fn is_pod_uid(uid: &str) -> bool {
    uid.bytes().any(|b| b.is_ascii_hexdigit())
        && uid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// `<prefix><id>` or `<prefix><id>.scope`, with a hex id.
fn prefixed<'a>(comp: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = comp.strip_prefix(prefix)?;
    let id = rest.strip_suffix(".scope").unwrap_or(rest);
    is_hex_id(id).then_some(id)
}

fn kubernetes(comps: &[&str]) -> Option<CgroupContainer> {
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
        let next = comps.get(i + 1)?;
        if next.contains("conmon") {
            return None; // CRI-O's monitor, beside the container
        }
        let (runtime, id) = if let Some(id) = prefixed(next, "cri-containerd-") {
            (Runtime::Containerd, id)
        } else if let Some(id) = prefixed(next, "crio-") {
            (Runtime::Crio, id)
        } else if let Some(id) = prefixed(next, "docker-") {
            (Runtime::Docker, id)
        } else if is_plain_name(next) && !is_unit(next) {
            // cgroupfs: the bare id; containerd's CRI plugin (CRI-O names it crio-<id>).
            (Runtime::Containerd, *next)
        } else {
            return None;
        };
        return Some(CgroupContainer {
            runtime,
            id: id.to_string(),
            pod: Some(PodRef::Kubernetes(uid)),
            delegated_to: None,
        });
    }
    None
}

fn runtime_segment(comps: &[&str]) -> Option<CgroupContainer> {
    let container = |runtime, id: &str, pod| {
        Some(CgroupContainer {
            runtime,
            id: id.to_string(),
            pod,
            delegated_to: None,
        })
    };
    for (i, comp) in comps.iter().enumerate() {
        if let Some(id) = comp
            .strip_prefix("docker-")
            .and_then(|r| r.strip_suffix(".scope"))
            .filter(|id| id.len() == 64 && is_hex_id(id))
        {
            return container(Runtime::Docker, id, None);
        }
        if *comp == "docker"
            && let Some(id) = comps
                .get(i + 1)
                .filter(|id| id.len() == 64 && is_hex_id(id))
        {
            return container(Runtime::Docker, id, None);
        }
        if let Some(id) = prefixed(comp, "cri-containerd-") {
            return container(Runtime::Containerd, id, None);
        }
        if !comp.starts_with("crio-conmon-")
            && let Some(id) = prefixed(comp, "crio-")
        {
            return container(Runtime::Crio, id, None);
        }
        if !comp.starts_with("libpod-conmon-")
            && let Some(id) = prefixed(comp, "libpod-")
        {
            let parent = i.checked_sub(1).and_then(|p| comps.get(p));
            let pod = parent.and_then(|p| {
                // cgroupfs: libpod_parent/<podid>/libpod-<id>; systemd:
                // machine-libpod_pod_<podid>.slice/libpod-<id>.scope.
                let id = p
                    .strip_prefix("machine-libpod_pod_")
                    .and_then(|r| r.strip_suffix(".slice"))
                    .unwrap_or(p);
                is_hex_id(id).then(|| PodRef::Podman(id.to_string()))
            });
            return container(Runtime::Podman, id, pod);
        }
        if let Some(name) = comp.strip_prefix("lxc.payload.").filter(|n| !n.is_empty()) {
            return container(Runtime::Lxc, name, None);
        }
        if let Some(escaped) = comp
            .strip_prefix("machine-")
            .and_then(|r| r.strip_suffix(".scope"))
            .filter(|n| !n.is_empty())
        {
            return container(Runtime::Nspawn, &unescape_unit(escaped), None);
        }
        // `machinectl start NAME` runs `systemd-nspawn@NAME.service`, the payload below it.
        if let Some(escaped) = comp
            .strip_prefix("systemd-nspawn@")
            .and_then(|r| r.strip_suffix(".service"))
            .filter(|n| !n.is_empty())
        {
            return container(Runtime::Nspawn, &unescape_unit(escaped), None);
        }
    }
    None
}

/// Undoes systemd's unit name escaping (`\x2d` for `-`, systemd.unit(5)); a malformed
/// escape stays as written.
pub fn unescape_unit(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && bytes.get(i + 1) == Some(&b'x')
            && let Some(hex) = s.get(i + 2..i + 4)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn systemd_unit(comps: &[&str]) -> Option<String> {
    let mut units = comps.iter().filter(|c| is_unit(c));
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
    const P64: &str = "4fc0c101f5e9ff3556decc29b54c6d01aa27ee971835d6f73e99892fe10c02ab";
    const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/runtimes");

    fn ctr(runtime: Runtime, id: &str, pod: Option<PodRef>) -> CgroupOwner {
        CgroupOwner::Container(CgroupContainer {
            runtime,
            id: id.to_string(),
            pod,
            delegated_to: None,
        })
    }

    fn fixture(path: &str) -> String {
        std::fs::read_to_string(format!("{FIX}/{path}")).unwrap()
    }

    #[test]
    fn captured_cgroups_of_real_runtimes() {
        let web = "02175b2a1941f7f7b1a4301c29df7bd0cbfb075bd2aa98a733d75725acb36a5f";
        assert_eq!(
            parse(&fixture("docker-20.10.24/web/proc-cgroup")),
            ctr(Runtime::Docker, web, None)
        );
        let p1web = "b4174f756b5f16359902a88f8400b251344fbbdd27176c7ae042953b3fd6a049";
        assert_eq!(
            parse(&fixture("podman-4.3.1/p1web/proc-cgroup")),
            ctr(Runtime::Podman, p1web, Some(PodRef::Podman(P64.into())))
        );
        let pnone = parse(&fixture("podman-4.3.1/pnone/proc-cgroup"));
        assert!(
            matches!(&pnone, CgroupOwner::Container(c) if c.runtime == Runtime::Podman && c.pod.is_none()),
            "{pnone:?}"
        );
        for f in ["lxc-5.0.2/payload-init-cgroup", "lxc-5.0.2/attached-cgroup"] {
            assert_eq!(parse(&fixture(f)), ctr(Runtime::Lxc, "lx1", None), "{f}");
        }
        // The monitor is not the container.
        assert!(!matches!(
            parse(&fixture("lxc-5.0.2/monitor-cgroup")),
            CgroupOwner::Container(_)
        ));
    }

    #[test]
    fn systemd_drivers_and_units() {
        assert_eq!(
            parse(&format!("0::/system.slice/docker-{D64}.scope\n")),
            ctr(Runtime::Docker, D64, None)
        );
        assert_eq!(
            parse(&format!("0::/custom/parent/docker/{D64}\n")),
            ctr(Runtime::Docker, D64, None)
        );
        assert_eq!(
            parse(&format!(
                "0::/machine.slice/machine-libpod_pod_{P64}.slice/libpod-{D64}.scope/container\n"
            )),
            ctr(Runtime::Podman, D64, Some(PodRef::Podman(P64.into())))
        );
        assert_eq!(
            parse(&format!("0::/machine.slice/libpod-conmon-{D64}.scope\n")),
            CgroupOwner::Unit(format!("libpod-conmon-{D64}.scope"))
        );
        assert_eq!(
            parse(&format!("0::/system.slice/crio-conmon-{D64}.scope\n")),
            CgroupOwner::Unit(format!("crio-conmon-{D64}.scope"))
        );
        assert_eq!(
            parse(&format!("0::/parent/crio-{D64}\n")),
            ctr(Runtime::Crio, D64, None)
        );
        assert_eq!(
            parse("0::/machine.slice/systemd-nspawn@my\\x2dbox.service/payload\n"),
            parse("0::/machine.slice/machine-my\\x2dbox.scope/payload\n"),
            "machinectl start's service names the same machine as its scope"
        );
        assert_eq!(
            parse("0::/machine.slice/machine-my\\x2dbox.scope/payload\n"),
            ctr(Runtime::Nspawn, "my-box", None)
        );
        assert_eq!(
            parse("0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.service\n"),
            CgroupOwner::Unit("x.service".into())
        );
        assert_eq!(
            parse("0::/user.slice/user-1000.slice/user@1000.service/init.scope\n"),
            CgroupOwner::Unit("user@1000.service".into())
        );
        assert_eq!(
            parse("0::/init.scope\n"),
            CgroupOwner::Unit("init.scope".into())
        );
        assert_eq!(
            parse("0::/system.slice/bar.service (deleted)\n"),
            CgroupOwner::Unit("bar.service".into())
        );
        assert_eq!(
            parse("12:pids:/x.slice\n1:name=systemd:/system.slice/sshd.service\n0::/o.service\n"),
            CgroupOwner::Unit("sshd.service".into())
        );
    }

    #[test]
    fn kubernetes_pods() {
        let uid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
        let uid_ = uid.replace('-', "_");
        let pod = || Some(PodRef::Kubernetes(uid.into()));
        assert_eq!(
            parse(&format!(
                "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid_}.slice/cri-containerd-{D64}.scope\n"
            )),
            ctr(Runtime::Containerd, D64, pod())
        );
        assert_eq!(
            parse(&format!(
                "0::/kubepods.slice/kubepods-pod{uid_}.slice/crio-{D64}.scope\n"
            )),
            ctr(Runtime::Crio, D64, pod())
        );
        assert_eq!(
            parse(&format!(
                "0::/kubepods.slice/kubepods-pod{uid_}.slice/crio-conmon-{D64}.scope\n"
            )),
            CgroupOwner::Unit(format!("crio-conmon-{D64}.scope"))
        );
        assert_eq!(
            parse(&format!("0::/kubepods/burstable/pod{uid}/{D64}\n")),
            ctr(Runtime::Containerd, D64, pod())
        );
        // Captured from containerd 1.6 with kubelet's cgroupfs layout.
        let sbx = &fixture("containerd-1.6.20/pid-2878.txt");
        assert_eq!(
            parse(sbx),
            ctr(
                Runtime::Containerd,
                "sbx0123",
                Some(PodRef::Kubernetes("aaaa-bbbb".into()))
            )
        );
        assert_eq!(
            parse("0::/kubepods.slice/kubepods-burstable.slice\n"),
            CgroupOwner::None
        );
        assert_eq!(
            parse(&format!("0::/kubepods/pod{uid}\n")),
            CgroupOwner::None
        );
    }

    #[test]
    fn plain_containerd_needs_its_shim() {
        assert_eq!(
            parse(&fixture("containerd-1.6.20/pid-2752.txt")),
            CgroupOwner::MaybeContainerd {
                namespace: "r13ns".into(),
                id: "plain1".into()
            }
        );
        assert_eq!(
            parse("0::/system.slice/x.service\n"),
            CgroupOwner::Unit("x.service".into())
        );
        assert_eq!(parse("0::/user.slice/user-0.slice\n"), CgroupOwner::None);
    }

    #[test]
    fn nasty_inputs() {
        for s in [
            "",
            "garbage",
            "0:",
            "0::",
            "0::/",
            "0::system.slice/x.service",
            "\u{0}\n::\n:::/\n",
            "0::/docker/abc",
        ] {
            let got = parse(s);
            assert!(!matches!(got, CgroupOwner::Container(_)), "{s:?}: {got:?}");
        }
        assert!(!matches!(
            parse(&format!("0::/docker/{}", &D64[..30])),
            CgroupOwner::Container(_)
        ));
        assert_eq!(unescape_unit("a\\x2db\\xzz\\x"), "a-b\\xzz\\x");
        assert_eq!(
            parse("0::/machine.slice/libpod-zz.scope"),
            CgroupOwner::Unit("libpod-zz.scope".into())
        );
    }
}
