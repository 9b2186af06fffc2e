//! Widgets shared by every view: the one table over a row trait, queue bars and
//! sparklines, text that fits its cell or wraps to its pane, and a frame in ASCII.

pub mod ascii;
pub mod bar;
pub mod table;
pub mod text;
