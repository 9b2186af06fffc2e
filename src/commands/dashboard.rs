//! `bindscope` without a command: the live dashboard.

use super::netns_select;
use crate::cli::DashboardArgs;
use crate::collect::linux::collector::CollectConfig;
use crate::model::View;
use crate::ui::app::AppInit;
use crate::ui::{config, run, theme};
use anyhow::Context as _;
use std::io::IsTerminal;
use std::time::Duration;

pub fn run(args: &DashboardArgs) -> anyhow::Result<u8> {
    let env = |k: &str| std::env::var(k).ok();
    // A bad config is a clear error at start, never a silent default.
    let cfg = match &args.config {
        Some(path) => config::load(path)?,
        None => config::load_from_env(&env)?,
    };
    let no_color = theme::no_color_requested(&env, args.no_color);
    let keymap = cfg.keymap().context("the [keys] of the config")?;
    let theme = cfg.theme(no_color).context("the [colors] of the config")?;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the dashboard needs a terminal; for pipes and files use 'bindscope snapshot' or 'bindscope findings'"
        );
    }
    let interval = args
        .interval
        .or(cfg.refresh)
        .unwrap_or(Duration::from_secs(1));
    let init = AppInit {
        keymap,
        theme,
        interval,
        export_dir: std::env::current_dir().unwrap_or_else(|_| ".".into()),
        replay: None,
    };
    let collect = CollectConfig {
        view: if args.all { View::All } else { View::Listening },
        netns: netns_select(&args.netns),
        ..CollectConfig::default()
    };
    run::run(init, collect)
}
