//! A memory budget for loading, counted while serde_json builds the model.
//!
//! The byte limit alone does not bound memory: `[""]` is 3 bytes of JSON for each `String`
//! of 24 bytes, `["a"]` 4 bytes for 24 plus a 32-byte allocation, and the `Arc<[String]>` a
//! cmdline becomes is a copy of its `Vec`. A file of empty strings in one cmdline took 15
//! times its size, one of one-letter strings 19 times. So every value serde_json keeps is
//! charged what it will cost (its size in its container, the heap block of a string or a
//! list, a map entry), and the parse stops with [`Overrun`] once the charges pass the allowance: a
//! multiple of the file's size, plus a floor so that small files are never refused for
//! their ratio.
//!
//! The charging is done by [`Tracked`], a deserializer that wraps serde_json's and wraps
//! each visitor, sequence and map it hands out, so the derived `Deserialize` impls of the
//! model run unchanged. It also keeps the path being parsed (`sockets[3].holders[0].cmdline[9]`)
//! to say where the budget ran out. Values that are skipped (unknown fields) are not
//! charged: serde_json drops them as it reads them. Enums are passed through untracked: the
//! model's enums are unit variants named by strings, which cost nothing.

use crate::text::clean;
use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};
use std::cell::{Cell, RefCell};
use std::fmt::{self, Write as _};
use std::mem::size_of;
use std::rc::Rc;

/// What was being parsed when the budget ran out, and the allowance it passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overrun {
    /// The path of the value that would have passed the allowance, e.g.
    /// `sockets[0].holders[0].cmdline[2000000]`; empty for the snapshot itself.
    pub place: String,
    /// The allowance in bytes.
    pub allowed: u64,
}

/// The charges of one load, shared by every wrapper of its parse.
pub struct Budget {
    per_byte: u64,
    floor: u64,
    /// The file's size when known in advance (fstat, a slice's length), else 0.
    size: u64,
    /// Bytes read so far: the basis for pipes and devices, which say size 0.
    read: Rc<Cell<u64>>,
    used: Cell<u64>,
    path: RefCell<Vec<Segment>>,
    overrun: RefCell<Option<Overrun>>,
}

/// The message of the error that stops serde_json; never shown, [`Overrun`] is reported.
const OVER: &str = "over the memory budget";

impl Budget {
    /// A budget of `per_byte` bytes for each byte of the file (its `size`, or the bytes
    /// counted in `read` if more), plus `floor`.
    pub fn new(per_byte: u64, floor: u64, size: u64, read: Rc<Cell<u64>>) -> Self {
        Budget {
            per_byte,
            floor,
            size,
            read,
            used: Cell::new(0),
            path: RefCell::new(Vec::new()),
            overrun: RefCell::new(None),
        }
    }

    /// Where the budget ran out, if it did.
    pub fn overrun(&self) -> Option<Overrun> {
        self.overrun.borrow().clone()
    }

    fn allowed(&self) -> u64 {
        self.size
            .max(self.read.get())
            .saturating_mul(self.per_byte)
            .saturating_add(self.floor)
    }

    /// Adds `bytes` to what the load costs; past the allowance, records where and fails.
    pub fn charge<E: de::Error>(&self, bytes: usize) -> Result<(), E> {
        let used = self
            .used
            .get()
            .saturating_add(u64::try_from(bytes).unwrap_or(u64::MAX));
        self.used.set(used);
        let allowed = self.allowed();
        if used <= allowed {
            return Ok(());
        }
        let mut overrun = self.overrun.borrow_mut();
        if overrun.is_none() {
            *overrun = Some(Overrun {
                place: path_text(&self.path.borrow()),
                allowed,
            });
        }
        Err(E::custom(OVER))
    }

    /// Takes back what was charged for values that were freed (duplicates replaced by
    /// shared copies).
    pub fn refund(&self, bytes: usize) {
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        self.used.set(self.used.get().saturating_sub(bytes));
    }

    /// Whether the key just read, in the innermost map being parsed, is `name`.
    pub fn at_key(&self, name: &str) -> bool {
        match self.path.borrow().last() {
            Some(Segment::Key { bytes, len, cut }) => {
                !cut && bytes.get(..usize::from(*len)) == Some(name.as_bytes())
            }
            _ => false,
        }
    }

