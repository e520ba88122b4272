//! The Prometheus text format 0.0.4.
//!
//! Hand-written rather than through metrics-exporter-prometheus: its label
//! escaping is lossy (an existing `\\` or `\"` is taken as already escaped,
//! see `labels::escape_label_value`), and it rendered the same series about
//! 40x slower in `benches/overhead.rs`.

use super::{labels, snapshot, FAMILIES};
use crate::instance::Instance;
use crate::labels::escape_label_value;

/// `Content-Type` of [`LogMetricsHandle::render`](crate::LogMetricsHandle::render)'s output (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders both families, then whatever the optional global recorder holds.
pub(crate) fn render(instance: &Instance) -> String {
    let samples = snapshot(instance);
    let mut out = String::with_capacity(256 + samples.len() * 120);
    let mut digits = itoa::Buffer::new();
    for (family, name, _, help) in FAMILIES {
        out.push_str("# HELP ");
        out.push_str(name);
        out.push(' ');
        out.push_str(help);
        out.push_str("\n# TYPE ");
        out.push_str(name);
        out.push_str(" counter\n");
        for sample in samples.iter().filter(|s| s.series.family == family) {
            out.push_str(name);
            out.push('{');
            for (i, (key, value)) in labels(instance, sample.series).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(key);
                out.push_str("=\"");
                escape_label_value(&mut out, value);
                out.push('"');
            }
            out.push_str("} ");
            out.push_str(digits.format(sample.value));
            out.push('\n');
        }
    }
    if let Some(extra) = &instance.extra_exposition {
        out.push_str(&extra());
    }
    out
}
