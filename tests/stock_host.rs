//! A stock host: real daemons from Debian, started with their packaged configurations in a
//! network namespace of the test's own, beside a few planted problems. bindscope's findings
//! must name every planted problem and judge the stock daemons as an on-call admin would.
//!
//! The daemons need their Debian packages (`.ci/run` installs them); without them the test
//! fails under `BINDSCOPE_REQUIRE_PRIVILEGED=1` and says it skipped otherwise.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Netns, RunAs, Sockmaker, bindscope, privileged, wait_for};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One daemon: how it is started (argv inside the namespace) and the socket that says it is
/// up (`ss` local address).
struct Daemon {
    name: &'static str,
    argv: Vec<String>,
    ready: &'static str,
}

/// The daemons of the stock host and what they listen on with Debian's configurations:
/// sshd (0.0.0.0:22, [::]:22), nginx (0.0.0.0:80, [::]:80), redis (127.0.0.1 and ::1:6379),
/// memcached (127.0.0.1:11211), PostgreSQL (localhost:5432), chrony (its command port 323 on
/// loopback), unbound (127.0.0.1 and ::1:53), avahi (mDNS 5353 on both families), dnsmasq
/// bound to the namespace's interface (as libvirt runs it), and two services of `nobody`: a
/// socat relay and a Python HTTP server.
///
/// What differs from a packaged start, and why: pid files, sockets and logs go to the test's
/// directory so a daemon of the host is never touched; avahi runs without D-Bus (the test
/// has no system bus); chronyd runs with `-x` (it must not set the host's clock).
/// HAProxy and rsyslog are not here: their stock configurations open no network socket.
fn daemons(dir: &Path) -> Result<Vec<Daemon>, String> {
    let d = |p: &str| dir.join(p).display().to_string();
    let owned = |sub: &str, user: &str| -> Result<String, String> {
        let path = dir.join(sub);
        fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        run_ok(Command::new("chown").args([user, &path.display().to_string()]))?;
        Ok(path.display().to_string())
    };
    let v = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    // nginx: the stock nginx.conf with only its pid file moved.
    let conf = read("/etc/nginx/nginx.conf")?;
    let conf: String = conf
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("pid ") {
                format!("pid {};", d("nginx.pid"))
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    write(&dir.join("nginx.conf"), &conf)?;

    // sshd needs its privilege-separation directory and host keys (the package makes keys).
    fs::create_dir_all("/run/sshd").map_err(|e| format!("/run/sshd: {e}"))?;

    // memcached: the options of /etc/memcached.conf, as Debian's wrapper passes them,
    // without daemonizing, the pid file and the log file.
    let mut memcached = vec!["memcached".to_string()];
    let mut skip_next = false;
    for word in read("/etc/memcached.conf")?
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('-'))
        .flat_map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
    {
        if skip_next {
            skip_next = false;
        } else if word == "-P" {
            skip_next = true;
        } else if word != "-d" {
            memcached.push(word);
        }
    }

    // unbound: what its systemd unit runs first, so the trust anchor it validates with exists.
    run_ok(Command::new("/usr/libexec/unbound-helper").arg("root_trust_anchor_update"))?;

    // PostgreSQL: the newest installed major version's stock cluster.
    let pg = newest_postgres()?;
    let pg_run = owned("pg", "postgres")?;

    // avahi: the stock configuration without D-Bus.
    let avahi =
        read("/etc/avahi/avahi-daemon.conf")?.replacen("[server]", "[server]\nenable-dbus=no", 1);
    write(&dir.join("avahi.conf"), &avahi)?;

    let www = owned("www", "nobody")?;
    let nobody = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ];
    Ok(vec![
        Daemon {
            name: "sshd",
            argv: v(&[
                "/usr/sbin/sshd",
                "-D",
                "-e",
                "-f",
                "/etc/ssh/sshd_config",
                "-o",
                "PidFile=none",
            ]),
            ready: "0.0.0.0:22",
        },
        Daemon {
            name: "nginx",
            argv: vec![
                "nginx".into(),
                "-c".into(),
                d("nginx.conf"),
                "-g".into(),
                "daemon off;".into(),
            ],
            ready: "0.0.0.0:80",
        },
        Daemon {
            name: "redis",
            argv: v(&[
                "runuser",
                "-u",
                "redis",
                "--",
                "redis-server",
                "/etc/redis/redis.conf",
                "--daemonize",
                "no",
                "--pidfile",
                "",
                "--logfile",
                "",
            ]),
            ready: "127.0.0.1:6379",
        },
        Daemon {
            name: "memcached",
            argv: memcached,
            ready: "127.0.0.1:11211",
        },
        Daemon {
            name: "postgresql",
            argv: vec![
                "runuser".into(),
                "-u".into(),
                "postgres".into(),
                "--".into(),
                pg.bin,
                "-D".into(),
                pg.data,
                "-c".into(),
                format!("config_file={}", pg.conf),
                "-c".into(),
                format!("unix_socket_directories={pg_run}"),
                "-c".into(),
                "external_pid_file=".into(),
            ],
            ready: "127.0.0.1:5432",
        },
        Daemon {
            name: "chronyd",
            argv: v(&["chronyd", "-d", "-x", "-f", "/etc/chrony/chrony.conf"]),
            ready: "127.0.0.1:323",
        },
        Daemon {
            name: "unbound",
            // `-d -d`: in the foreground, and its errors on stderr (the log) rather than syslog.
            argv: v(&["unbound", "-d", "-d", "-c", "/etc/unbound/unbound.conf"]),
            ready: "127.0.0.1:53",
        },
        Daemon {
            name: "dnsmasq",
            argv: v(&[
                "dnsmasq",
                "-k",
                "--conf-file=/dev/null",
                "--pid-file",
                "--interface=v0",
                "--except-interface=lo",
                "--bind-interfaces",
            ]),
            ready: "10.77.0.1:53",
        },
        Daemon {
            name: "avahi",
            argv: vec![
                "avahi-daemon".into(),
                "--no-chroot".into(),
                "-f".into(),
                d("avahi.conf"),
            ],
            ready: "0.0.0.0:5353",
        },
        Daemon {
            name: "socat relay (nobody)",
            argv: [
                &nobody[..],
                &[
                    "socat",
                    "TCP-LISTEN:8081,fork,reuseaddr",
                    "TCP:127.0.0.1:80",
                ],
            ]
            .concat()
            .iter()
            .map(|s| s.to_string())
            .collect(),
            ready: "0.0.0.0:8081",
        },
        Daemon {
            name: "python http.server (nobody)",
            argv: nobody
                .iter()
                .map(|s| s.to_string())
                .chain([common::python()])
                .chain(v(&["-m", "http.server", "8000", "--bind", "0.0.0.0"]))
                .chain(["--directory".to_string(), www])
                .collect(),
            ready: "0.0.0.0:8000",
        },
    ])
}

