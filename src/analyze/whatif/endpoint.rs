//! Endpoints as people type them: `127.0.0.1:80`, `[::1]:8080`, `[fe80::1%eth0]:8080`, for
//! `bindscope can-bind` and the dashboard's what-if prompt.

use crate::text::clean;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a text is not an endpoint. `input` is the text as typed (trimmed); the message quotes
/// it and every piece of it cleaned: it is user input on its way to a terminal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{}': {kind}", clean(.input))]
pub struct EndpointError {
    pub input: String,
    pub kind: EndpointErrorKind,
}

/// What is wrong with an endpoint; the fields are the offending pieces of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointErrorKind {
    #[error("missing ']' after the IPv6 address")]
    UnclosedBracket,
    #[error("expected ':PORT' after ']', as in '[{}]:8080'", clean(.host))]
    NoPortAfterBracket { host: String },
    #[error("expected ADDRESS:PORT, as in '127.0.0.1:80' or '[::1]:80'")]
    NoPort,
    #[error("an IPv6 address must be in brackets, as in '[{}]:{}'", clean(.host), clean(.port))]
    Ipv6WithoutBrackets { host: String, port: String },
    #[error("empty scope after '%'")]
    EmptyScope,
    #[error(
        "scope '{}' cannot be an interface name: at most 15 bytes, without '/', ':', '%' or spaces",
        clean(.scope)
    )]
    NotAnInterfaceName { scope: String },
    #[error("port '{}' is not a number from 0 to 65535", clean(.port))]
    BadPort { port: String },
    #[error("'{}' is not an IPv6 address", clean(.text))]
    NotIpv6 { text: String },
    #[error("'{}' is not an IPv4 address", clean(.text))]
    NotIpv4 { text: String },
    #[error("a scope (%name) only applies to IPv6 addresses")]
    ScopeOnIpv4,
}

/// Parses `127.0.0.1:80`, `[::1]:8080` or `[fe80::1%eth0]:8080` into address, scope (the
/// `%name` of an IPv6 address) and port. IPv6 addresses must be in brackets.
pub fn parse_endpoint(s: &str) -> Result<(IpAddr, Option<String>, u16), EndpointError> {
    use EndpointErrorKind::*;
    let s = s.trim();
    let fail = |kind| EndpointError {
        input: s.to_string(),
        kind,
    };
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err(fail(UnclosedBracket));
        };
        let Some(port) = after.strip_prefix(':') else {
            return Err(fail(NoPortAfterBracket { host: host.into() }));
        };
        (host, port)
    } else {
        let Some((host, port)) = s.rsplit_once(':') else {
            return Err(fail(NoPort));
        };
        if host.contains(':') {
            return Err(fail(Ipv6WithoutBrackets {
                host: host.into(),
                port: port.into(),
            }));
        }
        (host, port)
    };
    let (addr_text, scope) = match host.split_once('%') {
        Some((a, sc)) => {
            if sc.is_empty() {
                return Err(fail(EmptyScope));
            }
            if !is_interface_name(sc) {
                return Err(fail(NotAnInterfaceName { scope: sc.into() }));
            }
            (a, Some(sc.to_string()))
        }
        None => (host, None),
    };
    // Digits only: `u16::from_str` would also take `+80`.
    let port: u16 = Some(port)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| fail(BadPort { port: port.into() }))?;
    let addr: IpAddr = if s.starts_with('[') {
        addr_text.parse::<Ipv6Addr>().map(IpAddr::V6).map_err(|_| {
            fail(NotIpv6 {
                text: addr_text.into(),
            })
        })?
    } else {
        addr_text.parse::<Ipv4Addr>().map(IpAddr::V4).map_err(|_| {
            fail(NotIpv4 {
                text: addr_text.into(),
            })
        })?
    };
    if scope.is_some() && addr.is_ipv4() {
        return Err(fail(ScopeOnIpv4));
    }
    Ok((addr, scope, port))
}

/// Whether an interface can have this name (`dev_valid_name()`): not empty, shorter than
/// IFNAMSIZ (16, with the NUL), not `.` or `..`, and no `/`, `:` or whitespace (C
/// `isspace`); nor a NUL, where the kernel's string would end, nor `%`, which makes the name
/// a `%d` template (`dev_prep_valid_name()`). Any other name cannot be turned into a
/// `sin6_scope_id` (if_nametoindex(3) fails), so no bind could use it.
fn is_interface_name(name: &str) -> bool {
    const IFNAMSIZ: usize = 16;
    !name.is_empty()
        && name.len() < IFNAMSIZ
        && name != "."
        && name != ".."
        && !name.bytes().any(|b| {
            matches!(
                b,
                b'/' | b':' | b'%' | b'\0' | b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'
            )
        })
}

#[cfg(test)]
mod tests {
    use super::EndpointErrorKind::*;
    use super::*;
    use proptest::prelude::*;

