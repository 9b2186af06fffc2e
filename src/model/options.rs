//! A socket's options and, for each one without a value, whether it does not apply to this
//! socket or could not be read.
//!
//! The file format keeps what earlier versions wrote: each option a value or `null`, and for
//! every `null` a sentence in `options.reasons`. In memory that sentence is typed
//! ([`Missing`]), so displays and analyses ask a state ([`OptionState`]) instead of reading
//! prose; the one place that tells the two kinds apart from words is
//! [`Missing::from_file_text`], for files.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

/// Why a value is unknown. Shared: thousands of sockets carry the same few reasons.
pub type Reason = Arc<str>;

/// An option of [`Options`], as the key of `Options::reasons`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionName {
    Reuseaddr,
    Reuseport,
    V6only,
    Freebind,
    Transparent,
    Nonblocking,
    DeferAccept,
    Fastopen,
    BindDevice,
    /// A key this build does not know (a newer file).
    #[serde(other)]
    Other,
}

impl OptionName {
    /// The key as files, CSV columns and the detail view spell it (the serde name).
    pub fn name(self) -> &'static str {
        match self {
            OptionName::Reuseaddr => "reuseaddr",
            OptionName::Reuseport => "reuseport",
            OptionName::V6only => "v6only",
            OptionName::Freebind => "freebind",
            OptionName::Transparent => "transparent",
            OptionName::Nonblocking => "nonblocking",
            OptionName::DeferAccept => "defer_accept",
            OptionName::Fastopen => "fastopen",
            OptionName::BindDevice => "bind_device",
            OptionName::Other => "option",
        }
    }

    /// Every option this build knows, in the order tables list them.
    pub const ALL: [OptionName; 9] = [
        OptionName::Reuseaddr,
        OptionName::Reuseport,
        OptionName::V6only,
        OptionName::Freebind,
        OptionName::Transparent,
        OptionName::Nonblocking,
        OptionName::DeferAccept,
        OptionName::Fastopen,
        OptionName::BindDevice,
    ];
}

/// Why an option has no value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Missing {
    /// The option means nothing for this socket, a known answer: v6only on IPv4, TCP
    /// options on UDP, O_NONBLOCK (read for listeners only, where a blocking accept matters).
    /// Displays show nothing for it, not a `?`.
    NotApplicable(Reason),
    /// The option applies but was not read; the reason says why (not probed, no process
    /// holds the socket, the holder's fdinfo unreadable…).
    Unknown(Reason),
}

impl Missing {
    /// The sentence the file carries and the detail view shows.
    pub fn reason(&self) -> &Reason {
        match self {
            Missing::NotApplicable(r) | Missing::Unknown(r) => r,
        }
    }

    /// The kind of a reason read from a file. Files carry only the sentence; every version
    /// has written the not-applicable ones as `not applicable …` or `read for listening
    /// sockets only` (collect::reasons), and anything else is a reason for not knowing.
    pub fn from_file_text(text: &str) -> Missing {
        let reason = Reason::from(text);
        if text.starts_with("not applicable") || text.starts_with("read for listening") {
            Missing::NotApplicable(reason)
        } else {
            Missing::Unknown(reason)
        }
    }

    /// The reason behind an `Arc`, for sharing equal reasons between sockets (the loader).
    pub fn reason_mut(&mut self) -> &mut Reason {
        match self {
            Missing::NotApplicable(r) | Missing::Unknown(r) => r,
        }
    }
}

impl Serialize for Missing {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.reason())
    }
}

impl<'de> Deserialize<'de> for Missing {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Missing::from_file_text(&text))
    }
}

/// An option's value, typed by what it measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionValue<'a> {
    Flag(bool),
    /// TCP_DEFER_ACCEPT: seconds, 0 off.
    Seconds(u32),
    /// TCP_FASTOPEN: the queue length, 0 off.
    Count(u32),
    /// SO_BINDTODEVICE: the device, or `None` for a socket bound to none.
    Device(Option<&'a str>),
}

