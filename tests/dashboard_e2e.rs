//! The real dashboard in a real terminal: tmux runs the binary inside a network namespace
//! with known sockets; the test types keys (filter, Enter, Tab, `?`, `q`) and reads the
//! screen, then checks the exit status and that the terminal was restored.

// A test may unwrap, expect and panic: that is the test failing (Cargo.toml denies them
// in the program).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tmux::Tmux;
use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn keys_drive_the_dashboard_and_quit_restores_the_terminal() {
    let Some(ns) = privileged("keys_drive_the_dashboard") else {
        return;
    };
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(
            std::env::var("BINDSCOPE_REQUIRE_PRIVILEGED").as_deref() != Ok("1"),
            "tmux is missing (apt-get install tmux)"
        );
        eprintln!("SKIPPED keys_drive_the_dashboard: tmux is missing");
        return;
    }
    let _sm = Sockmaker::start(
        &ns,
        &serde_json::json!({"sockets": [
            {"name": "web", "proto": "tcp", "family": 4, "addr": "0.0.0.0", "port": 24301,
             "listen": 16, "uid": 1001, "options": {"nonblocking": true}},
            {"name": "dns", "proto": "udp", "family": 4, "addr": "127.0.0.1", "port": 24302,
             "uid": 1002, "options": {"reuseaddr": true}}
        ]}),
    );
    let bin = env!("CARGO_BIN_EXE_bindscope");
    // After bindscope exits, the pane shows its status and whether the tty is back in
    // canonical mode with echo (raw mode turns both off).
    let shell = format!(
        "ip netns exec {} {bin} --netns current --interval 500ms; echo EXIT=$?; \
         stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo; sleep 60",
        ns.name()
    );
    let session = format!("bst-dash-{}", std::process::id());
    let t = Tmux::start(&session, 160, 40, &shell);

    let first = t.wait_for("both sockets on screen", |s| {
        s.contains("24301") && s.contains("24302")
    });
    assert!(
        t.alternate_screen(),
        "the dashboard uses the alternate screen"
    );
    assert!(
        first.contains("Sockets"),
        "the view tabs are shown:\n{first}"
    );

    // Filter to the UDP socket: the TCP one disappears, the filter stays visible.
    t.keys(&["/"]);
    t.keys(&["-l", "proto:udp"]);
    t.keys(&["Enter"]);
    let filtered = t.wait_for("the filter applied", |s| {
        s.contains("24302") && !s.contains("0.0.0.0:24301")
    });
    assert!(
        filtered.contains("proto:udp"),
        "the active filter is visible:\n{filtered}"
    );

    // Esc clears it; Tab goes to the Ports view, which shows the routing.
    t.keys(&["Escape"]);
    t.wait_for("the filter cleared", |s| s.contains("0.0.0.0:24301"));
    t.keys(&["Tab"]);
    let ports = t.wait_for("the Ports view", |s| s.contains("→"));
    assert!(ports.contains("24301"), "{ports}");

    // Help is generated from the keymap.
    t.keys(&["?"]);
    // (Not "quit": the status bar says that before help opens, and Esc then raced `?`.)
    let help = t.wait_for("the help screen", |s| s.contains("Move up one page"));
    assert!(help.contains("/"), "help lists the filter key:\n{help}");
    // A key right after Esc would arrive as Alt+key: wait for the help to close first.
    t.keys(&["Escape"]);
    t.wait_for("the help to close", |s| !s.contains("Move up one page"));

    t.keys(&["q"]);
    let after = t.wait_for("bindscope to exit", |s| s.contains("EXIT="));
    assert!(after.contains("EXIT=0"), "exit status 0:\n{after}");
    let tty = t.wait_for("the stty line", |s| s.contains("icanon"));
    assert!(
        tty.contains(" icanon") || tty.contains("\nicanon"),
        "canonical mode is back:\n{tty}"
    );
    assert!(
        !tty.contains("-icanon") && !tty.contains("-echo "),
        "raw mode is off:\n{tty}"
    );
    assert!(!t.alternate_screen(), "the alternate screen was left");
}

/// The process whose command line contains `marker`, if any.
fn pid_with(marker: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let c = String::from_utf8_lossy(&c).replace('\0', " ");
                c.contains(marker) && !c.contains("tmux")
            })
        })
}

