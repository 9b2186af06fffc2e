//! Reading a container runtime's state files (Docker's `config.v2.json`, an OCI bundle's
//! `config.json`, Podman's database, ...): with the user's own rights and a size limit.
//!
//! They are not process data: bindscope's capabilities (for `/proc/PID/fd`, pidfd_getfd and
//! setns) must not be used to read them, so a user who could not read Docker's state sees
//! what the world-readable sources say (ids from the cgroup, names from conmon's command
//! line) and no more. Refusals are normal there and are counted, not reported per file.

use serde::{Deserialize, Serialize};
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

/// The most a JSON or text state file may be (Docker's config.v2.json is a few KiB).
pub const MAX_JSON: u64 = 4 << 20;
/// The most Podman's BoltDB may be: it grows with containers and keeps free pages.
pub const MAX_DB: u64 = 64 << 20;

/// Why a state file was not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum StateFileError {
    #[error("does not exist")]
    Missing,
    #[error("permission denied")]
    Denied,
    #[error("is larger than {max} bytes")]
    TooLarge { max: u64 },
    #[error("{0}")]
    Other(String),
}

impl From<io::Error> for StateFileError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => StateFileError::Missing,
            io::ErrorKind::PermissionDenied => StateFileError::Denied,
            _ => StateFileError::Other(e.to_string()),
        }
    }
}

/// Reads a whole regular file of at most `max` bytes with the user's rights
/// (`user_files::open_read`).
pub fn read_state_file(path: &Path, max: u64) -> Result<Arc<[u8]>, StateFileError> {
    let file = crate::user_files::open_read(path)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(StateFileError::TooLarge { max });
    }
    Ok(Arc::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("config.json");
        std::fs::write(&f, b"{\"a\":1}").unwrap();
        assert_eq!(&*read_state_file(&f, 100).unwrap(), b"{\"a\":1}");
        assert_eq!(
            read_state_file(&f, 3),
            Err(StateFileError::TooLarge { max: 3 })
        );
        assert_eq!(
            read_state_file(&dir.path().join("nope"), 100),
            Err(StateFileError::Missing)
        );
        assert_eq!(
            read_state_file(&f.join("below-a-file"), 100),
            Err(StateFileError::Missing)
        );
        // A directory is not a state file.
        assert!(matches!(
            read_state_file(dir.path(), 100),
            Err(StateFileError::Other(_))
        ));
    }
}
