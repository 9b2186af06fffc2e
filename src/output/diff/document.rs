//! The JSON document of a diff, for tools: the diff's values, with every field change in
//! the words of [`super::words`].

use super::words::{FieldWords, netns_fields, socket_fields};
use super::{FORMAT, VERSION};
use crate::analyze::diff::{
    ChangeKind, Counts, Diff, FindingChange, NetnsChange, Side, SocketChange,
};
use crate::model::{NetnsId, Socket, SocketId};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The JSON document of a diff, one object and a newline. A public interface, like the
/// snapshot file:
/// ```text
/// format: "bindscope.diff"   version: 1
/// counts: {appeared, disappeared, changed (not counting queue-only), queue_only,
///          new_findings, resolved_findings, netns}
/// before, after: {hostname, taken_at, sockets: int, findings: int, netns: int,
///                 options_readable: bool, all_holders_visible: bool}
/// sockets: [{kind: "appeared"|"disappeared"|"changed",
///            socket: {...a socket as in the snapshot file: after's, or before's if disappeared},
///            before_id: string|null (its id in before when it was recreated),
///            fields: [FieldChange]}]                         (fields empty unless changed)
/// findings: [{kind: "new"|"resolved", finding: {...a finding as in the snapshot file}}]
/// netns: [{kind: "appeared"|"disappeared"|"changed", id: int, name: string|null,
///          fields: [FieldChange]}]
/// netns_names: {"<netns id>": name}   (every named namespace of either side)
/// FieldChange: {field: string, subject: string|null,
///               kind: "value"|"queue"|"became_known"|"became_unknown",
///               before: string, after: string, added: [string], removed: [string]}
/// ```
/// Socket fields: `socket` (recreated: old id → new id), `state`, `local`, `remote`, `uid`,
/// `user`, `device`, `scope`, `address_state`, `reuseaddr`, `reuseport`, `v6only`,
/// `freebind`, `transparent`, `nonblocking`, `defer_accept`, `fastopen`, `bind_device`,
/// `holders` (with `added`/`removed` as `name[pid] (user)`), and last, of kind `queue`,
/// `accept_queue` (`len/backlog`) and `syn_recv`. Namespace fields: `name`, `entered`,
/// each sysctl by its name (`net.core.somaxconn`), `interfaces`, `link` (subject: the
/// interface), `addresses`, `address_flags` (subject: `IF ADDR/PREFIX`), and each TcpExt
/// counter that rose (`ListenOverflows`, after as `15 (+5)`). Unknown is `?`, an option that
/// does not apply `n/a`, nothing `-`. Strings are as in the snapshots, unsanitized.
pub fn write_json(w: &mut dyn Write, d: &Diff) -> io::Result<()> {
    let doc = Document {
        format: FORMAT,
        version: VERSION,
        counts: d.counts(),
        before: &d.before,
        after: &d.after,
        sockets: d.sockets.iter().map(SocketDoc::of).collect(),
        findings: &d.findings,
        netns: d.netns.iter().map(NetnsDoc::of).collect(),
        netns_names: &d.netns_names,
    };
    crate::output::json::to_writer(&mut *w, &doc)?;
    w.write_all(b"\n")
}

/// The document, in the order of its keys.
#[derive(Serialize)]
struct Document<'a> {
    format: &'static str,
    version: u32,
    counts: Counts,
    before: &'a Side,
    after: &'a Side,
    sockets: Vec<SocketDoc<'a>>,
    findings: &'a [FindingChange],
    netns: Vec<NetnsDoc<'a>>,
    netns_names: &'a BTreeMap<NetnsId, String>,
}

#[derive(Serialize)]
struct SocketDoc<'a> {
    kind: ChangeKind,
    socket: &'a Socket,
    before_id: Option<&'a SocketId>,
    fields: Vec<FieldWords>,
}

impl SocketDoc<'_> {
    fn of(c: &SocketChange) -> SocketDoc<'_> {
        SocketDoc {
            kind: c.kind,
            socket: &c.socket,
            before_id: c.before_id.as_ref(),
            fields: socket_fields(c),
        }
    }
}

#[derive(Serialize)]
struct NetnsDoc<'a> {
    kind: ChangeKind,
    id: NetnsId,
    name: Option<&'a str>,
    fields: Vec<FieldWords>,
}

impl NetnsDoc<'_> {
    fn of(n: &NetnsChange) -> NetnsDoc<'_> {
        NetnsDoc {
            kind: n.kind,
            id: n.id,
            name: n.name.as_deref(),
            fields: netns_fields(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::diff::diff;
    use crate::model::Snapshot;
    use crate::testing::{netns, snapshot_of, socket};

    fn snap(sockets: Vec<Socket>) -> Snapshot {
        snapshot_of(sockets, vec![netns(1, Some("host"), None)])
    }

    /// The field changes of the document, byte for byte: a public interface, whose keys,
    /// order and words tools read.
    #[test]
    fn field_changes_as_tools_read_them() {
        let mut before = snap(vec![socket()]);
        let mut after = before.clone();
        let s = &mut after.sockets[0];
        s.id = SocketId("1-9".into());
        s.options.reuseport = Some(true);
        s.options.reasons.clear();
        s.holders[0].pid = 43;
        s.syn_recv = Some(5);
        before.netns[0].counters.listen_overflows = Some(2);
        after.netns[0].counters.listen_overflows = Some(5);
        let mut buf = Vec::new();
        write_json(&mut buf, &diff(&before, &after)).expect("write");
        // As written: a parsed Value would sort the keys.
        let text = String::from_utf8(buf).expect("utf-8");
        let sockets = r#""sockets":[{"kind":"changed","socket":{"id":"1-9","#;
        let socket_fields = concat!(
            r#""before_id":"1-2a","fields":["#,
            r#"{"field":"socket","subject":null,"kind":"value","before":"1-2a","after":"1-9","added":[],"removed":[]},"#,
            r#"{"field":"reuseport","subject":null,"kind":"became_known","before":"?","after":"true","added":[],"removed":[]},"#,
            r#"{"field":"holders","subject":null,"kind":"value","before":"web\u001b[31m[42] (www-data)","after":"web\u001b[31m[43] (www-data)","added":["web\u001b[31m[43] (www-data)"],"removed":["web\u001b[31m[42] (www-data)"]},"#,
            r#"{"field":"syn_recv","subject":null,"kind":"queue","before":"2","after":"5","added":[],"removed":[]}]}]"#,
        );
        let netns = concat!(
            r#""netns":[{"kind":"changed","id":1,"name":"host","fields":["#,
            r#"{"field":"ListenOverflows","subject":null,"kind":"value","before":"2","after":"5 (+3)","added":[],"removed":[]}]}]"#,
        );
        let head = r#"{"format":"bindscope.diff","version":1,"counts":{"appeared":0,"disappeared":0,"changed":1,"queue_only":0,"new_findings":0,"resolved_findings":0,"netns":1},"before":{"hostname":"h","#;
        assert!(text.starts_with(head), "{text}");
        for part in [sockets, socket_fields, netns] {
            assert_eq!(text.matches(part).count(), 1, "{part}\nin\n{text}");
        }
    }
}
