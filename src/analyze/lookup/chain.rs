//! The chain orders a lookup may walk (docs/lookup §1.3, §4.2): head-inserted sockets newest
//! first, then IPv6 SO_REUSEPORT sockets oldest first. Within one family the dump order is
//! the chain order; the interleaving of IPv4 sockets with IPv6 ones without SO_REUSEPORT is
//! in no per-family dump, so every interleaving is tried (as `chain_orders()` does). A family
//! list without positions (an older file) is tried in every order.

use super::entry::Known;
use crate::model::Family;

/// More orders than this are not enumerated: the route is then uncertain.
pub(super) const MAX_ORDERS: usize = 5040;

/// Every order the chain of `members` (one address class, options decided) may have, or
/// `None` when there are more than [`MAX_ORDERS`].
pub(super) fn orders<'e, 'a>(members: &[Known<'e, 'a>]) -> Option<Vec<Vec<Known<'e, 'a>>>> {
    let pick = |f: &dyn Fn(&Known) -> bool| -> Vec<Known<'e, 'a>> {
        let mut v: Vec<Known> = members.iter().copied().filter(|k| f(k)).collect();
        v.sort_by_key(|k| k.e.pos);
        v
    };
    let v4 = pick(&|k| k.e.family == Family::Ipv4);
    let head6 = pick(&|k| k.e.family == Family::Ipv6 && !k.rp);
    let tail6 = pick(&|k| k.e.family == Family::Ipv6 && k.rp);
    let (p4, ph, pt) = (perms(&v4)?, perms(&head6)?, perms(&tail6)?);
    let inter = binomial(v4.len() + head6.len(), v4.len());
    if p4.len() * ph.len() * pt.len() * inter > MAX_ORDERS {
        return None;
    }
    let mut out = Vec::new();
    for a in &p4 {
        for b in &ph {
            for merged in interleavings(a, b) {
                for t in &pt {
                    let mut m = merged.clone();
                    m.extend(t.iter().copied());
                    out.push(m);
                }
            }
        }
    }
    Some(out)
}

/// The orders one family's list may have: the dump's, or all of them when a position is
/// missing.
fn perms<'e, 'a>(v: &[Known<'e, 'a>]) -> Option<Vec<Vec<Known<'e, 'a>>>> {
    if v.iter().all(|k| k.e.pos.is_some()) {
        return Some(vec![v.to_vec()]);
    }
    if v.len() > 7 {
        return None;
    }
    let mut out = Vec::new();
    permute(&mut v.to_vec(), 0, &mut out);
    Some(out)
}

fn permute<'e, 'a>(v: &mut Vec<Known<'e, 'a>>, i: usize, out: &mut Vec<Vec<Known<'e, 'a>>>) {
    if i + 1 >= v.len() {
        out.push(v.clone());
        return;
    }
    for j in i..v.len() {
        v.swap(i, j);
        permute(v, i + 1, out);
        v.swap(i, j);
    }
}

fn binomial(n: usize, k: usize) -> usize {
    (0..k.min(n - k)).fold(1usize, |acc, i| acc.saturating_mul(n - i) / (i + 1))
}

/// Every merge of `a` and `b` keeping each one's own order.
fn interleavings<'e, 'a>(a: &[Known<'e, 'a>], b: &[Known<'e, 'a>]) -> Vec<Vec<Known<'e, 'a>>> {
    match (a.split_first(), b.split_first()) {
        (None, _) => vec![b.to_vec()],
        (_, None) => vec![a.to_vec()],
        (Some((x, ra)), Some((y, rb))) => {
            let mut out = Vec::new();
            for mut rest in interleavings(ra, b) {
                rest.insert(0, *x);
                out.push(rest);
            }
            for mut rest in interleavings(a, rb) {
                rest.insert(0, *y);
                out.push(rest);
            }
            out
        }
    }
}
