//! Addresses as the kernel compares them, and as files and tables write them: pure, used by
//! collection (to classify), analysis (to judge) and every output (to print).
//! The rules are linux-bind-semantics.md §2 (scope).

use super::{AddressState, Family, Scope};
use crate::text::clean;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The IPv4 address an IPv6 socket address stands for, if it is v4-mapped (`::ffff:a.b.c.d`).
/// Such a bind conflicts and receives exactly like the IPv4 bind (§2).
pub fn mapped_v4(addr: &Ipv6Addr) -> Option<Ipv4Addr> {
    match addr.segments() {
        [0, 0, 0, 0, 0, 0xffff, _, _] => addr.to_ipv4_mapped(),
        _ => None,
    }
}

/// The address as the kernel compares it: v4-mapped IPv6 becomes IPv4.
pub fn effective_addr(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => mapped_v4(&v6).map(IpAddr::V4).unwrap_or(addr),
        v4 => v4,
    }
}

/// A wildcard bind of either family: `0.0.0.0`, `[::]` or `::ffff:0.0.0.0`.
pub fn is_wildcard(addr: IpAddr) -> bool {
    effective_addr(addr).is_unspecified()
}

/// fe80::/10.
pub fn v6_is_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

/// Scope of a bound address. `v6only` matters only for `[::]`; when it is unknown the
/// broader reading (dual-stack) is returned, and the caller says the option is unknown.
pub fn scope_of(addr: IpAddr, v6only: Option<bool>) -> Scope {
    match addr {
        IpAddr::V4(a) => scope_v4(a),
        IpAddr::V6(a) => {
            if let Some(v4) = mapped_v4(&a) {
                return scope_v4(v4);
            }
            if a.is_unspecified() {
                if v6only == Some(true) {
                    Scope::Wildcard
                } else {
                    Scope::DualStackWildcard
                }
            } else if a.is_loopback() {
                Scope::Loopback
            } else if v6_is_link_local(&a) {
                Scope::LinkLocal
            } else {
                Scope::Specific
            }
        }
    }
}

fn scope_v4(a: Ipv4Addr) -> Scope {
    if a.is_unspecified() {
        Scope::Wildcard
    } else if a.is_loopback() {
        Scope::Loopback
    } else if a.is_link_local() {
        Scope::LinkLocal
    } else {
        Scope::Specific
    }
}

/// `addr:port` with brackets for IPv6 and `%dev` for a bound device, as `ss` prints it.
pub fn endpoint(addr: IpAddr, port: u16, device: Option<&str>) -> String {
    let dev = device.map(|d| format!("%{}", clean(d))).unwrap_or_default();
    match addr {
        IpAddr::V4(a) => format!("{a}{dev}:{port}"),
        IpAddr::V6(a) => format!("[{a}]{dev}:{port}"),
    }
}

impl Family {
    /// `IPv4` or `IPv6`, as sentences, tables and views print it (files use the serde name).
    pub fn name(self) -> &'static str {
        match self {
            Family::Ipv4 => "IPv4",
            Family::Ipv6 => "IPv6",
        }
    }
}

impl Scope {
    /// As tables and views print it (files use the serde name).
    pub fn name(self) -> &'static str {
        match self {
            Scope::Wildcard => "wildcard",
            Scope::DualStackWildcard => "dual-stack",
            Scope::Loopback => "loopback",
            Scope::LinkLocal => "link-local",
            Scope::Specific => "specific",
        }
    }
}

impl AddressState {
    /// As tables and views print it: the states that are problems in capitals.
    pub fn name(self) -> &'static str {
        match self {
            AddressState::Any => "any",
            AddressState::Local => "local",
            AddressState::Nonlocal => "NONLOCAL",
            AddressState::Tentative => "TENTATIVE",
            AddressState::Optimistic => "optimistic",
            AddressState::Dadfailed => "DADFAILED",
            AddressState::Deprecated => "deprecated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn scopes() {
        assert_eq!(scope_of(ip("0.0.0.0"), None), Scope::Wildcard);
        assert_eq!(scope_of(ip("::"), Some(true)), Scope::Wildcard);
        assert_eq!(scope_of(ip("::"), Some(false)), Scope::DualStackWildcard);
        assert_eq!(scope_of(ip("::"), None), Scope::DualStackWildcard);
        assert_eq!(scope_of(ip("::ffff:0.0.0.0"), Some(false)), Scope::Wildcard);
        assert_eq!(
            scope_of(ip("::ffff:127.0.0.5"), Some(false)),
            Scope::Loopback
        );
        assert_eq!(scope_of(ip("127.3.2.1"), None), Scope::Loopback);
        assert_eq!(scope_of(ip("::1"), Some(true)), Scope::Loopback);
        assert_eq!(scope_of(ip("fe80::1"), Some(true)), Scope::LinkLocal);
        assert_eq!(scope_of(ip("169.254.1.1"), None), Scope::LinkLocal);
        assert_eq!(scope_of(ip("192.0.2.1"), None), Scope::Specific);
        assert_eq!(scope_of(ip("2001:db8::1"), Some(true)), Scope::Specific);
    }

    #[test]
    fn endpoints() {
        assert_eq!(endpoint(ip("0.0.0.0"), 80, None), "0.0.0.0:80");
        assert_eq!(endpoint(ip("::1"), 53, Some("lo")), "[::1]%lo:53");
        assert_eq!(endpoint(ip("::"), 1, Some("e\x1b")), "[::]%e\\x1b:1");
    }
}
