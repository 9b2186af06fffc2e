//! Containers by name, against real runtimes: a private dockerd, rootful Podman, containerd
//! and LXC started by the test (tests/containers/runtimes.rs), with named containers that listen.
//! The real binary must name every socket's container and every namespace's owner as the
//! runtime itself does (`docker inspect`, `podman inspect`), select namespaces and filter
//! sockets by those names, show them in the table and the dashboard, say the same as
//! nobody where the runtime's files allow it, and list the same sockets as `ss`.
//!
//! What runs (docs/container-runtimes.md has the measurements behind each choice):
//! - Docker: `web` (no `--network`; with `--bridge=none` that is a namespace of its own with
//!   only `lo`), `nonet` (`--network none`), `side` (`--network container:web`) and `hostc`
//!   (`--network host`, on a port free on the host).
//! - Podman: `pnone` (`--network none`), a pod with `--network none` and two members (a pod
//!   cannot join a path namespace, and a bridge needs iptables on the host), and `pns` in a
//!   namespace bind-mounted at `/run/netns/netns-…` the way Podman's own bridge namespaces
//!   are, so the mount's name must lose to the container's.
//! - containerd on its own: a private containerd and `ctr run --rootfs` in a containerd
//!   namespace of the test's (no name: it is asked for as `containerd:ID`).
//! - LXC: the busybox template with `lxc.net.0.type = empty`.
//!
//! The runtimes need their Debian packages (`.ci/run` installs them) and root; without them
//! the test fails under `BINDSCOPE_REQUIRE_PRIVILEGED=1` and says it skipped otherwise.
//! Every name carries a per-run tag, so a runtime someone else runs on the machine cannot
//! be mistaken for this test's.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "containers/runtimes.rs"]
mod runtimes;

use common::tmux::Tmux;
use common::{BINDSCOPE, NOBODY, REQUIRE_ENV, Run, SsSocket, parse_ss, run_timeout};
use runtimes::{Containerd, Docker, IpNetns, Lxc, Podman, Scratch, poll, timed, which};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::time::{Duration, Instant};

/// One container of the test and what its runtime says about it.
#[derive(Debug, Clone)]
struct Made {
    runtime: &'static str,
    /// The full id as the runtime reports it (for LXC, the name; for `ctr`, the id given).
    id: String,
    /// The name as the runtime reports it; for `ctr`, which has no names, the id.
    name: String,
    /// Whether the runtime has a name for it (`ctr run` containers have only an id).
    named: bool,
    /// The image as `inspect` reports the user's reference; `None` for LXC.
    image: Option<String>,
    pod: Option<String>,
    /// The pid of the process holding its listener (the container's init, or for LXC the
    /// httpd that `lxc-attach` started).
    pid: u32,
    /// Its TCP listener.
    port: u16,
}

impl Made {
    /// What bindscope calls it: the name, else `runtime:id` (model::Container::label).
    fn label(&self) -> String {
        if self.named {
            self.name.clone()
        } else {
            format!("{}:{}", self.runtime, self.id)
        }
    }
}

/// A snapshot's container object as bindscope labels it (model::Container::label).
fn label_of(v: &Value) -> Option<String> {
    if let Some(n) = v["name"].as_str() {
        return Some(n.to_string());
    }
    let id = v["id"].as_str()?;
    let short = if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        &id[..12]
    } else {
        id
    };
    Some(format!("{}:{short}", v["runtime"].as_str()?))
}

/// Whether this machine can run the test; when it cannot, says why (a failure under
/// `BINDSCOPE_REQUIRE_PRIVILEGED=1`).
fn can_run() -> bool {
    let why = if !rustix::process::geteuid().is_root() {
        Some("needs root".to_string())
    } else {
        [
            "dockerd",
            "containerd",
            "ctr",
            "podman",
            "runc",
            "conmon",
            "lxc-create",
            "ip",
            "ss",
            "nsenter",
            "setpriv",
            "tmux",
            "tar",
        ]
        .into_iter()
        .find(|t| which(t).is_none())
        .map(|t| format!("'{t}' is not on PATH (.ci/run installs it)"))
        .or_else(|| {
            ["/bin/busybox", "/usr/bin/busybox"]
                .iter()
                .all(|p| !std::path::Path::new(p).exists())
                .then(|| "no /bin/busybox (busybox-static)".to_string())
        })
    };
    let Some(why) = why else { return true };
    if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
        panic!("containers: {REQUIRE_ENV}=1 but the test cannot run: {why}");
    }
    eprintln!("SKIPPED containers: {why} (set {REQUIRE_ENV}=1 to make this a failure)");
    false
}

