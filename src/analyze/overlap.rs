//! Whether two binds overlap, as the kernel decides it: pure predicates shared by the
//! can-bind what-if and the findings (linux-bind-semantics.md §1 "Overlap", §3.1, §3.2).
//!
//! The predicates are three-valued where an input can be unknown: `Some(b)` is the kernel's
//! answer, `None` means it depends on an option the snapshot could not read (an IPv6 socket's
//! V6ONLY, most often). A guess is never made: callers turn `None` into "uncertain".

use crate::model::addr::mapped_v4;
use crate::model::{Family, Socket, State};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `LOOPBACK4_IPV6` (include/net/ipv6.h): the `sk_rcv_saddr` that `__inet6_bind` and the
/// IPv6 connect/accept paths give a socket whose IPv6 address has no IPv4 meaning, so it
/// never equals a real bound IPv4 address nor the IPv4 wildcard.
pub const LOOPBACK4_IPV6: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 6);

/// One bind as the conflict rules read it: what `inet_bind_conflict`,
/// `inet_rcv_saddr_equal` and `udp_lib_lport_inuse` look at in a `struct sock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The socket's family (AF_INET or AF_INET6), not the address's: a v4-mapped address
    /// bound on an IPv6 socket is still an IPv6 socket.
    pub family: Family,
    /// The bound address (`sk_v6_rcv_saddr` for IPv6 sockets, `sk_rcv_saddr` for IPv4).
    pub addr: IpAddr,
    /// `sk_ipv6only`, explicit or implicit (a specific non-mapped IPv6 bind sets it,
    /// `__inet6_bind`). Meaningless for IPv4 sockets (always 0 there). `None`: unknown.
    pub v6only: Option<bool>,
    /// `sk_bound_dev_if` by name (SO_BINDTODEVICE or a link-local scope); `None`: unbound.
    pub device: Option<String>,
    /// SO_REUSEADDR (`sk_reuse`); `None`: unknown.
    pub reuseaddr: Option<bool>,
    /// SO_REUSEPORT (`sk_reuseport`); `None`: unknown.
    pub reuseport: Option<bool>,
    /// `sk_uid`: what SO_REUSEPORT compares (§3.6).
    pub uid: u32,
    pub state: State,
}

impl Endpoint {
    /// The endpoint a snapshot socket stands for. V6ONLY that the snapshot could not read is
    /// completed where the kernel leaves no choice: a v4-mapped bind is never V6ONLY (EINVAL),
    /// and a bound-only or listening socket on a specific IPv6 address is (`__inet6_bind`).
    /// Accepted children and connected sockets keep the listener's or creator's value, which
    /// may be 0 even on a specific address, so theirs stays unknown.
    pub fn from_socket(s: &Socket) -> Endpoint {
        let addr = normalize(s.family, s.local_addr);
        let v6only = match s.family {
            Family::Ipv4 => Some(false),
            Family::Ipv6 => s.options.v6only.or_else(|| implicit_v6only(addr, s.state)),
        };
        Endpoint {
            family: s.family,
            addr,
            v6only,
            device: s.device.clone(),
            reuseaddr: s.options.reuseaddr,
            reuseport: s.options.reuseport,
            uid: s.uid,
            state: s.state,
        }
    }

    /// True when the bind is a wildcard for the conflict check: `0.0.0.0`, `::` or
    /// `::ffff:0.0.0.0`. The opposite of `inet_use_hash2_on_bind()` (include/net/inet_hashtables.h).
    pub fn is_wildcard(&self) -> bool {
        self.rcv_saddr().is_unspecified()
            && match self.v6_addr() {
                Some(v6) => v6.is_unspecified() || mapped_v4(&v6).is_some(),
                None => true,
            }
    }

    /// `inet6_rcv_saddr(sk)`: the IPv6 address of an IPv6 socket, `None` for IPv4 sockets.
    fn v6_addr(&self) -> Option<Ipv6Addr> {
        match (self.family, self.addr) {
            (Family::Ipv6, IpAddr::V6(a)) => Some(a),
            (Family::Ipv6, IpAddr::V4(a)) => Some(a.to_ipv6_mapped()),
            (Family::Ipv4, _) => None,
        }
    }

