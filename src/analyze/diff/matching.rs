//! Which socket of `before` is which socket of `after` (module docs of [`super`]: by id,
//! then by endpoint, then within one endpoint by holders and cookie).

use crate::model::{Family, NetnsId, Proto, Socket, SocketId, State};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// Indices into `before.sockets` and `after.sockets`.
#[derive(Debug, Default)]
pub(super) struct Matching {
    pub(super) pairs: Vec<(usize, usize)>,
    pub(super) before_only: Vec<usize>,
    pub(super) after_only: Vec<usize>,
}

/// What identifies a bind or connection when the id does not: a recreated socket has
/// all of these equal.
type EndpointKey<'a> = (
    Option<&'a str>,
    NetnsId,
    Proto,
    Family,
    IpAddr,
    u16,
    Option<&'a str>,
    State,
    Option<IpAddr>,
    Option<u16>,
);

fn endpoint_key(s: &Socket) -> EndpointKey<'_> {
    (
        s.host.as_deref(),
        s.netns,
        s.proto,
        s.family,
        s.local_addr,
        s.local_port,
        s.device.as_deref(),
        s.state,
        s.remote_addr,
        s.remote_port,
    )
}

/// Whether two sockets with one id can be one socket: none of these change after bind().
fn same_socket(b: &Socket, a: &Socket) -> bool {
    b.netns == a.netns && b.proto == a.proto && b.family == a.family && b.local_port == a.local_port
}

pub(super) fn match_sockets(before: &[Socket], after: &[Socket]) -> Matching {
    let pairs = match_by_id(before, after);
    let mut b_used = vec![false; before.len()];
    let mut a_used = vec![false; after.len()];
    for &(i, j) in &pairs {
        b_used[i] = true;
        a_used[j] = true;
    }
    let mut groups: BTreeMap<EndpointKey<'_>, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
    for (i, s) in before.iter().enumerate().filter(|(i, _)| !b_used[*i]) {
        groups.entry(endpoint_key(s)).or_default().0.push(i);
    }
    for (j, s) in after.iter().enumerate().filter(|(j, _)| !a_used[*j]) {
        groups.entry(endpoint_key(s)).or_default().1.push(j);
    }
    let mut m = Matching {
        pairs,
        ..Matching::default()
    };
    for (bs, as_) in groups.into_values() {
        pair_group(before, after, bs, as_, &mut m);
    }
    m
}

/// Pairs sockets with equal ids. Ids are unique in a well-formed file; a malformed one with
/// duplicates pairs them in file order and leaves the rest to endpoint matching.
fn match_by_id(before: &[Socket], after: &[Socket]) -> Vec<(usize, usize)> {
    let mut by_id: HashMap<(Option<&str>, &SocketId), Vec<usize>> = HashMap::new();
    for (j, s) in after.iter().enumerate() {
        by_id.entry((s.host.as_deref(), &s.id)).or_default().push(j);
    }
    let mut taken = vec![false; after.len()];
    let mut pairs = Vec::new();
    for (i, b) in before.iter().enumerate() {
        let Some(candidates) = by_id.get(&(b.host.as_deref(), &b.id)) else {
            continue;
        };
        if let Some(&j) = candidates
            .iter()
            .find(|&&j| !taken[j] && same_socket(b, &after[j]))
        {
            taken[j] = true;
            pairs.push((i, j));
        }
    }
    pairs
}

/// The processes holding a socket, sorted: what pairs the members of a group.
fn holder_key(s: &Socket) -> Vec<(&str, u32)> {
    let mut k: Vec<(&str, u32)> = s.holders.iter().map(|h| (&*h.name, h.pid)).collect();
    k.sort_unstable();
    k.dedup();
    k
}

/// The sockets `idx` of one side with their pairing keys, in pairing order.
type Keyed<'a> = Vec<((Vec<(&'a str, u32)>, u64), usize)>;

fn keyed(side: &[Socket], idx: Vec<usize>) -> Keyed<'_> {
    let mut v: Keyed<'_> = idx
        .into_iter()
        .map(|i| ((holder_key(&side[i]), side[i].cookie), i))
        .collect();
    v.sort_unstable();
    v
}

/// Pairs the left-over sockets of one endpoint (module docs, step 3).
fn pair_group(
    before: &[Socket],
    after: &[Socket],
    bs: Vec<usize>,
    as_: Vec<usize>,
    m: &mut Matching,
) {
    let (bs, mut as_) = (keyed(before, bs), keyed(after, as_));
    // First the sockets held by the same processes (a service that reopened its socket
    // without restarting), then the rest in order.
    let mut rest = Vec::new();
    for ((holders, _), i) in bs {
        match as_.iter().position(|((h, _), _)| *h == holders) {
            Some(pos) => m.pairs.push((i, as_.remove(pos).1)),
            None => rest.push(i),
        }
    }
    let as_: Vec<usize> = as_.into_iter().map(|(_, j)| j).collect();
    let n = rest.len().min(as_.len());
    m.pairs
        .extend(rest.iter().copied().zip(as_.iter().copied()));
    m.before_only.extend(rest.iter().skip(n));
    m.after_only.extend(as_.iter().skip(n));
}
