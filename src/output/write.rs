//! Files are written whole or not at all: a temporary file in the target directory, flushed
//! and synced, then renamed over the target. A failure leaves any previous file untouched.

use crate::text::clean;
use crate::user_files::{NotRegular, as_user, kind_name};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write '{path}': {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// Mode of files that can carry cmdlines (JSON, CSV, Markdown, tables): only the owner reads
/// them, since a cmdline can hold a password.
pub const PRIVATE: u32 = 0o600;
/// Mode of files without cmdlines (the Prometheus export), so that node_exporter, running as
/// its own user, can read them.
pub const SHARED: u32 = 0o644;

/// Writes through `fill` into a temporary file beside `path`, then renames it into place,
/// with `mode`, all with the user's own rights (see `user_files`).
///
/// Only a regular file (or nothing) at `path` is replaced. A character device is written
/// through, as a shell's `> /dev/null` would; anything else (a FIFO, a directory, a socket, a
/// block device) is refused: renaming over `/dev/null` as root would destroy it.
pub fn write_atomic(
    path: &Path,
    mode: u32,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), WriteError> {
    let err = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    as_user(|| match existing(path)? {
        Existing::CharDevice => write_through(path, fill),
        Existing::Regular | Existing::Nothing => replace(path, mode, fill),
    })
    .map_err(err)
}

/// Opens a recording to append to (`record -o`, the dashboard's `R`), with the user's own rights: a new file, or with `force` an emptied
/// one; mode 0600 because cmdlines can carry secrets. A character device (`/dev/null`) is
/// written to as a shell would; anything else that is not a regular file is refused (a FIFO
/// with no reader would block, and is not evidence on disk).
pub fn create_recording(path: &Path, force: bool) -> anyhow::Result<File> {
    create_recording_or(path, force, ", or --force to replace it")
}

/// As [`create_recording`], with `hint` after "'PATH' exists: choose another name".
pub fn create_recording_or(path: &Path, force: bool, hint: &str) -> anyhow::Result<File> {
    let shown = || clean(&path.display().to_string()).into_owned();
    let opened = as_user(|| {
        let mut o = OpenOptions::new();
        o.write(true).mode(0o600).custom_flags(libc::O_NOCTTY);
        match existing(path)? {
            // Written to as a shell would: nothing to create or empty.
            Existing::CharDevice => {}
            Existing::Regular | Existing::Nothing if force => {
                o.create(true).truncate(true);
            }
            Existing::Regular | Existing::Nothing => {
                o.create_new(true);
            }
        }
        o.open(path)
    });
    opened.map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => {
            anyhow::anyhow!("'{}' exists: choose another name{hint}", shown())
        }
        _ => anyhow::anyhow!("cannot create '{}': {e}", shown()),
    })
}

/// What an output path names now (through symbolic links, so `/dev/stdout` is the device).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Nothing,
    Regular,
    /// Written through, never replaced: `/dev/null`, a terminal.
    CharDevice,
}

/// What is at `path`; an error for what bindscope never writes to: a FIFO (with no reader
/// it would block), a directory, a socket, a block device.
pub fn existing(path: &Path) -> io::Result<Existing> {
    match std::fs::metadata(path) {
        Ok(m) if m.file_type().is_char_device() => Ok(Existing::CharDevice),
        Ok(m) if m.is_file() => Ok(Existing::Regular),
        Ok(m) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            NotRegular {
                kind: kind_name(m.file_type()),
            },
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Existing::Nothing),
        Err(e) => Err(e),
    }
}

/// The temporary file, filled, synced, given its mode and renamed over `path`.
fn replace(
    path: &Path,
    mode: u32,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".bindscope-")
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(PRIVATE))
        .tempfile_in(dir)?;
    {
        let mut w = io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        fill(&mut w)?;
        w.flush()?;
    }
    // fchmod, not the umask's say: the mode is the point (0644 for node_exporter).
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes into an existing character device, without creating or truncating anything.
fn write_through(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let file = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(path)?;
    let mut w = io::BufWriter::with_capacity(1 << 16, file);
    fill(&mut w)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_or_leaves_old_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("snap.json");
        write_atomic(&p, PRIVATE, |w| w.write_all(b"first")).expect("write");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "first");
        let failed = write_atomic(&p, PRIVATE, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "first");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary file removed");
    }

    #[test]
    fn missing_directory_is_a_clear_error() {
        let e =
            write_atomic(Path::new("/nonexistent-dir/x.json"), PRIVATE, |_| Ok(())).unwrap_err();
        assert!(
            e.to_string()
                .contains("cannot write '/nonexistent-dir/x.json'"),
            "{e}"
        );
    }

    fn mode_of(p: &Path) -> u32 {
        std::fs::metadata(p).expect("stat").permissions().mode() & 0o7777
    }

    #[test]
    fn modes_are_set_exactly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("x.prom");
        write_atomic(&p, SHARED, |w| w.write_all(b"m 1\n")).expect("write");
        assert_eq!(mode_of(&p), 0o644);
        write_atomic(&p, PRIVATE, |w| w.write_all(b"{}")).expect("write");
        assert_eq!(
            mode_of(&p),
            0o600,
            "replacing gives the new file its own mode"
        );
    }

    #[test]
    fn a_fifo_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        crate::testing::mkfifo(&fifo);
        let e = write_atomic(&fifo, PRIVATE, |w| w.write_all(b"x")).expect_err("refused");
        assert!(e.to_string().contains("is a FIFO"), "{e}");
        let ft = std::fs::symlink_metadata(&fifo).expect("stat").file_type();
        assert!(ft.is_fifo(), "still a FIFO");
        let e = write_atomic(dir.path(), PRIVATE, |w| w.write_all(b"x")).expect_err("dir");
        assert!(e.to_string().contains("is a directory"), "{e}");
    }

    /// As root: a thread whose real uid is nobody's but whose effective uid is still 0 (a
    /// setuid-root run) cannot write into a directory only root may write to.
    #[test]
    fn a_privileged_thread_writes_with_its_real_users_rights() {
        if !crate::testing::as_root("a privileged thread's rights") {
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let target = dir.path().join("out.json");
        let written = std::thread::spawn(move || {
            let nobody = rustix::process::Uid::from_raw(65534);
            rustix::thread::set_thread_res_uid(nobody, None, None).expect("setresuid");
            let r = write_atomic(&target, PRIVATE, |w| w.write_all(b"{}"));
            (r.map_err(|e| e.to_string()), target.exists())
        })
        .join()
        .expect("thread");
        let (result, exists) = written;
        assert!(
            result
                .as_ref()
                .is_err_and(|e| e.contains("Permission denied")),
            "{result:?}"
        );
        assert!(!exists, "nothing written");
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").collect();
        assert!(left.is_empty(), "no temporary file either");
    }

    #[test]
    fn a_character_device_is_written_through() {
        let before = std::fs::metadata("/dev/null").expect("stat");
        write_atomic(Path::new("/dev/null"), PRIVATE, |w| w.write_all(b"gone")).expect("write");
        let after = std::fs::metadata("/dev/null").expect("stat");
        assert!(
            after.file_type().is_char_device(),
            "/dev/null is still a device"
        );
        use std::os::unix::fs::MetadataExt;
        assert_eq!((before.ino(), before.mode()), (after.ino(), after.mode()));
    }
}
