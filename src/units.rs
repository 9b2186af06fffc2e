//! Durations people type (`--interval`, `--duration`, `refresh` in the config): `1s`,
//! `500ms`, `2m`, `1h 30m`, or a bare number of seconds. Parsed without panicking on any text.
//!
//! A leaf module. Its messages do not quote what was typed: clap's "invalid value '5x' for
//! '--interval'" already does, and the config points at the value's line and column.

/// The longest interval or duration: 100 years (humantime's `100y`). Callers add it to an
/// `Instant` (the next sample, the end of a recording), which panics on overflow; nobody
/// means more, so a longer value is refused here rather than checked at every use.
const MAX_INTERVAL: std::time::Duration = std::time::Duration::from_secs(100 * 31_557_600);

/// `1s`, `500ms`, `2m`, or a bare number of seconds; at least 10ms, at most 100 years.
pub fn parse_interval(s: &str) -> Result<std::time::Duration, String> {
    let d = match s.parse::<f64>() {
        // `try_from`: `Duration::from_secs_f64` panics on values it cannot hold (`1e300`,
        // `18446744073709551616`); the error is the same "too long" as below.
        Ok(secs) if secs.is_finite() && secs >= 0.0 => {
            std::time::Duration::try_from_secs_f64(secs).unwrap_or(std::time::Duration::MAX)
        }
        Ok(_) => return Err("not a duration: 1s, 500ms, 2m".to_string()),
        Err(_) => humantime_duration(s)?,
    };
    if d < std::time::Duration::from_millis(10) {
        return Err("too short: at least 10ms".to_string());
    }
    if d > MAX_INTERVAL {
        return Err("too long: at most 100y".to_string());
    }
    Ok(d)
}

/// humantime's `parse_duration`, one term (`1h`, `30m`, `2.5s`) at a time, summed here.
/// Whole, humantime carries nanoseconds into seconds unchecked when a sum reaches
/// `u64::MAX` seconds, and `Duration::new` panics (`18446744073709551615s 500ms 500ms`); a
/// single term cannot get there (its checked multiply fails first), so the terms are split
/// where humantime starts a new one (a digit or whitespace right after a unit's letters)
/// and added with `checked_add`. Error positions are characters, not humantime's bytes.
fn humantime_duration(s: &str) -> Result<std::time::Duration, String> {
    use humantime::DurationError as E;
    let is_unit_letter = |c: char| c.is_ascii_alphabetic() || c == 'µ';
    let mut total = std::time::Duration::ZERO;
    let mut start = 0;
    let mut prev: Option<char> = None;
    let mut ends: Vec<usize> = s
        .char_indices()
        .filter_map(|(i, c)| {
            let boundary =
                (c.is_ascii_digit() || c.is_whitespace()) && prev.is_some_and(is_unit_letter);
            prev = Some(c);
            boundary.then_some(i)
        })
        .collect();
    ends.push(s.len());
    for end in ends {
        let term = s.get(start..end).unwrap_or_default();
        let parsed = if start > 0 && term.trim().is_empty() {
            // Whitespace after the last unit: humantime ends there too.
            Ok(std::time::Duration::ZERO)
        } else if term == "0" && start > 0 {
            // humantime takes a whole "0" as zero, but a trailing `0` after a unit
            // (`1s0`) is a number without its unit.
            Err(E::UnknownUnit {
                start: 0,
                end: 0,
                unit: String::new(),
                value: 0,
            })
        } else {
            humantime::parse_duration(term)
        };
        let d = parsed.map_err(|e| match e {
            E::InvalidCharacter(at) => format!(
                "invalid character at character {}",
                char_position(s, start + at)
            ),
            E::NumberExpected(at) => format!(
                "expected a number at character {}",
                char_position(s, start + at)
            ),
            other => crate::text::clean(&other.to_string()).into_owned(),
        })?;
        total = total
            .checked_add(d)
            .ok_or_else(|| E::NumberOverflow.to_string())?;
        start = end;
    }
    Ok(total)
}