/// What a snapshot knows of one option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionState<'a> {
    Known(OptionValue<'a>),
    NotApplicable(&'a Reason),
    Unknown(&'a Reason),
}

/// The reason of a `null` option a file gave none for (the writer always gives one; a
/// hand-edited or foreign file may not). Unknown, never guessed.
static NO_REASON: LazyLock<Reason> = LazyLock::new(|| Reason::from("no reason recorded"));

/// Socket options. `None` means unknown or not applicable; `reasons` says which and why.
/// A value is never guessed: an option that could not be read stays `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Options {
    pub reuseaddr: Option<bool>,
    pub reuseport: Option<bool>,
    /// IPV6_V6ONLY, explicit or implicit (a specific IPv6 bind sets it).
    pub v6only: Option<bool>,
    pub freebind: Option<bool>,
    pub transparent: Option<bool>,
    /// O_NONBLOCK on the holder's open file description (read from fdinfo).
    pub nonblocking: Option<bool>,
    /// TCP_DEFER_ACCEPT in seconds (0: off).
    pub defer_accept: Option<u32>,
    /// TCP_FASTOPEN queue length (0: off).
    pub fastopen: Option<u32>,
    /// SO_BINDTODEVICE: the device name; `None` with no reason means unbound.
    pub bind_device: Option<String>,
    /// For every option that is `None` because it is unknown or not applicable: which, and
    /// why.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reasons: BTreeMap<OptionName, Missing>,
}

impl Options {
    /// The option's value, if the snapshot has one. `bind_device` without a value and
    /// without a reason is a known "no device".
    pub fn value(&self, key: OptionName) -> Option<OptionValue<'_>> {
        use OptionValue::{Count, Flag, Seconds};
        match key {
            OptionName::Reuseaddr => self.reuseaddr.map(Flag),
            OptionName::Reuseport => self.reuseport.map(Flag),
            OptionName::V6only => self.v6only.map(Flag),
            OptionName::Freebind => self.freebind.map(Flag),
            OptionName::Transparent => self.transparent.map(Flag),
            OptionName::Nonblocking => self.nonblocking.map(Flag),
            OptionName::DeferAccept => self.defer_accept.map(Seconds),
            OptionName::Fastopen => self.fastopen.map(Count),
            OptionName::BindDevice => match (&self.bind_device, self.reasons.contains_key(&key)) {
                (Some(d), _) => Some(OptionValue::Device(Some(d))),
                (None, false) => Some(OptionValue::Device(None)),
                (None, true) => None,
            },
            OptionName::Other => None,
        }
    }

    /// Known with its value, not applicable, or unknown with the reason.
    pub fn state(&self, key: OptionName) -> OptionState<'_> {
        if let Some(v) = self.value(key) {
            return OptionState::Known(v);
        }
        match self.reasons.get(&key) {
            Some(Missing::NotApplicable(r)) => OptionState::NotApplicable(r),
            Some(Missing::Unknown(r)) => OptionState::Unknown(r),
            None => OptionState::Unknown(&NO_REASON),
        }
    }

    /// Whether `key` has no value because it does not apply to this socket (v6only on IPv4,
    /// TCP options on UDP, O_NONBLOCK off listeners) rather than because it is unknown.
    /// Displays show no `?` for these.
    pub fn not_applicable(&self, key: OptionName) -> bool {
        matches!(self.state(key), OptionState::NotApplicable(_))
    }

    /// Whether `key` applies to this socket and was not read.
    pub fn unknown(&self, key: OptionName) -> bool {
        matches!(self.state(key), OptionState::Unknown(_))
    }

    /// The options that apply and were not read, with why, in [`OptionName::ALL`] order.
    pub fn unknowns(&self) -> impl Iterator<Item = (OptionName, &Reason)> {
        OptionName::ALL
            .into_iter()
            .filter_map(|key| match self.state(key) {
                OptionState::Unknown(r) => Some((key, r)),
                _ => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp_v4() -> Options {
        let mut o = Options {
            reuseaddr: Some(true),
            reuseport: None,
            ..Options::default()
        };
        let na = |t: &str| Missing::NotApplicable(Reason::from(t));
        o.reasons
            .insert(OptionName::Reuseport, Missing::Unknown("not probed".into()));
        o.reasons
            .insert(OptionName::V6only, na("not applicable to IPv4 sockets"));
        o.reasons
            .insert(OptionName::Fastopen, na("not applicable to UDP"));
        o
    }

    #[test]
    fn states_follow_the_value_and_the_kind_of_reason() {
        let o = udp_v4();
        assert_eq!(
            o.state(OptionName::Reuseaddr),
            OptionState::Known(OptionValue::Flag(true))
        );
        assert!(
            matches!(o.state(OptionName::Reuseport), OptionState::Unknown(r) if &**r == "not probed")
        );
        assert!(o.not_applicable(OptionName::V6only));
        assert!(o.not_applicable(OptionName::Fastopen));
        assert!(!o.unknown(OptionName::Fastopen));
        // bind_device: None without a reason is the known answer "no device".
        assert_eq!(
            o.state(OptionName::BindDevice),
            OptionState::Known(OptionValue::Device(None))
        );
        // A null option a file gave no reason for is unknown, never a value.
        assert!(o.unknown(OptionName::Freebind));
        let unknown: Vec<OptionName> = o.unknowns().map(|(k, _)| k).collect();
        assert!(unknown.contains(&OptionName::Reuseport));
        assert!(!unknown.contains(&OptionName::V6only));
    }

    #[test]
    fn the_file_keeps_the_sentence_and_reads_back_the_same_kind() {
        let o = udp_v4();
        let json = serde_json::to_string(&o).unwrap();
        assert!(json.contains(r#""v6only":"not applicable to IPv4 sockets""#));
        assert!(json.contains(r#""reuseport":"not probed""#));
        let back: Options = serde_json::from_str(&json).unwrap();
        assert_eq!(back, o);
    }

    #[test]
    fn file_words_decide_the_kind_only_by_the_written_prefixes() {
        for t in ["not applicable to UDP", "read for listening sockets only"] {
            assert!(
                matches!(Missing::from_file_text(t), Missing::NotApplicable(_)),
                "{t}"
            );
        }
        for t in ["not probed", "permission denied", "", "Not applicable"] {
            assert!(
                matches!(Missing::from_file_text(t), Missing::Unknown(_)),
                "{t}"
            );
        }
    }
}
