//! Command line: subcommands and their flags (clap derive).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "bindscope",
    version,
    about = "Who owns every bound port: socket users, every holder, scope, options and queues",
    long_about = "Who owns every bound port: socket users, every holder, scope, options and queues.\n\n\
                  Without a command, opens the live dashboard on this host."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub dashboard: DashboardArgs,
}

/// Flags of the live dashboard (`bindscope` without a command).
#[derive(Debug, clap::Args)]
pub struct DashboardArgs {
    /// Refresh interval of the dashboard (e.g. 1s, 500ms, 5s) [default: 1s, or `refresh` in the config]
    #[arg(long, value_parser = parse_interval)]
    pub interval: Option<std::time::Duration>,
    /// No colours (also when NO_COLOR is set): highlights use bold, reverse and underline
    #[arg(long)]
    pub no_color: bool,
    /// Config file (keys, colours, refresh) [default: $XDG_CONFIG_HOME/bindscope/config.toml]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Include connections and TIME_WAIT
    #[arg(long, short = 'a')]
    pub all: bool,
    /// Network namespaces to show (as for `snapshot`)
    #[arg(long, short = 'n', value_name = "NAME|ID|all", value_delimiter = ',')]
    pub netns: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Take one snapshot of the host's sockets (every network namespace) and print or save it.
    Snapshot(SnapshotArgs),
    /// Judge the host: overlapping binds, ports another user could take, failing listeners.
    /// Exit status: 0 when nothing is at or above --min-severity, 1 when something is, 2 on error.
    Findings(FindingsArgs),
}

/// How severe a finding must be to be shown and to make the exit status 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum MinSeverity {
    Info,
    Notice,
    Warning,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FindingsFormat {
    /// Grouped by severity, for people and incident channels
    Text,
    /// `{"findings": [{kind, severity, sockets, summary, explanation}], ...}`
    Json,
}

#[derive(Debug, clap::Args)]
pub struct FindingsArgs {
    /// Show findings at or above this severity; exit 1 when there is one
    #[arg(long, value_enum, default_value = "notice")]
    pub min_severity: MinSeverity,
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: FindingsFormat,
    /// Snapshots to take before judging: 3 or more let queue growth and counter rises show
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub samples: u32,
    /// Time between samples (e.g. 1s, 500ms, 2m)
    #[arg(long, default_value = "1s", value_parser = parse_interval)]
    pub interval: std::time::Duration,
    /// Include connections and TIME_WAIT in the snapshots
    #[arg(long, short = 'a')]
    pub all: bool,
    /// Network namespaces to include (as for `snapshot`)
    #[arg(long, short = 'n', value_name = "NAME|ID|all", value_delimiter = ',')]
    pub netns: Vec<String>,
}

/// `1s`, `500ms`, `2m`, or a bare number of seconds; at least 10ms.
pub fn parse_interval(s: &str) -> Result<std::time::Duration, String> {
    let d = match s.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => std::time::Duration::from_secs_f64(secs),
        Ok(_) => return Err(format!("'{s}' is not a duration")),
        Err(_) => humantime::parse_duration(s).map_err(|e| format!("'{s}': {e}"))?,
    };
    if d < std::time::Duration::from_millis(10) {
        return Err(format!("'{s}' is too short: at least 10ms"));
    }
    Ok(d)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_interval("0.25"), Ok(Duration::from_millis(250)));
        assert!(parse_interval("1ms").is_err());
        assert!(parse_interval("soon").is_err());
        assert!(parse_interval("-1").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
