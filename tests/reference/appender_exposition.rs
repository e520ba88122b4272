//! The appender families as a scrape shows them: the whole text rendering
//! and the whole prometheus-client encoding compared with golden strings,
//! both read back by the reference parsers, absent without an appender.

use crate::support;

use std::io::{self, Write};

use robustmq_log_metrics::{Error, LineLimit, LogMetrics, LogMetricsHandle};
use tracing_subscriber::prelude::*;
use tracing_subscriber::Layer;

/// A layer that does nothing, for a line limit to filter.
struct Discard;

impl<S: tracing::Subscriber> Layer<S> for Discard {}

/// A sink that takes 4 bytes and then fails: one dropped line.
struct FullDisk(usize);

impl Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(4 - self.0);
        if n == 0 {
            return Err(io::ErrorKind::StorageFull.into());
        }
        self.0 += n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A handle with no subscriber (so no callsite series) and two appenders:
/// `console` with 2 lines of 6 bytes, and a name that needs escaping with
/// 1 line of 3 bytes, a failed line of which 4 bytes were written, and a
/// dropped-lines source at 5; the console's line limit suppressed 3 lines.
fn handle_with_two_appenders() -> LogMetricsHandle {
    let (_layer, handle) = LogMetrics::builder()
        .global_label("node_id", "7")
        .build()
        .unwrap();
    let console = handle.appender("console").unwrap();
    let mut w = console.writer(Vec::new());
    w.write_all(b"hello\n").unwrap();
    w.write_all(b"world\n").unwrap();
    let odd = handle.appender("file \"a\\b\"\nc").unwrap();
    odd.writer(Vec::new()).write_all(b"ok\n").unwrap();
    assert!(odd.writer(FullDisk(0)).write_all(b"too long\n").is_err());
    odd.count_dropped(|| 5);
    let limit = LineLimit::builder()
        .burst(1)
        .appender(&console)
        .build()
        .unwrap();
    let flood = tracing_subscriber::registry().with(Discard.with_filter(limit));
    tracing::subscriber::with_default(flood, || {
        for _ in 0..4 {
            tracing::warn!("flood");
        }
    });
    handle
}

