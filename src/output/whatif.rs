//! The what-if verdict in words: every sentence `bindscope can-bind` prints, its JSON carries
//! and the dashboard's what-if panel shows is written here, from the types of
//! `analyze::whatif` (the rule, the sockets, the options involved). Names that come from the
//! system (interfaces, users, processes, errors) go through `text::clean`.

use crate::analyze::overlap::Endpoint;
use crate::analyze::whatif::{
    BindResult, Cause, Explanation, InUse, Lack, NamespaceProblem, Note, Phase, RefusalRule,
    ShareRule, Unknown, V4Accepted, V6Unusable, Verdict,
};
use crate::model::addr::endpoint;
use crate::model::{Family, OptionName, Proto, Socket, SocketId, State};
use crate::text::{clean, count};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::IpAddr;

/// The verdict for people: the result and the call, the explanation, and what is unknown.
pub fn render_text(v: &Verdict) -> String {
    let mut out = String::new();
    let head = match v.result {
        BindResult::Ok => match v.at {
            Phase::Listen => "ok: bind() and listen() would succeed".to_string(),
            _ => "ok: bind() would succeed".to_string(),
        },
        BindResult::Uncertain => {
            let names: Vec<&str> = v.possible.iter().map(|r| r.name()).collect();
            if names.is_empty() {
                "uncertain".to_string()
            } else {
                format!("uncertain: {}", names.join(" or "))
            }
        }
        r => format!("{}: {} would fail", r.name(), v.at.call()),
    };
    let _ = writeln!(out, "{head}");
    let _ = writeln!(out, "  {}", explanation(&v.explanation));
    if !v.blockers.is_empty() {
        let ids: Vec<&str> = v.blockers.iter().map(|b| b.0.as_str()).collect();
        let _ = writeln!(out, "  blocking socket ids: {}", ids.join(", "));
    }
    if !v.uncertain_because.is_empty() {
        let _ = writeln!(out, "  unknown:");
        for b in &v.uncertain_because {
            let _ = writeln!(out, "    - {}", unknown(b));
        }
    }
    for n in &v.notes {
        let _ = writeln!(out, "  note: {}", note(n));
    }
    out
}

/// The verdict as `bindscope can-bind -f json` writes it: the types' names for the result
/// and the call, and the explanation, the unknowns and the notes in words.
#[derive(Debug, Serialize)]
pub struct VerdictJson<'a> {
    pub result: BindResult,
    pub at: Phase,
    pub blockers: &'a [SocketId],
    pub explanation: String,
    pub uncertain_because: Vec<String>,
    pub possible: &'a [BindResult],
    pub notes: Vec<String>,
    /// The sample answered from (`can-bind --from`); absent for a live answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<FromJson>,
}

/// Which sample of which file a `can-bind --from` answer is as of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FromJson {
    pub file: String,
    /// The sample's `taken_at`.
    pub taken_at: String,
    /// Its place in the file, from 1, of `samples`.
    pub sample: usize,
    pub samples: usize,
    /// The moment `--at` asked about (UTC), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asked: Option<String>,
}

impl FromJson {
    /// `as of 2026-12-04 03:12:00.120Z: sample 12 of 40 in 'rec.jsonl'`.
    pub fn line(&self) -> String {
        let place = if self.samples > 1 {
            format!("sample {} of {} in", self.sample, self.samples)
        } else {
            "the snapshot".to_string()
        };
        let asked = self
            .asked
            .as_deref()
            .map(|a| format!(" (asked: {a})"))
            .unwrap_or_default();
        format!(
            "as of {}: {place} '{}'{asked}",
            crate::text::clean(&self.taken_at),
            self.file
        )
    }
}

pub fn json(v: &Verdict) -> VerdictJson<'_> {
    VerdictJson {
        result: v.result,
        at: v.at,
        blockers: &v.blockers,
        explanation: explanation(&v.explanation),
        uncertain_because: v.uncertain_because.iter().map(unknown).collect(),
        possible: &v.possible,
        notes: v.notes.iter().map(note).collect(),
        from: None,
    }
}

// ---------------------------------------------------------------------------------------
// The explanation

/// The rule in plain words, naming the blocking sockets, their users and holders.
pub fn explanation(e: &Explanation) -> String {
    match e {
        Explanation::Decided(c) => cause(c),
        Explanation::CannotJudge(p) => format!("Cannot judge: {}.", namespace(p)),
        Explanation::Undecided(outcomes) => {
            let mut names: Vec<&str> = Vec::new();
            for o in outcomes {
                if !names.contains(&o.result.name()) {
                    names.push(o.result.name());
                }
            }
            let each: Vec<String> = outcomes
                .iter()
                .map(|o| {
                    format!(
                        "{} at {}: {}",
                        o.result.name(),
                        o.at.call(),
                        cause(&o.cause)
                    )
                })
                .collect();
            format!(
                "The snapshot cannot decide between {} (see uncertain_because): {}",
                names.join(" and "),
                each.join(" — or ")
            )
        }
    }
}

fn namespace(p: &NamespaceProblem) -> String {
    match p {
        NamespaceProblem::Missing(netns) => format!("namespace {netns} is not in the snapshot"),
        NamespaceProblem::NotEntered { netns, error } => format!(
            "namespace {netns} was not entered ({}): its sockets and interfaces are unknown",
            clean(error)
        ),
    }
}

