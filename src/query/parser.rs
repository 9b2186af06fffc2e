//! Text to [`Filter`]: terms, keys, values and their alternatives, with an error at the
//! column where the input stops making sense.

use super::ast::{Filter, Key, Pred, ScopeSel, StateSel, Term, valid_keys};
use super::error::{FilterError, FilterErrorKind, err};
use super::lexer::{key_prefix_len, read_word};
use super::needle::Needle;
use crate::model::names::{Glob, NamePattern, PodPattern};
use crate::model::{Family, FindingKind, Proto, Scope, State};

/// Parse the query language (module docs). The empty string is the empty filter.
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    let mut terms = Vec::new();
    loop {
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        let Some(&c) = chars.get(i) else {
            break;
        };
        let negated = c == '!' || c == '-';
        if negated {
            i += 1;
            if chars.get(i).is_none_or(|c| c.is_whitespace()) {
                return Err(err(i, FilterErrorKind::DanglingNegation(c)));
            }
        }
        if let Some(n) = key_prefix_len(&chars, i) {
            let name: String = chars[i..i + n]
                .iter()
                .collect::<String>()
                .to_ascii_lowercase();
            let key = Key::from_name(&name).ok_or_else(|| {
                err(
                    i + 1,
                    FilterErrorKind::UnknownKey {
                        key: name.clone(),
                        valid: valid_keys(),
                    },
                )
            })?;
            i += n + 1;
            let mut alts = Vec::new();
            loop {
                let column = i + 1;
                let (value, at) = read_word(&chars, &mut i, true)?;
                alts.push(parse_value(key, &value, column, &at)?);
                if chars.get(i) == Some(&',') {
                    i += 1;
                } else {
                    break;
                }
            }
            terms.push(Term { negated, alts });
        } else {
            let (text, _) = read_word(&chars, &mut i, false)?;
            // `""` (a prompt mid-edit) says nothing; dropping it keeps the filter usable.
            if !text.is_empty() {
                terms.push(Term {
                    negated,
                    alts: vec![Pred::Text(Needle::new(&text))],
                });
            }
        }
    }
    Ok(Filter { terms })
}

fn parse_num<T: std::str::FromStr>(
    key: Key,
    text: &str,
    column: usize,
    what: &'static str,
) -> Result<T, FilterError> {
    // `FromStr` for integers accepts a leading `+`; a filter value should be digits only.
    if !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = text.parse()
    {
        return Ok(n);
    }
    Err(err(
        column,
        FilterErrorKind::BadNumber {
            key,
            text: text.to_string(),
            what,
        },
    ))
}

/// `column`: where the value's word starts; `at`: where each character of `value` is in the
/// input (0-based, as [`read_word`] gives them).
fn parse_value(key: Key, value: &str, column: usize, at: &[usize]) -> Result<Pred, FilterError> {
    if value.is_empty() {
        return Err(err(column, FilterErrorKind::EmptyValue { key }));
    }
    let bad = |expected: String| {
        err(
            column,
            FilterErrorKind::BadValue {
                key,
                value: value.to_string(),
                expected,
            },
        )
    };
    let lower = value.to_lowercase().replace('-', "_");
    Ok(match key {
        Key::Port => {
            const WHAT: &str = "port number (0-65535)";
            match value.split_once('-') {
                Some((a, b)) => {
                    let lo: u16 = parse_num(key, a, column, WHAT)?;
                    let b_column = at.get(a.chars().count() + 1).map_or(column, |&i| i + 1);
                    let hi: u16 = parse_num(key, b, b_column, WHAT)?;
                    if hi < lo {
                        return Err(bad(format!("a range from low to high, as in {hi}-{lo}")));
                    }
                    Pred::Port(lo, hi)
                }
                None => {
                    let p = parse_num(key, value, column, WHAT)?;
                    Pred::Port(p, p)
                }
            }
        }
        Key::Pid => Pred::Pid(parse_num(key, value, column, "process id")?),
        Key::User => Pred::User {
            name: Needle::new(value),
            uid: value
                .parse()
                .ok()
                .filter(|_| value.bytes().all(|b| b.is_ascii_digit())),
        },
        Key::Netns => Pred::Netns(NamePattern::parse(value)),
        Key::Container => Pred::Container(NamePattern::parse(value)),
        Key::Image => Pred::Image(Glob::new(value)),
        Key::Pod => Pred::Pod(PodPattern::parse(value).ok_or_else(|| {
            bad("NAMESPACE/NAME or NAME, each part a name or a glob (pod:default/web-*)".into())
        })?),
        Key::Proto => match lower.as_str() {
            "tcp" => Pred::Proto(Proto::Tcp),
            "udp" => Pred::Proto(Proto::Udp),
            _ => return Err(bad("tcp or udp".into())),
        },
        Key::Family => match lower.as_str() {
            "4" | "ipv4" | "v4" | "inet" => Pred::Family(Family::Ipv4),
            "6" | "ipv6" | "v6" | "inet6" => Pred::Family(Family::Ipv6),
            _ => return Err(bad("4, 6, ipv4 or ipv6".into())),
        },
        Key::Scope => Pred::Scope(match lower.as_str() {
            "wildcard" | "any" => ScopeSel::AnyWildcard,
            "dual" | "dual_stack" | "dual_stack_wildcard" => ScopeSel::Is(Scope::DualStackWildcard),
            "loopback" | "lo" => ScopeSel::Is(Scope::Loopback),
            "link_local" | "linklocal" => ScopeSel::Is(Scope::LinkLocal),
            "specific" => ScopeSel::Is(Scope::Specific),
            _ => {
                return Err(bad(
                    "wildcard, dual, dual_stack_wildcard, loopback, link_local or specific".into(),
                ));
            }
        }),
        Key::State => {
            if lower == "bound" {
                Pred::State(StateSel::Bound)
            } else {
                match STATES.iter().find(|s| s.name() == lower) {
                    Some(&s) => Pred::State(StateSel::Is(s)),
                    None => {
                        let names: Vec<&str> = STATES.iter().map(|s| s.name()).collect();
                        return Err(bad(format!("bound, {}", names.join(", "))));
                    }
                }
            }
        }
        Key::Finding => {
            let needle = value.to_lowercase();
            if needle == "any" {
                Pred::AnyFinding
            } else if FindingKind::ALL.iter().any(|k| k.name().contains(&needle)) {
                Pred::Finding(Needle::new(&needle))
            } else {
                let names: Vec<&str> = FindingKind::ALL.iter().map(FindingKind::name).collect();
                return Err(bad(format!("any, or part of one of {}", names.join(", "))));
            }
        }
        Key::Addr => {
            // `[::1]` as people write IPv6 with a port; the address text has no brackets.
            let text = value.trim_start_matches('[').trim_end_matches(']');
            if text.is_empty() {
                return Err(err(column, FilterErrorKind::EmptyValue { key }));
            }
            Pred::Addr(Needle::new(text))
        }
        Key::Unit => Pred::Unit(Needle::new(value)),
        Key::Host => Pred::Host(Needle::new(value)),
        Key::Mark if lower == "any" => Pred::AnyMark,
        Key::Mark => Pred::Mark(Needle::new(value)),
    })
}

/// The states `state:` accepts by name, in kernel order.
const STATES: [State; 14] = [
    State::Established,
    State::SynSent,
    State::SynRecv,
    State::FinWait1,
    State::FinWait2,
    State::TimeWait,
    State::Close,
    State::CloseWait,
    State::LastAck,
    State::Listen,
    State::Closing,
    State::NewSynRecv,
    State::BoundInactive,
    State::Unknown,
];
