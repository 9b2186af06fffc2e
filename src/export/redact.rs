//! `--redact`: a snapshot fit for sharing outside the team. Values that identify people,
//! hosts and networks are replaced by stable placeholders; the facts the findings rest on
//! stay, so a redacted file still explains itself.
//!
//! Replaced:
//! - cmdline arguments: `argv[0]` (the program) stays, every argument becomes `<arg-N>`,
//!   the same text the same N;
//! - user names (`socket.user`, `holder.user`) become `user-N`, except `root`: uid 0 says
//!   it anyway, and prose such as "needs root" stays readable. Uids stay: the bind rules
//!   compare them;
//! - host names (`host.hostname`, `socket.host`) become `host-N`;
//! - addresses that are not wildcard, loopback or multicast (a protocol's group such as
//!   mDNS's 224.0.0.251 names no host) become addresses of the same family from the
//!   documentation ranges: IPv4 192.0.2.0/24, then 198.51.100.0/24, then 203.0.113.0/24,
//!   then 198.18.0.0/15 (benchmarking; then 240.0.0.0/4 past 130,000 addresses); IPv6
//!   2001:db8::N; an IPv4-mapped IPv6 address keeps its form around the IPv4 placeholder.
//!   Socket local and remote addresses and interface addresses alike; prefix lengths,
//!   flags, `scope` and `address_state` stay (they are the facts that matter). The mapping
//!   is one-to-one, so sockets that shared an address still do;
//! - the original texts of all of these inside free text (warnings, privileges' `missing`,
//!   a namespace's `error`, findings' summary and explanation, marks' notes,
//!   `holders_unknown`) and, except arguments, inside `argv[0]` (`/home/alice/bin/app`):
//!   at token boundaries only (`10.0.0.1` leaves `10.0.0.10` alone), longest first.
//!   Arguments are replaced in free text when longer than 2 characters and not only digits
//!   (a numeric argument is usually a port or a count, and generated text is full of those);
//!   user and host names when longer than 1 character (a user `a` would take every "a").
//!
//! - the registry host of a container image (`registry.corp.example:5000/team/app:1.2`
//!   becomes `host-N:5000/team/app:1.2`), on holders' and namespaces' containers: it names a
//!   machine of the network like a host name does, and becomes the same `host-N` as that
//!   name elsewhere. `localhost` and Docker Hub's implied registry (`nginx:1.25`) stay.
//!
//! Not replaced: process names, systemd unit and container names, pod names, the rest of
//! an image reference (repository and tag), namespace names and paths, interface and
//! device names, ports, pids, fds, uids, socket ids, container ids and cookies, the kernel
//! version, sysctls and counters. Container and pod names, like units and process names,
//! name the service, not a person or a machine, and the findings speak of them: a reader
//! needs `web` to follow "what listens in web"; an image's repository says what runs, as
//! `argv[0]` does, which also stays. A redacted snapshot has the same fields as any
//! other: nothing in it says it was redacted.
//!
//! One [`Redactor`] serves a whole file: every frame of a recording maps the same value to
//! the same placeholder.

use crate::model::{Container, Snapshot, Socket};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// The mappings of one file, original → placeholder, kept across frames.
#[derive(Debug, Default)]
pub struct Redactor {
    args: Names,
    users: Names,
    hosts: Names,
    v4: HashMap<Ipv4Addr, Ipv4Addr>,
    v6: HashMap<Ipv6Addr, Ipv6Addr>,
    /// Every original text to replace inside free text.
    texts: Replacements,
}

/// Texts numbered in order of first sight, with their placeholder.
#[derive(Debug, Default)]
struct Names {
    map: HashMap<String, Arc<str>>,
}

impl Names {
    /// The placeholder of `text` (`prefix` + number), and whether it is new.
    fn get(&mut self, text: &str, prefix: &str, suffix: &str) -> (Arc<str>, bool) {
        if let Some(p) = self.map.get(text) {
            return (Arc::clone(p), false);
        }
        let p: Arc<str> = format!("{prefix}{}{suffix}", self.map.len() + 1).into();
        self.map.insert(text.to_string(), Arc::clone(&p));
        (p, true)
    }
}

