//! serde configurations mapped onto the builder: [`LayerConfig`] (the layer's
//! settings alone, e.g. as one more appender of RobustMQ's `logger.toml`) and
//! [`LogMetricsConfig`] (a stand-alone `[log_metrics]` section: the layer's
//! settings plus a server of its own).
//!
//! Both read a table into typed fields key by key instead of deriving
//! `Deserialize`: serde's `deny_unknown_fields` does not work under
//! `#[serde(flatten)]`, and a flattened struct's type errors lose the key. Read
//! key by key, every error names its key however the config is embedded.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};

use crate::builder::{LogMetricsBuilder, UnstructuredEvents};
use crate::{Auth, Error, LogMetrics, ServerOptions};

/// A config table as parsed, before its keys are checked.
type Table = BTreeMap<String, toml::Value>;

/// Moves `table[key]`, when present, into `slot`; a wrong type names the key.
fn take<T: DeserializeOwned>(table: &mut Table, key: &str, slot: &mut T) -> Result<(), String> {
    if let Some(value) = table.remove(key) {
        *slot = value
            .try_into()
            .map_err(|e: toml::de::Error| format!("`{key}`: {}", e.message().trim_end()))?;
    }
    Ok(())
}

/// A named set of target-prefix-to-service mappings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Preset {
    /// Every current RobustMQ crate (`preset = "robustmq"`); see
    /// [`LogMetricsBuilder::robustmq_services`].
    Robustmq,
}

/// The keys of a [`LayerConfig`], in the order of its fields.
pub const LAYER_KEYS: [&str; 12] = [
    "enabled",
    "preset",
    "default_service",
    "services",
    "event_field",
    "service_field",
    "global_labels",
    "max_events_per_service",
    "max_services",
    "max_label_len",
    "first_sample_hold_secs",
    "unstructured",
];

/// The layer's settings as a serde table: no server keys.
///
/// Every key is optional. It deserialises from any serde format and works as
/// the `#[serde(flatten)]`ed payload of an appender enum variant next to the
/// appender's own keys, as in RobustMQ's `config/logger.toml`:
///
/// ```toml
/// [log_metrics]
/// kind = "log_metrics"                  # RobustMQ's appender tag
/// targets = [{ path = "", level = "info" }, { path = "openraft", level = "warn" }]
/// preset = "robustmq"                   # meta_service -> meta-service, ...
/// default_service = "robustmq"          # events of no listed crate
/// global_labels = { node_id = "3" }
/// # services = { "my_plugin" = "plugin" }   # explicit entries win over the preset
/// # unstructured = "callsite"           # or "unstructured" (default)
/// # event_field = "event", service_field = "service"
/// # max_events_per_service = 256, max_services = 64, max_label_len = 128
/// # first_sample_hold_secs = 0, enabled = true
/// ```
///
/// Unknown keys are kept, not rejected, while parsing (under `flatten` they
/// include the keys of whatever struct sits next to this one), and
/// [`LogMetrics::from_layer_config`] rejects them, naming the first. So declare
/// the appender's own keys (`targets`) as plain fields of the variant's
/// struct: serde then takes them before this config sees the table (a struct
/// that is itself flattened does not take them, and they would be reported).
///
/// ```
/// use robustmq_log_metrics::{LayerConfig, LogMetrics};
/// #[derive(serde::Deserialize)]
/// #[serde(tag = "kind", rename_all = "snake_case")]
/// enum Appender {
///     LogMetrics {
///         #[serde(default)]
///         targets: Vec<toml::Value>,
///         #[serde(flatten)]
///         metrics: LayerConfig,
///     },
/// }
/// let Appender::LogMetrics { metrics, .. } = toml::from_str(
///     "kind = \"log_metrics\"\ntargets = []\npreset = \"robustmq\"\nmax_labl_len = 3\n",
/// )?;
/// let err = LogMetrics::from_layer_config(&metrics).unwrap_err();
/// assert!(err.to_string().contains("max_labl_len"));
/// # Ok::<(), toml::de::Error>(())
/// ```
///
/// `Serialize` writes every setting (no unknown keys), so a broker that
/// prints its configuration at start-up shows the effective values.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "Table")]
#[non_exhaustive]
pub struct LayerConfig {
    /// See [`LogMetricsBuilder::enabled`]. Default `true`.
    pub enabled: bool,
    /// `"robustmq"`: see [`LogMetricsBuilder::robustmq_services`]. Default none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<Preset>,
    /// See [`LogMetricsBuilder::default_service`].
    pub default_service: String,
    /// Target prefix to service name; see [`LogMetricsBuilder::service_for_target`].
    pub services: BTreeMap<String, String>,
    /// See [`LogMetricsBuilder::event_field`].
    pub event_field: String,
    /// See [`LogMetricsBuilder::service_field`].
    pub service_field: String,
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
    /// `"unstructured"` (default) or `"callsite"`; see [`UnstructuredEvents`].
    pub unstructured: UnstructuredEvents,
    /// Keys of the table that are no setting, checked by `validate`.
    #[serde(skip)]
    unknown_keys: Vec<String>,
}

