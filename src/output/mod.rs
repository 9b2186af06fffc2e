//! Writing snapshots: JSON (the file format), the table for people, atomic file writes
//! (sanitizing, which every text output goes through, is the leaf `crate::text`). All JSON
//! for users is written by
//! [`json`], which escapes what could mislead a terminal.

pub mod containers;
pub mod diff;
pub mod findings;
pub mod json;
pub mod ports;
pub mod rules;
pub mod socket_json;
pub mod table;
pub mod whatif;
pub mod who;
pub mod write;

use crate::model::Snapshot;
use std::io::{self, Write};

/// The snapshot as JSON, one object and a newline. Compact unless `pretty`: files of 50,000
/// sockets are read by tools more often than by eyes.
pub fn write_json(w: &mut dyn Write, snap: &Snapshot, pretty: bool) -> io::Result<()> {
    if pretty {
        json::to_writer_pretty(&mut *w, snap)?;
    } else {
        json::to_writer(&mut *w, snap)?;
    }
    w.write_all(b"\n")
}

/// `812 B`, `14.2 KiB`, `3.1 MiB`.
pub fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in UNITS.iter().skip(1) {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// `assets/snapshot.schema.json`, formats checked, as the integration tests use it.
    fn schema() -> jsonschema::Validator {
        let text = include_str!("../../assets/snapshot.schema.json");
        let schema: Value = serde_json::from_str(text).expect("the schema is JSON");
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("a valid JSON Schema")
    }

    fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
        v.iter_errors(doc)
            .map(|e| format!("at '{}': {e}", e.instance_path()))
            .collect()
    }

    fn written(snap: &Snapshot) -> Value {
        let mut out = Vec::new();
        write_json(&mut out, snap, false).expect("write");
        serde_json::from_slice(&out).expect("JSON")
    }

    /// The containers of holders and namespaces, as written, match the schema; so does
    /// the demo fixture, and an old file's `container: "docker:…"` string.
    #[test]
    fn a_container_host_matches_the_schema() {
        let v = schema();
        let doc = written(&crate::testing::container_host());
        // The fields are there to be checked: an owner, members, a holder's container.
        assert_eq!(doc["netns"][1]["container"]["name"], "web");
        assert_eq!(
            doc["netns"][1]["containers"][1]["pod"]["namespace"],
            "default"
        );
        assert_eq!(
            doc["sockets"][3]["holders"][0]["container"]["runtime"],
            "docker"
        );
        assert_eq!(
            doc["sockets"][1]["holders"][0]["container"]["runtime"],
            "podman"
        );
        assert!(doc["sockets"][0]["holders"][0].get("container").is_none());
        assert_eq!(errors(&v, &doc), Vec::<String>::new());
        let demo: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/demo-snapshot.json"))
                .expect("demo");
        assert_eq!(errors(&v, &demo), Vec::<String>::new());
        let mut old = doc.clone();
        old["netns"][1]["container"] = Value::from("docker:776562000000");
        assert_eq!(errors(&v, &old), Vec::<String>::new());
    }

    /// The schema is no rubber stamp: a container without its id, with an unknown field
    /// type, or a pod without a name is refused.
    #[test]
    fn the_schema_refuses_malformed_containers() {
        let v = schema();
        let doc = written(&crate::testing::container_host());
        let bad = |path: &[&str], value: Value| {
            let mut d = doc.clone();
            let mut at = &mut d;
            for p in path {
                at = match p.parse::<usize>() {
                    Ok(i) => &mut at[i],
                    Err(_) => &mut at[*p],
                };
            }
            *at = value;
            assert!(!errors(&v, &d).is_empty(), "{path:?} accepted");
        };
        bad(
            &["sockets", "3", "holders", "0", "container"],
            serde_json::json!({"runtime": "docker"}),
        );
        bad(
            &["sockets", "3", "holders", "0", "container", "runtime"],
            Value::from("kata"),
        );
        bad(
            &["netns", "1", "containers", "1", "pod"],
            serde_json::json!({"namespace": "x"}),
        );
        bad(&["netns", "1", "container"], Value::from(7));
        bad(&["netns", "1", "containers"], Value::from("web"));
    }

    #[test]
    fn sizes() {
        assert_eq!(size_text(812), "812 B");
        assert_eq!(size_text(14_540), "14.2 KiB");
        assert_eq!(size_text(3 * 1024 * 1024 + 100_000), "3.1 MiB");
        assert_eq!(size_text(3 << 30), "3.0 GiB");
    }
}
