//! [`LayerConfig`]: the layer's settings, declared once. serde reads it (as
//! one more appender of RobustMQ's `logger.toml`, flattened next to the
//! appender's own keys), the builder's setters write it, `validate` checks
//! it once, and the instance is made from it.
//!
//! The fields are read from a table with `serde_ignored` (the keys that are
//! no field) and `serde_path_to_error` (the key of a wrong type), so both
//! are named however the config is embedded: serde's own
//! `deny_unknown_fields` does nothing under `#[serde(flatten)]`, and a
//! flattened struct's type errors lose their key.

use std::time::Duration;

use serde::de::{Deserializer, Error as _, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::Error;
use crate::labels::{validate_label_name, RESERVED_VALUES};

/// Default for [`LogMetricsBuilder::max_events_per_service`](crate::LogMetricsBuilder::max_events_per_service).
pub const DEFAULT_MAX_EVENTS_PER_SERVICE: usize = 256;
/// Default for [`LogMetricsBuilder::max_services`](crate::LogMetricsBuilder::max_services).
pub const DEFAULT_MAX_SERVICES: usize = 64;
/// Default for [`LogMetricsBuilder::max_label_len`](crate::LogMetricsBuilder::max_label_len).
pub const DEFAULT_MAX_LABEL_LEN: usize = 128;
/// Largest accepted `max_label_len`.
pub const MAX_LABEL_LEN_LIMIT: usize = 4096;
/// Largest accepted `max_events_per_service`.
pub const MAX_EVENTS_PER_SERVICE_LIMIT: usize = 100_000;
/// Largest accepted `max_services`.
pub const MAX_SERVICES_LIMIT: usize = 10_000;
/// Longest accepted `first_sample_hold`.
pub const MAX_FIRST_SAMPLE_HOLD: Duration = Duration::from_secs(3600);

/// Every logging crate of RobustMQ (commit 8bd49dc59, 2026-08) as
/// (tracing target prefix, `service` label): a crate's target is its module
/// path, the crate name with `_`. Used by
/// [`LogMetricsBuilder::robustmq_services`](crate::LogMetricsBuilder::robustmq_services)
/// and `preset = "robustmq"`.
///
/// Of the shared `common/*` crates, which run on behalf of every role, only two
/// get a service: `network_server` (`network-server`: the listeners and
/// connections of every protocol broker) and `common_security` (`security`:
/// authentication, ACLs and the blacklist). Their events name a layer, not a
/// broker, and their fields (`protocol`, `connection_id`, `client_id`) say which
/// connection. The other shared crates are left out on purpose: naming one
/// service for them would be wrong; their events get the default service.
pub const ROBUSTMQ_SERVICES: [(&str, &str); 15] = [
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
    ("network_server", "network-server"),
    ("common_security", "security"),
];

/// A named set of target-prefix-to-service mappings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Preset {
    /// Every current RobustMQ crate (`preset = "robustmq"`); see
    /// [`ROBUSTMQ_SERVICES`].
    Robustmq,
}

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

