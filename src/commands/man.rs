//! `bindscope man [COMMAND] [--out-dir DIR]`: man pages in roff, rendered by clap_mangen from
//! the clap definition, one page per command as git and cargo do: bindscope(1), whose
//! SUBCOMMANDS section names every bindscope-COMMAND(1), and a page for each command.

use crate::cli::Cli;
use crate::output::write::SHARED;
use anyhow::Context as _;
use clap::CommandFactory;
use std::path::Path;

/// One man page: its file name (`bindscope-snapshot.1`) and its roff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub file: String,
    pub roff: Vec<u8>,
}

pub fn run(args: &crate::cli::ManArgs) -> anyhow::Result<u8> {
    let pages = pages()?;
    if let Some(dir) = &args.out_dir {
        write_all(&pages, dir)?;
        return Ok(0);
    }
    let file = match &args.command {
        None => "bindscope.1".to_string(),
        Some(c) => format!("bindscope-{c}.1"),
    };
    let Some(page) = pages.iter().find(|p| p.file == file) else {
        let names: Vec<&str> = pages
            .iter()
            .filter_map(|p| p.file.strip_prefix("bindscope-")?.strip_suffix(".1"))
            .collect();
        anyhow::bail!(
            "no command '{}': the pages are of {}",
            crate::text::clean(args.command.as_deref().unwrap_or_default()),
            names.join(", ")
        );
    };
    super::to_stdout(|w| w.write_all(&page.roff))?;
    Ok(0)
}

/// Every page: bindscope.1 first, then one per command in the order of `--help`. clap's
/// own `help` command is left out (its page would only say to run `--help`).
pub fn pages() -> anyhow::Result<Vec<Page>> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // Building names each command as its page does (display name `bindscope-snapshot`,
    // usage `bindscope snapshot`), and adds the flags parsing adds (--help, --version).
    cmd.build();
    let mut out = vec![render(cmd.clone())?];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        out.push(render(sub.clone())?);
    }
    Ok(out)
}

fn render(cmd: clap::Command) -> anyhow::Result<Page> {
    let man = clap_mangen::Man::new(cmd)
        .section("1")
        .date(env!("BINDSCOPE_BUILD_DATE"))
        .source(concat!("bindscope ", env!("CARGO_PKG_VERSION")))
        .manual("bindscope manual");
    let file = man.get_filename();
    let mut roff = Vec::new();
    man.render(&mut roff)
        .with_context(|| format!("cannot render {file}"))?;
    Ok(Page {
        file,
        roff: without_blank_lines(&roff),
    })
}

/// clap_mangen writes `.br`, an empty line, `.br` before the list of an argument's possible
/// values: in roff an empty line is a paragraph space (`.sp`), and a break next to a space
/// or another break does nothing, so `mandoc -T lint` warns ("skipping paragraph macro").
/// Empty lines go (the pages have no literal `.nf` blocks, where they would be text), and
/// a `.br` right after another is left out.
fn without_blank_lines(roff: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(roff.len());
    let mut last: &[u8] = b"";
    for line in roff.split_inclusive(|&b| b == b'\n') {
        let text = line.trim_ascii();
        if text.is_empty() || (text == b".br" && last == b".br") {
            continue;
        }
        out.extend_from_slice(line);
        last = text;
    }
    out
}

/// Writes each page into `dir` (which must exist) whole or not at all, as snapshot files
/// are written.
fn write_all(pages: &[Page], dir: &Path) -> anyhow::Result<()> {
    if !dir.is_dir() {
        anyhow::bail!(
            "'{}' is not a directory",
            crate::text::clean(&dir.display().to_string())
        );
    }
    for page in pages {
        let path = dir.join(&page.file);
        crate::output::write::write_atomic(&path, SHARED, |w| w.write_all(&page.roff))?;
    }
    Ok(())
}
