//! What is read from inside one network namespace: its sockets (sock_diag), interfaces and
//! addresses (rtnetlink), sysctls and TcpExt counters, through the namespace's
//! [`NetnsSources`] (live ones belong to the thread that entered the namespace).

use super::netlink::NetlinkError;
use super::procfs;
use super::sources::{Dumps, Netlink, NetnsSources};
use super::{rtnl, sock_diag};
use crate::collect::classify;
use crate::collect::raw::{RawAddr, RawLink, RawSocket};
use crate::model::host::AddrFlag;
use crate::model::{
    AddrScope, Family, Interface, InterfaceAddr, Proto, Sysctls, TcpExtCounters, View,
};

/// Everything read inside one namespace.
#[derive(Debug, Default)]
pub struct NetnsData {
    pub raw: Vec<RawSocket>,
    pub links: Vec<RawLink>,
    pub addrs: Vec<RawAddr>,
    pub sysctls: Sysctls,
    pub counters: TcpExtCounters,
    pub warnings: Vec<String>,
    /// A listeners-only read: the listeners' messages as the kernel sent them.
    pub listener_bytes: Option<ListenerBytes>,
    /// A listeners-only read found the same bytes as [`Hint::listeners_before`]: `raw` is
    /// left empty (the listeners are those parsed before).
    pub listeners_as_before: bool,
}

/// The TCP listeners' messages of one listeners-only read, IPv4 then IPv6, unparsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenerBytes(Vec<sock_diag::DumpBytes>);

/// What the last read of a namespace tells the next one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hint<'a> {
    /// How many sockets the last read of the same kind found: the vector is made that
    /// large at once (a quiet refresh at 15,000 listeners spent about a millisecond growing
    /// it).
    pub expect: usize,
    /// The listeners' bytes of the last listeners-only read whose result was taken in.
    /// When the kernel sends the same bytes again, nothing about the listeners changed,
    /// and they are not parsed or compared again (by perf, 2.7 ms a refresh at 15,000).
    pub listeners_before: Option<&'a ListenerBytes>,
}

/// How much of a namespace's sockets a read dumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Every socket of the view.
    Whole,
    /// Only the TCP listeners of the listening view: what a quiet refresh reads each time,
    /// for the accept queues, which move by the second. Bound-only TCP sockets, SYN_RECV
    /// requests and UDP sockets are taken as the last whole read found them. Dumping them
    /// costs more than the listeners (the kernel walks its whole bind and established
    /// tables for them, whatever the namespace holds; docs/perf/profile.md, "floors").
    /// The listeners come first in the kernel's TCP dump (inet_diag_dump_icsk walks the
    /// listening hash, then the bind hash, then the established hash), so their dump
    /// positions are those of a whole read.
    Listeners,
}

/// Reads one namespace through its sources. Only a sock_diag failure is an error: without
/// sockets there is nothing to show; the rest becomes warnings.
pub fn read(
    view: View,
    reading: Reading,
    hint: Hint<'_>,
    ns: &mut dyn NetnsSources,
) -> Result<NetnsData, NetlinkError> {
    let mut listener_bytes = None;
    let mut listeners_as_before = false;
    let (raw, mut warnings) = match reading {
        Reading::Listeners if view == View::Listening => {
            let bytes = dump_listeners(ns, hint.expect)?;
            let raw = if hint.listeners_before == Some(&bytes) {
                listeners_as_before = true;
                Vec::new()
            } else {
                bytes.parse(hint.expect)?
            };
            listener_bytes = Some(bytes);
            (raw, Vec::new())
        }
        _ => dump_all(view, ns, hint.expect)?,
    };
    let (links, addrs) = match read_links_addrs(ns) {
        Ok(v) => v,
        Err(e) => {
            warnings.push(format!("interfaces unknown: {e}"));
            (Vec::new(), Vec::new())
        }
    };
    // /proc/sys/net and /proc/thread-self/net follow the calling thread's namespace.
    let root = ns.proc_root();
    let (sysctls, sysctl_warnings) = procfs::read_sysctls(root);
    warnings.extend(sysctl_warnings);
    let counters = match procfs::read_tcpext(root) {
        Ok(c) => c,
        Err(e) => {
            warnings.push(format!("TcpExt counters unknown: {e}"));
            TcpExtCounters::default()
        }
    };
    Ok(NetnsData {
        raw,
        links,
        addrs,
        sysctls,
        counters,
        warnings,
        listener_bytes,
        listeners_as_before,
    })
}