/// The layer's settings: what [`LogMetricsBuilder`](crate::LogMetricsBuilder)
/// holds, and a serde table of the same keys (no server keys).
///
/// Every key is optional; a key left out has the default documented on the
/// builder's setter of the same name. It deserialises from any serde format
/// and works as the `#[serde(flatten)]`ed payload of an appender enum variant
/// next to the appender's own keys, as in RobustMQ's `config/logger.toml`:
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
/// # Unknown keys
///
/// Keys that are no setting are kept while parsing, not rejected, and
/// [`LogMetrics::from_layer_config`](crate::LogMetrics::from_layer_config)
/// (or [`validate`](Self::validate)) rejects them, naming the first and
/// listing the settings. Under `#[serde(flatten)]` this config sees every key
/// that its enclosing struct has not taken: so let the appender's own keys be
/// taken first, either as plain fields of the variant's struct, or as a
/// flattened *struct* declared before this one (serde hands a flattened struct
/// only its own keys and removes them, as with RobustMQ's `filter`). A
/// flattened enum or map takes no keys away; its keys would be reported here:
/// then drop them with [`ignore_keys`](Self::ignore_keys) before validating.
///
/// ```
/// use robustmq_log_metrics::{LayerConfig, LogMetrics};
/// #[derive(serde::Deserialize)]
/// struct Filter {
///     #[serde(default)]
///     level: Option<String>,
/// }
/// #[derive(serde::Deserialize)]
/// #[serde(tag = "kind", rename_all = "snake_case")]
/// enum Appender {
///     LogMetrics {
///         #[serde(flatten)]
///         filter: Filter,
///         #[serde(flatten)]
///         metrics: LayerConfig,
///     },
/// }
/// let Appender::LogMetrics { metrics, .. } = toml::from_str(
///     "kind = \"log_metrics\"\nlevel = \"info\"\npreset = \"robustmq\"\nmax_labl_len = 3\n",
/// )?;
/// let err = LogMetrics::from_layer_config(&metrics).unwrap_err();
/// assert!(err.to_string().contains("`max_labl_len`"));
/// # Ok::<(), toml::de::Error>(())
/// ```
///
/// `Serialize` writes every setting (no unknown keys), so a broker that
/// prints its configuration at start-up shows the effective values.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
// `remote = "Self"`: the derived code becomes `LayerConfig::deserialize`, an
// inherent function that `read_table` calls; the trait impls below read the
// table first, so that unknown keys are seen under `flatten` too.
#[serde(remote = "Self", default)]
#[non_exhaustive]
pub struct LayerConfig {
    /// When `false`, the layer counts nothing (for a config switch). Default `true`.
    pub enabled: bool,
    /// `"robustmq"`: [`ROBUSTMQ_SERVICES`]. Default none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<Preset>,
    /// The `service` of events that have no service field and match no
    /// target prefix. Default `"robustmq"`.
    pub default_service: String,
    /// Target prefix to service name, in the order given (a table in a
    /// config file); explicit entries win over the preset's.
    #[serde(with = "pairs")]
    pub services: Vec<(String, String)>,
    /// Name of the field whose value becomes the `event` label. Default `"event"`.
    pub event_field: String,
    /// Name of the field whose value, when present and not empty, becomes
    /// the `service` label. Default `"service"`.
    pub service_field: String,
    /// Constant labels on every series (a table in a config file). Default none.
    #[serde(with = "pairs")]
    pub global_labels: Vec<(String, String)>,
    /// Distinct `event` values per service before `overflow`:
    /// 1..=[`MAX_EVENTS_PER_SERVICE_LIMIT`], default [`DEFAULT_MAX_EVENTS_PER_SERVICE`].
    pub max_events_per_service: usize,
    /// Distinct `service` values before `overflow`: 1..=[`MAX_SERVICES_LIMIT`],
    /// default [`DEFAULT_MAX_SERVICES`].
    pub max_services: usize,
    /// Longest label value in bytes: 1..=[`MAX_LABEL_LEN_LIMIT`], default
    /// [`DEFAULT_MAX_LABEL_LEN`].
    pub max_label_len: usize,
    /// How long a new series is shown at 0 (key `first_sample_hold_secs`, in
    /// seconds): at most [`MAX_FIRST_SAMPLE_HOLD`], default zero.
    #[serde(rename = "first_sample_hold_secs", with = "secs")]
    pub first_sample_hold: Duration,
    /// `"unstructured"` (default) or `"callsite"`; see [`UnstructuredEvents`].
    pub unstructured: UnstructuredEvents,
    /// Keys of the table that are no setting, checked by `validate`.
    #[serde(skip)]
    unknown_keys: Vec<String>,
}