/// Which kind of value a free-text replacement comes from; a text that is several kinds
/// is replaced as the first of these (an address that is also an argument reads as an
/// address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Address,
    User,
    Host,
    Arg,
}

impl Redactor {
    /// Redacts one snapshot in place.
    pub fn redact(&mut self, snap: &mut Snapshot) {
        let hostname = self.host(&snap.host.hostname);
        snap.host.hostname = hostname.to_string();
        for ns in &mut snap.netns {
            for iface in &mut ns.interfaces {
                for a in &mut iface.addresses {
                    a.addr = self.addr(a.addr);
                }
            }
            for c in ns.container.iter_mut().chain(&mut ns.containers) {
                self.container(c);
            }
        }
        let mut cmdlines = HashMap::new();
        let mut containers = HashMap::new();
        for s in &mut snap.sockets {
            self.socket(s, &mut cmdlines, &mut containers);
        }
        self.free_text(snap);
    }

    fn socket(
        &mut self,
        s: &mut Socket,
        cmdlines: &mut HashMap<Arc<[String]>, Arc<[String]>>,
        containers: &mut HashMap<Arc<Container>, Arc<Container>>,
    ) {
        s.local_addr = self.addr(s.local_addr);
        s.remote_addr = s.remote_addr.map(|a| self.addr(a));
        s.user = s.user.take().map(|u| self.user(&u));
        s.host = s.host.take().map(|h| self.host(&h));
        for h in &mut s.holders {
            h.user = h.user.take().map(|u| self.user(&u));
            // Holders of one process share their cmdline: redact it once, keep it shared.
            if let Some(done) = cmdlines.get(&h.cmdline) {
                h.cmdline = Arc::clone(done);
            } else {
                let redacted = self.cmdline(&h.cmdline);
                cmdlines.insert(Arc::clone(&h.cmdline), Arc::clone(&redacted));
                h.cmdline = redacted;
            }
            // Likewise a container, shared by its processes' holders.
            if let Some(c) = h.container.take() {
                let done = containers.entry(Arc::clone(&c)).or_insert_with(|| {
                    let mut copy = (*c).clone();
                    self.container(&mut copy);
                    Arc::new(copy)
                });
                h.container = Some(Arc::clone(done));
            }
        }
    }

    fn container(&mut self, c: &mut Container) {
        if let Some(image) = c.image.take() {
            c.image = Some(self.image(&image));
        }
    }

