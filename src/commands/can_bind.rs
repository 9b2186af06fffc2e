//! `bindscope can-bind`: the what-if, from a fresh snapshot of one namespace.

use super::{text_to_stdout, to_stdout};
use crate::analyze::whatif::{self, BindRequest, BindResult};
use crate::cli::{BindProto, CanBindArgs, CanBindFormat};
use crate::collect::linux::collector::{self, CollectConfig, NetnsSelect};
use crate::model::{Proto, View};
use anyhow::{Context as _, bail};

/// A user name or a uid → uid.
fn resolve_user(user: Option<&str>) -> anyhow::Result<u32> {
    match user {
        None => Ok(rustix::process::getuid().as_raw()),
        Some(u) => match u.parse::<u32>() {
            Ok(uid) => Ok(uid),
            Err(_) => uzers::get_user_by_name(u)
                .map(|x| x.uid())
                .with_context(|| format!("no user '{u}'")),
        },
    }
}

pub fn run(args: &CanBindArgs) -> anyhow::Result<u8> {
    // The parser's message quotes the endpoint itself (cleaned).
    let (addr, scope_device, port) =
        whatif::parse_endpoint(&args.endpoint).map_err(anyhow::Error::msg)?;
    let uid = resolve_user(args.user.as_deref())?;
    let proto = match args.proto {
        BindProto::Tcp => Proto::Tcp,
        BindProto::Udp => Proto::Udp,
    };
    if args.listen && proto == Proto::Udp {
        bail!("--listen is for tcp: UDP sockets do not listen");
    }
    // Every socket on the port matters, connections and TIME_WAIT included (§6).
    let cfg = CollectConfig {
        view: View::All,
        netns: NetnsSelect::Only(vec![args.netns.clone().unwrap_or_else(|| "current".into())]),
        ..CollectConfig::default()
    };
    let snap = collector::collect(&cfg)?;
    // A name can match several namespaces now (a glob, an id prefix, a pod): the question is
    // about one, so more is an error that lists them rather than a silent pick.
    let ns = match snap.netns.as_slice() {
        [] => bail!("the namespace was not found"),
        [one] => one,
        several => bail!(
            "--netns {} matches {} network namespaces ({}): name one",
            args.netns.as_deref().unwrap_or("current"),
            several.len(),
            several
                .iter()
                .map(|n| crate::analyze::describe::netns_label(&snap, n.id))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    if let Some(e) = &ns.error {
        bail!("cannot read network namespace {}: {e}", ns.id);
    }
    let req = BindRequest {
        history_complete: false,
        proto,
        addr,
        port,
        scope_device,
        reuseaddr: args.reuseaddr,
        reuseport: args.reuseport,
        v6only: args.v6only.then_some(true),
        freebind: args.freebind,
        transparent: args.transparent,
        device: args.device.clone(),
        uid,
        listen: args.listen,
    };
    let verdict = whatif::can_bind(&snap, ns.id, &req);
    super::explain_privileges(&snap, args.quiet);
    match args.format() {
        CanBindFormat::Text => {
            let text = crate::output::whatif::render_text(&verdict);
            text_to_stdout(&text)?;
        }
        CanBindFormat::Json => to_stdout(|w| {
            crate::output::json::to_writer(&mut *w, &crate::output::whatif::json(&verdict))?;
            w.write_all(b"\n")
        })?,
    }
    Ok(match verdict.result {
        BindResult::Ok => 0,
        BindResult::Uncertain => 3,
        _ => 1,
    })
}
