//! The filter language of the `/` prompt.
//!
//! A filter is terms separated by spaces, all of which must match (AND). `!term` or `-term`
//! negates a term. A term is `key:value` or free text:
//!
//! | key       | value                                   | matches                                   |
//! |-----------|-----------------------------------------|-------------------------------------------|
//! | `port`    | `N` or `N-M`                            | the local port                            |
//! | `user`    | name or uid                             | the socket's user or uid, or any holder's |
//! | `proto`   | `tcp`, `udp`                            |                                           |
//! | `scope`   | `wildcard`, `dual`, `loopback`, `link_local`, `specific` | `wildcard` includes `dual` (`[::]` without V6ONLY covers IPv4 too) |
//! | `state`   | `listen`, `bound`, `close`, `established`, `time_wait`, `syn_recv`, ... | `bound`: a bound-only TCP socket |
//! | `finding` | part of a finding kind, or `any`        | sockets named by such a finding           |
//! | `pid`     | N                                       | any holder's pid                          |
//! | `netns`   | name or inode                           | the socket's network namespace            |
//! | `family`  | `4`, `6`, `ipv4`, `ipv6`                |                                           |
//! | `addr`    | text                                    | the start of the local address (`addr:10.` `addr:fe80`) |
//! | `unit`    | text                                    | part of a holder's systemd unit or container |
//! | `host`    | name                                    | the host (files of several hosts: `bindscope open`) |
//! | `mark`    | `any`, or text                          | marked sockets; with text, those whose note has it |
//!
//! A value may list alternatives, any of which may match: `port:80,443`. Free text matches,
//! ignoring case, part of the endpoint (`tcp 0.0.0.0:8080`, the remote end), the process
//! names, command lines, user names, units and the namespace name. Quote text with spaces
//! or a leading `-`/`!`: `"nginx -g"`, `user:"odd name"`; inside quotes `\"` and `\\`.
//! A word of letters followed by `:` is always a key, so text like `http:` must be quoted.
//!
//! Matching runs per keystroke over every socket (50,000 on a busy host), so the parsed
//! filter holds lowercase needles and matching does not allocate for ASCII needles.

use crate::model::{Family, FindingKind, NetnsId, Proto, Scope, Snapshot, Socket, SocketId, State};
use crate::text::clean;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::net::IpAddr;

/// What a filter needs besides the socket: names and findings live elsewhere in the
/// snapshot. Build once per snapshot, not per keystroke.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterContext {
    pub netns_names: HashMap<NetnsId, String>,
    /// The kinds of the findings that name each socket.
    pub findings_by_socket: HashMap<SocketId, Vec<FindingKind>>,
    /// The snapshot's host, for sockets that do not carry their own (one host).
    pub hostname: String,
    /// Marked sockets and their notes (kept up to date by the app as marks change).
    pub marks: HashMap<SocketId, String>,
}

