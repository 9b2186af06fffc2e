//! A read-only reader of BoltDB files (go.etcd.io/bbolt), enough to read Podman's state
//! database (`<graphroot>/libpod/bolt_state.db`, Podman before 5): the pod names live only
//! there. The file is read from bytes already in memory, never written, never locked.
//!
//! The layout (bbolt `page.go`, `node.go`, `db.go`), little-endian:
//! - pages of `page_size` bytes; pages 0 and 1 are meta pages, and the valid one with the
//!   higher transaction id is current (a writer alternates them);
//! - a page header: id u64, flags u16 (branch 0x01, leaf 0x02, meta 0x04, freelist 0x10),
//!   count u16, overflow u32 (the page continues over `overflow` more pages);
//! - meta (after the header): magic u32 `0xED0CDAED`, version u32 (2), page size u32, flags
//!   u32, root bucket (root page u64, sequence u64), freelist u64, page count u64, txid u64,
//!   checksum u64 (FNV-1a 64 of the meta's bytes before it);
//! - branch elements (16 bytes): pos u32, ksize u32, child page u64; the key at element + pos;
//! - leaf elements (16 bytes): flags u32 (1: the value is a bucket), pos u32, ksize u32,
//!   vsize u32; key then value at element + pos;
//! - a bucket value: root page u64, sequence u64; root 0 is an inline bucket whose leaf page
//!   follows the 16 bytes inside the value.
//!
//! Only the tree reachable from the current meta is read: free pages still hold old data
//! (removed containers), which a scan of the file would find.
//! Every offset is checked; a damaged file gives an error, never a panic. A page is read at
//! most once (a tree never shares one), so a damaged file whose pages point in a cycle ends
//! in an error, and the work is bounded by the file's size.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::fmt;

const MAGIC: u32 = 0xED0C_DAED;
const HEADER: usize = 16;
const ELEMENT: usize = 16;
const BRANCH: u16 = 0x01;
const LEAF: u16 = 0x02;
/// Deeper than any real tree (bbolt keeps them balanced and shallow) and than any nesting
/// of buckets Podman uses; inline buckets, which have no page id, nest at most this deep.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoltError {
    TooShort,
    NotBolt,
    NoValidMeta,
    Damaged(&'static str),
}

impl fmt::Display for BoltError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BoltError::TooShort => write!(f, "too short for a BoltDB file"),
            BoltError::NotBolt => write!(f, "not a BoltDB file (no magic number)"),
            BoltError::NoValidMeta => write!(f, "no valid meta page (both checksums wrong)"),
            BoltError::Damaged(what) => write!(f, "damaged BoltDB file: {what}"),
        }
    }
}

/// A value in a bucket: bytes, or a nested bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Bytes(Vec<u8>),
    Bucket(Bucket),
}

/// A bucket read whole: its keys in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bucket {
    pub entries: BTreeMap<Vec<u8>, Value>,
}

impl Bucket {
    pub fn bucket(&self, key: &str) -> Option<&Bucket> {
        match self.entries.get(key.as_bytes()) {
            Some(Value::Bucket(b)) => Some(b),
            _ => None,
        }
    }

    pub fn bytes(&self, key: &str) -> Option<&[u8]> {
        match self.entries.get(key.as_bytes()) {
            Some(Value::Bytes(v)) => Some(v),
            _ => None,
        }
    }

    /// A value as text, if it is UTF-8.
    pub fn text(&self, key: &str) -> Option<&str> {
        std::str::from_utf8(self.bytes(key)?).ok()
    }

    /// The text values of the bucket's keys that are text (e.g. `allPods`: id → name).
    pub fn text_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().filter_map(|(k, v)| match v {
            Value::Bytes(v) => Some((std::str::from_utf8(k).ok()?, std::str::from_utf8(v).ok()?)),
            Value::Bucket(_) => None,
        })
    }
}

/// The whole database as its root bucket.
pub fn read(data: &[u8]) -> Result<Bucket, BoltError> {
    let page_size = meta_page_size(data)?;
    let meta = [0, 1]
        .into_iter()
        .filter_map(|i| meta(data, i * page_size).ok())
        .max_by_key(|m| m.txid)
        .ok_or(BoltError::NoValidMeta)?;
    let db = Db {
        data,
        page_size,
        seen: RefCell::default(),
    };
    let mut root = Bucket::default();
    db.walk(db.page(meta.root)?, &mut root, 0)?;
    Ok(root)
}

struct Meta {
    root: u64,
    txid: u64,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The page size, from meta page 0 (whose offset does not depend on it).
fn meta_page_size(data: &[u8]) -> Result<usize, BoltError> {
    let magic = u32_at(data, HEADER).ok_or(BoltError::TooShort)?;
    if magic != MAGIC {
        return Err(BoltError::NotBolt);
    }
    let size = u32_at(data, HEADER + 8).ok_or(BoltError::TooShort)? as usize;
    // bbolt uses the OS page size: 4 KiB, 16 KiB or 64 KiB in practice.
    if !(512..=1 << 20).contains(&size) || !size.is_power_of_two() {
        return Err(BoltError::Damaged("page size"));
    }
    Ok(size)
}

/// FNV-1a, 64 bits: bbolt's meta checksum.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn meta(data: &[u8], page: usize) -> Result<Meta, BoltError> {
    let m = page + HEADER;
    let bytes = data.get(m..m + 64).ok_or(BoltError::TooShort)?;
    let field = |at| u64_at(bytes, at).ok_or(BoltError::TooShort);
    if u32_at(bytes, 0) != Some(MAGIC) {
        return Err(BoltError::NotBolt);
    }
    if fnv1a64(&bytes[..56]) != field(56)? {
        return Err(BoltError::NoValidMeta);
    }
    Ok(Meta {
        root: field(16)?,
        txid: field(48)?,
    })
}