impl Default for LayerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            preset: None,
            default_service: "robustmq".to_owned(),
            services: Vec::new(),
            event_field: "event".to_owned(),
            service_field: "service".to_owned(),
            global_labels: Vec::new(),
            max_events_per_service: DEFAULT_MAX_EVENTS_PER_SERVICE,
            max_services: DEFAULT_MAX_SERVICES,
            max_label_len: DEFAULT_MAX_LABEL_LEN,
            first_sample_hold: Duration::ZERO,
            unstructured: UnstructuredEvents::Unstructured,
            unknown_keys: Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for LayerConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // As a map, not a struct: under `flatten` a struct is shown only its
        // own keys, a map every key left.
        let table = toml::Table::deserialize(deserializer)?;
        let (mut config, unknown_keys) = read_table::<Self>(table, "").map_err(D::Error::custom)?;
        config.unknown_keys = unknown_keys;
        Ok(config)
    }
}

impl Serialize for LayerConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        LayerConfig::serialize(self, serializer)
    }
}

impl DerivedFields for LayerConfig {
    fn derived<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        LayerConfig::deserialize(deserializer)
    }
}

/// A struct whose fields serde derives, so that its keys are known to serde
/// alone: no second list of them.
pub(crate) trait DerivedFields: Sized {
    /// The derived deserialisation of the fields.
    fn derived<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;

    /// The keys, in field order, as the derive names them.
    fn keys() -> &'static [&'static str] {
        let mut keys: &'static [&'static str] = &[];
        let _ = Self::derived(KeysOf(&mut keys));
        keys
    }
}

/// Reads `T`'s fields from `table`: a wrong type is an error naming its key
/// (after `section`, such as `"log_metrics."`, when the caller knows where
/// the table is), and the keys that are no field of `T` are returned.
pub(crate) fn read_table<T: DerivedFields>(
    table: toml::Table,
    section: &str,
) -> Result<(T, Vec<String>), String> {
    let mut ignored = Vec::new();
    let mut track = serde_path_to_error::Track::new();
    let read = {
        let mut note = |path: serde_ignored::Path<'_>| ignored.push(path.to_string());
        let de = serde_ignored::Deserializer::new(toml::Value::Table(table), &mut note);
        T::derived(serde_path_to_error::Deserializer::new(de, &mut track))
    };
    match read {
        Ok(value) => Ok((value, ignored)),
        Err(e) => Err(format!(
            "`{section}{}`: {}",
            track.path(),
            e.message().trim_end()
        )),
    }
}