    /// The image reference with its registry host replaced (see the module's list). The
    /// first path component is a registry when it has a `.` or a `:` (as Docker's
    /// reference grammar decides); `localhost` names no machine of the network.
    fn image(&mut self, image: &str) -> String {
        let Some((first, rest)) = image.split_once('/') else {
            return image.to_string();
        };
        if !(first.contains('.') || first.contains(':')) {
            return image.to_string();
        }
        let (host, port) = match first.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() => (h, Some(p)),
            _ => (first, None),
        };
        if host == "localhost" {
            return image.to_string();
        }
        let p = self.host(host);
        match port {
            Some(port) => format!("{p}:{port}/{rest}"),
            None => format!("{p}/{rest}"),
        }
    }

    fn user(&mut self, name: &str) -> Arc<str> {
        if name == "root" {
            return Arc::from(name);
        }
        let (p, new) = self.users.get(name, "user-", "");
        if new && name.chars().count() >= 2 {
            self.texts.add(name, &p, Kind::User);
        }
        p
    }

    fn host(&mut self, name: &str) -> Arc<str> {
        let (p, new) = self.hosts.get(name, "host-", "");
        if new && name.chars().count() >= 2 {
            self.texts.add(name, &p, Kind::Host);
        }
        p
    }

    /// `argv[0]` with names and addresses replaced; every argument `<arg-N>`.
    fn cmdline(&mut self, argv: &[String]) -> Arc<[String]> {
        let mut out = Vec::with_capacity(argv.len());
        let mut args = argv.iter();
        if let Some(program) = args.next() {
            out.push(
                self.texts
                    .apply(program, Kind::Host)
                    .unwrap_or_else(|| program.clone()),
            );
        }
        for a in args {
            let (p, new) = self.args.get(a, "<arg-", ">");
            if new && a.chars().count() > 2 && !a.chars().all(|c| c.is_ascii_digit()) {
                self.texts.add(a, &p, Kind::Arg);
            }
            out.push(p.to_string());
        }
        out.into()
    }

    fn addr(&mut self, a: IpAddr) -> IpAddr {
        match a {
            IpAddr::V4(v4) => IpAddr::V4(self.v4(v4)),
            // The IPv4 inside a mapped address is the same host as that IPv4 address.
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V6(self.v4(v4).to_ipv6_mapped()),
                None => IpAddr::V6(self.v6(v6)),
            },
        }
    }

    fn v4(&mut self, a: Ipv4Addr) -> Ipv4Addr {
        if a.is_unspecified() || a.is_loopback() || a.is_multicast() || a.is_broadcast() {
            return a;
        }
        if let Some(p) = self.v4.get(&a) {
            return *p;
        }
        let p = v4_placeholder(self.v4.len());
        self.v4.insert(a, p);
        self.texts
            .add(&a.to_string(), &p.to_string(), Kind::Address);
        p
    }

    fn v6(&mut self, a: Ipv6Addr) -> Ipv6Addr {
        if a.is_unspecified() || a.is_loopback() || a.is_multicast() {
            return a;
        }
        if let Some(p) = self.v6.get(&a) {
            return *p;
        }
        let n = u128::try_from(self.v6.len()).unwrap_or(u128::MAX) + 1;
        // 2001:db8::/32 leaves 96 bits: never exhausted.
        let p = Ipv6Addr::from(DOC_V6 | (n & ((1u128 << 96) - 1)));
        self.v6.insert(a, p);
        self.texts
            .add(&a.to_string(), &p.to_string(), Kind::Address);
        p
    }

    /// Replaces the original texts inside every free-text field. Texts repeat (every
    /// socket of a process without visible fds says the same `holders_unknown`): each
    /// distinct text is scanned once.
    fn free_text(&mut self, snap: &mut Snapshot) {
        let mut memo: HashMap<String, Option<String>> = HashMap::new();
        let mut fix = |s: &mut String| {
            let done = memo
                .entry(s.clone())
                .or_insert_with(|| self.texts.apply(s, Kind::Arg));
            if let Some(new) = done {
                s.clone_from(new);
            }
        };
        snap.warnings.iter_mut().for_each(&mut fix);
        snap.privileges.missing.iter_mut().for_each(&mut fix);
        for ns in &mut snap.netns {
            ns.error.iter_mut().for_each(&mut fix);
        }
        for f in &mut snap.findings {
            fix(&mut f.summary);
            fix(&mut f.explanation);
        }
        for m in &mut snap.marks {
            fix(&mut m.note);
        }
        // One text shared by many sockets stays one shared text.
        let mut last: Option<(Arc<str>, Arc<str>)> = None;
        for s in &mut snap.sockets {
            let Some(why) = &mut s.holders_unknown else {
                continue;
            };
            match &last {
                Some((was, now)) if Arc::ptr_eq(was, why) => *why = Arc::clone(now),
                _ => {
                    let mut text = why.to_string();
                    fix(&mut text);
                    let now: Arc<str> = if *text == **why {
                        Arc::clone(why)
                    } else {
                        text.into()
                    };
                    last = Some((std::mem::replace(why, Arc::clone(&now)), now));
                }
            }
        }
    }
}

const DOC_V6: u128 = 0x2001_0db8_u128 << 96;

/// The `n`-th IPv4 placeholder (from 0): hosts .1 to .254 of the three documentation /24s,
/// then of the /24s of 198.18.0.0/15, then 240.0.0.0/4 (reserved, never routed). None of
/// these is loopback, multicast or broadcast, which stay as they are, so a placeholder
/// never collides with an address that was kept.
fn v4_placeholder(n: usize) -> Ipv4Addr {
    const DOC: [[u8; 3]; 3] = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];
    const PER_NET: usize = 254;
    const BENCH_NETS: usize = 512;
    if let Some([a, b, c]) = DOC.get(n / PER_NET) {
        return Ipv4Addr::new(*a, *b, *c, host_octet(n % PER_NET));
    }
    let n = n - DOC.len() * PER_NET;
    if n < BENCH_NETS * PER_NET {
        let net = n / PER_NET;
        let b = u8::try_from(18 + net / 256).unwrap_or(19);
        let c = u8::try_from(net % 256).unwrap_or(0);
        return Ipv4Addr::new(198, b, c, host_octet(n % PER_NET));
    }
    let n = n - BENCH_NETS * PER_NET;
    // 2^28 - 2 addresses, stopping short of 255.255.255.255 (kept, as broadcast).
    let offset = u32::try_from(n).unwrap_or(u32::MAX).min((1 << 28) - 3);
    Ipv4Addr::from(0xf000_0001 + offset)
}

