//! The changes of the network namespaces: name, entry, sysctls, interfaces, addresses and
//! the counters that rose.

use super::sockets::{OptionValue, option_change, or_dash, push_value};
use super::{ChangeKind, FieldChange, NetnsChange};
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

fn netns_fields(b: &Netns, a: &Netns) -> Vec<FieldChange> {
    let mut out = Vec::new();
    push_value(
        &mut out,
        "name",
        or_dash(b.name.as_deref()),
        or_dash(a.name.as_deref()),
    );
    let entered = |n: &Netns| match &n.error {
        None => "yes".to_string(),
        Some(e) => format!("no: {e}"),
    };
    push_value(&mut out, "entered", entered(b), entered(a));
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

fn json_display(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .map(|i| json_display(i).unwrap_or_else(|| "?".into()))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn sysctl_changes(b: &Netns, a: &Netns) -> Vec<FieldChange> {
    let (bv, av) = (named_values(&b.sysctls), named_values(&a.sysctls));
    let mut out = Vec::new();
    for (name, after) in &av {
        let before = bv.get(name).and_then(json_display);
        let after = json_display(after);
        let to_opt = |v: Option<String>| v.map_or(OptionValue::Unknown, OptionValue::Known);
        out.extend(option_change(name, to_opt(before), to_opt(after)));
    }
    out
}

/// Counters that rose, with by how much (`15 (+5)`).
fn counter_rises(b: &Netns, a: &Netns) -> Vec<FieldChange> {
    let (bv, av) = (named_values(&b.counters), named_values(&a.counters));
    let mut out = Vec::new();
    for (name, after) in &av {
        let (Some(before), Some(after)) = (bv.get(name).and_then(|v| v.as_u64()), after.as_u64())
        else {
            continue;
        };
        if after > before {
            let rise = after - before;
            out.push(FieldChange::value(
                name,
                before.to_string(),
                format!("{after} (+{rise})"),
            ));
        }
    }
    out
}

/// A set-valued field: before and after whole, and what was added and removed.
fn set_change(field: &str, b: &BTreeSet<String>, a: &BTreeSet<String>) -> Option<FieldChange> {
    if b == a {
        return None;
    }
    let join = |s: &BTreeSet<String>| {
        if s.is_empty() {
            "(none)".to_string()
        } else {
            s.iter().cloned().collect::<Vec<_>>().join(", ")
        }
    };
    Some(FieldChange {
        added: a.difference(b).cloned().collect(),
        removed: b.difference(a).cloned().collect(),
        ..FieldChange::value(field, join(b), join(a))
    })
}

fn interface_changes(b: &[Interface], a: &[Interface]) -> Vec<FieldChange> {
    let names = |l: &[Interface]| l.iter().map(|i| i.name.clone()).collect::<BTreeSet<_>>();
    let mut out: Vec<FieldChange> = set_change("interfaces", &names(b), &names(a))
        .into_iter()
        .collect();
    let link = |i: &Interface| {
        format!(
            "{}, {}",
            if i.up { "up" } else { "down" },
            if i.carrier { "carrier" } else { "no carrier" }
        )
    };
    let bm: BTreeMap<&str, &Interface> = b.iter().map(|i| (i.name.as_str(), i)).collect();
    for ai in a {
        let Some(bi) = bm.get(ai.name.as_str()) else {
            continue;
        };
        let (before, after) = (link(bi), link(ai));
        if before != after {
            out.push(FieldChange {
                subject: Some(ai.name.clone()),
                ..FieldChange::value("link", before, after)
            });
        }
    }
    out
}

/// Every address as `eth0 2001:db8::1/64` with its flags.
fn addresses(l: &[Interface]) -> BTreeMap<String, String> {
    l.iter()
        .flat_map(|i| {
            i.addresses.iter().map(move |a| {
                // A set: the kernel's order of flags says nothing.
                let flags: BTreeSet<AddrFlag> = a.flags.iter().copied().collect();
                let flags: Vec<&str> = flags.into_iter().map(AddrFlag::name).collect();
                let flags = if flags.is_empty() {
                    "none".to_string()
                } else {
                    flags.join(",")
                };
                (format!("{} {}/{}", i.name, a.addr, a.prefix_len), flags)
            })
        })
        .collect()
}

fn address_changes(b: &[Interface], a: &[Interface]) -> Vec<FieldChange> {
    let (bm, am) = (addresses(b), addresses(a));
    let keys = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<BTreeSet<_>>();
    let mut out: Vec<FieldChange> = set_change("addresses", &keys(&bm), &keys(&am))
        .into_iter()
        .collect();
    for (addr, after) in &am {
        let Some(before) = bm.get(addr) else { continue };
        if before != after {
            out.push(FieldChange {
                subject: Some(addr.clone()),
                ..FieldChange::value("address_flags", before.clone(), after.clone())
            });
        }
    }
    out
}
