//! `can-bind --from FILE --at TIME`: which sample of a recording answers for a moment.
//! Pure: the times in, the sample's index (or why there is none) out.
//!
//! TIME is UTC, as the files write it: `2026-12-04T03:12:00Z` (the `Z`, the seconds and
//! the `T` may be left out: `2026-12-04 03:12`), or a time of day alone (`03:12`,
//! `03:12:30.5`), which is looked for on the days the recording covers. The sample that
//! answers is the newest taken at or before TIME: the state the host was in then, as far
//! as the recording saw it.

use crate::model::Timestamp;

const DAY_MS: i64 = 86_400_000;

/// What `--at` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// Milliseconds since the epoch.
    Instant(i64),
    /// Milliseconds into a (UTC) day.
    TimeOfDay(i64),
}

/// Reads TIME; the error says which forms are understood.
pub fn parse_at(text: &str) -> Result<At, String> {
    let bad = || {
        format!(
            "--at '{}': not a time; use UTC as the files do: 2026-12-04T03:12:00Z, \
             '2026-12-04 03:12' or 03:12[:SS]",
            crate::text::clean(text)
        )
    };
    let t = text.trim();
    let t = t.strip_suffix(['Z', 'z']).unwrap_or(t);
    let (date, time) = match t.split_once(['T', 't', ' ']) {
        Some((d, tm)) => (Some(d), tm),
        None if t.contains(':') => (None, t),
        None => return Err(bad()),
    };
    // HH:MM gets its seconds; a fraction stays.
    let time = match time.split(':').count() {
        2 => format!("{time}:00"),
        3 => time.to_string(),
        _ => return Err(bad()),
    };
    // `3:12` is `03:12`.
    let time = if time.find(':') == Some(1) {
        format!("0{time}")
    } else {
        time
    };
    let full = format!("{}T{time}Z", date.unwrap_or("1970-01-01"));
    let ms = Timestamp::parse(&full).map_err(|_| bad())?.unix_millis();
    Ok(match date {
        Some(_) => At::Instant(ms),
        None => At::TimeOfDay(ms),
    })
}

/// The sample that answers, and how far the asked moment is past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Picked {
    /// Index into the times given.
    pub index: usize,
    /// The moment asked, in ms since the epoch (`None` without `--at`).
    pub asked: Option<i64>,
    /// The asked moment is later than the sample by more than the recording's usual
    /// interval: the recording had stopped (or skipped), so the answer is for the
    /// sample's moment, and the caller says so.
    pub after_the_end: bool,
}

/// The newest sample at or before `at` among `times` (a sample's ms since the epoch, in
/// file order; `None` for one whose time is unreadable, which `--at` cannot place). No
/// `at`: the last sample.
pub fn pick(times: &[Option<i64>], at: Option<At>) -> Result<Picked, String> {
    let Some(at) = at else {
        return Ok(Picked {
            index: times.len().saturating_sub(1),
            asked: None,
            after_the_end: false,
        });
    };
    let mut placed: Vec<(i64, usize)> = times
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.map(|t| (t, i)))
        .collect();
    // Stable: samples of one time keep their file order, and the later one answers.
    placed.sort_by_key(|&(t, _)| t);
    let (Some(&(first, _)), Some(&(last, _))) = (placed.first(), placed.last()) else {
        return Err("the file's samples have no readable time: --at cannot place them".into());
    };
    let usual = usual_interval(&placed);
    let covers = || format!("it covers {} to {} (UTC)", text_of(first), text_of(last));
    let asked = match at {
        At::Instant(ms) => ms,
        // On the days the file covers: the latest such moment within it; else the first
        // after its end (answered with its last sample, said so); never one before it.
        At::TimeOfDay(tod) => {
            let mut days: Vec<i64> = placed.iter().map(|&(t, _)| t.div_euclid(DAY_MS)).collect();
            days.dedup();
            let moments: Vec<i64> = days.iter().map(|d| d * DAY_MS + tod).collect();
            let within = moments
                .iter()
                .copied()
                .filter(|&c| c >= first && c <= last + usual)
                .max();
            let after = moments.iter().copied().filter(|&c| c > last).min();
            within.or(after).ok_or_else(|| {
                format!("that time of day is before the file begins: {}", covers())
            })?
        }
    };
    if asked < first {
        return Err(format!(
            "the file begins after that moment, so it holds nothing of it: {}",
            covers()
        ));
    }
    let k = placed.partition_point(|&(t, _)| t <= asked) - 1;
    let (t, index) = placed[k];
    Ok(Picked {
        index,
        asked: Some(asked),
        after_the_end: asked - t > usual,
    })
}