    fn kind(s: &str) -> EndpointErrorKind {
        parse_endpoint(s).expect_err(s).kind
    }

    fn text(s: &str) -> String {
        s.to_string()
    }

    #[test]
    fn endpoints() {
        let ok = |s: &str| parse_endpoint(s).expect(s);
        assert_eq!(ok("127.0.0.1:80"), ("127.0.0.1".parse().unwrap(), None, 80));
        assert_eq!(ok("[::1]:8080"), ("::1".parse().unwrap(), None, 8080));
        assert_eq!(
            ok("[fe80::1%eth0]:8080"),
            ("fe80::1".parse().unwrap(), Some("eth0".into()), 8080)
        );
        assert_eq!(
            ok("[::ffff:10.0.0.1]:1"),
            ("::ffff:10.0.0.1".parse().unwrap(), None, 1)
        );
        assert_eq!(ok("0.0.0.0:0").2, 0);
        for (bad, want) in [
            (
                "::1:80",
                Ipv6WithoutBrackets {
                    host: text("::1"),
                    port: text("80"),
                },
            ),
            ("[::1]", NoPortAfterBracket { host: text("::1") }),
            ("[::1:80", UnclosedBracket),
            ("127.0.0.1", NoPort),
            (
                "127.0.0.1:70000",
                BadPort {
                    port: text("70000"),
                },
            ),
            ("127.0.0.1:http", BadPort { port: text("http") }),
            (
                "[127.0.0.1]:80",
                NotIpv6 {
                    text: text("127.0.0.1"),
                },
            ),
            (
                "localhost:80",
                NotIpv4 {
                    text: text("localhost"),
                },
            ),
            ("[fe80::1%]:80", EmptyScope),
            ("10.0.0.1%eth0:80", ScopeOnIpv4),
        ] {
            assert_eq!(kind(bad), want, "{bad}");
        }
    }

    /// The messages, word for word (the CLI prints them; the prompt shows them).
    #[test]
    fn messages() {
        for (bad, says) in [
            ("[::1:80", "'[::1:80': missing ']' after the IPv6 address"),
            (
                "[::1]",
                "'[::1]': expected ':PORT' after ']', as in '[::1]:8080'",
            ),
            (
                "127.0.0.1",
                "'127.0.0.1': expected ADDRESS:PORT, as in '127.0.0.1:80' or '[::1]:80'",
            ),
            (
                "::1:80",
                "'::1:80': an IPv6 address must be in brackets, as in '[::1]:80'",
            ),
            ("[fe80::1%]:80", "'[fe80::1%]:80': empty scope after '%'"),
            (
                "[fe80::1%a/b]:80",
                "'[fe80::1%a/b]:80': scope 'a/b' cannot be an interface name: at most 15 \
                 bytes, without '/', ':', '%' or spaces",
            ),
            (
                "127.0.0.1:http",
                "'127.0.0.1:http': port 'http' is not a number from 0 to 65535",
            ),
            (
                "[1.2.3.4]:80",
                "'[1.2.3.4]:80': '1.2.3.4' is not an IPv6 address",
            ),
            (
                "localhost:80",
                "'localhost:80': 'localhost' is not an IPv4 address",
            ),
            (
                "10.0.0.1%eth0:80",
                "'10.0.0.1%eth0:80': a scope (%name) only applies to IPv6 addresses",
            ),
        ] {
            assert_eq!(parse_endpoint(bad).expect_err(bad).to_string(), says);
        }
    }

    #[test]
    fn endpoint_edge_cases() {
        let ok = |s: &str| parse_endpoint(s).expect(s);
        assert_eq!(
            ok(" [::ffff:1.2.3.4]:080 "),
            ("::ffff:1.2.3.4".parse().unwrap(), None, 80)
        );
        let fifteen = "a".repeat(15);
        assert_eq!(
            ok(&format!("[fe80::1%{fifteen}]:1")).1.as_deref(),
            Some(fifteen.as_str())
        );
        assert_eq!(ok("[fe80::1%é]:1").1.as_deref(), Some("é"));
        let not_a_name = |scope: &str| NotAnInterfaceName { scope: text(scope) };
        for (bad, want) in [
            ("", NoPort),
            ("[", UnclosedBracket),
            ("[::1", UnclosedBracket),
            ("[]:80", NotIpv6 { text: text("") }),
            ("[%]:80", EmptyScope),
            ("%:80", EmptyScope),
            ("[::1]]:80", NoPortAfterBracket { host: text("::1") }),
            ("[::1]:", BadPort { port: text("") }),
            ("127.0.0.1:+80", BadPort { port: text("+80") }),
            (
                "127.0.0.1:65536",
                BadPort {
                    port: text("65536"),
                },
            ),
            (
                "127.0.0.1:99999999999999999999999",
                BadPort {
                    port: text("99999999999999999999999"),
                },
            ),
            (
                "::ffff:1.2.3.4:80",
                Ipv6WithoutBrackets {
                    host: text("::ffff:1.2.3.4"),
                    port: text("80"),
                },
            ),
            (
                "[fe80::1%aaaaaaaaaaaaaaaa]:80",
                not_a_name("aaaaaaaaaaaaaaaa"),
            ),
            ("[fe80::1%ééééééééé]:80", not_a_name("ééééééééé")),
            ("[fe80::1%a/b]:80", not_a_name("a/b")),
            ("[fe80::1%a:b]:80", not_a_name("a:b")),
            ("[fe80::1%a b]:80", not_a_name("a b")),
            ("[fe80::1%..]:80", not_a_name("..")),
            ("[fe80::1%eth0%1]:80", not_a_name("eth0%1")),
        ] {
            assert_eq!(kind(bad), want, "{bad}");
        }
        let e = parse_endpoint("\u{1b}[2J1.2.3.4:80")
            .expect_err("escape")
            .to_string();
        assert!(!e.contains('\u{1b}') && e.contains("\\x1b[2J"), "{e}");
        // The kernel takes any bytes but a few in a name, so this scope is fine; the error
        // about the port quotes it cleaned.
        let e = parse_endpoint("[fe80::1%\u{202e}x]:8o")
            .expect_err("bidi")
            .to_string();
        assert!(!e.contains('\u{202e}') && e.contains("\\u{202e}x"), "{e}");
    }

