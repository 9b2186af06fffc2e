//! A snapshot's JSON written while its findings are still being judged: the file format
//! puts `findings` after `sockets`, so the sockets (most of a large snapshot's bytes) can be
//! written while another thread analyses, and the findings are waited for only when the
//! writer reaches them. On two cores this takes the analysis off a cold snapshot's wall
//! time. The bytes are those [`crate::output::write_json`] writes for the judged snapshot.

use crate::model::dashboard::DashboardState;
use crate::model::{
    Finding, Host, Mark, Netns, Privileges, ScanStats, Snapshot, Socket, TakenAt, View,
};
use crate::output::{json, socket_json};
use serde::ser::Error as _;
use serde::{Serialize, Serializer};
use std::cell::Cell;
use std::io::{self, Write};

/// Writes `snap` as `output::write_json` would once `snap.findings` were `findings()`,
/// calling `findings` only after the sockets are written. `snap.findings` itself is not
/// written.
pub fn write_json_judging<'a>(
    w: &mut dyn Write,
    snap: &'a Snapshot,
    pretty: bool,
    findings: impl FnOnce() -> Vec<Finding> + 'a,
) -> io::Result<()> {
    if pretty {
        let doc = Document::new(snap, Later(Cell::new(Some(Box::new(findings)))));
        json::to_writer_pretty(&mut *w, &doc)?;
    } else {
        write_compact(w, snap, findings)?;
    }
    w.write_all(b"\n")
}

/// The compact document with its fields written in turn, and its sockets by
/// [`socket_json`] (each field's bytes as serde writes it: `same_bytes_as_the_snapshot`).
fn write_compact<'a>(
    w: &mut dyn Write,
    snap: &'a Snapshot,
    findings: impl FnOnce() -> Vec<Finding> + 'a,
) -> io::Result<()> {
    let Document {
        format,
        version,
        taken_at,
        host,
        privileges,
        warnings,
        netns,
        sockets,
        findings: (),
        marks,
        view,
        scan,
        dashboard,
    } = Document::new(snap, ());
    let mut out: Vec<u8> = Vec::with_capacity(BUFFER + 64 * 1024);
    let field = |out: &mut Vec<u8>, key: &str, value: &dyn erased::Value| -> io::Result<()> {
        out.push(b',');
        json::write_compact(&mut *out, key)?;
        out.push(b':');
        value.write(out)
    };
    out.extend_from_slice(b"{\"format\":");
    json::write_compact(&mut out, format)?;
    field(&mut out, "version", &version)?;
    field(&mut out, "taken_at", taken_at)?;
    field(&mut out, "host", host)?;
    field(&mut out, "privileges", privileges)?;
    field(&mut out, "warnings", &warnings)?;
    field(&mut out, "netns", &netns)?;
    out.extend_from_slice(b",\"sockets\":[");
    for (i, s) in sockets.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        socket_json::write(&mut out, s)?;
        if out.len() >= BUFFER {
            w.write_all(&out)?;
            out.clear();
        }
    }
    out.push(b']');
    // What is written so far goes out before the wait for the findings.
    w.write_all(&out)?;
    w.flush()?;
    out.clear();
    let findings = findings();
    field(&mut out, "findings", &findings)?;
    field(&mut out, "marks", &marks)?;
    field(&mut out, "view", view)?;
    field(&mut out, "scan", scan)?;
    if let Some(dashboard) = dashboard {
        field(&mut out, "dashboard", dashboard)?;
    }
    out.push(b'}');
    w.write_all(&out)
}

/// How much of the compact document is gathered before it is written.
const BUFFER: usize = 256 * 1024;

/// A field's value of any type, behind one `dyn` (serde's `Serialize` is not object-safe).
mod erased {
    use crate::output::json;
    use serde::Serialize;
    use std::io;

    pub trait Value {
        fn write(&self, out: &mut Vec<u8>) -> io::Result<()>;
    }

    impl<T: Serialize + ?Sized> Value for T {
        fn write(&self, out: &mut Vec<u8>) -> io::Result<()> {
            json::write_compact(out, self)
        }
    }
}

/// The fields of [`Snapshot`] in its order, borrowed, with the findings from `F`. A field
/// added to `Snapshot` and not here fails `same_bytes_as_the_snapshot`.
#[derive(Serialize)]
struct Document<'a, F: Serialize> {
    format: &'a str,
    version: u32,
    taken_at: &'a TakenAt,
    host: &'a Host,
    privileges: &'a Privileges,
    warnings: &'a [String],
    netns: &'a [Netns],
    sockets: &'a [Socket],
    findings: F,
    marks: &'a [Mark],
    view: &'a View,
    scan: &'a ScanStats,
    #[serde(skip_serializing_if = "Option::is_none")]
    dashboard: &'a Option<DashboardState>,
}

