use std::net::SocketAddr;

/// Everything that can go wrong while configuring, building or serving log metrics.
///
/// Messages are lowercase, name the culprit (key, label, address) and say how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A label name is not a valid Prometheus label name.
    #[error("invalid label name {name:?}: {reason}; label names must match [a-zA-Z_][a-zA-Z0-9_]* and must not start with \"__\"")]
    InvalidLabelName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A global label reuses a name this crate sets itself.
    #[error("global label {name:?} is reserved: the crate sets `level`, `service`, `event` and `appender` itself; pick another name such as `node_id`")]
    ReservedLabelName {
        /// The rejected name.
        name: String,
    },
    /// The same global label was given twice.
    #[error("global label {name:?} is set twice; give each label once")]
    DuplicateLabel {
        /// The repeated name.
        name: String,
    },
    /// A configured service name equals a label value the layer reserves
    /// ([`RESERVED_VALUES`](crate::RESERVED_VALUES)).
    #[error("`{setting}` = {value:?} is a reserved label value: the layer counts events it cannot name (`unstructured`) or folds past a cap (`overflow`) there; pick another service name")]
    ReservedValue {
        /// The setting, e.g. `default_service` or `services."mqtt_broker"`.
        setting: String,
        /// The rejected value.
        value: String,
    },
    /// A configuration table has a key that is no setting (a typo, or a key of
    /// another appender kind).
    #[error("unknown key `{key}` in the log metrics configuration; expected one of: {expected}")]
    UnknownKey {
        /// The key as written.
        key: String,
        /// The keys that are settings, comma-separated.
        expected: String,
    },
    /// A value that must not be empty is empty.
    #[error("{what} is empty; {hint}")]
    EmptyValue {
        /// What was empty (e.g. `default service`, `log_metrics.global_labels.node_id`).
        what: String,
        /// How to fix it.
        hint: &'static str,
    },
    /// A numeric limit is out of its allowed range.
    #[error("{name} = {value} is out of range; allowed: {min}..={max}")]
    InvalidLimit {
        /// The setting (`max_events_per_service`, ...).
        name: &'static str,
        /// The rejected value.
        value: usize,
        /// Smallest allowed value.
        min: usize,
        /// Largest allowed value.
        max: usize,
    },
    /// The TOML text could not be parsed, or has an unknown key or a value of the wrong type.
    #[error("invalid log_metrics configuration: {source}")]
    ConfigParse {
        /// The parser's error, which names the key and the line.
        #[source]
        source: toml::de::Error,
    },
    /// A configuration value parsed but is not usable.
    #[error("invalid value for `{key}`: {message}")]
    InvalidConfigValue {
        /// The full key, e.g. `log_metrics.listen`.
        key: String,
        /// What is wrong and what is expected.
        message: String,
    },
    /// The metrics server could not bind its listen address.
    #[error("cannot listen on {addr}: {source}; is another process (or another broker) using this port? set another `listen` address")]
    Bind {
        /// The address that could not be bound.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The metrics server failed while running.
    #[error("metrics server on {addr} failed: {source}")]
    Serve {
        /// The address the server was listening on.
        addr: SocketAddr,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A TLS certificate or key could not be loaded.
    #[error("tls: cannot use {path}: {message}; give PEM files (certificate chain, and a PKCS#8, PKCS#1 or SEC1 key)")]
    Tls {
        /// The offending file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An appender name is not usable as the `appender` label value.
    #[error("invalid appender name {name:?}: {reason}; name an appender the way the logging config does, e.g. \"console\" or \"server\"")]
    InvalidAppenderName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// An instance already counts the most appenders it may.
    #[error("cannot count appender {name:?}: {max} appenders are counted already; reuse an appender name (the same name gives the same counters)")]
    TooManyAppenders {
        /// The name that did not fit.
        name: String,
        /// The limit, [`MAX_APPENDERS`](crate::limits::MAX_APPENDERS).
        max: usize,
    },
    /// A global `metrics` recorder is already installed in this process.
    #[error("a global `metrics` recorder is already installed; call `build()` instead of `install_recorder()`, or install only one recorder per process")]
    RecorderAlreadyInstalled,
}