impl Default for LayerConfig {
    /// The builder's defaults, so that a key left out means what the
    /// builder's setter doc says.
    fn default() -> Self {
        let b = LogMetricsBuilder::default();
        Self {
            enabled: b.enabled,
            preset: None,
            default_service: b.default_service,
            services: BTreeMap::new(),
            event_field: b.event_field,
            service_field: b.service_field,
            global_labels: BTreeMap::new(),
            max_events_per_service: b.max_events_per_service,
            max_services: b.max_services,
            max_label_len: b.max_label_len,
            first_sample_hold_secs: b.first_sample_hold.as_secs(),
            unstructured: b.unstructured,
            unknown_keys: Vec::new(),
        }
    }
}

impl TryFrom<Table> for LayerConfig {
    type Error = String;

    fn try_from(mut table: Table) -> Result<Self, String> {
        let mut c = Self::default();
        let t = &mut table;
        take(t, "enabled", &mut c.enabled)?;
        take(t, "preset", &mut c.preset)?;
        take(t, "default_service", &mut c.default_service)?;
        take(t, "services", &mut c.services)?;
        take(t, "event_field", &mut c.event_field)?;
        take(t, "service_field", &mut c.service_field)?;
        take(t, "global_labels", &mut c.global_labels)?;
        take(t, "max_events_per_service", &mut c.max_events_per_service)?;
        take(t, "max_services", &mut c.max_services)?;
        take(t, "max_label_len", &mut c.max_label_len)?;
        take(t, "first_sample_hold_secs", &mut c.first_sample_hold_secs)?;
        take(t, "unstructured", &mut c.unstructured)?;
        c.unknown_keys = table.into_keys().collect();
        Ok(c)
    }
}

impl LayerConfig {
    /// Reads a TOML table holding only layer settings (for a stand-alone
    /// file or a test); a broker embeds `LayerConfig` in its own config type.
    pub fn from_toml(table: &str) -> Result<Self, Error> {
        toml::from_str(table).map_err(|source| Error::ConfigParse { source })
    }

    /// Keys of the parsed table that are no layer setting (empty for a
    /// config built in code). Under `#[serde(flatten)]` these also hold the
    /// keys that the enclosing struct left to this one.
    pub fn unknown_keys(&self) -> &[String] {
        &self.unknown_keys
    }

    /// Checks every value; the error names the key (`default_service`,
    /// `services."mqtt_broker"`, `max_label_len`, an unknown key, ...).
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(key) = self.unknown_keys.first() {
            return Err(Error::UnknownKey {
                key: key.clone(),
                expected: LAYER_KEYS.join(", "),
            });
        }
        self.to_builder().validate()
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
            .first_sample_hold(std::time::Duration::from_secs(self.first_sample_hold_secs))
            .unstructured(self.unstructured);
        if let Some(Preset::Robustmq) = self.preset {
            b = b.robustmq_services();
        }
        for (prefix, service) in &self.services {
            b = b.service_for_target(prefix, service);
        }
        for (name, value) in &self.global_labels {
            b = b.global_label(name, value);
        }
        b
    }
}

