//! `bindscope open FILE…`: the dashboard over snapshot and recording files, read-only.
//! Every file is loaded (strictly: a bad file is an error that names it and where) before
//! the terminal is touched.

use super::diff::{limits, load};
use crate::cli::OpenArgs;
use crate::export::timeline::Timeline;
use crate::ui::app::AppInit;
use crate::ui::{config, run, theme};
use anyhow::Context as _;
use std::io::IsTerminal;
use std::time::Duration;

pub fn run(args: &OpenArgs) -> anyhow::Result<u8> {
    let env = |k: &str| std::env::var(k).ok();
    let cfg = match &args.config {
        Some(path) => config::load(path)?,
        None => config::load_from_env(&env)?,
    };
    let no_color = theme::no_color_requested(&env, args.no_color);
    let keymap = cfg.keymap().context("the [keys] of the config")?;
    let theme = cfg.theme(no_color).context("the [colors] of the config")?;
    let limits = limits(args.max_size);
    let files = args
        .files
        .iter()
        .map(|p| load(p, &limits))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let Some(timeline) = Timeline::new(files) else {
        anyhow::bail!("the files hold no snapshot");
    };
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the dashboard needs a terminal; for pipes use 'bindscope diff' or 'bindscope snapshot'"
        );
    }
    let init = AppInit {
        keymap,
        theme,
        interval: Duration::from_secs(1),
        export_dir: std::env::current_dir().unwrap_or_else(|_| ".".into()),
        replay: Some(timeline),
    };
    run::run_files(init)
}