    /// `sk_rcv_saddr`: the IPv4 view of the bound address. For IPv6 sockets `::` is 0, a
    /// mapped address is its IPv4 address, and anything else is LOOPBACK4_IPV6.
    fn rcv_saddr(&self) -> Ipv4Addr {
        match self.addr {
            IpAddr::V4(a) => a,
            IpAddr::V6(a) if a.is_unspecified() => Ipv4Addr::UNSPECIFIED,
            IpAddr::V6(a) => match mapped_v4(&a) {
                Some(v4) => v4,
                None if self.family == Family::Ipv4 => Ipv4Addr::UNSPECIFIED,
                None => LOOPBACK4_IPV6,
            },
        }
    }

    /// The bound address is v4-mapped (an IPv6 socket bound to `::ffff:a.b.c.d`).
    pub fn is_mapped(&self) -> bool {
        self.v6_addr().is_some_and(|a| mapped_v4(&a).is_some())
    }

    /// `ipv6_only_sock(sk)`; IPv4 sockets never are.
    fn ipv6only(&self) -> Option<bool> {
        match self.family {
            Family::Ipv4 => Some(false),
            Family::Ipv6 => self.v6only,
        }
    }

    /// The same endpoint with a known V6ONLY, for evaluating both readings of an unknown one.
    fn with_v6only(&self, v: bool) -> Endpoint {
        Endpoint {
            v6only: Some(v),
            ..self.clone()
        }
    }
}

/// A v4-mapped or IPv4 address on the family that holds it: IPv6 sockets carry IPv6
/// addresses (a mapped one for IPv4 through IPv6), IPv4 sockets IPv4 ones.
fn normalize(family: Family, addr: IpAddr) -> IpAddr {
    match (family, addr) {
        (Family::Ipv6, IpAddr::V4(a)) => IpAddr::V6(a.to_ipv6_mapped()),
        (Family::Ipv4, IpAddr::V6(a)) => match mapped_v4(&a) {
            Some(v4) => IpAddr::V4(v4),
            None => addr,
        },
        _ => addr,
    }
}

/// V6ONLY where the kernel decided it at bind time (§2): mapped → 0 (V6ONLY would have been
/// EINVAL, and it cannot be set once bound); a specific address bound by bind() → 1.
fn implicit_v6only(addr: IpAddr, state: State) -> Option<bool> {
    let IpAddr::V6(a) = addr else {
        return Some(false);
    };
    if mapped_v4(&a).is_some() {
        return Some(false);
    }
    if !a.is_unspecified() && matches!(state, State::Close | State::Listen | State::BoundInactive) {
        return Some(true);
    }
    None
}

// ---------------------------------------------------------------------------------------
// Three-valued logic over Option<bool> (None = unknown), Kleene's.

/// `a && b` where either may be unknown: false wins over unknown.
pub fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// `a || b` where either may be unknown: true wins over unknown.
pub fn or3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

pub fn not3(a: Option<bool>) -> Option<bool> {
    a.map(|b| !b)
}

/// Evaluates `f` for every reading of the unknown V6ONLY flags of `a` and `b`: the answer is
/// known when all readings agree.
fn over_v6only(
    a: &Endpoint,
    b: &Endpoint,
    f: impl Fn(&Endpoint, &Endpoint) -> bool,
) -> Option<bool> {
    let readings = |e: &Endpoint| -> Vec<Endpoint> {
        match e.ipv6only() {
            Some(_) => vec![e.clone()],
            None => vec![e.with_v6only(false), e.with_v6only(true)],
        }
    };
    let mut answer = None;
    for ra in readings(a) {
        for rb in readings(b) {
            let v = f(&ra, &rb);
            match answer {
                None => answer = Some(v),
                Some(prev) if prev != v => return None,
                Some(_) => {}
            }
        }
    }
    answer
}

// ---------------------------------------------------------------------------------------
// The kernel's address comparisons (net/ipv4/inet_connection_sock.c), with known V6ONLY.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum V6Type {
    Any,
    Mapped,
    Other,
}

/// The part of `ipv6_addr_type()` the comparisons use.
fn v6_type(a: &Ipv6Addr) -> V6Type {
    if a.is_unspecified() {
        V6Type::Any
    } else if mapped_v4(a).is_some() {
        V6Type::Mapped
    } else {
        V6Type::Other
    }
}

/// `ipv4_rcv_saddr_equal()`: an IPv6-only sk2 never matches an IPv4 bind; otherwise equal
/// addresses, or a wildcard on a side whose wildcard counts.
fn ipv4_rcv_saddr_equal(a1: Ipv4Addr, a2: Ipv4Addr, sk2_only: bool, m1: bool, m2: bool) -> bool {
    if sk2_only {
        return false;
    }
    a1 == a2 || (m1 && a1.is_unspecified()) || (m2 && a2.is_unspecified())
}