impl FilterContext {
    pub fn new(snap: &Snapshot) -> Self {
        let netns_names = snap
            .netns
            .iter()
            .filter_map(|n| n.name.as_ref().map(|name| (n.id, name.clone())))
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
            netns_names,
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

/// A parsed filter; the empty filter matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    negated: bool,
    /// Alternatives: the term holds when any matches.
    alts: Vec<Pred>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pred {
    Port(u16, u16),
    User { name: Needle, uid: Option<u32> },
    Proto(Proto),
    Scope(ScopeSel),
    State(StateSel),
    Finding(Needle),
    AnyFinding,
    Pid(u32),
    Netns { name: Needle, id: Option<u64> },
    Family(Family),
    Addr(Needle),
    Unit(Needle),
    Host(Needle),
    AnyMark,
    Mark(Needle),
    Text(Needle),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScopeSel {
    /// Either wildcard: a user asking for wildcard binds wants `[::]` dual-stack too.
    AnyWildcard,
    Is(Scope),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StateSel {
    /// A TCP socket that is bound and neither listening nor connected: CLOSE in a dump, or
    /// the kernel's TCP_BOUND_INACTIVE pseudo-state (model::State docs).
    Bound,
    Is(State),
}

/// A lowercase needle, and whether it is ASCII (then matching never allocates).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Needle {
    lower: String,
    ascii: bool,
    /// Every character can occur in an endpoint's text without a device name (`tcp`,
    /// `udp`, digits, hex, `.:[]% `). Formatting addresses is most of the cost of free text
    /// over 50,000 sockets, and most words (`nginx`) can only match a device name there.
    endpoint_chars: bool,
}

impl Needle {
    fn new(text: &str) -> Needle {
        let lower = text.to_lowercase();
        let endpoint_chars = lower
            .chars()
            .all(|c| c.is_ascii_hexdigit() || "tcpud.:[]% ".contains(c));
        Needle {
            // Of the lowercase text, not of what was typed: the Kelvin sign `K` lowercases
            // to an ASCII `k`, and the needle must be the same as the one `describe()`'s
            // `k` parses to.
            ascii: lower.is_ascii(),
            lower,
            endpoint_chars,
        }
    }

    /// Case-insensitive substring.
    fn in_text(&self, hay: &str) -> bool {
        if self.ascii {
            // ASCII bytes never occur inside a multi-byte UTF-8 sequence, so a byte search
            // is exact on any UTF-8 haystack.
            contains_ascii_ci(hay.as_bytes(), self.lower.as_bytes())
        } else {
            hay.to_lowercase().contains(&self.lower)
        }
    }

    /// Case-insensitive equality.
    fn equals(&self, hay: &str) -> bool {
        if self.ascii {
            hay.eq_ignore_ascii_case(&self.lower)
        } else {
            hay.to_lowercase() == self.lower
        }
    }

    /// Case-insensitive prefix.
    fn starts(&self, hay: &str) -> bool {
        if self.ascii {
            hay.as_bytes()
                .get(..self.lower.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(self.lower.as_bytes()))
        } else {
            hay.to_lowercase().starts_with(&self.lower)
        }
    }
}

/// `needle` is lowercase ASCII.
fn contains_ascii_ci(hay: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    if needle.len() > hay.len() {
        return false;
    }
    // Windows of a non-empty needle are non-empty: `w[0]` exists.
    hay.windows(needle.len())
        .any(|w| w[0].to_ascii_lowercase() == first && w.eq_ignore_ascii_case(needle))
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
            Pred::Netns { name, id } => {
                id.is_some_and(|i| i == s.netns.0)
                    || cx.netns_names.get(&s.netns).is_some_and(|n| name.equals(n))
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
        .netns_names
        .get(&s.netns)
        .is_some_and(|n| needle.in_text(n))
    {
        return true;
    }
    s.holders.iter().any(|h| {
        needle.in_text(&h.name)
            || h.user.as_deref().is_some_and(|u| needle.in_text(u))
            || h.unit.as_deref().is_some_and(|u| needle.in_text(u))
            || h.cmdline.iter().any(|a| needle.in_text(a))
            // Text with a space may span arguments (`nginx -g`): only then join them.
            || (needle.lower.contains(' ')
                && h.cmdline.len() > 1
                && needle.in_text(&h.cmdline.join(" ")))
    })
}

impl Filter {
    /// Whether the socket passes every term.
    pub fn matches(&self, s: &Socket, cx: &FilterContext) -> bool {
        self.terms
            .iter()
            .all(|t| t.alts.iter().any(|p| p.matches(s, cx)) != t.negated)
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The canonical text of the filter, for the status line: keys and values lowercase,
    /// `!` for negation, aliases resolved (`family:4` → `family:ipv4`). Parses back to the
    /// same filter; empty for the empty filter.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            if term.negated {
                out.push('!');
            }
            match term.alts.first() {
                Some(Pred::Text(n)) => {
                    push_text(&mut out, &n.lower);
                    continue;
                }
                Some(first) => {
                    if let Some(key) = pred_key(first) {
                        out.push_str(key.name());
                        out.push(':');
                    }
                }
                None => {}
            }
            for (j, p) in term.alts.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                push_value(&mut out, p);
            }
        }
        out
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

fn push_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

fn push_text(out: &mut String, text: &str) {
    let needs_quotes = text.is_empty()
        || text.starts_with(['!', '-'])
        || text.chars().any(|c| c.is_whitespace() || c == '"')
        || key_prefix_len(&text.chars().collect::<Vec<_>>(), 0).is_some();
    if needs_quotes {
        push_quoted(out, text);
    } else {
        out.push_str(text);
    }
}

fn push_value(out: &mut String, p: &Pred) {
    let text = |out: &mut String, t: &str| {
        if t.is_empty() || t.chars().any(|c| c.is_whitespace() || c == '"' || c == ',') {
            push_quoted(out, t);
        } else {
            out.push_str(t);
        }
    };
    match p {
        Pred::Port(lo, hi) if lo == hi => {
            let _ = write!(out, "{lo}");
        }
        Pred::Port(lo, hi) => {
            let _ = write!(out, "{lo}-{hi}");
        }
        Pred::User { name, .. }
        | Pred::Netns { name, .. }
        | Pred::Finding(name)
        | Pred::Addr(name)
        | Pred::Unit(name)
        | Pred::Host(name)
        | Pred::Mark(name)
        | Pred::Text(name) => text(out, &name.lower),
        Pred::AnyFinding | Pred::AnyMark => out.push_str("any"),
        Pred::Proto(p) => out.push_str(p.name()),
        Pred::Scope(ScopeSel::AnyWildcard) => out.push_str("wildcard"),
        Pred::Scope(ScopeSel::Is(s)) => out.push_str(scope_name(*s)),
        Pred::State(StateSel::Bound) => out.push_str("bound"),
        Pred::State(StateSel::Is(s)) => out.push_str(s.name()),
        Pred::Pid(n) => {
            let _ = write!(out, "{n}");
        }
        Pred::Family(Family::Ipv4) => out.push_str("ipv4"),
        Pred::Family(Family::Ipv6) => out.push_str("ipv6"),
    }
}

fn scope_name(s: Scope) -> &'static str {
    match s {
        // Not reached through ScopeSel::Is (wildcard parses to AnyWildcard); kept total.
        Scope::Wildcard => "wildcard",
        Scope::DualStackWildcard => "dual",
        Scope::Loopback => "loopback",
        Scope::LinkLocal => "link_local",
        Scope::Specific => "specific",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Port,
    User,
    Proto,
    Scope,
    State,
    Finding,
    Pid,
    Netns,
    Family,
    Addr,
    Unit,
    Host,
    Mark,
}

const KEYS: [Key; 13] = [
    Key::Port,
    Key::User,
    Key::Proto,
    Key::Scope,
    Key::State,
    Key::Finding,
    Key::Pid,
    Key::Netns,
    Key::Family,
    Key::Addr,
    Key::Unit,
    Key::Host,
    Key::Mark,
];

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::Port => "port",
            Key::User => "user",
            Key::Proto => "proto",
            Key::Scope => "scope",
            Key::State => "state",
            Key::Finding => "finding",
            Key::Pid => "pid",
            Key::Netns => "netns",
            Key::Family => "family",
            Key::Addr => "addr",
            Key::Unit => "unit",
            Key::Host => "host",
            Key::Mark => "mark",
        }
    }
}

