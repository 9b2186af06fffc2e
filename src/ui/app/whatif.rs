//! The what-if prompt's language, as `bindscope can-bind` takes it:
//! `tcp|udp ADDR:PORT [--reuseaddr] [--reuseport] [--v6only] [--freebind] [--transparent]
//! [--device IF] [--user NAME|UID] [--listen] [--netns NAME|ID]`.

use crate::analyze::whatif::{BindRequest, parse_endpoint};
use crate::model::{NetnsId, Proto, Snapshot};

/// Where and as whom a request is asked when the prompt does not say.
pub struct Defaults {
    pub netns: Option<NetnsId>,
    pub uid: u32,
}

const FLAGS: &str = "--reuseaddr, --reuseport, --v6only, --freebind, --transparent, --device IF, --user NAME|UID, --listen, --netns NAME|ID";

/// A uid by number, or by a user name the snapshot knows (socket users and holders): the
/// app never reads /etc/passwd, so a snapshot file from another host works the same.
fn resolve_user(snap: &Snapshot, text: &str) -> Result<u32, String> {
    if let Ok(uid) = text.parse::<u32>() {
        return Ok(uid);
    }
    for s in &snap.sockets {
        if s.user.as_deref() == Some(text) {
            return Ok(s.uid);
        }
        if let Some(h) = s.holders.iter().find(|h| h.user.as_deref() == Some(text)) {
            return Ok(h.uid);
        }
    }
    Err(format!(
        "unknown user '{text}': give a uid, or a user seen in this snapshot"
    ))
}

fn resolve_netns(snap: &Snapshot, text: &str) -> Result<NetnsId, String> {
    snap.netns
        .iter()
        .find(|n| n.name.as_deref() == Some(text) || n.id.0.to_string() == text)
        .map(|n| n.id)
        .ok_or_else(|| {
            let names: Vec<String> = snap
                .netns
                .iter()
                .map(|n| n.name.clone().unwrap_or_else(|| n.id.to_string()))
                .collect();
            format!("unknown namespace '{text}': one of {}", names.join(", "))
        })
}

/// Parses the prompt into a request and the namespace to ask in.
pub fn parse(
    input: &str,
    snap: &Snapshot,
    defaults: &Defaults,
) -> Result<(BindRequest, NetnsId), String> {
    let mut words = input.split_whitespace();
    let proto = match words.next().map(str::to_ascii_lowercase).as_deref() {
        Some("tcp") => Proto::Tcp,
        Some("udp") => Proto::Udp,
        Some(other) => return Err(format!("'{other}': start with tcp or udp")),
        None => return Err("type: tcp|udp ADDR:PORT [options]".into()),
    };
    let endpoint = words
        .next()
        .ok_or("expected ADDR:PORT after the protocol, as in 0.0.0.0:8080 or [::]:8080")?;
    let (addr, scope_device, port) = parse_endpoint(endpoint)?;
    let mut req = BindRequest {
        proto,
        addr,
        port,
        scope_device,
        reuseaddr: false,
        reuseport: false,
        v6only: None,
        freebind: false,
        transparent: false,
        device: None,
        uid: defaults.uid,
        listen: false,
    };
    let mut netns = defaults.netns;
    while let Some(w) = words.next() {
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (w, None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => words
                    .next()
                    .map(str::to_string)
                    .ok_or(format!("{name} needs a value")),
            }
        };
        match flag {
            "--reuseaddr" => req.reuseaddr = true,
            "--reuseport" => req.reuseport = true,
            "--v6only" => req.v6only = Some(true),
            "--no-v6only" => req.v6only = Some(false),
            "--freebind" => req.freebind = true,
            "--transparent" => req.transparent = true,
            "--listen" => req.listen = true,
            "--device" => req.device = Some(value("--device")?),
            "--user" => req.uid = resolve_user(snap, &value("--user")?)?,
            "--netns" => netns = Some(resolve_netns(snap, &value("--netns")?)?),
            other => return Err(format!("unknown option '{other}': {FLAGS}")),
        }
    }
    let netns = netns
        .or_else(|| snap.netns.iter().find(|n| n.current).map(|n| n.id))
        .or_else(|| snap.netns.first().map(|n| n.id))
        .ok_or("the snapshot has no network namespace to ask in")?;
    Ok((req, netns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::tests::fixture;

    #[test]
    fn requests() {
        let snap = fixture();
        let d = Defaults {
            netns: None,
            uid: 0,
        };
        let (r, ns) = parse(
            "tcp 0.0.0.0:8080 --reuseport --user 1001 --listen",
            &snap,
            &d,
        )
        .expect("ok");
        assert_eq!((r.proto, r.port, r.uid), (Proto::Tcp, 8080, 1001));
        assert!(r.reuseport && r.listen && !r.reuseaddr);
        assert_eq!(ns, snap.netns[0].id, "no current namespace: the first");
        let (r, ns) = parse(
            "udp [::]:5353 --user=nobody --netns bsdemo-web --device lo",
            &snap,
            &d,
        )
        .expect("ok");
        assert_eq!((r.uid, r.device.as_deref()), (65534, Some("lo")));
        assert_eq!(ns.0, 4026532245);
        for (bad, needle) in [
            ("", "tcp|udp"),
            ("sctp 1.2.3.4:5", "tcp or udp"),
            ("tcp", "ADDR:PORT"),
            ("tcp ::1:80", "brackets"),
            ("tcp 0.0.0.0:80 --frobnicate", "unknown option"),
            ("tcp 0.0.0.0:80 --user", "needs a value"),
            ("tcp 0.0.0.0:80 --user mallory", "unknown user"),
            ("tcp 0.0.0.0:80 --netns nope", "bsdemo-db"),
        ] {
            let e = parse(bad, &snap, &d).expect_err(bad);
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }
}
