use super::*;
use proptest::prelude::*;

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn secs(d: Duration) -> (u64, u32) {
    (d.as_secs(), d.subsec_nanos())
}

#[test]
fn the_collectors_form_reads_and_writes_back() {
    let t = at("2026-11-22T07:44:23.120Z");
    assert_eq!(t.to_string(), "2026-11-22T07:44:23.120Z");
    assert_eq!(t.screen_text(), "2026-11-22 07:44:23.120Z");
    assert_eq!(t.file_stamp(), "20261122T074423Z");
    // date -u -d 2026-11-22T07:44:23Z +%s
    assert_eq!(secs(t.since_epoch()), (1_795_333_463, 120_000_000));
    assert_eq!(t.unix_millis(), 1_795_333_463_120);
    assert_eq!(t.unix_seconds(), 1_795_333_463.12);
}

#[test]
fn fractions_of_any_length_up_to_nanoseconds_are_written_as_read() {
    for (text, nanos) in [
        ("2026-11-22T07:00:00Z", 0),
        ("2026-11-22T07:00:00.5Z", 500_000_000),
        ("2026-11-22T07:00:00.50Z", 500_000_000),
        ("2026-11-22T07:00:00.000Z", 0),
        ("2026-11-22T07:00:00.000001Z", 1_000),
        ("2026-11-22T07:00:00.123456789Z", 123_456_789),
    ] {
        let t = at(text);
        assert_eq!(t.to_string(), text);
        assert_eq!(t.since_epoch().subsec_nanos(), nanos, "{text}");
    }
    // Same instant, different text: not equal (as the strings were not), ordered by the
    // number of digits, and never earlier than one another.
    let (a, b) = (at("2026-11-22T07:00:00Z"), at("2026-11-22T07:00:00.000Z"));
    assert_ne!(a, b);
    assert!(a < b);
    assert_eq!(a.since_epoch(), b.since_epoch());
    // The fraction orders before the digits do.
    assert!(at("2026-11-22T07:00:00.9Z") > at("2026-11-22T07:00:00.10Z"));
}

#[test]
fn epoch_limits_and_leap_years() {
    assert_eq!(at("1970-01-01T00:00:00Z").since_epoch(), Duration::ZERO);
    assert_eq!(
        secs(at("9999-12-31T23:59:59.999999999Z").since_epoch()),
        (MAX_SECS, 999_999_999)
    );
    for text in [
        "2024-02-29T12:00:00Z",
        "2000-02-29T00:00:00Z",
        "2400-02-29T00:00:00Z",
    ] {
        assert_eq!(at(text).to_string(), text);
    }
    // 2024 is a leap year: 1 March is two days after 28 February.
    let day = |t: &str| at(t).since_epoch().as_secs() / 86_400;
    assert_eq!(day("2024-03-01T00:00:00Z") - day("2024-02-28T00:00:00Z"), 2);
    assert_eq!(day("2023-03-01T00:00:00Z") - day("2023-02-28T00:00:00Z"), 1);
    assert_eq!(day("2100-03-01T00:00:00Z") - day("2100-02-28T00:00:00Z"), 1);
    for text in [
        "2023-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "0000-01-01T00:00:00Z",
    ] {
        assert_eq!(Timestamp::parse(text), Err(TimeError::Range), "{text}");
    }
}

#[test]
fn a_leap_second_is_the_second_before_it_and_is_written_as_60() {
    let leap = at("2016-12-31T23:59:60.500Z");
    assert_eq!(leap.to_string(), "2016-12-31T23:59:60.500Z");
    assert_eq!(leap.file_stamp(), "20161231T235960Z");
    assert_eq!(
        leap.since_epoch(),
        at("2016-12-31T23:59:59.500Z").since_epoch()
    );
    assert!(leap > at("2016-12-31T23:59:59.500Z"));
    assert!(leap < at("2017-01-01T00:00:00Z"));
    // Only at the end of a day (RFC 3339, section 5.7).
    assert_eq!(
        Timestamp::parse("2016-12-31T12:00:60Z"),
        Err(TimeError::Range)
    );
}

#[test]
fn anything_but_the_files_form_is_refused() {
    let form = [
        "",
        "yesterday",
        "2026-11-22",
        // What a lenient reading took: a space, no `Z`, lowercase.
        "2026-11-22 07:44:23Z",
        "2026-11-22T07:44:23",
        "2026-11-22t07:44:23z",
        // Offsets: the format writes UTC as `Z` only (the schema's `Z$`).
        "2026-11-22T07:44:23+00:00",
        "2026-11-22T09:44:23+02:00",
        "2026-11-22T07:44:23.120-00:00",
        // Fractions: none after the dot, more than nanoseconds, not digits.
        "2026-11-22T07:44:23.Z",
        "2026-11-22T07:44:23.1234567890Z",
        "2026-11-22T07:44:23.12aZ",
        "2026-11-22T07:44:23,120Z",
        // Short or padded parts, junk after the `Z`, a `Z` where a digit belongs.
        "2026-11-22T07:44Z",
        "2026-11-22T07:44:2Z",
        "2026-1-22T07:44:23Z",
        " 2026-11-22T07:44:23Z",
        "2026-11-22T07:44:23ZZ",
        "2026-11-22T07:44:23Z\n",
        "+2026-11-22T07:44:23Z",
        "2026-11-22T07:44:23xyzZ",
        // Digits that are not ASCII, and a character across the fixed positions.
        "２０２６-11-22T07:44:23Z",
        "2026-11-22T07:4é:23Z",
    ];
    for text in form {
        assert_eq!(Timestamp::parse(text), Err(TimeError::Form), "{text:?}");
    }
    for text in [
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-11-31T00:00:00Z",
        "2026-11-22T24:00:00Z",
        "2026-11-22T23:60:00Z",
        "2026-11-22T23:59:61Z",
    ] {
        assert_eq!(Timestamp::parse(text), Err(TimeError::Range), "{text:?}");
    }
}

