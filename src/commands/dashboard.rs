//! `bindscope` without a command: the live dashboard.

use crate::analyze::history::History;
use crate::cli::DashboardArgs;
use crate::collect::linux::collector::{CollectConfig, Collector, ProbeWhen};
use crate::session::Session;
use crate::text::glyphs::Charset;
use crate::ui::app::AppInit;
use crate::ui::config::{self, Config};
use crate::ui::keymap::Keymap;
use crate::ui::run;
use crate::ui::theme::{self, Theme};
use anyhow::Context as _;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

pub fn run(args: &DashboardArgs) -> anyhow::Result<u8> {
    let looks = looks(args.config.as_deref(), args.no_color, args.ascii)?;
    require_terminal("for pipes and files use 'bindscope snapshot' or 'bindscope findings'")?;
    let interval = args
        .interval
        .or(looks.config.refresh)
        .unwrap_or(Duration::from_secs(1));
    let init = AppInit {
        keymap: looks.keymap,
        theme: looks.theme,
        notice: looks.warning,
        interval,
        export_dir: std::env::current_dir().unwrap_or_else(|_| ".".into()),
        replay: None,
    };
    let collect = CollectConfig {
        // A refresh reads no socket younger than one interval (see ProbeWhen).
        probe_when: ProbeWhen::SeenTwice,
        ..args.collect.config()
    };
    run::run(
        init,
        Session::new(Collector::new(collect), History::default()),
        looks.charset,
    )
}

/// What the config file gives the dashboard.
pub struct Looks {
    pub config: Config,
    pub keymap: Keymap,
    pub theme: Theme,
    /// ASCII or UTF-8 (`--ascii`, the config's `ascii`, TERM and the locale).
    pub charset: Charset,
    /// Why the default config file was not used (it could not be read): printed on stderr
    /// and shown in the status bar, since the dashboard starts anyway.
    pub warning: Option<String>,
}

/// The config file with the keymap and theme it gives: a bad config is a clear error at
/// start, never a silent default. Shared by the live dashboard and `open`.
pub fn looks(path: Option<&Path>, no_color: bool, ascii: bool) -> anyhow::Result<Looks> {
    let env = |k: &str| std::env::var(k).ok();
    let (config, warning) = match path {
        Some(path) => (config::load(path)?, None),
        None => config::load_from_env(&env)?,
    };
    let warning = warning.map(|w| crate::text::clean(&w).into_owned());
    if let Some(w) = &warning {
        eprintln!("bindscope: {w}");
    }
    let no_color = theme::no_color_requested(&env, no_color);
    let charset = theme::charset_requested(&env, ascii, config.ascii);
    let keymap = config.keymap().context("the [keys] of the config")?;
    let theme = config
        .theme(no_color)
        .context("the [colors] of the config")?;
    Ok(Looks {
        config,
        keymap,
        theme,
        charset,
        warning,
    })
}

/// An error unless stdin and stdout are a terminal; `hint` says what to use instead.
pub fn require_terminal(hint: &str) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("the dashboard needs a terminal; {hint}");
    }
    Ok(())
}
