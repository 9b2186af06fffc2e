//! What a finding is about: one of the stable kinds the README documents, or one this version
//! does not know (from a file written by a newer bindscope), kept by its name so a file read
//! and written again loses nothing.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FindingKind {
    WildcardOverlap,
    ReuseportGroup,
    FamilySplit,
    CrossUserSocket,
    CrossUserPort,
    UdpReuseaddrTakeover,
    ListenRace,
    DeviceGap,
    AcceptQueueGrowing,
    AcceptQueueFull,
    SynBacklog,
    BlockingListener,
    NonlocalBind,
    TentativeBind,
    HolderUnknown,
    /// Unrelated programs run as one user and hold its sockets.
    SharedUid,
    /// A kind this version does not know, by the name the file gave it.
    Unknown(String),
}

impl FindingKind {
    /// Every kind this version makes, in the order the README documents them.
    pub const ALL: [FindingKind; 16] = [
        FindingKind::WildcardOverlap,
        FindingKind::ReuseportGroup,
        FindingKind::FamilySplit,
        FindingKind::CrossUserSocket,
        FindingKind::CrossUserPort,
        FindingKind::UdpReuseaddrTakeover,
        FindingKind::ListenRace,
        FindingKind::DeviceGap,
        FindingKind::AcceptQueueGrowing,
        FindingKind::AcceptQueueFull,
        FindingKind::SynBacklog,
        FindingKind::BlockingListener,
        FindingKind::NonlocalBind,
        FindingKind::TentativeBind,
        FindingKind::HolderUnknown,
        FindingKind::SharedUid,
    ];

    /// The stable identifier, as files, exports and filters spell it.
    pub fn name(&self) -> &str {
        match self {
            FindingKind::WildcardOverlap => "wildcard_overlap",
            FindingKind::ReuseportGroup => "reuseport_group",
            FindingKind::FamilySplit => "family_split",
            FindingKind::CrossUserSocket => "cross_user_socket",
            FindingKind::CrossUserPort => "cross_user_port",
            FindingKind::UdpReuseaddrTakeover => "udp_reuseaddr_takeover",
            FindingKind::ListenRace => "listen_race",
            FindingKind::DeviceGap => "device_gap",
            FindingKind::AcceptQueueGrowing => "accept_queue_growing",
            FindingKind::AcceptQueueFull => "accept_queue_full",
            FindingKind::SynBacklog => "syn_backlog",
            FindingKind::BlockingListener => "blocking_listener",
            FindingKind::NonlocalBind => "nonlocal_bind",
            FindingKind::TentativeBind => "tentative_bind",
            FindingKind::HolderUnknown => "holder_unknown",
            FindingKind::SharedUid => "shared_uid",
            FindingKind::Unknown(name) => name,
        }
    }

    /// The kind a name stands for; a name this version does not know is kept as it is.
    pub fn from_name(name: &str) -> FindingKind {
        FindingKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .unwrap_or_else(|| FindingKind::Unknown(name.to_string()))
    }

    /// Kinds judged one socket (or one port) at a time, whose many findings in one process
    /// merge into one.
    pub fn merges_per_process(&self) -> bool {
        matches!(
            self,
            FindingKind::FamilySplit
                | FindingKind::UdpReuseaddrTakeover
                | FindingKind::ListenRace
                | FindingKind::DeviceGap
                | FindingKind::BlockingListener
                | FindingKind::NonlocalBind
                | FindingKind::TentativeBind
                | FindingKind::HolderUnknown
                | FindingKind::CrossUserSocket
                | FindingKind::SynBacklog
        )
    }

    /// Kinds about sockets or ports shared by several users.
    pub fn is_cross_user(&self) -> bool {
        matches!(
            self,
            FindingKind::CrossUserSocket | FindingKind::CrossUserPort
        )
    }
}

/// By name, as findings have always been ordered (reports, exports and snapshots keep the
/// order they had when kinds were strings).
impl Ord for FindingKind {
    fn cmp(&self, other: &Self) -> Ordering {
        self.name().cmp(other.name())
    }
}

impl PartialOrd for FindingKind {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl From<&str> for FindingKind {
    fn from(name: &str) -> Self {
        FindingKind::from_name(name)
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for FindingKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for FindingKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(FindingKind::from_name(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_kept() {
        for k in FindingKind::ALL {
            assert_eq!(FindingKind::from_name(k.name()), k);
            let json = serde_json::to_string(&k).expect("serialize");
            assert_eq!(json, format!("\"{}\"", k.name()));
            assert_eq!(
                serde_json::from_str::<FindingKind>(&json).expect("parse"),
                k
            );
        }
        let newer: FindingKind = serde_json::from_str("\"port_squatting\"").expect("parse");
        assert_eq!(newer, FindingKind::Unknown("port_squatting".into()));
        assert_eq!(
            serde_json::to_string(&newer).expect("serialize"),
            "\"port_squatting\""
        );
    }

    #[test]
    fn ordered_by_name() {
        let mut ks = FindingKind::ALL.to_vec();
        ks.sort();
        let names: Vec<&str> = ks.iter().map(FindingKind::name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }
}
