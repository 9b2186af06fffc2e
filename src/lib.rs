//! bindscope: who owns every bound port.
//!
//! - [`model`]: plain data (the snapshot file format), no I/O.
//! - [`analyze`]: pure judgement over snapshots: findings, port groups, the can-bind what-if.
//! - [`collect`]: the Linux collector over an injectable `/proc` root, and the pure join.
//! - [`query`]: the filter language (`port:80 user:www-data`): parse, match a socket, errors.
//! - [`ui`]: the terminal dashboard (keys, config, theme, app, views).
//! - [`export`]: loading snapshot and recording files strictly; CSV, Markdown, Prometheus exports; redaction.
//! - [`session`]: collect → history → judge, for every command that samples and the dashboard.
//! - [`output`]: JSON, the table for people, atomic file writes.
//! - [`user_files`]: files the user names, opened with the user's own rights (a leaf).
//! - [`text`]: untrusted text made safe for terminals and text files (a leaf).
//! - [`signals`]: the signals that end long-running commands, and their exit statuses (a leaf).
//! - [`units`]: durations people type, parsed (a leaf).
//! - [`cli`]: the command line; [`commands`]: one module per subcommand.
pub mod analyze;
pub mod cli;
pub mod collect;
pub mod commands;
pub mod export;
pub mod model;
pub mod output;
pub mod query;
pub mod session;
pub mod signals;
#[cfg(test)]
pub mod testing;
pub mod text;
pub mod ui;
pub mod units;
pub mod user_files;