fn host_octet(i: usize) -> u8 {
    u8::try_from(i + 1).unwrap_or(254)
}

/// Original texts and their placeholders, for replacement inside free text.
#[derive(Debug)]
struct Replacements {
    map: HashMap<String, (Kind, String)>,
    /// The distinct lengths (bytes) of the originals, longest first.
    lengths: Vec<usize>,
    /// Bytes an original can start with: most positions of a text are skipped at once.
    starts: [bool; 256],
}

impl Default for Replacements {
    fn default() -> Self {
        Replacements {
            map: HashMap::new(),
            lengths: Vec::new(),
            starts: [false; 256],
        }
    }
}

impl Replacements {
    fn add(&mut self, original: &str, placeholder: &str, kind: Kind) {
        let Some(&first) = original.as_bytes().first() else {
            return;
        };
        match self.map.get(original) {
            Some((k, _)) if *k <= kind => return,
            _ => {}
        }
        self.map
            .insert(original.to_string(), (kind, placeholder.to_string()));
        if let Err(at) = self.lengths.binary_search_by(|l| original.len().cmp(l)) {
            self.lengths.insert(at, original.len());
        }
        self.starts[usize::from(first)] = true;
    }

    /// `text` with every original (of `kind` or a kind before it) at token boundaries
    /// replaced, longest first; `None` when nothing matched.
    fn apply(&self, text: &str, upto: Kind) -> Option<String> {
        let mut out = String::new();
        let mut copied = 0;
        let mut i = 0;
        while let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) {
            if let Some((len, placeholder)) = self.match_at(text, i, upto) {
                out.push_str(text.get(copied..i).unwrap_or_default());
                out.push_str(placeholder);
                i += len;
                copied = i;
            } else {
                i += c.len_utf8();
            }
        }
        if copied == 0 {
            return None;
        }
        out.push_str(text.get(copied..).unwrap_or_default());
        Some(out)
    }

    /// The longest original that starts at `i` at a token boundary.
    fn match_at(&self, text: &str, i: usize, upto: Kind) -> Option<(usize, &str)> {
        let first = *text.as_bytes().get(i)?;
        if !self.starts[usize::from(first)] {
            return None;
        }
        let before = text.get(..i)?.chars().next_back();
        // Inside a word nothing can match: most positions end here.
        if before.is_some_and(is_word) {
            return None;
        }
        for &len in &self.lengths {
            let Some(candidate) = text.get(i..i + len) else {
                continue;
            };
            let Some((kind, placeholder)) = self.map.get(candidate) else {
                continue;
            };
            let v6 = *kind == Kind::Address && candidate.contains(':');
            if *kind <= upto
                && !before.is_some_and(|b| continues_before(b, v6))
                && !continues_after(text.get(i + len..).unwrap_or_default(), v6)
            {
                return Some((len, placeholder));
            }
        }
        None
    }
}

/// Letters, digits and `_` make one token: a match must not be part of a longer one.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether the character before a match makes it the middle of a token. For an IPv6
/// address, a `:` or `.` before it does too (`fe80::1` inside `1:fe80::1`).
fn continues_before(c: char, v6: bool) -> bool {
    is_word(c) || (v6 && (c == ':' || c == '.'))
}

