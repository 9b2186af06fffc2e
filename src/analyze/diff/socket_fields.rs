//! The fields of a matched pair of sockets that differ (module docs of [`super`], "Fields
//! compared"), as typed [`SocketField`]s, queues last.

use super::fields::{Change, Holders, OptionRead, OptionSetting, Remote, SocketField};
use crate::model::{OptionName, OptionState, Options, Socket};

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

fn option_changes(b: &Options, a: &Options) -> Vec<SocketField> {
    OptionName::ALL
        .into_iter()
        .filter_map(|name| {
            let change = Change::of(option_read(b, name), option_read(a, name))?;
            Some(SocketField::Option { name, change })
        })
        .collect()
}

/// One option of `o`: its value, or whether it is unknown or does not apply. A reason that
/// changed is not a changed option.
fn option_read(o: &Options, name: OptionName) -> OptionRead {
    match o.state(name) {
        OptionState::Known(v) => OptionRead::Known(OptionSetting::from(v)),
        OptionState::NotApplicable(_) => OptionRead::NotApplicable,
        OptionState::Unknown(_) => OptionRead::Unknown,
    }
}