#[test]
fn a_closed_terminal_ends_the_dashboard() {
    let Some(ns) = privileged("a_closed_terminal_ends_the_dashboard") else {
        return;
    };
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(
            std::env::var("BINDSCOPE_REQUIRE_PRIVILEGED").as_deref() != Ok("1"),
            "tmux is missing (apt-get install tmux)"
        );
        eprintln!("SKIPPED a_closed_terminal_ends_the_dashboard: tmux is missing");
        return;
    }
    // A unique interval marks this run's process.
    let marker = format!("--interval {}ms", 700 + std::process::id() % 200);
    let bin = env!("CARGO_BIN_EXE_bindscope");
    let session = format!("bst-hup-{}", std::process::id());
    let t = Tmux::start(
        &session,
        100,
        30,
        &format!("ip netns exec {} {bin} --netns current {marker}", ns.name()),
    );
    t.wait_for("the dashboard", |s| s.contains("Sockets"));
    let pid = pid_with(&marker).expect("the dashboard's process");
    // Closing the terminal (what a closed window does) hangs up its tty.
    drop(t);
    let start = Instant::now();
    while common::running(pid) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the dashboard (pid {pid}) is still running 10 s after its terminal closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

const PTYRUN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/helpers/ptyrun.py");

/// A terminal that answers no query (a serial console, a dumb multiplexer) gets the
/// dashboard all the same, and it never asks where the cursor is; `q` exits 0 and each
/// ending signal gives the status a shell reports for it.
#[test]
fn a_terminal_that_answers_nothing_and_the_exit_status_of_each_signal() {
    let Some(ns) = privileged("a_terminal_that_answers_nothing") else {
        return;
    };
    let py = python();
    for (then, hold, status) in [
        ("key:q", "2.5", 0),
        ("signal:TERM", "0.3", 143),
        ("signal:HUP", "0.3", 129),
        ("signal:INT", "0.3", 130),
    ] {
        let run = run_timeout(
            &mut ns.cmd(&[
                &py,
                PTYRUN,
                "--wait-for",
                "Sockets",
                "--hold",
                hold,
                "--then",
                then,
                "--",
                env!("CARGO_BIN_EXE_bindscope"),
                "--netns",
                "current",
            ]),
            Duration::from_secs(60),
        );
        let report = run.json();
        assert_eq!(
            report["saw_text"], true,
            "{then}: the dashboard drew: {report}"
        );
        assert_eq!(
            report["asked_cursor"], false,
            "{then}: no cursor query: {report}"
        );
        assert_eq!(
            report["alive_after_hold"], true,
            "{then}: still running: {report}"
        );
        assert_eq!(report["exit_code"], status, "{then}: {report}");
    }
}

/// A default config file that exists but cannot be read (another user's HOME kept under
/// `setpriv` or `su`) is a warning: the dashboard starts with the defaults and says why.
#[test]
fn an_unreadable_default_config_is_a_warning_not_a_refusal() {
    let Some(ns) = privileged("an_unreadable_default_config") else {
        return;
    };
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::Builder::new()
        .prefix("bst-home-")
        .tempdir()
        .expect("tempdir");
    let dir = home.path().join(".config/bindscope");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for d in [home.path(), &home.path().join(".config"), &dir] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let config = dir.join("config.toml");
    std::fs::write(&config, "refresh = \"2s\"\n").expect("write");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let bin = world_readable_binary();
    // The pty helper runs as root (the checkout may be closed to others); bindscope, a copy
    // everyone can run, runs as nobody inside it.
    let mut cmd = ns.cmd(&[
        &python(),
        PTYRUN,
        "--wait-for",
        "using the defaults",
        "--hold",
        "0.5",
        "--then",
        "key:q",
        "--",
        "setpriv",
        &format!("--reuid={NOBODY}"),
        &format!("--regid={NOBODY}"),
        "--clear-groups",
        "--",
        bin.path.to_str().expect("utf-8"),
        "--netns",
        "current",
    ]);
    cmd.env("HOME", home.path());
    let report = run_timeout(&mut cmd, Duration::from_secs(60)).json();
    assert_eq!(
        report["saw_text"], true,
        "the warning is on screen: {report}"
    );
    assert_eq!(
        report["alive_after_hold"], true,
        "the dashboard started: {report}"
    );
    assert_eq!(report["exit_code"], 0, "{report}");
}

/// The SGR parameters of every `ESC [ ... m` in `s`.
fn sgr_params(s: &str) -> Vec<String> {
    s.split("\x1b[")
        .skip(1)
        .filter_map(|rest| {
            let end = rest.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
            (rest.as_bytes().get(end) == Some(&b'm')).then(|| rest[..end].to_string())
        })
        .collect()
}

