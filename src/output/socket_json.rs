//! A socket as compact JSON, written by hand: the same bytes as [`super::json::to_writer`]
//! gives for a [`Socket`], in 70% of the time (the 55 MB of sockets of a 50,000-socket
//! snapshot: 76 ms against 108). serde_json spends most of it escaping the ~55 keys of
//! each socket one byte at a time and passing every piece through the formatter; here the
//! keys are constants, plain ASCII strings are copied at once, and everything else (an
//! enum's name, a string with a character to escape, a container) is handed to serde_json
//! as before, so escaping stays in one place ([`super::json`]).
//!
//! A field added to `Socket`, `Options` or `Holder` must be added here too: the tests
//! compare these bytes with serde's for sockets with every field set and unset.

use super::json;
use crate::model::options::Options;
use crate::model::socket::{Holder, Socket};
use crate::text::digits;
use serde::Serialize;
use std::io::{self, Write};
use std::net::IpAddr;

/// Appends `s` as compact JSON to `out`.
pub fn write(out: &mut Vec<u8>, s: &Socket) -> io::Result<()> {
    out.extend_from_slice(b"{\"id\":");
    string(out, &s.id.0)?;
    out.extend_from_slice(b",\"netns\":");
    number(out, s.netns.0);
    out.extend_from_slice(b",\"proto\":");
    serde(out, &s.proto)?;
    out.extend_from_slice(b",\"family\":");
    serde(out, &s.family)?;
    out.extend_from_slice(b",\"local_addr\":");
    ip(out, s.local_addr)?;
    out.extend_from_slice(b",\"local_port\":");
    number(out, s.local_port);
    out.extend_from_slice(b",\"remote_addr\":");
    match s.remote_addr {
        Some(a) => ip(out, a)?,
        None => null(out),
    }
    out.extend_from_slice(b",\"remote_port\":");
    optional_number(out, s.remote_port);
    out.extend_from_slice(b",\"state\":");
    serde(out, &s.state)?;
    out.extend_from_slice(b",\"uid\":");
    number(out, s.uid);
    out.extend_from_slice(b",\"user\":");
    optional_string(out, s.user.as_deref())?;
    out.extend_from_slice(b",\"inode\":");
    number(out, s.inode);
    out.extend_from_slice(b",\"device\":");
    optional_string(out, s.device.as_deref())?;
    out.extend_from_slice(b",\"scope\":");
    serde(out, &s.scope)?;
    out.extend_from_slice(b",\"address_state\":");
    serde(out, &s.address_state)?;
    out.extend_from_slice(b",\"accept_queue\":");
    match &s.accept_queue {
        Some(q) => {
            out.extend_from_slice(b"{\"len\":");
            number(out, q.len);
            out.extend_from_slice(b",\"backlog\":");
            number(out, q.backlog);
            out.push(b'}');
        }
        None => null(out),
    }
    out.extend_from_slice(b",\"syn_recv\":");
    optional_number(out, s.syn_recv);
    out.extend_from_slice(b",\"options\":");
    options(out, &s.options)?;
    out.extend_from_slice(b",\"holders\":[");
    for (i, h) in s.holders.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        holder(out, h)?;
    }
    out.extend_from_slice(b"],\"cookie\":");
    number(out, s.cookie);
    // The fields written only when set (`skip_serializing_if` in the model).
    number_if_set(out, b",\"recv_q\":", s.recv_q);
    number_if_set(out, b",\"send_q\":", s.send_q);
    string_if_set(out, b",\"holders_unknown\":", s.holders_unknown.as_deref())?;
    if s.syn_recv_shared {
        out.extend_from_slice(b",\"syn_recv_shared\":true");
    }
    number_if_set(out, b",\"cgroup_id\":", s.cgroup_id);
    string_if_set(out, b",\"host\":", s.host.as_deref())?;
    number_if_set(out, b",\"dump_pos\":", s.dump_pos);
    out.push(b'}');
    Ok(())
}

