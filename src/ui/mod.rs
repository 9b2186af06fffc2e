//! The terminal dashboard. Pure parts: the filter language, keys as data, the user's config
//! file and the theme; the app state with its update function; rendering as a pure function
//! of state.

pub mod app;
pub mod config;
pub mod filter;
pub mod keymap;
pub mod run;
pub mod theme;