/// One rule that decides an outcome.
pub fn cause(c: &Cause) -> String {
    match c {
        Cause::Fits {
            proto,
            port,
            listens,
            new,
        } => {
            let calls = if *listens {
                "bind() and listen() succeed"
            } else {
                "bind() succeeds"
            };
            format!(
                "{calls}: no socket on {} port {port} refuses to share it with {}.",
                proto.name(),
                endpoint_words(new, *port)
            )
        }
        Cause::KernelPicksPort => "The kernel picks a free port.".into(),
        Cause::TransparentNeedsCapability { uid } => format!(
            "IP_TRANSPARENT needs CAP_NET_ADMIN or CAP_NET_RAW and uid {uid} is not root. \
             bindscope does not see capabilities: a process of this uid that has one of \
             them can set it."
        ),
        Cause::NoSuchDevice { device } => format!(
            "SO_BINDTODEVICE '{}': the namespace has no such interface.",
            clean(device)
        ),
        Cause::PrivilegedPort { port, uid, start } => {
            let start = start.map_or_else(|| "unknown".to_string(), |s| s.to_string());
            format!(
                "Port {port} is below net.ipv4.ip_unprivileged_port_start ({start}) and uid {uid} \
                 is not root, so bind() needs CAP_NET_BIND_SERVICE. bindscope does not see \
                 capabilities: a process of this uid that has it (setcap, systemd \
                 AmbientCapabilities=) binds anyway."
            )
        }
        Cause::NotLocalV4 {
            addr,
            as_far_as_shown,
        } => {
            let extra = if *as_far_as_shown {
                " (as far as the snapshot shows)"
            } else {
                ""
            };
            format!(
                "{addr} is not an address of this namespace{extra}, and neither IP_FREEBIND, \
                 IP_TRANSPARENT nor net.ipv4.ip_nonlocal_bind allows a non-local bind \
                 (inet_addr_valid_or_nonlocal)."
            )
        }
        Cause::TcpMulticastV6 { addr } => {
            format!("{addr} is a multicast address: a TCP socket cannot bind it (__inet6_bind).")
        }
        Cause::MappedOnV6only { addr } => format!(
            "{addr} is v4-mapped and the socket is IPV6_V6ONLY: it cannot bind IPv4 (__inet6_bind)."
        ),
        Cause::NoSuchScope { scope } => format!(
            "The scope '%{}' names no interface of this namespace.",
            clean(scope)
        ),
        Cause::LinkLocalNeedsDevice { addr } => format!(
            "{addr} is link-local: binding it needs an interface, given as a scope \
             ([{addr}%eth0]) or with SO_BINDTODEVICE (__inet6_bind)."
        ),
        Cause::V6NotUsable { addr, why } => {
            let why = match why {
                V6Unusable::NotHere => format!("{addr} is not an address of this namespace"),
                V6Unusable::DadFailed { device } => format!(
                    "{addr} on {} failed duplicate address detection (dadfailed)",
                    clean(device)
                ),
                V6Unusable::Tentative { device, carrier } => format!(
                    "{addr} on {} is tentative: duplicate address detection has not finished{}",
                    clean(device),
                    if *carrier {
                        ""
                    } else {
                        " (the link has no carrier)"
                    }
                ),
                V6Unusable::OtherDevice { scope, on, wanted } => format!(
                    "{addr} is a {}-scope address of {}, not of {}",
                    clean(&scope.name()),
                    clean(on),
                    clean(wanted)
                ),
            };
            format!(
                "{why}, and neither IPV6_FREEBIND, IPV6_TRANSPARENT nor net.ipv6.ip_nonlocal_bind \
                 allows binding it (ipv6_chk_addr in __inet6_bind)."
            )
        }
        Cause::InUse(u) => in_use(u),
        Cause::Uncollected { proto: Proto::Tcp } => "A socket the snapshot did not collect (a \
             connection or TIME_WAIT on the port) may hold it."
            .into(),
        Cause::Uncollected { proto: Proto::Udp } => {
            "A connected UDP socket the snapshot did not collect may hold the port.".into()
        }
    }
}

fn in_use(u: &InUse) -> String {
    let n = u.refusals.len();
    let parts: Vec<String> = u
        .refusals
        .iter()
        .map(|r| format!("{} — {}", describe(&r.socket), refusal(&r.rule)))
        .collect();
    let rule = match u.proto {
        Proto::Tcp => {
            "TCP lets a bind overlap another socket only when both set SO_REUSEADDR and the \
             other is not listening, or both set SO_REUSEPORT with the same uid (or the other \
             is in TIME_WAIT) (inet_bind_conflict in net/ipv4/inet_connection_sock.c)."
        }
        Proto::Udp => {
            "UDP lets binds overlap when both set SO_REUSEADDR (any uid), or both set \
             SO_REUSEPORT with the same uid (udp_lib_lport_inuse in net/ipv4/udp.c)."
        }
    };
    let mut text = format!(
        "{} overlaps (address and device) {} that refuse{} to share {} port {}: {}. {rule}",
        capitalized(&endpoint_words(&u.new, u.port)),
        count(n, "socket", "sockets"),
        if n == 1 { "s" } else { "" },
        u.proto.name(),
        u.port,
        parts.join("; ")
    );
    if u.more_unknown > 0 {
        let _ = write!(
            text,
            " ({} more socket(s) may refuse too; their options are unknown.)",
            u.more_unknown
        );
    }
    text
}

