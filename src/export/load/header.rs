//! Format and version, judged apart from the rest: a file of another format, or one written
//! by a newer bindscope, is told so before any field error it would also have.

use super::error::{LoadError, quoted_text, shorten};
use crate::model::{FORMAT, VERSION};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::path::Path;

/// `format` and `version` as found, whatever their type.
#[derive(Debug, Default)]
pub(super) struct Header {
    format: Option<Scalar>,
    version: Option<Scalar>,
    /// The value was not an object: what it was.
    not_object: Option<&'static str>,
    /// The object was read to its end: a field not found is absent.
    complete: bool,
}

/// A JSON value reduced to what a message needs.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Scalar {
    Str(String),
    UInt(u64),
    Int(i64),
    Float(f64),
    /// Anything else: its kind ("an array", "null", ...).
    Other(&'static str),
}

/// Reads `format` and `version` from the start of a value. The scan records them as it
/// meets them and stops once it has both, so a file broken further on still tells its
/// version; every error is ignored (the full parse already has the one to report).
pub(super) fn header_in<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
) -> Header {
    let mut header = Header::default();
    let _ = HeaderSeed(&mut header).deserialize(&mut de);
    header
}

pub(super) struct HeaderSeed<'a>(&'a mut Header);

impl<'de> DeserializeSeed<'de> for HeaderSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// The error that ends a header scan early; never shown.
pub(super) const HEADER_DONE: &str = "header read";

impl<'de> Visitor<'de> for HeaderSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<HeaderKey>()? {
            match key {
                HeaderKey::Format if self.0.format.is_none() => {
                    self.0.format = Some(map.next_value()?);
                }
                HeaderKey::Version if self.0.version.is_none() => {
                    self.0.version = Some(map.next_value()?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            if self.0.format.is_some() && self.0.version.is_some() {
                return Err(de::Error::custom(HEADER_DONE));
            }
        }
        self.0.complete = true;
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        self.0.not_object = Some("a JSON array");
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.0.not_object = Some("a JSON string");
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.0.not_object = Some("a JSON boolean");
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.0.not_object = Some("a JSON number");
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.0.not_object = Some("a JSON number");
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.0.not_object = Some("a JSON number");
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.not_object = Some("null");
        Ok(())
    }
}

pub(super) enum HeaderKey {
    Format,
    Version,
    Other,
}

impl<'de> Deserialize<'de> for HeaderKey {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(HeaderKeyVisitor)
    }
}

pub(super) struct HeaderKeyVisitor;

impl Visitor<'_> for HeaderKeyVisitor {
    type Value = HeaderKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<HeaderKey, E> {
        Ok(match v {
            "format" => HeaderKey::Format,
            "version" => HeaderKey::Version,
            _ => HeaderKey::Other,
        })
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

pub(super) struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        // Kept short: only a message quotes it.
        Ok(Scalar::Str(shorten(v, 100)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::UInt(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar, E> {
        Ok(Scalar::Other("a boolean"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other("null"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other("an object"))
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Str(s) => write!(f, "the string {}", quoted_text(s)),
            Scalar::UInt(n) => write!(f, "{n}"),
            Scalar::Int(n) => write!(f, "{n}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Other(kind) => f.write_str(kind),
        }
    }
}

/// The header of a value that failed to parse: a wrong format or version is the error to
/// report, before any field error.
pub(super) fn judge_header(name: &Path, frame: Option<usize>, h: &Header) -> Result<(), LoadError> {
    let not_snapshot = |why: String| LoadError::NotSnapshot {
        path: name.to_path_buf(),
        frame,
        why,
    };
    if let Some(kind) = h.not_object {
        return Err(not_snapshot(format!("it is {kind}, not an object")));
    }
    // A field not found before a syntax error may come after it: only a wrong value, or
    // a field absent from a complete object, is judged; otherwise the parse error speaks.
    match &h.format {
        Some(Scalar::Str(s)) => check_format(name, frame, s)?,
        Some(other) => return Err(not_snapshot(format!("its \"format\" is {other}"))),
        None if h.complete => {
            return Err(not_snapshot(format!("it has no \"format\": \"{FORMAT}\"")));
        }
        None => return Ok(()),
    }
    match &h.version {
        Some(Scalar::UInt(n)) => check_version(name, frame, *n),
        Some(other) => Err(LoadError::BadVersion {
            path: name.to_path_buf(),
            frame,
            why: format!("\"version\" is {other}, not a whole number"),
        }),
        None if h.complete => Err(LoadError::BadVersion {
            path: name.to_path_buf(),
            frame,
            why: "it has no \"version\"".into(),
        }),
        None => Ok(()),
    }
}

/// `format` and `version` of a snapshot that parsed.
pub(super) fn check_header(
    name: &Path,
    frame: Option<usize>,
    format: &str,
    version: u32,
) -> Result<(), LoadError> {
    check_format(name, frame, format)?;
    check_version(name, frame, u64::from(version))
}

pub(super) fn check_format(
    name: &Path,
    frame: Option<usize>,
    format: &str,
) -> Result<(), LoadError> {
    if format == FORMAT {
        return Ok(());
    }
    Err(LoadError::NotSnapshot {
        path: name.to_path_buf(),
        frame,
        why: format!(
            "its \"format\" is {}, not \"{FORMAT}\"",
            quoted_text(&shorten(format, 100))
        ),
    })
}

pub(super) fn check_version(
    name: &Path,
    frame: Option<usize>,
    version: u64,
) -> Result<(), LoadError> {
    if version > u64::from(VERSION) {
        return Err(LoadError::NewerVersion {
            path: name.to_path_buf(),
            frame,
            version,
            supported: VERSION,
        });
    }
    if version == 0 {
        return Err(LoadError::BadVersion {
            path: name.to_path_buf(),
            frame,
            why: "\"version\" is 0, and versions start at 1".into(),
        });
    }
    Ok(())
}
