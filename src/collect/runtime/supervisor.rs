//! The process that supervises a container, from its command line. A container's first
//! process is the child of its runtime's supervisor, and the supervisor's command line is
//! readable by every user: it names the container (conmon, LXC's monitor) or its id and
//! namespace (containerd's shim), and where the runtime keeps its state.

/// A supervisor and what its command line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Supervisor {
    /// `containerd-shim-runc-v2 -namespace NS -id ID -address SOCKET`: Docker (namespace
    /// `moby`), Kubernetes (`k8s.io`, where ID is the pod sandbox's: a pod's containers share
    /// the sandbox's shim) or plain containerd.
    Shim {
        namespace: String,
        id: String,
        address: Option<String>,
    },
    /// `conmon -c ID -n NAME -b BUNDLE …`: Podman or CRI-O. Podman's exit command carries
    /// its storage roots (`--exit-command-arg --root --exit-command-arg PATH`).
    Conmon {
        id: String,
        name: Option<String>,
        bundle: Option<String>,
        /// Podman's graph root and run root, from the exit command; `None` for CRI-O.
        podman_root: Option<String>,
        podman_runroot: Option<String>,
    },
    /// `[lxc monitor] LXCPATH NAME` (one argument).
    LxcMonitor { lxcpath: String, name: String },
}

/// The value after `flag` (`-id X`, also `-id=X` and `--id X`).
fn flag_value<'a>(argv: &'a [String], flags: &[&str]) -> Option<&'a str> {
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        for f in flags {
            if a == f {
                return it.next().map(String::as_str);
            }
            if let Some(v) = a.strip_prefix(f).and_then(|r| r.strip_prefix('=')) {
                return Some(v);
            }
        }
    }
    None
}

/// Podman's `--exit-command-arg` values, in order.
fn exit_command(argv: &[String]) -> Vec<&str> {
    argv.windows(2)
        .filter(|w| w[0] == "--exit-command-arg")
        .map(|w| w[1].as_str())
        .collect()
}

fn after<'a>(args: &[&'a str], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| *a == flag)
        .and_then(|i| args.get(i + 1))
        .copied()
        .filter(|v| !v.is_empty())
}

fn program(argv: &[String]) -> Option<&str> {
    let first = argv.first()?;
    Some(first.rsplit('/').next().unwrap_or(first))
}

/// The supervisor a command line belongs to, if it is one.
pub fn supervisor(argv: &[String]) -> Option<Supervisor> {
    let prog = program(argv)?;
    if let Some(rest) = argv.first()?.strip_prefix("[lxc monitor] ") {
        // One argument, spaces between: the name is the last word (an LXC name has none).
        let (lxcpath, name) = rest.trim_end_matches('\0').rsplit_once(' ')?;
        return Some(Supervisor::LxcMonitor {
            lxcpath: lxcpath.to_string(),
            name: name.to_string(),
        });
    }
    if prog.starts_with("containerd-shim") {
        return Some(Supervisor::Shim {
            namespace: flag_value(argv, &["-namespace", "--namespace"])?.to_string(),
            id: flag_value(argv, &["-id", "--id"])?.to_string(),
            address: flag_value(argv, &["-address", "--address"]).map(str::to_string),
        });
    }
    if prog == "conmon" {
        let exit = exit_command(argv);
        let id = flag_value(argv, &["-c", "--cid"])?;
        return Some(Supervisor::Conmon {
            id: id.to_string(),
            name: flag_value(argv, &["-n", "--name"])
                .filter(|n| !n.is_empty())
                .map(str::to_string),
            bundle: flag_value(argv, &["-b", "--bundle"]).map(str::to_string),
            podman_root: after(&exit, "--root").map(str::to_string),
            podman_runroot: after(&exit, "--runroot").map(str::to_string),
        });
    }
    None
}

/// Where dockerd keeps its state, from its command line (`--data-root`, `--exec-root`,
/// `--config-file`); `None` fields mean the defaults or `daemon.json` decide.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerDaemon {
    pub data_root: Option<String>,
    pub exec_root: Option<String>,
    pub config_file: Option<String>,
}

/// dockerd's own flags, if `argv` is dockerd.
pub fn docker_daemon(argv: &[String]) -> Option<DockerDaemon> {
    (program(argv)? == "dockerd").then(|| DockerDaemon {
        data_root: flag_value(argv, &["--data-root", "-g", "--graph"]).map(str::to_string),
        exec_root: flag_value(argv, &["--exec-root"]).map(str::to_string),
        config_file: flag_value(argv, &["--config-file"]).map(str::to_string),
    })
}

