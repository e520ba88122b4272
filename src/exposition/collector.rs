//! The counts as a `prometheus_client` collector,
//! for a broker that already serves a `prometheus_client::registry::Registry`.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelValue, LabelValueEncoder, NoLabelSet,
};
use prometheus_client::metrics::MetricType;

use super::{
    appenders, labels, limit_labels, limits, snapshot, FAMILIES, LIMIT_HELP, LIMIT_METRIC,
};
use crate::instance::Instance;
use crate::labels::escape_label_value;

/// Registers the log families in a `prometheus_client` registry:
/// `registry.register_collector(Box::new(handle.collector()))`.
///
/// Families are named the OpenMetrics way (`robustmq_log_events`, whose
/// samples the encoder writes as `robustmq_log_events_total`), so the
/// registry's single `# EOF` stays at the end and no family is duplicated.
///
/// Works with every prometheus-client release from 0.23.1 (RobustMQ's) to
/// 0.26: releases before 0.25.2 write label values verbatim and later ones
/// escape them, so the collector asks the linked release once and escapes
/// exactly once.
///
/// Made by [`LogMetricsHandle::collector`](crate::LogMetricsHandle::collector).
#[derive(Debug, Clone)]
pub struct LogMetricsCollector {
    instance: Arc<Instance>,
}

impl LogMetricsCollector {
    pub(crate) fn new(instance: Arc<Instance>) -> Self {
        Self { instance }
    }
}

/// A label value written escaped exactly once: prometheus-client up to
/// 0.25.1 writes label values verbatim (a quote or newline would break the
/// exposition), 0.25.2 and later escape them itself (escaping here too would
/// double every backslash). The accepted range spans both, so ask the
/// linked release once.
struct Escaped<'a>(&'a str);

impl EncodeLabelValue for Escaped<'_> {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        if encoder_escapes() {
            return std::fmt::Write::write_str(encoder, self.0);
        }
        let mut out = String::with_capacity(self.0.len());
        escape_label_value(&mut out, self.0);
        std::fmt::Write::write_str(encoder, &out)
    }
}

/// Whether the linked prometheus-client's text encoder escapes label values:
/// encodes one sample whose label value is a quote and looks at the result.
fn encoder_escapes() -> bool {
    static ESCAPES: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ESCAPES.get_or_init(|| {
        #[derive(Debug)]
        struct Probe;
        impl Collector for Probe {
            fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
                encoder
                    .encode_descriptor("probe", "probe", None, MetricType::Counter)?
                    .encode_family(&[("l", "\"")])?
                    .encode_counter::<NoLabelSet, u64, u64>(&1, None)
            }
        }
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register_collector(Box::new(Probe));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).is_ok()
            && text.contains(r#"l="\"""#)
    })
}

impl Collector for LogMetricsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let instance = &*self.instance;
        let samples = snapshot(instance);
        for (family, _, name, help) in FAMILIES {
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for sample in samples.iter().filter(|s| s.series.family == family) {
                let label_set: Vec<(&str, Escaped<'_>)> = labels(instance, sample.series)
                    .map(|(k, v)| (k, Escaped(v)))
                    .collect();
                metric
                    .encode_family(&label_set)?
                    .encode_counter::<NoLabelSet, u64, u64>(&sample.value, None)?;
            }
        }
        let mut metric =
            encoder.encode_descriptor(LIMIT_METRIC, LIMIT_HELP, None, MetricType::Gauge)?;
        for (kind, value) in limits(instance) {
            let label_set: Vec<(&str, Escaped<'_>)> = limit_labels(instance, kind)
                .map(|(k, v)| (k, Escaped(v)))
                .collect();
            // Gauges encode as i64 in every accepted prometheus-client release.
            let value = i64::try_from(value).unwrap_or(i64::MAX);
            metric.encode_family(&label_set)?.encode_gauge(&value)?;
        }
        let appender_samples = appenders::snapshot(instance);
        if appender_samples.is_empty() {
            return Ok(());
        }
        for (measure, _, name, help) in appenders::APPENDER_FAMILIES {
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for sample in &appender_samples {
                let label_set: Vec<(&str, Escaped<'_>)> = appenders::labels(instance, sample.name)
                    .map(|(k, v)| (k, Escaped(v)))
                    .collect();
                metric
                    .encode_family(&label_set)?
                    .encode_counter::<NoLabelSet, u64, u64>(&sample.value(measure), None)?;
            }
        }
        Ok(())
    }
}
