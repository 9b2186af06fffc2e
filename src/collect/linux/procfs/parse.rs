//! Pure parsers of proc(5) files: they never panic and answer `None` for anything malformed
//! or truncated, because procfs files are read while processes come and go.

use crate::model::host::TcpExtCounters;

/// Decimal digits only (no sign, no whitespace), checked for overflow.
pub fn parse_dec_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut n: u32 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
    }
    Some(n)
}

pub(crate) fn parse_dec_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// `socket:[INODE]` (proc(5), `/proc/PID/fd`) → INODE.
pub fn parse_socket_link(link: &[u8]) -> Option<u64> {
    let inner = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    parse_dec_u64(inner)
}

/// `/proc/PID/status` (proc(5)): the effective capability set, `CapEff:` in hex.
pub fn parse_cap_eff(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    u64::from_str_radix(line.trim(), 16).ok()
}

/// `/proc/PID/status` (proc(5)): the `Uid:` line holds real, effective, saved set and
/// filesystem UIDs, tab-separated. Returns (real, effective). All four fields must be present
/// so that a truncated line is not mistaken for a valid one.
pub fn parse_status_uids(status: &str) -> Option<(u32, u32)> {
    let line = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    let mut ids = [0u32; 4];
    let mut fields = line.split_ascii_whitespace();
    for id in &mut ids {
        *id = parse_dec_u32(fields.next()?.as_bytes())?;
    }
    if fields.next().is_some() {
        return None;
    }
    Some((ids[0], ids[1]))
}

/// A decimal field of `/proc/PID/status` (proc(5)): `PPid:`, `Threads:`.
pub fn parse_status_u32(status: &str, key: &str) -> Option<u32> {
    let value = status.lines().find_map(|l| l.strip_prefix(key))?.trim();
    parse_dec_u32(value.as_bytes())
}

/// `/proc/PID/stat` (proc(5)): the state letter (`R`, `S`, `Z`, …), the field after the
/// command name. The name is in parentheses and may itself hold `)` and spaces, so the last
/// `)` ends it (no later field holds one). Takes the start of the file, or all of it.
pub fn parse_stat_state(stat: &[u8]) -> Option<u8> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    match stat.get(close + 1..close + 3)? {
        [b' ', state] if state.is_ascii_alphabetic() => Some(*state),
        _ => None,
    }
}

/// `/proc/PID/cmdline` (proc(5)): arguments separated by NUL, normally with a terminating
/// NUL; empty for kernel threads and zombies. Processes that rewrite their argv (nginx,
/// postgres) may leave one space-separated string padded with NULs, so every trailing NUL is
/// dropped (losing only genuinely empty trailing arguments).
pub fn parse_cmdline(bytes: &[u8]) -> Vec<String> {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let bytes = &bytes[..end];
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes
        .split(|&b| b == 0)
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect()
}

/// `/proc/PID/ns/net` link target (proc(5), namespaces(7)): `net:[4026531840]` → 4026531840.
pub fn parse_netns_link(link: &str) -> Option<u64> {
    let inner = link.strip_prefix("net:[")?.strip_suffix(']')?;
    parse_dec_u64(inner.as_bytes())
}

/// `/proc/PID/fdinfo/FD` (proc(5)): `flags:` is the file's open flags in OCTAL
/// (`flags:\t04002` = O_NONBLOCK|O_RDWR).
pub fn parse_fdinfo_flags(fdinfo: &str) -> Option<u32> {
    let value = fdinfo
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))?
        .trim();
    if value.is_empty() || !value.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    u32::from_str_radix(value, 8).ok()
}

/// TcpExt counters from `/proc/net/netstat` (proc(5): pairs of lines, a header
/// `TcpExt: Name1 Name2 …` then `TcpExt: 1 2 …`; the same for `IpExt`, `MPTcpExt`). A pair
/// whose column counts differ is ignored; counters that are absent are `None`.
pub fn parse_netstat_tcpext(netstat: &str) -> TcpExtCounters {
    let mut out = TcpExtCounters::default();
    let lines: Vec<&str> = netstat.lines().collect();
    let mut i = 0;
    while i + 1 < lines.len() {
        let (Some((p1, names)), Some((p2, values))) =
            (lines[i].split_once(':'), lines[i + 1].split_once(':'))
        else {
            i += 1;
            continue;
        };
        if p1 != p2 {
            i += 1; // out of step (truncated pair): resynchronise on the next line
            continue;
        }
        i += 2;
        if p1 != "TcpExt" {
            continue;
        }
        let names: Vec<&str> = names.split_ascii_whitespace().collect();
        let values: Vec<&str> = values.split_ascii_whitespace().collect();
        if names.len() != values.len() {
            continue;
        }
        for (name, value) in names.iter().zip(values) {
            let slot = match *name {
                "ListenOverflows" => &mut out.listen_overflows,
                "ListenDrops" => &mut out.listen_drops,
                "TCPReqQFullDrop" => &mut out.req_q_full_drop,
                "TCPReqQFullDoCookies" => &mut out.req_q_full_do_cookies,
                "TCPDeferAcceptDrop" => &mut out.defer_accept_drop,
                _ => continue,
            };
            if slot.is_none() {
                *slot = parse_dec_u64(value.as_bytes());
            }
        }
    }
    out
}

