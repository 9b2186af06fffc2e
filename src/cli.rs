//! Command line: subcommands and their flags (clap derive).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "bindscope",
    version,
    // `bindscope -n web snapshot`: the dashboard's flags before a command are an error, not
    // silently dropped (the command's own -n is the one that would count).
    args_conflicts_with_subcommands = true,
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
    #[command(flatten)]
    pub collect: CollectArgs,
    /// Refresh interval of the dashboard (e.g. 1s, 500ms, 5s) [default: 1s, or `refresh` in the config]
    #[arg(long, value_parser = crate::units::parse_interval)]
    pub interval: Option<std::time::Duration>,
    /// No colours (also when NO_COLOR is set): highlights use bold, reverse and underline
    #[arg(long)]
    pub no_color: bool,
    /// Config file (keys, colours, refresh) [default: $XDG_CONFIG_HOME/bindscope/config.toml]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// What to collect: the flags every command that takes snapshots shares.
#[derive(Debug, Clone, clap::Args)]
pub struct CollectArgs {
    /// Include connections, SYN_RECV requests and TIME_WAIT (default: listeners, bound-only
    /// TCP sockets and unconnected UDP sockets)
    #[arg(long, short = 'a')]
    pub all: bool,
    /// Network namespaces to include (default: all that can be seen): a namespace's name
    /// (`ip netns`, `host`, a unit, a bind mount's file), `current`, an inode, a container's
    /// name, id or id prefix (4+ hex digits, `docker:02175b2a`), `pod:NAMESPACE/NAME` or
    /// `pod:NAME`, `image:NAME`, or `all`. `*` and `?` are globs (`web*`), and every namespace a
    /// value matches is included; names ignore case. Repeat or separate with commas.
    #[arg(long, short = 'n', value_name = "NAME|ID|all", value_delimiter = ',')]
    pub netns: Vec<String>,
    /// Do not read socket options through pidfd_getfd (they are reported unknown)
    #[arg(long)]
    pub no_probe: bool,
}