/// Dumps every socket of `view`, TCP and UDP, IPv4 and IPv6, with the states filtered in the
/// kernel.
pub fn dump_all(
    view: View,
    ns: &mut dyn NetnsSources,
    expect: usize,
) -> Result<(Vec<RawSocket>, Vec<String>), NetlinkError> {
    ns.open(Netlink::SockDiag)?;
    let (tcp, udp) = match view {
        // Request sockets (SYN_RECV) are dumped too: they are counted per listener.
        View::Listening => (
            sock_diag::LISTENING_TCP_STATES,
            sock_diag::UDP_UNCONNECTED_STATES,
        ),
        View::All => (sock_diag::ALL_STATES, sock_diag::ALL_STATES),
    };
    let mut raw = Vec::with_capacity(expect);
    let mut warnings = Vec::new();
    for family in [Family::Ipv4, Family::Ipv6] {
        let mut diag = Dumps {
            ns: &mut *ns,
            protocol: Netlink::SockDiag,
        };
        let outcome = sock_diag::dump_sockets(&mut diag, family, Proto::Tcp, tcp, &mut raw)?;
        sock_diag::dump_sockets(&mut diag, family, Proto::Udp, udp, &mut raw)?;
        let supported = outcome
            .bound_inactive_supported
            .unwrap_or_else(|| ns.dumps_bound_inactive());
        if !supported {
            warnings.push(
                "this kernel cannot dump bound-only TCP sockets (needs Linux 6.7): they are missing"
                    .to_string(),
            );
        }
    }
    warnings.dedup();
    Ok((raw, warnings))
}

/// The TCP listeners of the namespace, IPv4 then IPv6 (as [`dump_all`] orders them), as
/// the kernel sent them.
fn dump_listeners(ns: &mut dyn NetnsSources, expect: usize) -> Result<ListenerBytes, NetlinkError> {
    ns.open(Netlink::SockDiag)?;
    let mut each = Vec::with_capacity(2);
    for family in [Family::Ipv4, Family::Ipv6] {
        let mut diag = Dumps {
            ns: &mut *ns,
            protocol: Netlink::SockDiag,
        };
        // Room for the messages of `expect` listeners (about 124 bytes each, with its
        // length) in either family: the pages not written are never touched.
        let room = expect * 128;
        each.push(sock_diag::dump_bytes(
            &mut diag,
            family,
            Proto::Tcp,
            sock_diag::TCPF_LISTEN,
            room,
        )?);
    }
    Ok(ListenerBytes(each))
}

impl ListenerBytes {
    /// Bytes that stand for a read, in tests of what keeps them.
    #[cfg(test)]
    pub fn for_test(tag: u8) -> Self {
        ListenerBytes(vec![sock_diag::DumpBytes::for_test(tag)])
    }

    /// The listeners, parsed as a whole read's dump parses them.
    fn parse(&self, expect: usize) -> Result<Vec<RawSocket>, NetlinkError> {
        let mut raw = Vec::with_capacity(expect);
        for bytes in &self.0 {
            bytes.parse(&mut raw)?;
        }
        Ok(raw)
    }
}

