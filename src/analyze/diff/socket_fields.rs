//! The fields of a matched pair of sockets that differ (module docs of [`super`], "Fields
//! compared"), as typed [`SocketField`]s, queues last.

use super::fields::{Change, Holders, OptionSetting, OptionValue, Remote, SocketField};
use crate::model::{OptionName, Options, Socket};

/// Every field that differs, queues last. `same_host`: a different id is a recreated socket
/// only when both snapshots are of one host.
pub(super) fn socket_fields(b: &Socket, a: &Socket, same_host: bool) -> Vec<SocketField> {
    let mut out = Vec::new();
    if same_host {
        out.extend(Change::of(b.id.clone(), a.id.clone()).map(SocketField::Socket));
    }
    // As the table names states: a change it would not show is no change.
    if b.state_label() != a.state_label() {
        out.push(SocketField::State(Change {
            before: b.state,
            after: a.state,
        }));
    }
    out.extend(
        Change::of((b.local_addr, b.local_port), (a.local_addr, a.local_port))
            .map(SocketField::Local),
    );
    out.extend(Change::of(Remote::of(b), Remote::of(a)).map(SocketField::Remote));
    out.extend(Change::of(b.uid, a.uid).map(SocketField::Uid));
    out.extend(Change::of(b.user.clone(), a.user.clone()).map(SocketField::User));
    out.extend(Change::of(b.device.clone(), a.device.clone()).map(SocketField::Device));
    out.extend(Change::of(b.scope, a.scope).map(SocketField::Scope));
    out.extend(Change::of(b.address_state, a.address_state).map(SocketField::AddressState));
    out.extend(option_changes(&b.options, &a.options));
    let holders = Change {
        before: Holders::of(b),
        after: Holders::of(a),
    };
    if !holders.before.same_members(&holders.after) {
        out.push(SocketField::Holders(holders));
    }
    out.extend(Change::of(b.accept_queue, a.accept_queue).map(SocketField::AcceptQueue));
    out.extend(Change::of(b.syn_recv, a.syn_recv).map(SocketField::SynRecv));
    out
}

/// The options in the order reports list them.
const OPTIONS: [OptionName; 9] = [
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

fn option_changes(b: &Options, a: &Options) -> Vec<SocketField> {
    OPTIONS
        .into_iter()
        .filter_map(|name| {
            let change = Change::of(option_value(b, name), option_value(a, name))?;
            Some(SocketField::Option { name, change })
        })
        .collect()
}

/// One option of `o`: its value, or whether it is unknown or does not apply.
fn option_value(o: &Options, name: OptionName) -> OptionValue {
    let known = |v: Option<OptionSetting>| match v {
        Some(v) => OptionValue::Known(v),
        None if o.not_applicable(name) => OptionValue::NotApplicable,
        None => OptionValue::Unknown,
    };
    let flag = |v: Option<bool>| known(v.map(OptionSetting::Flag));
    match name {
        OptionName::Reuseaddr => flag(o.reuseaddr),
        OptionName::Reuseport => flag(o.reuseport),
        OptionName::V6only => flag(o.v6only),
        OptionName::Freebind => flag(o.freebind),
        OptionName::Transparent => flag(o.transparent),
        OptionName::Nonblocking => flag(o.nonblocking),
        OptionName::DeferAccept => known(o.defer_accept.map(OptionSetting::Seconds)),
        OptionName::Fastopen => known(o.fastopen.map(OptionSetting::QueueLen)),
        OptionName::BindDevice => bind_device(o),
        // Not an option of the model: nothing to compare.
        OptionName::Other => OptionValue::Unknown,
    }
}

/// SO_BINDTODEVICE: `None` without a reason is a known "no device" (model docs).
fn bind_device(o: &Options) -> OptionValue {
    let reason = o.reasons.contains_key(&OptionName::BindDevice);
    match &o.bind_device {
        Some(d) => OptionValue::Known(OptionSetting::Device(Some(d.clone()))),
        None if !reason => OptionValue::Known(OptionSetting::Device(None)),
        None if o.not_applicable(OptionName::BindDevice) => OptionValue::NotApplicable,
        None => OptionValue::Unknown,
    }
}