/// The 1-based character position of a byte offset into `s` (humantime reports bytes).
fn char_position(s: &str, byte: usize) -> usize {
    s.char_indices().take_while(|&(i, _)| i < byte).count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_interval("0.25"), Ok(Duration::from_millis(250)));
        assert!(parse_interval("1ms").is_err());
        assert!(parse_interval("soon").is_err());
        assert!(parse_interval("-1").is_err());
    }

    #[test]
    fn huge_intervals_are_errors_not_panics() {
        // Each of these panicked: `Duration::from_secs_f64` on the numbers, humantime's
        // unchecked carry on the sums that reach u64::MAX seconds.
        for s in [
            "1e300",
            "18446744073709551616",
            "1e20",
            "18446744073709551615s 500ms 500ms",
            "18446744073709551615s500ms500ms",
            "18446744073709551615s 1000000000ns",
        ] {
            let e = parse_interval(s).expect_err(s);
            assert!(
                e.contains("too long") || e.contains("too large"),
                "{s}: {e}"
            );
        }
        assert_eq!(
            humantime_whole("18446744073709551615s 500ms 500ms"),
            None,
            "humantime itself still panics on this sum"
        );
        assert_eq!(
            parse_interval("100y"),
            Ok(Duration::from_secs(100 * 31_557_600))
        );
        assert!(
            parse_interval("101y")
                .expect_err("101y")
                .contains("at most 100y")
        );
        assert!(parse_interval("3155760001").is_err());
    }

    #[test]
    fn humantime_terms_sum_as_humantime_does() {
        assert_eq!(parse_interval("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_interval("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_interval("1s 500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_interval("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_interval("2 s "), Ok(Duration::from_secs(2)));
        assert_eq!(
            parse_interval("250µs 20ms"),
            Ok(Duration::from_micros(20_250))
        );
        assert!(
            parse_interval("1s0").is_err(),
            "a trailing number needs a unit"
        );
        assert!(parse_interval("1s 2").is_err());
        assert!(parse_interval("1s m").is_err());
    }

    #[test]
    fn interval_errors_are_clean_and_count_characters() {
        // The message does not repeat the input (clap quotes it before the message), and
        // what it quotes of it is cleaned.
        let e = parse_interval("1\u{1b}[2Js").expect_err("escape");
        assert!(!e.contains('\u{1b}'), "{e}");
        let e = parse_interval("5x\u{1b}").expect_err("escape");
        assert!(!e.contains('\u{1b}') && !e.contains("'5x"), "{e}");
        // humantime reports the byte offset 3; the é before it is one character.
        assert_eq!(
            parse_interval("é1s").expect_err("é"),
            "expected a number at character 1"
        );
        assert_eq!(
            parse_interval("2éé!s").expect_err("é"),
            "invalid character at character 2"
        );
        assert_eq!(
            parse_interval("1s 2ñ").expect_err("ñ"),
            "invalid character at character 5"
        );
    }

    /// humantime on the whole text, `None` where it panics.
    fn humantime_whole(s: &str) -> Option<Result<Duration, ()>> {
        std::panic::catch_unwind(|| humantime::parse_duration(s).map_err(|_| ())).ok()
    }

    /// Never a panic; an accepted value is within the bounds; text that is not a number
    /// means what humantime says it means, wherever humantime does not panic.
    fn check_interval(s: &str) -> Result<(), TestCaseError> {
        let got = parse_interval(s);
        match &got {
            Ok(d) => prop_assert!(
                (Duration::from_millis(10)..=MAX_INTERVAL).contains(d),
                "{s:?}: {d:?}"
            ),
            Err(e) => prop_assert_eq!(crate::text::clean(e), e.as_str()),
        }
        if s.parse::<f64>().is_err() {
            let want = match humantime_whole(s) {
                Some(Ok(d)) if (Duration::from_millis(10)..=MAX_INTERVAL).contains(&d) => Ok(d),
                _ => Err(()),
            };
            prop_assert_eq!(got.map_err(|_| ()), want, "{:?}", s);
        }
        Ok(())
    }

    /// `N[.F][ ]UNIT`, with units humantime knows and some it does not.
    fn term() -> impl Strategy<Value = String> {
        (
            "[0-9]{1,22}",
            proptest::option::of("[0-9]{0,12}"),
            "[ ]?",
            prop::sample::select(vec![
                "ns", "us", "µs", "ms", "s", "sec", "m", "min", "h", "hours", "d", "w", "M", "y",
                "", "x", "é", "S",
            ]),
        )
            .prop_map(|(n, frac, sp, unit)| match frac {
                Some(f) => format!("{n}.{f}{sp}{unit}"),
                None => format!("{n}{sp}{unit}"),
            })
    }

    proptest! {
        #![proptest_config(crate::testing::props(512))]

        #[test]
        fn any_text_is_an_interval_or_an_error(s in any::<String>()) {
            check_interval(&s)?;
        }

        #[test]
        fn printable_text(s in "\\PC{0,16}") {
            check_interval(&s)?;
        }

        #[test]
        fn sums_of_terms(terms in prop::collection::vec(term(), 1..5), sep in "[ ]{0,2}") {
            check_interval(&terms.join(&sep))?;
        }

        #[test]
        fn numbers(f in any::<f64>(), int in "[0-9]{1,30}", exp in "[0-9]{1,3}e-?[0-9]{1,3}") {
            check_interval(&f.to_string())?;
            check_interval(&format!("{f:e}"))?;
            check_interval(&int)?;
            check_interval(&exp)?;
        }
    }
}