impl CollectArgs {
    /// The collector's settings these flags ask for (the rest default).
    pub fn config(&self) -> crate::collect::linux::collector::CollectConfig {
        use crate::collect::linux::collector::{CollectConfig, NetnsSelect};
        CollectConfig {
            view: if self.all {
                crate::model::View::All
            } else {
                crate::model::View::Listening
            },
            probe_options: !self.no_probe,
            netns: if self.netns.is_empty() {
                NetnsSelect::All
            } else {
                NetnsSelect::Only(self.netns.clone())
            },
            ..CollectConfig::default()
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Take one snapshot of the host's sockets (every network namespace) and print or save it.
    Snapshot(SnapshotArgs),
    /// Judge the host: overlapping binds, ports another user could take, failing listeners.
    /// Exit status: 0 when nothing is at or above --min-severity, 1 when something is, 2 on error.
    Findings(FindingsArgs),
    /// Would this bind succeed now? Computed from a snapshot, never by binding on the host.
    /// Exit status: 0 ok, 1 it would fail, 3 uncertain (an option it needs is unknown), 2 error.
    CanBind(CanBindArgs),
    /// Record snapshots into a JSON Lines file until --duration ends or Ctrl-C; the file is
    /// valid after every sample.
    Record(RecordArgs),
    /// A Prometheus exporter: /metrics over HTTP, sampled in the background every --interval.
    /// Ends cleanly, with status 0, on SIGTERM or SIGINT.
    Serve(ServeArgs),
    /// The dashboard over snapshot and recording files, read-only. Files of several hosts
    /// are shown together with a host column.
    Open(OpenArgs),
    /// What appeared, disappeared or changed between two snapshots.
    /// Exit status: 0 no differences, 1 differences, 2 error.
    Diff(DiffArgs),
    /// The first caller × second caller tables for this kernel: bind results and who then
    /// receives. Exit status with --verify: 0 every cell agrees with the kernel, 1 some differ.
    Rules(RulesArgs),
    /// Who receives what: each (namespace, protocol, port) with its binds and its routes,
    /// computed as the kernel's lookup does (exact address, then wildcard; scores; the
    /// order of the kernel's hash chain, from the sock_diag dump).
    Ports(PortsArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PortsFormat {
    /// A line per port and per route, for people
    Table,
    /// `{"ports": [{netns, proto, port, members, routes}]}` (assets/ports.schema.json)
    Json,
}

#[derive(Debug, clap::Args)]
pub struct PortsArgs {
    #[command(flatten)]
    pub collect: CollectArgs,
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub format: PortsFormat,
    /// Show only ports with a bind that passes this filter (the dashboard's filter language,
    /// e.g. `port:53`, `user:root`, `proto:udp`)
    #[arg(value_name = "QUERY")]
    pub query: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    #[command(flatten)]
    pub collect: CollectArgs,
    /// The recording to write (JSON Lines: one snapshot a line)
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// Time between samples (e.g. 1s, 500ms, 2m)
    #[arg(long, default_value = "1s", value_parser = crate::units::parse_interval)]
    pub interval: std::time::Duration,
    /// Stop after this long (e.g. 30s, 10m, 1h) [default: until Ctrl-C]
    #[arg(long, value_parser = crate::units::parse_interval)]
    pub duration: Option<std::time::Duration>,
    /// Stop after this many samples [default: until Ctrl-C]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub samples: Option<u64>,
    /// Replace an existing file (by default an existing file is never overwritten)
    #[arg(long)]
    pub force: bool,
    /// Replace cmdline arguments, user names, host names and non-loopback addresses with
    /// stable placeholders, for sharing outside the team
    #[arg(long)]
    pub redact: bool,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub collect: CollectArgs,
    /// Address and port to listen on. Loopback unless you name another address: the metrics
    /// show every listener's address, port and user
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9874")]
    pub listen: std::net::SocketAddr,
    /// Time between samples (e.g. 15s, 1m); a scrape serves the newest sample
    #[arg(long, default_value = "15s", value_parser = crate::units::parse_interval)]
    pub interval: std::time::Duration,
    /// At most this many series per per-socket family (listeners, current findings): the
    /// longest accept queues and the most severe findings are kept, and
    /// bindscope_series_omitted counts the rest
    #[arg(long, value_name = "N", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_series: u64,
}

#[derive(Debug, clap::Args)]
pub struct OpenArgs {
    /// Snapshot files (`snapshot -o`) and recordings (`record -o`), of one host or several
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// No colours (also when NO_COLOR is set)
    #[arg(long)]
    pub no_color: bool,
    /// Config file (keys, colours) [default: $XDG_CONFIG_HOME/bindscope/config.toml]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Refuse files larger than this many MiB
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub max_size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Sections of appeared (+), disappeared (-) and changed (~) sockets, and findings
    Text,
    /// `{"format": "bindscope.diff", "version": 1, ...}`
    Json,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The snapshot before. A recording stands for its last snapshot; given alone, a
    /// recording's first snapshot is compared with its last.
    #[arg(value_name = "A")]
    pub before: PathBuf,
    /// The snapshot after
    #[arg(value_name = "B")]
    pub after: Option<PathBuf>,
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// Refuse files larger than this many MiB
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub max_size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BindProto {
    Tcp,
    Udp,
}

#[derive(Debug, clap::Args)]
pub struct CanBindArgs {
    /// tcp or udp
    #[arg(value_enum)]
    pub proto: BindProto,
    /// ADDR:PORT; IPv6 in brackets: [::1]:8080, [fe80::1%eth0]:8080
    #[arg(value_name = "ADDR:PORT")]
    pub endpoint: String,
    /// SO_REUSEADDR on the new socket
    #[arg(long)]
    pub reuseaddr: bool,
    /// SO_REUSEPORT on the new socket
    #[arg(long)]
    pub reuseport: bool,
    /// IPV6_V6ONLY on (default: the namespace's net.ipv6.bindv6only)
    #[arg(long)]
    pub v6only: bool,
    /// IP_FREEBIND
    #[arg(long)]
    pub freebind: bool,
    /// IP_TRANSPARENT
    #[arg(long)]
    pub transparent: bool,
    /// SO_BINDTODEVICE
    #[arg(long, value_name = "IF")]
    pub device: Option<String>,
    /// The user who would bind (name or uid) [default: you]
    #[arg(long, value_name = "NAME|UID")]
    pub user: Option<String>,
    /// Also call listen() (TCP), which checks again
    #[arg(long)]
    pub listen: bool,
    /// The network namespace to ask about [default: the one bindscope runs in]
    #[arg(long, short = 'n', value_name = "NAME|ID")]
    pub netns: Option<String>,
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: FindingsFormat,
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
    #[command(flatten)]
    pub collect: CollectArgs,
    /// Show findings at or above this severity; exit 1 when there is one
    #[arg(long, value_enum, default_value = "notice")]
    pub min_severity: MinSeverity,
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: FindingsFormat,
    /// Snapshots to take before judging: 3 or more let queue growth and counter rises show
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub samples: u32,
    /// Time between samples (e.g. 1s, 500ms, 2m)
    #[arg(long, default_value = "1s", value_parser = crate::units::parse_interval)]
    pub interval: std::time::Duration,
}

/// A file mode in octal, `0644` or `644`: permission bits only (no setuid, setgid, sticky).
pub fn parse_mode(s: &str) -> Result<u32, String> {
    // from_str_radix alone would take a leading '+'.
    let digits = !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| (b'0'..=b'7').contains(&b));
    match u32::from_str_radix(s, 8) {
        Ok(m) if digits && m <= 0o777 => Ok(m),
        _ => Err("a mode in octal from 0 to 0777, such as 0644 or 600".into()),
    }
}

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub collect: CollectArgs,
    /// Output format [default: with -o FILE the one its extension names, else json; without,
    /// table on a terminal, json otherwise]
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<crate::export::Format>,
    /// Write to FILE (whole or not at all) instead of stdout; `-` is stdout. Without
    /// --format, the extension picks it (.json, .csv, .md, .prom, .txt)
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Mode of the file written with -o, in octal [default: 0644 for prom, which carries no
    /// cmdlines, 0600 for the others]
    #[arg(long, value_name = "OCTAL", value_parser = parse_mode, requires = "output")]
    pub mode: Option<u32>,
    /// Indent the JSON
    #[arg(long)]
    pub pretty: bool,
    /// Replace cmdline arguments, user names, host names and non-loopback addresses with
    /// stable placeholders, for sharing outside the team
    #[arg(long)]
    pub redact: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(parse_mode("0644"), Ok(0o644));
        assert_eq!(parse_mode("600"), Ok(0o600));
        for bad in ["", "4755", "0o644", "rw-r--r--", "9", "+644", "７"] {
            assert!(parse_mode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// tcp or udp [default: both]
    #[arg(value_enum)]
    pub proto: Option<BindProto>,
    /// Measure every cell with real sockets of two uids and real traffic, in a throwaway
    /// network namespace created and deleted for it (root only), and mark the differences
    #[arg(long)]
    pub verify: bool,
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: RulesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// Aligned columns, for a terminal
    Text,
    /// Markdown tables, for docs
    Markdown,
    Json,
}
