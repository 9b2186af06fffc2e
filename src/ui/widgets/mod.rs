//! Widgets shared by every view: the one table over a row trait, queue bars and
//! sparklines, and text that fits its cell or wraps to its pane.

pub mod bar;
pub mod table;
pub mod text;
