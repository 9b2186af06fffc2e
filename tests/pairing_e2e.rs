//! Pairing on an incident, end to end with the real binary in a real terminal (tmux):
//! - a recording streamed through a pipe into `open -`: the screen follows new samples,
//!   the writer's end shows as "STREAM ENDED", and the time line goes back;
//! - `open --follow` on a file appended to, then truncated;
//! - the dashboard's export (`e`) opened again: the view, filter and marks come back;
//! - `can-bind --from` a recording agrees with the live answer on the same state, and
//!   still answers for the recorded moment once the state changed;
//! - the README's ssh command, run as written between two network namespaces: an sshd
//!   in one ("web1"), the client and the dashboard in the other.
//!
//! Needs root, `ip`, python3 and tmux (and sshd and ssh for the last); without them they
//! skip, unless `BINDSCOPE_REQUIRE_PRIVILEGED=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tmux::{self, Tmux};
use common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_bindscope");

/// One listener in `ns`, on a port of its own.
fn listener(ns: &Netns) -> Sockmaker {
    Sockmaker::start(
        ns,
        &json!({"sockets": [
            {"name": "api", "proto": "tcp", "family": 4, "addr": "127.0.0.1", "port": 0,
             "listen": 16, "uid": 0, "comm": "api-server"}
        ]}),
    )
}