/// The valid keys, for error messages.
pub fn valid_keys() -> String {
    KEYS.map(Key::name).join(", ")
}

/// The key a predicate is written with; `None` for free text.
fn pred_key(p: &Pred) -> Option<Key> {
    Some(match p {
        Pred::Port(..) => Key::Port,
        Pred::User { .. } => Key::User,
        Pred::Proto(_) => Key::Proto,
        Pred::Scope(_) => Key::Scope,
        Pred::State(_) => Key::State,
        Pred::Finding(_) | Pred::AnyFinding => Key::Finding,
        Pred::Pid(_) => Key::Pid,
        Pred::Netns { .. } => Key::Netns,
        Pred::Family(_) => Key::Family,
        Pred::Addr(_) => Key::Addr,
        Pred::Unit(_) => Key::Unit,
        Pred::Host(_) => Key::Host,
        Pred::AnyMark | Pred::Mark(_) => Key::Mark,
        Pred::Text(_) => return None,
    })
}

/// A parse error, at a 1-based character column of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {kind}")]
pub struct FilterError {
    pub column: usize,
    pub kind: FilterErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterErrorKind {
    #[error("unknown filter key '{key}': valid keys are {valid} (quote text that contains ':')")]
    UnknownKey { key: String, valid: String },
    #[error("'{}' is not a {what} for '{key}'", clean(text))]
    BadNumber {
        key: &'static str,
        text: String,
        what: &'static str,
    },
    #[error("'{}' is not valid for '{key}': expected {expected}", clean(value))]
    BadValue {
        key: &'static str,
        value: String,
        expected: String,
    },
    #[error("'{key}' needs a value")]
    EmptyValue { key: &'static str },
    #[error("quote is not closed")]
    UnclosedQuote,
    /// Only `!` or `-`, never user text.
    #[error("'{0}' needs a term after it")]
    DanglingNegation(char),
}

fn err(column: usize, kind: FilterErrorKind) -> FilterError {
    FilterError { column, kind }
}

/// If a key (`[A-Za-z_]+:`) starts at `i`, its length (without the colon).
fn key_prefix_len(chars: &[char], i: usize) -> Option<usize> {
    let rest = chars.get(i..)?;
    let n = rest
        .iter()
        .take_while(|c| c.is_ascii_alphabetic() || **c == '_')
        .count();
    (n > 0 && rest.get(n) == Some(&':')).then_some(n)
}

/// Read a word from `*i`: bare characters and quoted parts, up to unquoted whitespace (or
/// an unquoted comma when `commas`). With it, where each of its characters is in `chars`:
/// quotes and escapes make the word shorter than its source, and an error inside it must
/// point at the source.
fn read_word(
    chars: &[char],
    i: &mut usize,
    commas: bool,
) -> Result<(String, Vec<usize>), FilterError> {
    let mut out = String::new();
    let mut at = Vec::new();
    while let Some(&c) = chars.get(*i) {
        if c.is_whitespace() || (commas && c == ',') {
            break;
        }
        if c != '"' {
            out.push(c);
            at.push(*i);
            *i += 1;
            continue;
        }
        let open = *i;
        *i += 1;
        loop {
            match chars.get(*i) {
                None => return Err(err(open + 1, FilterErrorKind::UnclosedQuote)),
                Some('"') => {
                    *i += 1;
                    break;
                }
                Some('\\') if matches!(chars.get(*i + 1), Some('"' | '\\')) => {
                    if let Some(&e) = chars.get(*i + 1) {
                        out.push(e);
                        at.push(*i + 1);
                    }
                    *i += 2;
                }
                Some(&c) => {
                    out.push(c);
                    at.push(*i);
                    *i += 1;
                }
            }
        }
    }
    Ok((out, at))
}

/// Parse the filter language (module docs). The empty string is the empty filter.
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    let mut terms = Vec::new();
    loop {
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        let Some(&c) = chars.get(i) else {
            break;
        };
        let negated = c == '!' || c == '-';
        if negated {
            i += 1;
            if chars.get(i).is_none_or(|c| c.is_whitespace()) {
                return Err(err(i, FilterErrorKind::DanglingNegation(c)));
            }
        }
        if let Some(n) = key_prefix_len(&chars, i) {
            let name: String = chars[i..i + n]
                .iter()
                .collect::<String>()
                .to_ascii_lowercase();
            let key = KEYS.into_iter().find(|k| k.name() == name).ok_or_else(|| {
                err(
                    i + 1,
                    FilterErrorKind::UnknownKey {
                        key: name.clone(),
                        valid: valid_keys(),
                    },
                )
            })?;
            i += n + 1;
            let mut alts = Vec::new();
            loop {
                let column = i + 1;
                let (value, at) = read_word(&chars, &mut i, true)?;
                alts.push(parse_value(key, &value, column, &at)?);
                if chars.get(i) == Some(&',') {
                    i += 1;
                } else {
                    break;
                }
            }
            terms.push(Term { negated, alts });
        } else {
            let (text, _) = read_word(&chars, &mut i, false)?;
            // `""` (a prompt mid-edit) says nothing; dropping it keeps the filter usable.
            if !text.is_empty() {
                terms.push(Term {
                    negated,
                    alts: vec![Pred::Text(Needle::new(&text))],
                });
            }
        }
    }
    Ok(Filter { terms })
}

fn parse_num<T: std::str::FromStr>(
    key: Key,
    text: &str,
    column: usize,
    what: &'static str,
) -> Result<T, FilterError> {
    // `FromStr` for integers accepts a leading `+`; a filter value should be digits only.
    if !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = text.parse()
    {
        return Ok(n);
    }
    Err(err(
        column,
        FilterErrorKind::BadNumber {
            key: key.name(),
            text: text.to_string(),
            what,
        },
    ))
}

/// `column`: where the value's word starts; `at`: where each character of `value` is in the
/// input (0-based, as [`read_word`] gives them).
fn parse_value(key: Key, value: &str, column: usize, at: &[usize]) -> Result<Pred, FilterError> {
    if value.is_empty() {
        return Err(err(column, FilterErrorKind::EmptyValue { key: key.name() }));
    }
    let bad = |expected: String| {
        err(
            column,
            FilterErrorKind::BadValue {
                key: key.name(),
                value: value.to_string(),
                expected,
            },
        )
    };
    let lower = value.to_lowercase().replace('-', "_");
    Ok(match key {
        Key::Port => {
            const WHAT: &str = "port number (0-65535)";
            match value.split_once('-') {
                Some((a, b)) => {
                    let lo: u16 = parse_num(key, a, column, WHAT)?;
                    let b_column = at.get(a.chars().count() + 1).map_or(column, |&i| i + 1);
                    let hi: u16 = parse_num(key, b, b_column, WHAT)?;
                    if hi < lo {
                        return Err(bad(format!("a range from low to high, as in {hi}-{lo}")));
                    }
                    Pred::Port(lo, hi)
                }
                None => {
                    let p = parse_num(key, value, column, WHAT)?;
                    Pred::Port(p, p)
                }
            }
        }
        Key::Pid => Pred::Pid(parse_num(key, value, column, "process id")?),
        Key::User => Pred::User {
            name: Needle::new(value),
            uid: value
                .parse()
                .ok()
                .filter(|_| value.bytes().all(|b| b.is_ascii_digit())),
        },
        Key::Netns => Pred::Netns {
            name: Needle::new(value),
            id: value
                .parse()
                .ok()
                .filter(|_| value.bytes().all(|b| b.is_ascii_digit())),
        },
        Key::Proto => match lower.as_str() {
            "tcp" => Pred::Proto(Proto::Tcp),
            "udp" => Pred::Proto(Proto::Udp),
            _ => return Err(bad("tcp or udp".into())),
        },
        Key::Family => match lower.as_str() {
            "4" | "ipv4" | "v4" | "inet" => Pred::Family(Family::Ipv4),
            "6" | "ipv6" | "v6" | "inet6" => Pred::Family(Family::Ipv6),
            _ => return Err(bad("4, 6, ipv4 or ipv6".into())),
        },
        Key::Scope => Pred::Scope(match lower.as_str() {
            "wildcard" | "any" => ScopeSel::AnyWildcard,
            "dual" | "dual_stack" | "dual_stack_wildcard" => ScopeSel::Is(Scope::DualStackWildcard),
            "loopback" | "lo" => ScopeSel::Is(Scope::Loopback),
            "link_local" | "linklocal" => ScopeSel::Is(Scope::LinkLocal),
            "specific" => ScopeSel::Is(Scope::Specific),
            _ => {
                return Err(bad(
                    "wildcard, dual, dual_stack_wildcard, loopback, link_local or specific".into(),
                ));
            }
        }),
        Key::State => {
            if lower == "bound" {
                Pred::State(StateSel::Bound)
            } else {
                match STATES.iter().find(|s| s.name() == lower) {
                    Some(&s) => Pred::State(StateSel::Is(s)),
                    None => {
                        let names: Vec<&str> = STATES.iter().map(|s| s.name()).collect();
                        return Err(bad(format!("bound, {}", names.join(", "))));
                    }
                }
            }
        }
        Key::Finding => {
            let needle = value.to_lowercase();
            if needle == "any" {
                Pred::AnyFinding
            } else if FindingKind::ALL.iter().any(|k| k.name().contains(&needle)) {
                Pred::Finding(Needle::new(&needle))
            } else {
                let names: Vec<&str> = FindingKind::ALL.iter().map(FindingKind::name).collect();
                return Err(bad(format!("any, or part of one of {}", names.join(", "))));
            }
        }
        Key::Addr => {
            // `[::1]` as people write IPv6 with a port; the address text has no brackets.
            let text = value.trim_start_matches('[').trim_end_matches(']');
            if text.is_empty() {
                return Err(err(column, FilterErrorKind::EmptyValue { key: key.name() }));
            }
            Pred::Addr(Needle::new(text))
        }
        Key::Unit => Pred::Unit(Needle::new(value)),
        Key::Host => Pred::Host(Needle::new(value)),
        Key::Mark if lower == "any" => Pred::AnyMark,
        Key::Mark => Pred::Mark(Needle::new(value)),
    })
}

/// The states `state:` accepts by name, in kernel order.
const STATES: [State; 14] = [
    State::Established,
    State::SynSent,
    State::SynRecv,
    State::FinWait1,
    State::FinWait2,
    State::TimeWait,
    State::Close,
    State::CloseWait,
    State::LastAck,
    State::Listen,
    State::Closing,
    State::NewSynRecv,
    State::BoundInactive,
    State::Unknown,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Finding, Holder, Severity};
    use crate::testing;
    use proptest::prelude::*;
    use std::sync::Arc;

