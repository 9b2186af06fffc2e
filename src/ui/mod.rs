//! The terminal dashboard. Pure parts: keys as data, the user's config
//! file and the theme; the app state with its update function ([`app`]); rendering as a pure
//! function of state ([`views`], over the shared [`widgets`]); and the runtime ([`run`]) that
//! owns the terminal and the collector thread.

pub mod app;
pub mod config;
pub mod keymap;
pub mod run;
pub mod theme;
pub mod views;
pub mod widgets;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_containers;
#[cfg(test)]
mod tests_files;
