//! What a filter is once parsed: terms of alternatives, each a predicate on one socket, and
//! the keys a predicate is written with. No parsing and no matching here: `parser.rs` makes
//! these, `matcher.rs` tests a socket against them, `canonical.rs` prints them back.

use super::needle::Needle;
use crate::model::names::{Glob, NamePattern, PodPattern};
use crate::model::{Family, Proto, Scope, State};
use std::fmt;

/// A parsed filter; the empty filter matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub(super) terms: Vec<Term>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Term {
    pub(super) negated: bool,
    /// Alternatives: the term holds when any matches.
    pub(super) alts: Vec<Pred>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Pred {
    Port(u16, u16),
    User {
        name: Needle,
        uid: Option<u32>,
    },
    Proto(Proto),
    Scope(ScopeSel),
    State(StateSel),
    Finding(Needle),
    AnyFinding,
    Pid(u32),
    /// A namespace by any of its names (`model::names`).
    Netns(NamePattern),
    /// A holder's container, or one living in the socket's namespace.
    Container(NamePattern),
    /// The image of such a container.
    Image(Glob),
    /// The pod of such a container.
    Pod(PodPattern),
    Family(Family),
    Addr(Needle),
    Unit(Needle),
    Host(Needle),
    AnyMark,
    Mark(Needle),
    Text(Needle),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScopeSel {
    /// Either wildcard: a user asking for wildcard binds wants `[::]` dual-stack too.
    AnyWildcard,
    Is(Scope),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StateSel {
    /// A TCP socket that is bound and neither listening nor connected: CLOSE in a dump, or
    /// the kernel's TCP_BOUND_INACTIVE pseudo-state (model::State docs).
    Bound,
    Is(State),
}

/// A key of a `key:value` term. Errors name the key they are about with it, so a caller can
/// tell which term was wrong without reading the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Port,
    User,
    Proto,
    Scope,
    State,
    Finding,
    Pid,
    Netns,
    Container,
    Image,
    Pod,
    Family,
    Addr,
    Unit,
    Host,
    Mark,
}

impl Key {
    /// Every key, in the order error messages list them.
    pub const ALL: [Key; 16] = [
        Key::Port,
        Key::User,
        Key::Proto,
        Key::Scope,
        Key::State,
        Key::Finding,
        Key::Pid,
        Key::Netns,
        Key::Container,
        Key::Image,
        Key::Pod,
        Key::Family,
        Key::Addr,
        Key::Unit,
        Key::Host,
        Key::Mark,
    ];

    /// The key as it is typed (lowercase; the parser ignores case).
    pub fn name(self) -> &'static str {
        match self {
            Key::Port => "port",
            Key::User => "user",
            Key::Proto => "proto",
            Key::Scope => "scope",
            Key::State => "state",
            Key::Finding => "finding",
            Key::Pid => "pid",
            Key::Netns => "netns",
            Key::Container => "container",
            Key::Image => "image",
            Key::Pod => "pod",
            Key::Family => "family",
            Key::Addr => "addr",
            Key::Unit => "unit",
            Key::Host => "host",
            Key::Mark => "mark",
        }
    }

    /// The key named `name`, which is lowercase.
    pub fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The valid keys, for error messages.
pub fn valid_keys() -> String {
    Key::ALL.map(Key::name).join(", ")
}

/// The key a predicate is written with; `None` for free text.
pub(super) fn pred_key(p: &Pred) -> Option<Key> {
    Some(match p {
        Pred::Port(..) => Key::Port,
        Pred::User { .. } => Key::User,
        Pred::Proto(_) => Key::Proto,
        Pred::Scope(_) => Key::Scope,
        Pred::State(_) => Key::State,
        Pred::Finding(_) | Pred::AnyFinding => Key::Finding,
        Pred::Pid(_) => Key::Pid,
        Pred::Netns(_) => Key::Netns,
        Pred::Container(_) => Key::Container,
        Pred::Image(_) => Key::Image,
        Pred::Pod(_) => Key::Pod,
        Pred::Family(_) => Key::Family,
        Pred::Addr(_) => Key::Addr,
        Pred::Unit(_) => Key::Unit,
        Pred::Host(_) => Key::Host,
        Pred::AnyMark | Pred::Mark(_) => Key::Mark,
        Pred::Text(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_found_by_its_name_and_only_by_it() {
        for k in Key::ALL {
            assert_eq!(Key::from_name(k.name()), Some(k));
            assert_eq!(k.to_string(), k.name());
        }
        // The parser lowercases what was typed before it asks.
        assert_eq!(Key::from_name("PORT"), None);
        assert_eq!(Key::from_name("colour"), None);
        assert_eq!(
            valid_keys(),
            "port, user, proto, scope, state, finding, pid, netns, container, image, pod, family, \
             addr, unit, host, mark"
        );
    }
}
