//! SIGTERM, SIGHUP and SIGINT end the dashboard and `record` cleanly: the handler only
//! stores which signal came, the loop sees it, restores what it must and exits with
//! 128 + the signal's number (143, 129, 130), the status shells give a process a signal
//! ended, so `bindscope; echo $?` and service managers see how it stopped.
//!
//! A leaf module: it depends on nothing else in the crate.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The signals that end a long-running command.
pub const ENDING: [i32; 3] = [
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGINT,
];

/// Which ending signal arrived, if any.
#[derive(Debug, Clone, Default)]
pub struct Ending(Arc<AtomicUsize>);

impl Ending {
    /// Installs the handlers. Nothing is done inside them but a store.
    pub fn register() -> io::Result<Ending> {
        let ending = Ending::default();
        for sig in ENDING {
            signal_hook::flag::register_usize(sig, Arc::clone(&ending.0), sig as usize)?;
        }
        Ok(ending)
    }

    /// The signal that arrived (the last one, when several did).
    pub fn received(&self) -> Option<i32> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            sig => i32::try_from(sig).ok(),
        }
    }

    /// The exit status for the signal that arrived, `None` when none did.
    pub fn exit_status(&self) -> Option<u8> {
        self.received().map(exit_status)
    }
}

/// 128 + the signal's number, as shells report a process a signal ended.
pub fn exit_status(sig: i32) -> u8 {
    u8::try_from(128 + sig.clamp(0, 127)).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_the_shells() {
        assert_eq!(exit_status(signal_hook::consts::SIGTERM), 143);
        assert_eq!(exit_status(signal_hook::consts::SIGHUP), 129);
        assert_eq!(exit_status(signal_hook::consts::SIGINT), 130);
    }

    #[test]
    fn a_raised_signal_is_seen() {
        let ending = Ending::register().expect("register");
        assert_eq!(ending.received(), None);
        // SIGHUP: the test harness does not use it; the handler replaces its default.
        rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::HUP)
            .expect("kill");
        let seen = (0..200).find_map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(5));
            ending.exit_status()
        });
        assert_eq!(seen, Some(129));
    }
}
