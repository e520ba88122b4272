//! The builder: plain settings and their validation; no I/O, no global state.

use std::fmt::Display;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::instance::{ExtraExposition, Instance, Settings};
use crate::labels::{validate_label_name, LEVEL_NAMES, RESERVED_VALUES};
use crate::{Error, LogMetricsHandle, LogMetricsLayer};

/// Default for [`LogMetricsBuilder::max_events_per_service`].
pub const DEFAULT_MAX_EVENTS_PER_SERVICE: usize = 256;
/// Default for [`LogMetricsBuilder::max_services`].
pub const DEFAULT_MAX_SERVICES: usize = 64;
/// Default for [`LogMetricsBuilder::max_label_len`].
pub const DEFAULT_MAX_LABEL_LEN: usize = 128;
/// Largest accepted [`LogMetricsBuilder::max_label_len`].
pub const MAX_LABEL_LEN_LIMIT: usize = 4096;
/// Largest accepted [`LogMetricsBuilder::max_events_per_service`].
pub const MAX_EVENTS_PER_SERVICE_LIMIT: usize = 100_000;
/// Largest accepted [`LogMetricsBuilder::max_services`].
pub const MAX_SERVICES_LIMIT: usize = 10_000;

/// Every logging crate of RobustMQ (commit 8bd49dc59, 2026-08) as
/// (tracing target prefix, `service` label): a crate's target is its module
/// path, the crate name with `_`. Used by [`LogMetricsBuilder::robustmq_services`]
/// and `preset = "robustmq"`.
///
/// The shared `common/*` crates are left out on purpose: they run on behalf of
/// every role, so naming one service for them would be wrong; their events get
/// the default service.
pub const ROBUSTMQ_SERVICES: [(&str, &str); 13] = [
    ("meta_service", "meta-service"),
    ("mqtt_broker", "mqtt-broker"),
    ("kafka_broker", "kafka-broker"),
    ("amqp_broker", "amqp-broker"),
    ("nats_broker", "nats-broker"),
    ("storage_engine", "storage-engine"),
    ("storage_adapter", "storage-adapter"),
    ("connector", "connector"),
    ("delay_message", "delay-message"),
    ("broker_server", "broker-server"),
    ("broker_core", "broker-core"),
    ("admin_server", "admin-server"),
    ("grpc_clients", "grpc-clients"),
];

/// What the `event` label says for an event that has no event field.
///
/// ```
/// use robustmq_log_metrics::{LogMetrics, UnstructuredEvents};
/// let builder = LogMetrics::builder().unstructured(UnstructuredEvents::Callsite);
/// # let _ = builder;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum UnstructuredEvents {
    /// `event="unstructured"` for all of them (config value `"unstructured"`).
    #[default]
    Unstructured,
    /// `event="<module_path>:<line>"` of the call site, e.g.
    /// `mqtt_broker::handler::connect:123` (config value `"callsite"`): a value
    /// a person can act on before the logs carry event names. Bounded by the
    /// number of call sites and under the same caps as event names. The
    /// values change when code moves (a release that adds a line above a log
    /// call starts a new series), so the shipped alerts never treat them as
    /// new error events; the `:<line>` suffix, which no event name has, tells
    /// them apart.
    Callsite,
}

/// Entry point: `LogMetrics::builder()` or `LogMetrics::from_config(..)`.
///
/// ```
/// use tracing_subscriber::prelude::*;
/// let (layer, handle) = robustmq_log_metrics::LogMetrics::builder()
///     .default_service("mqtt-broker")
///     .build()?;
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::error!(event = "storage_error", "disk full");
/// });
/// assert!(handle.render().contains("robustmq_log_events_total"));
/// # Ok::<(), robustmq_log_metrics::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct LogMetrics;

impl LogMetrics {
    /// A builder with the defaults documented on each setter.
    pub fn builder() -> LogMetricsBuilder {
        LogMetricsBuilder::default()
    }
}

/// Settings for the layer and handle. Setters take and return `self`; all
/// checks happen in [`build`](Self::build), which returns the first problem.
#[derive(Debug, Clone)]
#[must_use]
pub struct LogMetricsBuilder {
    pub(crate) enabled: bool,
    pub(crate) default_service: String,
    /// Prefixes set with `service_for_target`, in call order.
    pub(crate) targets: Vec<(String, String)>,
    /// Prefixes of a preset (`robustmq_services`); explicit ones win.
    pub(crate) preset_targets: Vec<(String, String)>,
    pub(crate) event_field: String,
    pub(crate) service_field: String,
    pub(crate) global_labels: Vec<(String, String)>,
    pub(crate) max_events_per_service: usize,
    pub(crate) max_services: usize,
    pub(crate) max_label_len: usize,
    pub(crate) first_sample_hold: std::time::Duration,
    pub(crate) unstructured: UnstructuredEvents,
}

