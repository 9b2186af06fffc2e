//! Command line: subcommands and their flags (clap derive).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "bindscope",
    // `0.1.0 (4fd49a7 2026-12-03)`: the commit and build date come from build.rs.
    version = env!("BINDSCOPE_VERSION"),
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
    /// ASCII only: `+-|` borders, `#` bars, `>` for arrows (also for TERM=dumb, a locale
    /// that is not UTF-8 such as LANG=C, or `ascii = true` in the config)
    #[arg(long)]
    pub ascii: bool,
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

/// `-q`: for scripts and cron, which read the exit status and stdout only.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct QuietArgs {
    /// Do not print on stderr what the privileges hid (the namespaces not entered, the
    /// holders and options not readable); the output still marks them unknown
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// The filter-language keys for a QUERY argument's long help: from the parser's own list,
/// so the help cannot name a key it lacks or miss one it has.
fn query_long_help(what: &str, nothing: &str) -> String {
    format!(
        "{what} (the dashboard's filter language: terms AND together, !term negates (-term \
         only after `--`, which ends the options), key:value or free text; e.g. 'port:80 user:www-data', 'proto:udp', 'netns:web*').\n\
         Keys: {}.\n\
         A query that matches nothing: {nothing}; a malformed one: exit status 2 and a caret \
         under the column",
        crate::query::valid_keys()
    )
}