/// `ipv6_rcv_saddr_equal()`, line for line. `sk2_v6` is `None` for an IPv4 sk2, which the
/// kernel then treats as mapped.
#[allow(clippy::too_many_arguments)]
fn ipv6_rcv_saddr_equal(
    sk1_v6: &Ipv6Addr,
    sk2_v6: Option<&Ipv6Addr>,
    sk1_rcv: Ipv4Addr,
    sk2_rcv: Ipv4Addr,
    sk1_only: bool,
    sk2_only: bool,
    m1: bool,
    m2: bool,
) -> bool {
    let t1 = v6_type(sk1_v6);
    let t2 = sk2_v6.map(v6_type).unwrap_or(V6Type::Mapped);
    // Both mapped: compare as IPv4.
    if t1 == V6Type::Mapped && t2 == V6Type::Mapped {
        if !sk2_only {
            return sk1_rcv == sk2_rcv
                || (m1 && sk1_rcv.is_unspecified())
                || (m2 && sk2_rcv.is_unspecified());
        }
        return false;
    }
    if t1 == V6Type::Any && t2 == V6Type::Any {
        return true;
    }
    if t2 == V6Type::Any && m2 && !(sk2_only && t1 == V6Type::Mapped) {
        return true;
    }
    if t1 == V6Type::Any && m1 && !(sk1_only && t2 == V6Type::Mapped) {
        return true;
    }
    sk2_v6.is_some_and(|a2| a2 == sk1_v6)
}

/// `inet_rcv_saddr_equal` generalized to the two wildcard flags that `sk_reuseport_match`
/// uses separately. Dispatches on sk1's family, as the kernel does.
fn rcv_saddr_equal_known(sk1: &Endpoint, sk2: &Endpoint, m1: bool, m2: bool) -> bool {
    // Only called through over_v6only, which resolves every unknown V6ONLY first.
    let only = |e: &Endpoint| e.ipv6only().unwrap_or(false);
    match sk1.v6_addr() {
        Some(v6) => ipv6_rcv_saddr_equal(
            &v6,
            sk2.v6_addr().as_ref(),
            sk1.rcv_saddr(),
            sk2.rcv_saddr(),
            only(sk1),
            only(sk2),
            m1,
            m2,
        ),
        None => ipv4_rcv_saddr_equal(sk1.rcv_saddr(), sk2.rcv_saddr(), only(sk2), m1, m2),
    }
}

/// `inet_rcv_saddr_equal(sk1, sk2, m1 && m2)` with the wildcard of each side counted
/// separately; `None` when it depends on an unknown V6ONLY.
pub fn rcv_saddr_equal(sk1: &Endpoint, sk2: &Endpoint, m1: bool, m2: bool) -> Option<bool> {
    over_v6only(sk1, sk2, |a, b| rcv_saddr_equal_known(a, b, m1, m2))
}

/// Address overlap: `inet_rcv_saddr_equal(new, old, match_wildcard = true)` (§3.2). The
/// kernel's test for UDP (`udp_lib_lport_inuse`) and for a TCP wildcard bind
/// (`inet_csk_bind_conflict`). `None`: depends on an unknown V6ONLY.
pub fn addr_overlap(new: &Endpoint, old: &Endpoint) -> Option<bool> {
    rcv_saddr_equal(new, old, true, true)
}

/// Device overlap (§1): `!a || !b || a == b` on `sk_bound_dev_if`.
pub fn dev_overlap(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    }
}