impl Default for LogMetricsBuilder {
    fn default() -> Self {
        Self {
            enabled: true,
            default_service: "robustmq".to_owned(),
            targets: Vec::new(),
            preset_targets: Vec::new(),
            event_field: "event".to_owned(),
            service_field: "service".to_owned(),
            global_labels: Vec::new(),
            max_events_per_service: DEFAULT_MAX_EVENTS_PER_SERVICE,
            max_services: DEFAULT_MAX_SERVICES,
            max_label_len: DEFAULT_MAX_LABEL_LEN,
            first_sample_hold: std::time::Duration::ZERO,
            unstructured: UnstructuredEvents::Unstructured,
        }
    }
}

impl LogMetricsBuilder {
    /// The `service` of events that have no service field and match no target
    /// prefix. Default: `"robustmq"`. Must not be empty nor a reserved value
    /// ([`RESERVED_VALUES`](crate::RESERVED_VALUES)).
    pub fn default_service(mut self, service: &str) -> Self {
        self.default_service = service.to_owned();
        self
    }

    /// Events whose target starts with `prefix` get `service`, unless they carry
    /// their own service field. When several prefixes match, the longest wins;
    /// matching is a plain string prefix, as in `EnvFilter` directives. An
    /// explicit entry wins over a preset entry for the same prefix, whatever
    /// the order of the calls. `service` must not be a reserved value.
    /// Default: none.
    pub fn service_for_target(mut self, prefix: &str, service: &str) -> Self {
        self.targets.push((prefix.to_owned(), service.to_owned()));
        self
    }

    /// Maps every logging crate of RobustMQ to its service
    /// ([`ROBUSTMQ_SERVICES`]: `meta_service` -> `meta-service`, `mqtt_broker`
    /// -> `mqtt-broker`, ...), the `preset = "robustmq"` of the configuration.
    /// [`service_for_target`](Self::service_for_target) entries win over these.
    /// Default: no preset.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    /// let (layer, handle) = robustmq_log_metrics::LogMetrics::builder()
    ///     .robustmq_services()
    ///     .build()?;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::warn!(target: "meta_service::raft::store", event = "raft_snapshot_slow", "slow");
    /// });
    /// assert_eq!(handle.count("warn", "meta-service", "raft_snapshot_slow"), Some(1));
    /// # Ok::<(), robustmq_log_metrics::Error>(())
    /// ```
    pub fn robustmq_services(mut self) -> Self {
        self.preset_targets = ROBUSTMQ_SERVICES
            .iter()
            .map(|(prefix, service)| ((*prefix).to_owned(), (*service).to_owned()))
            .collect();
        self
    }

    /// Target prefixes and their services as the core resolves them (longest
    /// prefix wins; among equal prefixes the first in this list): explicit
    /// entries first, then the preset's, so an explicit entry always wins.
    pub(crate) fn target_services(&self) -> Vec<(String, String)> {
        self.targets
            .iter()
            .chain(&self.preset_targets)
            .cloned()
            .collect()
    }

    /// What `event` says for events without an event field. Default:
    /// [`UnstructuredEvents::Unstructured`]. With
    /// [`UnstructuredEvents::Callsite`] the value is the call site's
    /// `module_path:line`, which changes when code moves.
    pub fn unstructured(mut self, mode: UnstructuredEvents) -> Self {
        self.unstructured = mode;
        self
    }

    /// Name of the field whose value becomes the `event` label. Default: `"event"`.
    pub fn event_field(mut self, name: &str) -> Self {
        self.event_field = name.to_owned();
        self
    }

    /// Name of the field whose value, when present and not empty, becomes the
    /// `service` label. Default: `"service"`.
    pub fn service_field(mut self, name: &str) -> Self {
        self.service_field = name.to_owned();
        self
    }

    /// A constant label on every series, e.g. `node_id`. Default: none.
    /// The name must be a valid Prometheus label name other than `level`,
    /// `service`, `event` and `appender`; the value, anything `Display` (a broker id as
    /// `u64`, a `&str`, a `String`), must not be empty.
    ///
    /// ```
    /// let broker_id: u64 = 3;
    /// let builder = robustmq_log_metrics::LogMetrics::builder()
    ///     .global_label("node_id", broker_id)
    ///     .global_label("cluster", "prod-eu");
    /// # let _ = builder;
    /// ```
    pub fn global_label(mut self, name: &str, value: impl Display) -> Self {
        self.global_labels
            .push((name.to_owned(), value.to_string()));
        self
    }

    /// At most this many distinct `event` values per service; later new values
    /// are counted as `event="overflow"`. Default: 256. Range: 1..=100000.
    pub fn max_events_per_service(mut self, max: usize) -> Self {
        self.max_events_per_service = max;
        self
    }

    /// At most this many distinct `service` values; events naming further
    /// services in their service field are counted as `service="overflow"`.
    /// Default: 64. Range: 1..=10000.
    pub fn max_services(mut self, max: usize) -> Self {
        self.max_services = max;
        self
    }

    /// Label values longer than this many bytes are cut at the last char
    /// boundary at or before it. Default: 128. Range: 1..=4096.
    pub fn max_label_len(mut self, max: usize) -> Self {
        self.max_label_len = max;
        self
    }