fn options(out: &mut Vec<u8>, o: &Options) -> io::Result<()> {
    out.extend_from_slice(b"{\"reuseaddr\":");
    optional_bool(out, o.reuseaddr);
    out.extend_from_slice(b",\"reuseport\":");
    optional_bool(out, o.reuseport);
    out.extend_from_slice(b",\"v6only\":");
    optional_bool(out, o.v6only);
    out.extend_from_slice(b",\"freebind\":");
    optional_bool(out, o.freebind);
    out.extend_from_slice(b",\"transparent\":");
    optional_bool(out, o.transparent);
    out.extend_from_slice(b",\"nonblocking\":");
    optional_bool(out, o.nonblocking);
    out.extend_from_slice(b",\"defer_accept\":");
    optional_number(out, o.defer_accept);
    out.extend_from_slice(b",\"fastopen\":");
    optional_number(out, o.fastopen);
    out.extend_from_slice(b",\"bind_device\":");
    optional_string(out, o.bind_device.as_deref())?;
    if !o.reasons.is_empty() {
        out.extend_from_slice(b",\"reasons\":{");
        for (i, (name, missing)) in o.reasons.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            // The key as serde writes a unit variant's name.
            serde(out, name)?;
            out.push(b':');
            string(out, missing.reason())?;
        }
        out.push(b'}');
    }
    out.push(b'}');
    Ok(())
}

fn holder(out: &mut Vec<u8>, h: &Holder) -> io::Result<()> {
    out.extend_from_slice(b"{\"pid\":");
    number(out, h.pid);
    out.extend_from_slice(b",\"fd\":");
    number(out, h.fd);
    out.extend_from_slice(b",\"name\":");
    string(out, &h.name)?;
    out.extend_from_slice(b",\"uid\":");
    number(out, h.uid);
    out.extend_from_slice(b",\"ruid\":");
    number(out, h.ruid);
    out.extend_from_slice(b",\"user\":");
    optional_string(out, h.user.as_deref())?;
    out.extend_from_slice(b",\"cmdline\":[");
    for (i, arg) in h.cmdline.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, arg)?;
    }
    out.extend_from_slice(b"],\"unit\":");
    optional_string(out, h.unit.as_deref())?;
    if let Some(c) = &h.container {
        out.extend_from_slice(b",\"container\":");
        serde(out, c)?;
    }
    out.extend_from_slice(b",\"netns\":");
    optional_number(out, h.netns.map(|n| n.0));
    number_if_set(out, b",\"ppid\":", h.ppid);
    number_if_set(out, b",\"threads\":", h.threads);
    string_if_set(out, b",\"exe\":", h.exe.as_deref())?;
    out.push(b'}');
    Ok(())
}

/// A value as [`json::to_writer`] writes it.
fn serde<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) -> io::Result<()> {
    json::write_compact(out, v)
}

/// A string: copied between quotes when every byte is printable ASCII other than `"` and
/// `\` (nothing to escape, nothing unsafe); otherwise serde_json's escaping with
/// [`json`]'s.
fn string(out: &mut Vec<u8>, s: &str) -> io::Result<()> {
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        serde(out, s)
    }
}

fn optional_string(out: &mut Vec<u8>, s: Option<&str>) -> io::Result<()> {
    match s {
        Some(s) => string(out, s),
        None => {
            null(out);
            Ok(())
        }
    }
}

/// An address as serde writes it (its `Display`, quoted; nothing in it needs escaping).
fn ip(out: &mut Vec<u8>, a: IpAddr) -> io::Result<()> {
    out.push(b'"');
    write!(out, "{a}")?;
    out.push(b'"');
    Ok(())
}

fn null(out: &mut Vec<u8>) {
    out.extend_from_slice(b"null");
}

/// `key` (with its comma and colon) and the number, or nothing when unset.
fn number_if_set(out: &mut Vec<u8>, key: &[u8], v: Option<impl Into<u64>>) {
    if let Some(n) = v {
        out.extend_from_slice(key);
        number(out, n);
    }
}

/// `key` (with its comma and colon) and the string, or nothing when unset.
fn string_if_set(out: &mut Vec<u8>, key: &[u8], v: Option<&str>) -> io::Result<()> {
    match v {
        Some(s) => {
            out.extend_from_slice(key);
            string(out, s)
        }
        None => Ok(()),
    }
}

fn optional_bool(out: &mut Vec<u8>, v: Option<bool>) {
    out.extend_from_slice(match v {
        Some(true) => b"true",
        Some(false) => b"false",
        None => b"null",
    });
}

fn optional_number(out: &mut Vec<u8>, v: Option<impl Into<u64>>) {
    match v {
        Some(n) => number(out, n),
        None => null(out),
    }
}

