//! `bindscope can-bind`: the what-if, from a fresh snapshot of one namespace, or with
//! `--from FILE [--at TIME]` from a snapshot file or a recording's sample (module `at`).

mod at;

use super::{limits, load, text_to_stdout, to_stdout};
use crate::analyze::whatif::{self, BindRequest, BindResult};
use crate::cli::{BindProto, CanBindArgs, CanBindFormat};
use crate::collect::linux::collector::{self, CollectConfig, NetnsSelect};
use crate::model::names::{NamePattern, NetnsNames};
use crate::model::{Proto, Snapshot, View};
use crate::output::whatif::FromJson;
use crate::text::clean;
use anyhow::{Context as _, bail};
use std::path::Path;

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
    let proto = match args.proto {
        BindProto::Tcp => Proto::Tcp,
        BindProto::Udp => Proto::Udp,
    };
    if args.listen && proto == Proto::Udp {
        bail!("--listen is for tcp: UDP sockets do not listen");
    }
    let asked_netns = args.netns.as_deref().unwrap_or("current");
    let (snap, from) = match &args.from {
        Some(path) => from_file(path, args)?,
        None => {
            // Every socket on the port matters, connections and TIME_WAIT included (§6).
            let cfg = CollectConfig {
                view: View::All,
                netns: NetnsSelect::Only(vec![asked_netns.to_string()]),
                ..CollectConfig::default()
            };
            (collector::collect(&cfg)?, None)
        }
    };
    // A file holds every namespace it was taken of: the one asked about is picked by the
    // names the collector knows it by (`current` is the one bindscope ran in).
    let pattern = NamePattern::parse(asked_netns);
    let matching: Vec<_> = snap
        .netns
        .iter()
        .filter(|n| from.is_none() || pattern.matches_netns(&NetnsNames::of(n)))
        .collect();
    // A name can match several namespaces now (a glob, an id prefix, a pod): the question is
    // about one, so more is an error that lists them rather than a silent pick.
    let ns = match matching.as_slice() {
        [] => bail!("the namespace was not found"),
        [one] => *one,
        several => bail!(
            "--netns {} matches {} network namespaces ({}): name one",
            asked_netns,
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
    let uid = match &from {
        None => resolve_user(args.user.as_deref())?,
        Some(_) => recorded_user(&snap, args)?,
    };
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
    if from.is_none() {
        super::explain_privileges(&snap, args.quiet);
    }
    match args.format() {
        CanBindFormat::Text => {
            let mut text = String::new();
            if let Some(f) = &from {
                text.push_str(&f.line());
                text.push('\n');
            }
            text.push_str(&crate::output::whatif::render_text(&verdict));
            text_to_stdout(&text)?;
        }
        CanBindFormat::Json => to_stdout(|w| {
            let mut json = crate::output::whatif::json(&verdict);
            json.from = from;
            crate::output::json::to_writer(&mut *w, &json)?;
            w.write_all(b"\n")
        })?,
    }
    Ok(match verdict.result {
        BindResult::Ok => 0,
        BindResult::Uncertain => 3,
        _ => 1,
    })
}

/// The sample of `path` that answers: the last, or with `--at` the newest at or before
/// that moment; and what the answer is as of. A moment past the end of the recording is
/// answered with its last sample, and stderr says so (unless `-q`).
fn from_file(path: &Path, args: &CanBindArgs) -> anyhow::Result<(Snapshot, Option<FromJson>)> {
    let at = args
        .at
        .as_deref()
        .map(at::parse_at)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let loaded = load(path, &limits(args.max_size))?;
    let times: Vec<Option<i64>> = loaded
        .frames
        .iter()
        .map(|f| f.taken_at.time().map(|t| t.unix_millis()))
        .collect();
    let shown = clean(&path.display().to_string()).into_owned();
    let picked = at::pick(&times, at).map_err(|e| anyhow::anyhow!("--at: {e} ('{shown}')"))?;
    let samples = loaded.frames.len();
    let Some(snap) = loaded.frames.into_iter().nth(picked.index) else {
        bail!("'{shown}' holds no snapshot");
    };
    let from = FromJson {
        file: shown,
        taken_at: snap.taken_at.to_string(),
        sample: picked.index + 1,
        samples,
        asked: picked.asked.map(at::text_of),
    };
    if picked.after_the_end && !args.quiet.quiet {
        eprintln!(
            "bindscope: the file's samples end before {}: answering as of its last, {}",
            from.asked.as_deref().unwrap_or_default(),
            clean(&snap.taken_at.screen_text())
        );
    }
    Ok((snap, Some(from)))
}

/// Who would bind, asked of a file: a name is looked up among the file's sockets and
/// holders first (the recorded host's users, which this machine may not have), then here;
/// without `--user`, it is you, by your uid here. Which it was is said on stderr (unless
/// `-q`) when it did not come from the file.
fn recorded_user(snap: &Snapshot, args: &CanBindArgs) -> anyhow::Result<u32> {
    let say = |text: String| {
        if !args.quiet.quiet {
            eprintln!("bindscope: {text}");
        }
    };
    let Some(name) = args.user.as_deref() else {
        let uid = rustix::process::getuid().as_raw();
        say(format!(
            "--user not given: asked for uid {uid} (you, on this machine); --user NAME|UID asks for another"
        ));
        return Ok(uid);
    };
    if let Ok(uid) = name.parse::<u32>() {
        return Ok(uid);
    }
    let named = |u: &Option<std::sync::Arc<str>>| u.as_deref() == Some(name);
    let in_file = snap.sockets.iter().find_map(|s| {
        if named(&s.user) {
            return Some(s.uid);
        }
        s.holders.iter().find(|h| named(&h.user)).map(|h| h.uid)
    });
    match in_file {
        Some(uid) => Ok(uid),
        None => {
            let uid = resolve_user(Some(name)).with_context(|| {
                format!(
                    "no user '{}' in the file or on this machine: give the uid",
                    clean(name)
                )
            })?;
            say(format!(
                "no user '{}' in the file: uid {uid} is this machine's",
                clean(name)
            ));
            Ok(uid)
        }
    }
}
