//! `[log_metrics]` configuration (TOML, serde) and its mapping onto the builder.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::Deserialize;

use crate::builder::{
    LogMetricsBuilder, DEFAULT_MAX_EVENTS_PER_SERVICE, DEFAULT_MAX_LABEL_LEN, DEFAULT_MAX_SERVICES,
};
use crate::{Error, LogMetrics};

/// The `[log_metrics]` section of a broker's TOML configuration.
///
/// Every key is optional; unknown keys are errors that name the key.
///
/// ```toml
/// [log_metrics]
/// enabled = true
/// listen = "127.0.0.1:9091"
/// path = "/metrics"
/// default_service = "robustmq"
/// event_field = "event"
/// service_field = "service"
/// max_events_per_service = 256
/// max_services = 64
/// max_label_len = 128
///
/// [log_metrics.services]        # target prefix -> service
/// "mqtt_broker" = "mqtt-broker"
/// "placement_center" = "placement-center"
///
/// [log_metrics.global_labels]
/// node_id = "1"
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct LogMetricsConfig {
    /// Count events and serve the endpoint. Default `true`.
    pub enabled: bool,
    /// Address of the metrics server. Default `127.0.0.1:9091` (loopback:
    /// expose it deliberately, see the README).
    pub listen: String,
    /// Path of the metrics endpoint. Default `/metrics`.
    pub path: String,
    /// See [`LogMetricsBuilder::default_service`].
    pub default_service: String,
    /// See [`LogMetricsBuilder::event_field`].
    pub event_field: String,
    /// See [`LogMetricsBuilder::service_field`].
    pub service_field: String,
    /// Target prefix to service name; see [`LogMetricsBuilder::service_for_target`].
    pub services: BTreeMap<String, String>,
    /// Constant labels on every series; see [`LogMetricsBuilder::global_label`].
    pub global_labels: BTreeMap<String, String>,
    /// See [`LogMetricsBuilder::max_events_per_service`].
    pub max_events_per_service: usize,
    /// See [`LogMetricsBuilder::max_services`].
    pub max_services: usize,
    /// See [`LogMetricsBuilder::max_label_len`].
    pub max_label_len: usize,
}

impl Default for LogMetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: "127.0.0.1:9091".to_owned(),
            path: "/metrics".to_owned(),
            default_service: "robustmq".to_owned(),
            event_field: "event".to_owned(),
            service_field: "service".to_owned(),
            services: BTreeMap::new(),
            global_labels: BTreeMap::new(),
            max_events_per_service: DEFAULT_MAX_EVENTS_PER_SERVICE,
            max_services: DEFAULT_MAX_SERVICES,
            max_label_len: DEFAULT_MAX_LABEL_LEN,
        }
    }
}

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    log_metrics: LogMetricsConfig,
}

impl LogMetricsConfig {
    /// Reads the `[log_metrics]` section of a whole TOML document (other
    /// sections are ignored; a missing section gives the defaults) and
    /// checks it, so a bad value is reported with its key.
    pub fn from_toml(document: &str) -> Result<Self, Error> {
        let doc: Document =
            toml::from_str(document).map_err(|source| Error::ConfigParse { source })?;
        doc.log_metrics.validate()?;
        Ok(doc.log_metrics)
    }

    /// The parsed listen address.
    pub fn listen_addr(&self) -> Result<SocketAddr, Error> {
        self.listen
            .parse()
            .map_err(|e: std::net::AddrParseError| Error::InvalidConfigValue {
                key: "log_metrics.listen".into(),
                message: format!(
                    "{:?} is not an address ({e}); use IP:PORT, e.g. \"127.0.0.1:9091\"",
                    self.listen
                ),
            })
    }

    /// Checks every value; the error names the offending key.
    pub fn validate(&self) -> Result<(), Error> {
        self.listen_addr()?;
        if !self.path.starts_with('/') {
            return Err(Error::InvalidConfigValue {
                key: "log_metrics.path".into(),
                message: format!("{:?} must start with '/', e.g. \"/metrics\"", self.path),
            });
        }
        // The builder's checks name the setting; prefix them with the key.
        self.to_builder().validate().map_err(|e| match e {
            Error::EmptyValue { what, hint } => Error::EmptyValue {
                what: format!("log_metrics: {what}"),
                hint,
            },
            other => other,
        })
    }

    fn to_builder(&self) -> LogMetricsBuilder {
        let mut b = LogMetrics::builder()
            .enabled(self.enabled)
            .default_service(&self.default_service)
            .event_field(&self.event_field)
            .service_field(&self.service_field)
            .max_events_per_service(self.max_events_per_service)
            .max_services(self.max_services)
            .max_label_len(self.max_label_len);
        for (prefix, service) in &self.services {
            b = b.service_for_target(prefix, service);
        }
        for (name, value) in &self.global_labels {
            b = b.global_label(name, value);
        }
        b
    }
}

impl LogMetrics {
    /// A builder holding everything in `config` (checked first), to `build()`
    /// as is or adjust further.
    pub fn from_config(config: &LogMetricsConfig) -> Result<LogMetricsBuilder, Error> {
        config.validate()?;
        Ok(config.to_builder())
    }
}