/// Why one overlapping socket refuses the new one.
fn refusal(r: &RefusalRule) -> String {
    match r {
        RefusalRule::ReuseaddrNeverSharesWithListener => {
            "both set SO_REUSEADDR, but SO_REUSEADDR never shares with a listening socket".into()
        }
        RefusalRule::ReuseportOtherUid { yours, its } => format!(
            "both set SO_REUSEPORT, but it only shares between sockets of the same uid (yours \
             {yours}, its {its})"
        ),
        RefusalRule::NewSetsNeither => {
            "your socket sets neither SO_REUSEADDR nor SO_REUSEPORT".into()
        }
        RefusalRule::Lacks {
            reuseaddr,
            reuseport,
        } => {
            let lack = |l: &Option<Lack>, name: &str| match l {
                None => None,
                Some(Lack::Unknown) => Some(format!("its {name} is unknown")),
                Some(Lack::NotSet) => Some(format!("it does not set {name}")),
            };
            [
                lack(reuseaddr, "SO_REUSEADDR"),
                lack(reuseport, "SO_REUSEPORT"),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" and ")
        }
        RefusalRule::NoRule => "no sharing rule applies".into(),
    }
}

// ---------------------------------------------------------------------------------------
// Notes and unknowns

/// A caveat that does not change the result.
pub fn note(n: &Note) -> String {
    match n {
        Note::V6onlyIgnoredOnIpv4 => {
            "IPV6_V6ONLY does not apply to an IPv4 socket and was ignored.".into()
        }
        Note::ScopeIgnoredOnIpv4 => {
            "A scope (%name) means nothing for an IPv4 address and was ignored.".into()
        }
        Note::ScopeIgnoredOnMapped => "A scope (%name) is ignored for a v4-mapped address.".into(),
        Note::ScopeIgnoredOnWildcard => {
            "A scope (%name) is ignored for the wildcard address.".into()
        }
        Note::ScopeIgnoredNotLinkLocal { addr } => format!(
            "The scope is ignored: only link-local addresses use sin6_scope_id, and {addr} is not one."
        ),
        Note::RootAssumedPrivileged { port } => format!(
            "Port {port} is privileged; uid 0 is assumed to hold CAP_NET_BIND_SERVICE (a root \
             process that dropped it gets EACCES)."
        ),
        Note::EphemeralPort => {
            "Port 0 asks the kernel for a free ephemeral port; the conflict rules are not checked."
                .into()
        }
        Note::UdpHasNoListen => "UDP has no listen() (EOPNOTSUPP); only bind() was judged.".into(),
        Note::AddressAccepted { addr, kind } => {
            format!("{addr} is accepted as {}.", accepted(kind))
        }
        Note::NonLocalAllowed { addr } => format!(
            "{addr} is not local; IP_FREEBIND, IP_TRANSPARENT or net.ipv4.ip_nonlocal_bind lets it bind."
        ),
        Note::ListenRace { socket } => format!(
            "{} is bound with SO_REUSEADDR but not listening: whichever of you calls listen() \
             first keeps the port, and the other's listen() then fails with EADDRINUSE (inet_csk_listen_start in net/ipv4/inet_connection_sock.c checks the port again).",
            describe(socket)
        ),
        Note::SharesPort(sharers) => {
            let parts: Vec<String> = sharers
                .iter()
                .map(|s| format!("{} ({})", describe(&s.socket), share_rule(s.rule)))
                .collect();
            format!("Shares the port with: {}.", parts.join("; "))
        }
        Note::SharesThroughReuseaddr(sockets) => format!(
            "Shares the port through SO_REUSEADDR with: {}. For unicast the most recently bound \
             or more specific socket receives the datagrams (compute_score and the hash chain's order in udp4_lib_lookup2, net/ipv4/udp.c).",
            described(sockets)
        ),
        Note::JoinsReuseportGroup(sockets) => {
            format!("Joins the SO_REUSEPORT group of: {}.", described(sockets))
        }
    }
}

fn share_rule(r: ShareRule) -> &'static str {
    match r {
        ShareRule::BothReuseaddrNotListening => "both set SO_REUSEADDR and it is not listening",
        ShareRule::BothReuseportTimeWait => {
            "both set SO_REUSEPORT (TIME_WAIT: the uid does not matter)"
        }
        ShareRule::BothReuseportSameUid => "both set SO_REUSEPORT with the same uid",
    }
}

fn accepted(kind: &V4Accepted) -> String {
    match kind {
        V4Accepted::LimitedBroadcast => "the limited broadcast address (RTN_BROADCAST)".into(),
        V4Accepted::Multicast => "a multicast address (RTN_MULTICAST)".into(),
        V4Accepted::NoLocalTable => "any address: the namespace has no IPv4 address, hence no \
             local routing table, and __inet_addr_type() answers RTN_BROADCAST without one \
             (assuming no IPv4 address was ever configured here; lo is down)"
            .into(),
        V4Accepted::SubnetBroadcast {
            addr,
            own,
            prefix_len,
            device,
        } => format!(
            "{addr} is the broadcast address of {own}/{prefix_len} on {} (RTN_BROADCAST)",
            clean(device)
        ),
    }
}