    /// How people write an endpoint, which `parse_endpoint` must read back.
    fn endpoint_text(addr: IpAddr, scope: Option<&str>, port: u16) -> String {
        match addr {
            IpAddr::V4(a) => format!("{a}:{port}"),
            IpAddr::V6(a) => match scope {
                Some(sc) => format!("[{a}%{sc}]:{port}"),
                None => format!("[{a}]:{port}"),
            },
        }
    }

    /// Never a panic; what parses prints back to itself, with a scope only on IPv6 and only
    /// one that can name an interface; an error shows nothing the sanitizer would escape.
    fn check_endpoint(s: &str) -> Result<(), TestCaseError> {
        match parse_endpoint(s) {
            Ok((addr, scope, port)) => {
                let text = endpoint_text(addr, scope.as_deref(), port);
                prop_assert_eq!(
                    parse_endpoint(&text),
                    Ok((addr, scope.clone(), port)),
                    "{:?} printed as {:?}",
                    s,
                    text
                );
                if let Some(sc) = &scope {
                    prop_assert!(addr.is_ipv6());
                    prop_assert!(is_interface_name(sc), "{:?}", sc);
                }
            }
            Err(e) => {
                let e = e.to_string();
                prop_assert_eq!(clean(&e), e.as_str());
            }
        }
        Ok(())
    }

    fn near_endpoint() -> impl Strategy<Value = String> {
        let v6 = prop_oneof![
            any::<Ipv6Addr>().prop_map(|a| a.to_string()),
            any::<Ipv4Addr>().prop_map(|a| format!("::ffff:{a}")),
            "[0-9a-f:.]{0,12}",
        ];
        let v4 = prop_oneof![
            any::<Ipv4Addr>().prop_map(|a| a.to_string()),
            "[0-9.]{0,16}",
        ];
        let port = prop_oneof![
            any::<u16>().prop_map(|p| p.to_string()),
            "[0-9]{0,24}",
            "[+-]?[0-9]{1,6}[a-z]?",
        ];
        let scope = prop_oneof![Just(String::new()), "%[a-z0-9]{0,20}", "%\\PC{0,20}", "%",];
        prop_oneof![
            (v6, scope.clone(), "\\]?:?", port.clone(), "\\PC{0,2}")
                .prop_map(|(a, sc, close, p, tail)| format!("[{a}{sc}{close}{p}{tail}")),
            (v4, scope, ":?", port, "\\PC{0,2}")
                .prop_map(|(a, sc, colon, p, tail)| format!("{a}{sc}{colon}{p}{tail}")),
        ]
    }

    proptest! {
        #![proptest_config(crate::testing::props(512))]

        #[test]
        fn any_text_is_an_endpoint_or_an_error(s in any::<String>()) {
            check_endpoint(&s)?;
        }

        #[test]
        fn near_valid_endpoints(s in near_endpoint()) {
            check_endpoint(&s)?;
        }

        #[test]
        fn every_address_and_port_round_trips(
            v4 in any::<Ipv4Addr>(),
            v6 in any::<Ipv6Addr>(),
            port: u16,
            scope in "[a-z0-9_.-]{1,15}",
        ) {
            let scope = Some(scope).filter(|s| s != "." && s != "..");
            for (addr, sc) in [(IpAddr::V4(v4), None), (IpAddr::V6(v6), None), (IpAddr::V6(v6), scope)] {
                let text = endpoint_text(addr, sc.as_deref(), port);
                prop_assert_eq!(parse_endpoint(&text), Ok((addr, sc.clone(), port)), "{}", text);
            }
        }
    }
}