/// A deserializer that only records the field names a derived struct asks for.
struct KeysOf<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for KeysOf<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(Self::Error::custom("only the field names are asked for"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(Self::Error::custom("only the field names are asked for"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

impl LayerConfig {
    /// Reads a TOML table holding only layer settings (for a stand-alone
    /// file or a test); a broker embeds `LayerConfig` in its own config type.
    pub fn from_toml(table: &str) -> Result<Self, Error> {
        toml::from_str(table).map_err(|source| Error::ConfigParse { source })
    }

    /// The keys of this config, as its fields name them.
    pub fn keys() -> &'static [&'static str] {
        <Self as DerivedFields>::keys()
    }

    /// Keys of the parsed table that are no layer setting (empty for a
    /// config built in code). Under `#[serde(flatten)]` these also hold the
    /// keys that the enclosing struct left to this one.
    pub fn unknown_keys(&self) -> &[String] {
        &self.unknown_keys
    }

    /// Forgets the unknown keys among `keys`: those of a flattened enum or
    /// map next to this config, which serde shows to both.
    ///
    /// ```
    /// # use robustmq_log_metrics::LayerConfig;
    /// let config = LayerConfig::from_toml("level = \"info\"\npreset = \"robustmq\"")?
    ///     .ignore_keys(&["target", "targets", "level"]);
    /// assert!(config.validate().is_ok());
    /// # Ok::<(), robustmq_log_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn ignore_keys(mut self, keys: &[&str]) -> Self {
        self.unknown_keys.retain(|k| !keys.contains(&k.as_str()));
        self
    }

    /// Target prefixes and their services as the core resolves them (longest
    /// prefix wins; among equal prefixes the first in this list): explicit
    /// entries first, then the preset's, so an explicit entry always wins.
    pub(crate) fn target_services(&self) -> Vec<(String, String)> {
        let preset = match self.preset {
            Some(Preset::Robustmq) => &ROBUSTMQ_SERVICES[..],
            None => &[],
        };
        self.services
            .iter()
            .cloned()
            .chain(
                preset
                    .iter()
                    .map(|(p, s)| ((*p).to_owned(), (*s).to_owned())),
            )
            .collect()
    }

    /// Checks every value; the error names the key (`default_service`,
    /// `services."mqtt_broker"`, `max_label_len`, an unknown key, ...).
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(key) = self.unknown_keys.first() {
            return Err(Error::UnknownKey {
                key: key.clone(),
                expected: Self::keys().join(", "),
            });
        }
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
        if self.first_sample_hold > MAX_FIRST_SAMPLE_HOLD {
            return Err(Error::InvalidLimit {
                name: "first_sample_hold_secs",
                value: usize::try_from(self.first_sample_hold.as_secs()).unwrap_or(usize::MAX),
                min: 0,
                max: MAX_FIRST_SAMPLE_HOLD.as_secs() as usize,
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
        for (prefix, service) in &self.services {
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
}

/// Default for [`LineLimitBuilder::burst`](crate::LineLimitBuilder::burst).
pub const DEFAULT_LINE_BURST: u32 = 200;
/// Default for [`LineLimitBuilder::refill`](crate::LineLimitBuilder::refill).
pub const DEFAULT_LINE_REFILL: u32 = 20;
/// Default for [`LineLimitBuilder::interval`](crate::LineLimitBuilder::interval).
pub const DEFAULT_LINE_INTERVAL: Duration = Duration::from_secs(1);
/// Largest accepted `burst` and `refill` of a line limit.
pub const MAX_LINE_BUDGET: u32 = 1_000_000;
/// Shortest accepted `interval_secs` of a line limit.
pub const MIN_LINE_INTERVAL: Duration = Duration::from_millis(1);
/// Longest accepted `interval_secs` of a line limit.
pub const MAX_LINE_INTERVAL: Duration = Duration::from_secs(3600);

/// The settings of a [`LineLimit`](crate::LineLimit): what
/// [`LineLimitBuilder`](crate::LineLimitBuilder) holds, and a serde table of
/// the same keys, meant as an appender's `line_limit` table:
///
/// ```toml
/// [console]
/// kind = "console"
/// line_limit = { burst = 200, refill = 20, interval_secs = 1 }
/// ```
///
/// Each call site may write `burst` lines at once, and regains `refill`
/// lines every `interval_secs` (one every `interval_secs / refill`), up to
/// `burst` again. Every key is optional; a key left out has the default
/// documented on the builder's setter of the same name. Unknown keys are
/// kept while parsing and rejected by [`validate`](Self::validate) (and so by
/// [`LineLimit::from_config`](crate::LineLimit::from_config)), naming the key,
/// also where the table is flattened into another config type; a value of
/// the wrong type (a negative `burst`) is a parse error naming the key.
///
/// ```
/// use robustmq_log_metrics::{LineLimit, LineLimitConfig};
/// let config: LineLimitConfig = toml::from_str("burst = 50\nrefill = 5\ninterval_secs = 1")?;
/// let limit = LineLimit::from_config(&config)?.build()?;
/// # let _ = limit;
/// let zero: LineLimitConfig = toml::from_str("burst = 0")?;
/// let err = LineLimit::from_config(&zero).unwrap_err();
/// assert!(err.to_string().contains("line_limit.burst = 0"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
// `remote = "Self"`: as for `LayerConfig`, the derived code is the inherent
// `deserialize` that `read_table` calls.
#[serde(remote = "Self", default)]
#[non_exhaustive]
pub struct LineLimitConfig {
    /// Lines a call site may write at once: 1..=[`MAX_LINE_BUDGET`],
    /// default [`DEFAULT_LINE_BURST`].
    pub burst: u32,
    /// Lines a call site regains every `interval_secs`: 1..=[`MAX_LINE_BUDGET`],
    /// default [`DEFAULT_LINE_REFILL`].
    pub refill: u32,
    /// The refill's interval (key `interval_secs`, in seconds, fractions
    /// allowed): [`MIN_LINE_INTERVAL`]..=[`MAX_LINE_INTERVAL`], default
    /// [`DEFAULT_LINE_INTERVAL`].
    #[serde(rename = "interval_secs", with = "secs")]
    pub interval: Duration,
    /// Keys of the table that are no setting, checked by `validate`.
    #[serde(skip)]
    unknown_keys: Vec<String>,
}

impl Default for LineLimitConfig {
    fn default() -> Self {
        Self {
            burst: DEFAULT_LINE_BURST,
            refill: DEFAULT_LINE_REFILL,
            interval: DEFAULT_LINE_INTERVAL,
            unknown_keys: Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for LineLimitConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let table = toml::Table::deserialize(deserializer)?;
        let (mut config, unknown_keys) =
            read_table::<Self>(table, "line_limit.").map_err(D::Error::custom)?;
        config.unknown_keys = unknown_keys;
        Ok(config)
    }
}

impl Serialize for LineLimitConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        LineLimitConfig::serialize(self, serializer)
    }
}

impl DerivedFields for LineLimitConfig {
    fn derived<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        LineLimitConfig::deserialize(deserializer)
    }
}

impl LineLimitConfig {
    /// The keys of this config, as its fields name them.
    pub fn keys() -> &'static [&'static str] {
        <Self as DerivedFields>::keys()
    }

    /// Keys of the parsed table that are no line-limit setting.
    pub fn unknown_keys(&self) -> &[String] {
        &self.unknown_keys
    }

    /// Checks every value; the error names the key (`line_limit.burst`,
    /// `line_limit.refill`, `line_limit.interval_secs`, an unknown key).
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(key) = self.unknown_keys.first() {
            return Err(Error::UnknownKey {
                key: format!("line_limit.{key}"),
                expected: Self::keys().join(", "),
            });
        }
        for (name, value) in [
            ("line_limit.burst", self.burst),
            ("line_limit.refill", self.refill),
        ] {
            if !(1..=MAX_LINE_BUDGET).contains(&value) {
                return Err(Error::InvalidLimit {
                    name,
                    value: value as usize,
                    min: 1,
                    max: MAX_LINE_BUDGET as usize,
                });
            }
        }
        if !(MIN_LINE_INTERVAL..=MAX_LINE_INTERVAL).contains(&self.interval) {
            return Err(Error::InvalidConfigValue {
                key: "line_limit.interval_secs".to_owned(),
                message: format!(
                    "{} s is out of range; allowed: {}..={} seconds",
                    self.interval.as_secs_f64(),
                    MIN_LINE_INTERVAL.as_secs_f64(),
                    MAX_LINE_INTERVAL.as_secs()
                ),
            });
        }
        Ok(())
    }
}

/// `(key, value)` pairs as a table, in the order given.
mod pairs {
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        pairs: &[(String, String)],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(pairs.len()))?;
        for (k, v) in pairs {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<(String, String)>, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Vec<(String, String)>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a table of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(pairs)
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}

/// A `Duration` as whole seconds (or fractional ones, when it has them).
mod secs {
    use std::time::Duration;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        if d.subsec_nanos() == 0 {
            serializer.serialize_u64(d.as_secs())
        } else {
            serializer.serialize_f64(d.as_secs_f64())
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(deserializer)?;
        Duration::try_from_secs_f64(secs)
            .map_err(|e| D::Error::custom(format!("{secs} is not a duration in seconds ({e})")))
    }
}
