//! Sharing repeated strings as sockets are parsed: holders of one process keep one copy of
//! its name, user, cmdline and container, as the collector shares them.

use super::budget;
use crate::model::{Container, Socket};
use std::collections::HashSet;
use std::sync::Arc;

/// Shares the strings that repeat across holders and frames: a process holding 10,000
/// sockets is one cmdline in memory, as when it was collected, not 10,000 copies.
#[derive(Default)]
pub(super) struct Interner {
    strs: HashSet<Arc<str>>,
    cmdlines: HashSet<Arc<[String]>>,
    containers: HashSet<Arc<Container>>,
}

impl Interner {
    /// Shares the strings of a socket just parsed; returns what the copies it dropped were
    /// charged to the memory budget.
    pub(super) fn share(&mut self, s: &mut Socket) -> usize {
        let mut freed = self.share_opt(&mut s.user) + self.share_opt(&mut s.host);
        for reason in s.options.reasons.values_mut() {
            freed += self.share_str(reason.reason_mut());
        }
        for h in &mut s.holders {
            freed += self.share_str(&mut h.name)
                + self.share_opt(&mut h.user)
                + self.share_opt(&mut h.unit)
                + self.share_cmdline(&mut h.cmdline);
            if let Some(c) = &mut h.container {
                freed += self.share_container(c);
            }
        }
        freed
    }

    /// One container per process (and per container across its processes): a container
    /// host's file names the same container on every socket of its processes.
    fn share_container(&mut self, c: &mut Arc<Container>) -> usize {
        match self.containers.get(&**c) {
            Some(shared) => {
                *c = Arc::clone(shared);
                container_cost(c)
            }
            None => {
                self.containers.insert(Arc::clone(c));
                0
            }
        }
    }

    fn share_opt(&mut self, s: &mut Option<Arc<str>>) -> usize {
        s.as_mut().map_or(0, |s| self.share_str(s))
    }

    fn share_str(&mut self, s: &mut Arc<str>) -> usize {
        match self.strs.get(&**s) {
            Some(shared) => {
                *s = Arc::clone(shared);
                budget::string_cost(s.len())
            }
            None => {
                self.strs.insert(Arc::clone(s));
                0
            }
        }
    }

    fn share_cmdline(&mut self, c: &mut Arc<[String]>) -> usize {
        match self.cmdlines.get(&**c) {
            Some(shared) => {
                *c = Arc::clone(shared);
                budget::strings_cost(c)
            }
            None => {
                self.cmdlines.insert(Arc::clone(c));
                0
            }
        }
    }
}

/// What a container's strings were charged; its `Arc` block is left out, so the freed
/// amount is never more than was charged (the budget errs on the side of the limit).
fn container_cost(c: &Container) -> usize {
    let opt = |s: &Option<String>| s.as_ref().map_or(0, |s| budget::string_cost(s.len()));
    budget::string_cost(c.id.len())
        + opt(&c.name)
        + opt(&c.image)
        + c.pod
            .as_ref()
            .map_or(0, |p| budget::string_cost(p.name.len()) + opt(&p.namespace))
}