/// Whether SGR parameters set a colour (text, background or underline).
fn sets_colour(params: &str) -> bool {
    let p: Vec<&str> = params.split(';').collect();
    p.iter().any(|n| {
        n.parse::<u16>()
            .is_ok_and(|n| matches!(n, 30..=37 | 40..=47 | 90..=97 | 100..=107 | 38 | 48 | 58))
    })
}

/// `TERM=dumb LANG=C`: the whole dashboard (a view with bars and arrows, the help with its
/// border) in ASCII and without colour; and the same dashboard in a UTF-8 terminal keeps its
/// glyphs and writes its colours as the 16 ANSI colours, never as 256-colour indexes.
#[test]
fn a_dumb_terminal_gets_ascii_without_colour_and_others_16_colours() {
    let Some(ns) = privileged("a_dumb_terminal_gets_ascii") else {
        return;
    };
    if !common::tmux::available() {
        return;
    }
    let _sm = Sockmaker::start(
        &ns,
        &serde_json::json!({"sockets": [
            {"name": "web", "proto": "tcp", "family": 4, "addr": "0.0.0.0", "port": 24311,
             "listen": 16, "uid": 1001},
            {"name": "dns", "proto": "udp", "family": 4, "addr": "127.0.0.1", "port": 24312,
             "uid": 1002}
        ]}),
    );
    let bin = env!("CARGO_BIN_EXE_bindscope");
    let run = |env: &str, tag: &str| {
        let session = format!("bst-{tag}-{}", std::process::id());
        let shell = format!(
            "env {env} ip netns exec {} {bin} --netns current --interval 500ms; echo EXIT=$?; sleep 60",
            ns.name()
        );
        Tmux::start(&session, 160, 40, &shell)
    };

    let dumb = run("TERM=dumb LANG=C LC_ALL= LC_CTYPE=", "dumb");
    let first = dumb.wait_for("both sockets", |s| {
        s.contains("24311") && s.contains("24312")
    });
    let mut screens = vec![("sockets", first, dumb.screen_with_escapes())];
    dumb.keys(&["Tab"]);
    let ports = dumb.wait_for("the Ports view", |s| s.contains("v4 *>sm-u1001"));
    screens.push(("ports", ports, dumb.screen_with_escapes()));
    dumb.keys(&["?"]);
    let help = dumb.wait_for("the help", |s| s.contains("Move up one page"));
    assert!(help.contains("+ help -"), "an ASCII border:\n{help}");
    screens.push(("help", help, dumb.screen_with_escapes()));
    for (what, text, escaped) in &screens {
        let bad: Vec<char> = text.chars().filter(|c| !c.is_ascii()).collect();
        assert!(bad.is_empty(), "{what}: not ASCII: {bad:?}\n{text}");
        let colours: Vec<String> = sgr_params(escaped)
            .into_iter()
            .filter(|p| sets_colour(p))
            .collect();
        assert!(
            colours.is_empty(),
            "{what}: colours on a dumb terminal: {colours:?}"
        );
    }
    dumb.keys(&["Escape"]);
    dumb.wait_for("the help to close", |s| !s.contains("Move up one page"));
    dumb.keys(&["q"]);
    let after = dumb.wait_for("bindscope to exit", |s| s.contains("EXIT="));
    assert!(after.contains("EXIT=0"), "{after}");

    let color = run("TERM=xterm-256color LANG=C.UTF-8 LC_ALL= LC_CTYPE=", "16c");
    let text = color.wait_for("both sockets", |s| {
        s.contains("24311") && s.contains("24312")
    });
    assert!(text.contains('·'), "UTF-8 keeps its glyphs:\n{text}");
    let params = sgr_params(&color.screen_with_escapes());
    let colours: Vec<&String> = params.iter().filter(|p| sets_colour(p)).collect();
    assert!(
        !colours.is_empty(),
        "the theme's colours are drawn: {params:?}"
    );
    let indexed: Vec<&&String> = colours
        .iter()
        .filter(|p| p.contains("38;5;") || p.contains("48;5;"))
        .collect();
    assert!(
        indexed.is_empty(),
        "256-colour indexes written: {indexed:?}"
    );
    color.keys(&["q"]);
    color.wait_for("bindscope to exit", |s| s.contains("EXIT=0"));
}