/// Failures collected over the whole test, reported together: one run of the runtimes
/// shows every wrong name at once.
#[derive(Default)]
struct Checks {
    failed: Vec<String>,
}

impl Checks {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.failed.push(what());
        }
    }

    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, got: T, want: T, what: &str) {
        if got != want {
            self.failed
                .push(format!("{what}: got {got:?}, want {want:?}"));
        }
    }

    fn finish(self) {
        assert!(
            self.failed.is_empty(),
            "{} check(s) failed:\n- {}",
            self.failed.len(),
            self.failed.join("\n- ")
        );
    }
}

/// `bindscope ARGS…` as root, on the host (all namespaces it can see).
fn bindscope(args: &[&str]) -> Run {
    let mut c = Command::new(BINDSCOPE);
    c.args(args);
    run_timeout(&mut c, Duration::from_secs(120))
}

/// `bindscope ARGS…` as nobody (uid and gid 65534, no groups), on the host.
fn bindscope_nobody(bin: &std::path::Path, args: &[&str]) -> Run {
    let mut c = Command::new("setpriv");
    c.args([
        &format!("--reuid={NOBODY}"),
        &format!("--regid={NOBODY}"),
        "--clear-groups",
        "--",
    ])
    .arg(bin)
    .args(args)
    .env("HOME", "/");
    run_timeout(&mut c, Duration::from_secs(120))
}

/// The network namespace inode of a process (`/proc/PID/ns/net`).
fn netns_of(pid: u32) -> u64 {
    std::fs::metadata(format!("/proc/{pid}/ns/net"))
        .unwrap_or_else(|e| panic!("stat /proc/{pid}/ns/net: {e}"))
        .ino()
}

/// `ss -H -tuanpe` in the network namespace of `pid`.
fn ss_in(pid: u32) -> Vec<SsSocket> {
    let r = run_timeout(
        Command::new("nsenter")
            .arg(format!("--net=/proc/{pid}/ns/net"))
            .args(["ss", "-H", "-tuanpe"]),
        Duration::from_secs(30),
    )
    .expect_ok("nsenter ss");
    parse_ss(&r.stdout)
}

/// The pid listening on TCP `port` in the namespace of `pid`, once it listens (10 s).
fn listener_pid(pid: u32, port: u16) -> u32 {
    let mut found = None;
    poll(Duration::from_secs(10), || {
        found = ss_in(pid)
            .into_iter()
            .find(|s| s.proto == "tcp" && s.state == "LISTEN" && s.port == port)
            .and_then(|s| s.pids.first().copied());
        found.is_some()
    });
    found.unwrap_or_else(|| panic!("nothing listens on {port} in the namespace of pid {pid}"))
        as u32
}

/// A TCP port nothing on the host listens on (for the host-network container).
fn free_host_port() -> u16 {
    let l = std::net::TcpListener::bind("0.0.0.0:0").expect("bind a free port");
    l.local_addr().expect("local_addr").port()
}

fn json_str(v: &Value) -> Option<&str> {
    v.as_str()
}

/// The netns ids a snapshot lists.
fn netns_ids(snap: &Value) -> BTreeSet<u64> {
    snap["netns"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["id"].as_u64()).collect())
        .unwrap_or_default()
}

fn netns_entry(snap: &Value, id: u64) -> Option<&Value> {
    snap["netns"]
        .as_array()?
        .iter()
        .find(|n| n["id"].as_u64() == Some(id))
}

