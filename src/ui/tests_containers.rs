//! The dashboard on a container host ([`crate::testing::container_host`]): the CONTAINER
//! column of the Sockets and Processes views, the socket detail's containers and namespace
//! owner, and the Host view's owners and Containers grouping, at both sizes.

use super::app::{App, Msg};
use super::tests::{app, code, key, screen, typed};
use crate::testing::container_host;
use ratatui::crossterm::event::KeyCode;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn on_container_host(width: u16, height: u16) -> App {
    let mut a = app();
    a.update(Msg::Resize { width, height });
    a.update(Msg::Snapshot {
        snap: Box::new(container_host()),
        at_ms: 0,
    });
    a
}

/// The screen's line that shows `needle`.
fn line_with<'a>(s: &'a str, needle: &str) -> &'a str {
    s.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?}:\n{s}"))
}

#[test]
fn sockets_view_has_a_container_column() {
    for (w, h) in SIZES {
        let a = on_container_host(w, h);
        let s = screen(&a, w, h);
        insta::assert_snapshot!(format!("containers_sockets_{w}x{h}"), s);
    }
    let a = on_container_host(160, 48);
    let s = screen(&a, 160, 48);
    assert!(line_with(&s, "LOCAL").contains("CONTAINER"), "{s}");
    assert!(
        line_with(&s, ":9090").contains(" side "),
        "the sidecar's own"
    );
    assert!(
        line_with(&s, ":8081").contains(" web "),
        "no holder: the owner"
    );
    assert!(
        line_with(&s, ":18080").contains("podman:686f73746300"),
        "host network: the holder's, by runtime and short id"
    );
    assert!(
        line_with(&s, ":7000").contains("net:[3] ·"),
        "an unnamed namespace is named by its holder (cut to the column)"
    );
}

#[test]
fn socket_detail_names_the_container_and_the_namespace_owner() {
    for (w, h) in SIZES {
        let mut a = on_container_host(w, h);
        a.update(key('/'));
        typed(&mut a, "port:9090");
        a.update(code(KeyCode::Enter));
        a.update(code(KeyCode::Enter));
        let s = screen(&a, w, h);
        insta::assert_snapshot!(format!("containers_detail_{w}x{h}"), s);
        if w == 160 {
            assert!(
                s.contains("runs in   side · docker 736964650000 · image bs:1 · pod default/api"),
                "{s}"
            );
            assert!(
                s.contains("netns     owned by web · shared with side"),
                "{s}"
            );
            assert!(s.contains("container side"), "on the holder line: {s}");
        }
    }
}

#[test]
fn processes_view_shows_the_container() {
    let mut a = on_container_host(160, 48);
    a.update(key('3'));
    let s = screen(&a, 160, 48);
    insta::assert_snapshot!("containers_processes_160x48", s);
    assert!(line_with(&s, "PID").contains("CONTAINER"), "{s}");
    assert!(line_with(&s, "  9090 ").contains("side"), "{s}");
}

#[test]
fn host_view_shows_owners_and_a_containers_grouping() {
    for (w, h) in SIZES {
        let mut a = on_container_host(w, h);
        a.update(key('6'));
        // The web namespace (host first, then by name): its detail lists its owner and
        // the sidecar that joined it.
        a.update(key('j'));
        let s = screen(&a, w, h);
        insta::assert_snapshot!(format!("containers_host_{w}x{h}"), s);
    }
    let mut a = on_container_host(160, 48);
    a.update(key('6'));
    let table = screen(&a, 160, 48);
    assert!(line_with(&table, "NETNS").contains("CONTAINERS"), "{table}");
    assert!(line_with(&table, "web +1").contains("container"), "{table}");
    assert!(
        line_with(&table, "net:[3] · socat (uid 1001)").contains("process"),
        "{table}"
    );
    a.update(key('j'));
    a.update(code(KeyCode::Enter));
    let s = screen(&a, 160, 48);
    assert!(
        s.contains("members   web · docker 776562000000 · image nginx:1.25 · owns the namespace · 2 listening of 2 sockets"),
        "the namespace's own: {s}"
    );
    assert!(s.contains("Containers (3)"), "{s}");
    assert!(
        s.contains("web · docker 776562000000 · image nginx:1.25 · in web · owns the namespace · 2 listening of 2 sockets"),
        "{s}"
    );
    assert!(
        s.contains("podman:686f73746300 · podman 686f73746300 · in host · 1 listening of 1 socket"),
        "host network: listed with the host namespace: {s}"
    );
}
