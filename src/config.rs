//! `[log_metrics]` configuration (TOML, serde) and its mapping onto the builder.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use crate::builder::{
    LogMetricsBuilder, DEFAULT_MAX_EVENTS_PER_SERVICE, DEFAULT_MAX_LABEL_LEN, DEFAULT_MAX_SERVICES,
};
use crate::{Auth, Error, LogMetrics, ServerOptions};

/// The `[log_metrics]` section of a broker's TOML configuration.
///
/// Every key is optional; unknown keys are errors that name the key.
///
/// ```toml
/// [log_metrics]
/// enabled = true
/// listen = "127.0.0.1:9477"
/// path = "/metrics"
/// default_service = "robustmq"
/// event_field = "event"
/// service_field = "service"
/// max_events_per_service = 256
/// max_services = 64
/// max_label_len = 128
/// header_read_timeout_secs = 10
/// write_timeout_secs = 30
/// max_concurrent_scrapes = 4
/// max_connections = 64
/// gzip = true
///
/// [log_metrics.services]        # target prefix -> service
/// "mqtt_broker" = "mqtt-broker"
/// "placement_center" = "placement-center"
///
/// [log_metrics.global_labels]
/// node_id = "1"
///
/// [log_metrics.auth]            # optional: bearer_token, or username + password
/// bearer_token = "secret"
///
/// # [log_metrics.tls]           # optional, feature `tls`
/// # cert_path = "/etc/robustmq/metrics.crt"
/// # key_path = "/etc/robustmq/metrics.key"
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct LogMetricsConfig {
    /// Count events and serve the endpoint. Default `true`.
    pub enabled: bool,
    /// Address of the metrics server. Default `127.0.0.1:9477` (loopback:
    /// expose it deliberately, see the README; 9091 and 58080 are RobustMQ's).
    pub listen: String,
    /// Path of the metrics endpoint; see [`RouteOptions::path`](crate::RouteOptions::path).
    /// Default `/metrics`.
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
    /// See [`LogMetricsBuilder::first_sample_hold`], in seconds. Default 0.
    pub first_sample_hold_secs: u64,
    /// See [`ServerOptions::header_read_timeout`]: 1..=3600. Default 10.
    pub header_read_timeout_secs: u64,
    /// See [`ServerOptions::write_timeout`]: 1..=3600. Default 30.
    pub write_timeout_secs: u64,
    /// See [`RouteOptions::max_concurrent_scrapes`](crate::RouteOptions::max_concurrent_scrapes).
    /// Default 4.
    pub max_concurrent_scrapes: usize,
    /// See [`ServerOptions::max_connections`]. Default 64.
    pub max_connections: usize,
    /// See [`RouteOptions::gzip`](crate::RouteOptions::gzip). Default `true`.
    pub gzip: bool,
    /// `[log_metrics.auth]`: `bearer_token`, or `username` and `password`.
    pub auth: Option<AuthConfig>,
    /// `[log_metrics.tls]`: `cert_path` and `key_path` (feature `tls`).
    pub tls: Option<TlsConfig>,
}

/// `[log_metrics.auth]`: either `bearer_token` or `username` + `password`.
#[derive(Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct AuthConfig {
    /// Expected bearer token.
    pub bearer_token: Option<String>,
    /// Basic auth user name.
    pub username: Option<String>,
    /// Basic auth password.
    pub password: Option<String>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// `[log_metrics.tls]`: PEM files for HTTPS.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert_path: std::path::PathBuf,
    /// PEM private key.
    pub key_path: std::path::PathBuf,
}

impl Default for LogMetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: crate::DEFAULT_LISTEN.to_owned(),
            path: crate::DEFAULT_PATH.to_owned(),
            default_service: "robustmq".to_owned(),
            event_field: "event".to_owned(),
            service_field: "service".to_owned(),
            services: BTreeMap::new(),
            global_labels: BTreeMap::new(),
            max_events_per_service: DEFAULT_MAX_EVENTS_PER_SERVICE,
            max_services: DEFAULT_MAX_SERVICES,
            max_label_len: DEFAULT_MAX_LABEL_LEN,
            first_sample_hold_secs: 0,
            header_read_timeout_secs: crate::DEFAULT_HEADER_READ_TIMEOUT.as_secs(),
            write_timeout_secs: crate::DEFAULT_WRITE_TIMEOUT.as_secs(),
            max_concurrent_scrapes: crate::DEFAULT_MAX_CONCURRENT_SCRAPES,
            max_connections: crate::DEFAULT_MAX_CONNECTIONS,
            gzip: true,
            auth: None,
            tls: None,
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
                    "{:?} is not an address ({e}); use IP:PORT, e.g. \"127.0.0.1:9477\"",
                    self.listen
                ),
            })
    }

    /// The server settings: listen address, path, limits, auth and TLS,
    /// checked by [`ServerOptions::validate`] with errors naming the
    /// `log_metrics.` key.
    pub fn server_options(&self) -> Result<ServerOptions, Error> {
        let invalid = |key: &str, message: &str| Error::InvalidConfigValue {
            key: format!("log_metrics.{key}"),
            message: message.to_owned(),
        };
        let mut o = ServerOptions::new(self.listen_addr()?)
            .path(&self.path)
            .header_read_timeout(Duration::from_secs(self.header_read_timeout_secs))
            .write_timeout(Duration::from_secs(self.write_timeout_secs))
            .max_concurrent_scrapes(self.max_concurrent_scrapes)
            .max_connections(self.max_connections)
            .gzip(self.gzip);
        if let Some(a) = &self.auth {
            o = o.auth(match (&a.bearer_token, &a.username, &a.password) {
                (Some(t), None, None) if !t.is_empty() => Auth::Bearer(t.clone()),
                (None, Some(u), Some(p)) if !u.is_empty() => Auth::Basic {
                    username: u.clone(),
                    password: p.clone(),
                },
                _ => {
                    return Err(invalid(
                        "auth",
                        "set either a non-empty `bearer_token`, or `username` and `password`",
                    ))
                }
            });
        }
        if let Some(t) = &self.tls {
            #[cfg(feature = "tls")]
            {
                o = o.tls(crate::TlsFiles {
                    cert_path: t.cert_path.clone(),
                    key_path: t.key_path.clone(),
                });
            }
            #[cfg(not(feature = "tls"))]
            {
                let _ = t;
                return Err(invalid(
                    "tls",
                    "this build has no TLS support; enable the `tls` cargo feature of robustmq-log-metrics",
                ));
            }
        }
        o.validate().map_err(|e| match e {
            Error::InvalidConfigValue { key, message } => {
                // The options name their fields; the config names its keys.
                let key = match key.as_str() {
                    "header_read_timeout" | "write_timeout" => format!("{key}_secs"),
                    _ => key,
                };
                Error::InvalidConfigValue {
                    key: format!("log_metrics.{key}"),
                    message,
                }
            }
            other => other,
        })?;
        Ok(o)
    }

    /// Checks every value; the error names the offending key.
    pub fn validate(&self) -> Result<(), Error> {
        self.server_options()?;
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
            .max_label_len(self.max_label_len)
            .first_sample_hold(std::time::Duration::from_secs(self.first_sample_hold_secs));
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