    fn push(&self, s: Segment) {
        self.path.borrow_mut().push(s);
    }

    fn pop(&self) {
        self.path.borrow_mut().pop();
    }

    fn set_top(&self, s: Segment) {
        if let Some(top) = self.path.borrow_mut().last_mut() {
            *top = s;
        }
    }
}

/// What a string costs beyond its slot: glibc's smallest block is 32 bytes, and a block
/// holds its length plus 8 bytes of header, in steps of 16 (malloc(3), `MINSIZE`). An
/// empty `String` allocates nothing, but an empty `Arc<str>` does: charged as a block.
pub fn string_cost(len: usize) -> usize {
    len.saturating_add(8 + 15).max(32) & !15
}

/// What a list of strings (a cmdline) was charged: its block, each string's slot and block.
pub fn strings_cost(items: &[String]) -> usize {
    items
        .iter()
        .map(|s| size_of::<String>() + string_cost(s.len()))
        .sum::<usize>()
        + LIST_COST
}

/// One step of the path being parsed.
#[derive(Clone, Copy)]
enum Segment {
    Index(usize),
    /// A map key or field name, its first bytes only: it is read from the file.
    Key {
        bytes: [u8; KEY_BYTES],
        len: u8,
        cut: bool,
    },
}

const KEY_BYTES: usize = 40;

impl Segment {
    const UNNAMED: Segment = Segment::Key {
        bytes: [0; KEY_BYTES],
        len: 0,
        cut: false,
    };

    fn key(name: &str) -> Segment {
        let mut end = name.len().min(KEY_BYTES);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0; KEY_BYTES];
        for (to, from) in bytes.iter_mut().zip(name.as_bytes().iter().take(end)) {
            *to = *from;
        }
        Segment::Key {
            bytes,
            len: u8::try_from(end).unwrap_or(0),
            cut: end < name.len(),
        }
    }
}

/// `sockets[3].holders[0].cmdline[9]`; map keys that were not strings are left out.
fn path_text(path: &[Segment]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Segment::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
            Segment::Key { len: 0, .. } => {}
            Segment::Key { bytes, len, cut } => {
                if !out.is_empty() {
                    out.push('.');
                }
                let name = bytes
                    .get(..usize::from(*len))
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .unwrap_or("?");
                out.push_str(&clean(name));
                if *cut {
                    out.push('…');
                }
            }
        }
    }
    out
}

/// Deserializes a map (a snapshot) through `visitor`, charging everything in it to
/// `budget`.
pub fn deserialize_map<'de, D, V>(d: D, budget: &Budget, visitor: V) -> Result<V::Value, D::Error>
where
    D: Deserializer<'de>,
    V: Visitor<'de>,
{
    Tracked {
        de: d,
        budget,
        role: Role::Value,
    }
    .deserialize_map(visitor)
}

// ---------------------------------------------------------------------------------------
// The wrappers

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A value that is kept: its strings are charged.
    Value,
    /// A map key: its name goes into the path.
    Key,
}

/// What a visitor does with the strings it is given.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnStr {
    Nothing,
    /// Charged: an owned string is made of it.
    Charge,
    /// Named in the path: it is a key.
    Name,
}

struct Tracked<'b, D> {
    de: D,
    budget: &'b Budget,
    role: Role,
}

impl<'b, D> Tracked<'b, D> {
    fn visit<V>(&self, v: V, on_str: OnStr) -> Visit<'b, V> {
        Visit {
            v,
            budget: self.budget,
            on_str,
            entries: false,
        }
    }

    /// For `str`, `identifier` and `any`: keys name the path.
    fn naming<V>(&self, v: V) -> Visit<'b, V> {
        let on_str = match self.role {
            Role::Key => OnStr::Name,
            Role::Value => OnStr::Nothing,
        };
        self.visit(v, on_str)
    }
}

