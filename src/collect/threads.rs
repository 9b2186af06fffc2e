//! Work split over two threads. The collector's heavy parts (the fd walk with the options
//! probe, the namespaces' dumps, a large join) each take a second core when the host has
//! one; this is the one place that makes that thread, waits for it and copes when none can
//! be made.

/// Whether a second thread would run at the same time as this one (two or more cores).
pub fn two_cores() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
}

/// Runs `there` on a new thread named `name` while `here` runs on this one, and gives
/// both results. When no thread can be made (a process limit), `instead` gives `there`'s
/// result on this thread once `here` is done: the rest of the work, or nothing when `here`
/// took every piece of a shared queue. A panic on the new thread goes on here.
pub fn beside<A: Send, B>(
    name: &str,
    there: impl FnOnce() -> A + Send,
    here: impl FnOnce() -> B,
    instead: impl FnOnce() -> A,
) -> (A, B) {
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name(name.to_string())
            .spawn_scoped(scope, there);
        let b = here();
        let a = match helper {
            Ok(helper) => helper
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            Err(_) => instead(),
        };
        (a, b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn both_halves_of_a_shared_queue_are_taken_once() {
        let next = AtomicUsize::new(0);
        let work = || {
            let mut mine = Vec::new();
            while let Some(i) = Some(next.fetch_add(1, Ordering::Relaxed)).filter(|&i| i < 1000) {
                mine.push(i);
            }
            mine
        };
        let (there, here) = beside("test-worker", work, work, Vec::new);
        let mut all: Vec<usize> = there.into_iter().chain(here).collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    #[should_panic(expected = "from the helper")]
    fn a_panic_on_the_helper_goes_on_here() {
        beside("test-worker", || panic!("from the helper"), || (), || ());
    }
}
