//! `bindscope open FILE…`: the dashboard over snapshot and recording files, read-only.
//! Every file is loaded (strictly: a bad file is an error that names it and where) before
//! the terminal is touched.

use super::dashboard::{looks, require_terminal};
use super::{limits, load};
use crate::cli::OpenArgs;
use crate::export::timeline::Timeline;
use crate::ui::app::AppInit;
use crate::ui::run;
use std::time::Duration;

pub fn run(args: &OpenArgs) -> anyhow::Result<u8> {
    let looks = looks(args.config.as_deref(), args.no_color, args.ascii)?;
    if args.files.iter().any(|f| f.as_os_str() == "-") {
        // The dashboard reads its keys from standard input, so it cannot also be the file.
        anyhow::bail!(
            "'open -' is not supported: the dashboard needs the terminal on standard input; \
             save the stream to a file first, or use 'bindscope diff -'"
        );
    }
    let limits = limits(args.max_size);
    let files = args
        .files
        .iter()
        .map(|p| load(p, &limits))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let Some(timeline) = Timeline::new(files) else {
        anyhow::bail!("the files hold no snapshot");
    };
    require_terminal("for pipes use 'bindscope diff' or 'bindscope snapshot'")?;
    let init = AppInit {
        keymap: looks.keymap,
        theme: looks.theme,
        notice: looks.warning,
        interval: Duration::from_secs(1),
        export_dir: std::env::current_dir().unwrap_or_else(|_| ".".into()),
        replay: Some(timeline),
    };
    run::run_files(init, looks.charset)
}
