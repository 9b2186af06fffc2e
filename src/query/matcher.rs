//! Whether a socket passes a filter. The snapshot-wide facts a term needs (what names each
//! namespace and which containers live in it, findings, marks) are indexed once per
//! snapshot in a [`FilterContext`]; a socket is then tested without allocating, 50,000
//! times per keystroke.

use super::ast::{Filter, Pred, ScopeSel, StateSel};
use super::needle::Needle;
use crate::model::names::{MIN_ID_PREFIX, NetnsNames, image_matches};
use crate::model::{
    Container, FindingKind, NetnsId, Proto, Scope, Snapshot, Socket, SocketId, State,
};
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

/// What a filter needs besides the socket: names and findings live elsewhere in the
/// snapshot. Build once per snapshot, not per keystroke.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterContext {
    /// Each namespace's name, aliases and containers, as `netns:` and `container:` ask.
    pub netns: HashMap<NetnsId, NetnsNames>,
    /// The kinds of the findings that name each socket.
    pub findings_by_socket: HashMap<SocketId, Vec<FindingKind>>,
    /// The snapshot's host, for sockets that do not carry their own (one host).
    pub hostname: String,
    /// Marked sockets and their notes (kept up to date by the app as marks change).
    pub marks: HashMap<SocketId, String>,
}

impl FilterContext {
    pub fn new(snap: &Snapshot) -> Self {
        let netns = snap
            .netns
            .iter()
            .map(|n| (n.id, NetnsNames::of(n)))
            .collect();
        let mut findings_by_socket: HashMap<SocketId, Vec<FindingKind>> = HashMap::new();
        for f in &snap.findings {
            for id in &f.sockets {
                let kinds = findings_by_socket.entry(id.clone()).or_default();
                if !kinds.contains(&f.kind) {
                    kinds.push(f.kind.clone());
                }
            }
        }
        FilterContext {
            netns,
            findings_by_socket,
            hostname: snap.host.hostname.clone(),
            marks: snap
                .marks
                .iter()
                .map(|m| (m.socket.clone(), m.note.clone()))
                .collect(),
        }
    }
}

/// A fixed buffer for formatting addresses without allocating per socket; `None` from
/// [`Inline::as_str`] when the text did not fit, and the caller formats into a String.
struct Inline {
    buf: [u8; 128],
    len: usize,
    overflow: bool,
}

impl Inline {
    fn new() -> Inline {
        Inline {
            buf: [0; 128],
            len: 0,
            overflow: false,
        }
    }

    fn as_str(&self) -> Option<&str> {
        if self.overflow {
            return None;
        }
        // Only whole `&str`s are copied in, so the bytes are UTF-8.
        std::str::from_utf8(self.buf.get(..self.len)?).ok()
    }
}

impl fmt::Write for Inline {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(s.as_bytes());
                self.len = end;
                Ok(())
            }
            None => {
                self.overflow = true;
                Err(fmt::Error)
            }
        }
    }
}

/// Format with `write` and test the text, without allocating unless it is too long.
fn with_text(
    write: impl Fn(&mut dyn fmt::Write) -> fmt::Result,
    test: impl Fn(&str) -> bool,
) -> bool {
    let mut inline = Inline::new();
    if write(&mut inline).is_ok()
        && let Some(text) = inline.as_str()
    {
        return test(text);
    }
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = write(&mut text);
    test(&text)
}

fn write_addr(w: &mut dyn fmt::Write, addr: IpAddr, port: u16) -> fmt::Result {
    match addr {
        IpAddr::V4(a) => write!(w, "{a}:{port}"),
        IpAddr::V6(a) => write!(w, "[{a}]:{port}"),
    }
}

/// `tcp 0.0.0.0:8080`, `udp [::1]%lo:53`: the endpoint as the tables show it.
fn write_endpoint(w: &mut dyn fmt::Write, s: &Socket) -> fmt::Result {
    write!(w, "{} ", s.proto.name())?;
    match (s.local_addr, s.device.as_deref()) {
        (IpAddr::V4(a), Some(d)) => write!(w, "{a}%{d}:{}", s.local_port),
        (IpAddr::V6(a), Some(d)) => write!(w, "[{a}]%{d}:{}", s.local_port),
        (addr, None) => write_addr(w, addr, s.local_port),
    }
}

