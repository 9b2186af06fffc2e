//! One snapshot as the loader parses it: a JSON object only, within the load's memory
//! budget, with its sockets parsed one at a time so that their strings are shared at once.

use super::budget;
use super::stream::{Context, LOADING};
use crate::model::{Snapshot, Socket};
use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A snapshot, refused unless it is a JSON object: serde's derived structs also accept an
/// array of the fields in order, which no writer of this format produces. Parsed within
/// the budget of the load running on this thread (see [`LOADING`]), and its sockets one by
/// one (see [`FrameMap`]).
pub(super) struct Frame(pub(super) Snapshot);

impl<'de> Deserialize<'de> for Frame {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Some(context) = LOADING.with(|c| c.borrow().clone()) else {
            return Err(de::Error::custom("a snapshot is parsed only by the loader"));
        };
        let visitor = FrameVisitor { context: &context };
        budget::deserialize_map(d, &context.budget, visitor)
    }
}

pub(super) struct FrameVisitor<'c> {
    context: &'c Context,
}

impl<'de> Visitor<'de> for FrameVisitor<'_> {
    type Value = Frame;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a bindscope snapshot (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Frame, A::Error> {
        self.context
            .budget
            .charge(std::mem::size_of::<Snapshot>())?;
        let mut sockets = Vec::new();
        let frame_map = FrameMap {
            map,
            context: self.context,
            sockets: &mut sockets,
        };
        let mut snap = Snapshot::deserialize(MapAccessDeserializer::new(frame_map))?;
        snap.sockets = sockets;
        Ok(Frame(snap))
    }
}

/// The fields of a snapshot, passed to its derived `Deserialize`, except the value of
/// `sockets`: that is parsed here, one socket at a time, and each socket's holders share
/// the process strings seen before at once ([`Interner`](super::share::Interner)). Otherwise every holder's copy
/// of its cmdline would stay in memory until the whole snapshot is parsed: a process
/// holding 10,000 sockets would be 10,000 cmdlines at the peak. The derived code is given
/// an empty list, and [`FrameVisitor`] puts the sockets in.
pub(super) struct FrameMap<'c, 's, A> {
    map: A,
    context: &'c Context,
    sockets: &'s mut Vec<Socket>,
}

/// The snapshot field [`FrameMap`] parses itself (`Snapshot::sockets`).
pub(super) const SOCKETS: &str = "sockets";

impl<'de, A: MapAccess<'de>> MapAccess<'de> for FrameMap<'_, '_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.map.next_key_seed(seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        // The key was named in the budget's path as it was read. A repeated `sockets` is
        // refused by the derived code before its value is asked for.
        if !self.context.budget.at_key(SOCKETS) {
            return self.map.next_value_seed(seed);
        }
        self.map.next_value_seed(SocketsSeed {
            context: self.context,
            out: &mut *self.sockets,
        })?;
        seed.deserialize(SeqDeserializer::new(std::iter::empty::<()>()))
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// The list of sockets, each sharing its strings as soon as it is parsed.
pub(super) struct SocketsSeed<'c, 's> {
    context: &'c Context,
    out: &'s mut Vec<Socket>,
}

impl<'de> DeserializeSeed<'de> for SocketsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SocketsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of sockets")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(mut socket) = seq.next_element::<Socket>()? {
            let freed = self.context.interner.borrow_mut().share(&mut socket);
            self.context.budget.refund(freed);
            self.out.push(socket);
        }
        Ok(())
    }
}
