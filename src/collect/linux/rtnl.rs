//! rtnetlink dumps of links (`RTM_GETLINK`) and addresses (`RTM_GETADDR`) over
//! `NETLINK_ROUTE` (include/uapi/linux/rtnetlink.h, if_link.h, if_addr.h).
//!
//! Request builders and decoders are pure; [`dump_links`] and [`dump_addrs`] do the I/O.

use super::netlink::{
    DUMP_ATTEMPTS, NLM_F_DUMP, NLM_F_REQUEST, NetlinkDumps, NetlinkError, ParseError, ParseProblem,
    build_request, read_array, read_u32, split_attrs,
};
use crate::collect::raw::{RawAddr, RawLink};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const RTM_NEWLINK: u16 = 16;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_GETADDR: u16 = 22;

/// `IFLA_IFNAME` (if_link.h): NUL-terminated interface name.
pub const IFLA_IFNAME: u16 = 3;
/// `IFA_*` (if_addr.h).
pub const IFA_ADDRESS: u16 = 1;
pub const IFA_LOCAL: u16 = 2;
pub const IFA_FLAGS: u16 = 8;

const AF_UNSPEC: u8 = 0;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// `sizeof(struct ifinfomsg)`: family u8, pad u8, type u16, index i32, flags u32, change u32.
const IFINFOMSG_LEN: usize = 16;
/// `sizeof(struct ifaddrmsg)`: family u8, prefixlen u8, flags u8, scope u8, index u32.
const IFADDRMSG_LEN: usize = 8;

/// `RTM_GETLINK` dump of every link: a zeroed `struct ifinfomsg` (AF_UNSPEC, no filter).
pub fn link_dump_request(seq: u32) -> Vec<u8> {
    build_request(
        RTM_GETLINK,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        &[0; IFINFOMSG_LEN],
    )
}

/// `RTM_GETADDR` dump of every address of every family: a zeroed `struct ifaddrmsg`.
pub fn addr_dump_request(seq: u32) -> Vec<u8> {
    // ifa_family = AF_UNSPEC (0): every family, in one dump.
    build_request(
        RTM_GETADDR,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        &[AF_UNSPEC; IFADDRMSG_LEN],
    )
}

/// Decode one `RTM_NEWLINK` payload: `struct ifinfomsg` then attributes.
pub fn parse_link(payload: &[u8]) -> Result<RawLink, ParseError> {
    const WHAT: &str = "ifinfomsg";
    if payload.len() < IFINFOMSG_LEN {
        return Err(ParseError::truncated(WHAT, 0, IFINFOMSG_LEN, payload.len()));
    }
    // ifi_index is an int in the struct, but the kernel never hands out negative indexes
    // (dev_index_reserve()); read the same bits as u32.
    let index = read_u32(payload, 4, WHAT)?;
    let flags = read_u32(payload, 8, WHAT)?;
    let mut name = None;
    let attrs = payload.get(IFINFOMSG_LEN..).unwrap_or_default();
    for attr in split_attrs(attrs, IFINFOMSG_LEN) {
        let (ty, data) = attr?;
        if ty == IFLA_IFNAME {
            // Up to the NUL. Names are bytes to the kernel (dev_valid_name() only forbids
            // '/', ':' and whitespace), so decode lossily rather than fail.
            let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
            let bytes = data.get(..end).unwrap_or_default();
            name = Some(String::from_utf8_lossy(bytes).into_owned());
        }
    }
    // rtnl_fill_ifinfo() always puts IFLA_IFNAME: its absence means we misread the message.
    let name = name.ok_or(ParseError {
        what: WHAT,
        offset: 0,
        problem: ParseProblem::Invalid("no IFLA_IFNAME attribute"),
    })?;
    Ok(RawLink { index, name, flags })
}

