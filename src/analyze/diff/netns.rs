//! The changes of the network namespaces: name, entry, sysctls, interfaces, addresses and
//! the counters that rose.

use super::fields::{Change, IfAddr, LinkState, NetnsField};
use super::{ChangeKind, NetnsChange};
use crate::model::{AddrFlag, Interface, Netns, NetnsId};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn netns_changes(before: &[Netns], after: &[Netns]) -> Vec<NetnsChange> {
    let bm: BTreeMap<NetnsId, &Netns> = before.iter().map(|n| (n.id, n)).collect();
    let am: BTreeMap<NetnsId, &Netns> = after.iter().map(|n| (n.id, n)).collect();
    let whole = |kind, n: &Netns| NetnsChange {
        kind,
        id: n.id,
        name: n.name.clone(),
        fields: Vec::new(),
    };
    let mut out: Vec<NetnsChange> = Vec::new();
    out.extend(
        am.iter()
            .filter(|(id, _)| !bm.contains_key(id))
            .map(|(_, n)| whole(ChangeKind::Appeared, n)),
    );
    out.extend(
        bm.iter()
            .filter(|(id, _)| !am.contains_key(id))
            .map(|(_, n)| whole(ChangeKind::Disappeared, n)),
    );
    for (id, a) in &am {
        let Some(b) = bm.get(id) else { continue };
        let fields = netns_fields(b, a);
        if !fields.is_empty() {
            out.push(NetnsChange {
                fields,
                ..whole(ChangeKind::Changed, a)
            });
        }
    }
    out
}

fn netns_fields(b: &Netns, a: &Netns) -> Vec<NetnsField> {
    let mut out = Vec::new();
    out.extend(Change::of(b.name.clone(), a.name.clone()).map(NetnsField::Name));
    out.extend(Change::of(b.error.clone(), a.error.clone()).map(NetnsField::Entered));
    // Interfaces, sysctls and counters were not read in a namespace not entered.
    if b.error.is_some() || a.error.is_some() {
        return out;
    }
    out.extend(sysctl_changes(b, a));
    out.extend(interface_changes(&b.interfaces, &a.interfaces));
    out.extend(address_changes(&b.interfaces, &a.interfaces));
    out.extend(counter_rises(b, a));
    out
}

/// A serializable struct as its fields by their file names (the sysctl and counter names),
/// so a knob added to the model is compared without a change here.
fn named_values<T: Serialize>(v: &T) -> BTreeMap<String, serde_json::Value> {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::Object(m)) => m.into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

fn sysctl_changes(b: &Netns, a: &Netns) -> Vec<NetnsField> {
    let (bv, av) = (named_values(&b.sysctls), named_values(&a.sysctls));
    let known = |v: Option<&serde_json::Value>| v.filter(|v| !v.is_null()).cloned();
    av.iter()
        .filter_map(|(name, after)| {
            let change = Change::of(known(bv.get(name)), known(Some(after)))?;
            Some(NetnsField::Sysctl {
                name: name.clone(),
                change,
            })
        })
        .collect()
}

/// Counters that rose (one that fell was reset: the namespace was recreated or the host
/// rebooted, which says nothing about drops).
fn counter_rises(b: &Netns, a: &Netns) -> Vec<NetnsField> {
    let (bv, av) = (named_values(&b.counters), named_values(&a.counters));
    av.iter()
        .filter_map(|(name, after)| {
            let before = bv.get(name)?.as_u64()?;
            let after = after.as_u64()?;
            (after > before).then(|| NetnsField::CounterRose {
                name: name.clone(),
                change: Change { before, after },
            })
        })
        .collect()
}

fn interface_changes(b: &[Interface], a: &[Interface]) -> Vec<NetnsField> {
    let names = |l: &[Interface]| l.iter().map(|i| i.name.clone()).collect::<BTreeSet<_>>();
    let mut out: Vec<NetnsField> = Change::of(names(b), names(a))
        .map(NetnsField::Interfaces)
        .into_iter()
        .collect();
    let link = |i: &Interface| LinkState {
        up: i.up,
        carrier: i.carrier,
    };
    let bm: BTreeMap<&str, &Interface> = b.iter().map(|i| (i.name.as_str(), i)).collect();
    for ai in a {
        let Some(bi) = bm.get(ai.name.as_str()) else {
            continue;
        };
        if let Some(change) = Change::of(link(bi), link(ai)) {
            out.push(NetnsField::Link {
                interface: ai.name.clone(),
                change,
            });
        }
    }
    out
}

/// Every address with its flags (a set: the kernel's order of flags says nothing).
fn addresses(l: &[Interface]) -> BTreeMap<IfAddr, BTreeSet<AddrFlag>> {
    l.iter()
        .flat_map(|i| {
            i.addresses.iter().map(move |a| {
                let at = IfAddr {
                    interface: i.name.clone(),
                    addr: a.addr,
                    prefix_len: a.prefix_len,
                };
                (at, a.flags.iter().copied().collect())
            })
        })
        .collect()
}

fn address_changes(b: &[Interface], a: &[Interface]) -> Vec<NetnsField> {
    let (bm, am) = (addresses(b), addresses(a));
    let keys =
        |m: &BTreeMap<IfAddr, BTreeSet<AddrFlag>>| m.keys().cloned().collect::<BTreeSet<_>>();
    let mut out: Vec<NetnsField> = Change::of(keys(&bm), keys(&am))
        .map(NetnsField::Addresses)
        .into_iter()
        .collect();
    for (addr, after) in &am {
        let Some(before) = bm.get(addr) else { continue };
        if let Some(change) = Change::of(before.clone(), after.clone()) {
            out.push(NetnsField::AddressFlags {
                address: addr.clone(),
                change,
            });
        }
    }
    out
}
