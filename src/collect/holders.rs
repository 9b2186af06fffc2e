//! Who holds each socket: every (pid, fd) per socket inode, as one fd walk found them.
//!
//! One vector for the whole host and an index into it, not a vector per socket: at 50,000
//! sockets that is one allocation instead of 50,000, and the collector, the join and the
//! live view's checks share it (`Arc`) instead of copying it.

use std::collections::{HashMap, HashSet};

/// A map keyed by kernel numbers (inodes, cookies, pids): foldhash, not SipHash. The keys
/// come from the kernel, not from someone who could choose collisions, and these maps hold
/// one entry per socket of the host (a snapshot of 50,000 sockets makes several).
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;
/// A set of kernel numbers, as [`FastMap`].
pub type FastSet<K> = HashSet<K, foldhash::fast::FixedState>;

/// Every (pid, fd) holding each socket inode, in the order the walk found them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holders {
    /// Grouped by inode.
    fds: Vec<(u32, u32)>,
    /// inode → its group in `fds` (start, end).
    at: FastMap<u64, (u32, u32)>,
}

impl Holders {
    /// From (inode, pid, fd) in walk order; each inode's holders keep that order.
    pub fn from_walk(found: impl IntoIterator<Item = (u64, u32, u32)>) -> Holders {
        let mut found: Vec<(u64, u32, u32)> = found.into_iter().collect();
        // Stable: a socket's holders stay in walk order.
        found.sort_by_key(|&(inode, _, _)| inode);
        let mut at = FastMap::with_capacity_and_hasher(found.len(), Default::default());
        let mut fds = Vec::with_capacity(found.len());
        let mut start = 0usize;
        for (i, &(inode, pid, fd)) in found.iter().enumerate() {
            fds.push((pid, fd));
            let last_of_group = found.get(i + 1).is_none_or(|next| next.0 != inode);
            if last_of_group {
                at.insert(inode, (start as u32, (i + 1) as u32));
                start = i + 1;
            }
        }
        Holders { fds, at }
    }

    /// The holders of `inode`, `None` when the walk found none.
    pub fn get(&self, inode: u64) -> Option<&[(u32, u32)]> {
        let &(start, end) = self.at.get(&inode)?;
        self.fds.get(start as usize..end as usize)
    }

    /// The holders of `inode`, empty when none.
    pub fn of(&self, inode: u64) -> &[(u32, u32)] {
        self.get(inode).unwrap_or(&[])
    }

    /// Every (pid, fd) of every socket.
    pub fn all(&self) -> &[(u32, u32)] {
        &self.fds
    }

    /// How many sockets have holders.
    pub fn len(&self) -> usize {
        self.at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }
}

impl FromIterator<(u64, (u32, u32))> for Holders {
    fn from_iter<I: IntoIterator<Item = (u64, (u32, u32))>>(iter: I) -> Holders {
        Holders::from_walk(iter.into_iter().map(|(inode, (pid, fd))| (inode, pid, fd)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders_are_grouped_by_inode_in_walk_order() {
        let h = Holders::from_walk([(7, 10, 3), (5, 11, 4), (7, 12, 5), (9, 10, 6), (7, 1, 1)]);
        assert_eq!(h.get(7), Some(&[(10, 3), (12, 5), (1, 1)][..]));
        assert_eq!(h.get(5), Some(&[(11, 4)][..]));
        assert_eq!(h.of(9), &[(10, 6)]);
        assert_eq!(h.get(8), None);
        assert!(h.of(8).is_empty());
        assert_eq!(h.len(), 3);
        assert_eq!(h.all().len(), 5);
        assert!(Holders::default().is_empty());
        let same: Holders = [
            (7, (10, 3)),
            (5, (11, 4)),
            (7, (12, 5)),
            (9, (10, 6)),
            (7, (1, 1)),
        ]
        .into_iter()
        .collect();
        assert_eq!(same, h);
    }
}