fn read_links_addrs(
    ns: &mut dyn NetnsSources,
) -> Result<(Vec<RawLink>, Vec<RawAddr>), NetlinkError> {
    ns.open(Netlink::Route)?;
    let mut route = Dumps {
        ns,
        protocol: Netlink::Route,
    };
    let links = rtnl::dump_links(&mut route)?;
    let addrs = rtnl::dump_addrs(&mut route)?;
    Ok((links, addrs))
}

/// IFA_F_* of one address. Bit 0x01 is IFA_F_SECONDARY on IPv4 and IFA_F_TEMPORARY on IPv6
/// (the same value in include/uapi/linux/if_addr.h).
fn addr_flags(flags: u32, ipv4: bool) -> Vec<AddrFlag> {
    let first = if ipv4 {
        AddrFlag::Secondary
    } else {
        AddrFlag::Temporary
    };
    [
        (classify::IFA_F_TENTATIVE, AddrFlag::Tentative),
        (classify::IFA_F_OPTIMISTIC, AddrFlag::Optimistic),
        (classify::IFA_F_DADFAILED, AddrFlag::Dadfailed),
        (classify::IFA_F_DEPRECATED, AddrFlag::Deprecated),
        (classify::IFA_F_PERMANENT, AddrFlag::Permanent),
        (classify::IFA_F_TEMPORARY, first),
        (classify::IFA_F_NODAD, AddrFlag::Nodad),
        (classify::IFA_F_NOPREFIXROUTE, AddrFlag::Noprefixroute),
    ]
    .into_iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, f)| f)
    .collect()
}

/// Interfaces with their addresses, for the snapshot's host context.
pub fn interfaces(links: &[RawLink], addrs: &[RawAddr]) -> Vec<Interface> {
    const IFF_UP: u32 = 0x1;
    const IFF_LOOPBACK: u32 = 0x8;
    const IFF_LOWER_UP: u32 = 0x1_0000;
    let mut out: Vec<Interface> = links
        .iter()
        .map(|l| Interface {
            index: l.index,
            name: l.name.clone(),
            up: l.flags & IFF_UP != 0,
            loopback: l.flags & IFF_LOOPBACK != 0,
            carrier: l.flags & IFF_LOWER_UP != 0,
            addresses: addrs
                .iter()
                .filter(|a| a.index == l.index)
                .map(|a| InterfaceAddr {
                    addr: a.addr,
                    prefix_len: a.prefix_len,
                    scope: AddrScope::from_kernel(a.scope),
                    flags: addr_flags(a.flags, a.addr.is_ipv4()),
                })
                .collect(),
        })
        .collect();
    out.sort_by_key(|i| i.index);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_one_is_secondary_on_ipv4_and_temporary_on_ipv6() {
        assert_eq!(addr_flags(0x01, true), vec![AddrFlag::Secondary]);
        assert_eq!(addr_flags(0x01, false), vec![AddrFlag::Temporary]);
    }

    #[test]
    fn interfaces_carry_their_addresses_and_flags() {
        let links = vec![
            RawLink {
                index: 2,
                name: "veth0".into(),
                flags: 0x1,
            },
            RawLink {
                index: 1,
                name: "lo".into(),
                flags: 0x1 | 0x8 | 0x1_0000,
            },
        ];
        let addrs = vec![RawAddr {
            index: 2,
            addr: "2001:db8::5".parse().expect("addr"),
            prefix_len: 64,
            scope: 0,
            flags: classify::IFA_F_TENTATIVE | classify::IFA_F_PERMANENT,
        }];
        let ifs = interfaces(&links, &addrs);
        assert_eq!(ifs[0].name, "lo");
        assert!(ifs[0].loopback && ifs[0].carrier && ifs[0].addresses.is_empty());
        assert_eq!(ifs[1].name, "veth0");
        assert!(ifs[1].up && !ifs[1].carrier);
        assert_eq!(ifs[1].addresses[0].scope, AddrScope::Global);
        assert_eq!(
            ifs[1].addresses[0].flags,
            vec![AddrFlag::Tentative, AddrFlag::Permanent]
        );
    }
}
