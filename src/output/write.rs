//! Files are written whole or not at all: a temporary file in the target directory, flushed
//! and synced, then renamed over the target. A failure leaves any previous file untouched.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write '{path}': {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// Writes through `fill` into a temporary file beside `path`, then renames it into place.
/// The file gets mode 0600: cmdlines in a snapshot can carry secrets.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), WriteError> {
    let err = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".bindscope-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(err)?;
    {
        let mut w = io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        fill(&mut w).map_err(err)?;
        w.flush().map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_or_leaves_old_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("snap.json");
        write_atomic(&p, |w| w.write_all(b"first")).expect("write");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "first");
        let failed = write_atomic(&p, |w| {
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
        let e = write_atomic(Path::new("/nonexistent-dir/x.json"), |_| Ok(())).unwrap_err();
        assert!(
            e.to_string()
                .contains("cannot write '/nonexistent-dir/x.json'"),
            "{e}"
        );
    }
}