/// An input the snapshot lacks, and what it would decide.
pub fn unknown(u: &Unknown) -> String {
    match u {
        Unknown::Namespace(p) => namespace(p),
        Unknown::UnprivilegedPortStart => {
            "sysctl net.ipv4.ip_unprivileged_port_start is unknown".into()
        }
        Unknown::Ipv4NonlocalBind { addr } => {
            format!("{addr} is not local and sysctl net.ipv4.ip_nonlocal_bind is unknown")
        }
        Unknown::Ipv6NonlocalBind { addr } => {
            format!("{addr} is not usable and sysctl net.ipv6.ip_nonlocal_bind is unknown")
        }
        Unknown::LoopbackPrefixDown {
            addr,
            own,
            prefix_len,
            device,
        } => format!(
            "{addr} is inside {own}/{prefix_len} on {}, which is down: its local prefix route \
             exists only if the device was up since the address was added",
            clean(device)
        ),
        Unknown::MappedV6only => "IPV6_V6ONLY of the new socket: not given and sysctl \
             net.ipv6.bindv6only is unknown"
            .into(),
        Unknown::NewSocketV6only => "IPV6_V6ONLY of the new socket: not given, and sysctl \
             net.ipv6.bindv6only is unknown"
            .into(),
        Unknown::SocketOption { socket, option } => {
            let why = socket
                .options
                .reasons
                .get(option)
                .map(|r| format!(" ({})", clean(r.reason())))
                .unwrap_or_default();
            format!(
                "{} of {} is unknown{why}",
                option_name(*option),
                short(socket)
            )
        }
        Unknown::ListeningView => "the snapshot holds listening sockets only (view \
             'listening'): connections, TIME_WAIT and connected UDP sockets, which hold the port \
             too, were not collected (take it with --all)"
            .into(),
        Unknown::TcpFastPath { uid, covering } => format!(
            "bind order: an earlier SO_REUSEPORT socket of uid {uid} on {} (present or already \
             closed) could have passed the blocking sockets and left the port's SO_REUSEPORT \
             fast path open (sk_reuseport_match in inet_csk_get_port), which lets this bind \
             skip the conflict check",
            shape(covering)
        ),
        Unknown::UdpBindOrder { partners, refusers } => format!(
            "bind order: the kernel (udp_lib_lport_inuse) stops at the most recently bound of \
             the overlapping sockets; the bind succeeds if that is a SO_REUSEPORT partner ({}) \
             and fails if it is {}",
            described(partners),
            refusers.iter().map(short).collect::<Vec<_>>().join(" or ")
        ),
    }
}

/// The option as the kernel's headers name it.
fn option_name(o: OptionName) -> &'static str {
    match o {
        OptionName::Reuseaddr => "SO_REUSEADDR",
        OptionName::Reuseport => "SO_REUSEPORT",
        OptionName::V6only => "IPV6_V6ONLY",
        OptionName::Freebind => "IP_FREEBIND",
        OptionName::Transparent => "IP_TRANSPARENT",
        OptionName::Nonblocking => "O_NONBLOCK",
        OptionName::DeferAccept => "TCP_DEFER_ACCEPT",
        OptionName::Fastopen => "TCP_FASTOPEN",
        OptionName::BindDevice => "SO_BINDTODEVICE",
        OptionName::Other => "an option",
    }
}