/// Where a containerd keeps its state, from its command line (`--state`, `--root`,
/// `--config`); `None` fields mean its config file or the defaults decide.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerdDaemon {
    pub state: Option<String>,
    pub root: Option<String>,
    pub config: Option<String>,
}

/// containerd's own flags, if `argv` is containerd (not a shim, not `ctr`).
pub fn containerd_daemon(argv: &[String]) -> Option<ContainerdDaemon> {
    (program(argv)? == "containerd").then(|| ContainerdDaemon {
        state: flag_value(argv, &["--state"]).map(str::to_string),
        root: flag_value(argv, &["--root"]).map(str::to_string),
        config: flag_value(argv, &["--config", "-c"]).map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `.lines` capture: one argument per line (an empty line is an empty argument).
    fn lines(text: &str) -> Vec<String> {
        text.strip_suffix('\n')
            .unwrap_or(text)
            .split('\n')
            .map(str::to_string)
            .collect()
    }

    const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/runtimes");

    fn fixture(path: &str) -> Vec<String> {
        lines(&std::fs::read_to_string(format!("{FIX}/{path}")).unwrap())
    }

    #[test]
    fn docker_shims_name_namespace_and_id() {
        let s = supervisor(&fixture("docker-20.10.24/web/shim-cmdline.lines"));
        assert_eq!(
            s,
            Some(Supervisor::Shim {
                namespace: "moby".into(),
                id: "02175b2a1941f7f7b1a4301c29df7bd0cbfb075bd2aa98a733d75725acb36a5f".into(),
                address: Some("/tmp/r13/docker-exec/containerd/containerd.sock".into()),
            })
        );
        let d = docker_daemon(&fixture("docker-20.10.24/dockerd-cmdline.lines")).unwrap();
        assert_eq!(d.data_root.as_deref(), Some("/tmp/r13/docker"));
        assert_eq!(d.exec_root.as_deref(), Some("/tmp/r13/docker-exec"));
    }

    #[test]
    fn conmon_names_podman_containers_and_their_roots() {
        let Some(Supervisor::Conmon {
            id,
            name,
            podman_root,
            podman_runroot,
            ..
        }) = supervisor(&fixture("podman-4.3.1/p1web/conmon-cmdline.lines"))
        else {
            panic!("not conmon");
        };
        assert_eq!(
            id,
            "b4174f756b5f16359902a88f8400b251344fbbdd27176c7ae042953b3fd6a049"
        );
        assert_eq!(name.as_deref(), Some("p1web"));
        assert_eq!(podman_root.as_deref(), Some("/tmp/r13/pm/root"));
        assert_eq!(podman_runroot.as_deref(), Some("/tmp/r13/pm/run"));
    }

    #[test]
    fn containerd_daemons() {
        let argv: Vec<String> = [
            "containerd",
            "--config",
            "/tmp/r13/docker-exec/containerd/containerd.toml",
            "--log-level",
            "info",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            containerd_daemon(&argv),
            Some(ContainerdDaemon {
                config: Some("/tmp/r13/docker-exec/containerd/containerd.toml".into()),
                ..Default::default()
            })
        );
        let shim = fixture("docker-20.10.24/web/shim-cmdline.lines");
        assert_eq!(containerd_daemon(&shim), None);
        assert_eq!(docker_daemon(&shim), None);
    }

    #[test]
    fn lxc_monitor_and_strangers() {
        let raw = std::fs::read_to_string(format!("{FIX}/lxc-5.0.2/monitor-cmdline.raw")).unwrap();
        let argv: Vec<String> = raw
            .split('\0')
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
        assert_eq!(
            supervisor(&argv),
            Some(Supervisor::LxcMonitor {
                lxcpath: "/tmp/r13/lxc".into(),
                name: "lx1".into()
            })
        );
        for argv in [
            vec![],
            vec!["nginx".to_string()],
            vec!["/usr/bin/conmon".to_string(), "-n".to_string()],
            vec![
                "containerd-shim-runc-v2".to_string(),
                "-id".to_string(),
                "x".to_string(),
            ],
        ] {
            assert_eq!(supervisor(&argv), None, "{argv:?}");
        }
    }
}
