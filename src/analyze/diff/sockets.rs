//! The changes of the sockets: appeared, disappeared, or changed (a matched pair with a
//! field that differs), in the order reports list them.

use super::matching::Matching;
use super::socket_fields::socket_fields;
use super::{ChangeKind, SocketChange};
use crate::model::{Family, NetnsId, Proto, Snapshot, Socket, SocketId, State};
use std::net::IpAddr;

pub(super) fn socket_changes(
    before: &Snapshot,
    after: &Snapshot,
    m: &Matching,
    same_host: bool,
) -> Vec<SocketChange> {
    let mut out: Vec<SocketChange> = Vec::new();
    let whole = |kind, s: &Socket| SocketChange {
        kind,
        socket: s.clone(),
        before_id: None,
        fields: Vec::new(),
    };
    out.extend(
        m.after_only
            .iter()
            .map(|&j| whole(ChangeKind::Appeared, &after.sockets[j])),
    );
    out.extend(
        m.before_only
            .iter()
            .map(|&i| whole(ChangeKind::Disappeared, &before.sockets[i])),
    );
    for &(i, j) in &m.pairs {
        let (b, a) = (&before.sockets[i], &after.sockets[j]);
        // Most sockets did not change: skip comparing them field by field.
        if b == a {
            continue;
        }
        let fields = socket_fields(b, a, same_host);
        if fields.is_empty() {
            continue;
        }
        out.push(SocketChange {
            kind: ChangeKind::Changed,
            socket: a.clone(),
            before_id: (b.id != a.id).then(|| b.id.clone()),
            fields,
        });
    }
    out.sort_by(|x, y| change_order(x).cmp(&change_order(y)));
    out
}

type ChangeOrder<'a> = (
    ChangeKind,
    NetnsId,
    Proto,
    u16,
    IpAddr,
    Family,
    State,
    Option<IpAddr>,
    Option<u16>,
    Option<&'a str>,
    u64,
    &'a SocketId,
);

fn change_order(c: &SocketChange) -> ChangeOrder<'_> {
    let s = &c.socket;
    (
        c.kind,
        s.netns,
        s.proto,
        s.local_port,
        s.local_addr,
        s.family,
        s.state,
        s.remote_addr,
        s.remote_port,
        s.device.as_deref(),
        s.cookie,
        &s.id,
    )
}
