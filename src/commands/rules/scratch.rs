//! The throwaway network namespace of `rules --verify`: a unique `ip netns` name, `lo` up,
//! deleted when dropped (on success, on error, on panic, and after Ctrl-C, which the command
//! turns into a flag). Nothing is done in the host's namespaces.

use anyhow::{Context as _, bail};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Scratch {
    name: String,
    path: PathBuf,
}

impl Scratch {
    /// `ip netns add bindscope-rules-PID-NANOS`, then `lo` up inside it.
    pub fn create() -> anyhow::Result<Scratch> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("bindscope-rules-{}-{nanos:x}", std::process::id());
        ip(&["netns", "add", &name])?;
        // From here the name exists: dropping `ns` deletes it, whatever fails next.
        let ns = Scratch {
            path: PathBuf::from("/run/netns").join(&name),
            name,
        };
        ip(&["-n", &ns.name, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = ip(&["netns", "del", &self.name]) {
            eprintln!(
                "bindscope: could not delete the throwaway namespace '{}': {e:#}; \
                 delete it with 'ip netns del {}'",
                self.name, self.name
            );
        }
    }
}

/// `ip ARGS…`, its error output in the error. It runs in a process group of its own: a
/// Ctrl-C at the terminal goes to the foreground group, and must not cut `ip netns add` or
/// `ip netns del` half way (a half-made `/run/netns` entry); bindscope itself turns Ctrl-C
/// into a flag and lets the namespace be deleted.
fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip")
        .args(args)
        .process_group(0)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run 'ip {}' (iproute2)", args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "'ip {}' failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}