/// The median gap between samples (0 for one): how far past a sample its state is still
/// the recording's word.
fn usual_interval(placed: &[(i64, usize)]) -> i64 {
    let mut gaps: Vec<i64> = placed.windows(2).map(|w| w[1].0 - w[0].0).collect();
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).copied().unwrap_or(0)
}

/// `2026-12-04 03:12:00.120Z`, as the screen writes a time.
pub fn text_of(ms: i64) -> String {
    let at =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    Timestamp::from_clock_millis(at).map_or_else(|| format!("{ms} ms"), |t| t.screen_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        Timestamp::parse(text).expect("time").unix_millis()
    }

    #[test]
    fn times_are_read_in_every_form_said() {
        let at = At::Instant(ms("2026-12-04T03:12:00Z"));
        assert_eq!(parse_at("2026-12-04T03:12:00Z"), Ok(at));
        assert_eq!(parse_at("2026-12-04T03:12Z"), Ok(at));
        assert_eq!(parse_at("2026-12-04 03:12"), Ok(at));
        assert_eq!(parse_at(" 2026-12-04t03:12:00z "), Ok(at));
        assert_eq!(
            parse_at("2026-12-04T03:12:00.5Z"),
            Ok(At::Instant(ms("2026-12-04T03:12:00.500Z")))
        );
        assert_eq!(parse_at("03:12"), Ok(At::TimeOfDay(11_520_000)));
        assert_eq!(parse_at("3:12:30"), Ok(At::TimeOfDay(11_550_000)));
        assert_eq!(parse_at("3:12:30.5"), Ok(At::TimeOfDay(11_550_500)));
        for bad in [
            "",
            "yesterday",
            "25:00",
            "03:12:00:00",
            "2026-13-01 00:00",
            "0312",
        ] {
            let e = parse_at(bad).expect_err(bad);
            assert!(e.contains("not a time"), "{e}");
        }
        assert_eq!(
            text_of(ms("2026-12-04T03:12:00.120Z")),
            "2026-12-04 03:12:00.120Z"
        );
    }

    #[test]
    fn the_newest_sample_at_or_before_answers() {
        let t = |s: &str| Some(ms(s));
        let times = [
            t("2026-12-04T03:10:00Z"),
            None,
            t("2026-12-04T03:11:00Z"),
            t("2026-12-04T03:12:00Z"),
            t("2026-12-04T03:13:00Z"),
        ];
        let at = |s: &str| pick(&times, Some(parse_at(s).expect("time")));
        assert_eq!(at("2026-12-04T03:12:30Z").map(|p| p.index), Ok(3));
        assert_eq!(at("2026-12-04T03:12:00Z").map(|p| p.index), Ok(3));
        assert_eq!(at("03:11:59").map(|p| p.index), Ok(2));
        assert!(!at("03:12:30").expect("in").after_the_end);
        // Past the end by more than the interval: the last sample, said so.
        let late = at("2026-12-04T03:20:00Z").expect("late");
        assert_eq!((late.index, late.after_the_end), (4, true));
        // Before the first: nothing to answer with.
        let e = at("2026-12-04T03:09:00Z").expect_err("early");
        assert!(
            e.contains("2026-12-04 03:10:00.000Z to 2026-12-04 03:13:00.000Z"),
            "{e}"
        );
        // A time of day after the end: the last sample, said so; before the start: none.
        let late = at("04:00").expect("after the end");
        assert_eq!((late.index, late.after_the_end), (4, true));
        assert!(at("03:00").is_err());
        // No --at: the last sample in the file.
        assert_eq!(pick(&times, None).map(|p| p.index), Ok(4));
        assert!(pick(&[None], Some(At::TimeOfDay(0))).is_err());
    }

    /// A recording across midnight: a time of day is found on the day it falls within.
    #[test]
    fn a_time_of_day_across_midnight() {
        let times = [
            Some(ms("2026-12-03T23:59:00Z")),
            Some(ms("2026-12-04T00:00:00Z")),
            Some(ms("2026-12-04T00:01:00Z")),
        ];
        let p = pick(&times, Some(At::TimeOfDay(ms("1970-01-01T23:59:30Z")))).expect("in");
        assert_eq!(p.index, 0);
        assert_eq!(p.asked, Some(ms("2026-12-03T23:59:30Z")));
        let p = pick(&times, Some(At::TimeOfDay(ms("1970-01-01T00:00:30Z")))).expect("in");
        assert_eq!(p.index, 1);
    }
}