/// An unsigned integer in decimal, as serde_json (through `itoa`) writes it.
fn number(out: &mut Vec<u8>, n: impl Into<u64>) {
    let mut buf = [0u8; 20];
    let at = digits::at_end(&mut buf, n.into(), 10);
    out.extend_from_slice(&buf[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::container::Container;
    use crate::model::options::{Missing, OptionName};
    use crate::model::{AcceptQueue, Family, NetnsId, Proto, State};
    use proptest::prelude::*;
    use std::sync::Arc;

    fn by_hand(s: &Socket) -> String {
        let mut out = Vec::new();
        write(&mut out, s).expect("write");
        String::from_utf8(out).expect("UTF-8")
    }

    fn by_serde(s: &Socket) -> String {
        let mut out = Vec::new();
        json::to_writer(&mut out, s).expect("write");
        String::from_utf8(out).expect("UTF-8")
    }

    /// A socket with every optional field set, and strings that need escaping.
    fn full() -> Socket {
        let mut s = crate::testing::receiving("a\"b", Proto::Tcp, "::1".parse().expect("ip"), 80);
        s.remote_addr = Some("2001:db8::7".parse().expect("ip"));
        s.remote_port = Some(5555);
        s.user = Some("al\u{202e}ice".into());
        s.device = Some("eth\\0".into());
        s.accept_queue = Some(AcceptQueue {
            len: 3,
            backlog: 4096,
        });
        s.syn_recv = Some(u32::MAX);
        s.recv_q = Some(0);
        s.send_q = Some(17);
        s.holders_unknown = Some("two\nlines".into());
        s.syn_recv_shared = true;
        s.cgroup_id = Some(u64::MAX);
        s.host = Some("web-1".into());
        s.dump_pos = Some(12);
        s.options.bind_device = Some("wg0".into());
        s.options.defer_accept = Some(5);
        s.options.reasons.insert(
            OptionName::Fastopen,
            Missing::Unknown("not read: \u{9b}31m".into()),
        );
        s.options
            .reasons
            .insert(OptionName::Other, Missing::Unknown("newer".into()));
        let mut h = s.holders[0].clone();
        h.cmdline = Arc::from(vec![
            "/bin/x".to_string(),
            String::new(),
            "tab\there".into(),
        ]);
        h.container = Some(Arc::new(Container {
            runtime: crate::model::container::Runtime::Docker,
            id: "0123abcd".into(),
            name: Some("web".into()),
            image: Some("nginx:1.25".into()),
            pod: None,
        }));
        h.ppid = Some(1);
        h.threads = Some(9);
        h.exe = Some("/usr/sbin/x\u{7f}".into());
        h.netns = Some(NetnsId(4026531840));
        s.holders.push(h);
        s
    }

    /// A socket with every optional field unset.
    fn bare() -> Socket {
        let mut s = crate::testing::receiving("b", Proto::Udp, "0.0.0.0".parse().expect("ip"), 53);
        s.family = Family::Ipv4;
        s.state = State::Close;
        s.remote_addr = None;
        s.remote_port = None;
        s.user = None;
        s.device = None;
        s.accept_queue = None;
        s.syn_recv = None;
        s.recv_q = None;
        s.send_q = None;
        s.holders_unknown = None;
        s.syn_recv_shared = false;
        s.cgroup_id = None;
        s.host = None;
        s.dump_pos = None;
        s.options = Options::default();
        s.holders.clear();
        s
    }

    #[test]
    fn the_same_bytes_as_serde_with_every_field_set_and_unset() {
        for s in [
            full(),
            bare(),
            crate::testing::receiving("c", Proto::Tcp, "10.0.0.1".parse().expect("ip"), 443),
        ] {
            assert_eq!(by_hand(&s), by_serde(&s));
        }
    }

    proptest! {
        /// Any text in any string field, any numbers: the bytes serde writes.
        #[test]
        fn the_same_bytes_as_serde_for_any_text(
            texts in prop::collection::vec(any::<String>(), 8),
            numbers in prop::collection::vec(any::<u64>(), 4),
            flags in prop::collection::vec(any::<Option<bool>>(), 3),
        ) {
            let mut s = full();
            s.id.0 = texts[0].clone();
            s.user = Some(texts[1].as_str().into());
            s.device = Some(texts[2].clone());
            s.holders_unknown = Some(texts[3].as_str().into());
            s.options.bind_device = Some(texts[4].clone());
            s.options.reasons.insert(OptionName::V6only, Missing::NotApplicable(texts[5].as_str().into()));
            s.holders[0].name = texts[6].as_str().into();
            s.holders[1].cmdline = Arc::from(vec![texts[7].clone(), texts[0].clone()]);
            s.inode = numbers[0];
            s.cookie = numbers[1];
            s.netns = NetnsId(numbers[2]);
            s.uid = numbers[3] as u32;
            s.options.reuseaddr = flags[0];
            s.options.nonblocking = flags[1];
            s.options.freebind = flags[2];
            prop_assert_eq!(by_hand(&s), by_serde(&s));
        }
    }
}