/// Decode one `RTM_NEWADDR` payload: `struct ifaddrmsg` then attributes. `Ok(None)` for
/// families other than IPv4/IPv6, and for an IPv4 address of 0.0.0.0, which the kernel
/// sends without any address attribute (inet_fill_ifaddr() skips zero addresses).
pub fn parse_addr(payload: &[u8]) -> Result<Option<RawAddr>, ParseError> {
    const WHAT: &str = "ifaddrmsg";
    if payload.len() < IFADDRMSG_LEN {
        return Err(ParseError::truncated(WHAT, 0, IFADDRMSG_LEN, payload.len()));
    }
    let [family, prefix_len, ifa_flags, scope] = read_array::<4>(payload, 0, WHAT)?;
    let index = read_u32(payload, 4, WHAT)?;
    let addr_len = match family {
        AF_INET => 4,
        AF_INET6 => 16,
        _ => return Ok(None),
    };

    let mut address = None;
    let mut local = None;
    let mut flags = u32::from(ifa_flags);
    let attrs = payload.get(IFADDRMSG_LEN..).unwrap_or_default();
    for attr in split_attrs(attrs, IFADDRMSG_LEN) {
        let (ty, data) = attr?;
        match ty {
            IFA_ADDRESS => address = Some(ip_attr(data, addr_len, "IFA_ADDRESS")?),
            IFA_LOCAL => local = Some(ip_attr(data, addr_len, "IFA_LOCAL")?),
            // ifa_flags is 8 bits; IFA_FLAGS carries all 32 (IFA_F_MANAGETEMPADDR and up).
            IFA_FLAGS => flags = read_u32(data, 0, "IFA_FLAGS")?,
            _ => {}
        }
    }
    // IPv4: IFA_LOCAL is the host's own address; IFA_ADDRESS is the peer on point-to-point
    // links. IPv6: IFA_ADDRESS is the own address; IFA_LOCAL appears only with a peer and
    // then holds the own address too, so IFA_ADDRESS is the safe first choice.
    let addr = if family == AF_INET {
        local.or(address)
    } else {
        address.or(local)
    };
    Ok(addr.map(|addr| RawAddr {
        index,
        addr,
        prefix_len,
        scope,
        flags,
    }))
}

fn ip_attr(data: &[u8], len: usize, what: &'static str) -> Result<IpAddr, ParseError> {
    match (len, data.len()) {
        (4, 4) => read_array::<4>(data, 0, what).map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        (16, 16) => read_array::<16>(data, 0, what).map(|b| IpAddr::V6(Ipv6Addr::from(b))),
        _ => Err(ParseError {
            what,
            offset: 0,
            problem: ParseProblem::Invalid("address length does not match the address family"),
        }),
    }
}

/// Every link of the socket's network namespace.
pub fn dump_links(sock: &mut dyn NetlinkDumps) -> Result<Vec<RawLink>, NetlinkError> {
    let mut attempt = 1;
    loop {
        let mut out = Vec::new();
        let request = link_dump_request(sock.next_seq());
        let result = sock.dump(&request, &mut |ty, payload| {
            if ty == RTM_NEWLINK {
                out.push(parse_link(payload)?);
            }
            Ok(())
        });
        match result {
            Ok(()) => return Ok(out),
            // rtnl_dump_ifinfo() marks the dump NLM_F_DUMP_INTR when a link comes or goes.
            Err(e) if e.is_retriable() && attempt < DUMP_ATTEMPTS => attempt += 1,
            Err(e) => return Err(e.in_dump("route dump of links", None)),
        }
    }
}