struct Postgres {
    bin: String,
    data: String,
    conf: String,
}

fn newest_postgres() -> Result<Postgres, String> {
    let mut versions: Vec<u32> = fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("/usr/lib/postgresql: {e} (package postgresql)"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort();
    let v = versions
        .last()
        .ok_or("no PostgreSQL version in /usr/lib/postgresql")?;
    let pg = Postgres {
        bin: format!("/usr/lib/postgresql/{v}/bin/postgres"),
        data: format!("/var/lib/postgresql/{v}/main"),
        conf: format!("/etc/postgresql/{v}/main/postgresql.conf"),
    };
    for p in [&pg.bin, &pg.data, &pg.conf] {
        if !Path::new(p).exists() {
            return Err(format!(
                "{p} is missing (package postgresql makes the cluster)"
            ));
        }
    }
    Ok(pg)
}

fn read(path: &str) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{path}: {e} (is its package installed?)"))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn run_ok(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The running host: the namespace (its Drop kills every process in it, then deletes it),
/// the daemons' children and the test's directory.
struct StockHost {
    children: Vec<Child>,
    dir: PathBuf,
    ns: Netns,
}

impl Drop for StockHost {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl StockHost {
    /// The namespace with an interface of its own (a veth pair, both ends inside: 10.77.0.1/24
    /// and fd77::1/64 on v0, multicast on, as a LAN interface) and every daemon listening.
    fn start(ns: Netns) -> Result<StockHost, String> {
        let dir = PathBuf::from(format!("/tmp/bindscope-{}", ns.name()));
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut host = StockHost {
            children: Vec::new(),
            dir,
            ns,
        };
        for args in [
            "link add v0 type veth peer name v1",
            "link set v0 up multicast on",
            "link set v1 up",
            "addr add 10.77.0.1/24 dev v0",
            "addr add fd77::1/64 dev v0 nodad",
            "route add 224.0.0.0/4 dev v0",
        ] {
            let argv: Vec<&str> = args.split(' ').collect();
            host.ns.ip(&argv);
        }
        for daemon in daemons(&host.dir)? {
            host.launch(daemon)?;
        }
        Ok(host)
    }

    fn launch(&mut self, daemon: Daemon) -> Result<(), String> {
        let log_path = self
            .dir
            .join(format!("{}.log", daemon.name.replace(' ', "_")));
        let log = fs::File::create(&log_path).map_err(|e| format!("{e}"))?;
        let err = log.try_clone().map_err(|e| format!("{e}"))?;
        let argv: Vec<&str> = daemon.argv.iter().map(String::as_str).collect();
        let child = self
            .ns
            .cmd(&argv)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("{}: cannot start {:?}: {e}", daemon.name, daemon.argv))?;
        self.children.push(child);
        let up = wait_for(Duration::from_secs(30), || {
            self.listening().iter().any(|l| l == daemon.ready)
        });
        if up {
            Ok(())
        } else {
            Err(format!(
                "{} did not open {} within 30 s: {}",
                daemon.name,
                daemon.ready,
                fs::read_to_string(&log_path).unwrap_or_default().trim()
            ))
        }
    }

    /// The local addresses `ss` lists in the namespace (TCP listeners, UDP sockets).
    fn listening(&self) -> Vec<String> {
        let out = self.ns.run(&["ss", "-Htuln"]);
        out.stdout
            .lines()
            .filter_map(|l| l.split_whitespace().nth(4).map(str::to_string))
            .collect()
    }
}

/// The problems a real host has that an admin must hear about, made with real sockets:
/// - `takeover`: uid 1001 serves UDP 0.0.0.0:7000 with SO_REUSEADDR, and uid 1002 has bound
///   127.0.0.1:7000 with SO_REUSEADDR too: it now receives every unicast datagram sent to the
///   service on loopback.
/// - `stuck`: a TCP listener on 127.0.0.1:7100 with backlog 1 that never accepts, and two
///   clients: its accept queue is full (2 > 1) and new connections are dropped.
/// - `v6only`: uid 1001 listens on [::]:7200 with IPV6_V6ONLY: any user can bind
///   0.0.0.0:7200 and receive every IPv4 client.
fn plant(ns: &Netns) -> Sockmaker {
    Sockmaker::start(
        ns,
        &serde_json::json!({"sockets": [
            {"name": "svc7000", "proto": "udp", "family": 4, "addr": "0.0.0.0", "port": 7000,
             "options": {"reuseaddr": true}, "uid": 1001, "comm": "svc"},
            {"name": "thief7000", "proto": "udp", "family": 4, "addr": "127.0.0.1", "port": 7000,
             "options": {"reuseaddr": true}, "uid": 1002, "comm": "thief"},
            {"name": "stuck", "proto": "tcp", "family": 4, "addr": "127.0.0.1", "port": 7100,
             "options": {"nonblocking": true}, "listen": 1, "uid": 1001, "group": "stuck",
             "comm": "stuck", "clients": 2},
            {"name": "v6only", "proto": "tcp", "family": 6, "addr": "::", "port": 7200,
             "options": {"v6only": true, "nonblocking": true}, "listen": 16, "uid": 1001,
             "group": "six", "comm": "six"}
        ]}),
    )
}

/// `bindscope findings --json` of the namespace: (kind, severity, ports of its sockets).
struct Found {
    kind: String,
    severity: String,
    ports: Vec<u64>,
    summary: String,
}

fn findings(ns: &Netns) -> (Vec<Found>, Value) {
    let run = bindscope(
        ns,
        &[
            "snapshot", "--netns", "current", "-o", "-", "--format", "json",
        ],
        RunAs::Root,
    );
    assert!(run.ok(), "bindscope snapshot failed: {}", run.stderr);
    let snap = run.json();
    let port_of: BTreeMap<String, u64> = snap["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["local_port"].as_u64().unwrap(),
            )
        })
        .collect();
    let found = snap["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| Found {
            kind: f["kind"].as_str().unwrap().to_string(),
            severity: f["severity"].as_str().unwrap().to_string(),
            ports: f["sockets"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|id| port_of.get(id.as_str()?).copied())
                .collect(),
            summary: f["summary"].as_str().unwrap().to_string(),
        })
        .collect();
    (found, snap)
}

