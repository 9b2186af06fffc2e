//! The six views and the panes around them. Each view is a table [`Source`] plus what the
//! app needs to filter, follow and explain its rows ([`View`]); the header, status bar,
//! detail pane, help and what-if panel draw the rest. Everything here is a pure function of
//! the app's state: no clock, no I/O.

pub mod cells;
pub mod changes;
pub mod data;
pub mod detail;
pub mod findings;
pub mod header;
pub mod help;
pub mod host;
pub mod lines;
pub mod ports;
pub mod processes;
pub mod sockets;
pub mod status;
pub mod timeline;
pub mod users;
pub mod whatif;

use self::data::Data;
use super::theme::Theme;
use super::widgets::table::{Sort, Source};
use crate::analyze::history::History;
use crate::model::{FindingKind, NetnsId, Proto, Snapshot, SocketId};
use ratatui::text::Line;

/// At most this many sockets per list in a detail pane: a process or user with thousands
/// of sockets would otherwise cost a frame thousands of lines; the filter narrows the rest.
pub const LIST_MAX: usize = 50;

/// The views, in tab order; `View(n)` of the keymap is the n-th.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ViewId {
    #[default]
    Sockets,
    Ports,
    Processes,
    Users,
    Findings,
    Host,
    Changes,
}

impl ViewId {
    pub const ALL: [ViewId; 7] = [
        ViewId::Sockets,
        ViewId::Ports,
        ViewId::Processes,
        ViewId::Users,
        ViewId::Findings,
        ViewId::Host,
        ViewId::Changes,
    ];

    pub fn title(self) -> &'static str {
        match self {
            ViewId::Sockets => "Sockets",
            ViewId::Ports => "Ports",
            ViewId::Processes => "Processes",
            ViewId::Users => "Users",
            ViewId::Findings => "Findings",
            ViewId::Host => "Host",
            ViewId::Changes => "Changes",
        }
    }

    /// Position in [`ViewId::ALL`].
    pub fn index(self) -> usize {
        ViewId::ALL.iter().position(|&v| v == self).unwrap_or(0)
    }

    /// The view of keymap number `n` (1-based).
    pub fn from_number(n: u8) -> Option<ViewId> {
        ViewId::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }

    pub fn next(self) -> ViewId {
        ViewId::ALL
            .get((self.index() + 1) % ViewId::ALL.len())
            .copied()
            .unwrap_or_default()
    }

    pub fn prev(self) -> ViewId {
        let n = ViewId::ALL.len();
        ViewId::ALL
            .get((self.index() + n - 1) % n)
            .copied()
            .unwrap_or_default()
    }

    /// The order a view opens with.
    pub fn default_sort(self) -> Sort {
        match self {
            ViewId::Sockets => Sort {
                col: sockets::LOCAL,
                desc: false,
            },
            ViewId::Ports => Sort {
                col: ports::PORT,
                desc: false,
            },
            ViewId::Processes => Sort {
                col: processes::PID,
                desc: false,
            },
            ViewId::Users => Sort {
                col: users::UID,
                desc: false,
            },
            // Most severe first, as the analysis orders them.
            ViewId::Findings => Sort {
                col: findings::SEVERITY,
                desc: true,
            },
            ViewId::Host => Sort {
                col: host::ORDER,
                desc: false,
            },
            ViewId::Changes => Sort {
                col: changes::CHANGE,
                desc: false,
            },
        }
    }
}

/// What every view reads: the snapshot, what was derived from it, the queue history and
/// the theme.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub snap: &'a Snapshot,
    pub data: &'a Data,
    pub history: &'a History,
    pub theme: &'a Theme,
    /// The comparison with the baseline (the Changes view).
    pub changes: &'a changes::Changes,
}

/// Names a row across snapshots, so the selection stays on it when rows come and go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKey {
    Socket(SocketId),
    Group(NetnsId, Proto, u16),
    Pid(u32),
    Uid(u32),
    Finding(FindingKind, Vec<SocketId>),
    Netns(NetnsId),
}

/// A row explained: the detail pane's title and lines (wrapped by the pane).
#[derive(Debug, Clone, Default)]
pub struct Detail {
    pub title: String,
    pub lines: Vec<Line<'static>>,
}

/// A view's table, with what the app needs beyond drawing it.
pub trait View: Source {
    /// Whether row `i` relates to a socket the filter keeps (`mask` by socket index).
    fn keep(&self, i: usize, mask: &[bool]) -> bool;
    fn key(&self, i: usize) -> Option<RowKey>;
    /// The row a key names now.
    fn find(&self, key: &RowKey) -> Option<usize> {
        (0..self.len()).find(|&i| self.key(i).as_ref() == Some(key))
    }
    fn detail(&self, i: usize) -> Detail;
    /// What the rows are, for "no sockets match".
    fn noun(&self) -> &'static str;
}

/// Runs `$body` with `$src` bound to the table of `$view`: one generic body for seven
/// source types.
macro_rules! with_view {
    ($view:expr, $cx:expr, |$src:ident| $body:expr) => {
        match $view {
            $crate::ui::views::ViewId::Sockets => {
                let $src = $crate::ui::views::sockets::Table::new($cx);
                $body
            }
            $crate::ui::views::ViewId::Ports => {
                let $src = $crate::ui::views::ports::Table::new($cx);
                $body
            }
            $crate::ui::views::ViewId::Processes => {
                let $src = $crate::ui::views::processes::Table::new($cx);
                $body
            }
            $crate::ui::views::ViewId::Users => {
                let $src = $crate::ui::views::users::Table::new($cx);
                $body
            }
            $crate::ui::views::ViewId::Findings => {
                let $src = $crate::ui::views::findings::Table::new($cx);
                $body
            }
            $crate::ui::views::ViewId::Host => {
                let $src = $crate::ui::views::host::Table::new($cx);
                $body
            }
            $crate::ui::views::ViewId::Changes => {
                let $src = $crate::ui::views::changes::Table::new($cx);
                $body
            }
        }
    };
}

pub(crate) use with_view;
