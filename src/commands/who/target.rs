//! The argument of `bindscope who`, as people type it from habit (`lsof -i :80`, `ss`
//! filters): `80`, `:80`, `udp/53`, `tcp/443`, `10.0.0.5:443`, `[::1]:8080`,
//! `udp/[fe80::1%eth0]:53`.

use crate::analyze::whatif::{EndpointError, parse_endpoint};
use crate::model::Proto;
use crate::text::clean;
use std::net::IpAddr;

/// What `who` looks for: a port, and optionally the protocol and the local address (with
/// an IPv6 scope, the interface it is reached on: `[fe80::1%eth0]:80`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub proto: Option<Proto>,
    pub addr: Option<IpAddr>,
    pub scope: Option<String>,
    pub port: u16,
}

/// Why an argument is not a target. The endpoint's own error quotes the endpoint, so it is
/// shown as it is (once).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("expected a port: 80, :80, udp/53, 10.0.0.5:443 or [::1]:8080")]
    Empty,
    #[error("'{}' is not a protocol: tcp/PORT or udp/PORT", clean(.0))]
    NotAProtocol(String),
    #[error(
        "'{}' is not a port: a number from 0 to 65535, as in 80, :80, udp/53, 10.0.0.5:443",
        clean(.0)
    )]
    BadPort(String),
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
}

/// Parses a `who` argument.
pub fn parse(arg: &str) -> Result<Target, TargetError> {
    let arg = arg.trim();
    let (proto, rest) = match arg.split_once('/') {
        Some((p, rest)) => {
            let proto = match p.to_ascii_lowercase().as_str() {
                "tcp" => Proto::Tcp,
                "udp" => Proto::Udp,
                _ => return Err(TargetError::NotAProtocol(p.to_string())),
            };
            (Some(proto), rest)
        }
        None => (None, arg),
    };
    if rest.is_empty() {
        return Err(TargetError::Empty);
    }
    // `:80` and `80`: a port alone. Anything else with a colon is ADDR:PORT, which
    // can-bind's parser reads (and explains: IPv6 in brackets, a scope, ...).
    let port_text = rest.strip_prefix(':').unwrap_or(rest);
    if !port_text.contains(':') && !rest.starts_with('[') && !port_text.contains('.') {
        return Ok(Target {
            proto,
            addr: None,
            scope: None,
            port: port(port_text)?,
        });
    }
    if !rest.contains(':') {
        // `10.0.0.5` without a port.
        return Err(TargetError::BadPort(rest.to_string()));
    }
    let (addr, scope, port) = parse_endpoint(rest)?;
    Ok(Target {
        proto,
        addr: Some(addr),
        scope,
        port,
    })
}

/// Digits only: `u16::from_str` would also take `+80`.
fn port(text: &str) -> Result<u16, TargetError> {
    Some(text)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| TargetError::BadPort(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::whatif::EndpointErrorKind;

    fn ok(proto: Option<Proto>, addr: Option<&str>, port: u16) -> Result<Target, TargetError> {
        Ok(Target {
            proto,
            addr: addr.map(|a| a.parse().unwrap()),
            scope: None,
            port,
        })
    }

    #[test]
    fn arguments() {
        use Proto::{Tcp, Udp};
        let table: Vec<(&str, Result<Target, TargetError>)> = vec![
            ("80", ok(None, None, 80)),
            (":80", ok(None, None, 80)),
            (" 80 ", ok(None, None, 80)),
            ("0", ok(None, None, 0)),
            ("65535", ok(None, None, 65535)),
            ("udp/53", ok(Some(Udp), None, 53)),
            ("tcp/443", ok(Some(Tcp), None, 443)),
            ("TCP/:443", ok(Some(Tcp), None, 443)),
            ("10.0.0.5:443", ok(None, Some("10.0.0.5"), 443)),
            ("[::1]:8080", ok(None, Some("::1"), 8080)),
            ("udp/[::]:53", ok(Some(Udp), Some("::"), 53)),
            ("tcp/127.0.0.1:22", ok(Some(Tcp), Some("127.0.0.1"), 22)),
            (
                "[fe80::1%eth0]:80",
                Ok(Target {
                    proto: None,
                    addr: Some("fe80::1".parse().unwrap()),
                    scope: Some("eth0".into()),
                    port: 80,
                }),
            ),
            ("", Err(TargetError::Empty)),
            ("tcp/", Err(TargetError::Empty)),
            ("sctp/80", Err(TargetError::NotAProtocol("sctp".into()))),
            ("65536", Err(TargetError::BadPort("65536".into()))),
            ("+80", Err(TargetError::BadPort("+80".into()))),
            ("http", Err(TargetError::BadPort("http".into()))),
            (":", Err(TargetError::BadPort("".into()))),
            ("10.0.0.5", Err(TargetError::BadPort("10.0.0.5".into()))),
        ];
        for (arg, want) in table {
            assert_eq!(parse(arg), want, "{arg:?}");
        }
        for (arg, kind) in [
            (
                "::1:80",
                EndpointErrorKind::Ipv6WithoutBrackets {
                    host: "::1".into(),
                    port: "80".into(),
                },
            ),
            ("1.2.3.4:x", EndpointErrorKind::BadPort { port: "x".into() }),
            ("[::1", EndpointErrorKind::UnclosedBracket),
            (
                "999.1.1.1:80",
                EndpointErrorKind::NotIpv4 {
                    text: "999.1.1.1".into(),
                },
            ),
        ] {
            match parse(arg) {
                Err(TargetError::Endpoint(e)) => assert_eq!(e.kind, kind, "{arg}"),
                other => panic!("{arg}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_error_quotes_the_argument_once() {
        for arg in ["127.0.0.1", "1.2.3.4:x", "::1:80", "sctp/1", "http"] {
            let msg = parse(arg).expect_err(arg).to_string();
            let quoted = msg.matches('\'').count();
            assert!(quoted <= 4, "{arg}: {msg}");
            assert!(!msg.contains(&format!("'{arg}': '{arg}'")), "{arg}: {msg}");
        }
    }
}
