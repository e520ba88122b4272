//! The Prometheus text format 0.0.4.
//!
//! Hand-written rather than through metrics-exporter-prometheus: its label
//! escaping is lossy (an existing `\\` or `\"` is taken as already escaped,
//! see `labels::escape_label_value`), and it rendered the same series about
//! 40x slower in `benches/overhead.rs`.

use super::{
    appenders, labels, limit_labels, limits, snapshot, FAMILIES, LIMIT_HELP, LIMIT_METRIC,
};
use crate::instance::Instance;
use crate::labels::escape_label_value;

/// `Content-Type` of [`LogMetricsHandle::render`](crate::LogMetricsHandle::render)'s output (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders both counter families, the caps, the appender families when an
/// appender is registered, then whatever the optional global recorder holds.
pub(crate) fn render(instance: &Instance) -> String {
    let samples = snapshot(instance);
    let appender_samples = appenders::snapshot(instance);
    let mut out = String::with_capacity(256 + (samples.len() + appender_samples.len()) * 120);
    let mut digits = itoa::Buffer::new();
    for (family, name, _, help) in FAMILIES {
        push_header(&mut out, name, help, "counter");
        for sample in samples.iter().filter(|s| s.series.family == family) {
            push_sample(
                &mut out,
                &mut digits,
                name,
                labels(instance, sample.series),
                sample.value,
            );
        }
    }
    push_header(&mut out, LIMIT_METRIC, LIMIT_HELP, "gauge");
    for (kind, value) in limits(instance) {
        push_sample(
            &mut out,
            &mut digits,
            LIMIT_METRIC,
            limit_labels(instance, kind),
            value,
        );
    }
    if !appender_samples.is_empty() {
        for (measure, name, _, help) in appenders::APPENDER_FAMILIES {
            push_header(&mut out, name, help, "counter");
            for sample in &appender_samples {
                push_sample(
                    &mut out,
                    &mut digits,
                    name,
                    appenders::labels(instance, sample.name),
                    sample.value(measure),
                );
            }
        }
    }
    if let Some(extra) = &instance.extra_exposition {
        out.push_str(&extra());
    }
    out
}

fn push_header(out: &mut String, name: &str, help: &str, kind: &str) {
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

fn push_sample<'a>(
    out: &mut String,
    digits: &mut itoa::Buffer,
    name: &str,
    labels: impl Iterator<Item = (&'a str, &'a str)>,
    value: u64,
) {
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