const EVENT_FAMILIES: &str = "\
# HELP robustmq_log_events_total Tracing events counted in-process, by level, service and event name.
# TYPE robustmq_log_events_total counter
# HELP robustmq_log_label_overflow_total Events whose event name was replaced by \"overflow\" because the service reached max_events_per_service.
# TYPE robustmq_log_label_overflow_total counter
robustmq_log_label_overflow_total{node_id=\"7\",service=\"robustmq\"} 0
# HELP robustmq_log_label_limit The caps of the cardinality guard: kind=\"events_per_service\" is max_events_per_service (reserved event values not counted), kind=\"services\" is max_services (the overflow service not counted).
# TYPE robustmq_log_label_limit gauge
robustmq_log_label_limit{node_id=\"7\",kind=\"events_per_service\"} 256
robustmq_log_label_limit{node_id=\"7\",kind=\"services\"} 64
";

const APPENDER_FAMILIES: &str = r#"# HELP robustmq_log_appender_lines_total Log lines the appender's writer accepted, one per formatted event.
# TYPE robustmq_log_appender_lines_total counter
robustmq_log_appender_lines_total{node_id="7",appender="console"} 2
robustmq_log_appender_lines_total{node_id="7",appender="file \"a\\b\"\nc"} 1
# HELP robustmq_log_appender_bytes_total Bytes of log lines the appender's writer accepted.
# TYPE robustmq_log_appender_bytes_total counter
robustmq_log_appender_bytes_total{node_id="7",appender="console"} 12
robustmq_log_appender_bytes_total{node_id="7",appender="file \"a\\b\"\nc"} 7
# HELP robustmq_log_appender_dropped_lines_total Log lines the appender lost: dropped by its non-blocking queue when full, or whose write failed.
# TYPE robustmq_log_appender_dropped_lines_total counter
robustmq_log_appender_dropped_lines_total{node_id="7",appender="console"} 0
robustmq_log_appender_dropped_lines_total{node_id="7",appender="file \"a\\b\"\nc"} 6
# HELP robustmq_log_appender_suppressed_lines_total Log lines the appender's line limit kept from it: lines of a call site over its budget, and other appenders' summary lines.
# TYPE robustmq_log_appender_suppressed_lines_total counter
robustmq_log_appender_suppressed_lines_total{node_id="7",appender="console"} 3
robustmq_log_appender_suppressed_lines_total{node_id="7",appender="file \"a\\b\"\nc"} 0
"#;

#[test]
fn text_rendering_of_the_appender_families_is_exact() {
    let handle = handle_with_two_appenders();
    // The first scrape shows new series at 0, as for events.
    let first = handle.render();
    assert_eq!(
        first,
        format!(
            "{EVENT_FAMILIES}{}",
            APPENDER_FAMILIES
                .replace("} 2\n", "} 0\n")
                .replace("} 1\n", "} 0\n")
                .replace("} 12\n", "} 0\n")
                .replace("} 7\n", "} 0\n")
                .replace("} 6\n", "} 0\n")
                .replace("} 3\n", "} 0\n")
        )
    );
    let text = handle.render();
    assert_eq!(text, format!("{EVENT_FAMILIES}{APPENDER_FAMILIES}"));

    // The reference parser reads the name back exactly.
    let samples = support::parse(&text);
    let odd: Vec<_> = samples
        .iter()
        .filter(|s| s.labels.get("appender").map(String::as_str) == Some("file \"a\\b\"\nc"))
        .map(|s| (s.name.as_str(), s.kind.as_str(), s.value))
        .collect();
    assert_eq!(
        odd,
        [
            ("robustmq_log_appender_lines_total", "counter", 1.0),
            ("robustmq_log_appender_bytes_total", "counter", 7.0),
            ("robustmq_log_appender_dropped_lines_total", "counter", 6.0),
            (
                "robustmq_log_appender_suppressed_lines_total",
                "counter",
                0.0
            ),
        ]
    );
}

#[test]
fn promtool_finds_nothing_in_the_appender_families() {
    let text = {
        let handle = handle_with_two_appenders();
        let _ = handle.render();
        handle.render()
    };
    support::assert_promtool_clean(&text);
}

#[test]
fn no_appender_no_appender_families() {
    let (_layer, handle) = LogMetrics::builder().build().unwrap();
    let _ = handle.render();
    let text = handle.render();
    assert!(!text.contains("robustmq_log_appender"), "{text}");
    // A refused name registers nothing either.
    assert!(handle.appender("").is_err());
    assert!(!handle.render().contains("robustmq_log_appender"));
}

#[test]
fn bad_appender_names_and_a_global_label_named_appender_are_errors_naming_them() {
    let (_layer, handle) = LogMetrics::builder().build().unwrap();
    let long = "x".repeat(robustmq_log_metrics::limits::MAX_APPENDER_NAME_LEN + 1);
    let e = handle.appender(&long).unwrap_err();
    assert!(matches!(e, Error::InvalidAppenderName { ref name, .. } if *name == long));
    assert!(e.to_string().contains(&long), "{e}");
    for i in 0..robustmq_log_metrics::limits::MAX_APPENDERS {
        handle.appender(&format!("appender-{i}")).unwrap();
    }
    let e = handle.appender("one-more").unwrap_err();
    assert!(
        matches!(e, Error::TooManyAppenders { ref name, max } if name == "one-more" && max == robustmq_log_metrics::limits::MAX_APPENDERS),
        "{e:?}"
    );
    assert!(e.to_string().contains("\"one-more\""), "{e}");
    // A known name is not a new appender.
    assert!(handle.appender("appender-0").is_ok());

    let e = LogMetrics::builder()
        .global_label("appender", "x")
        .build()
        .unwrap_err();
    assert!(
        matches!(e, Error::ReservedLabelName { ref name } if name == "appender"),
        "{e:?}"
    );
}

#[cfg(feature = "prometheus-client")]
#[test]
fn collector_encoding_of_the_appender_families_is_exact() {
    let handle = handle_with_two_appenders();
    let (first, text) = support::collector_encodings(&handle);
    let want = r#"# HELP robustmq_log_events Tracing events counted in-process, by level, service and event name.
# TYPE robustmq_log_events counter
# HELP robustmq_log_label_overflow Events whose event name was replaced by "overflow" because the service reached max_events_per_service.
# TYPE robustmq_log_label_overflow counter
robustmq_log_label_overflow_total{node_id="7",service="robustmq"} 0
# HELP robustmq_log_label_limit The caps of the cardinality guard: kind="events_per_service" is max_events_per_service (reserved event values not counted), kind="services" is max_services (the overflow service not counted).
# TYPE robustmq_log_label_limit gauge
robustmq_log_label_limit{node_id="7",kind="events_per_service"} 256
robustmq_log_label_limit{node_id="7",kind="services"} 64
# HELP robustmq_log_appender_lines Log lines the appender's writer accepted, one per formatted event.
# TYPE robustmq_log_appender_lines counter
robustmq_log_appender_lines_total{node_id="7",appender="console"} 2
robustmq_log_appender_lines_total{node_id="7",appender="file \"a\\b\"\nc"} 1
# HELP robustmq_log_appender_bytes Bytes of log lines the appender's writer accepted.
# TYPE robustmq_log_appender_bytes counter
robustmq_log_appender_bytes_total{node_id="7",appender="console"} 12
robustmq_log_appender_bytes_total{node_id="7",appender="file \"a\\b\"\nc"} 7
# HELP robustmq_log_appender_dropped_lines Log lines the appender lost: dropped by its non-blocking queue when full, or whose write failed.
# TYPE robustmq_log_appender_dropped_lines counter
robustmq_log_appender_dropped_lines_total{node_id="7",appender="console"} 0
robustmq_log_appender_dropped_lines_total{node_id="7",appender="file \"a\\b\"\nc"} 6
# HELP robustmq_log_appender_suppressed_lines Log lines the appender's line limit kept from it: lines of a call site over its budget, and other appenders' summary lines.
# TYPE robustmq_log_appender_suppressed_lines counter
robustmq_log_appender_suppressed_lines_total{node_id="7",appender="console"} 3
robustmq_log_appender_suppressed_lines_total{node_id="7",appender="file \"a\\b\"\nc"} 0
# EOF
"#;
    assert_eq!(text, want);
    let samples =
        support::try_parse(&text, "openmetrics").unwrap_or_else(|e| panic!("{e}\n{text}"));
    let console_bytes = samples
        .iter()
        .find(|s| {
            s.name == "robustmq_log_appender_bytes_total"
                && s.labels.get("appender").map(String::as_str) == Some("console")
        })
        .unwrap();
    assert_eq!(console_bytes.value, 12.0);
    assert_eq!(console_bytes.family, "robustmq_log_appender_bytes");
    assert!(
        first.contains("robustmq_log_appender_lines_total{node_id=\"7\",appender=\"console\"} 0\n")
    );
}