/// What `snapshot` and `ports` do when their query matches nothing.
const NOTHING_EXITS_1: &str = "exit status 1 and no output";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Take one snapshot of the host's sockets (every network namespace) and print or save it,
    /// or only the sockets a QUERY matches.
    ///
    /// Exit status: 0 ok, 1 the query matched no socket, 2 error.
    Snapshot(SnapshotArgs),
    /// Judge the host: overlapping binds, ports another user could take, failing listeners.
    ///
    /// Exit status: 0 when nothing shown is at or above --min-severity, 1 when something is
    /// (a QUERY that matches no socket shows nothing: 0), 2 error.
    Findings(FindingsArgs),
    /// Would this bind succeed now? Computed from a snapshot, never by binding on the host.
    ///
    /// Exit status: 0 ok, 1 it would fail, 3 uncertain (an option it needs is unknown), 2 error.
    CanBind(CanBindArgs),
    /// Record snapshots into a JSON Lines file until --duration ends or Ctrl-C; the file is
    /// valid after every sample.
    ///
    /// Exit status: 0 ok, 2 error.
    Record(RecordArgs),
    /// A Prometheus exporter: /metrics over HTTP, sampled in the background every --interval.
    ///
    /// /metrics answers in the Prometheus text format, or OpenMetrics when the scraper asks
    /// for it; a collection that fails keeps the last good sample on /metrics and counts the
    /// failure (bindscope_collection_errors_total). Listens on loopback unless --listen
    /// names another address.
    ///
    /// Exit status: 0 ended by SIGTERM or SIGINT (a service's normal stop; SIGHUP is
    /// ignored), 2 error (the address is taken, the first collection failed).
    Serve(ServeArgs),
    /// The dashboard over snapshot and recording files, read-only, and over recordings as
    /// they are written (`-`, --follow). Files of several hosts are shown together with a
    /// host column.
    ///
    /// Exit status: 0 ok, 2 error.
    Open(OpenArgs),
    /// What appeared, disappeared or changed between two snapshots.
    ///
    /// Exit status: 0 no differences, 1 differences, 2 error.
    Diff(DiffArgs),
    /// The first caller × second caller tables for this kernel: bind results and who then
    /// receives.
    ///
    /// Exit status: 0 ok (with --verify: every cell agrees with the kernel), 1 with --verify:
    /// some differ, 2 error.
    Rules(RulesArgs),
    /// Who receives what: each (namespace, protocol, port) with its binds and its routes,
    /// computed as the kernel's lookup does (exact address, then wildcard; scores; the
    /// order of the kernel's hash chain, from the sock_diag dump).
    ///
    /// Exit status: 0 ok, 1 the query matched no port, 2 error.
    Ports(PortsArgs),
    /// Who holds a port, in every network namespace: each socket with its holders (pid,
    /// command), its user, address and scope, state, and container.
    ///
    /// `who 80`, `who :80`, `who udp/53`, `who tcp/443`, `who 10.0.0.5:443`,
    /// `who '[::1]:8080'`; `-t` prints only the pids (like `lsof -t`).
    ///
    /// Exit status: 0 a socket has the port, 1 none has, 3 none was seen but a namespace
    /// could not be entered (it may be there), 2 error.
    Who(WhoArgs),
    /// Print a completion script for bash, zsh or fish, generated from this command line.
    ///
    /// bash: `bindscope completions bash > /etc/bash_completion.d/bindscope`, or
    /// `source <(bindscope completions bash)` in ~/.bashrc; zsh: into a directory of $fpath
    /// as `_bindscope`; fish: into ~/.config/fish/completions/bindscope.fish. Values of
    /// -n/--netns are completed when Tab is pressed, from `ip netns list` and all, current,
    /// host.
    ///
    /// Exit status: 0 ok, 2 error.
    Completions(CompletionsArgs),
    /// Print the man page (roff), generated from this command line.
    ///
    /// `bindscope man | man -l -` reads it. With a command, that command's page
    /// (bindscope-COMMAND(1)); with --out-dir, every page, to install.
    ///
    /// Exit status: 0 ok, 2 error.
    Man(ManArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WhoFormat {
    /// The sockets grouped by network namespace, a line each, for people
    Table,
    /// A snapshot file of those sockets only (bindscope.snapshot v1,
    /// assets/snapshot.schema.json): `open` and `diff` read it
    Json,
}

#[derive(Debug, clap::Args)]
pub struct WhoArgs {
    #[command(flatten)]
    pub collect: CollectArgs,
    #[command(flatten)]
    pub quiet: QuietArgs,
    /// PORT, :PORT, tcp/PORT, udp/PORT, ADDR:PORT, [IPv6]:PORT, or PROTO/ADDR:PORT. With
    /// an address, the sockets that cover it: bound to it, or to a wildcard of its family,
    /// and when bound to a device, only if traffic to it arrives on that device (`bindscope
    /// ports` says which one receives)
    #[arg(value_name = "PORT")]
    pub target: String,
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub format: WhoFormat,
    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Only the pids of the holders, one a line, sorted, each once (like `lsof -t`)
    #[arg(long, short = 't', conflicts_with_all = ["format", "json"])]
    pub pids: bool,
}

impl WhoArgs {
    pub fn format(&self) -> WhoFormat {
        if self.json {
            WhoFormat::Json
        } else {
            self.format
        }
    }
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
    #[command(flatten)]
    pub quiet: QuietArgs,
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub format: PortsFormat,
    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Show only ports with a bind that passes this filter (`port:53`, `proto:udp`)
    #[arg(value_name = "QUERY", long_help = query_long_help("Show only ports with a bind that passes this filter", NOTHING_EXITS_1))]
    pub query: Option<String>,
}

impl PortsArgs {
    pub fn format(&self) -> PortsFormat {
        if self.json {
            PortsFormat::Json
        } else {
            self.format
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    #[command(flatten)]
    pub collect: CollectArgs,
    #[command(flatten)]
    pub quiet: QuietArgs,
    /// The recording to write (JSON Lines: one snapshot a line); `-` streams it to stdout,
    /// a line flushed per sample, for `bindscope open -` at the other end of a pipe or ssh
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
    #[command(flatten)]
    pub quiet: QuietArgs,
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
    /// Snapshot files (`snapshot -o`) and recordings (`record -o`), of one host or several;
    /// `-` reads a recording from standard input as it streams (`ssh -n HOST sudo -n bindscope
    /// record -o - | bindscope open -`)
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Follow the files as they grow, as `tail -F` does: new samples are shown as they are
    /// written; a truncated or rotated file is read again from its start, and a pipe
    /// (`<(ssh -n HOST bindscope record -o -)`) is read until it ends
    #[arg(long)]
    pub follow: bool,
    /// No colours (also when NO_COLOR is set)
    #[arg(long)]
    pub no_color: bool,
    /// ASCII only (also for TERM=dumb, a locale that is not UTF-8, or `ascii = true` in the
    /// config)
    #[arg(long)]
    pub ascii: bool,
    /// Config file (keys, colours) [default: $XDG_CONFIG_HOME/bindscope/config.toml]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Refuse files larger than this many MiB
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub max_size: u64,
    /// Streams (`-`, --follow): keep the newest samples within this many MiB of their JSON
    /// (in memory they take about 1.5 times that); older ones leave the time line
    #[arg(long, value_name = "MIB", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub keep: u64,
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
    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Refuse files larger than this many MiB
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub max_size: u64,
}

impl DiffArgs {
    pub fn format(&self) -> DiffFormat {
        if self.json {
            DiffFormat::Json
        } else {
            self.format
        }
    }
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
    /// The network namespace to ask about [default: the one bindscope runs in, or with
    /// --from the one it ran in then]
    #[arg(long, short = 'n', value_name = "NAME|ID")]
    pub netns: Option<String>,
    /// Answer from a snapshot file or a recording (its last sample, or the one --at
    /// picks) instead of the live host
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// With --from: the moment to answer for, UTC: 2026-12-04T03:12:00Z, '2026-12-04
    /// 03:12' or 03:12[:SS] (on a day the recording covers). The newest sample taken at
    /// or before it answers
    #[arg(long, value_name = "TIME", requires = "from")]
    pub at: Option<String>,
    /// With --from: refuse files larger than this many MiB
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub max_size: u64,
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: CanBindFormat,
    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    #[command(flatten)]
    pub quiet: QuietArgs,
}

impl CanBindArgs {
    pub fn format(&self) -> CanBindFormat {
        if self.json {
            CanBindFormat::Json
        } else {
            self.format
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CanBindFormat {
    /// The verdict, each socket in the way and why, and what is unknown, for people
    Text,
    /// `{"result", "reasons", "notes", "unknowns", ...}` (the verdict as data)
    Json,
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
    #[command(flatten)]
    pub quiet: QuietArgs,
    /// Show findings at or above this severity; exit 1 when there is one
    #[arg(long, value_enum, default_value = "notice")]
    pub min_severity: MinSeverity,
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: FindingsFormat,
    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Show only findings that name a socket this filter matches (`netns:web*`)
    #[arg(value_name = "QUERY", long_help = query_long_help("Show only findings that name a socket this filter matches", "no finding is shown, and the exit status is 0 (1 keeps its meaning: a finding at or above --min-severity)"))]
    pub query: Option<String>,
    /// Snapshots to take before judging: 3 or more let queue growth and counter rises show
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub samples: u32,
    /// Time between samples (e.g. 1s, 500ms, 2m)
    #[arg(long, default_value = "1s", value_parser = crate::units::parse_interval)]
    pub interval: std::time::Duration,
}

impl FindingsArgs {
    pub fn format(&self) -> FindingsFormat {
        if self.json {
            FindingsFormat::Json
        } else {
            self.format
        }
    }
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
    #[command(flatten)]
    pub quiet: QuietArgs,
    /// Only the sockets this filter matches (`port:80 user:www-data`); the JSON is still a
    /// snapshot file, with the namespaces and findings of those sockets
    #[arg(value_name = "QUERY", long_help = query_long_help("Only the sockets this filter matches; the JSON is still a snapshot file (open and diff read it), with the namespaces and the findings of those sockets", NOTHING_EXITS_1))]
    pub query: Option<String>,
    /// Output format [default: with -o FILE the one its extension names, else json; without,
    /// table on a terminal, json otherwise]
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<crate::export::Format>,
    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Only the pids of the sockets' holders, one a line, sorted, each once (like `lsof -t`)
    #[arg(long, short = 't', conflicts_with_all = ["format", "json", "output", "pretty", "redact"])]
    pub pids: bool,
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

impl SnapshotArgs {
    /// The format asked for, if any (`--json` or `--format`).
    pub fn format(&self) -> Option<crate::export::Format> {
        if self.json {
            Some(crate::export::Format::Json)
        } else {
            self.format
        }
    }
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

    /// Every command states its exit statuses; every one with a json format takes --json;
    /// every one that collects (takes -n) takes -q.
    #[test]
    fn every_command_keeps_the_scripting_habits() {
        use clap::CommandFactory;
        let cli = Cli::command();
        for c in cli.get_subcommands() {
            let name = c.get_name();
            let long = c
                .get_long_about()
                .map(|a| a.to_string())
                .unwrap_or_default();
            assert!(long.contains("Exit status: 0 "), "{name}: {long}");
            let has = |id: &str| c.get_arguments().any(|a| a.get_id() == id);
            let json_format = c
                .get_arguments()
                .filter(|a| a.get_id() == "format")
                .flat_map(|a| a.get_possible_values())
                .any(|v| v.get_name() == "json");
            assert_eq!(json_format, has("json"), "{name}: --json");
            if has("netns") {
                assert!(has("quiet"), "{name}: -q");
            }
        }
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
    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

impl RulesArgs {
    pub fn format(&self) -> RulesFormat {
        if self.json {
            RulesFormat::Json
        } else {
            self.format
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// Aligned columns, for a terminal
    Text,
    /// Markdown tables, for docs
    Markdown,
    /// The tables as data
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The command whose page to print (e.g. snapshot) [default: the main page, bindscope(1)]
    #[arg(value_name = "COMMAND", conflicts_with = "out_dir")]
    pub command: Option<String>,
    /// Write every page (bindscope.1 and bindscope-COMMAND.1) into this directory instead,
    /// which must exist; existing pages are replaced
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}
