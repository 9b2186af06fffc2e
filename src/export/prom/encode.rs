//! The text encodings: Prometheus exposition format 0.0.4 (node_exporter's textfile
//! collector, and scrapers that ask for nothing else) and OpenMetrics 1.0 (what Prometheus
//! asks `bindscope serve` for first). They differ here in two things only: OpenMetrics names
//! a counter family without its `_total` suffix in `# HELP`/`# TYPE` (the samples keep it),
//! and the exposition ends with `# EOF`.

use std::collections::BTreeMap;
use std::fmt::{Display, Write as _};

/// Which text format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    Prometheus,
    OpenMetrics,
}

impl TextFormat {
    /// The `Content-Type` of an HTTP response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            TextFormat::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            TextFormat::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// What ends an exposition: OpenMetrics requires `# EOF`.
    pub fn end(self, out: &mut String) {
        if self == TextFormat::OpenMetrics {
            out.push_str("# EOF\n");
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Gauge,
    Counter,
}

/// One metric family: its samples keyed by their label values (already sanitized), in the
/// order of `labels`. Keying by the values makes every series unique by construction.
pub(super) struct MetricFamily {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub labels: Vec<&'static str>,
    pub samples: BTreeMap<Vec<String>, u64>,
}

impl MetricFamily {
    pub fn new(
        name: &'static str,
        help: &'static str,
        kind: Kind,
        labels: &[&'static str],
    ) -> Self {
        MetricFamily {
            name,
            help,
            kind,
            labels: labels.to_vec(),
            samples: BTreeMap::new(),
        }
    }

    /// Adds `value` to the series of these label values (a sum when it exists already).
    pub fn add(&mut self, values: Vec<String>, value: u64) {
        let v = self.samples.entry(values).or_insert(0);
        *v = v.saturating_add(value);
    }

    /// Nothing for a family without samples: an empty family says nothing a reader needs.
    pub fn render(&self, out: &mut String, format: TextFormat) {
        if self.samples.is_empty() {
            return;
        }
        header(out, self.name, self.help, self.kind, format);
        for (values, v) in &self.samples {
            let _ = writeln!(out, "{}{} {v}", self.name, labels(&self.labels, values));
        }
    }
}

pub(super) fn header(out: &mut String, name: &str, help: &str, kind: Kind, format: TextFormat) {
    let (kind, family) = match kind {
        Kind::Gauge => ("gauge", name),
        Kind::Counter => (
            "counter",
            match format {
                TextFormat::Prometheus => name,
                TextFormat::OpenMetrics => name.strip_suffix("_total").unwrap_or(name),
            },
        ),
    };
    let _ = writeln!(out, "# HELP {family} {help}\n# TYPE {family} {kind}");
}

/// `{a="x",b="y"}`, or nothing without labels.
pub(super) fn labels(names: &[&str], values: &[String]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", pairs.join(","))
}

/// Label value escaping of both formats: backslash, double quote and newline.
pub(super) fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A family of one unlabelled sample.
pub(super) fn scalar(
    out: &mut String,
    format: TextFormat,
    kind: Kind,
    name: &str,
    help: &str,
    value: impl Display,
) {
    header(out, name, help, kind, format);
    let _ = writeln!(out, "{name} {value}");
}