    /// A new series is shown at 0 by the first scrape that sees it, so that
    /// Prometheus records a 0 before the first count. With several Prometheus
    /// servers scraping one broker (an HA pair), each needs its own 0: set this
    /// to at least their scrape interval and every replica's first sample is 0.
    /// Counts are deferred, never lost. Default: zero (the first scrape only).
    /// At most one hour.
    pub fn first_sample_hold(mut self, hold: std::time::Duration) -> Self {
        self.first_sample_hold = hold;
        self
    }

    /// When `false`, the layer counts nothing (for a config switch). Default: `true`.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        fn non_empty(v: &str, what: impl Into<String>, hint: &'static str) -> Result<(), Error> {
            if v.is_empty() {
                return Err(Error::EmptyValue {
                    what: what.into(),
                    hint,
                });
            }
            Ok(())
        }
        fn limit(name: &'static str, value: usize, max: usize) -> Result<(), Error> {
            if !(1..=max).contains(&value) {
                return Err(Error::InvalidLimit {
                    name,
                    value,
                    min: 1,
                    max,
                });
            }
            Ok(())
        }
        // A configured service named like a reserved value would share its
        // series with the events the layer folds there: two meanings, one series.
        fn not_reserved(setting: &str, value: &str) -> Result<(), Error> {
            if RESERVED_VALUES.contains(&value) {
                return Err(Error::ReservedValue {
                    setting: setting.to_owned(),
                    value: value.to_owned(),
                });
            }
            Ok(())
        }
        limit("max_label_len", self.max_label_len, MAX_LABEL_LEN_LIMIT)?;
        limit(
            "max_events_per_service",
            self.max_events_per_service,
            MAX_EVENTS_PER_SERVICE_LIMIT,
        )?;
        limit("max_services", self.max_services, MAX_SERVICES_LIMIT)?;
        if self.first_sample_hold > std::time::Duration::from_secs(3600) {
            return Err(Error::InvalidLimit {
                name: "first_sample_hold_secs",
                value: usize::try_from(self.first_sample_hold.as_secs()).unwrap_or(usize::MAX),
                min: 0,
                max: 3600,
            });
        }
        non_empty(
            &self.default_service,
            "default service",
            "set a service name such as \"mqtt-broker\"",
        )?;
        non_empty(
            &self.event_field,
            "event field name",
            "use the default \"event\"",
        )?;
        non_empty(
            &self.service_field,
            "service field name",
            "use the default \"service\"",
        )?;
        not_reserved("default_service", &self.default_service)?;
        for (prefix, service) in &self.targets {
            non_empty(
                prefix,
                format!("target prefix for service {service:?}"),
                "use default_service for events of every target",
            )?;
            non_empty(
                service,
                format!("service name for target prefix {prefix:?}"),
                "give every target prefix a service name",
            )?;
            not_reserved(&format!("services.{prefix:?}"), service)?;
        }
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in &self.global_labels {
            validate_label_name(name)?;
            if seen.contains(&name.as_str()) {
                return Err(Error::DuplicateLabel { name: name.clone() });
            }
            seen.push(name);
            non_empty(
                value,
                format!("value of global label {name:?}"),
                "an empty label value means no label in Prometheus; remove the label or give it a value",
            )?;
        }
        Ok(())
    }

    /// Checks the settings and returns the layer to add to a subscriber and
    /// the handle that renders the counts. Touches no global state: the
    /// caller owns both, and the counts live as long as either does.
    pub fn build(self) -> Result<(LogMetricsLayer, LogMetricsHandle), Error> {
        self.validate()?;
        Ok(self.into_pair(None))
    }

    /// Like [`build`](Self::build), and also installs a
    /// `metrics-exporter-prometheus` recorder as the process-wide `metrics`
    /// recorder, so the application's own `metrics::counter!` and friends
    /// appear on the same endpoint after the log families. Fails if a global
    /// recorder is already installed. Feature `metrics-recorder`.
    #[cfg(feature = "metrics-recorder")]
    pub fn install_recorder(self) -> Result<(LogMetricsLayer, LogMetricsHandle), Error> {
        self.validate()?;
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let prom = recorder.handle();
        metrics::set_global_recorder(recorder).map_err(|_| Error::RecorderAlreadyInstalled)?;
        Ok(self.into_pair(Some(Box::new(move || prom.render()))))
    }

    fn into_pair(
        self,
        extra_exposition: Option<ExtraExposition>,
    ) -> (LogMetricsLayer, LogMetricsHandle) {
        let targets = self.target_services();
        let instance = Arc::new(Instance::new(Settings {
            enabled: self.enabled,
            default_service: self.default_service,
            targets,
            event_field: self.event_field,
            service_field: self.service_field,
            global_labels: self.global_labels,
            max_events_per_service: self.max_events_per_service,
            max_services: self.max_services,
            max_label_len: self.max_label_len,
            first_sample_hold: self.first_sample_hold,
            callsite_events: self.unstructured == UnstructuredEvents::Callsite,
            extra_exposition,
        }));
        (
            LogMetricsLayer::new(instance.clone()),
            LogMetricsHandle::new(instance),
        )
    }
}

// Checked here so a change of LEVEL_NAMES cannot silently desync the series arrays.
const _: () = assert!(LEVEL_NAMES.len() == 5);