macro_rules! forward_plain {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
            let v = self.visit(v, OnStr::Nothing);
            self.de.$method(v)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Tracked<'_, D> {
    type Error = D::Error;

    forward_plain! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_bytes
        deserialize_byte_buf deserialize_option deserialize_unit deserialize_seq
    }

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        // Whatever is built from `any` may keep its strings.
        let on_str = match self.role {
            Role::Key => OnStr::Name,
            Role::Value => OnStr::Charge,
        };
        let v = self.visit(v, on_str);
        self.de.deserialize_any(v)
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        // Borrowed or parsed at once (addresses): nothing kept.
        let v = self.naming(v);
        self.de.deserialize_str(v)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let v = self.naming(v);
        self.de.deserialize_identifier(v)
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        let on_str = match self.role {
            Role::Key => OnStr::Name,
            Role::Value => OnStr::Charge,
        };
        let v = self.visit(v, on_str);
        self.de.deserialize_string(v)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        let v = self.visit(v, OnStr::Nothing);
        self.de.deserialize_unit_struct(name, v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        let v = self.visit(v, OnStr::Nothing);
        self.de.deserialize_newtype_struct(name, v)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, D::Error> {
        let v = self.visit(v, OnStr::Nothing);
        self.de.deserialize_tuple(len, v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        v: V,
    ) -> Result<V::Value, D::Error> {
        let v = self.visit(v, OnStr::Nothing);
        self.de.deserialize_tuple_struct(name, len, v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        // A map's entries live in nodes of their own, unlike a struct's fields.
        let v = Visit {
            entries: true,
            ..self.visit(v, OnStr::Nothing)
        };
        self.de.deserialize_map(v)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        let v = self.visit(v, OnStr::Nothing);
        self.de.deserialize_struct(name, fields, v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.de.deserialize_enum(name, variants, v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        // Skipped values are dropped as they are read: nothing to charge or name.
        self.de.deserialize_ignored_any(v)
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

struct Visit<'b, V> {
    v: V,
    budget: &'b Budget,
    on_str: OnStr,
    /// A map whose entries are charged (not a struct's fields).
    entries: bool,
}

impl<V> Visit<'_, V> {
    fn string<E: de::Error>(&self, s: &str) -> Result<(), E> {
        match self.on_str {
            OnStr::Nothing => Ok(()),
            OnStr::Charge => self.budget.charge(string_cost(s.len())),
            OnStr::Name => {
                self.budget.set_top(Segment::key(s));
                Ok(())
            }
        }
    }
}

macro_rules! forward_visit {
    ($($method:ident($t:ty))*) => {$(
        fn $method<E: de::Error>(self, x: $t) -> Result<V::Value, E> {
            self.v.$method(x)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Visit<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.v.expecting(f)
    }

    forward_visit! {
        visit_bool(bool) visit_i8(i8) visit_i16(i16) visit_i32(i32) visit_i64(i64)
        visit_i128(i128) visit_u8(u8) visit_u16(u16) visit_u32(u32) visit_u64(u64)
        visit_u128(u128) visit_f32(f32) visit_f64(f64) visit_char(char)
        visit_bytes(&[u8]) visit_borrowed_bytes(&'de [u8]) visit_byte_buf(Vec<u8>)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<V::Value, E> {
        self.string(s)?;
        self.v.visit_str(s)
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<V::Value, E> {
        self.string(s)?;
        self.v.visit_borrowed_str(s)
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<V::Value, E> {
        self.string(&s)?;
        self.v.visit_string(s)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.v.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.v.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.v.visit_some(Tracked {
            de: d,
            budget: self.budget,
            role: Role::Value,
        })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.v.visit_newtype_struct(Tracked {
            de: d,
            budget: self.budget,
            role: Role::Value,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        // The list's own block: an `Arc<[T]>` (a cmdline) has one even when empty.
        self.budget.charge(LIST_COST)?;
        self.budget.push(Segment::Index(0));
        let out = self.v.visit_seq(Seq {
            seq,
            budget: self.budget,
            next: 0,
        });
        self.budget.pop();
        out
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.budget.push(Segment::UNNAMED);
        let out = self.v.visit_map(Map {
            map,
            budget: self.budget,
            entries: self.entries,
        });
        self.budget.pop();
        out
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.v.visit_enum(data)
    }
}

/// What a list costs beyond its elements: the smallest malloc block (see [`string_cost`]).
const LIST_COST: usize = 32;

struct Seq<'b, A> {
    seq: A,
    budget: &'b Budget,
    next: usize,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<'_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let element = Charged {
            seed,
            budget: self.budget,
            size: size_of::<T::Value>(),
            role: Role::Value,
            at: Some(Segment::Index(self.next)),
        };
        self.next += 1;
        self.seq.next_element_seed(element)
    }

    fn size_hint(&self) -> Option<usize> {
        self.seq.size_hint()
    }
}

struct Map<'b, A> {
    map: A,
    budget: &'b Budget,
    entries: bool,
}

/// A map entry's share of its B-tree node beyond key and value (edges, lengths), rounded up.
const ENTRY_OVERHEAD: usize = 16;

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let size = if self.entries {
            size_of::<K::Value>() + ENTRY_OVERHEAD
        } else {
            0
        };
        self.map.next_key_seed(Charged {
            seed,
            budget: self.budget,
            size,
            role: Role::Key,
            at: Some(Segment::UNNAMED),
        })
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        let size = if self.entries {
            size_of::<S::Value>()
        } else {
            0
        };
        self.map.next_value_seed(Charged {
            seed,
            budget: self.budget,
            size,
            role: Role::Value,
            at: None,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// A seed that charges `size`, sets the path's last step to `at`, and deserializes
/// through [`Tracked`]. Charged as the value is met, so that nothing is charged past the
/// end of a sequence.
struct Charged<'b, T> {
    seed: T,
    budget: &'b Budget,
    size: usize,
    role: Role,
    at: Option<Segment>,
}

impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for Charged<'_, T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T::Value, D::Error> {
        if let Some(at) = self.at {
            self.budget.set_top(at);
        }
        self.budget.charge(self.size)?;
        self.seed.deserialize(Tracked {
            de: d,
            budget: self.budget,
            role: self.role,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_the_json() {
        let path = [
            Segment::key("sockets"),
            Segment::Index(3),
            Segment::key("holders"),
            Segment::Index(0),
            Segment::UNNAMED,
            Segment::key("cmdline"),
            Segment::Index(9),
        ];
        assert_eq!(path_text(&path), "sockets[3].holders[0].cmdline[9]");
        assert_eq!(path_text(&[Segment::Index(2)]), "[2]");
        assert_eq!(path_text(&[]), "");
    }

    #[test]
    fn keys_from_the_file_are_cleaned_and_cut() {
        let hostile = format!("\u{1b}[2J\u{202e}{}", "é".repeat(30));
        let text = path_text(&[Segment::key("a"), Segment::key(&hostile)]);
        // 40 bytes kept: the escape (4 bytes), the override (3) and 16 é (2 each), the
        // 17th é not split.
        assert_eq!(text, format!("a.\\x1b[2J\\u{{202e}}{}…", "é".repeat(16)));
    }

    #[test]
    fn the_allowance_is_per_byte_plus_floor_and_grows_with_what_is_read() {
        let read = Rc::new(Cell::new(0));
        let b = Budget::new(2, 10, 0, Rc::clone(&read));
        b.push(Segment::key("warnings"));
        b.push(Segment::Index(0));
        assert!(b.charge::<de::value::Error>(10).is_ok());
        assert!(b.charge::<de::value::Error>(1).is_err());
        assert_eq!(
            b.overrun(),
            Some(Overrun {
                place: "warnings[0]".into(),
                allowed: 10
            })
        );
        // A pipe: 5 bytes read allow 2 x 5 more.
        read.set(5);
        b.refund(1);
        assert!(b.charge::<de::value::Error>(10).is_ok());
        assert!(b.charge::<de::value::Error>(1).is_err());
        // The first place is kept.
        assert_eq!(b.overrun().map(|o| o.allowed), Some(10));
        // A known size counts from the start.
        let b = Budget::new(3, 0, 4, Rc::default());
        assert!(b.charge::<de::value::Error>(12).is_ok());
        assert!(b.charge::<de::value::Error>(1).is_err());
    }

    #[test]
    fn strings_cost_a_malloc_block() {
        assert_eq!(string_cost(0), 32);
        assert_eq!(string_cost(24), 32);
        assert_eq!(string_cost(25), 48);
        assert_eq!(string_cost(100), 112);
        assert_eq!(
            strings_cost(&["".to_string(), "x".repeat(100)]),
            32 + 24 + 32 + 24 + 112
        );
    }
}