/// Whether `inet_csk_bind_conflict` looks at `old` when `new` binds (TCP, §3.1).
///
/// A wildcard `new` walks every socket on the port and keeps those whose address overlaps
/// (`inet_rcv_saddr_equal`). A specific `new` (`inet_use_hash2_on_bind`) only walks two
/// bhash2 buckets: the wildcard ones (`inet_bhash2_addr_any_conflict`, where
/// `__inet_bhash2_conflict` skips a V6ONLY socket when `new` is IPv4 or mapped) and its own
/// address's (`inet_bind2_bucket_match`). For sockets bound with bind() both readings agree
/// (the measured table of §3.2); they differ for an IPv6 connection without V6ONLY, whose
/// `sk_rcv_saddr` is LOOPBACK4_IPV6 and which a specific IPv4 bind never meets.
pub fn tcp_bucket_overlap(new: &Endpoint, old: &Endpoint) -> Option<bool> {
    if new.is_wildcard() {
        return addr_overlap(new, old);
    }
    let new_v4ish = new.family == Family::Ipv4 || new.is_mapped();
    // inet_bind2_bucket_match_addr_any(): an IPv6 `::` bucket matches every specific bind;
    // an IPv4-any bucket (0.0.0.0, or ::ffff:0.0.0.0) only IPv4 and mapped ones.
    let old_any = match old.v6_addr() {
        Some(v6) if v6.is_unspecified() => true,
        _ => old.is_wildcard() && new_v4ish,
    };
    if old_any {
        if new_v4ish {
            // __inet_bhash2_conflict(): a V6ONLY sk2 cannot conflict with an IPv4 bind.
            return not3(old.ipv6only());
        }
        return Some(true);
    }
    Some(bind2_bucket_match(old, new))
}