/// The address of an earlier socket that could cover the new one on the fast path.
fn shape(e: &Endpoint) -> String {
    match (e.family, e.addr) {
        (Family::Ipv6, IpAddr::V6(a)) if a.is_unspecified() => match e.v6only {
            Some(true) => "[::] with V6ONLY".to_string(),
            _ => "[::]".to_string(),
        },
        (_, IpAddr::V6(a)) => format!("[{a}]"),
        (_, IpAddr::V4(a)) => a.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Sockets

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The new socket in words: address, V6ONLY and options.
fn endpoint_words(e: &Endpoint, port: u16) -> String {
    let mut opts = Vec::new();
    if e.reuseaddr == Some(true) {
        opts.push("SO_REUSEADDR");
    }
    if e.reuseport == Some(true) {
        opts.push("SO_REUSEPORT");
    }
    if e.family == Family::Ipv6 && e.addr.is_unspecified() {
        match e.v6only {
            Some(true) => opts.push("V6ONLY"),
            Some(false) => opts.push("dual-stack"),
            None => {}
        }
    }
    let opts = if opts.is_empty() {
        "no SO_REUSE* options".to_string()
    } else {
        opts.join("+")
    };
    format!(
        "your socket {} ({opts}, uid {})",
        endpoint(e.addr, port, e.device.as_deref()),
        e.uid
    )
}

fn state_words(s: &Socket) -> &'static str {
    match (s.proto, s.state) {
        (Proto::Tcp, State::Listen) => "listening",
        (Proto::Tcp, State::Close | State::BoundInactive) => "bound, not listening",
        (Proto::Tcp, State::TimeWait) => "TIME_WAIT",
        (Proto::Tcp, _) => "a connection",
        (Proto::Udp, State::Established) => "connected",
        (Proto::Udp, _) => "bound",
    }
}

fn opt_word(v: Option<bool>, name: &str) -> Option<String> {
    match v {
        Some(true) => Some(name.to_string()),
        Some(false) => None,
        None => Some(format!("{name} unknown")),
    }
}

/// A short name for a socket: protocol and address.
fn short(s: &Socket) -> String {
    format!(
        "{} {}",
        s.proto.name(),
        endpoint(s.local_addr, s.local_port, s.device.as_deref())
    )
}

fn described(sockets: &[Socket]) -> String {
    sockets.iter().map(describe).collect::<Vec<_>>().join("; ")
}

/// A blocking or sharing socket in words: address, state, options, user and holders.
fn describe(s: &Socket) -> String {
    let mut opts: Vec<String> = [
        opt_word(s.options.reuseaddr, "SO_REUSEADDR"),
        opt_word(s.options.reuseport, "SO_REUSEPORT"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if s.family == Family::Ipv6 && s.local_addr.is_unspecified() {
        match s.options.v6only {
            Some(true) => opts.push("V6ONLY".to_string()),
            Some(false) => opts.push("dual-stack".to_string()),
            None => {}
        }
    }
    let opts = if opts.is_empty() {
        "no SO_REUSE* options".to_string()
    } else {
        opts.join("+")
    };
    let owner = if s.proto == Proto::Tcp && s.state == State::TimeWait {
        "no owner".to_string()
    } else {
        let user = match &s.user {
            Some(u) => format!("uid {} ({})", s.uid, clean(u)),
            None => format!("uid {}", s.uid),
        };
        let mut pids: Vec<String> = Vec::new();
        for h in &s.holders {
            let p = format!("{}[{}]", clean(&h.name), h.pid);
            if !pids.contains(&p) {
                pids.push(p);
            }
        }
        let held = if !pids.is_empty() {
            format!("held by {}", pids.join(", "))
        } else if s.inode == 0 {
            "no process holds it".to_string()
        } else {
            "its holder is not visible".to_string()
        };
        format!("{user}, {held}")
    };
    format!("{} ({}, {opts}, {owner})", short(s), state_words(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::whatif::can_bind;
    use crate::analyze::whatif::fixtures::*;
    use crate::model::NetnsId;
    use std::sync::Arc;

    fn json_text(v: &Verdict) -> String {
        let mut j = Vec::new();
        crate::output::json::to_writer(&mut j, &json(v)).expect("json");
        String::from_utf8(j).expect("utf-8")
    }

    /// A definite EADDRINUSE: the new socket, the blocker with its user and holder, the rule.
    #[test]
    fn words_inuse() {
        let v = verdict(
            &snap(vec![sock(1, "0.0.0.0", 5021, 1001, "listen")]),
            &req("0.0.0.0:5021", 1002, ""),
        );
        assert_eq!(
            render_text(&v),
            r#"EADDRINUSE: bind() would fail
  Your socket 0.0.0.0:5021 (no SO_REUSE* options, uid 1002) overlaps (address and device) 1 socket that refuses to share tcp port 5021: tcp 0.0.0.0:5021 (listening, no SO_REUSE* options, uid 1001 (u1001), held by srv[4001]) — your socket sets neither SO_REUSEADDR nor SO_REUSEPORT. TCP lets a bind overlap another socket only when both set SO_REUSEADDR and the other is not listening, or both set SO_REUSEPORT with the same uid (or the other is in TIME_WAIT) (inet_bind_conflict in net/ipv4/inet_connection_sock.c).
  blocking socket ids: 4026531840-1
"#
        );
        assert_eq!(
            json_text(&v),
            r#"{"result":"EADDRINUSE","at":"bind","blockers":["4026531840-1"],"explanation":"Your socket 0.0.0.0:5021 (no SO_REUSE* options, uid 1002) overlaps (address and device) 1 socket that refuses to share tcp port 5021: tcp 0.0.0.0:5021 (listening, no SO_REUSE* options, uid 1001 (u1001), held by srv[4001]) — your socket sets neither SO_REUSEADDR nor SO_REUSEPORT. TCP lets a bind overlap another socket only when both set SO_REUSEADDR and the other is not listening, or both set SO_REUSEPORT with the same uid (or the other is in TIME_WAIT) (inet_bind_conflict in net/ipv4/inet_connection_sock.c).","uncertain_because":[],"possible":[],"notes":[]}"#
        );
    }

    /// ok through listen().
    #[test]
    fn words_oklisten() {
        let v = verdict(
            &snap(vec![sock(1, "0.0.0.0", 5021, 1001, "listen")]),
            &req("0.0.0.0:5023", 1002, "listen"),
        );
        assert_eq!(
            render_text(&v),
            r#"ok: bind() and listen() would succeed
  bind() and listen() succeed: no socket on tcp port 5023 refuses to share it with your socket 0.0.0.0:5023 (no SO_REUSE* options, uid 1002).
"#
        );
        assert_eq!(
            json_text(&v),
            r#"{"result":"ok","at":"listen","blockers":[],"explanation":"bind() and listen() succeed: no socket on tcp port 5023 refuses to share it with your socket 0.0.0.0:5023 (no SO_REUSE* options, uid 1002).","uncertain_because":[],"possible":[],"notes":[]}"#
        );
    }

    /// Uncertain through an unknown option; a holder name with an escape is cleaned.
    #[test]
    fn words_uncertain() {
        let v = {
            let mut x = sock(1, "0.0.0.0", 5024, 1001, "bound ra?");
            x.holders[0].name = Arc::from("evil\x1b[2J");
            verdict(&snap(vec![x]), &req("0.0.0.0:5024", 1002, "ra"))
        };
        assert_eq!(
            render_text(&v),
            r#"uncertain: EADDRINUSE or ok
  The snapshot cannot decide between EADDRINUSE and ok (see uncertain_because): EADDRINUSE at bind(): Your socket 0.0.0.0:5024 (SO_REUSEADDR, uid 1002) overlaps (address and device) 1 socket that refuses to share tcp port 5024: tcp 0.0.0.0:5024 (bound, not listening, SO_REUSEADDR unknown, uid 1001 (u1001), held by evil\x1b[2J[4001]) — its SO_REUSEADDR is unknown. TCP lets a bind overlap another socket only when both set SO_REUSEADDR and the other is not listening, or both set SO_REUSEPORT with the same uid (or the other is in TIME_WAIT) (inet_bind_conflict in net/ipv4/inet_connection_sock.c). — or ok at bind(): bind() succeeds: no socket on tcp port 5024 refuses to share it with your socket 0.0.0.0:5024 (SO_REUSEADDR, uid 1002).
  blocking socket ids: 4026531840-1
  unknown:
    - SO_REUSEADDR of tcp 0.0.0.0:5024 is unknown (not probed (test))
"#
        );
        assert!(!render_text(&v).contains('\x1b'), "escapes are cleaned");
        assert_eq!(
            json_text(&v),
            r#"{"result":"uncertain","at":"bind","blockers":["4026531840-1"],"explanation":"The snapshot cannot decide between EADDRINUSE and ok (see uncertain_because): EADDRINUSE at bind(): Your socket 0.0.0.0:5024 (SO_REUSEADDR, uid 1002) overlaps (address and device) 1 socket that refuses to share tcp port 5024: tcp 0.0.0.0:5024 (bound, not listening, SO_REUSEADDR unknown, uid 1001 (u1001), held by evil\\x1b[2J[4001]) — its SO_REUSEADDR is unknown. TCP lets a bind overlap another socket only when both set SO_REUSEADDR and the other is not listening, or both set SO_REUSEPORT with the same uid (or the other is in TIME_WAIT) (inet_bind_conflict in net/ipv4/inet_connection_sock.c). — or ok at bind(): bind() succeeds: no socket on tcp port 5024 refuses to share it with your socket 0.0.0.0:5024 (SO_REUSEADDR, uid 1002).","uncertain_because":["SO_REUSEADDR of tcp 0.0.0.0:5024 is unknown (not probed (test))"],"possible":["EADDRINUSE","ok"],"notes":[]}"#
        );
    }

    /// Uncertain through the UDP bind order.
    #[test]
    fn words_udporder() {
        let v = verdict(
            &snap(vec![
                sock(1, "127.0.0.1", 5016, 1001, "udp"),
                sock(2, "127.0.0.2", 5016, 1001, "udp rp"),
            ]),
            &req("0.0.0.0:5016", 1001, "udp rp"),
        );
        assert_eq!(
            render_text(&v),
            r#"uncertain: EADDRINUSE or ok
  The snapshot cannot decide between EADDRINUSE and ok (see uncertain_because): EADDRINUSE at bind(): Your socket 0.0.0.0:5016 (SO_REUSEPORT, uid 1001) overlaps (address and device) 1 socket that refuses to share udp port 5016: udp 127.0.0.1:5016 (bound, no SO_REUSE* options, uid 1001 (u1001), held by srv[4001]) — it does not set SO_REUSEPORT. UDP lets binds overlap when both set SO_REUSEADDR (any uid), or both set SO_REUSEPORT with the same uid (udp_lib_lport_inuse in net/ipv4/udp.c). — or ok at bind(): bind() succeeds: no socket on udp port 5016 refuses to share it with your socket 0.0.0.0:5016 (SO_REUSEPORT, uid 1001).
  blocking socket ids: 4026531840-1
  unknown:
    - bind order: the kernel (udp_lib_lport_inuse) stops at the most recently bound of the overlapping sockets; the bind succeeds if that is a SO_REUSEPORT partner (udp 127.0.0.2:5016 (bound, SO_REUSEPORT, uid 1001 (u1001), held by srv[4002])) and fails if it is udp 127.0.0.1:5016
"#
        );
        assert_eq!(
            json_text(&v),
            r#"{"result":"uncertain","at":"bind","blockers":["4026531840-1"],"explanation":"The snapshot cannot decide between EADDRINUSE and ok (see uncertain_because): EADDRINUSE at bind(): Your socket 0.0.0.0:5016 (SO_REUSEPORT, uid 1001) overlaps (address and device) 1 socket that refuses to share udp port 5016: udp 127.0.0.1:5016 (bound, no SO_REUSE* options, uid 1001 (u1001), held by srv[4001]) — it does not set SO_REUSEPORT. UDP lets binds overlap when both set SO_REUSEADDR (any uid), or both set SO_REUSEPORT with the same uid (udp_lib_lport_inuse in net/ipv4/udp.c). — or ok at bind(): bind() succeeds: no socket on udp port 5016 refuses to share it with your socket 0.0.0.0:5016 (SO_REUSEPORT, uid 1001).","uncertain_because":["bind order: the kernel (udp_lib_lport_inuse) stops at the most recently bound of the overlapping sockets; the bind succeeds if that is a SO_REUSEPORT partner (udp 127.0.0.2:5016 (bound, SO_REUSEPORT, uid 1001 (u1001), held by srv[4002])) and fails if it is udp 127.0.0.1:5016"],"possible":["EADDRINUSE","ok"],"notes":[]}"#
        );
    }

    /// Uncertain through the TCP SO_REUSEPORT fast path.
    #[test]
    fn words_fastpath() {
        let v = verdict(
            &snap(vec![sock(1, "0.0.0.0", 5017, 1001, "listen dev=lo")]),
            &req("0.0.0.0:5017", 1002, "rp dev=lo"),
        );
        assert_eq!(
            render_text(&v),
            r#"uncertain: EADDRINUSE or ok
  The snapshot cannot decide between EADDRINUSE and ok (see uncertain_because): EADDRINUSE at bind(): Your socket 0.0.0.0%lo:5017 (SO_REUSEPORT, uid 1002) overlaps (address and device) 1 socket that refuses to share tcp port 5017: tcp 0.0.0.0%lo:5017 (listening, no SO_REUSE* options, uid 1001 (u1001), held by srv[4001]) — it does not set SO_REUSEPORT. TCP lets a bind overlap another socket only when both set SO_REUSEADDR and the other is not listening, or both set SO_REUSEPORT with the same uid (or the other is in TIME_WAIT) (inet_bind_conflict in net/ipv4/inet_connection_sock.c). — or ok at bind(): bind() succeeds: no socket on tcp port 5017 refuses to share it with your socket 0.0.0.0%lo:5017 (SO_REUSEPORT, uid 1002).
  blocking socket ids: 4026531840-1
  unknown:
    - bind order: an earlier SO_REUSEPORT socket of uid 1002 on 0.0.0.0 (present or already closed) could have passed the blocking sockets and left the port's SO_REUSEPORT fast path open (sk_reuseport_match in inet_csk_get_port), which lets this bind skip the conflict check
"#
        );
        assert_eq!(
            json_text(&v),
            r#"{"result":"uncertain","at":"bind","blockers":["4026531840-1"],"explanation":"The snapshot cannot decide between EADDRINUSE and ok (see uncertain_because): EADDRINUSE at bind(): Your socket 0.0.0.0%lo:5017 (SO_REUSEPORT, uid 1002) overlaps (address and device) 1 socket that refuses to share tcp port 5017: tcp 0.0.0.0%lo:5017 (listening, no SO_REUSE* options, uid 1001 (u1001), held by srv[4001]) — it does not set SO_REUSEPORT. TCP lets a bind overlap another socket only when both set SO_REUSEADDR and the other is not listening, or both set SO_REUSEPORT with the same uid (or the other is in TIME_WAIT) (inet_bind_conflict in net/ipv4/inet_connection_sock.c). — or ok at bind(): bind() succeeds: no socket on tcp port 5017 refuses to share it with your socket 0.0.0.0%lo:5017 (SO_REUSEPORT, uid 1002).","uncertain_because":["bind order: an earlier SO_REUSEPORT socket of uid 1002 on 0.0.0.0 (present or already closed) could have passed the blocking sockets and left the port's SO_REUSEPORT fast path open (sk_reuseport_match in inet_csk_get_port), which lets this bind skip the conflict check"],"possible":["EADDRINUSE","ok"],"notes":[]}"#
        );
    }

    /// An IPv6 address whose duplicate address detection waits for a carrier.
    #[test]
    fn words_tentative() {
        let v = verdict(&snap(vec![]), &req("[fd01::1]:5003", 1001, ""));
        assert_eq!(
            render_text(&v),
            r#"EADDRNOTAVAIL: bind() would fail
  fd01::1 on va is tentative: duplicate address detection has not finished (the link has no carrier), and neither IPV6_FREEBIND, IPV6_TRANSPARENT nor net.ipv6.ip_nonlocal_bind allows binding it (ipv6_chk_addr in __inet6_bind).
"#
        );
        assert_eq!(
            json_text(&v),
            r#"{"result":"EADDRNOTAVAIL","at":"bind","blockers":[],"explanation":"fd01::1 on va is tentative: duplicate address detection has not finished (the link has no carrier), and neither IPV6_FREEBIND, IPV6_TRANSPARENT nor net.ipv6.ip_nonlocal_bind allows binding it (ipv6_chk_addr in __inet6_bind).","uncertain_because":[],"possible":[],"notes":[]}"#
        );
    }

    /// A link-local address without an interface.
    #[test]
    fn words_linklocal() {
        let v = verdict(
            &snap(vec![]),
            &req("[fe80::38c2:d8ff:fe64:d9ae]:5003", 1001, ""),
        );
        assert_eq!(
            render_text(&v),
            r#"EINVAL: bind() would fail
  fe80::38c2:d8ff:fe64:d9ae is link-local: binding it needs an interface, given as a scope ([fe80::38c2:d8ff:fe64:d9ae%eth0]) or with SO_BINDTODEVICE (__inet6_bind).
"#
        );
        assert_eq!(
            json_text(&v),
            r#"{"result":"EINVAL","at":"bind","blockers":[],"explanation":"fe80::38c2:d8ff:fe64:d9ae is link-local: binding it needs an interface, given as a scope ([fe80::38c2:d8ff:fe64:d9ae%eth0]) or with SO_BINDTODEVICE (__inet6_bind).","uncertain_because":[],"possible":[],"notes":[]}"#
        );
    }

    /// A privileged port for an ordinary uid.
    #[test]
    fn words_eacces() {
        let v = verdict(&snap(vec![]), &req("0.0.0.0:80", 1001, ""));
        assert_eq!(
            render_text(&v),
            r#"EACCES: bind() would fail
  Port 80 is below net.ipv4.ip_unprivileged_port_start (1024) and uid 1001 is not root, so bind() needs CAP_NET_BIND_SERVICE. bindscope does not see capabilities: a process of this uid that has it (setcap, systemd AmbientCapabilities=) binds anyway.
"#
        );
        assert_eq!(
            json_text(&v),
            r#"{"result":"EACCES","at":"bind","blockers":[],"explanation":"Port 80 is below net.ipv4.ip_unprivileged_port_start (1024) and uid 1001 is not root, so bind() needs CAP_NET_BIND_SERVICE. bindscope does not see capabilities: a process of this uid that has it (setcap, systemd AmbientCapabilities=) binds anyway.","uncertain_because":[],"possible":[],"notes":[]}"#
        );
    }

    /// A namespace the snapshot does not have.
    #[test]
    fn words_missing() {
        let v = can_bind(&snap(vec![]), NetnsId(1), &req("0.0.0.0:5020", 0, ""));
        assert_eq!(
            render_text(&v),
            r#"uncertain
  Cannot judge: namespace 1 is not in the snapshot.
  unknown:
    - namespace 1 is not in the snapshot
"#
        );
        assert_eq!(
            json_text(&v),
            r#"{"result":"uncertain","at":"bind","blockers":[],"explanation":"Cannot judge: namespace 1 is not in the snapshot.","uncertain_because":["namespace 1 is not in the snapshot"],"possible":[],"notes":[]}"#
        );
    }

    /// ok, with the listen() race as a note.
    #[test]
    fn words_race() {
        let v = verdict(
            &snap(vec![sock(1, "0.0.0.0", 5012, 1001, "bound ra")]),
            &req("127.0.0.1:5012", 1002, "ra listen"),
        );
        assert_eq!(
            render_text(&v),
            r#"ok: bind() and listen() would succeed
  bind() and listen() succeed: no socket on tcp port 5012 refuses to share it with your socket 127.0.0.1:5012 (SO_REUSEADDR, uid 1002).
  note: tcp 0.0.0.0:5012 (bound, not listening, SO_REUSEADDR, uid 1001 (u1001), held by srv[4001]) is bound with SO_REUSEADDR but not listening: whichever of you calls listen() first keeps the port, and the other's listen() then fails with EADDRINUSE (inet_csk_listen_start in net/ipv4/inet_connection_sock.c checks the port again).
"#
        );
        assert_eq!(
            json_text(&v),
            r#"{"result":"ok","at":"listen","blockers":[],"explanation":"bind() and listen() succeed: no socket on tcp port 5012 refuses to share it with your socket 127.0.0.1:5012 (SO_REUSEADDR, uid 1002).","uncertain_because":[],"possible":[],"notes":["tcp 0.0.0.0:5012 (bound, not listening, SO_REUSEADDR, uid 1001 (u1001), held by srv[4001]) is bound with SO_REUSEADDR but not listening: whichever of you calls listen() first keeps the port, and the other's listen() then fails with EADDRINUSE (inet_csk_listen_start in net/ipv4/inet_connection_sock.c checks the port again)."]}"#
        );
    }

    /// ok, sharing with a TIME_WAIT socket, and an option that does not apply.
    #[test]
    fn words_shares() {
        let v = verdict(
            &snap(vec![
                sock(1, "127.0.0.1", 5009, 0, "tw rp"),
                sock(2, "127.0.0.1", 5009, 1001, "udp ra"),
            ]),
            &req("0.0.0.0:5009", 1002, "rp v6only"),
        );
        assert_eq!(
            render_text(&v),
            r#"ok: bind() would succeed
  bind() succeeds: no socket on tcp port 5009 refuses to share it with your socket 0.0.0.0:5009 (SO_REUSEPORT, uid 1002).
  note: IPV6_V6ONLY does not apply to an IPv4 socket and was ignored.
  note: Shares the port with: tcp 127.0.0.1:5009 (TIME_WAIT, SO_REUSEPORT, no owner) (both set SO_REUSEPORT (TIME_WAIT: the uid does not matter)).
"#
        );
        assert_eq!(
            json_text(&v),
            r#"{"result":"ok","at":"bind","blockers":[],"explanation":"bind() succeeds: no socket on tcp port 5009 refuses to share it with your socket 0.0.0.0:5009 (SO_REUSEPORT, uid 1002).","uncertain_because":[],"possible":[],"notes":["IPV6_V6ONLY does not apply to an IPv4 socket and was ignored.","Shares the port with: tcp 127.0.0.1:5009 (TIME_WAIT, SO_REUSEPORT, no owner) (both set SO_REUSEPORT (TIME_WAIT: the uid does not matter))."]}"#
        );
    }
}