/// Whether the text after a match continues the token. For an IPv6 address, `:` and a hex
/// digit continue it (`2001:db8::1` inside `2001:db8::1:5`), while `]:53` or `: ` do not.
fn continues_after(rest: &str, v6: bool) -> bool {
    let mut chars = rest.chars();
    match chars.next() {
        None => false,
        Some(c) if is_word(c) => true,
        Some(':') if v6 => chars
            .next()
            .is_some_and(|c| c.is_ascii_hexdigit() || c == ':'),
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AddrFlag, Finding, Interface, InterfaceAddr, Mark, Scope, Severity};
    use crate::testing::{netns, snapshot_of, socket};

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    /// A socket at `local` (and `remote`), held by `user` running `argv`.
    fn sock(id: &str, local: &str, remote: Option<&str>, user: &str, argv: &[&str]) -> Socket {
        let mut s = socket();
        s.id = crate::model::SocketId(id.into());
        s.local_addr = ip(local);
        s.remote_addr = remote.map(ip);
        s.user = Some(user.into());
        s.holders[0].user = Some(user.into());
        s.holders[0].cmdline = argv.iter().map(|a| a.to_string()).collect();
        s
    }

    fn finding(text: &str) -> Finding {
        Finding {
            kind: "wildcard_overlap".into(),
            severity: Severity::Warning,
            sockets: vec![],
            summary: text.into(),
            explanation: text.into(),
            problem: None,
        }
    }

    #[test]
    fn image_registry_hosts_are_hosts_and_container_names_stay() {
        let mut r = Redactor::default();
        let mut snap = crate::testing::container_host();
        snap.host.hostname = "registry.corp.example".into();
        let web_image = "registry.corp.example:5000/team/web:1.2";
        snap.netns[1].container.as_mut().expect("owner").image = Some(web_image.into());
        snap.netns[1].containers[0].image = Some(web_image.into());
        let c = snap.sockets[2].holders[0].container.as_mut().expect("web");
        Arc::make_mut(c).image = Some(web_image.into());
        snap.sockets[3].holders[0].container = snap.sockets[2].holders[0].container.clone();
        snap.warnings = vec!["pull from registry.corp.example failed".into()];
        r.redact(&mut snap);
        // The machine is the host's placeholder everywhere; the rest stays.
        let want = "host-1:5000/team/web:1.2";
        assert_eq!(snap.host.hostname, "host-1");
        let web = snap.sockets[2].holders[0].container.as_ref().expect("web");
        assert_eq!(web.image.as_deref(), Some(want));
        assert_eq!(web.name.as_deref(), Some("web"), "container names stay");
        assert_eq!(
            snap.netns[1]
                .container
                .as_ref()
                .and_then(|c| c.image.as_deref()),
            Some(want)
        );
        assert_eq!(snap.netns[1].containers[0].image.as_deref(), Some(want));
        assert_eq!(snap.warnings, ["pull from host-1 failed"]);
        // Two holders of one container still share one value.
        let other = snap.sockets[3].holders[0]
            .container
            .as_ref()
            .expect("shared");
        assert!(Arc::ptr_eq(web, other));
        // Docker Hub's implied registry, a pod, and localhost are no machine of the network.
        assert_eq!(r.image("nginx:1.25"), "nginx:1.25");
        assert_eq!(r.image("library/nginx"), "library/nginx");
        assert_eq!(r.image("localhost/bs:1"), "localhost/bs:1");
        assert_eq!(r.image("localhost:5000/bs:1"), "localhost:5000/bs:1");
        assert_eq!(r.image("quay.io/app@sha256:00"), "host-2/app@sha256:00");
        let pod = snap.netns[1].containers[1].pod.as_ref().expect("pod");
        assert_eq!(pod.label(), "default/api", "pod names stay");
    }

    #[test]
    fn arguments_become_stable_numbered_placeholders() {
        let mut r = Redactor::default();
        let mut a = snapshot_of(
            vec![
                sock(
                    "1-1",
                    "0.0.0.0",
                    None,
                    "alice",
                    &["/usr/bin/app", "--token=s3cret", "-v"],
                ),
                sock(
                    "1-2",
                    "0.0.0.0",
                    None,
                    "alice",
                    &["/usr/bin/other", "-v", "--token=s3cret"],
                ),
            ],
            vec![],
        );
        r.redact(&mut a);
        let argv = |s: &Snapshot, i: usize| s.sockets[i].holders[0].cmdline.to_vec();
        assert_eq!(argv(&a, 0), ["/usr/bin/app", "<arg-1>", "<arg-2>"]);
        assert_eq!(argv(&a, 1), ["/usr/bin/other", "<arg-2>", "<arg-1>"]);
        // The next frame of the recording: same texts, same numbers; new ones continue.
        let mut b = snapshot_of(
            vec![sock(
                "1-3",
                "0.0.0.0",
                None,
                "bob",
                &["/usr/bin/app", "serve", "--token=s3cret"],
            )],
            vec![],
        );
        r.redact(&mut b);
        assert_eq!(argv(&b, 0), ["/usr/bin/app", "<arg-3>", "<arg-1>"]);
    }

    #[test]
    fn users_and_hosts_become_placeholders_and_uids_stay() {
        let mut r = Redactor::default();
        let mut s = snapshot_of(
            vec![
                sock("1-1", "0.0.0.0", None, "alice", &["a"]),
                sock("1-2", "0.0.0.0", None, "root", &["b"]),
                sock("1-3", "0.0.0.0", None, "bob", &["c"]),
            ],
            vec![],
        );
        s.sockets[2].holders[0].user = Some("alice".into());
        s.sockets[2].host = Some("db1.example.com".into());
        s.host.hostname = "web1".into();
        let uids: Vec<u32> = s.sockets.iter().map(|s| s.uid).collect();
        r.redact(&mut s);
        let users: Vec<_> = s.sockets.iter().map(|s| s.user.as_deref()).collect();
        assert_eq!(users, [Some("user-1"), Some("root"), Some("user-2")]);
        assert_eq!(s.sockets[2].holders[0].user.as_deref(), Some("user-1"));
        assert_eq!(s.host.hostname, "host-1");
        assert_eq!(s.sockets[2].host.as_deref(), Some("host-2"));
        assert_eq!(s.sockets.iter().map(|s| s.uid).collect::<Vec<_>>(), uids);
        assert_eq!(s.sockets[0].holders[0].uid, 33);
    }

    #[test]
    fn wildcard_loopback_and_multicast_stay() {
        let kept = [
            "0.0.0.0",
            "::",
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:0.0.0.0",
            "224.0.0.251",
            "ff02::fb",
            "255.255.255.255",
        ];
        let mut r = Redactor::default();
        for a in kept {
            assert_eq!(r.addr(ip(a)), ip(a), "{a}");
        }
        assert!(r.v4.is_empty() && r.v6.is_empty());
    }

    #[test]
    fn addresses_map_to_documentation_ranges_of_their_family() {
        let mut r = Redactor::default();
        assert_eq!(r.addr(ip("10.1.2.3")), ip("192.0.2.1"));
        assert_eq!(r.addr(ip("192.168.1.1")), ip("192.0.2.2"));
        assert_eq!(r.addr(ip("10.1.2.3")), ip("192.0.2.1"));
        assert_eq!(r.addr(ip("fe80::1234:56ff:fe78:9abc")), ip("2001:db8::1"));
        assert_eq!(r.addr(ip("2a01:4f8::1")), ip("2001:db8::2"));
        // An IPv4-mapped address is the IPv4 host: it maps with it and keeps its form.
        assert_eq!(r.addr(ip("::ffff:10.1.2.3")), ip("::ffff:192.0.2.1"));
        assert_eq!(r.addr(ip("::ffff:172.16.0.9")), ip("::ffff:192.0.2.3"));
        assert_eq!(r.addr(ip("172.16.0.9")), ip("192.0.2.3"));
        // An address already in a documentation range is redacted like any other, and
        // the mapping stays one-to-one.
        assert_eq!(r.addr(ip("192.0.2.1")), ip("192.0.2.4"));
    }

    #[test]
    fn ipv4_placeholders_run_through_the_ranges_in_order() {
        let cases = [
            (0, "192.0.2.1"),
            (253, "192.0.2.254"),
            (254, "198.51.100.1"),
            (508, "203.0.113.1"),
            (761, "203.0.113.254"),
            (762, "198.18.0.1"),
            (762 + 254 * 256, "198.19.0.1"),
            (762 + 254 * 512 - 1, "198.19.255.254"),
            (762 + 254 * 512, "240.0.0.1"),
            (usize::MAX, "255.255.255.254"),
        ];
        for (n, want) in cases {
            assert_eq!(IpAddr::V4(v4_placeholder(n)), ip(want), "{n}");
        }
        let some: std::collections::HashSet<Ipv4Addr> = (0..200_000).map(v4_placeholder).collect();
        assert_eq!(some.len(), 200_000, "one-to-one");
    }

    #[test]
    fn sockets_and_interfaces_share_the_mapping_and_keep_their_facts() {
        let mut ns = netns(1, Some("n"), None);
        ns.interfaces.push(Interface {
            index: 2,
            name: "eth0".into(),
            up: true,
            loopback: false,
            carrier: true,
            addresses: vec![
                InterfaceAddr {
                    addr: ip("10.0.0.1"),
                    prefix_len: 24,
                    scope: "global".into(),
                    flags: vec![AddrFlag::Permanent],
                },
                InterfaceAddr {
                    addr: ip("fd00::5"),
                    prefix_len: 64,
                    scope: "global".into(),
                    flags: vec![AddrFlag::Tentative],
                },
            ],
        });
        let mut s = sock("1-1", "10.0.0.1", Some("10.0.0.10"), "alice", &["x"]);
        s.scope = Scope::Specific;
        let mut snap = snapshot_of(vec![s.clone()], vec![ns]);
        Redactor::default().redact(&mut snap);
        let addrs = &snap.netns[0].interfaces[0].addresses;
        assert_eq!((addrs[0].addr, addrs[0].prefix_len), (ip("192.0.2.1"), 24));
        assert_eq!(addrs[0].flags, [AddrFlag::Permanent]);
        assert_eq!(
            (addrs[1].addr, addrs[1].prefix_len),
            (ip("2001:db8::1"), 64)
        );
        assert_eq!(addrs[1].flags, [AddrFlag::Tentative]);
        let r = &snap.sockets[0];
        assert_eq!(
            (r.local_addr, r.remote_addr),
            (ip("192.0.2.1"), Some(ip("192.0.2.2")))
        );
        assert_eq!((r.scope, r.address_state), (s.scope, s.address_state));
        assert_eq!((r.device.clone(), r.local_port), (s.device, s.local_port));
    }

    #[test]
    fn free_text_is_replaced_at_token_boundaries_longest_first() {
        let mut s = snapshot_of(
            vec![
                sock(
                    "1-1",
                    "10.0.0.1",
                    None,
                    "al",
                    &["app", "--config=/etc/app.conf", "8080", "-x"],
                ),
                sock("1-2", "10.0.0.10", None, "alice", &["app"]),
                sock("1-3", "2001:db8:5::1", None, "root", &["app"]),
            ],
            vec![],
        );
        s.host.hostname = "web1".into();
        s.findings.push(finding(
            "10.0.0.1:80, 10.0.0.10:80 and [10.0.0.1]; 110.0.0.1 and 10.0.0.100 are not ours",
        ));
        s.warnings
            .push("alice, al and alicea on web1 (web1.example.com, web10)".into());
        s.marks.push(Mark {
            socket: s.sockets[0].id.clone(),
            note: "started with --config=/etc/app.conf on port 8080 -x".into(),
        });
        s.sockets[0].holders_unknown =
            Some("2001:db8:5::1 and [2001:db8:5::1]:53, not 2001:db8:5::1:7, needs root".into());
        Redactor::default().redact(&mut s);
        assert_eq!(
            s.findings[0].summary,
            "192.0.2.1:80, 192.0.2.2:80 and [192.0.2.1]; 110.0.0.1 and 10.0.0.100 are not ours"
        );
        assert_eq!(s.findings[0].explanation, s.findings[0].summary);
        assert_eq!(
            s.warnings[0],
            "user-2, user-1 and alicea on host-1 (host-1.example.com, web10)"
        );
        // Numeric and 2-character arguments stay in free text (ports, flags).
        assert_eq!(s.marks[0].note, "started with <arg-1> on port 8080 -x");
        assert_eq!(
            s.sockets[0].holders_unknown.as_deref(),
            Some("2001:db8::1 and [2001:db8::1]:53, not 2001:db8:5::1:7, needs root")
        );
    }

    #[test]
    fn program_paths_lose_names_but_not_to_arguments() {
        let mut s = snapshot_of(
            vec![
                sock(
                    "1-1",
                    "0.0.0.0",
                    None,
                    "alice",
                    &["/home/alice/bin/app", "bin"],
                ),
                sock("1-2", "0.0.0.0", None, "bob", &["bin", "x"]),
            ],
            vec![],
        );
        Redactor::default().redact(&mut s);
        assert_eq!(
            s.sockets[0].holders[0].cmdline.to_vec(),
            ["/home/user-1/bin/app", "<arg-1>"]
        );
        assert_eq!(s.sockets[1].holders[0].cmdline.to_vec(), ["bin", "<arg-2>"]);
    }

    #[test]
    fn holders_of_one_process_keep_sharing_their_cmdline() {
        let mut a = sock("1-1", "0.0.0.0", None, "alice", &["app", "--x"]);
        let mut b = a.clone();
        b.id = crate::model::SocketId("1-2".into());
        a.holders[0].cmdline = b.holders[0].cmdline.clone();
        let mut s = snapshot_of(vec![a, b], vec![]);
        Redactor::default().redact(&mut s);
        let (x, y) = (&s.sockets[0].holders[0], &s.sockets[1].holders[0]);
        assert!(Arc::ptr_eq(&x.cmdline, &y.cmdline));
        assert_eq!(x.cmdline.to_vec(), ["app", "<arg-1>"]);
    }

    /// Sockets sharing one `holders_unknown` text share its redacted text (50,000 sockets
    /// carry one), and a text with nothing to redact stays the same one.
    #[test]
    fn a_shared_holders_unknown_text_stays_shared() {
        let mut socks: Vec<Socket> = (0..3)
            .map(|i| sock(&format!("1-{i}"), "10.0.0.1", None, "alice", &["app"]))
            .collect();
        let named: Arc<str> = "the fds of alice's other process could not be read".into();
        let plain: Arc<str> = "the fds of 1 process could not be read".into();
        socks[0].holders_unknown = Some(Arc::clone(&named));
        socks[1].holders_unknown = Some(Arc::clone(&named));
        socks[2].holders_unknown = Some(Arc::clone(&plain));
        let mut s = snapshot_of(socks, vec![]);
        Redactor::default().redact(&mut s);
        let texts: Vec<&Arc<str>> = s
            .sockets
            .iter()
            .map(|x| x.holders_unknown.as_ref().expect("kept"))
            .collect();
        assert!(!texts[0].contains("alice"), "{}", texts[0]);
        assert!(Arc::ptr_eq(texts[0], texts[1]));
        assert!(Arc::ptr_eq(texts[2], &plain));
    }

    #[test]
    fn the_demo_snapshot_keeps_nothing_it_should_not() {
        let text = include_str!("../../tests/fixtures/demo-snapshot.json");
        let mut snap: Snapshot = serde_json::from_str(text).expect("fixture");
        let before = snap.clone();
        let mut r = Redactor::default();
        r.redact(&mut snap);
        let out = serde_json::to_string(&snap).expect("json");
        for gone in [
            "192.0.2.80",
            "www-data",
            "nobody",
            "tests/helpers/sockmaker.py",
            "\"vm\"",
        ] {
            assert!(
                !out.contains(gone),
                "{gone} is still in the redacted snapshot"
            );
        }
        assert!(out.contains("/root/.pyenv/versions/3.11.7/bin/python3"));
        // Same shape, same facts.
        assert_eq!(snap.sockets.len(), before.sockets.len());
        for (a, b) in snap.sockets.iter().zip(&before.sockets) {
            assert_eq!(
                (
                    &a.id,
                    a.local_port,
                    a.scope,
                    a.address_state,
                    a.uid,
                    &a.device
                ),
                (
                    &b.id,
                    b.local_port,
                    b.scope,
                    b.address_state,
                    b.uid,
                    &b.device
                )
            );
            assert_eq!(a.local_addr.is_ipv4(), b.local_addr.is_ipv4());
        }
        // A second frame of the same host maps everything the same way.
        let mut again = before.clone();
        r.redact(&mut again);
        assert_eq!(again, snap);
    }
}