/// The TCP listeners on `port` in namespace `ns`.
fn listeners(snap: &Value, ns: u64, port: u16) -> Vec<&Value> {
    snap["sockets"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|s| {
                    s["netns"].as_u64() == Some(ns)
                        && s["proto"] == "tcp"
                        && s["state"] == "listen"
                        && s["local_port"].as_u64() == Some(port as u64)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Compares a snapshot's `container` object with what the runtime said.
fn check_container(c: &mut Checks, got: &Value, want: &Made, what: &str) {
    c.eq(
        json_str(&got["runtime"]),
        Some(want.runtime),
        &format!("{what}: runtime"),
    );
    c.eq(
        json_str(&got["id"]),
        Some(want.id.as_str()),
        &format!("{what}: id"),
    );
    c.eq(
        json_str(&got["name"]),
        want.named.then_some(want.name.as_str()),
        &format!("{what}: name"),
    );
    c.eq(
        json_str(&got["image"]),
        want.image.as_deref(),
        &format!("{what}: image"),
    );
    c.eq(
        json_str(&got["pod"]["name"]),
        want.pod.as_deref(),
        &format!("{what}: pod name"),
    );
    // A Podman pod has no Kubernetes namespace.
    c.check(got["pod"]["namespace"].is_null(), || {
        format!(
            "{what}: pod namespace {} (Podman pods have none)",
            got["pod"]
        )
    });
}

#[test]
fn containers_of_docker_podman_and_lxc_by_name() {
    if !can_run() {
        return;
    }
    let started = Instant::now();
    let pid = std::process::id();
    let t = format!("{:03x}", pid & 0xfff);
    let n = |base: &str| format!("{base}-{t}");

    // Declared first, dropped last: unmounts and removes what the runtimes left.
    let scratch = Scratch::new().expect("scratch directory");
    let tar = runtimes::busybox_rootfs(&scratch).expect("busybox rootfs");

    // ---- Docker
    let mut docker = timed("dockerd ready", || Docker::start(&scratch)).expect("dockerd");
    timed("docker import", || docker.import(&tar, "bs:1")).expect("docker import");
    let hostc_port = free_host_port();
    let httpd = |port: u16| -> Vec<String> {
        ["/bin/httpd", "-f", "-p", &port.to_string(), "-h", "/www"]
            .map(str::to_string)
            .to_vec()
    };
    let mut made: Vec<Made> = Vec::new();
    let docker_runs: Vec<(&str, Vec<String>, u16)> = vec![
        ("web", vec![], 7301),
        ("nonet", vec!["--network".into(), "none".into()], 7302),
        (
            "side",
            vec!["--network".into(), format!("container:{}", n("web"))],
            7303,
        ),
        ("hostc", vec!["--network".into(), "host".into()], hostc_port),
    ];
    for (base, net, port) in docker_runs {
        let name = n(base);
        let mut args: Vec<String> = net;
        args.push("bs:1".into());
        args.extend(httpd(port));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let id =
            timed(&format!("docker run {base}"), || docker.run(&name, &args)).expect("docker run");
        let inspect = docker.inspect(&name).expect("docker inspect");
        let init = inspect["State"]["Pid"].as_u64().expect("State.Pid") as u32;
        made.push(Made {
            runtime: "docker",
            id,
            name,
            named: true,
            image: inspect["Config"]["Image"].as_str().map(str::to_string),
            pod: None,
            pid: listener_pid(init, port),
            port,
        });
    }

    // ---- Podman
    let bind_ns = IpNetns::add(&format!("netns-bsc-{pid}")).expect("ip netns add");
    let mut podman = Podman::new(&scratch).expect("podman");
    timed("podman import", || podman.import(&tar, "localhost/bs:1")).expect("podman import");
    let pod_name = n("pod");
    timed("podman pod create", || {
        podman.pod(&pod_name, &["--network", "none"])
    })
    .expect("podman pod create");
    let ns_arg = format!("ns:{}", bind_ns.path());
    let podman_runs: Vec<(&str, Vec<String>, u16)> = vec![
        ("pnone", vec!["--network".into(), "none".into()], 7311),
        ("pweb", vec!["--pod".into(), pod_name.clone()], 7312),
        ("pside", vec!["--pod".into(), pod_name.clone()], 7313),
        ("pns", vec!["--network".into(), ns_arg.clone()], 7314),
    ];
    for (base, net, port) in podman_runs {
        let name = n(base);
        let mut args = net;
        args.push("localhost/bs:1".into());
        args.extend(httpd(port));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let id =
            timed(&format!("podman run {base}"), || podman.run(&name, &args)).expect("podman run");
        let inspect = podman.inspect(&name).expect("podman inspect");
        let init = inspect["State"]["Pid"].as_u64().expect("State.Pid") as u32;
        let pod = inspect["Pod"]
            .as_str()
            .filter(|p| !p.is_empty())
            .map(|_| pod_name.clone());
        made.push(Made {
            runtime: "podman",
            id,
            name,
            named: true,
            image: inspect["ImageName"].as_str().map(str::to_string),
            pod,
            pid: listener_pid(init, port),
            port,
        });
    }
    let pod = podman.pod_inspect(&pod_name).expect("podman pod inspect");
    let infra_id = pod["InfraContainerID"]
        .as_str()
        .expect("InfraContainerID")
        .to_string();
    let infra = podman
        .inspect(&infra_id)
        .expect("inspect the infra container");
    let infra_made = Made {
        runtime: "podman",
        id: infra_id.clone(),
        name: infra["Name"].as_str().expect("infra Name").to_string(),
        named: true,
        image: infra["ImageName"].as_str().map(str::to_string),
        pod: Some(pod_name.clone()),
        pid: infra["State"]["Pid"].as_u64().expect("infra pid") as u32,
        port: 0,
    };

    // ---- containerd on its own: `ctr run` from a root file system, in a containerd
    // namespace of this run's own. It has an id and no name.
    let mut ctd = timed("containerd ready", || {
        Containerd::start(&scratch, &n("bsc"))
    })
    .expect("containerd");
    let ctr_id = n("ctr");
    let ctr_argv = httpd(7331);
    let ctr_argv: Vec<&str> = ctr_argv.iter().map(String::as_str).collect();
    let ctr_init = timed("ctr run", || {
        ctd.run(&ctr_id, &scratch.path("rootfs"), &ctr_argv)
    })
    .expect("ctr run");
    made.push(Made {
        runtime: "containerd",
        id: ctr_id.clone(),
        name: ctr_id.clone(),
        named: false,
        image: None,
        pod: None,
        pid: listener_pid(ctr_init, 7331),
        port: 7331,
    });

    // ---- LXC
    let lxc = timed("lxc-create and lxc-start", || {
        Lxc::create(&scratch, &n("lx"))
    })
    .expect("lxc");
    lxc.attach(&["/bin/busybox", "httpd", "-p", "7321", "-h", "/"])
        .expect("httpd in LXC");
    let lx_init = lxc.init_pid().expect("lxc init pid");
    made.push(Made {
        runtime: "lxc",
        id: lxc.name.clone(),
        name: lxc.name.clone(),
        named: true,
        image: None,
        pod: None,
        pid: listener_pid(lx_init, 7321),
        port: 7321,
    });
    eprintln!(
        "containers: all runtimes up after {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let by = |base: &str| -> Made {
        made.iter()
            .find(|m| m.name == n(base))
            .unwrap_or_else(|| panic!("no container {base}"))
            .clone()
    };
    let host_ns = netns_of(std::process::id());
    let web_ns = netns_of(by("web").pid);
    let pod_ns = netns_of(infra_made.pid);
    let mine: BTreeMap<&str, u64> = [
        ("web", web_ns),
        ("nonet", netns_of(by("nonet").pid)),
        ("pnone", netns_of(by("pnone").pid)),
        ("pod", pod_ns),
        ("pns", netns_of(by("pns").pid)),
        ("lx", netns_of(by("lx").pid)),
        ("ctr", netns_of(by("ctr").pid)),
    ]
    .into();
    // The runtimes did what the names say: side joined web, the pod members share the
    // infra's namespace, hostc and pns are where they were put.
    assert_eq!(
        netns_of(by("side").pid),
        web_ns,
        "side joined web's namespace"
    );
    assert_eq!(
        netns_of(by("hostc").pid),
        host_ns,
        "hostc is on the host network"
    );
    assert_eq!(
        netns_of(by("pweb").pid),
        pod_ns,
        "pweb is in the pod's namespace"
    );
    assert_eq!(
        netns_of(by("pside").pid),
        pod_ns,
        "pside is in the pod's namespace"
    );
    let bind_ino = std::fs::metadata(bind_ns.path()).unwrap().ino();
    assert_eq!(
        mine["pns"], bind_ino,
        "pns is in the bind-mounted namespace"
    );
    let distinct: BTreeSet<u64> = mine.values().copied().collect();
    assert_eq!(distinct.len(), mine.len(), "one namespace each: {mine:?}");

    let mut c = Checks::default();

    // ---- The snapshot as root
    let snap = bindscope(&["snapshot", "--format", "json", "--all"])
        .expect_ok("bindscope snapshot")
        .json();
    // The container fields are part of the file format: the schema must describe them.
    let schema = common::schema_validator();
    let errors: Vec<String> = schema
        .iter_errors(&snap)
        .map(|e| format!("at '{}': {e}", e.instance_path()))
        .take(10)
        .collect();
    c.check(errors.is_empty(), || {
        format!(
            "the snapshot does not match assets/snapshot.schema.json:\n  {}",
            errors.join("\n  ")
        )
    });
    for m in &made {
        let ns = netns_of(m.pid);
        let socks = listeners(&snap, ns, m.port);
        c.check(socks.len() == 1, || {
            format!(
                "{}: {} listener(s) on {} in netns {ns}, want 1",
                m.name,
                socks.len(),
                m.port
            )
        });
        for s in socks {
            let holders = s["holders"].as_array().cloned().unwrap_or_default();
            let h = holders
                .iter()
                .find(|h| h["pid"].as_u64() == Some(m.pid as u64));
            c.check(h.is_some(), || {
                format!(
                    "{}: pid {} is not among the holders {holders:?}",
                    m.name, m.pid
                )
            });
            if let Some(h) = h {
                check_container(&mut c, &h["container"], m, &format!("{} holder", m.name));
                c.check(h["unit"].is_null(), || {
                    format!(
                        "{}: holder unit {} (containers are no longer units)",
                        m.name, h["unit"]
                    )
                });
            }
        }
    }
    // Namespaces: owned by the container that made them, every member listed, named after
    // the owner (or its pod), and the runtime's bind mount kept as a path.
    let owners: Vec<(&str, Made, Vec<&str>, String)> = vec![
        ("web", by("web"), vec!["web", "side"], n("web")),
        ("nonet", by("nonet"), vec!["nonet"], n("nonet")),
        ("pnone", by("pnone"), vec!["pnone"], n("pnone")),
        (
            "pod",
            infra_made.clone(),
            vec!["pweb", "pside"],
            pod_name.clone(),
        ),
        ("pns", by("pns"), vec!["pns"], n("pns")),
        ("lx", by("lx"), vec!["lx"], n("lx")),
        ("ctr", by("ctr"), vec!["ctr"], by("ctr").label()),
    ];
    for (key, owner, members, name) in &owners {
        let id = mine[key];
        let Some(e) = netns_entry(&snap, id) else {
            c.check(false, || format!("netns of {name} ({id}) is not listed"));
            continue;
        };
        c.eq(
            json_str(&e["name"]),
            Some(name.as_str()),
            &format!("netns {id} name"),
        );
        check_container(
            &mut c,
            &e["container"],
            owner,
            &format!("netns {name} owner"),
        );
        let listed: Vec<String> = e["containers"]
            .as_array()
            .map(|a| a.iter().filter_map(label_of).collect())
            .unwrap_or_default();
        c.eq(
            listed.first().cloned(),
            Some(owner.label()),
            &format!("netns {name}: containers[0] is the owner"),
        );
        for m in members {
            let want = by(m).label();
            c.check(listed.contains(&want), || {
                format!("netns {name}: containers {listed:?} lack {want}")
            });
        }
    }
    let pns_paths: Vec<&str> = netns_entry(&snap, mine["pns"])
        .and_then(|e| e["paths"].as_array())
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    c.check(pns_paths.contains(&bind_ns.path().as_str()), || {
        format!("netns of pns: paths {pns_paths:?} lack {}", bind_ns.path())
    });
    // hostc: its listener is in the host's namespace and still says whose it is.
    c.check(
        netns_entry(&snap, host_ns).is_some_and(|e| e["container"].is_null()),
        || "the host namespace has no owning container".into(),
    );

    // The same listeners as ss, in every namespace of the test (the host's: hostc's port).
    let mut namespaces: BTreeMap<u64, (u32, BTreeSet<u16>)> = BTreeMap::new();
    for m in &made {
        let e = namespaces
            .entry(netns_of(m.pid))
            .or_insert((m.pid, BTreeSet::new()));
        e.1.insert(m.port);
    }
    for (ns, (pid, ports)) in &namespaces {
        let theirs: BTreeSet<(u16, u64, Vec<u32>)> = ss_in(*pid)
            .into_iter()
            .filter(|s| s.proto == "tcp" && s.state == "LISTEN" && ports.contains(&s.port))
            .map(|s| (s.port, s.inode, s.pids.iter().map(|&p| p as u32).collect()))
            .collect();
        let ours: BTreeSet<(u16, u64, Vec<u32>)> = ports
            .iter()
            .flat_map(|&p| listeners(&snap, *ns, p))
            .map(|s| {
                let mut pids: Vec<u32> = s["holders"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|h| h["pid"].as_u64())
                            .map(|p| p as u32)
                            .collect()
                    })
                    .unwrap_or_default();
                pids.sort();
                pids.dedup();
                (
                    s["local_port"].as_u64().unwrap_or(0) as u16,
                    s["inode"].as_u64().unwrap_or(0),
                    pids,
                )
            })
            .collect();
        c.eq(
            &ours,
            &theirs,
            &format!("netns {ns}: listeners (port, inode, pids) vs ss"),
        );
    }

    // ---- --netns by name, member, pod, glob and id prefix
    let select = |arg: &str| -> Result<BTreeSet<u64>, String> {
        let r = bindscope(&["snapshot", "--format", "json", "--netns", arg]);
        if r.ok() {
            Ok(netns_ids(&r.json()))
        } else {
            Err(r.stderr)
        }
    };
    let mine_set: BTreeSet<u64> = mine.values().copied().collect();
    let web12 = by("web").id[..12].to_string();
    let side12 = by("side").id[..12].to_string();
    let pod_arg = format!("pod:{pod_name}");
    for (arg, want) in [
        (n("web"), web_ns),
        // A member's name selects the namespace it lives in: "what listens in side?" is
        // answered by the namespace side shares with web.
        (n("side"), web_ns),
        (n("nonet"), mine["nonet"]),
        (pod_arg.clone(), pod_ns),
        (n("pweb"), pod_ns),
        (n("pnone"), mine["pnone"]),
        (n("pns"), mine["pns"]),
        // The runtime's bind-mount name stays an alias of the namespace.
        (bind_ns.name.clone(), mine["pns"]),
        (n("lx"), mine["lx"]),
        // A host-network container lives in the host's namespace: asking by its name
        // answers with that one.
        (n("hostc"), host_ns),
        (web12.clone(), web_ns),
        (side12.clone(), web_ns),
        // A container with no name is asked for as bindscope labels it.
        (by("ctr").label(), mine["ctr"]),
    ] {
        match select(&arg) {
            Ok(got) => c.eq(got, BTreeSet::from([want]), &format!("--netns {arg}")),
            Err(e) => c.check(false, || format!("--netns {arg} failed: {}", e.trim())),
        }
    }
    // A glob: every match, and of this test's namespaces only web's.
    match select("we*") {
        Ok(got) => {
            let of_mine: BTreeSet<u64> = got.intersection(&mine_set).copied().collect();
            c.eq(
                of_mine,
                BTreeSet::from([web_ns]),
                "--netns 'we*' (of the test's)",
            );
        }
        Err(e) => c.check(false, || format!("--netns 'we*' failed: {}", e.trim())),
    }
    // An unknown name is an error that lists the names it knows.
    let r = bindscope(&["snapshot", "--format", "json", "--netns", &n("nosuch")]);
    c.check(!r.ok(), || "--netns of an unknown name succeeded".into());
    for known in [n("web"), pod_name.clone(), n("lx")] {
        c.check(r.stderr.contains(&known), || {
            format!(
                "--netns of an unknown name: the error does not list {known}: {}",
                r.stderr.trim()
            )
        });
    }

    // ---- The table's CONTAINER column
    let table = bindscope(&["snapshot", "--format", "table"])
        .expect_ok("bindscope snapshot --format table")
        .stdout;
    let header = table
        .lines()
        .find(|l| l.contains("PROTO") && l.contains("LOCAL"));
    c.check(header.is_some_and(|h| h.contains("CONTAINER")), || {
        format!("the table has no CONTAINER column: {header:?}")
    });
    for m in &made {
        let needle = format!(":{} ", m.port);
        let row = table.lines().find(|l| l.contains(&needle));
        c.check(row.is_some_and(|r| r.contains(&m.label())), || {
            format!("table row of {} does not name it: {row:?}", m.label())
        });
    }

    // ---- CSV columns and Prometheus labels
    let csv_text = bindscope(&["snapshot", "--format", "csv"])
        .expect_ok("bindscope snapshot --format csv")
        .stdout;
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    let head = rdr.headers().expect("CSV header").clone();
    let col = |name: &str| head.iter().position(|h| h == name);
    let rows: Vec<csv::StringRecord> = rdr.records().filter_map(Result::ok).collect();
    match (
        col("local_port"),
        col("container"),
        col("image"),
        col("pod"),
    ) {
        (Some(port), Some(ctr), Some(image), Some(pod)) => {
            for m in &made {
                let row = rows
                    .iter()
                    .find(|r| r.get(port) == Some(&m.port.to_string()));
                let got = row.map(|r| {
                    (
                        r.get(ctr).unwrap_or("").to_string(),
                        r.get(image).unwrap_or("").to_string(),
                        r.get(pod).unwrap_or("").to_string(),
                    )
                });
                let want = (
                    m.label(),
                    m.image.clone().unwrap_or_default(),
                    m.pod.clone().unwrap_or_default(),
                );
                c.eq(
                    got,
                    Some(want),
                    &format!("CSV container, image, pod of {}", m.port),
                );
            }
        }
        cols => c.check(false, || {
            format!("CSV lacks local_port/container/image/pod columns ({cols:?}): {head:?}")
        }),
    }
    let prom = bindscope(&["snapshot", "--format", "prom"])
        .expect_ok("bindscope snapshot --format prom")
        .stdout;
    for m in &made {
        let line = prom.lines().find(|l| {
            l.starts_with("bindscope_listener_sockets{")
                && l.contains(&format!("port=\"{}\"", m.port))
        });
        let want = format!(
            "container=\"{}\",pod=\"{}\"",
            m.label(),
            m.pod.clone().unwrap_or_default()
        );
        c.check(line.is_some_and(|l| l.contains(&want)), || {
            format!("Prometheus series of {} lacks {want}: {line:?}", m.port)
        });
    }

    // ---- The dashboard over the snapshot: the column, and filters by container, image,
    // namespace glob and pod.
    let snap_file = scratch.path("snap.json");
    bindscope(&[
        "snapshot",
        "--format",
        "json",
        "--all",
        "-o",
        &snap_file.display().to_string(),
    ])
    .expect_ok("bindscope snapshot -o");
    let session = format!("bsc-{pid}");
    let tmux = Tmux::start(
        &session,
        220,
        60,
        &format!("{BINDSCOPE} open {}; sleep 60", snap_file.display()),
    );
    // The rows of a busy host may not all fit: the column is checked on the header, and
    // the names on the rows each filter leaves.
    let first = tmux.wait_for("the Sockets view", |s| {
        s.lines()
            .any(|l| l.contains("PROTO") && l.contains("LOCAL"))
    });
    let header = first
        .lines()
        .find(|l| l.contains("PROTO") && l.contains("LOCAL"))
        .unwrap_or_default();
    c.check(header.contains("CONTAINER"), || {
        format!("the Sockets view has no CONTAINER column: {header}")
    });
    let row_of = |screen: &str, port: u16| -> Option<String> {
        screen
            .lines()
            .find(|l| l.contains(&format!(":{port} ")))
            .map(str::to_string)
    };
    let ports_of = |bases: &[&str]| -> BTreeSet<u16> { bases.iter().map(|b| by(b).port).collect() };
    let all_ports: BTreeSet<u16> = made.iter().map(|m| m.port).collect();
    for (filter, want) in [
        // A namespace a container made is shared by every container in it (web's by side):
        // its sockets are theirs (src/model/names.rs, `sharing`).
        (
            format!("container:{}", n("web")),
            ports_of(&["web", "side"]),
        ),
        // The host's namespace is nobody's: only hostc's own listener is hostc's.
        (format!("container:{}", n("hostc")), ports_of(&["hostc"])),
        (format!("container:{}", n("pns")), ports_of(&["pns"])),
        (
            "image:localhost/bs*".to_string(),
            ports_of(&["pnone", "pweb", "pside", "pns"]),
        ),
        ("netns:web*".to_string(), ports_of(&["web", "side"])),
        (format!("pod:{pod_name}"), ports_of(&["pweb", "pside"])),
    ] {
        tmux.keys(&["/"]);
        tmux.keys(&["-l", &filter]);
        tmux.keys(&["Enter"]);
        tmux.wait_for(&format!("filter {filter}"), |s| s.contains(&filter));
        // The rows follow the filter line within a redraw or two: the screen is read until
        // it shows what is wanted, and the last one read is judged if it never does.
        let shown_on = |screen: &str| -> BTreeSet<u16> {
            all_ports
                .iter()
                .copied()
                .filter(|&p| row_of(screen, p).is_some())
                .collect()
        };
        let mut screen = String::new();
        common::wait_for(Duration::from_secs(10), || {
            screen = tmux.screen();
            shown_on(&screen) == want
        });
        let shown = shown_on(&screen);
        c.eq(
            &shown,
            &want,
            &format!("dashboard filter '{filter}' shows these ports"),
        );
        for m in made.iter().filter(|m| shown.contains(&m.port)) {
            let row = row_of(&screen, m.port).unwrap_or_default();
            c.check(row.contains(&m.label()), || {
                format!(
                    "filter '{filter}': the row of {} does not name it: {row}",
                    m.port
                )
            });
        }
        tmux.keys(&["Escape"]);
        tmux.wait_for("the filter cleared", |s| !s.contains(&filter));
    }
    drop(tmux);

    // ---- As nobody: the same names where the files allow, and a word on what is missing
    let bin = common::world_readable_binary();
    let r = bindscope_nobody(&bin.path, &["snapshot", "--format", "json", "--all"]);
    c.check(r.ok(), || {
        format!("snapshot as nobody failed: {}", r.stderr)
    });
    if r.ok() {
        let nsnap = r.json();
        // What it says it could not see: the privileges lines (and the warnings, where a
        // line about refused runtime state may go).
        let missing = [&nsnap["privileges"]["missing"], &nsnap["warnings"]]
            .iter()
            .filter_map(|v| v.as_array())
            .flatten()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n");
        for (key, owner, members, name) in &owners {
            let id = mine[key];
            match netns_entry(&nsnap, id) {
                // Listed (through a bind mount nobody can stat): what it says of the owner
                // must be what root says. Nothing nobody can read ties Docker's or a Podman
                // path namespace to its container, so the owner may be unknown here.
                Some(e) => {
                    let o = &e["container"];
                    if !o.is_null() {
                        c.eq(
                            json_str(&o["id"]),
                            Some(owner.id.as_str()),
                            &format!("as nobody: netns {name} owner id"),
                        );
                    }
                    if !o["name"].is_null() {
                        c.eq(
                            json_str(&o["name"]),
                            Some(owner.name.as_str()),
                            &format!("as nobody: netns {name} owner name"),
                        );
                    }
                }
                // Not listed: the privileges lines must say which. Podman's and LXC's names
                // are in their supervisors' command lines, which anyone can read (conmon's
                // `-n`, `[lxc monitor] PATH NAME`), so those are named; Docker's names are
                // in 0600 files and `ctr` has none, so those may be given by id.
                None => {
                    let mut names: Vec<String> = vec![name.clone(), owner.name.clone()];
                    names.extend(members.iter().map(|m| n(m)));
                    let by_name = names.iter().any(|l| missing.contains(l.as_str()));
                    let by_id = missing.contains(&owner.id[..12.min(owner.id.len())]);
                    let by_id_ok = owner.runtime == "docker" || !owner.named;
                    let said = by_name || (by_id_ok && by_id);
                    c.check(said, || {
                        format!(
                            "as nobody: netns {name} is not listed and the privileges lines do \
                             not name it (by {}):\n{missing}",
                            if by_id_ok { "name or id" } else { "name" }
                        )
                    });
                }
            }
        }
    }

    // ---- Cleanup, and nothing left behind
    let mut ids: Vec<String> = docker.ids.clone();
    ids.extend(podman.ids.iter().cloned());
    ids.extend(podman.pods.iter().cloned());
    ids.push(lxc.name.clone());
    ids.extend(ctd.ids.iter().cloned());
    ids.push(ctd.namespace.clone());
    let dir = scratch.dir.clone();
    let ns_name = bind_ns.name.clone();
    let cleanup = Instant::now();
    drop(lxc);
    drop(ctd);
    drop(podman);
    drop(docker);
    drop(bind_ns);
    drop(scratch);
    eprintln!(
        "containers: cleanup {:.1} s; whole test {:.1} s",
        cleanup.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    let left = runtimes::leftovers(&dir, &ids, &ns_name);
    c.check(left.is_empty(), || format!("left behind: {left:?}"));
    c.finish();
}