/// Every IPv4 and IPv6 address of the socket's network namespace.
pub fn dump_addrs(sock: &mut dyn NetlinkDumps) -> Result<Vec<RawAddr>, NetlinkError> {
    let mut attempt = 1;
    loop {
        let mut out = Vec::new();
        let request = addr_dump_request(sock.next_seq());
        let result = sock.dump(&request, &mut |ty, payload| {
            if ty == RTM_NEWADDR
                && let Some(a) = parse_addr(payload)?
            {
                out.push(a);
            }
            Ok(())
        });
        match result {
            Ok(()) => return Ok(out),
            // Address dumps set NLM_F_DUMP_INTR when an address changes during the dump
            // (inet_dump_ifaddr() tracks dev_base_seq and the address generation).
            Err(e) if e.is_retriable() && attempt < DUMP_ATTEMPTS => attempt += 1,
            Err(e) => return Err(e.in_dump("route dump of addresses", None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::linux::netlink::{
        NETLINK_ROUTE, NLM_F_MULTI, NLMSG_DONE, NetlinkSocket, split_messages, test_msg,
    };

    fn attr(ty: u16, data: &[u8]) -> Vec<u8> {
        let len = 4 + data.len();
        let mut b = (len as u16).to_ne_bytes().to_vec();
        b.extend_from_slice(&ty.to_ne_bytes());
        b.extend_from_slice(data);
        b.resize((len + 3) & !3, 0);
        b
    }

    fn link_msg(index: u32, flags: u32, name: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0];
        b.extend_from_slice(&772u16.to_ne_bytes()); // ARPHRD_LOOPBACK
        b.extend_from_slice(&index.to_ne_bytes());
        b.extend_from_slice(&flags.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend(attr(4, &65536u32.to_ne_bytes())); // IFLA_MTU: ignored
        b.extend(attr(IFLA_IFNAME, name));
        b
    }

    fn addr_msg(family: u8, prefix: u8, scope: u8, index: u32, attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut b = vec![family, prefix, 0x80, scope];
        b.extend_from_slice(&index.to_ne_bytes());
        for (ty, data) in attrs {
            b.extend(attr(*ty, data));
        }
        b
    }

    #[test]
    fn requests() {
        let r = link_dump_request(3);
        assert_eq!(r.len(), 32);
        assert_eq!(&r[4..6], &RTM_GETLINK.to_ne_bytes());
        assert_eq!(&r[6..8], &0x301u16.to_ne_bytes());
        let r = addr_dump_request(4);
        assert_eq!(r.len(), 24);
        assert_eq!(&r[4..6], &RTM_GETADDR.to_ne_bytes());
        assert_eq!(&r[8..12], &4u32.to_ne_bytes());
    }

    #[test]
    fn parses_link() {
        let l = parse_link(&link_msg(1, 0x10049, b"lo\0")).unwrap();
        assert_eq!(
            l,
            RawLink {
                index: 1,
                name: "lo".into(),
                flags: 0x10049
            }
        );
        // Not valid UTF-8: kept, lossily.
        let l = parse_link(&link_msg(7, 0, b"e\xffth\0")).unwrap();
        assert_eq!(l.name, "e\u{fffd}th");
    }

    #[test]
    fn link_without_name_is_an_error() {
        let mut b = link_msg(1, 0, b"lo\0");
        b.truncate(IFINFOMSG_LEN + 8);
        assert!(parse_link(&b).is_err());
    }

    #[test]
    fn parses_addrs() {
        // Point-to-point IPv4: IFA_ADDRESS is the peer, IFA_LOCAL ours.
        let a = parse_addr(&addr_msg(
            AF_INET,
            32,
            0,
            5,
            &[(IFA_ADDRESS, &[10, 0, 0, 2]), (IFA_LOCAL, &[10, 0, 0, 1])],
        ))
        .unwrap()
        .unwrap();
        assert_eq!(a.addr, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!((a.index, a.prefix_len, a.scope), (5, 32, 0));
        assert_eq!(a.flags, 0x80, "ifa_flags without IFA_FLAGS");

        let v6: Ipv6Addr = "fe80::1".parse().unwrap();
        let a = parse_addr(&addr_msg(
            AF_INET6,
            64,
            253,
            2,
            &[
                (IFA_ADDRESS, &v6.octets()),
                (IFA_FLAGS, &0x340u32.to_ne_bytes()),
            ],
        ))
        .unwrap()
        .unwrap();
        assert_eq!(a.addr, IpAddr::V6(v6));
        assert_eq!(a.flags, 0x340, "IFA_FLAGS wins over ifa_flags");
        assert_eq!(a.scope, 253);
    }

    #[test]
    fn addr_edge_cases() {
        // Other families are skipped.
        assert_eq!(parse_addr(&addr_msg(7, 0, 0, 1, &[])).unwrap(), None);
        // 0.0.0.0 comes without address attributes.
        assert_eq!(parse_addr(&addr_msg(AF_INET, 0, 0, 1, &[])).unwrap(), None);
        // An IPv6 address of 4 bytes is wrong.
        let e = parse_addr(&addr_msg(
            AF_INET6,
            64,
            0,
            1,
            &[(IFA_ADDRESS, &[1, 2, 3, 4])],
        ))
        .unwrap_err();
        assert_eq!(e.what, "IFA_ADDRESS");
        // A short IFA_FLAGS is an error.
        assert!(parse_addr(&addr_msg(AF_INET, 8, 0, 1, &[(IFA_FLAGS, &[1, 2])])).is_err());
    }

    #[test]
    fn truncation_never_panics() {
        let link = link_msg(1, 0x49, b"lo\0");
        for cut in 0..link.len() {
            let r = parse_link(&link[..cut]);
            // 31 ends right after "lo\0": only the padding is missing, which is accepted.
            // Every shorter cut loses IFLA_IFNAME (the last attribute) or breaks a header.
            if cut == 31 {
                assert!(r.is_ok(), "link cut {cut}: {r:?}");
            } else {
                assert!(r.is_err(), "link cut {cut}: {r:?}");
            }
        }
        let addr = addr_msg(
            AF_INET,
            8,
            254,
            1,
            &[(IFA_ADDRESS, &[127, 0, 0, 1]), (IFA_LOCAL, &[127, 0, 0, 1])],
        );
        for cut in 0..addr.len() {
            let r = parse_addr(&addr[..cut]);
            // Between attributes a cut is a shorter valid message; elsewhere an error.
            if [8, 16].contains(&cut) {
                assert!(r.is_ok(), "addr cut {cut}");
            } else {
                assert!(r.is_err(), "addr cut {cut}: {r:?}");
            }
        }
    }

    #[test]
    fn multi_message_dump_buffer() {
        let mut buf = test_msg(RTM_NEWLINK, NLM_F_MULTI, 1, 5, &link_msg(1, 0x49, b"lo\0"));
        buf.extend(test_msg(
            RTM_NEWLINK,
            NLM_F_MULTI,
            1,
            5,
            &link_msg(2, 0x1003, b"eth0\0"),
        ));
        buf.extend(test_msg(NLMSG_DONE, NLM_F_MULTI, 1, 5, &0i32.to_ne_bytes()));
        let names: Vec<String> = split_messages(&buf)
            .map(|m| m.unwrap())
            .filter(|(h, _)| h.ty == RTM_NEWLINK)
            .map(|(_, p)| parse_link(p).unwrap().name)
            .collect();
        assert_eq!(names, ["lo", "eth0"]);
    }

    #[test]
    fn live_finds_loopback() {
        let mut sock = NetlinkSocket::open(NETLINK_ROUTE).unwrap();
        let links = dump_links(&mut sock).unwrap();
        let lo = links
            .iter()
            .find(|l| l.name == "lo")
            .expect("lo in link dump");
        assert_ne!(lo.flags & 0x8, 0, "IFF_LOOPBACK");
        // The same socket serves a second dump.
        let addrs = dump_addrs(&mut sock).unwrap();
        let v4 = addrs
            .iter()
            .find(|a| a.index == lo.index && a.addr == IpAddr::V4(Ipv4Addr::LOCALHOST))
            .expect("127.0.0.1 on lo");
        assert_eq!(v4.prefix_len, 8);
        assert_eq!(v4.scope, 254, "RT_SCOPE_HOST");
    }
}
