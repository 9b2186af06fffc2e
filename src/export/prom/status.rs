//! The exporter's own families (`bindscope serve`): what it is, and how its sampling and
//! scrapes go. An alert on collection failing, or on a stale sample, reads these.

use super::encode::{self, Kind, TextFormat};
use std::fmt::Write as _;

/// The state of an exporter at the time of a scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExporterStatus {
    /// `bindscope --version`'s version and commit.
    pub version: String,
    pub revision: String,
    /// Collections tried since the exporter started, and how many failed (the last good
    /// sample is then served on).
    pub collections: u64,
    pub collection_errors: u64,
    /// When the sample being served was taken, in seconds since the Unix epoch.
    pub last_success_unix: Option<f64>,
    /// How long the previous `/metrics` request took to answer, in seconds.
    pub previous_scrape_seconds: Option<f64>,
}

impl ExporterStatus {
    /// Appends the families (before the format's end).
    pub fn render(&self, out: &mut String, format: TextFormat) {
        encode::header(
            out,
            "bindscope_build_info",
            "bindscope's version and the commit it was built from; always 1.",
            Kind::Gauge,
            format,
        );
        let _ = writeln!(
            out,
            "bindscope_build_info{} 1",
            encode::labels(
                &["version", "revision"],
                &[self.version.clone(), self.revision.clone()]
            )
        );
        encode::scalar(
            out,
            format,
            Kind::Counter,
            "bindscope_collections_total",
            "Collections (samples of every socket) the exporter has tried since it started.",
            self.collections,
        );
        encode::scalar(
            out,
            format,
            Kind::Counter,
            "bindscope_collection_errors_total",
            "Collections that failed; the last good sample is served until one succeeds.",
            self.collection_errors,
        );
        if let Some(t) = self.last_success_unix {
            encode::scalar(
                out,
                format,
                Kind::Gauge,
                "bindscope_last_collection_success_timestamp_seconds",
                "When the sample being served was taken, in seconds since the Unix epoch.",
                t,
            );
        }
        if let Some(s) = self.previous_scrape_seconds {
            encode::scalar(
                out,
                format,
                Kind::Gauge,
                "bindscope_previous_scrape_duration_seconds",
                "How long the exporter took to answer the previous /metrics request.",
                s,
            );
        }
    }
}
