//! Command line: subcommands and their flags (clap derive).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "bindscope",
    version,
    about = "Who owns every bound port: socket users, every holder, scope, options and queues",
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Take one snapshot of the host's sockets (every network namespace) and print or save it.
    Snapshot(SnapshotArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The snapshot file format (bindscope.snapshot v1)
    Json,
    /// Aligned columns for people
    Table,
}

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// Output format [default: table on a terminal, json otherwise and with -o]
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<Format>,
    /// Write to FILE (whole or not at all) instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Include connections, SYN_RECV requests and TIME_WAIT (default: listeners and bound sockets)
    #[arg(long, short = 'a')]
    pub all: bool,
    /// Network namespaces to include: `ip netns` name, container or unit name, `host`,
    /// `current`, inode, or `all` (default: all that can be seen). Repeat or separate with commas.
    #[arg(long, short = 'n', value_name = "NAME|ID|all", value_delimiter = ',')]
    pub netns: Vec<String>,
    /// Indent the JSON
    #[arg(long)]
    pub pretty: bool,
    /// Do not read socket options through pidfd_getfd (they are reported unknown)
    #[arg(long)]
    pub no_probe: bool,
}
