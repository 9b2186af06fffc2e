//! The dashboard's view as a file carries it (`dashboard` in a snapshot, optional): which
//! view was on screen, the filter, the sort, the selected row and whether its detail filled
//! the screen. The dashboard's export (`e`) and its recording (`R`) write it; `open`
//! restores it, so a colleague opening the file sees what its author saw. Marks and notes
//! travel in `marks`, as before.
//!
//! A file's view is a courtesy, never a reason to refuse the file: one this version cannot
//! read (a view a newer bindscope added, a hand-edited field) is dropped as it is read
//! ([`deserialize_lenient`]), and the snapshot loads as it would without it.

use super::finding_kind::FindingKind;
use super::ids::{NetnsId, SocketId};
use super::socket::Proto;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DashboardState {
    /// The view on screen.
    pub tab: Tab,
    /// The filter as typed at `/` (the query language); empty for none.
    #[serde(default)]
    pub filter: String,
    /// How that view's table was sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<SortState>,
    /// Its selected row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected: Option<RowKey>,
    /// The selected row's detail filled the screen.
    #[serde(default)]
    pub expanded: bool,
}

/// The dashboard's views, by the names its tabs show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tab {
    #[default]
    Sockets,
    Ports,
    Processes,
    Users,
    Findings,
    Host,
    Changes,
}

/// A table's order: the column by the title its header shows (`LOCAL`, `QUEUE`), which
/// stays when columns are added.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SortState {
    pub column: String,
    #[serde(default)]
    pub descending: bool,
}

/// A row of one of the views, by what it is about rather than where it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RowKey {
    Socket {
        id: SocketId,
    },
    /// A port of a namespace (the Ports view).
    Port {
        netns: NetnsId,
        proto: Proto,
        port: u16,
    },
    Process {
        pid: u32,
    },
    User {
        uid: u32,
    },
    Finding {
        finding: FindingKind,
        sockets: Vec<SocketId>,
    },
    Netns {
        id: NetnsId,
    },
}

/// Reads `dashboard` as the module docs say: what does not read as a view is dropped.
pub fn deserialize_lenient<'de, D>(d: D) -> Result<Option<DashboardState>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        State(DashboardState),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Written>::deserialize(d)? {
        Some(Written::State(s)) => Some(s),
        Some(Written::Other(_)) | None => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Holder {
        #[serde(default, deserialize_with = "deserialize_lenient")]
        dashboard: Option<DashboardState>,
    }

    #[test]
    fn written_and_read_back() {
        let s = DashboardState {
            tab: Tab::Ports,
            filter: "port:22 user:root".into(),
            sort: Some(SortState {
                column: "QUEUE".into(),
                descending: true,
            }),
            selected: Some(RowKey::Port {
                netns: NetnsId(4026531833),
                proto: Proto::Tcp,
                port: 22,
            }),
            expanded: true,
        };
        let text = serde_json::to_string(&s).expect("json");
        assert!(text.contains(r#""tab":"ports""#), "{text}");
        assert!(text.contains(r#""kind":"port""#), "{text}");
        let back: Holder =
            serde_json::from_str(&format!(r#"{{"dashboard":{text}}}"#)).expect("read");
        assert_eq!(back.dashboard, Some(s));
    }

    /// What this version cannot read is dropped, not an error.
    #[test]
    fn a_view_from_elsewhere_is_dropped() {
        for odd in [
            r#"{"dashboard":{"tab":"timeline"}}"#,
            r#"{"dashboard":{"tab":"sockets","selected":{"kind":"pod","name":"x"}}}"#,
            r#"{"dashboard":7}"#,
            r#"{"dashboard":null}"#,
            r#"{}"#,
        ] {
            let h: Holder = serde_json::from_str(odd).expect(odd);
            assert_eq!(h.dashboard, None, "{odd}");
        }
        let h: Holder =
            serde_json::from_str(r#"{"dashboard":{"tab":"host","future":1}}"#).expect("more");
        assert_eq!(h.dashboard.map(|d| d.tab), Some(Tab::Host));
    }
}
