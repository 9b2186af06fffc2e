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

/// A tmux session; killed on drop.
pub struct Tmux {
    name: String,
}

impl Tmux {
    pub fn start(name: &str, cols: u16, rows: u16, shell_cmd: &str) -> Tmux {
        let ok = Command::new("tmux")
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
        Tmux {
            name: name.to_string(),
        }
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let ok = Command::new("tmux")
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .expect("tmux send-keys")
            .success();
        assert!(ok, "tmux send-keys {keys:?}");
    }

    pub fn alternate_screen(&self) -> bool {
        let out = Command::new("tmux")
            .args(["display", "-p", "-t", &self.name, "#{alternate_on}"])
            .output()
            .expect("tmux display");
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// Waits until the screen satisfies `pred`, up to 10 s; panics with the screen if not.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > Duration::from_secs(10) {
                panic!("waited 10 s for {what}; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}
