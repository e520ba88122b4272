//! The counts as a `prometheus_client` collector (feature `prometheus-client`),
//! for a broker that already serves a `prometheus_client::registry::Registry`.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelValue, LabelValueEncoder, NoLabelSet,
};
use prometheus_client::metrics::MetricType;

use super::{labels, snapshot, FAMILIES};
use crate::labels::escape_label_value;
use crate::LogMetricsHandle;

/// Registers the log families in a `prometheus_client` registry:
/// `registry.register_collector(Box::new(handle.collector()))`.
///
/// Families are named the OpenMetrics way (`robustmq_log_events`, whose
/// samples the encoder writes as `robustmq_log_events_total`), so the
/// registry's single `# EOF` stays at the end and no family is duplicated.
#[derive(Debug, Clone)]
pub struct LogMetricsCollector {
    handle: LogMetricsHandle,
}

impl LogMetricsHandle {
    /// A `prometheus_client` collector over the same counts.
    pub fn collector(&self) -> LogMetricsCollector {
        LogMetricsCollector {
            handle: self.clone(),
        }
    }
}

/// A label value written escaped: prometheus-client 0.24 writes `&str`
/// label values verbatim, so a quote or newline would break the exposition.
struct Escaped<'a>(&'a str);

impl EncodeLabelValue for Escaped<'_> {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        let mut out = String::with_capacity(self.0.len());
        escape_label_value(&mut out, self.0);
        std::fmt::Write::write_str(encoder, &out)
    }
}

impl Collector for LogMetricsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let instance = &*self.handle.instance;
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
        Ok(())
    }
}