    fn p(input: &str) -> Filter {
        parse(input).unwrap_or_else(|e| panic!("{input}: {e}"))
    }

    fn perr(input: &str) -> FilterError {
        match parse(input) {
            Ok(f) => panic!("{input} parsed as {f:?}"),
            Err(e) => e,
        }
    }

    /// testing::socket() is tcp [::]%lo:8080 listen, uid 1001 alice, netns 1, held by
    /// pid 42 `web\x1b[31m` as uid 33 www-data. Here: a second, udp 127.0.0.1:53 socket
    /// held by systemd-resolved, a named netns and a finding.
    fn fixture() -> (Vec<Socket>, FilterContext) {
        let web = testing::socket();
        let mut dns = testing::socket();
        dns.id = SocketId("2-1".into());
        dns.netns = NetnsId(2);
        dns.proto = Proto::Udp;
        dns.family = Family::Ipv4;
        dns.local_addr = "127.0.0.53".parse().expect("addr");
        dns.local_port = 53;
        dns.state = State::Close;
        dns.scope = Scope::Loopback;
        dns.uid = 991;
        dns.user = Some("systemd-resolve".into());
        dns.device = None;
        dns.holders = vec![Holder {
            pid: 700,
            fd: 12,
            name: "systemd-resolve".into(),
            uid: 991,
            ruid: 991,
            user: Some(Arc::from("systemd-resolve")),
            cmdline: vec![
                "/usr/lib/systemd/systemd-resolved".into(),
                "--Verbose".into(),
            ]
            .into(),
            unit: Some("systemd-resolved.service".into()),
            netns: Some(NetnsId(2)),
        }];
        let mut bound = testing::socket();
        bound.id = SocketId("1-3".into());
        bound.state = State::Close;
        bound.scope = Scope::DualStackWildcard;
        bound.local_port = 9000;
        bound.holders = vec![];
        bound.remote_addr = None;
        let mut conn = testing::socket();
        conn.id = SocketId("1-4".into());
        conn.state = State::Established;
        conn.scope = Scope::Specific;
        conn.local_addr = "2001:db8::1".parse().expect("addr");
        conn.remote_addr = Some("2001:db8::99".parse().expect("addr"));
        conn.remote_port = Some(51000);
        conn.device = None;
        let mut snap = testing::snapshot_of(
            vec![web, dns, bound, conn],
            vec![
                testing::netns(1, Some("host"), None),
                testing::netns(2, Some("Resolver NS"), None),
            ],
        );
        snap.findings.push(Finding {
            kind: FindingKind::WildcardOverlap,
            severity: Severity::Warning,
            sockets: vec![SocketId("1-2a".into()), SocketId("1-3".into())],
            summary: String::new(),
            explanation: String::new(),
        });
        snap.findings.push(Finding {
            kind: "cross_user_socket".into(),
            severity: Severity::Notice,
            sockets: vec![SocketId("1-2a".into())],
            summary: String::new(),
            explanation: String::new(),
        });
        let cx = FilterContext::new(&snap);
        (snap.sockets, cx)
    }

