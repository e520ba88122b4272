//! Exposition in the Prometheus text format 0.0.4.

use crate::counters::{Family, Series, Shared};

/// Name of the main family.
pub const EVENTS_METRIC: &str = "robustmq_log_events_total";
/// Name of the cardinality-guard family.
pub const OVERFLOW_METRIC: &str = "robustmq_log_label_overflow_total";
pub(crate) const EVENTS_HELP: &str =
    "Tracing events counted in-process, by level, service and event name.";
pub(crate) const OVERFLOW_HELP: &str =
    "Events whose event name was replaced by \"overflow\" because the service reached max_events_per_service.";

/// `Content-Type` of [`LogMetricsHandle::render`](crate::LogMetricsHandle::render)'s output (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every series of `shared`, oldest first, with the value a scrape shows.
pub(crate) fn snapshot(shared: &Shared) -> Vec<(&Series, u64)> {
    let mut all = Vec::with_capacity(
        shared
            .series_count
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    shared.for_each_series(|s| all.push(s));
    // The list is newest first; oldest first keeps a stable, readable order.
    all.reverse();
    let now = u64::try_from(shared.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
    let hold = shared.first_sample_hold_ms;
    all.into_iter()
        .map(|s| (s, s.scrape_value(now, hold)))
        .collect()
}

fn push_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

/// Renders both families, then whatever the optional global recorder holds.
pub(crate) fn render_text(shared: &Shared) -> String {
    let snap = snapshot(shared);
    let mut out = String::with_capacity(256 + snap.len() * 120);
    for (family, name, help) in [
        (Family::Events, EVENTS_METRIC, EVENTS_HELP),
        (Family::Overflow, OVERFLOW_METRIC, OVERFLOW_HELP),
    ] {
        out.push_str("# HELP ");
        out.push_str(name);
        out.push(' ');
        out.push_str(help);
        out.push_str("\n# TYPE ");
        out.push_str(name);
        out.push_str(" counter\n");
        for (s, v) in snap.iter().filter(|(s, _)| s.family == family) {
            out.push_str(name);
            out.push_str(&s.label_block);
            out.push(' ');
            push_u64(&mut out, *v);
            out.push('\n');
        }
    }
    if let Some(rec) = &shared.recorder {
        out.push_str(&rec());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn digits() {
        for v in [0u64, 7, 10, 12345, u64::MAX] {
            let mut s = String::new();
            super::push_u64(&mut s, v);
            assert_eq!(s, v.to_string());
        }
    }
}