/// The `[log_metrics]` section of a broker's TOML configuration: the layer's
/// settings ([`LayerConfig`], flattened: the same keys at the same level)
/// plus a server of its own.
///
/// Every key is optional; unknown keys are errors that name the key.
///
/// ```toml
/// [log_metrics]
/// enabled = true
/// listen = "127.0.0.1:9477"
/// path = "/metrics"
/// preset = "robustmq"
/// default_service = "robustmq"
/// max_events_per_service = 256
/// header_read_timeout_secs = 10
/// write_timeout_secs = 30
/// max_concurrent_scrapes = 4
/// max_connections = 64
/// gzip = true
///
/// [log_metrics.services]        # target prefix -> service; wins over the preset
/// "my_plugin" = "plugin"
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
///
/// `Serialize` writes `"<redacted>"` for the bearer token and the password.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "Table")]
#[non_exhaustive]
pub struct LogMetricsConfig {
    /// The layer's settings (`enabled`, `preset`, `services`, limits, ...).
    #[serde(flatten)]
    pub layer: LayerConfig,
    // Server keys: each also needs its `take` line in `try_from` below.
    /// Address of the metrics server. Default `127.0.0.1:9477` (loopback:
    /// expose it deliberately, see the README; 9091 and 58080 are RobustMQ's).
    pub listen: String,
    /// Path of the metrics endpoint; see [`RouteOptions::path`](crate::RouteOptions::path).
    /// Default `/metrics`.
    pub path: String,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthConfig>,
    /// `[log_metrics.tls]`: `cert_path` and `key_path` (feature `tls`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

impl TryFrom<Table> for LogMetricsConfig {
    type Error = String;

    fn try_from(mut table: Table) -> Result<Self, String> {
        let mut c = Self::default();
        let t = &mut table;
        take(t, "listen", &mut c.listen)?;
        take(t, "path", &mut c.path)?;
        take(
            t,
            "header_read_timeout_secs",
            &mut c.header_read_timeout_secs,
        )?;
        take(t, "write_timeout_secs", &mut c.write_timeout_secs)?;
        take(t, "max_concurrent_scrapes", &mut c.max_concurrent_scrapes)?;
        take(t, "max_connections", &mut c.max_connections)?;
        take(t, "gzip", &mut c.gzip)?;
        take(t, "auth", &mut c.auth)?;
        take(t, "tls", &mut c.tls)?;
        c.layer = LayerConfig::try_from(table)?;
        if let Some(key) = c.layer.unknown_keys.first() {
            return Err(format!(
                "unknown key `{key}`; expected one of: {}, listen, path, \
                 header_read_timeout_secs, write_timeout_secs, max_concurrent_scrapes, max_connections, gzip, auth, tls",
                LAYER_KEYS.join(", ")
            ));
        }
        Ok(c)
    }
}

/// `[log_metrics.auth]`: either `bearer_token` or `username` + `password`.
/// `Debug` and `Serialize` show `"<redacted>"` for the secrets.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct AuthConfig {
    /// Expected bearer token.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_redacted"
    )]
    pub bearer_token: Option<String>,
    /// Basic auth user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Basic auth password.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_redacted"
    )]
    pub password: Option<String>,
}

/// Keeps secrets out of a printed configuration (RobustMQ logs its config at start-up).
fn serialize_redacted<S: Serializer>(secret: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    secret.as_ref().map(|_| "<redacted>").serialize(s)
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
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
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
            layer: LayerConfig::default(),
            listen: crate::DEFAULT_LISTEN.to_owned(),
            path: crate::DEFAULT_PATH.to_owned(),
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
        // The layer's checks name the setting; prefix them with the section.
        self.layer.validate().map_err(|e| match e {
            Error::EmptyValue { what, hint } => Error::EmptyValue {
                what: format!("log_metrics: {what}"),
                hint,
            },
            Error::ReservedValue { setting, value } => Error::ReservedValue {
                setting: format!("log_metrics.{setting}"),
                value,
            },
            other => other,
        })
    }
}

impl LogMetrics {
    /// A builder holding everything in `config` (checked first), to `build()`
    /// as is or adjust further.
    pub fn from_config(config: &LogMetricsConfig) -> Result<LogMetricsBuilder, Error> {
        config.validate()?;
        Ok(config.layer.to_builder())
    }

    /// A builder holding the layer settings of `config`, checked first
    /// (unknown keys included), to `build()` as is or adjust further: e.g.
    /// RobustMQ's `log_metrics` appender, whose layer the admin server's
    /// registry serves (no server here).
    ///
    /// ```
    /// use robustmq_log_metrics::{LayerConfig, LogMetrics};
    /// let config = LayerConfig::from_toml("preset = \"robustmq\"\nglobal_labels = { node_id = \"3\" }")?;
    /// let (layer, handle) = LogMetrics::from_layer_config(&config)?
    ///     .service_for_target("my_plugin", "plugin")
    ///     .build()?;
    /// # let _ = (layer, handle);
    /// # Ok::<(), robustmq_log_metrics::Error>(())
    /// ```
    pub fn from_layer_config(config: &LayerConfig) -> Result<LogMetricsBuilder, Error> {
        config.validate()?;
        Ok(config.to_builder())
    }
}
