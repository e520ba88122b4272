//! The `[log_metrics]` section of a stand-alone configuration: the layer's
//! settings ([`LayerConfig`]) and a server of its own ([`ServerOptions`],
//! with its [`RouteOptions`](crate::RouteOptions)), read at one level. Each
//! key is declared once, as a field of one of them.

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};

use crate::builder::{LogMetrics, LogMetricsBuilder};
use crate::config::{read_table, DerivedFields as _, LayerConfig};
use crate::error::Error;
use crate::http::options::{RouteOptions, ServerOptions};

/// The `[log_metrics]` section of a broker's TOML configuration: the layer's
/// settings ([`LayerConfig`], flattened: the same keys at the same level)
/// plus a server of its own.
///
/// Every key is optional; unknown keys are errors that name the key and
/// list the settings.
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
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct LogMetricsConfig {
    /// The layer's settings (`enabled`, `preset`, `services`, limits, ...).
    #[serde(flatten)]
    pub layer: LayerConfig,
    /// The server's settings (`listen`, `path`, timeouts, auth, TLS).
    #[serde(flatten)]
    pub server: ServerOptions,
}

/// Where the keys are, for the errors that name them.
const SECTION: &str = "log_metrics.";

impl<'de> Deserialize<'de> for LogMetricsConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut table = toml::Table::deserialize(deserializer)?;
        // The route and the server take their keys; the layer gets the rest,
        // and names those that none takes.
        let (route, not_route) =
            read_table::<RouteOptions>(table.clone(), SECTION).map_err(D::Error::custom)?;
        let (mut server, not_server) =
            read_table::<ServerOptions>(table.clone(), SECTION).map_err(D::Error::custom)?;
        server.route = route;
        let unclaimed = |others: &[String], key: &str| others.iter().any(|k| k == key);
        table.retain(|key, _| unclaimed(&not_route, key) && unclaimed(&not_server, key));
        let (layer, unknown) =
            read_table::<LayerConfig>(table, SECTION).map_err(D::Error::custom)?;
        if let Some(key) = unknown.first() {
            return Err(D::Error::custom(format!(
                "unknown key `{SECTION}{key}`; expected one of: {}, {}, {}",
                LayerConfig::keys().join(", "),
                RouteOptions::keys().join(", "),
                ServerOptions::keys().join(", "),
            )));
        }
        Ok(Self { layer, server })
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

    /// The server settings: listen address, route, limits and TLS, checked
    /// by [`ServerOptions::validate`] with errors naming the `log_metrics.`
    /// key.
    pub fn server_options(&self) -> Result<ServerOptions, Error> {
        self.validate_server()?;
        Ok(self.server.clone())
    }

    /// [`ServerOptions::validate`], its keys prefixed with the section.
    fn validate_server(&self) -> Result<(), Error> {
        self.server.validate().map_err(|e| match e {
            Error::InvalidConfigValue { key, message } => Error::InvalidConfigValue {
                key: format!("{SECTION}{key}"),
                message,
            },
            other => other,
        })
    }

    /// Checks every value; the error names the offending key.
    pub fn validate(&self) -> Result<(), Error> {
        self.validate_server()?;
        // The layer's checks name the setting; prefix them with the section.
        self.layer.validate().map_err(|e| match e {
            Error::EmptyValue { what, hint } => Error::EmptyValue {
                what: format!("log_metrics: {what}"),
                hint,
            },
            Error::ReservedValue { setting, value } => Error::ReservedValue {
                setting: format!("{SECTION}{setting}"),
                value,
            },
            other => other,
        })
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
impl LogMetrics {
    /// A builder holding everything in `config` (checked first), to `build()`
    /// as is or adjust further.
    pub fn from_config(config: &LogMetricsConfig) -> Result<LogMetricsBuilder, Error> {
        config.validate()?;
        LogMetrics::from_layer_config(&config.layer)
    }
}