/// `record` in `ns` writing `samples` samples to `path`.
fn record(ns: &Netns, path: &Path, samples: u32, extra: &[&str]) {
    let out = ns
        .cmd(&[BIN, "record", "-q", "-o", path.to_str().expect("path")])
        .args(["--interval", "300ms", "--samples", &samples.to_string()])
        .args(["--netns", "current"])
        .args(extra)
        .output()
        .expect("run record");
    assert!(
        out.status.success(),
        "record: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_stream_through_a_pipe_is_followed_to_its_end() {
    let Some(ns) = privileged("a_stream_through_a_pipe") else {
        return;
    };
    if !tmux::available() {
        return;
    }
    let sm = listener(&ns);
    let port = sm.port("api");
    let cmd = format!(
        "ip netns exec {ns} {BIN} record -o - --interval 1s --samples 5 --netns current \
         | {BIN} open -; echo EXIT=$?; sleep 60",
        ns = ns.name()
    );
    let t = Tmux::start(&format!("pipe-{}", std::process::id()), 160, 40, &cmd);
    // The first sample starts the dashboard; the next ones are followed as they come.
    let s = t.wait_for("the streamed listener", |s| {
        s.contains(&format!("127.0.0.1:{port}")) && s.contains("following")
    });
    assert!(s.contains("stream standard input"), "{s}");
    t.wait_for("a second sample, followed", |s| s.contains("[2/2]"));
    t.wait_for("a third sample, followed", |s| s.contains("[3/3]"));
    // The writer ends after its fifth: the end is shown, the last sample stays.
    let s = t.wait_for("the end of the stream", |s| s.contains("STREAM ENDED"));
    assert!(s.contains("[5/5]"), "{s}");
    assert!(s.contains(&format!("127.0.0.1:{port}")), "{s}");
    assert!(s.contains("its last sample stays on screen"), "{s}");
    // The time line goes back, and forward again.
    t.keys(&["["]);
    t.wait_for("one sample back", |s| s.contains("[4/5]"));
    t.keys(&["{"]);
    t.wait_for("the first sample", |s| s.contains("[1/5]"));
    t.keys(&["}"]);
    t.wait_for("the last sample", |s| s.contains("[5/5]"));
    t.keys(&["q"]);
    t.wait_for("a clean exit", |s| s.contains("EXIT=0"));
}

#[test]
fn follow_reads_a_file_as_it_grows_and_after_truncation() {
    let Some(ns) = privileged("follow_reads_a_file") else {
        return;
    };
    if !tmux::available() {
        return;
    }
    let _sm = listener(&ns);
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src.jsonl");
    record(&ns, &src, 3, &[]);
    let samples = lines(&src);
    assert_eq!(samples.len(), 3);
    let followed = dir.path().join("rec.jsonl");
    std::fs::write(&followed, format!("{}\n", samples[0])).expect("write");
    let cmd = format!(
        "{BIN} open --follow {}; echo EXIT=$?; sleep 60",
        followed.display()
    );
    let t = Tmux::start(&format!("follow-{}", std::process::id()), 160, 40, &cmd);
    let s = t.wait_for("the first sample", |s| s.contains("following"));
    assert!(s.contains("stream rec.jsonl"), "{s}");
    // Appended: the new sample is shown.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&followed)
        .expect("append");
    std::io::Write::write_all(&mut f, format!("{}\n", samples[1]).as_bytes()).expect("append");
    drop(f);
    t.wait_for("the appended sample", |s| s.contains("[2/2]"));
    // Truncated and written again (a rotation by copytruncate): said, and read from the
    // start; what was shown before stays on the time line.
    std::fs::write(&followed, format!("{}\n", samples[2])).expect("truncate");
    let s = t.wait_for("the truncation", |s| s.contains("[3/3]"));
    assert!(s.contains("following"), "{s}");
    t.keys(&["q"]);
    t.wait_for("a clean exit", |s| s.contains("EXIT=0"));
}

#[test]
fn an_export_opens_with_the_view_filter_and_marks() {
    let Some(ns) = privileged("an_export_opens_with_the_view") else {
        return;
    };
    if !tmux::available() {
        return;
    }
    let sm = listener(&ns);
    let port = sm.port("api");
    let dir = tempfile::tempdir().expect("tempdir");
    let cmd = format!(
        "cd {} && ip netns exec {} {BIN} --netns current; echo EXIT=$?; sleep 60",
        dir.path().display(),
        ns.name()
    );
    let t = Tmux::start(&format!("handover-{}", std::process::id()), 160, 40, &cmd);
    t.wait_for("the listener", |s| s.contains(&format!("127.0.0.1:{port}")));
    // A mark with a note on the listener, then the Ports view filtered to its port.
    t.keys(&["m"]);
    t.keys(&["n"]);
    t.keys(&["-l", "paged at 03:12"]);
    t.keys(&["Enter"]);
    t.keys(&["2"]);
    t.keys(&["/"]);
    t.keys(&["-l", &format!("port:{port}")]);
    t.keys(&["Enter"]);
    t.wait_for("the filter", |s| s.contains(&format!("filter port:{port}")));
    t.keys(&["e"]);
    t.wait_for("the export prompt", |s| s.contains("export to:"));
    t.keys(&["Enter"]);
    t.wait_for("the export", |s| s.contains("exported "));
    t.keys(&["q"]);
    t.wait_for("a clean exit", |s| s.contains("EXIT=0"));
    let file = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("the exported file");
    let snap: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    assert_eq!(snap["dashboard"]["tab"], "ports", "{}", snap["dashboard"]);
    assert_eq!(snap["dashboard"]["filter"], format!("port:{port}"));
    assert_eq!(snap["dashboard"]["selected"]["port"], port);
    assert_eq!(
        snap["marks"][0]["note"], "paged at 03:12",
        "{}",
        snap["marks"]
    );
    // Opened by the colleague: the Ports view, filtered, on the port; the note is there.
    let cmd = format!("{BIN} open {}; echo EXIT=$?; sleep 60", file.display());
    let t = Tmux::start(
        &format!("handover-open-{}", std::process::id()),
        160,
        40,
        &cmd,
    );
    let s = t.wait_for("the handed-over view", |s| {
        s.contains(&format!("filter port:{port}")) && s.contains("BINDS")
    });
    assert!(
        s.contains(&format!("tcp    {port}")) || s.contains(&format!(" {port} ")),
        "{s}"
    );
    t.keys(&["1"]);
    t.keys(&["Enter"]);
    t.wait_for("the note in the detail", |s| s.contains("paged at 03:12"));
    t.keys(&["q"]);
    t.wait_for("a clean exit", |s| s.contains("EXIT=0"));
}

/// `can-bind --from` a recording of the same state answers as the live host does, for
/// binds that fail and binds that succeed; once the listener is gone, the live answer
/// changes and the recording still answers for its moment.
#[test]
fn can_bind_from_a_recording_agrees_with_live() {
    let Some(ns) = privileged("can_bind_from_a_recording") else {
        return;
    };
    let mut sm = Sockmaker::start(
        &ns,
        &json!({"sockets": [
            {"name": "api", "proto": "tcp", "family": 4, "addr": "127.0.0.1", "port": 0,
             "listen": 16, "uid": 0},
            {"name": "shared", "proto": "tcp", "family": 4, "addr": "0.0.0.0", "port": 0,
             "options": {"reuseport": true}, "listen": 16, "uid": 1001},
            {"name": "dns", "proto": "udp", "family": 4, "addr": "127.0.0.1", "port": 0,
             "uid": 0}
        ]}),
    );
    let (api, shared, dns) = (sm.port("api"), sm.port("shared"), sm.port("dns"));
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = dir.path().join("rec.jsonl");
    record(&ns, &rec, 2, &["--all"]);
    let asks: Vec<Vec<String>> = [
        vec!["tcp".to_string(), format!("127.0.0.1:{api}")],
        vec!["tcp".into(), format!("0.0.0.0:{api}"), "--reuseaddr".into()],
        vec![
            "tcp".into(),
            format!("127.0.0.2:{shared}"),
            "--reuseport".into(),
            "--user".into(),
            "1001".into(),
        ],
        vec![
            "tcp".into(),
            format!("127.0.0.2:{shared}"),
            "--reuseport".into(),
            "--user".into(),
            "1002".into(),
        ],
        vec!["udp".into(), format!("0.0.0.0:{dns}")],
        vec!["udp".into(), format!("127.0.0.1:{api}")],
    ]
    .into_iter()
    .collect();
    let verdict = |args: &[String], from: Option<(&Path, Option<&str>)>| -> (Value, Option<i32>) {
        let mut argv: Vec<String> = vec![BIN.into(), "can-bind".into()];
        argv.extend(args.iter().cloned());
        argv.extend(["--json".into(), "-q".into()]);
        if let Some((file, at)) = from {
            argv.extend(["--from".into(), file.display().to_string()]);
            if let Some(at) = at {
                argv.extend(["--at".into(), at.into()]);
            }
        }
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let r = ns.run(&argv);
        let v: Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("{argv:?}: not JSON ({e}): {} {}", r.stdout, r.stderr));
        (v, r.status.code())
    };
    let results: Vec<String> = asks
        .iter()
        .map(|a| {
            let (live, live_code) = verdict(a, None);
            let (file, file_code) = verdict(a, Some((&rec, None)));
            for field in ["result", "at", "blockers"] {
                assert_eq!(
                    live[field], file[field],
                    "{a:?} {field}: live {live} file {file}"
                );
            }
            assert_eq!(live_code, file_code, "{a:?}");
            assert_eq!(file["from"]["sample"], 2, "{file}");
            live["result"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    // Both kinds of answer were compared.
    assert!(results.iter().any(|r| r == "ok"), "{results:?}");
    assert!(results.iter().any(|r| r == "EADDRINUSE"), "{results:?}");
    // The service is gone: live says the bind works; the recording still says it did
    // not, at its first sample's moment.
    let first: Value = serde_json::from_str(&lines(&rec)[0]).expect("json");
    let at = first["taken_at"].as_str().expect("taken_at").to_string();
    sm.close("api");
    let ask = &asks[0];
    assert_eq!(verdict(ask, None).0["result"], "ok");
    let (then, code) = verdict(ask, Some((&rec, Some(&at))));
    assert_eq!(then["result"], "EADDRINUSE", "{then}");
    assert_eq!(code, Some(1));
    assert_eq!(then["from"]["sample"], 1, "{then}");
    // A moment before the recording began: nothing to answer with.
    let r = ns.run(&[
        BIN,
        "can-bind",
        "tcp",
        &ask[1],
        "--from",
        rec.to_str().expect("path"),
        "--at",
        "2001-01-01T00:00:00Z",
    ]);
    assert_eq!(r.status.code(), Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("begins after that moment"),
        "{}",
        r.stderr
    );
}

/// Whether the time line row shows a sample before the last (`[3/4]`).
fn stepped_back(screen: &str) -> bool {
    let row = screen.lines().nth(2).unwrap_or_default();
    let pos = row
        .strip_prefix('[')
        .and_then(|r| r.split(']').next())
        .and_then(|p| p.split_once('/'));
    pos.and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .is_some_and(|(a, b)| a < b)
}

/// The README's ssh line, as written.
fn readme_ssh_line() -> String {
    let readme = include_str!("../README.md");
    let start = readme
        .find("<!-- pairing -->")
        .expect("README has <!-- pairing -->");
    let block = &readme[start..];
    let body = block
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a ```sh block after <!-- pairing -->");
    body.lines()
        .map(str::trim)
        .find(|l| l.starts_with("ssh "))
        .expect("an ssh line")
        .to_string()
}

/// Undoes what the ssh test set up around its namespaces.
struct SshSetup {
    etc: std::path::PathBuf,
    sshd: Option<std::process::Child>,
}

impl Drop for SshSetup {
    fn drop(&mut self) {
        if let Some(mut c) = self.sshd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.etc);
    }
}

#[test]
fn the_readme_ssh_line_works_between_two_namespaces() {
    let line = readme_ssh_line();
    assert_eq!(
        line,
        "ssh -n root@web1 bindscope record -o - | bindscope open -"
    );
    let Some(remote) = privileged("readme_ssh_remote") else {
        return;
    };
    let Some(local) = privileged("readme_ssh_local") else {
        return;
    };
    if !tmux::available() {
        return;
    }
    for tool in ["/usr/sbin/sshd", "ssh", "ssh-keygen"] {
        if which(tool).is_none() && !Path::new(tool).exists() {
            assert!(
                std::env::var(REQUIRE_ENV).as_deref() != Ok("1"),
                "{tool} is missing (apt-get install openssh-server openssh-client)"
            );
            eprintln!("SKIPPED: {tool} is missing");
            return;
        }
    }
    // A link between the two namespaces: web1 is 10.213.0.1, the reader 10.213.0.2.
    let (a, b) = (
        format!("bsa{}", std::process::id() % 100_000),
        format!("bsb{}", std::process::id() % 100_000),
    );
    let ok = |c: &mut Command| assert!(c.status().expect("run").success(), "{c:?}");
    ok(Command::new("ip").args(["link", "add", &a, "type", "veth", "peer", "name", &b]));
    ok(Command::new("ip").args(["link", "set", &a, "netns", remote.name()]));
    ok(Command::new("ip").args(["link", "set", &b, "netns", local.name()]));
    remote.ip(&["addr", "add", "10.213.0.1/24", "dev", &a]);
    remote.ip(&["link", "set", &a, "up"]);
    local.ip(&["addr", "add", "10.213.0.2/24", "dev", &b]);
    local.ip(&["link", "set", &b, "up"]);
    // Keys, an sshd in web1's namespace whose sessions find this bindscope first on PATH,
    // and the reader's namespace's own /etc/hosts and ssh_config (ip netns exec mounts
    // /etc/netns/NAME/* over /etc): `web1` resolves, the key is used, the host key is
    // new and accepted. Nothing of the host's own configuration is touched.
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for key in ["host", "user"] {
        ok(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", ""])
            .arg("-f")
            .arg(d.join(key)));
    }
    std::fs::copy(d.join("user.pub"), d.join("authorized_keys")).expect("authorized_keys");
    let bin_dir = Path::new(BIN).parent().expect("bin dir");
    std::fs::write(
        d.join("sshd_config"),
        format!(
            "ListenAddress 10.213.0.1\nHostKey {d}/host\nAuthorizedKeysFile {d}/authorized_keys\n\
             PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile none\n\
             SetEnv PATH={bin}:/usr/local/bin:/usr/bin:/bin\n",
            d = d.display(),
            bin = bin_dir.display()
        ),
    )
    .expect("sshd_config");
    std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
    let etc = Path::new("/etc/netns").join(local.name());
    let mut setup = SshSetup {
        etc: etc.clone(),
        sshd: None,
    };
    std::fs::create_dir_all(etc.join("ssh")).expect("/etc/netns/NAME/ssh");
    std::fs::write(etc.join("hosts"), "127.0.0.1 localhost\n10.213.0.1 web1\n").expect("hosts");
    std::fs::write(
        etc.join("ssh/ssh_config"),
        format!(
            "Host web1\n  IdentityFile {}/user\n  StrictHostKeyChecking no\n  \
             UserKnownHostsFile /dev/null\n  LogLevel ERROR\n  BatchMode yes\n",
            d.display()
        ),
    )
    .expect("ssh_config");
    setup.sshd = Some(
        remote
            .cmd(&["/usr/sbin/sshd", "-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stderr(std::fs::File::create(d.join("sshd.log")).expect("log"))
            .spawn()
            .expect("sshd"),
    );
    // The remote session finds this build's bindscope (once sshd listens: it may take
    // seconds to start on a loaded machine).
    let mut found = String::new();
    wait_for(Duration::from_secs(30), || {
        let r = local.run(&["ssh", "root@web1", "command -v bindscope"]);
        found = r.stdout.trim().to_string();
        r.ok()
    });
    assert_eq!(
        Path::new(&found),
        bin_dir.join("bindscope"),
        "the ssh session runs another bindscope; sshd: {}",
        std::fs::read_to_string(d.join("sshd.log")).unwrap_or_default()
    );
    // web1 has a service of its own to show.
    let sm = Sockmaker::start(
        &remote,
        &json!({"sockets": [
            {"name": "db", "proto": "tcp", "family": 4, "addr": "10.213.0.1", "port": 0,
             "listen": 16, "uid": 0, "comm": "postgres"}
        ]}),
    );
    let port = sm.port("db");
    // The README's line, unchanged, in the reader's namespace, this build first on PATH.
    let cmd = format!(
        "PATH={}:$PATH ip netns exec {} sh -c '{line}'; echo EXIT=$?; sleep 60",
        bin_dir.display(),
        local.name()
    );
    let t = Tmux::start(&format!("ssh-{}", std::process::id()), 160, 40, &cmd);
    let s = t.wait_for("web1's listener over ssh", |s| {
        s.contains(&format!("10.213.0.1:{port}")) && s.contains("following")
    });
    assert!(s.contains("sshd"), "{s}");
    t.wait_for("a later sample", |s| s.contains("[3/3]"));
    // Keys reach the dashboard while ssh runs (ssh -n leaves the terminal's input alone):
    // each is answered, none is swallowed.
    for round in 0..3 {
        t.keys(&["2"]);
        t.wait_for(&format!("the Ports view ({round})"), |s| {
            s.contains("BINDS")
        });
        t.keys(&["1"]);
        t.wait_for(&format!("the Sockets view ({round})"), |s| {
            s.contains("LOCAL")
        });
    }
    t.keys(&["["]);
    t.wait_for("a step back while following", stepped_back);
    // The connection drops (web1's sshd and its session killed): the stream ends, the
    // last sample stays. Only the processes of web1's namespace are touched.
    for pid in remote.pids() {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "sshd" {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
    if let Some(mut c) = setup.sshd.take() {
        let _ = c.wait();
    }
    let s = t.wait_for("the end of the stream", |s| s.contains("STREAM ENDED"));
    assert!(s.contains(&format!("10.213.0.1:{port}")), "{s}");
    t.keys(&["q"]);
    t.wait_for("a clean exit", |s| s.contains("EXIT=0"));
    drop(setup);
}
