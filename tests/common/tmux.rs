//! A tmux session for the tests that run the real dashboard in a real terminal.

use std::process::Command;
use std::time::{Duration, Instant};

/// Whether tmux can run; when it cannot and `BINDSCOPE_REQUIRE_PRIVILEGED=1`, that fails.
pub fn available() -> bool {
    if Command::new("tmux").arg("-V").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var("BINDSCOPE_REQUIRE_PRIVILEGED").as_deref() != Ok("1"),
        "tmux is missing (apt-get install tmux)"
    );
    eprintln!("skipping: tmux is missing");
    false
}

/// How long a screen may take to show what a test waits for: a collection inside `ip netns
/// exec` on a loaded 2-core machine, with room to spare.
const SCREEN_WAIT: Duration = Duration::from_secs(30);

/// A tmux session on a tmux server of its own (`-L`), both gone on drop. A server shared by
/// the tests running at once exits when one test kills the last session, and a
/// `new-session` of another test in that moment fails.
pub struct Tmux {
    name: String,
    /// The server's socket, which tmux leaves behind when the server is killed.
    socket: Option<std::path::PathBuf>,
}

impl Tmux {
    pub fn start(name: &str, cols: u16, rows: u16, shell_cmd: &str) -> Tmux {
        let ok = tmux(name)
            .args([
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                &cols.to_string(),
                "-y",
            ])
            .arg(rows.to_string())
            .arg(shell_cmd)
            .status()
            .expect("run tmux")
            .success();
        assert!(ok, "tmux new-session failed");
        let socket = tmux(name)
            .args(["display", "-p", "-t", name, "#{socket_path}"])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().into())
            .filter(|p: &std::path::PathBuf| p.is_absolute())
            .or_else(|| default_socket(name));
        Tmux {
            name: name.to_string(),
            socket,
        }
    }

    pub fn screen(&self) -> String {
        let out = tmux(&self.name)
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen with its colours and attributes as escape sequences (`capture-pane -e`).
    pub fn screen_with_escapes(&self) -> String {
        let out = tmux(&self.name)
            .args(["capture-pane", "-p", "-e", "-t", &self.name])
            .output()
            .expect("tmux capture-pane -e");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let ok = tmux(&self.name)
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .expect("tmux send-keys")
            .success();
        assert!(ok, "tmux send-keys {keys:?}");
    }

    pub fn alternate_screen(&self) -> bool {
        let out = tmux(&self.name)
            .args(["display", "-p", "-t", &self.name, "#{alternate_on}"])
            .output()
            .expect("tmux display");
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// Waits until the screen satisfies `pred`, up to SCREEN_WAIT; panics with the screen if
    /// not.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > SCREEN_WAIT {
                panic!("waited {SCREEN_WAIT:?} for {what}; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = tmux(&self.name).arg("kill-server").status();
        if let Some(socket) = &self.socket {
            let _ = std::fs::remove_file(socket);
        }
    }
}

/// Where tmux puts the socket of server `name` when it is not told otherwise.
fn default_socket(name: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::MetadataExt as _;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let dir = std::env::var_os("TMUX_TMPDIR").unwrap_or_else(|| "/tmp".into());
    Some(
        std::path::Path::new(&dir)
            .join(format!("tmux-{uid}"))
            .join(name),
    )
}

/// tmux talking to the server named for this session.
fn tmux(server: &str) -> Command {
    let mut c = Command::new("tmux");
    c.args(["-L", server]);
    c
}