#[test]
fn the_clock_is_read_as_the_old_writer_wrote_it() {
    // humantime's format_rfc3339_millis wrote taken_at until the collector made this type.
    for t in [
        UNIX_EPOCH,
        UNIX_EPOCH + Duration::new(1_795_333_463, 120_999_999),
        UNIX_EPOCH + Duration::new(951_782_400, 1),
        SystemTime::now(),
    ] {
        let ours = TakenAt::from_clock(t);
        assert_eq!(
            ours.to_string(),
            humantime::format_rfc3339_millis(t).to_string()
        );
        assert!(matches!(ours, TakenAt::At(_)));
    }
    let before = UNIX_EPOCH - Duration::from_secs(1);
    assert_eq!(
        TakenAt::from_clock(before),
        TakenAt::Unreadable(String::new())
    );
    let after = UNIX_EPOCH + Duration::from_secs(MAX_SECS + 1);
    assert_eq!(Timestamp::from_clock_millis(after), None);
}

#[test]
fn taken_at_keeps_unreadable_text_and_writes_both_back_as_json_strings() {
    for text in [
        "2026-11-22T07:44:23.120Z",
        "2026-11-22T07:44:23Z",
        "yesterday",
        "2026-11-22 07:44:23",
        "",
        "=cmd|' /C calc'!A0\u{1b}[2J\u{202e}\"\\",
    ] {
        let json = serde_json::to_string(text).expect("json");
        let t: TakenAt = serde_json::from_str(&json).expect("any string");
        assert_eq!(t, TakenAt::parse(text));
        assert_eq!(t, TakenAt::from(text.to_string()));
        assert_eq!(t.to_string(), text);
        assert_eq!(serde_json::to_string(&t).expect("json"), json);
        assert_eq!(t.time().is_some(), Timestamp::parse(text).is_ok());
    }
    assert_eq!(
        TakenAt::parse("yesterday").screen_text(),
        "yesterday",
        "unreadable text is shown as it is"
    );
    assert_eq!(
        TakenAt::parse("2026-11-22T07:44:23Z").screen_text(),
        "2026-11-22 07:44:23Z"
    );
    // Not a string: serde's own message for a String field, as before the type.
    for (json, want) in [
        ("5", "invalid type: integer `5`, expected a string"),
        ("null", "invalid type: null, expected a string"),
        ("[]", "invalid type: sequence, expected a string"),
    ] {
        let got = serde_json::from_str::<TakenAt>(json).expect_err(json);
        let old = serde_json::from_str::<String>(json).expect_err(json);
        assert_eq!(got.to_string(), old.to_string());
        assert!(got.to_string().starts_with(want), "{got}");
    }
}

#[test]
fn the_newest_is_the_largest_and_any_time_beats_unreadable_text() {
    let mut all = [
        TakenAt::parse("2026-11-22T07:00:01Z"),
        TakenAt::parse("zzz"),
        TakenAt::parse("2026-11-22T07:00:00.5Z"),
        TakenAt::parse(""),
    ];
    all.sort();
    let texts: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        ["", "zzz", "2026-11-22T07:00:00.5Z", "2026-11-22T07:00:01Z"]
    );
}

/// A valid time's text from its parts, with `digits` of the fraction.
fn text_of(parts: (u64, u64, u64, u64, u64, u64), nanos: u32, digits: usize) -> String {
    let (y, mo, d, h, mi, s) = parts;
    let mut text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    if digits > 0 {
        let scaled = nanos / 10u32.pow(9 - digits as u32);
        text.push_str(&format!(".{scaled:0digits$}"));
    }
    text + "Z"
}

fn valid_parts() -> impl Strategy<Value = (u64, u64, u64, u64, u64, u64)> {
    (1970u64..=9999, 1u64..=12).prop_flat_map(|(y, mo)| {
        (
            Just(y),
            Just(mo),
            1..=days_in_month(y, mo),
            0u64..24,
            0u64..60,
            0u64..60,
        )
    })
}

proptest! {
    /// Every valid time reads as humantime's strict parser (the loader's check until now)
    /// reads it, and writes back as it was read.
    #[test]
    fn valid_times_agree_with_humantime_and_write_back(
        parts in valid_parts(), nanos in 0u32..NANOS_PER_SEC, digits in 0usize..=9,
    ) {
        let text = text_of(parts, nanos, digits);
        let t = Timestamp::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(t.to_string(), text.clone());
        let theirs = humantime::parse_rfc3339(&text)
            .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(UNIX_EPOCH + t.since_epoch(), theirs);
        prop_assert_eq!(t.screen_text(), text.replacen('T', " ", 1));
    }

    /// No text makes the parser panic, and what it takes it writes back unchanged.
    #[test]
    fn any_text_is_read_without_panic(text in any::<String>()) {
        if let Ok(t) = Timestamp::parse(&text) {
            prop_assert_eq!(t.to_string(), text);
        }
    }

    /// Texts near the form: one byte of a valid time changed.
    #[test]
    fn a_changed_byte_is_refused_or_written_back(
        parts in valid_parts(), at in 0usize..24, byte in any::<u8>(),
    ) {
        let mut bytes = text_of(parts, 120_000_000, 3).into_bytes();
        if let Some(b) = bytes.get_mut(at) {
            *b = byte;
        }
        if let Ok(text) = String::from_utf8(bytes)
            && let Ok(t) = Timestamp::parse(&text)
        {
            prop_assert_eq!(t.to_string(), text);
        }
    }
}
