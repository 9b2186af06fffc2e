//! Files the user names (`--config`, `open`, `diff`, `-o`, the dashboard's export) are opened
//! with the user's own rights, never with bindscope's privileges.
//!
//! bindscope may run with more rights than its user: with file capabilities (`setcap
//! cap_sys_ptrace,cap_dac_read_search,cap_sys_admin+ep`, the README's recipe) or setuid. Those
//! rights are for `/proc/PID/fd`, `pidfd_getfd` and `setns`; used to open a path from the
//! command line, CAP_DAC_READ_SEARCH would read any file on the host and echo it in errors or
//! on screen. So every such open runs in [`as_user`]: on this thread only (capabilities and
//! uids are per thread on Linux, see capabilities(7) and setresuid(2) NOTES), the effective
//! capability set is emptied and the effective uid and gid become the real ones; afterwards
//! they are put back for the collection. The kernel then checks the path as it would for the
//! user's own shell.
//!
//! A leaf module: it depends on nothing else in the crate.

use rustix::process::{getegid, geteuid, getgid, getuid};
use rustix::thread::{CapabilitySet, CapabilitySets, capabilities, set_capabilities};
use rustix::thread::{set_thread_res_gid, set_thread_res_uid};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// What this thread holds beyond its real user, to give up while a user's file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Elevation {
    caps: CapabilitySets,
    euid: rustix::process::Uid,
    egid: rustix::process::Gid,
}

/// This thread's rights when they exceed the real user's, `None` when they do not: the real
/// uid is root (root's rights are its own), or nothing is effective beyond the real ids.
fn elevation() -> io::Result<Option<Elevation>> {
    let (uid, euid, gid, egid) = (getuid(), geteuid(), getgid(), getegid());
    if uid.is_root() {
        return Ok(None);
    }
    let caps = capabilities(None)?;
    if caps.effective.is_empty() && euid == uid && egid == gid {
        return Ok(None);
    }
    Ok(Some(Elevation { caps, euid, egid }))
}

/// Runs `f` with the real user's rights on this thread, and restores the thread's rights
/// afterwards. When the rights cannot be dropped, `f` is not run: opening the file with them
/// is exactly what must not happen.
pub fn as_user<T>(f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    let refuse = |what: &str, e: io::Error| {
        io::Error::other(format!(
            "cannot drop privileges to open a file with your own rights ({what}: {e})"
        ))
    };
    let Some(up) = elevation().map_err(|e| refuse("capget", e))? else {
        return f();
    };
    // Capabilities first: a setuid-root thread that changes its euid from 0 loses its
    // effective capabilities anyway, and gets them back when it returns to 0.
    let dropped = CapabilitySets {
        effective: CapabilitySet::empty(),
        ..up.caps
    };
    set_capabilities(None, dropped).map_err(|e| refuse("capset", e.into()))?;
    // From here on the rights come back however `f` ends, a panic included.
    let _restore = Restore(up);
    // Keep the saved ids as they are (None), so the thread can return to its effective ids.
    set_thread_res_gid(None, getgid(), None)
        .and_then(|()| set_thread_res_uid(None, getuid(), None))
        .map_err(|e| refuse("setresuid", e.into()))?;
    f()
}

/// Puts the thread's ids and capabilities back when dropped. A failure here would leave the
/// collection with fewer rights, never more: it shows as unreadable processes, which the run
/// reports.
struct Restore(Elevation);

impl Drop for Restore {
    fn drop(&mut self) {
        let up = &self.0;
        let _ = set_thread_res_uid(None, up.euid, None);
        let _ = set_thread_res_gid(None, up.egid, None);
        let _ = set_capabilities(None, up.caps);
    }
}

/// What kind of thing a path is, for the refusal messages.
pub fn kind_name(ft: std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "a file"
    }
}

/// Why a path that is not a regular file was refused.
#[derive(Debug, thiserror::Error)]
#[error("is {kind}, not a regular file")]
pub struct NotRegular {
    pub kind: &'static str,
}

