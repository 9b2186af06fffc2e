//! Sharing repeated strings as sockets are parsed: holders of one process keep one copy of
//! its name, user and cmdline, as the collector shares them.

use super::budget;
use crate::model::Socket;
use std::collections::HashSet;
use std::sync::Arc;

/// Shares the strings that repeat across holders and frames: a process holding 10,000
/// sockets is one cmdline in memory, as when it was collected, not 10,000 copies.
#[derive(Default)]
pub(super) struct Interner {
    strs: HashSet<Arc<str>>,
    cmdlines: HashSet<Arc<[String]>>,
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
        }
        freed
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
