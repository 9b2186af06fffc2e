//! Endpoints as people type them: `127.0.0.1:80`, `[::1]:8080`, `[fe80::1%eth0]:8080`, for
//! `bindscope can-bind` and the dashboard's what-if prompt.

use crate::text::clean;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses `127.0.0.1:80`, `[::1]:8080` or `[fe80::1%eth0]:8080` into address, scope (the
/// `%name` of an IPv6 address) and port. IPv6 addresses must be in brackets. Errors quote
/// the text cleaned: it is user input on its way to a terminal.
pub fn parse_endpoint(s: &str) -> Result<(IpAddr, Option<String>, u16), String> {
    let s = s.trim();
    let q = clean(s);
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err(format!("'{q}': missing ']' after the IPv6 address"));
        };
        let Some(port) = after.strip_prefix(':') else {
            return Err(format!(
                "'{q}': expected ':PORT' after ']', as in '[{}]:8080'",
                clean(host)
            ));
        };
        (host, port)
    } else {
        let Some((host, port)) = s.rsplit_once(':') else {
            return Err(format!(
                "'{q}': expected ADDRESS:PORT, as in '127.0.0.1:80' or '[::1]:80'"
            ));
        };
        if host.contains(':') {
            return Err(format!(
                "'{q}': an IPv6 address must be in brackets, as in '[{}]:{}'",
                clean(host),
                clean(port)
            ));
        }
        (host, port)
    };
    let (addr_text, scope) = match host.split_once('%') {
        Some((a, sc)) => {
            if sc.is_empty() {
                return Err(format!("'{q}': empty scope after '%'"));
            }
            if !is_interface_name(sc) {
                return Err(format!(
                    "'{q}': scope '{}' cannot be an interface name: at most 15 bytes, \
                     without '/', ':', '%' or spaces",
                    clean(sc)
                ));
            }
            (a, Some(sc.to_string()))
        }
        None => (host, None),
    };
    // Digits only: `u16::from_str` would also take `+80`.
    let port: u16 = Some(port)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| {
            format!(
                "'{q}': port '{}' is not a number from 0 to 65535",
                clean(port)
            )
        })?;
    let addr: IpAddr = if s.starts_with('[') {
        addr_text
            .parse::<Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| format!("'{q}': '{}' is not an IPv6 address", clean(addr_text)))?
    } else {
        addr_text
            .parse::<Ipv4Addr>()
            .map(IpAddr::V4)
            .map_err(|_| format!("'{q}': '{}' is not an IPv4 address", clean(addr_text)))?
    };
    if scope.is_some() && addr.is_ipv4() {
        return Err(format!(
            "'{q}': a scope (%name) only applies to IPv6 addresses"
        ));
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
    use super::*;
    use proptest::prelude::*;

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
        for (bad, says) in [
            ("::1:80", "brackets"),
            ("[::1]", "':PORT'"),
            ("[::1:80", "']'"),
            ("127.0.0.1", "ADDRESS:PORT"),
            ("127.0.0.1:70000", "0 to 65535"),
            ("127.0.0.1:http", "not a number"),
            ("[127.0.0.1]:80", "not an IPv6"),
            ("localhost:80", "not an IPv4"),
            ("[fe80::1%]:80", "empty scope"),
            ("10.0.0.1%eth0:80", "only applies to IPv6"),
        ] {
            let e = parse_endpoint(bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
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
        for (bad, says) in [
            ("", "ADDRESS:PORT"),
            ("[", "']'"),
            ("[::1", "']'"),
            ("[]:80", "'' is not an IPv6"),
            ("[%]:80", "empty scope"),
            ("%:80", "empty scope"),
            ("[::1]]:80", "':PORT'"),
            ("[::1]:", "port ''"),
            ("127.0.0.1:+80", "port '+80'"),
            ("127.0.0.1:65536", "0 to 65535"),
            ("127.0.0.1:99999999999999999999999", "0 to 65535"),
            ("::ffff:1.2.3.4:80", "'[::ffff:1.2.3.4]:80'"),
            ("[fe80::1%aaaaaaaaaaaaaaaa]:80", "at most 15 bytes"),
            ("[fe80::1%ééééééééé]:80", "at most 15 bytes"),
            ("[fe80::1%a/b]:80", "cannot be an interface name"),
            ("[fe80::1%a:b]:80", "cannot be an interface name"),
            ("[fe80::1%a b]:80", "cannot be an interface name"),
            ("[fe80::1%..]:80", "cannot be an interface name"),
            ("[fe80::1%eth0%1]:80", "cannot be an interface name"),
        ] {
            let e = parse_endpoint(bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
        let e = parse_endpoint("\u{1b}[2J1.2.3.4:80").expect_err("escape");
        assert!(!e.contains('\u{1b}') && e.contains("\\x1b[2J"), "{e}");
        // The kernel takes any bytes but a few in a name, so this scope is fine; the error
        // about the port quotes it cleaned.
        let e = parse_endpoint("[fe80::1%\u{202e}x]:8o").expect_err("bidi");
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
            Err(e) => prop_assert_eq!(clean(&e), e.as_str()),
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
