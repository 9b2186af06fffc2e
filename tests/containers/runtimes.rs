//! Real container runtimes for tests/containers.rs: a private dockerd, rootful Podman with
//! private roots, a private containerd for `ctr`, and LXC, each in a scratch directory of
//! the test's own (the recipes of docs/container-runtimes.md), and torn down by `Drop`, also
//! when the test fails.
//!
//! Nothing here may panic: a panic in `Drop` while a failed test unwinds aborts the process
//! and leaves daemons behind. Errors are `String`s the test turns into its failure message.
//!
//! Non-default state paths on purpose (`--data-root`, `--exec-root`, `--root`, `--runroot`,
//! `-P`): bindscope must find them from the daemons' command lines, as on a real host where
//! they are often moved.

use serde_json::Value;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long one runtime command may take before the harness gives up on it. `podman rm` of
/// a BusyBox init waits for SIGTERM it ignores unless `-t 0`; 60 s only matters when
/// something hangs.
const CMD_TIMEOUT: Duration = Duration::from_secs(60);

/// What a finished command printed.
pub struct Out {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` with stdin closed; kills it (by its pid) after `timeout`. Never panics.
pub fn exec(cmd: &mut Command, timeout: Duration) -> Result<Out, String> {
    let desc = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {desc}: {e}"))?;
    let reader = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{desc} did not finish within {timeout:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("{desc}: wait: {e}")),
        }
    };
    Ok(Out {
        ok: status.success(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// Runs `cmd`; its stdout when it succeeds, else an error with its stderr.
pub fn must(cmd: &mut Command) -> Result<String, String> {
    let desc = format!("{cmd:?}");
    let out = exec(cmd, CMD_TIMEOUT)?;
    if out.ok {
        Ok(out.stdout)
    } else {
        Err(format!(
            "{desc} failed:\n{}{}",
            out.stdout.trim(),
            out.stderr.trim()
        ))
    }
}

fn cmd(argv: &[&str]) -> Command {
    let mut c = Command::new(argv[0]);
    c.args(&argv[1..]);
    c
}

/// Prints how long a step took (the brief asks for the cost of each runtime in CI).
pub fn timed<T>(what: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let start = Instant::now();
    let r = f();
    eprintln!("containers: {what}: {:.2} s", start.elapsed().as_secs_f64());
    r
}

/// Polls `f` every 50 ms until it holds or `timeout` passes.
pub fn poll(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

/// The first program of `names` on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

// ---------------------------------------------------------------------------------------
// What the runtimes leave on the host outside the scratch directory

/// Paths a runtime creates outside its private roots, whatever they are set to (measured:
/// docs/container-runtimes.md §11, §13): runc's root for rootful Podman, the containerd shim
/// sockets' directory, `ctr`'s fifos and runc root, dockerd's plugin directory, LXC's lock
/// directory, podman's network run directory, the libtrust key dockerd 20.10 writes.
/// Removed at the end only when this run created them (and, for directories, only when
/// empty), so nothing another user of the machine made is touched.
const HOST_PATHS: [&str; 13] = [
    "/etc/docker/key.json",
    "/etc/docker",
    "/run/docker/plugins",
    "/run/docker",
    "/run/runc",
    "/run/containerd/s",
    "/run/containerd/fifo",
    "/run/containerd/runc",
    "/run/containerd",
    "/run/containers/networks",
    "/run/containers",
    "/run/lxc/lock",
    "/run/lxc",
];

/// The cgroup parents the runtimes make in every hierarchy with the cgroupfs drivers.
const CGROUP_PARENTS: [&str; 3] = ["docker", "libpod_parent", "lxc.pivot"];

/// The test's scratch directory and the record of what existed before on the host; drop it
/// last: it unmounts what is left under the directory, removes it, and removes the host
/// paths and cgroup parents this run created.
pub struct Scratch {
    pub dir: PathBuf,
    existed: Vec<PathBuf>,
}

impl Scratch {
    /// `/tmp/bsc-PID`: short, because dockerd's unix socket path must fit in 108 bytes.
    pub fn new() -> Result<Scratch, String> {
        let dir = PathBuf::from(format!("/tmp/bsc-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // Traversable for nobody: the unprivileged runs stat the runtimes' netns files.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let existed = HOST_PATHS
            .iter()
            .map(PathBuf::from)
            .chain(cgroup_parents())
            .filter(|p| p.exists())
            .collect();
        Ok(Scratch { dir, existed })
    }

    pub fn path(&self, sub: &str) -> PathBuf {
        self.dir.join(sub)
    }
}

/// `/sys/fs/cgroup/HIERARCHY/PARENT` for every hierarchy (v1 controllers and the v2 or
/// `unified` one) and every parent the runtimes use.
fn cgroup_parents() -> Vec<PathBuf> {
    let mut roots = vec![PathBuf::from("/sys/fs/cgroup")];
    if let Ok(rd) = fs::read_dir("/sys/fs/cgroup") {
        roots.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    }
    roots
        .iter()
        .flat_map(|r| CGROUP_PARENTS.iter().map(move |p| r.join(p)))
        .collect()
}

impl Drop for Scratch {
    fn drop(&mut self) {
        kill_mentioning(&self.dir);
        unmount_under(&self.dir);
        let _ = fs::remove_dir_all(&self.dir);
        // The containers' own cgroups went with their guards; here only the parents this run
        // made, and Podman's shared `conmon` child, each removed only when empty (rmdir):
        // another runtime on the machine may be using them by now.
        for p in cgroup_parents() {
            if !self.existed.contains(&p) {
                let _ = fs::remove_dir(p.join("conmon"));
                let _ = fs::remove_dir(&p);
            }
        }
        for p in HOST_PATHS.iter().map(PathBuf::from) {
            if self.existed.contains(&p) {
                continue;
            }
            // A shim removes its socket as it exits, which may be a moment after its
            // container went.
            if p.is_dir() {
                poll(Duration::from_secs(2), || {
                    fs::read_dir(&p).is_ok_and(|mut d| d.next().is_none())
                });
            }
            if p.is_dir() {
                let _ = fs::remove_dir(&p);
            } else if p.exists() {
                let _ = fs::remove_file(&p);
            }
        }
    }
}

/// Mount points under `dir` in this mount namespace, deepest first.
pub fn mounts_under(dir: &Path) -> Vec<String> {
    let prefix = format!("{}/", dir.display());
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut found: Vec<String> = text
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(unescape_mount)
        .filter(|m| m.starts_with(&prefix) || *m == prefix.trim_end_matches('/'))
        .collect();
    found.sort_by_key(|m| std::cmp::Reverse(m.len()));
    found.dedup();
    found
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mount(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
            let n = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(n);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn unmount_under(dir: &Path) {
    for _ in 0..3 {
        let left = mounts_under(dir);
        if left.is_empty() {
            return;
        }
        for m in left {
            let ok = exec(&mut cmd(&["umount", &m]), CMD_TIMEOUT).is_ok_and(|o| o.ok);
            if !ok {
                let _ = exec(&mut cmd(&["umount", "-l", &m]), CMD_TIMEOUT);
            }
        }
    }
}

/// Pids whose command line mentions `dir` or a path under it (the daemons, shims, conmons
/// and LXC monitors of this run all name their private directory), other than this
/// process. `/tmp/bsc-12` must not match another run's `/tmp/bsc-123`.
pub fn pids_mentioning(dir: &Path) -> Vec<u32> {
    let dir = dir.display().to_string();
    let under = format!("{dir}/");
    let me = std::process::id();
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            let Ok(raw) = fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            // A zombie has an empty cmdline: it is gone, only its parent's wait is missing.
            String::from_utf8_lossy(&raw)
                .split(['\0', ' '])
                .any(|arg| arg.contains(&under) || arg.ends_with(&dir))
        })
        .collect()
}

fn kill_pid(pid: u32, signal: &str) {
    let _ = exec(
        &mut cmd(&["kill", signal, &pid.to_string()]),
        Duration::from_secs(5),
    );
}

/// SIGKILLs every process that names `dir`, until none is left (up to 5 s).
fn kill_mentioning(dir: &Path) {
    poll(Duration::from_secs(5), || {
        let pids = pids_mentioning(dir);
        for &pid in &pids {
            kill_pid(pid, "-9");
        }
        pids.is_empty()
    });
}

/// The cgroup directories (any hierarchy, under the runtimes' parents or at the top for
/// LXC) whose name contains one of `ids`.
pub fn cgroups_of(ids: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut roots = vec![PathBuf::from("/sys/fs/cgroup")];
    if let Ok(rd) = fs::read_dir("/sys/fs/cgroup") {
        roots.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    }
    fn walk(dir: &Path, depth: u32, ids: &[String], out: &mut Vec<PathBuf>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if !p.is_dir() {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            if ids
                .iter()
                .any(|id| !id.is_empty() && name.contains(id.as_str()))
            {
                out.push(p.clone());
            }
            if depth > 0 {
                walk(&p, depth - 1, ids, out);
            }
        }
    }
    for r in roots {
        for parent in CGROUP_PARENTS {
            walk(&r.join(parent), 2, ids, &mut out);
        }
        // LXC: lxc.payload.NAME and lxc.monitor.NAME at the top of each hierarchy.
        let Ok(rd) = fs::read_dir(&r) else { continue };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            // And `ctr run`'s /NAMESPACE/ID: a namespace of the run's own is in `ids`.
            if ids.iter().any(|id| {
                !id.is_empty()
                    && (name == *id || (name.starts_with("lxc.") && name.ends_with(id.as_str())))
            }) {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Kills what is left in the cgroups of `ids` (a container init survives its runtime's
/// death) and removes those cgroups.
fn reap_cgroups(ids: &[String]) {
    poll(Duration::from_secs(5), || {
        let mut any = false;
        for cg in cgroups_of(ids) {
            let procs = fs::read_to_string(cg.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines().filter_map(|l| l.trim().parse::<u32>().ok()) {
                any = true;
                kill_pid(pid, "-9");
            }
        }
        !any
    });
    for cg in cgroups_of(ids) {
        rmdir_tree(&cg);
    }
}

/// Removes an (empty) cgroup tree bottom-up: cgroup directories are removed with rmdir,
/// which refuses while a process is inside, so nothing in use is touched.
fn rmdir_tree(dir: &Path) {
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                rmdir_tree(&p);
            }
        }
    }
    let _ = fs::remove_dir(dir);
}

// ---------------------------------------------------------------------------------------
// The image: a BusyBox rootfs, no registry

/// `DIR/rootfs.tar`: a root file system with the static BusyBox and the applets the
/// containers run, for `docker import` and `podman import`.
pub fn busybox_rootfs(scratch: &Scratch) -> Result<PathBuf, String> {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or("no /bin/busybox (apt-get install busybox-static)")?;
    let root = scratch.path("rootfs");
    for sub in ["bin", "www", "etc", "tmp"] {
        fs::create_dir_all(root.join(sub)).map_err(|e| format!("rootfs: {e}"))?;
    }
    fs::copy(&busybox, root.join("bin/busybox")).map_err(|e| format!("copy busybox: {e}"))?;
    for applet in ["sh", "nc", "httpd", "sleep", "cat"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet))
            .map_err(|e| format!("link {applet}: {e}"))?;
    }
    let tar = scratch.path("rootfs.tar");
    must(&mut cmd(&[
        "tar",
        "-C",
        &root.display().to_string(),
        "-cf",
        &tar.display().to_string(),
        ".",
    ]))?;
    Ok(tar)
}

// ---------------------------------------------------------------------------------------
// Docker

/// A private dockerd (docs/container-runtimes.md §1): no bridge, no iptables, cgroupfs, and
/// every path in the scratch directory. Drop removes its containers, stops it and its
/// containerd, and removes the shim sockets it left in /run/containerd/s.
pub struct Docker {
    pub exec_root: PathBuf,
    sock: String,
    pidfile: PathBuf,
    child: Option<Child>,
    client: PathBuf,
    /// Full ids of the containers this run made.
    pub ids: Vec<String>,
    shim_sockets: Vec<PathBuf>,
}

impl Docker {
    pub fn start(scratch: &Scratch) -> Result<Docker, String> {
        let data_root = scratch.path("docker");
        let exec_root = scratch.path("dx");
        let sock = format!("unix://{}", scratch.path("docker.sock").display());
        let pidfile = scratch.path("docker.pid");
        let log = fs::File::create(scratch.path("dockerd.log")).map_err(|e| e.to_string())?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("dockerd")
            .args([
                "--bridge=none",
                "--iptables=false",
                "--ip6tables=false",
                "--exec-opt",
                "native.cgroupdriver=cgroupfs",
                "--data-root",
                &data_root.display().to_string(),
                "--exec-root",
                &exec_root.display().to_string(),
                "-H",
                &sock,
                "--pidfile",
                &pidfile.display().to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("cannot start dockerd: {e}"))?;
        // The Debian client matches the daemon; any newer one negotiates the API version.
        let client = ["/usr/bin/docker"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .or_else(|| which("docker"))
            .ok_or("no docker client")?;
        let mut d = Docker {
            exec_root,
            sock,
            pidfile,
            child: Some(child),
            client,
            ids: Vec::new(),
            shim_sockets: Vec::new(),
        };
        let up = poll(Duration::from_secs(30), || {
            exec(d.cli().arg("version"), Duration::from_secs(10)).is_ok_and(|o| o.ok)
        });
        if !up {
            let log = fs::read_to_string(scratch.path("dockerd.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            return Err(format!(
                "dockerd did not answer within 30 s; its log ends:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        if let Some(c) = d.child.as_mut()
            && let Ok(Some(status)) = c.try_wait()
        {
            return Err(format!("dockerd exited: {status}"));
        }
        Ok(d)
    }

    /// The client pointed at this daemon.
    pub fn cli(&self) -> Command {
        let mut c = Command::new(&self.client);
        c.args(["-H", &self.sock]);
        c
    }

    pub fn import(&self, tar: &Path, image: &str) -> Result<(), String> {
        must(
            self.cli()
                .args(["import", &tar.display().to_string(), image]),
        )
        .map(|_| ())
    }

    /// `docker run -d --name NAME ARGS…`; the full id.
    pub fn run(&mut self, name: &str, args: &[&str]) -> Result<String, String> {
        let out = exec(
            self.cli().args(["run", "-d", "--name", name]).args(args),
            CMD_TIMEOUT,
        )?;
        // Record the id even when run fails after creating the container, so Drop removes it.
        let id = self
            .inspect(name)
            .ok()
            .and_then(|v| v["Id"].as_str().map(str::to_string));
        if let Some(id) = &id {
            self.ids.push(id.clone());
            let address = self
                .exec_root
                .join("containerd/daemon/io.containerd.runtime.v2.task/moby")
                .join(id)
                .join("address");
            if let Ok(a) = fs::read_to_string(address)
                && let Some(p) = a.trim().strip_prefix("unix://")
            {
                self.shim_sockets.push(PathBuf::from(p));
            }
        }
        if !out.ok {
            return Err(format!("docker run {name} failed: {}", out.stderr.trim()));
        }
        id.ok_or_else(|| format!("docker inspect {name} gave no Id"))
    }

    /// `docker inspect NAME`, the one object.
    pub fn inspect(&self, name: &str) -> Result<Value, String> {
        let out = must(self.cli().args(["inspect", name]))?;
        let v: Value = serde_json::from_str(&out).map_err(|e| format!("inspect {name}: {e}"))?;
        Ok(v[0].clone())
    }
}

impl Drop for Docker {
    fn drop(&mut self) {
        if !self.ids.is_empty() {
            let _ = exec(self.cli().args(["rm", "-f"]).args(&self.ids), CMD_TIMEOUT);
        }
        reap_cgroups(&self.ids);
        // dockerd stops the containerd it started when it ends.
        let pid = fs::read_to_string(&self.pidfile)
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok())
            .or_else(|| self.child.as_ref().map(Child::id));
        if let Some(pid) = pid {
            kill_pid(pid, "-TERM");
        }
        if let Some(mut c) = self.child.take() {
            let done = poll(Duration::from_secs(15), || {
                matches!(c.try_wait(), Ok(Some(_)))
            });
            if !done {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        for s in &self.shim_sockets {
            let _ = fs::remove_file(s);
        }
    }
}

// ---------------------------------------------------------------------------------------
// containerd on its own (`ctr`)

/// A private containerd (root, state and socket in the scratch directory, no CRI plugin) and
/// a containerd namespace of this run's own, for plain `ctr run` containers: no image, a
/// root file system directory (`--rootfs`). Drop kills and deletes its tasks and
/// containers, stops containerd, and removes what `ctr` leaves in /run/containerd.
pub struct Containerd {
    sock: String,
    state: PathBuf,
    pub namespace: String,
    child: Option<Child>,
    pub ids: Vec<String>,
    shim_sockets: Vec<PathBuf>,
}

impl Containerd {
    pub fn start(scratch: &Scratch, namespace: &str) -> Result<Containerd, String> {
        let dir = scratch.path("ctd");
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let sock = dir.join("containerd.sock").display().to_string();
        let state = dir.join("state");
        let conf = scratch.path("containerd.toml");
        fs::write(
            &conf,
            format!(
                "version = 2\nroot = \"{}\"\nstate = \"{}\"\n\
                 disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
                 [grpc]\n  address = \"{sock}\"\n",
                dir.join("root").display(),
                state.display()
            ),
        )
        .map_err(|e| format!("{}: {e}", conf.display()))?;
        let log = fs::File::create(scratch.path("containerd.log")).map_err(|e| e.to_string())?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("containerd")
            .arg("--config")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("cannot start containerd: {e}"))?;
        let c = Containerd {
            sock,
            state,
            namespace: namespace.to_string(),
            child: Some(child),
            ids: Vec::new(),
            shim_sockets: Vec::new(),
        };
        let up = poll(Duration::from_secs(30), || {
            exec(c.cli().arg("version"), Duration::from_secs(10)).is_ok_and(|o| o.ok)
        });
        if !up {
            return Err("containerd did not answer within 30 s".into());
        }
        Ok(c)
    }

    pub fn cli(&self) -> Command {
        let mut c = Command::new("ctr");
        c.args(["-a", &self.sock, "-n", &self.namespace]);
        c
    }

    fn task_dir(&self, id: &str) -> PathBuf {
        self.state
            .join("io.containerd.runtime.v2.task")
            .join(&self.namespace)
            .join(id)
    }

    /// `ctr run -d --rootfs ROOTFS ID ARGV…`; the pid of its init.
    pub fn run(&mut self, id: &str, rootfs: &Path, argv: &[&str]) -> Result<u32, String> {
        self.ids.push(id.to_string());
        let out = exec(
            self.cli()
                .args(["run", "-d", "--rootfs"])
                .arg(rootfs)
                .arg(id)
                .args(argv),
            CMD_TIMEOUT,
        )?;
        let dir = self.task_dir(id);
        if let Ok(a) = fs::read_to_string(dir.join("address"))
            && let Some(p) = a.trim().strip_prefix("unix://")
        {
            self.shim_sockets.push(PathBuf::from(p));
        }
        if !out.ok {
            return Err(format!("ctr run {id} failed: {}", out.stderr.trim()));
        }
        let pid = fs::read_to_string(dir.join("init.pid")).map_err(|e| format!("init.pid: {e}"))?;
        pid.trim()
            .parse()
            .map_err(|e| format!("init.pid {pid:?}: {e}"))
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        for id in &self.ids {
            let _ = exec(
                self.cli().args(["task", "kill", "-s", "SIGKILL", id]),
                CMD_TIMEOUT,
            );
            poll(Duration::from_secs(5), || {
                exec(self.cli().args(["task", "delete", id]), CMD_TIMEOUT).is_ok_and(|o| o.ok)
                    || !self.task_dir(id).join("init.pid").exists()
            });
            let _ = exec(self.cli().args(["container", "delete", id]), CMD_TIMEOUT);
        }
        let mut cgroups = self.ids.clone();
        cgroups.push(self.namespace.clone());
        reap_cgroups(&cgroups);
        if let Some(mut c) = self.child.take() {
            kill_pid(c.id(), "-TERM");
            let done = poll(Duration::from_secs(10), || {
                matches!(c.try_wait(), Ok(Some(_)))
            });
            if !done {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        kill_mentioning(&self.state);
        for s in &self.shim_sockets {
            let _ = fs::remove_file(s);
        }
        // ctr's runc root for the namespace, and the fifos of its tasks' stdio.
        let _ = fs::remove_dir_all(Path::new("/run/containerd/runc").join(&self.namespace));
        if let Ok(rd) = fs::read_dir("/run/containerd/fifo") {
            for e in rd.flatten() {
                let p = e.path();
                let ours = fs::read_dir(&p).is_ok_and(|files| {
                    files.flatten().any(|f| {
                        let name = f.file_name().to_string_lossy().into_owned();
                        self.ids
                            .iter()
                            .any(|id| name.starts_with(&format!("{id}-")))
                    })
                });
                if ours {
                    let _ = fs::remove_dir_all(&p);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Podman

/// Rootful Podman with its own graph root, run root and tmp dir, runc and cgroupfs, and a
/// containers.conf that lowers the default ulimits (the root shell here lacks
/// CAP_SYS_RESOURCE, so podman's default nofile of 1048576 is refused). Drop removes its
/// pods and containers (`-t 0`: BusyBox as PID 1 ignores SIGTERM) and kills the conmons.
pub struct Podman {
    root: PathBuf,
    runroot: PathBuf,
    tmpdir: PathBuf,
    conf: PathBuf,
    /// Full ids of the containers this run made (pod infra containers too).
    pub ids: Vec<String>,
    pub pods: Vec<String>,
}

impl Podman {
    pub fn new(scratch: &Scratch) -> Result<Podman, String> {
        let conf = scratch.path("containers.conf");
        fs::write(
            &conf,
            "[containers]\ndefault_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]\n",
        )
        .map_err(|e| format!("{}: {e}", conf.display()))?;
        Ok(Podman {
            root: scratch.path("proot"),
            runroot: scratch.path("prun"),
            tmpdir: scratch.path("ptmp"),
            conf,
            ids: Vec::new(),
            pods: Vec::new(),
        })
    }

    pub fn cli(&self) -> Command {
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", &self.conf)
            .arg("--root")
            .arg(&self.root)
            .arg("--runroot")
            .arg(&self.runroot)
            .arg("--tmpdir")
            .arg(&self.tmpdir)
            .args([
                "--runtime",
                "runc",
                "--cgroup-manager",
                "cgroupfs",
                "--events-backend",
                "file",
                // vfs: no overlay mounts to clean up, and it works on any /tmp.
                "--storage-driver",
                "vfs",
            ]);
        c
    }

    pub fn import(&self, tar: &Path, image: &str) -> Result<(), String> {
        must(
            self.cli()
                .args(["import", &tar.display().to_string(), image]),
        )
        .map(|_| ())
    }

    /// `podman run -d --name NAME ARGS…`; the full id.
    pub fn run(&mut self, name: &str, args: &[&str]) -> Result<String, String> {
        let out = exec(
            self.cli().args(["run", "-d", "--name", name]).args(args),
            CMD_TIMEOUT,
        )?;
        let id = self
            .inspect(name)
            .ok()
            .and_then(|v| v["Id"].as_str().map(str::to_string));
        if let Some(id) = &id {
            self.ids.push(id.clone());
        }
        if !out.ok {
            return Err(format!("podman run {name} failed: {}", out.stderr.trim()));
        }
        id.ok_or_else(|| format!("podman inspect {name} gave no Id"))
    }

    /// `podman pod create --name NAME ARGS…`; the pod's full id. Its infra container is
    /// made with it.
    pub fn pod(&mut self, name: &str, args: &[&str]) -> Result<String, String> {
        let out = exec(
            self.cli()
                .args(["pod", "create", "--name", name])
                .args(args),
            CMD_TIMEOUT,
        )?;
        if let Ok(v) = self.pod_inspect(name) {
            if let Some(id) = v["Id"].as_str() {
                self.pods.push(id.to_string());
            }
            if let Some(infra) = v["InfraContainerID"].as_str() {
                self.ids.push(infra.to_string());
            }
        }
        if !out.ok {
            return Err(format!("podman pod create failed: {}", out.stderr.trim()));
        }
        Ok(out.stdout.trim().to_string())
    }

    pub fn inspect(&self, name: &str) -> Result<Value, String> {
        let out = must(self.cli().args(["inspect", "--type", "container", name]))?;
        let v: Value = serde_json::from_str(&out).map_err(|e| format!("inspect {name}: {e}"))?;
        Ok(v[0].clone())
    }

    pub fn pod_inspect(&self, name: &str) -> Result<Value, String> {
        let out = must(self.cli().args(["pod", "inspect", name]))?;
        let v: Value =
            serde_json::from_str(&out).map_err(|e| format!("pod inspect {name}: {e}"))?;
        // 4.3 prints one object; newer versions an array.
        Ok(if v.is_array() { v[0].clone() } else { v })
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        // `--all` is this run's own: the graph root is private. (Naming ids fails as a whole
        // once the pod's removal took its members with it.)
        let _ = exec(
            self.cli().args(["pod", "rm", "-f", "-t", "0", "--all"]),
            CMD_TIMEOUT,
        );
        let _ = exec(
            self.cli().args(["rm", "-f", "-t", "0", "--all"]),
            CMD_TIMEOUT,
        );
        let mut all = self.ids.clone();
        all.extend(self.pods.iter().cloned());
        reap_cgroups(&all);
        // conmon names the graph root in its arguments; Scratch's drop kills any left.
        kill_mentioning(&self.root);
        // Rootful Podman's runc keeps its state in /run/runc whatever --runroot says; a
        // container whose removal failed leaves it there.
        for id in &self.ids {
            if Path::new(RUNC_ROOT).join(id).exists() {
                let _ = exec(
                    &mut cmd(&["runc", "--root", RUNC_ROOT, "delete", "--force", id]),
                    CMD_TIMEOUT,
                );
            }
        }
    }
}

/// runc's state directory for rootful Podman (docs/container-runtimes.md §2).
pub const RUNC_ROOT: &str = "/run/runc";

// ---------------------------------------------------------------------------------------
// LXC

/// An LXC container from the busybox template in a private lxcpath, with no network
/// (`lxc.net.0.type = empty`: its own namespace with only `lo`). Drop stops and destroys it.
pub struct Lxc {
    pub lxcpath: PathBuf,
    pub name: String,
    made: bool,
}

impl Lxc {
    pub fn create(scratch: &Scratch, name: &str) -> Result<Lxc, String> {
        let lxcpath = scratch.path("lxc");
        fs::create_dir_all(&lxcpath).map_err(|e| format!("{}: {e}", lxcpath.display()))?;
        let conf = scratch.path("lxc.conf");
        fs::write(
            &conf,
            "lxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n",
        )
        .map_err(|e| format!("{}: {e}", conf.display()))?;
        let mut l = Lxc {
            lxcpath,
            name: name.to_string(),
            made: false,
        };
        let p = l.lxcpath.display().to_string();
        let c = conf.display().to_string();
        l.made = true;
        must(&mut cmd(&[
            "lxc-create",
            "-P",
            &p,
            "-n",
            name,
            "-f",
            &c,
            "-t",
            "busybox",
        ]))?;
        must(&mut cmd(&["lxc-start", "-P", &p, "-n", name]))?;
        let running = poll(Duration::from_secs(10), || {
            exec(
                &mut cmd(&["lxc-info", "-P", &p, "-n", name, "-s"]),
                CMD_TIMEOUT,
            )
            .is_ok_and(|o| o.stdout.contains("RUNNING"))
        });
        if !running {
            return Err(format!("LXC container {name} is not RUNNING after 10 s"));
        }
        Ok(l)
    }

    /// `lxc-attach -- ARGV…` (a daemon that forks away, so this returns).
    pub fn attach(&self, argv: &[&str]) -> Result<String, String> {
        let p = self.lxcpath.display().to_string();
        let mut c = cmd(&["lxc-attach", "-P", &p, "-n", &self.name, "--"]);
        c.args(argv);
        must(&mut c)
    }

    /// The pid of the container's init.
    pub fn init_pid(&self) -> Result<u32, String> {
        let p = self.lxcpath.display().to_string();
        let out = must(&mut cmd(&[
            "lxc-info", "-P", &p, "-n", &self.name, "-p", "-H",
        ]))?;
        out.trim()
            .parse()
            .map_err(|e| format!("lxc-info -p said {out:?}: {e}"))
    }
}

impl Drop for Lxc {
    fn drop(&mut self) {
        if !self.made {
            return;
        }
        let p = self.lxcpath.display().to_string();
        let _ = exec(
            &mut cmd(&["lxc-stop", "-P", &p, "-n", &self.name, "-k"]),
            CMD_TIMEOUT,
        );
        let _ = exec(
            &mut cmd(&["lxc-destroy", "-P", &p, "-n", &self.name]),
            CMD_TIMEOUT,
        );
        reap_cgroups(std::slice::from_ref(&self.name));
        kill_mentioning(&self.lxcpath);
        // LXC's lock directory mirrors the lxcpath: /run/lxc/lock/<lxcpath>.
        let lock = PathBuf::from(format!("/run/lxc/lock{}", self.lxcpath.display()));
        let _ = fs::remove_dir_all(&lock);
        let mut up = lock.parent().map(Path::to_path_buf);
        while let Some(dir) = up {
            if dir == Path::new("/run/lxc/lock") || fs::remove_dir(&dir).is_err() {
                break;
            }
            up = dir.parent().map(Path::to_path_buf);
        }
    }
}

// ---------------------------------------------------------------------------------------
// A named network namespace, as a runtime's bind mount in /run/netns

/// `ip netns add NAME`; deleted on drop.
pub struct IpNetns {
    pub name: String,
}

impl IpNetns {
    pub fn add(name: &str) -> Result<IpNetns, String> {
        must(&mut cmd(&["ip", "netns", "add", name]))?;
        let ns = IpNetns {
            name: name.to_string(),
        };
        must(&mut cmd(&["ip", "-n", name, "link", "set", "lo", "up"]))?;
        Ok(ns)
    }

    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }
}

impl Drop for IpNetns {
    fn drop(&mut self) {
        let _ = exec(
            &mut cmd(&["ip", "netns", "del", &self.name]),
            Duration::from_secs(10),
        );
    }
}

// ---------------------------------------------------------------------------------------
// After the guards: what must not be left

/// Everything of this run still on the host: mounts under the scratch directory, processes
/// naming it, cgroups of its containers, its `ip netns` name. Empty when cleanup worked.
pub fn leftovers(dir: &Path, ids: &[String], netns: &str) -> Vec<String> {
    let mut left = Vec::new();
    for m in mounts_under(dir) {
        left.push(format!("mount {m}"));
    }
    for pid in pids_mentioning(dir) {
        let cmdline = fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        left.push(format!("process {pid}: {cmdline}"));
    }
    for cg in cgroups_of(ids) {
        left.push(format!("cgroup {}", cg.display()));
    }
    if Path::new("/run/netns").join(netns).exists() {
        left.push(format!("netns /run/netns/{netns}"));
    }
    if dir.exists() {
        left.push(format!("directory {}", dir.display()));
    }
    for id in ids {
        let state = Path::new(RUNC_ROOT).join(id);
        if state.exists() {
            left.push(format!("runc state {}", state.display()));
        }
    }
    left
}