/// `inet_bind2_bucket_match()`: `new` falls in the bucket of `old`'s exact address, across
/// families only through a v4-mapped address.
fn bind2_bucket_match(old: &Endpoint, new: &Endpoint) -> bool {
    match (old.v6_addr(), new.v6_addr()) {
        (Some(a), Some(b)) => a == b,
        (None, None) => old.rcv_saddr() == new.rcv_saddr(),
        (Some(a), None) => mapped_v4(&a) == Some(new.rcv_saddr()),
        (None, Some(b)) => mapped_v4(&b) == Some(old.rcv_saddr()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(family: Family, addr: &str, v6only: Option<bool>) -> Endpoint {
        Endpoint {
            family,
            addr: addr.parse().expect("test address"),
            v6only,
            device: None,
            reuseaddr: Some(false),
            reuseport: Some(false),
            uid: 1001,
            state: State::Listen,
        }
    }

    /// The seven binds of the measured dual-stack table (§3.2, bindmatrix §2), in its order.
    fn seven() -> Vec<(&'static str, Endpoint)> {
        vec![
            ("v4 0.0.0.0", ep(Family::Ipv4, "0.0.0.0", None)),
            ("v4 127.0.0.1", ep(Family::Ipv4, "127.0.0.1", None)),
            ("v6 :: dual", ep(Family::Ipv6, "::", Some(false))),
            ("v6 :: V6ONLY", ep(Family::Ipv6, "::", Some(true))),
            // Implicitly V6ONLY: the kernel sets it when binding a specific address.
            ("v6 ::1", ep(Family::Ipv6, "::1", Some(true))),
            (
                "::ffff:127.0.0.1",
                ep(Family::Ipv6, "::ffff:127.0.0.1", Some(false)),
            ),
            (
                "::ffff:0.0.0.0",
                ep(Family::Ipv6, "::ffff:0.0.0.0", Some(false)),
            ),
        ]
    }

    /// Measured: row = first socket (listening), column = second; true = EADDRINUSE.
    const TABLE: [[bool; 7]; 7] = {
        const X: bool = true;
        const O: bool = false;
        [
            [X, X, X, O, O, X, X],
            [X, X, X, O, O, X, X],
            [X, X, X, X, X, X, X],
            [O, O, X, X, X, O, O],
            [O, O, X, X, X, O, O],
            [X, X, X, O, O, X, X],
            [X, X, X, O, O, X, X],
        ]
    };

    #[test]
    fn measured_dual_stack_table_both_orders() {
        let s = seven();
        for (r, (rname, first)) in s.iter().enumerate() {
            for (c, (cname, second)) in s.iter().enumerate() {
                let want = TABLE[r][c];
                // The second socket binds next to the first: new = column, old = row.
                assert_eq!(
                    addr_overlap(second, first),
                    Some(want),
                    "addr_overlap(new={cname}, old={rname})"
                );
                assert_eq!(
                    tcp_bucket_overlap(second, first),
                    Some(want),
                    "tcp_bucket_overlap(new={cname}, old={rname})"
                );
                // The other order is the transposed cell, and the table is symmetric.
                assert_eq!(addr_overlap(first, second), Some(TABLE[c][r]));
            }
        }
    }

    #[test]
    fn unknown_v6only_is_unknown_only_where_it_matters() {
        let dual_unknown = ep(Family::Ipv6, "::", None);
        let v4 = ep(Family::Ipv4, "127.0.0.1", None);
        let v6 = ep(Family::Ipv6, "::1", Some(true));
        assert_eq!(addr_overlap(&v4, &dual_unknown), None);
        assert_eq!(addr_overlap(&dual_unknown, &v4), None);
        // `::` overlaps every IPv6 bind whatever V6ONLY says.
        assert_eq!(addr_overlap(&v6, &dual_unknown), Some(true));
        assert_eq!(tcp_bucket_overlap(&v6, &dual_unknown), Some(true));
        assert_eq!(tcp_bucket_overlap(&v4, &dual_unknown), None);
    }

    #[test]
    fn mapped_and_v4_of_the_same_address_overlap_other_addresses_do_not() {
        let a = ep(Family::Ipv4, "10.0.0.1", None);
        let b = ep(Family::Ipv6, "::ffff:10.0.0.1", Some(false));
        let c = ep(Family::Ipv4, "10.0.0.2", None);
        assert_eq!(addr_overlap(&a, &b), Some(true));
        assert_eq!(addr_overlap(&b, &a), Some(true));
        assert_eq!(tcp_bucket_overlap(&b, &a), Some(true));
        assert_eq!(addr_overlap(&a, &c), Some(false));
        assert_eq!(tcp_bucket_overlap(&c, &b), Some(false));
    }

    #[test]
    fn loopback4_ipv6_quirk_only_reaches_wildcards() {
        // An IPv6 connection without V6ONLY (a child of a dual-stack listener) on ::1: its
        // sk_rcv_saddr is LOOPBACK4_IPV6. inet_rcv_saddr_equal then matches a bind of
        // 127.0.0.6, but the bhash2 path that a specific bind takes does not.
        let mut child = ep(Family::Ipv6, "::1", Some(false));
        child.state = State::Established;
        let q = ep(Family::Ipv4, "127.0.0.6", None);
        assert_eq!(addr_overlap(&q, &child), Some(true));
        assert_eq!(tcp_bucket_overlap(&q, &child), Some(false));
        let any = ep(Family::Ipv4, "0.0.0.0", None);
        assert_eq!(tcp_bucket_overlap(&any, &child), Some(true));
    }

    #[test]
    fn wildcard_means_not_hash2() {
        assert!(ep(Family::Ipv4, "0.0.0.0", None).is_wildcard());
        assert!(ep(Family::Ipv6, "::", None).is_wildcard());
        assert!(ep(Family::Ipv6, "::ffff:0.0.0.0", None).is_wildcard());
        assert!(!ep(Family::Ipv6, "::ffff:127.0.0.1", None).is_wildcard());
        assert!(!ep(Family::Ipv6, "::1", None).is_wildcard());
        assert!(!ep(Family::Ipv4, "127.0.0.1", None).is_wildcard());
    }

    #[test]
    fn devices() {
        assert!(dev_overlap(None, None));
        assert!(dev_overlap(None, Some("lo")));
        assert!(dev_overlap(Some("lo"), None));
        assert!(dev_overlap(Some("lo"), Some("lo")));
        assert!(!dev_overlap(Some("lo"), Some("v0")));
    }

    #[test]
    fn reuseport_fast_match_reads_the_wildcard_of_the_bucket_side_only() {
        // sk_reuseport_match: tb->fast_* is sk1 with its wildcard counting, the new socket
        // is sk2 without.
        let fast = ep(Family::Ipv4, "0.0.0.0", None);
        let new = ep(Family::Ipv4, "127.0.0.2", None);
        assert_eq!(rcv_saddr_equal(&fast, &new, true, false), Some(true));
        assert_eq!(rcv_saddr_equal(&new, &fast, true, false), Some(false));
    }

    #[test]
    fn from_socket_completes_v6only_where_the_kernel_left_no_choice() {
        assert_eq!(
            implicit_v6only("::1".parse().unwrap(), State::Listen),
            Some(true)
        );
        assert_eq!(
            implicit_v6only("::1".parse().unwrap(), State::Established),
            None
        );
        assert_eq!(
            implicit_v6only("::ffff:1.2.3.4".parse().unwrap(), State::Established),
            Some(false)
        );
        assert_eq!(implicit_v6only("::".parse().unwrap(), State::Listen), None);
    }

    #[test]
    fn three_valued_logic() {
        assert_eq!(and3(Some(false), None), Some(false));
        assert_eq!(and3(Some(true), None), None);
        assert_eq!(or3(Some(true), None), Some(true));
        assert_eq!(or3(Some(false), None), None);
        assert_eq!(not3(None), None);
    }
}