/// Opens a file to read, with the user's rights. Only regular files: a FIFO with no writer
/// would block forever and a device never ends, so they are refused (the open itself does
/// not block: O_NONBLOCK, which means nothing for a regular file once it is open).
pub fn open_read(path: &Path) -> io::Result<File> {
    as_user(|| {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)?;
        let ft = file.metadata()?.file_type();
        if !ft.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                NotRegular {
                    kind: kind_name(ft),
                },
            ));
        }
        Ok(file)
    })
}

/// What [`open_stream`] opened.
pub enum Stream {
    /// A regular file: it can be followed as it grows.
    File(File),
    /// A pipe (a FIFO, `<(command)`): read until its writer closes it.
    Pipe(File),
}

/// Opens a file or a pipe to read as a stream, with the user's rights. Unlike
/// [`open_read`], a pipe is taken: its reader is a thread of its own, for which waiting is
/// the job (the open itself waits for a FIFO's writer). Devices, directories and sockets
/// are refused.
pub fn open_stream(path: &Path) -> io::Result<Stream> {
    as_user(|| {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOCTTY)
            .open(path)?;
        let ft = file.metadata()?.file_type();
        if ft.is_file() {
            Ok(Stream::File(file))
        } else if ft.is_fifo() {
            Ok(Stream::Pipe(file))
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                NotRegular {
                    kind: kind_name(ft),
                },
            ))
        }
    })
}

/// Why a small file was refused: it is larger than the most it may be.
#[derive(Debug, thiserror::Error)]
#[error("is larger than {max} bytes, more than a file of this kind can be")]
pub struct TooLarge {
    pub max: u64,
}

/// Reads a whole (regular) file of at most `max` bytes with the user's rights, as UTF-8
/// text: a config file, not whatever large file a path names.
pub fn read_to_string(path: &Path, max: u64) -> io::Result<String> {
    let file = open_read(path)?;
    let mut text = String::new();
    io::Read::read_to_string(&mut io::Read::take(file, max.saturating_add(1)), &mut text)?;
    if text.len() as u64 > max {
        return Err(io::Error::new(io::ErrorKind::InvalidData, TooLarge { max }));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_and_refuses_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.toml");
        std::fs::write(&file, "x = 1\n").expect("write");
        assert_eq!(read_to_string(&file, 6).expect("read"), "x = 1\n");
        let e = read_to_string(&file, 5).expect_err("too large");
        assert!(e.to_string().contains("is larger than 5 bytes"), "{e}");

        let e = open_read(dir.path()).expect_err("a directory");
        assert!(e.to_string().contains("is a directory"), "{e}");

        let fifo = dir.path().join("fifo");
        crate::testing::mkfifo(&fifo);
        // Returns at once (no writer needed) and refuses.
        let e = open_read(&fifo).expect_err("a FIFO");
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("FIFO"), "{e}");

        let e = open_read(Path::new("/dev/zero")).expect_err("a device");
        assert!(e.to_string().contains("character device"), "{e}");

        let e = open_read(&dir.path().join("missing")).expect_err("missing");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    /// As root: a thread whose real uid is nobody's but whose effective uid is still 0 (as in
    /// a setuid-root run) cannot read a root-only file inside `as_user`, and can again after.
    #[test]
    fn a_privileged_thread_opens_with_its_real_users_rights() {
        if !crate::testing::as_root("a privileged thread's rights") {
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let secret = dir.path().join("secret.toml");
        std::fs::write(&secret, "db_password = 'hunter2'\n").expect("write");
        std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .expect("chmod");
        let seen = std::thread::spawn(move || {
            // Only this thread: uids are per thread for the raw syscall.
            let nobody = rustix::process::Uid::from_raw(65534);
            set_thread_res_uid(nobody, None, None).expect("setresuid");
            let inside = read_to_string(&secret, 1 << 20);
            let after = std::fs::read_to_string(&secret);
            (
                inside.map_err(|e| e.kind()),
                after.is_ok(),
                geteuid().is_root(),
            )
        })
        .join()
        .expect("thread");
        assert_eq!(seen.0, Err(io::ErrorKind::PermissionDenied));
        assert!(seen.1, "the thread's rights are back after as_user");
        assert!(seen.2, "the effective uid is back");
    }
}
