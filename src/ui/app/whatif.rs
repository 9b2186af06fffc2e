//! The what-if prompt's language, as `bindscope can-bind` takes it:
//! `tcp|udp ADDR:PORT [--reuseaddr] [--reuseport] [--v6only] [--freebind] [--transparent]
//! [--device IF] [--user NAME|UID] [--listen] [--netns NAME|ID]`.

use crate::analyze::whatif::{BindRequest, parse_endpoint};
use crate::model::{NetnsId, Proto, Snapshot};
use crate::text::clean;

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
        "unknown user '{}': give a uid, or a user seen in this snapshot",
        clean(text)
    ))
}

fn resolve_netns(snap: &Snapshot, text: &str) -> Result<NetnsId, String> {
    snap.netns
        .iter()
        .find(|n| n.name.as_deref() == Some(text) || n.id.0.to_string() == text)
        .map(|n| n.id)
        .ok_or_else(|| {
            // Names come from the snapshot, which may be a file from anywhere.
            let names: Vec<String> = snap
                .netns
                .iter()
                .map(|n| {
                    n.name
                        .as_deref()
                        .map_or_else(|| n.id.to_string(), |s| clean(s).into_owned())
                })
                .collect();
            format!(
                "unknown namespace '{}': one of {}",
                clean(text),
                names.join(", ")
            )
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
        Some(other) => return Err(format!("'{}': start with tcp or udp", clean(other))),
        None => return Err("type: tcp|udp ADDR:PORT [options]".into()),
    };
    let endpoint = words
        .next()
        .ok_or("expected ADDR:PORT after the protocol, as in 0.0.0.0:8080 or [::]:8080")?;
    let (addr, scope_device, port) = parse_endpoint(endpoint).map_err(|e| e.to_string())?;
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
                // `--device=` says nothing, as `--device` alone does.
                Some(v) if v.is_empty() => Err(format!("{name} needs a value")),
                Some(v) => Ok(v.clone()),
                None => words
                    .next()
                    .map(str::to_string)
                    .ok_or(format!("{name} needs a value")),
            }
        };
        // A switch with `=` (`--reuseaddr=no`) would otherwise turn on what it seems to
        // turn off.
        let switch = || match &inline {
            Some(_) => Err(format!("'{flag}' takes no value")),
            None => Ok(true),
        };
        match flag {
            "--reuseaddr" => req.reuseaddr = switch()?,
            "--reuseport" => req.reuseport = switch()?,
            "--v6only" => req.v6only = Some(switch()?),
            "--no-v6only" => req.v6only = Some(!switch()?),
            "--freebind" => req.freebind = switch()?,
            "--transparent" => req.transparent = switch()?,
            "--listen" => req.listen = switch()?,
            "--device" => req.device = Some(value("--device")?),
            "--user" => req.uid = resolve_user(snap, &value("--user")?)?,
            "--netns" => netns = Some(resolve_netns(snap, &value("--netns")?)?),
            other => return Err(format!("unknown option '{}': {FLAGS}", clean(other))),
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
    use proptest::prelude::*;

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

    #[test]
    fn switches_take_no_value_and_values_are_not_empty() {
        let snap = fixture();
        let d = Defaults {
            netns: None,
            uid: 0,
        };
        for (bad, needle) in [
            // Took as --reuseaddr: on.
            (
                "tcp 0.0.0.0:80 --reuseaddr=no",
                "'--reuseaddr' takes no value",
            ),
            (
                "tcp 0.0.0.0:80 --no-v6only=1",
                "'--no-v6only' takes no value",
            ),
            ("tcp 0.0.0.0:80 --device=", "--device needs a value"),
            ("tcp 0.0.0.0:80 --user=", "--user needs a value"),
        ] {
            let e = parse(bad, &snap, &d).expect_err(bad);
            assert!(e.contains(needle), "{bad}: {e}");
        }
        let (r, _) = parse("udp [::]:53 --no-v6only --device=lo", &snap, &d).expect("ok");
        assert_eq!((r.v6only, r.device.as_deref()), (Some(false), Some("lo")));
    }

    #[test]
    fn errors_show_user_text_cleaned() {
        let mut snap = fixture();
        snap.netns[0].name = Some("evil\u{1b}[2J".into());
        let d = Defaults {
            netns: None,
            uid: 0,
        };
        for bad in [
            "sctp\u{1b}[2J 1.2.3.4:5",
            "tcp 1.2.3.4:5\u{1b}",
            "tcp 1.2.3.4:5 --user \u{202e}x",
            "tcp 1.2.3.4:5 --netns \u{1b}",
            "tcp 1.2.3.4:5 --\u{1b}",
        ] {
            let e = parse(bad, &snap, &d).expect_err(bad);
            assert_eq!(clean(&e), e, "{bad:?}");
        }
    }

    fn snap() -> &'static Snapshot {
        static SNAP: std::sync::OnceLock<Snapshot> = std::sync::OnceLock::new();
        SNAP.get_or_init(fixture)
    }

    /// Never a panic. A request asks in one of the snapshot's namespaces, about the endpoint
    /// the prompt names; an error shows nothing the sanitizer would escape.
    fn check_prompt(input: &str) -> Result<(), TestCaseError> {
        let snap = snap();
        let d = Defaults {
            netns: None,
            uid: 7,
        };
        match parse(input, snap, &d) {
            Ok((req, ns)) => {
                prop_assert!(snap.netns.iter().any(|n| n.id == ns));
                let mut words = input.split_whitespace();
                let proto = words.next().map(str::to_ascii_lowercase);
                let want = if req.proto == Proto::Tcp {
                    "tcp"
                } else {
                    "udp"
                };
                prop_assert_eq!(proto.as_deref(), Some(want));
                let endpoint = words.next().map(parse_endpoint);
                prop_assert_eq!(endpoint, Some(Ok((req.addr, req.scope_device, req.port))));
            }
            Err(e) => prop_assert_eq!(clean(&e), e.as_str()),
        }
        Ok(())
    }

    /// A prompt as people type it, with near misses in every word.
    fn near_prompt() -> impl Strategy<Value = String> {
        let proto = prop::sample::select(vec!["tcp", "UDP", "Tcp", "sctp", ""]);
        let endpoint = prop_oneof![
            prop::sample::select(vec![
                "0.0.0.0:8080",
                "[::]:53",
                "[fe80::1%lo]:1",
                "[::ffff:1.2.3.4]:80",
                "1.2.3.4:65536",
                "[",
                "[::1",
                "[::1%]:1",
                "%",
            ])
            .prop_map(String::from),
            "\\[?[0-9a-f:.%]{0,10}\\]?:[0-9]{0,6}",
        ];
        let flag = prop_oneof![
            prop::sample::select(vec![
                "--reuseaddr",
                "--reuseport",
                "--v6only",
                "--no-v6only",
                "--freebind",
                "--transparent",
                "--listen",
                "--device",
                "--device=eth0",
                "--device=",
                "--user",
                "--user=nobody",
                "--user=4294967296",
                "--netns",
                "--netns=bsdemo-db",
                "--netns=4026532245",
                "--listen=",
                "=",
                "--",
            ])
            .prop_map(String::from),
            "\\PC{0,6}",
        ];
        (proto, endpoint, prop::collection::vec(flag, 0..4)).prop_map(|(p, e, flags)| {
            let mut words = vec![p.to_string(), e];
            words.extend(flags);
            words.join(" ")
        })
    }

    proptest! {
        #![proptest_config(crate::testing::props(512))]

        #[test]
        fn any_prompt_is_a_request_or_an_error(input in any::<String>()) {
            check_prompt(&input)?;
        }

        #[test]
        fn near_valid_prompts(input in near_prompt()) {
            check_prompt(&input)?;
        }
    }
}