impl Pred {
    fn matches(&self, s: &Socket, cx: &FilterContext) -> bool {
        // A socket is a container's when a holder runs in it, or when it sits in a namespace
        // a container made: a sidecar's listener answers on its pod's address, and a socket
        // whose holders are not visible still belongs there. Not through the host's
        // namespace, where host-network containers live among everything else.
        let in_container = |f: &dyn Fn(&Container) -> bool| {
            s.holders
                .iter()
                .any(|h| h.container.as_deref().is_some_and(f))
                || cx
                    .netns
                    .get(&s.netns)
                    .is_some_and(|n| n.sharing().iter().any(f))
        };
        match self {
            Pred::Port(lo, hi) => (*lo..=*hi).contains(&s.local_port),
            Pred::User { name, uid } => {
                let is = |n: Option<&str>, u: u32| {
                    uid.is_some_and(|x| x == u) || n.is_some_and(|n| name.equals(n))
                };
                is(s.user.as_deref(), s.uid)
                    || s.holders.iter().any(|h| is(h.user.as_deref(), h.uid))
            }
            Pred::Proto(p) => s.proto == *p,
            Pred::Scope(ScopeSel::AnyWildcard) => {
                matches!(s.scope, Scope::Wildcard | Scope::DualStackWildcard)
            }
            Pred::Scope(ScopeSel::Is(scope)) => s.scope == *scope,
            Pred::State(StateSel::Bound) => {
                s.proto == Proto::Tcp && matches!(s.state, State::Close | State::BoundInactive)
            }
            Pred::State(StateSel::Is(state)) => s.state == *state,
            Pred::Finding(needle) => cx
                .findings_by_socket
                .get(&s.id)
                .is_some_and(|kinds| kinds.iter().any(|k| needle.in_text(k.name()))),
            Pred::AnyFinding => cx
                .findings_by_socket
                .get(&s.id)
                .is_some_and(|kinds| !kinds.is_empty()),
            Pred::Pid(pid) => s.holders.iter().any(|h| h.pid == *pid),
            // The inode also names a namespace the snapshot does not list.
            Pred::Netns(pattern) => {
                pattern.inode() == Some(s.netns.0)
                    || cx
                        .netns
                        .get(&s.netns)
                        .is_some_and(|n| pattern.matches_netns(n))
            }
            Pred::Container(pattern) => in_container(&|c| pattern.matches_container(c)),
            Pred::Image(glob) => {
                in_container(&|c| c.image.as_deref().is_some_and(|i| image_matches(glob, i)))
            }
            Pred::Pod(pattern) => {
                in_container(&|c| c.pod.as_ref().is_some_and(|p| pattern.matches(p)))
            }
            Pred::Family(f) => s.family == *f,
            Pred::Addr(needle) => {
                with_text(|w| write!(w, "{}", s.local_addr), |t| needle.starts(t))
            }
            Pred::Unit(needle) => s
                .holders
                .iter()
                .any(|h| h.unit.as_deref().is_some_and(|u| needle.in_text(u))),
            Pred::Host(needle) => needle.equals(s.host.as_deref().unwrap_or(&cx.hostname)),
            Pred::AnyMark => cx.marks.contains_key(&s.id),
            Pred::Mark(needle) => cx.marks.get(&s.id).is_some_and(|n| needle.in_text(n)),
            Pred::Text(needle) => text_matches(needle, s, cx),
        }
    }
}

fn text_matches(needle: &Needle, s: &Socket, cx: &FilterContext) -> bool {
    if (needle.endpoint_chars || s.device.is_some())
        && with_text(|w| write_endpoint(w, s), |t| needle.in_text(t))
    {
        return true;
    }
    if needle.endpoint_chars
        && let (Some(addr), Some(port)) = (s.remote_addr, s.remote_port)
        && with_text(|w| write_addr(w, addr, port), |t| needle.in_text(t))
    {
        return true;
    }
    if s.user.as_deref().is_some_and(|u| needle.in_text(u)) {
        return true;
    }
    if cx
        .netns
        .get(&s.netns)
        .and_then(|n| n.name.as_deref())
        .is_some_and(|n| needle.in_text(n))
    {
        return true;
    }
    s.holders.iter().any(|h| {
        needle.in_text(&h.name)
            || h.user.as_deref().is_some_and(|u| needle.in_text(u))
            || h.unit.as_deref().is_some_and(|u| needle.in_text(u))
            || h.container.as_deref().is_some_and(|c| container_text(needle, c))
            || h.cmdline.iter().any(|a| needle.in_text(a))
            // Text with a space may span arguments (`nginx -g`): only then join them.
            || (needle.lower.contains(' ')
                && h.cmdline.len() > 1
                && needle.in_text(&h.cmdline.join(" ")))
    })
}

/// Free text in a holder's container: its name, image or pod, or the start of its id. Only
/// the start, and of 4 or more characters, so that a port typed as text (`8080`) does not
/// find the containers whose random hex ids happen to hold it.
fn container_text(needle: &Needle, c: &Container) -> bool {
    c.name.as_deref().is_some_and(|n| needle.in_text(n))
        || (needle.lower.len() >= MIN_ID_PREFIX && needle.starts(&c.id))
        || c.image.as_deref().is_some_and(|i| needle.in_text(i))
        || c.pod.as_ref().is_some_and(|p| {
            needle.in_text(&p.name) || p.namespace.as_deref().is_some_and(|ns| needle.in_text(ns))
        })
}

impl Filter {
    /// Whether the socket passes every term.
    pub fn matches(&self, s: &Socket, cx: &FilterContext) -> bool {
        self.terms
            .iter()
            .all(|t| t.alts.iter().any(|p| p.matches(s, cx)) != t.negated)
    }
}