impl<'a, F: Serialize> Document<'a, F> {
    fn new(snap: &'a Snapshot, findings: F) -> Self {
        let Snapshot {
            format,
            version,
            taken_at,
            host,
            privileges,
            warnings,
            netns,
            sockets,
            findings: _,
            marks,
            view,
            scan,
            dashboard,
        } = snap;
        Document {
            format,
            version: *version,
            taken_at,
            host,
            privileges,
            warnings,
            netns,
            sockets,
            findings,
            marks,
            view,
            scan,
            dashboard,
        }
    }
}

type Judge<'a> = Box<dyn FnOnce() -> Vec<Finding> + 'a>;

/// Findings produced when serialized (once: serializing is a single pass).
struct Later<'a>(Cell<Option<Judge<'a>>>);

impl Serialize for Later<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let judge = self
            .0
            .take()
            .ok_or_else(|| S::Error::custom("the findings were already written"))?;
        judge().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::linux::collector::{CollectConfig, Collector};
    use crate::collect::linux::replay::RecordedSources;
    use crate::session::Session;
    use std::path::Path;

    /// The recorded host, judged: sockets, findings, warnings, every field filled.
    fn judged() -> Snapshot {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small-host");
        let sources = RecordedSources::load(&dir).expect("the recording");
        let collector = Collector::with_sources(CollectConfig::default(), Box::new(sources));
        let mut session = Session::new(collector, Default::default());
        session.judged_sample().expect("sample").snap
    }

    #[test]
    fn same_bytes_as_the_snapshot() {
        let snap = judged();
        assert!(!snap.findings.is_empty() && !snap.sockets.is_empty());
        for pretty in [false, true] {
            let mut whole = Vec::new();
            crate::output::write_json(&mut whole, &snap, pretty).expect("write");
            let mut streamed = Vec::new();
            let mut bare = snap.clone();
            let findings = std::mem::take(&mut bare.findings);
            write_json_judging(&mut streamed, &bare, pretty, || findings).expect("write");
            assert_eq!(
                String::from_utf8_lossy(&streamed),
                String::from_utf8_lossy(&whole)
            );
        }
    }

    /// An unbuffered writer whose bytes a test can look at while it is being written to.
    struct Shared<'a>(&'a std::cell::RefCell<Vec<u8>>);

    impl Write for Shared<'_> {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// The findings are asked for once, when the sockets are written already (the writer
    /// here is unbuffered, so what it holds at that moment is what was serialized).
    #[test]
    fn findings_are_judged_after_the_sockets_are_written() {
        let snap = judged();
        let written = std::cell::RefCell::new(Vec::new());
        let calls = Cell::new(0);
        let seen = Cell::new(Vec::new());
        let doc = Document::new(
            &snap,
            Later(Cell::new(Some(Box::new(|| {
                calls.set(calls.get() + 1);
                seen.set(written.borrow().clone());
                Vec::new()
            })))),
        );
        serde_json::to_writer(Shared(&written), &doc).expect("write");
        assert_eq!(calls.get(), 1);
        let before = String::from_utf8(seen.take()).expect("UTF-8");
        let last = snap.sockets.last().expect("a socket");
        assert!(
            before.contains(&format!("\"id\":\"{}\"", last.id.0)),
            "the last socket"
        );
        assert!(
            before.ends_with("\"findings\":"),
            "{}",
            &before[before.len() - 40..]
        );
        // Serialized twice, the second time is an error, not a panic or a silent empty list.
        assert!(serde_json::to_vec(&doc).is_err());
    }

    /// The compact writer gathers its bytes itself: every socket has gone out to the
    /// writer when the findings are asked for.
    #[test]
    fn compact_writes_the_sockets_out_before_it_waits_for_the_findings() {
        let snap = judged();
        let written = std::cell::RefCell::new(Vec::new());
        let mut then = None;
        write_json_judging(&mut Shared(&written), &snap, false, || {
            then = Some(written.borrow().len());
            Vec::new()
        })
        .expect("write");
        let text = String::from_utf8(written.take()).expect("UTF-8");
        let at = text.find(",\"findings\":").expect("findings");
        assert_eq!(then, Some(at));
    }
}
