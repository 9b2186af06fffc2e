//! The what-if prompt's language, as `bindscope can-bind` takes it:
//! `tcp|udp ADDR:PORT [--reuseaddr] [--reuseport] [--v6only] [--freebind] [--transparent]
//! [--device IF] [--user NAME|UID] [--listen] [--netns NAME|ID]`.

use crate::analyze::whatif::{BindRequest, EndpointError, parse_endpoint};
use crate::model::{NetnsId, Proto, Snapshot};
use crate::text::clean;

/// Where and as whom a request is asked when the prompt does not say.
pub struct Defaults {
    pub netns: Option<NetnsId>,
    pub uid: u32,
}

const FLAGS: &str = "--reuseaddr, --reuseport, --v6only, --freebind, --transparent, --device IF, --user NAME|UID, --listen, --netns NAME|ID";

/// The prompt's hint line. A test checks it names every flag of [`FLAGS`] (it once lacked
/// `--transparent`).
pub const USAGE: &str = "tcp|udp ADDR:PORT [--reuseaddr] [--reuseport] [--v6only] [--freebind] [--transparent] [--device IF] [--user U] [--listen] [--netns NS]";

/// Why a prompt is not a request. The prompt shows the message (user text in it cleaned).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptError {
    #[error("type: tcp|udp ADDR:PORT [options]")]
    Empty,
    #[error("'{}': start with tcp or udp", clean(.0))]
    NotAProtocol(String),
    #[error("expected ADDR:PORT after the protocol, as in 0.0.0.0:8080 or [::]:8080")]
    NoEndpoint,
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// A flag that takes a value, given none (`--device`, `--device=`).
    #[error("{0} needs a value")]
    NeedsValue(&'static str),
    /// A switch given a value (`--reuseaddr=no`).
    #[error("'{0}' takes no value")]
    TakesNoValue(&'static str),
    #[error("unknown option '{}': {FLAGS}", clean(.0))]
    UnknownOption(String),
    #[error("unknown user '{}': give a uid, or a user seen in this snapshot", clean(.0))]
    UnknownUser(String),
    /// `known`: the snapshot's namespaces, by name or else by id.
    #[error("unknown namespace '{}': one of {}", clean(.name), cleaned(.known))]
    UnknownNetns { name: String, known: Vec<String> },
    #[error("the snapshot has no network namespace to ask in")]
    NoNamespace,
}

/// Names from the snapshot, which may be a file from anywhere.
fn cleaned(names: &[String]) -> String {
    names
        .iter()
        .map(|n| clean(n).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The prompt shows errors as text.
impl From<PromptError> for String {
    fn from(e: PromptError) -> String {
        e.to_string()
    }
}

/// A uid by number, or by a user name the snapshot knows (socket users and holders): the
/// app never reads /etc/passwd, so a snapshot file from another host works the same.
fn resolve_user(snap: &Snapshot, text: &str) -> Result<u32, PromptError> {
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
    Err(PromptError::UnknownUser(text.to_string()))
}

fn resolve_netns(snap: &Snapshot, text: &str) -> Result<NetnsId, PromptError> {
    snap.netns
        .iter()
        .find(|n| n.name.as_deref() == Some(text) || n.id.0.to_string() == text)
        .map(|n| n.id)
        .ok_or_else(|| PromptError::UnknownNetns {
            name: text.to_string(),
            known: snap
                .netns
                .iter()
                .map(|n| n.name.clone().unwrap_or_else(|| n.id.to_string()))
                .collect(),
        })
}

/// Parses the prompt into a request and the namespace to ask in.
pub fn parse(
    input: &str,
    snap: &Snapshot,
    defaults: &Defaults,
) -> Result<(BindRequest, NetnsId), PromptError> {
    let mut words = input.split_whitespace();
    let proto = match words.next().map(str::to_ascii_lowercase).as_deref() {
        Some("tcp") => Proto::Tcp,
        Some("udp") => Proto::Udp,
        Some(other) => return Err(PromptError::NotAProtocol(other.to_string())),
        None => return Err(PromptError::Empty),
    };
    let endpoint = words.next().ok_or(PromptError::NoEndpoint)?;
    let (addr, scope_device, port) = parse_endpoint(endpoint)?;
    let mut req = BindRequest {
        history_complete: false,
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
        let mut value = |name: &'static str| -> Result<String, PromptError> {
            match &inline {
                // `--device=` says nothing, as `--device` alone does.
                Some(v) if v.is_empty() => Err(PromptError::NeedsValue(name)),
                Some(v) => Ok(v.clone()),
                None => words
                    .next()
                    .map(str::to_string)
                    .ok_or(PromptError::NeedsValue(name)),
            }
        };
        // A switch with `=` (`--reuseaddr=no`) would otherwise turn on what it seems to
        // turn off.
        let switch = |name: &'static str| match &inline {
            Some(_) => Err(PromptError::TakesNoValue(name)),
            None => Ok(true),
        };
        match flag {
            "--reuseaddr" => req.reuseaddr = switch("--reuseaddr")?,
            "--reuseport" => req.reuseport = switch("--reuseport")?,
            "--v6only" => req.v6only = Some(switch("--v6only")?),
            "--no-v6only" => req.v6only = Some(!switch("--no-v6only")?),
            "--freebind" => req.freebind = switch("--freebind")?,
            "--transparent" => req.transparent = switch("--transparent")?,
            "--listen" => req.listen = switch("--listen")?,
            "--device" => req.device = Some(value("--device")?),
            "--user" => req.uid = resolve_user(snap, &value("--user")?)?,
            "--netns" => netns = Some(resolve_netns(snap, &value("--netns")?)?),
            other => return Err(PromptError::UnknownOption(other.to_string())),
        }
    }
    let netns = netns
        .or_else(|| snap.netns.iter().find(|n| n.current).map(|n| n.id))
        .or_else(|| snap.netns.first().map(|n| n.id))
        .ok_or(PromptError::NoNamespace)?;
    Ok((req, netns))
}

#[cfg(test)]
mod usage_tests {
    use super::{FLAGS, USAGE};

    #[test]
    fn the_hint_names_every_flag() {
        for flag in FLAGS.split(", ") {
            let name = flag.split(' ').next().unwrap_or(flag);
            assert!(USAGE.contains(&format!("[{name}")), "the hint lacks {name}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::whatif::EndpointErrorKind;
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
        let text = |s: &str| s.to_string();
        for (bad, want) in [
            ("", PromptError::Empty),
            ("sctp 1.2.3.4:5", PromptError::NotAProtocol(text("sctp"))),
            ("tcp", PromptError::NoEndpoint),
            (
                "tcp ::1:80",
                PromptError::Endpoint(EndpointError {
                    input: text("::1:80"),
                    kind: EndpointErrorKind::Ipv6WithoutBrackets {
                        host: text("::1"),
                        port: text("80"),
                    },
                }),
            ),
            (
                "tcp 0.0.0.0:80 --frobnicate",
                PromptError::UnknownOption(text("--frobnicate")),
            ),
            ("tcp 0.0.0.0:80 --user", PromptError::NeedsValue("--user")),
            (
                "tcp 0.0.0.0:80 --user mallory",
                PromptError::UnknownUser(text("mallory")),
            ),
        ] {
            assert_eq!(parse(bad, &snap, &d).expect_err(bad), want, "{bad}");
        }
        // An unknown namespace offers the snapshot's.
        let e = parse("tcp 0.0.0.0:80 --netns nope", &snap, &d).expect_err("nope");
        assert!(
            matches!(&e, PromptError::UnknownNetns { name, known }
                if name == "nope" && known.iter().any(|k| k == "bsdemo-db")),
            "{e:?}"
        );
    }

    #[test]
    fn switches_take_no_value_and_values_are_not_empty() {
        let snap = fixture();
        let d = Defaults {
            netns: None,
            uid: 0,
        };
        for (bad, want) in [
            // Took as --reuseaddr: on.
            (
                "tcp 0.0.0.0:80 --reuseaddr=no",
                PromptError::TakesNoValue("--reuseaddr"),
            ),
            (
                "tcp 0.0.0.0:80 --no-v6only=1",
                PromptError::TakesNoValue("--no-v6only"),
            ),
            (
                "tcp 0.0.0.0:80 --device=",
                PromptError::NeedsValue("--device"),
            ),
            ("tcp 0.0.0.0:80 --user=", PromptError::NeedsValue("--user")),
        ] {
            assert_eq!(parse(bad, &snap, &d).expect_err(bad), want, "{bad}");
        }
        let (r, _) = parse("udp [::]:53 --no-v6only --device=lo", &snap, &d).expect("ok");
        assert_eq!((r.v6only, r.device.as_deref()), (Some(false), Some("lo")));
    }

    /// The messages, word for word, as the prompt shows them.
    #[test]
    fn messages() {
        let mut snap = fixture();
        snap.netns.truncate(2);
        snap.netns[1].name = None;
        let d = Defaults {
            netns: None,
            uid: 0,
        };
        let first = snap.netns[0].name.clone().unwrap_or_default();
        let second = snap.netns[1].id;
        for (bad, says) in [
            ("", "type: tcp|udp ADDR:PORT [options]".to_string()),
            ("sctp 1.2.3.4:5", "'sctp': start with tcp or udp".into()),
            (
                "tcp",
                "expected ADDR:PORT after the protocol, as in 0.0.0.0:8080 or [::]:8080".into(),
            ),
            (
                "tcp 1.2.3.4",
                "'1.2.3.4': expected ADDRESS:PORT, as in '127.0.0.1:80' or '[::1]:80'".into(),
            ),
            ("tcp 1.2.3.4:5 --user", "--user needs a value".into()),
            (
                "tcp 1.2.3.4:5 --listen=1",
                "'--listen' takes no value".into(),
            ),
            (
                "tcp 1.2.3.4:5 --x",
                format!("unknown option '--x': {FLAGS}"),
            ),
            (
                "tcp 1.2.3.4:5 --user mallory",
                "unknown user 'mallory': give a uid, or a user seen in this snapshot".into(),
            ),
            (
                "tcp 1.2.3.4:5 --netns nope",
                format!("unknown namespace 'nope': one of {first}, {second}"),
            ),
        ] {
            assert_eq!(parse(bad, &snap, &d).expect_err(bad).to_string(), says);
        }
        snap.netns.clear();
        assert_eq!(
            parse("tcp 1.2.3.4:5", &snap, &d).expect_err("no namespace"),
            PromptError::NoNamespace
        );
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
            let e = parse(bad, &snap, &d).expect_err(bad).to_string();
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
            Err(e) => {
                let e = e.to_string();
                prop_assert_eq!(clean(&e), e.as_str());
            }
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
