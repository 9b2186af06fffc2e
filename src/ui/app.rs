//! The dashboard's state and its update function: every input is a [`Msg`], every outside
//! action the app wants is an [`Effect`] for the runtime to carry out. No I/O and no clock
//! here, so the whole app runs in tests, driven message by message.

use super::keymap::{Action, Keymap};
use super::theme::Theme;
use crate::model::Snapshot;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyEvent, MouseEvent};
use ratatui::text::Line;
use std::path::PathBuf;
use std::time::Duration;

/// Everything that happens to the app.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// A new snapshot, taken `at_ms` on the runtime's clock (for queue history).
    Snapshot {
        snap: Box<Snapshot>,
        at_ms: u64,
    },
    /// The collector failed; the app keeps showing the last snapshot and says so.
    CollectFailed(String),
}

/// What the app asks the runtime to do.
#[derive(Debug)]
pub enum Effect {
    Quit,
    /// Refresh at this interval from now on.
    SetInterval(Duration),
    /// Stop or resume the collector (a paused view also ignores new snapshots).
    SetPaused(bool),
    /// Write this snapshot to this file (whole or not at all).
    Export(PathBuf, Box<Snapshot>),
}

/// How the app starts.
pub struct AppInit {
    pub keymap: Keymap,
    pub theme: Theme,
    pub interval: Duration,
    /// Where `e` writes snapshot files.
    pub export_dir: PathBuf,
}

pub struct App {
    keymap: Keymap,
    theme: Theme,
    interval: Duration,
    paused: bool,
    export_dir: PathBuf,
    snapshot: Option<Box<Snapshot>>,
}

impl App {
    pub fn new(init: AppInit) -> App {
        App {
            keymap: init.keymap,
            theme: init.theme,
            interval: init.interval,
            paused: false,
            export_dir: init.export_dir,
            snapshot: None,
        }
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(k) => match self.keymap.lookup(&k) {
                Some(Action::Quit) => vec![Effect::Quit],
                _ => Vec::new(),
            },
            Msg::Snapshot { snap, .. } => {
                if !self.paused {
                    self.snapshot = Some(snap);
                }
                Vec::new()
            }
            Msg::Mouse(_) | Msg::Resize { .. } | Msg::CollectFailed(_) => Vec::new(),
        }
    }

    /// Draws the whole screen: a pure function of the state.
    pub fn render(&self, frame: &mut Frame) {
        let host = self
            .snapshot
            .as_ref()
            .map(|s| s.host.hostname.clone())
            .unwrap_or_else(|| "collecting…".to_string());
        frame.render_widget(
            Line::styled(format!("bindscope {host}"), self.theme.header),
            frame.area(),
        );
        let _ = &self.export_dir;
    }
}
