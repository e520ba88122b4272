//! The `[log_metrics]` section of a stand-alone configuration: the layer's
//! settings ([`LayerConfig`]) and a server of its own ([`ServerConfig`]),
//! read at one level. Each server key is declared once, as a field of
//! `ServerConfig`; the layer's keys are `LayerConfig`'s.

use std::net::SocketAddr;
use std::time::Duration;

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize, Serializer};

use crate::builder::{LogMetrics, LogMetricsBuilder};
use crate::config::{read_table, DerivedFields, LayerConfig};
use crate::error::Error;
use crate::http::auth::Auth;
use crate::http::options::{
    ServerOptions, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_LISTEN, DEFAULT_MAX_CONCURRENT_SCRAPES,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_PATH, DEFAULT_WRITE_TIMEOUT,
};

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
    pub server: ServerConfig,
}

impl<'de> Deserialize<'de> for LogMetricsConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut table = toml::Table::deserialize(deserializer)?;
        // The server takes its keys; the layer gets the rest, and names those
        // that neither takes.
        let (server, others) =
            read_table::<ServerConfig>(table.clone()).map_err(D::Error::custom)?;
        table.retain(|key, _| others.iter().any(|k| k == key));
        let (layer, unknown) = read_table::<LayerConfig>(table).map_err(D::Error::custom)?;
        if let Some(key) = unknown.first() {
            return Err(D::Error::custom(format!(
                "unknown key `{key}`; expected one of: {}, {}",
                LayerConfig::keys().join(", "),
                ServerConfig::keys().join(", "),
            )));
        }
        Ok(Self { layer, server })
    }
}

/// The server keys of a [`LogMetricsConfig`]; each maps onto the
/// [`ServerOptions`] field of the same name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ServerConfig {
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

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN.to_owned(),
            path: DEFAULT_PATH.to_owned(),
            header_read_timeout_secs: DEFAULT_HEADER_READ_TIMEOUT.as_secs(),
            write_timeout_secs: DEFAULT_WRITE_TIMEOUT.as_secs(),
            max_concurrent_scrapes: DEFAULT_MAX_CONCURRENT_SCRAPES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            gzip: true,
            auth: None,
            tls: None,
        }
    }
}

impl DerivedFields for ServerConfig {
    fn derived<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <Self as Deserialize>::deserialize(deserializer)
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
        self.server
            .listen
            .parse()
            .map_err(|e: std::net::AddrParseError| Error::InvalidConfigValue {
                key: "log_metrics.listen".into(),
                message: format!(
                    "{:?} is not an address ({e}); use IP:PORT, e.g. \"127.0.0.1:9477\"",
                    self.server.listen
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
            .path(&self.server.path)
            .header_read_timeout(Duration::from_secs(self.server.header_read_timeout_secs))
            .write_timeout(Duration::from_secs(self.server.write_timeout_secs))
            .max_concurrent_scrapes(self.server.max_concurrent_scrapes)
            .max_connections(self.server.max_connections)
            .gzip(self.server.gzip);
        if let Some(a) = &self.server.auth {
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
        if let Some(t) = &self.server.tls {
            #[cfg(feature = "tls")]
            {
                o = o.tls(crate::http::options::TlsFiles {
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
    /// as is or adjust further. Feature `http`.
    pub fn from_config(config: &LogMetricsConfig) -> Result<LogMetricsBuilder, Error> {
        config.validate()?;
        LogMetrics::from_layer_config(&config.layer)
    }
}