struct Db<'a> {
    data: &'a [u8],
    page_size: usize,
    /// The pages read so far.
    seen: RefCell<HashSet<u64>>,
}

impl<'a> Db<'a> {
    /// The bytes of page `id`, with its overflow pages.
    fn page(&self, id: u64) -> Result<&'a [u8], BoltError> {
        if !self.seen.borrow_mut().insert(id) {
            return Err(BoltError::Damaged("a page is referenced twice"));
        }
        let start = usize::try_from(id)
            .ok()
            .and_then(|id| id.checked_mul(self.page_size))
            .ok_or(BoltError::Damaged("page id"))?;
        let overflow = u32_at(self.data, start + 12).ok_or(BoltError::Damaged("page id"))?;
        let len = (overflow as usize + 1)
            .checked_mul(self.page_size)
            .ok_or(BoltError::Damaged("overflow"))?;
        let end = start.saturating_add(len).min(self.data.len());
        self.data
            .get(start..end)
            .ok_or(BoltError::Damaged("page id"))
    }

    /// Adds the entries of the tree whose page is `page` (a branch or a leaf) to `out`.
    fn walk(&self, page: &[u8], out: &mut Bucket, depth: usize) -> Result<(), BoltError> {
        if depth > MAX_DEPTH {
            return Err(BoltError::Damaged("too deep (a cycle?)"));
        }
        let flags = u16_at(page, 8).ok_or(BoltError::Damaged("page header"))?;
        let count = u16_at(page, 10).ok_or(BoltError::Damaged("page header"))? as usize;
        if HEADER + count * ELEMENT > page.len() {
            return Err(BoltError::Damaged("more elements than the page holds"));
        }
        for i in 0..count {
            let e = HEADER + i * ELEMENT;
            if flags & BRANCH != 0 {
                let child = u64_at(page, e + 8).ok_or(BoltError::Damaged("branch element"))?;
                self.walk(self.page(child)?, out, depth + 1)?;
            } else if flags & LEAF != 0 {
                let field = |at| u32_at(page, e + at).ok_or(BoltError::Damaged("leaf element"));
                let (is_bucket, pos, ksize, vsize) =
                    (field(0)? & 1 == 1, field(4)?, field(8)?, field(12)?);
                let k = e + pos as usize;
                let v = k + ksize as usize;
                let key = page.get(k..v).ok_or(BoltError::Damaged("key"))?;
                let value = page
                    .get(v..v + vsize as usize)
                    .ok_or(BoltError::Damaged("value"))?;
                let value = if is_bucket {
                    Value::Bucket(self.bucket(value, depth)?)
                } else {
                    Value::Bytes(value.to_vec())
                };
                out.entries.insert(key.to_vec(), value);
            } else {
                return Err(BoltError::Damaged("page is neither branch nor leaf"));
            }
        }
        Ok(())
    }

    fn bucket(&self, header: &[u8], depth: usize) -> Result<Bucket, BoltError> {
        let root = u64_at(header, 0).ok_or(BoltError::Damaged("bucket header"))?;
        let mut b = Bucket::default();
        if root == 0 {
            let inline = header
                .get(16..)
                .ok_or(BoltError::Damaged("inline bucket"))?;
            self.walk(inline, &mut b, depth + 1)?;
        } else {
            self.walk(self.page(root)?, &mut b, depth + 1)?;
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PODMAN: &[u8] =
        include_bytes!("../../../tests/fixtures/runtimes/podman-4.3.1/libpod/bolt_state.db");

    #[test]
    fn reads_podmans_pods_and_containers() {
        let root = read(PODMAN).unwrap();
        let pods: Vec<(&str, &str)> = root.bucket("allPods").unwrap().text_pairs().collect();
        assert_eq!(
            pods,
            [(
                "4fc0c101f5e9ff3556decc29b54c6d01aa27ee971835d6f73e99892fe10c02ab",
                "p1"
            )]
        );
        let names: Vec<&str> = root
            .bucket("all-ctrs")
            .unwrap()
            .text_pairs()
            .map(|(_, n)| n)
            .collect();
        assert_eq!(
            names,
            [
                "4fc0c101f5e9-infra",
                "pbr",
                "pjoin",
                "pnone",
                "p1web",
                "p1side"
            ]
        );
        let infra = root
            .bucket("ctr")
            .and_then(|c| {
                c.bucket("09d1d549948b30f48259c4837804deb6722e9f2640ebc4c35f9a91dd80d7751d")
            })
            .unwrap();
        assert_eq!(
            infra.text("netns"),
            Some("/run/netns/netns-58e32b46-a35a-f890-5963-8641f8ed77d0")
        );
        assert_eq!(
            infra.text("pod-id"),
            Some("4fc0c101f5e9ff3556decc29b54c6d01aa27ee971835d6f73e99892fe10c02ab")
        );
    }

    #[test]
    fn damaged_files_are_errors_never_panics() {
        assert_eq!(read(b""), Err(BoltError::TooShort));
        assert_eq!(read(&[0u8; 8192]), Err(BoltError::NotBolt));
        // Both meta checksums broken.
        let mut bad = PODMAN.to_vec();
        bad[16 + 56] ^= 1;
        bad[4096 + 16 + 56] ^= 1;
        assert_eq!(read(&bad), Err(BoltError::NoValidMeta));
        // Truncations and flipped bytes anywhere: an answer or an error, never a panic.
        for len in (0..PODMAN.len()).step_by(997) {
            let _ = read(&PODMAN[..len]);
        }
        for at in (0..PODMAN.len()).step_by(331) {
            let mut flipped = PODMAN.to_vec();
            flipped[at] ^= 0xff;
            let _ = read(&flipped);
        }
    }
}