    /// The ids of the matching sockets, for readable asserts.
    fn hits(input: &str) -> Vec<String> {
        let (sockets, cx) = fixture();
        let f = p(input);
        sockets
            .iter()
            .filter(|s| f.matches(s, &cx))
            .map(|s| s.id.0.clone())
            .collect()
    }

    #[test]
    fn context_indexes_names_and_findings() {
        let (_, cx) = fixture();
        assert_eq!(
            cx.netns_names.get(&NetnsId(2)).map(String::as_str),
            Some("Resolver NS")
        );
        assert_eq!(
            cx.findings_by_socket.get(&SocketId("1-2a".into())),
            Some(&vec![
                FindingKind::WildcardOverlap,
                FindingKind::CrossUserSocket
            ])
        );
    }

    #[test]
    fn matching() {
        let all = ["1-2a", "2-1", "1-3", "1-4"];
        let cases: &[(&str, &[&str])] = &[
            ("", &all),
            ("port:53", &["2-1"]),
            ("port:8000-9000", &["1-2a", "1-3", "1-4"]),
            ("port:53,9000", &["2-1", "1-3"]),
            ("!port:8080", &["2-1", "1-3"]),
            ("-port:8080", &["2-1", "1-3"]),
            ("proto:udp", &["2-1"]),
            ("proto:TCP port:8080", &["1-2a", "1-4"]),
            // The socket's user, or any holder's user or uid.
            ("user:alice", &["1-2a", "1-3", "1-4"]),
            ("user:www-data", &["1-2a", "1-4"]),
            ("user:33", &["1-2a", "1-4"]),
            ("user:991", &["2-1"]),
            ("user:Systemd-Resolve", &["2-1"]),
            ("user:www", &[]),
            ("scope:wildcard", &["1-2a", "1-3"]),
            ("scope:dual", &["1-3"]),
            ("scope:dual_stack_wildcard", &["1-3"]),
            ("scope:loopback", &["2-1"]),
            ("scope:specific", &["1-4"]),
            ("state:listen", &["1-2a"]),
            ("state:bound", &["1-3"]),
            ("state:close", &["2-1", "1-3"]),
            ("state:established", &["1-4"]),
            ("state:time-wait", &[]),
            ("finding:overlap", &["1-2a", "1-3"]),
            ("finding:cross_user", &["1-2a"]),
            ("finding:any", &["1-2a", "1-3"]),
            ("!finding:any", &["2-1", "1-4"]),
            ("pid:42", &["1-2a", "1-4"]),
            ("pid:700", &["2-1"]),
            ("netns:host", &["1-2a", "1-3", "1-4"]),
            ("netns:\"resolver ns\"", &["2-1"]),
            ("netns:2", &["2-1"]),
            ("family:4", &["2-1"]),
            ("family:ipv6", &["1-2a", "1-3", "1-4"]),
            ("addr:127.", &["2-1"]),
            ("addr:[2001:DB8", &["1-4"]),
            ("addr:::", &["1-2a", "1-3"]),
            ("unit:resolved", &["2-1"]),
            // Free text: endpoint, remote end, names, cmdline, users, unit, netns name.
            ("8080", &["1-2a", "1-4"]),
            ("udp", &["2-1"]),
            ("%lo", &["1-2a", "1-3"]),
            ("[2001:db8::99]:51000", &["1-4"]),
            ("WEB", &["1-2a", "1-4"]),
            // Unquoted, a leading `-` negates: not `-verbose`.
            ("--verbose", &["1-2a", "1-3", "1-4"]),
            ("\"--verbose\"", &["2-1"]),
            ("\"resolved --verbose\"", &["2-1"]),
            ("resolver", &["2-1"]),
            ("alice", &["1-2a", "1-3", "1-4"]),
            ("resolved.service", &["2-1"]),
            ("tcp alice !state:listen", &["1-3", "1-4"]),
            ("nothing-like-this", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(hits(input), want.to_vec(), "{input}");
        }
    }

    #[test]
    fn non_ascii_text() {
        let (mut sockets, cx) = fixture();
        sockets[0].holders[0].cmdline = vec!["/srv/ÜBER/app".to_string()].into();
        let f = p("über");
        assert!(f.matches(&sockets[0], &cx));
        assert!(!f.matches(&sockets[1], &cx));
        assert!(p("ber/app").matches(&sockets[0], &cx));
    }

    #[test]
    fn describe_is_canonical_and_round_trips() {
        let cases = [
            ("", ""),
            ("  port:80   ", "port:80"),
            ("Port:80-90 -proto:UDP", "port:80-90 !proto:udp"),
            ("family:4 family:6", "family:ipv4 family:ipv6"),
            (
                "scope:dual_stack_wildcard scope:link-local",
                "scope:dual scope:link_local",
            ),
            ("state:time-wait state:bound", "state:time_wait state:bound"),
            ("user:WWW-Data,0", "user:www-data,0"),
            ("finding:Overlap", "finding:overlap"),
            ("netns:\"my ns\"", "netns:\"my ns\""),
            ("\"nginx -g\"", "\"nginx -g\""),
            ("\"-D\" \"!x\"", "\"-d\" \"!x\""),
            ("\"http://x\"", "\"http://x\""),
            ("::1 127.0.0.1:80", "::1 127.0.0.1:80"),
            ("a,b", "a,b"),
            ("unit:\"a,b\"", "unit:\"a,b\""),
            ("\"say \\\"hi\\\"\"", "\"say \\\"hi\\\"\""),
            ("addr:[::1]", "addr:::1"),
            ("\"\" x", "x"),
            ("foo\"bar baz\"", "\"foobar baz\""),
        ];
        for (input, want) in cases {
            let f = p(input);
            assert_eq!(f.describe(), want, "{input}");
            assert_eq!(p(&f.describe()), f, "{input} round trip");
            assert_eq!(f.is_empty(), want.is_empty());
        }
    }

    #[test]
    fn errors_name_the_problem_and_the_column() {
        let e = perr("port:80 colour:red");
        assert_eq!(e.column, 9);
        assert!(
            matches!(&e.kind, FilterErrorKind::UnknownKey { key, .. } if key == "colour"),
            "{e}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("'colour'") && msg.contains(&valid_keys()),
            "{msg}"
        );

        let e = perr("proto:tcp port:8o");
        assert_eq!(e.column, 16);
        assert_eq!(
            e.to_string(),
            "column 16: '8o' is not a port number (0-65535) for 'port'"
        );
        let e = perr("port:80-9x");
        assert_eq!(e.column, 9, "the second number of the range");
        assert_eq!(perr("port:70000").column, 6);
        assert_eq!(perr("port:+80").column, 6);
        assert!(perr("port:90-80").to_string().contains("low to high"));
        assert_eq!(perr("x pid:-1").column, 7);

        let e = perr("port:");
        assert_eq!(e.kind, FilterErrorKind::EmptyValue { key: "port" });
        assert_eq!(
            perr("port:80,").kind,
            FilterErrorKind::EmptyValue { key: "port" }
        );
        assert_eq!(
            perr("addr:[]").kind,
            FilterErrorKind::EmptyValue { key: "addr" }
        );

        let e = perr("user:\"www data");
        assert_eq!((e.column, e.kind), (6, FilterErrorKind::UnclosedQuote));
        let e = perr("port:80 !");
        assert_eq!(
            (e.column, e.kind),
            (9, FilterErrorKind::DanglingNegation('!'))
        );
        assert_eq!(perr("- x").kind, FilterErrorKind::DanglingNegation('-'));

        for (input, listed) in [
            ("proto:sctp", "tcp or udp"),
            ("scope:global", "wildcard, dual"),
            ("state:lisen", "bound, established"),
            ("family:5", "ipv4"),
            ("finding:overlpa", "wildcard_overlap"),
        ] {
            let e = perr(input);
            assert!(
                matches!(e.kind, FilterErrorKind::BadValue { .. }),
                "{input}: {e}"
            );
            assert!(e.to_string().contains(listed), "{input}: {e}");
        }
    }

    #[test]
    fn columns_are_characters_of_the_input() {
        // The second number of a range is found in the source, past quotes and escapes.
        let e = perr("port:\"80\"-9x");
        assert_eq!((e.column, e.to_string().contains("'9x'")), (11, true));
        assert_eq!(perr("port:\"80-\"9x").column, 11);
        assert_eq!(perr("ünïcode\u{301} colour:red").column, 10);
        assert_eq!(perr("日本 port:ab").column, 9);
        assert_eq!(perr("x \"日本").column, 3);
        assert_eq!(perr("日本 !").column, 4);
    }

    #[test]
    fn errors_show_user_text_cleaned() {
        let e = perr("proto:\u{1b}[2J");
        assert_eq!(
            e.to_string(),
            "column 7: '\\x1b[2J' is not valid for 'proto': expected tcp or udp"
        );
        assert!(perr("pid:1\u{202e}").to_string().contains("'1\\u{202e}'"));
    }

    #[test]
    fn a_needle_is_its_lowercase_text() {
        // The Kelvin sign lowercases to ASCII `k`: the same needle as `k`, so the canonical
        // text parses back to the same filter.
        let kelvin = p("\u{212a}");
        assert_eq!(kelvin.describe(), "k");
        assert_eq!(p("k"), kelvin);
        assert_eq!(p("user:\u{212a}"), p("user:k"));
    }

    /// Never a panic. A filter prints as canonical text that parses back to the same filter
    /// and prints the same again, and it can be matched; an error points inside the input
    /// (or just past its end) and shows nothing the sanitizer would escape.
    fn check_filter(
        input: &str,
        sockets: &[Socket],
        cx: &FilterContext,
    ) -> Result<(), TestCaseError> {
        match parse(input) {
            Ok(f) => {
                let text = f.describe();
                let again = parse(&text);
                prop_assert_eq!(
                    again.as_ref(),
                    Ok(&f),
                    "{:?} described as {:?}",
                    input,
                    text
                );
                prop_assert_eq!(again.map(|g| g.describe()), Ok(text.clone()));
                prop_assert_eq!(f.is_empty(), text.is_empty());
                for s in sockets {
                    let _ = f.matches(s, cx);
                }
            }
            Err(e) => {
                let n = input.chars().count();
                prop_assert!((1..=n + 1).contains(&e.column), "{:?}: {}", input, e);
                let msg = e.to_string();
                prop_assert_eq!(clean(&msg), msg.as_str());
            }
        }
        Ok(())
    }

    /// One term: a key (valid, odd case, unknown, or none), perhaps negated, with values that
    /// are near valid: numbers and ranges, quotes closed or not, escapes, lists.
    fn term() -> impl Strategy<Value = String> {
        let neg = prop::sample::select(vec!["", "", "!", "-"]);
        let key = prop::sample::select(vec![
            "", "", "port:", "PORT:", "user:", "proto:", "scope:", "state:", "finding:", "pid:",
            "netns:", "family:", "addr:", "unit:", "host:", "mark:", "colour:", "é:", "_:",
        ]);
        let value = prop_oneof![
            "[0-9]{0,6}(-[0-9]{0,6})?",
            "\"[^\"]{0,4}\"?",
            "[a-z_\\-]{0,8}",
            "\\[?[0-9a-f:]{0,6}(%[a-z]{0,3})?\\]?",
            "\\PC{0,4}",
            prop::sample::select(vec!["any", "\\\"", "\"\\\\\"", "\u{212a}", "İ", "ß"])
                .prop_map(String::from),
        ];
        let values = prop::collection::vec(value, 1..3).prop_map(|v| v.join(","));
        (neg, key, values).prop_map(|(n, k, v)| format!("{n}{k}{v}"))
    }

    proptest! {
        #![proptest_config(crate::testing::props(512))]

        #[test]
        fn any_text_is_a_filter_or_an_error(input in any::<String>()) {
            let (sockets, cx) = fixture();
            check_filter(&input, &sockets, &cx)?;
        }

        #[test]
        fn printable_text(input in "\\PC{0,24}") {
            let (sockets, cx) = fixture();
            check_filter(&input, &sockets, &cx)?;
        }

        #[test]
        fn near_valid_filters(terms in prop::collection::vec(term(), 0..4), sep in "[ \t]{1,2}") {
            let (sockets, cx) = fixture();
            check_filter(&terms.join(&sep), &sockets, &cx)?;
        }
    }

    #[test]
    fn many_sockets() {
        // 50,000 sockets per keystroke: matching must not allocate per socket. This checks
        // the whole set runs; `cargo test --release -- --nocapture` prints the time.
        let (base, cx) = fixture();
        let sockets: Vec<Socket> = (0..50_000)
            .map(|i| {
                let mut s = base[i % base.len()].clone();
                s.local_port = u16::try_from(i % 60_000).expect("port");
                s
            })
            .collect();
        for input in [
            "resolved",
            "8080",
            "port:1000-2000 user:alice !state:listen",
            "addr:2001 finding:overlap",
            "\"tcp [::]%lo:80\"",
        ] {
            let f = p(input);
            let t = std::time::Instant::now();
            let n = sockets.iter().filter(|s| f.matches(s, &cx)).count();
            println!("{input}: {n} of {} in {:?}", sockets.len(), t.elapsed());
            assert!(n < sockets.len());
        }
    }
}
