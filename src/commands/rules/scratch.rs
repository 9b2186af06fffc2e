//! The throwaway network namespace of `rules --verify`: a unique `ip netns` name, `lo` up,
//! deleted when dropped (on success, on error, on panic, and after Ctrl-C, which the command
//! turns into a flag). Nothing is done in the host's namespaces.

use anyhow::{Context as _, bail};
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

/// `ip ARGS…`, its error output in the error.
fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip")
        .args(args)
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