const PLANTED_PORTS: [u64; 3] = [7000, 7100, 7200];

#[test]
fn stock_daemons_and_planted_problems() {
    let Some(ns) = privileged("stock_daemons_and_planted_problems") else {
        return;
    };
    let host = match StockHost::start(ns) {
        Ok(h) => h,
        Err(why) => {
            if std::env::var(common::REQUIRE_ENV).is_ok_and(|v| v == "1") {
                panic!("the stock host cannot start: {why}");
            }
            eprintln!("SKIPPED stock_daemons_and_planted_problems: {why}");
            return;
        }
    };
    let _planted = plant(&host.ns);
    // dnsmasq binds v0's IPv6 addresses too once their DAD is done, a second or two after
    // it dropped to nobody: those sockets are nobody's, its first ones root's. Judged with
    // them there, as a host that has been up a while is.
    let late = wait_for(Duration::from_secs(15), || {
        let ss = host.ns.sh(&["ss", "-Htlnu"]);
        ss.contains("[fd77::1]:53") && ss.contains("%v0:53")
    });
    assert!(
        late,
        "dnsmasq did not bind v0's IPv6 addresses: {}",
        host.ns.sh(&["ss", "-Htlnu"])
    );
    let (found, _snap) = findings(&host.ns);

    // Every planted problem is found, at the severity an admin acts on.
    let has = |kind: &str, severity: &str, port: u64| {
        found
            .iter()
            .any(|f| f.kind == kind && f.severity == severity && f.ports.contains(&port))
    };
    let listing: Vec<String> = found
        .iter()
        .map(|f| format!("{} {} {:?}: {}", f.severity, f.kind, f.ports, f.summary))
        .collect();
    for (kind, severity, port) in [
        ("udp_reuseaddr_takeover", "warning", 7000),
        ("accept_queue_full", "critical", 7100),
        ("family_split", "warning", 7200),
    ] {
        assert!(
            has(kind, severity, port),
            "no {severity} {kind} on port {port} among:\n{}",
            listing.join("\n")
        );
    }

    // What the stock daemons alone get, by severity (the figures of the note).
    let mut stock: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &found {
        if !f.ports.iter().any(|p| PLANTED_PORTS.contains(p)) {
            *stock.entry(f.severity.as_str()).or_default() += 1;
            eprintln!("stock: {} {} {}", f.severity, f.kind, f.summary);
        }
    }
    eprintln!("stock host findings by severity: {stock:?}");
    // No warning or critical names a socket held only by stock daemons: their mDNS
    // responders share 5353 by design, their clients' ephemeral ports serve nothing.
    let loud: Vec<&Found> = found
        .iter()
        .filter(|f| matches!(f.severity.as_str(), "warning" | "critical"))
        .filter(|f| !f.ports.iter().any(|p| PLANTED_PORTS.contains(p)))
        .collect();
    // Every notice on the stock daemons, with the reason it is true.
    let true_notices: [(&str, u64, &str); 4] = [
        (
            "family_split",
            11211,
            "memcached listens on 127.0.0.1 only: any user can bind [::1]:11211 and receive the \
             clients that connect to 'localhost', which getaddrinfo orders ::1 first",
        ),
        (
            "family_split",
            5432,
            "PostgreSQL's stock listen_addresses = 'localhost' opened 127.0.0.1 only here: \
             `psql -h localhost` tries ::1 first, which any user can bind",
        ),
        (
            "family_split",
            8081,
            "the socat relay listens on 0.0.0.0 only: any user can bind [::]:8081",
        ),
        (
            "family_split",
            8000,
            "the Python server listens on 0.0.0.0 only: any user can bind [::]:8000",
        ),
    ];
    let notices: Vec<&Found> = found
        .iter()
        .filter(|f| f.severity == "notice")
        .filter(|f| !f.ports.iter().any(|p| PLANTED_PORTS.contains(p)))
        .collect();
    for f in &notices {
        assert!(
            true_notices
                .iter()
                .any(|(kind, port, _)| f.kind == *kind && f.ports.contains(port)),
            "a notice on the stock daemons that is not known true: {} {:?} {}",
            f.kind,
            f.ports,
            f.summary
        );
    }
    for (kind, port, why) in true_notices {
        assert!(
            notices
                .iter()
                .any(|f| f.kind == kind && f.ports.contains(&port)),
            "expected {kind} on {port} ({why}) among {:?}",
            notices.iter().map(|f| &f.summary).collect::<Vec<_>>()
        );
    }
    assert!(
        loud.is_empty(),
        "stock daemons judged loud:\n{}",
        loud.iter()
            .map(|f| format!("{} {} {}", f.severity, f.kind, f.summary))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