/// A single-integer sysctl file (`/proc/sys/...`, proc(5)): the number and a newline.
pub fn parse_sysctl_value(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

/// `net.ipv4.ip_local_port_range`: two numbers, tab-separated (`32768\t60999\n`).
pub fn parse_port_range(text: &str) -> Option<[u32; 2]> {
    let mut it = text.split_ascii_whitespace();
    let lo = parse_dec_u32(it.next()?.as_bytes())?;
    let hi = parse_dec_u32(it.next()?.as_bytes())?;
    if it.next().is_some() {
        return None;
    }
    Some([lo, hi])
}

/// `PF_KTHREAD` in the `flags` field of `/proc/PID/stat` (proc(5), `include/linux/sched.h`).
pub const PF_KTHREAD: u64 = 0x0020_0000;

/// The `flags` field (9th) of `/proc/PID/stat` (proc(5)). `comm` (2nd, in parentheses) may
/// hold spaces and parentheses, so fields are counted after the last `)`.
pub fn parse_stat_flags(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    // state ppid pgrp session tty_nr tpgid flags
    rest.split_ascii_whitespace().nth(6)?.parse().ok()
}

/// `starttime` of `/proc/PID/stat` (field 22): when the process started, in clock ticks
/// after boot (proc(5)). Fields are counted after the last `)`, as comm may hold any.
pub fn parse_stat_starttime(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    // Field 3 (state) is the first after ")": field 22 is the 20th.
    rest.split_ascii_whitespace().nth(19)?.parse().ok()
}

/// A `/proc/net/netstat` as the parser and the fixture trees of the tests use it.
#[cfg(test)]
pub(crate) const NETSTAT_SAMPLE: &str = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPReqQFullDoCookies TCPReqQFullDrop TCPDeferAcceptDrop\n\
TcpExt: 1 20 21 3 4 5\n\
IpExt: InNoRoutes InTruncatedPkts\n\
IpExt: 0 0\n\
MPTcpExt: MPCapableSYNRX\n\
MPTcpExt: 0\n";

#[cfg(test)]
mod tests {

    #[test]
    fn stat_starttime_after_a_nasty_comm() {
        let stat = "7236 (a) (b) c) S 7216 7236 7236 0 -1 4194560 150 0 0 0 0 0 0 0 20 0 1 0 123456 1000 10";
        assert_eq!(parse_stat_starttime(stat), Some(123456));
        assert_eq!(parse_stat_starttime("1 (x) S 0"), None);
        assert_eq!(parse_stat_starttime("no paren"), None);
    }
    use super::*;
    use crate::collect::linux::procfs::O_NONBLOCK;
    use NETSTAT_SAMPLE as NETSTAT;

    #[test]
    fn status_parent_and_threads() {
        let status = "Name:\tpostgres\nPPid:\t1\nTracerPid:\t0\nThreads:\t12\n";
        assert_eq!(parse_status_u32(status, "PPid:"), Some(1));
        assert_eq!(parse_status_u32(status, "Threads:"), Some(12));
        assert_eq!(parse_status_u32(status, "NSpid:"), None);
        assert_eq!(parse_status_u32("Threads:\tmany\n", "Threads:"), None);
        // This process, read for real: its parent and at least the test's thread.
        let own = std::fs::read_to_string("/proc/self/status").unwrap();
        assert_eq!(
            parse_status_u32(&own, "PPid:"),
            Some(std::os::unix::process::parent_id())
        );
        assert!(parse_status_u32(&own, "Threads:").is_some_and(|n| n >= 1));
    }

    #[test]
    fn status_uids() {
        let s = "Name:\tsshd\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
        assert_eq!(parse_status_uids(s), Some((1000, 0)));
        assert_eq!(parse_status_uids("Uid:\t1\t2\t3\t4"), Some((1, 2)));
        // truncated, malformed, missing
        assert_eq!(parse_status_uids("Name:\tx\nUid:\t1000\t10"), None);
        assert_eq!(parse_status_uids("Uid:"), None);
        assert_eq!(parse_status_uids("Uid:\t-1\t0\t0\t0\n"), None);
        assert_eq!(parse_status_uids("Uid:\t1\t2\t3\t4\t5\n"), None);
        assert_eq!(parse_status_uids("Uid:\t99999999999\t0\t0\t0\n"), None);
        assert_eq!(parse_status_uids("Name:\tx\n"), None);
        assert_eq!(parse_status_uids(""), None);
    }

    #[test]
    fn cmdline() {
        assert_eq!(
            parse_cmdline(b"/usr/sbin/sshd\0-D\0"),
            vec!["/usr/sbin/sshd", "-D"]
        );
        assert_eq!(parse_cmdline(b"a\0\0b\0"), vec!["a", "", "b"]);
        assert_eq!(parse_cmdline(b""), Vec::<String>::new());
        assert_eq!(parse_cmdline(b"\0\0\0"), Vec::<String>::new());
        assert_eq!(
            parse_cmdline(b"nginx: worker process\0\0\0\0"),
            vec!["nginx: worker process"]
        );
        // truncated (no final NUL) and invalid UTF-8
        assert_eq!(
            parse_cmdline(b"python3\0-m\0htt"),
            vec!["python3", "-m", "htt"]
        );
        assert_eq!(parse_cmdline(b"\xff\xfe\0x"), vec!["\u{fffd}\u{fffd}", "x"]);
    }

    #[test]
    fn netns_link() {
        assert_eq!(parse_netns_link("net:[4026531840]"), Some(4026531840));
        assert_eq!(parse_netns_link("net:[4026531840"), None);
        assert_eq!(parse_netns_link("net:[]"), None);
        assert_eq!(parse_netns_link("mnt:[4026531840]"), None);
        assert_eq!(parse_netns_link("net:[40x]"), None);
        assert_eq!(parse_netns_link("net:[99999999999999999999999]"), None);
        assert_eq!(parse_netns_link(""), None);
    }

    #[test]
    fn socket_link() {
        assert_eq!(parse_socket_link(b"socket:[123]"), Some(123));
        assert_eq!(parse_socket_link(b"socket:[123"), None);
        assert_eq!(parse_socket_link(b"socket:[]"), None);
        assert_eq!(parse_socket_link(b"pipe:[9]"), None);
        assert_eq!(parse_socket_link(b"/dev/null"), None);
        assert_eq!(parse_socket_link(b"anon_inode:[eventpoll]"), None);
    }

    #[test]
    fn fdinfo_flags() {
        let f = "pos:\t0\nflags:\t04002\nmnt_id:\t15\nino:\t1234\n";
        assert_eq!(parse_fdinfo_flags(f), Some(0o4002));
        assert_ne!(parse_fdinfo_flags(f).unwrap_or(0) & O_NONBLOCK, 0);
        assert_eq!(parse_fdinfo_flags("flags:\t02000002\n"), Some(0o2000002));
        assert_eq!(parse_fdinfo_flags("pos:\t0\nflags:"), None);
        assert_eq!(parse_fdinfo_flags("flags:\t0489\n"), None);
        assert_eq!(parse_fdinfo_flags("flags:\t-1\n"), None);
        assert_eq!(parse_fdinfo_flags("flags:\t777777777777777\n"), None);
        assert_eq!(parse_fdinfo_flags("pos:\t0\n"), None);
        assert_eq!(parse_fdinfo_flags(""), None);
    }

    #[cfg(any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64"
    ))]
    #[test]
    fn o_nonblock_value() {
        assert_eq!(O_NONBLOCK, 0o4000);
    }

    #[test]
    fn netstat_tcpext() {
        let c = parse_netstat_tcpext(NETSTAT);
        assert_eq!(
            c,
            TcpExtCounters {
                listen_overflows: Some(20),
                listen_drops: Some(21),
                req_q_full_drop: Some(4),
                req_q_full_do_cookies: Some(3),
                defer_accept_drop: Some(5),
            }
        );
        // missing counter
        let c = parse_netstat_tcpext("TcpExt: ListenOverflows\nTcpExt: 7\n");
        assert_eq!(c.listen_overflows, Some(7));
        assert_eq!(c.listen_drops, None);
        // mismatched columns: pair ignored
        let c = parse_netstat_tcpext("TcpExt: ListenOverflows ListenDrops\nTcpExt: 7\n");
        assert_eq!(c, TcpExtCounters::default());
        // truncated: header only, or values cut mid-line
        assert_eq!(
            parse_netstat_tcpext("TcpExt: ListenOverflows ListenDrops\n"),
            TcpExtCounters::default()
        );
        let c = parse_netstat_tcpext("TcpExt: ListenOverflows ListenDrops\nTcpExt: 7 8x\n");
        assert_eq!(c.listen_overflows, Some(7));
        assert_eq!(c.listen_drops, None);
        // out of step: a stray line before the pair
        let c = parse_netstat_tcpext("IpExt: A\nTcpExt: ListenDrops\nTcpExt: 9\n");
        assert_eq!(c.listen_drops, Some(9));
        assert_eq!(parse_netstat_tcpext(""), TcpExtCounters::default());
        assert_eq!(parse_netstat_tcpext(":\n:\n"), TcpExtCounters::default());
    }

    #[test]
    fn sysctl_values() {
        assert_eq!(parse_sysctl_value("1\n"), Some(1));
        assert_eq!(parse_sysctl_value("-1\n"), Some(-1));
        assert_eq!(parse_sysctl_value("4096"), Some(4096));
        assert_eq!(parse_sysctl_value(""), None);
        assert_eq!(parse_sysctl_value("1 2\n"), None);
        assert_eq!(parse_sysctl_value("abc"), None);
        assert_eq!(parse_port_range("32768\t60999\n"), Some([32768, 60999]));
        assert_eq!(parse_port_range("1024 65535"), Some([1024, 65535]));
        assert_eq!(parse_port_range("32768\t"), None);
        assert_eq!(parse_port_range("32768\t60999\t1\n"), None);
        assert_eq!(parse_port_range("-1\t2\n"), None);
        assert_eq!(parse_port_range(""), None);
    }

    #[test]
    fn dec_parsers() {
        assert_eq!(parse_dec_u32(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_dec_u32(b"4294967296"), None);
        assert_eq!(parse_dec_u32(b""), None);
        assert_eq!(parse_dec_u32(b"."), None);
        assert_eq!(parse_dec_u32(b"+1"), None);
    }

    #[test]
    fn stat_state() {
        assert_eq!(parse_stat_state(b"1 (systemd) S 0 1 1"), Some(b'S'));
        assert_eq!(parse_stat_state(b"300 (py) Z (x) Z 1"), Some(b'Z'));
        assert_eq!(parse_stat_state(b"300 (a) R (b) S 1"), Some(b'S'));
        assert_eq!(parse_stat_state(b"7 (kworker/0:1-events) I 2"), Some(b'I'));
        // truncated or malformed
        assert_eq!(parse_stat_state(b"300 (py"), None);
        assert_eq!(parse_stat_state(b"300 (py)"), None);
        assert_eq!(parse_stat_state(b"300 (py) "), None);
        assert_eq!(parse_stat_state(b"300 (py)Z"), None);
        assert_eq!(parse_stat_state(b"300 (py) 1 2"), None);
        assert_eq!(parse_stat_state(b""), None);
    }

    #[test]
    fn cap_eff() {
        assert_eq!(
            parse_cap_eff("Name:\tx\nCapEff:\t000001fffeffffff\n"),
            Some(0x1fffeffffff)
        );
        assert_eq!(parse_cap_eff("CapEff:\t\n"), None);
        assert_eq!(parse_cap_eff("CapEff:\tzz\n"), None);
        assert_eq!(parse_cap_eff(""), None);
    }

    #[test]
    fn stat_flags() {
        let kthreadd = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 4 0 0";
        assert_eq!(parse_stat_flags(kthreadd), Some(2129984));
        assert_ne!(2129984 & PF_KTHREAD, 0);
        let odd = "77 (a) b (c) S 1 77 77 0 -1 4194560 5 0";
        assert_eq!(parse_stat_flags(odd), Some(4194560));
        assert_eq!(parse_stat_flags(odd).unwrap_or(0) & PF_KTHREAD, 0);
        assert_eq!(parse_stat_flags("2 (x) S 0 0"), None);
        assert_eq!(parse_stat_flags(""), None);
        assert_eq!(parse_stat_flags("2 (x) S 0 0 0 0 -1 zz"), None);
    }
}
