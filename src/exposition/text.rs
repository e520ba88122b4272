//! The Prometheus text format 0.0.4.
//!
//! Hand-written rather than through metrics-exporter-prometheus: its label
//! escaping is lossy (an existing `\\` or `\"` is taken as already escaped,
//! see `labels::escape_label_value`), and it rendered the same series about
//! 40x slower in `benches/overhead.rs`.

use super::{labels, limit_labels, limits, snapshot, FAMILIES, LIMIT_HELP, LIMIT_METRIC};
use crate::instance::Instance;
use crate::labels::escape_label_value;

/// `Content-Type` of [`LogMetricsHandle::render`](crate::LogMetricsHandle::render)'s output (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Writes `name{k="v",...} value\n`.
fn sample<'a>(
    out: &mut String,
    name: &str,
    labels: impl Iterator<Item = (&'a str, &'a str)>,
    value: u64,
) {
    let mut digits = itoa::Buffer::new();
    out.push_str(name);
    out.push('{');
    for (i, (key, value)) in labels.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push_str("=\"");
        escape_label_value(out, value);
        out.push('"');
    }
    out.push_str("} ");
    out.push_str(digits.format(value));
    out.push('\n');
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    out.push_str("# HELP ");
    out.push_str(name);
    out.push(' ');
    out.push_str(help);
    out.push_str("\n# TYPE ");
    out.push_str(name);
    out.push(' ');
    out.push_str(kind);
    out.push('\n');
}

/// Renders both counter families and the caps, then whatever the optional global recorder holds.
pub(crate) fn render(instance: &Instance) -> String {
    let samples = snapshot(instance);
    let mut out = String::with_capacity(256 + samples.len() * 120);
    for (family, name, _, help) in FAMILIES {
        header(&mut out, name, help, "counter");
        for s in samples.iter().filter(|s| s.series.family == family) {
            sample(&mut out, name, labels(instance, s.series), s.value);
        }
    }
    header(&mut out, LIMIT_METRIC, LIMIT_HELP, "gauge");
    for (kind, value) in limits(instance) {
        sample(&mut out, LIMIT_METRIC, limit_labels(instance, kind), value);
    }
    if let Some(extra) = &instance.extra_exposition {
        out.push_str(&extra());
    }
    out
}
