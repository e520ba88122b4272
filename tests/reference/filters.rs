//! The layer works under per-layer filters, independent of other layers, and
//! fits RobustMQ's init shape: a `Vec<Box<dyn Layer<Registry> + Send + Sync>>`.

use crate::support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use robustmq_log_metrics::{LogMetrics, LogMetricsHandle};
use support::nonzero_counts;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{Layer, Registry};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn levels_counted(handle: &LogMetricsHandle) -> Vec<String> {
    nonzero_counts(handle)
        .keys()
        .map(|(l, _, _)| l.clone())
        .collect()
}

fn log_three() {
    tracing::error!(event = "e", "ERROR-LINE");
    tracing::warn!(event = "w", "WARN-LINE");
    tracing::info!(event = "i", "INFO-LINE");
}

#[test]
fn metrics_count_warn_while_fmt_prints_only_error() {
    let (layer, handle) = LogMetrics::builder().build().unwrap();
    let out = Captured::default();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(out.clone())
                .with_filter(LevelFilter::ERROR),
        )
        .with(layer.with_filter(LevelFilter::WARN));
    tracing::subscriber::with_default(subscriber, log_three);
    let printed = out.text();
    assert!(printed.contains("ERROR-LINE"));
    assert!(!printed.contains("WARN-LINE") && !printed.contains("INFO-LINE"));
    assert_eq!(levels_counted(&handle), ["error", "warn"]);
}

#[test]
fn fmt_prints_info_while_metrics_count_only_error() {
    let (layer, handle) = LogMetrics::builder().build().unwrap();
    let out = Captured::default();
    let subscriber = tracing_subscriber::registry()
        .with(layer.with_filter(LevelFilter::ERROR))
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(out.clone())
                .with_filter(LevelFilter::INFO),
        );
    tracing::subscriber::with_default(subscriber, log_three);
    let printed = out.text();
    for line in ["ERROR-LINE", "WARN-LINE", "INFO-LINE"] {
        assert!(printed.contains(line), "{line} missing from {printed}");
    }
    assert_eq!(levels_counted(&handle), ["error"]);
}

#[test]
fn fits_robustmq_init_as_a_boxed_layer_in_a_vec() {
    // The shape of RobustMQ's init_tracing_subscriber_with_config.
    let (layer, handle) = LogMetrics::builder().build().unwrap();
    let out = Captured::default();
    let layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = vec![
        tracing_subscriber::fmt::layer()
            .with_writer(out.clone())
            .with_filter(LevelFilter::INFO)
            .boxed(),
        Box::new(layer),
    ];
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layers), log_three);
    assert!(out.text().contains("INFO-LINE"));
    assert_eq!(levels_counted(&handle), ["error", "info", "warn"]);
    assert_eq!(handle.count("error", "robustmq", "e"), Some(1));
}
