//! `LayerConfig`: the layer's settings as one more appender of RobustMQ's
//! `logger.toml` (flattened next to the appender's own keys), the `robustmq`
//! preset, reserved service names, and `Serialize` for a printed config.

use std::collections::HashMap;

use robustmq_log_metrics::{
    Error, LayerConfig, LogMetrics, LogMetricsConfig, LogMetricsHandle, LogMetricsLayer, Preset,
    UnstructuredEvents, ROBUSTMQ_SERVICES,
};
use serde::{Deserialize, Serialize};
use tracing_subscriber::prelude::*;

/// RobustMQ's appender shape: `#[serde(tag = "kind")]`, payloads with their
/// own keys plus flattened settings, all read as `HashMap<String, Appender>`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Appender {
    Console {
        #[serde(default)]
        targets: Vec<Target>,
    },
    LogMetrics(LogMetricsAppender),
}

#[derive(Debug, Deserialize, Serialize)]
struct Target {
    path: String,
    level: String,
}

#[derive(Debug, Deserialize, Serialize)]
struct LogMetricsAppender {
    #[serde(default)]
    targets: Vec<Target>,
    #[serde(flatten)]
    metrics: LayerConfig,
}

const LOGGER_TOML: &str = r#"
[stdout]
kind = "console"
targets = [{ path = "", level = "info" }, { path = "openraft", level = "info" }]

[log_metrics]
kind = "log_metrics"
targets = [{ path = "", level = "info" }, { path = "openraft", level = "warn" }]
preset = "robustmq"
global_labels = { node_id = "3" }
"#;

fn appender(toml_text: &str) -> Result<LogMetricsAppender, toml::de::Error> {
    let mut all: HashMap<String, Appender> = toml::from_str(toml_text)?;
    match all.remove("log_metrics") {
        Some(Appender::LogMetrics(a)) => Ok(a),
        other => panic!("no log_metrics appender: {other:?}"),
    }
}

fn log_under(layer: LogMetricsLayer, f: impl FnOnce()) {
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f);
}

#[test]
fn robustmq_logger_toml_table_deserialises_and_builds_the_layer() {
    let a = appender(LOGGER_TOML).unwrap();
    assert_eq!(a.targets.len(), 2);
    assert_eq!(a.targets[1].path, "openraft");
    assert_eq!(a.targets[1].level, "warn");
    assert_eq!(a.metrics.preset, Some(Preset::Robustmq));
    assert!(a.metrics.unknown_keys().is_empty(), "{:?}", a.metrics);
    let (layer, handle) = LogMetrics::from_layer_config(&a.metrics)
        .unwrap()
        .build()
        .unwrap();
    log_under(layer, || {
        tracing::error!(target: "meta_service::raft::store", "raft write failed");
        tracing::warn!(target: "mqtt_broker::handler::connect", event = "auth_failed", "x");
        tracing::info!(target: "common_base::tools", "shared crate");
    });
    assert_eq!(
        handle.count("error", "meta-service", "unstructured"),
        Some(1)
    );
    assert_eq!(handle.count("warn", "mqtt-broker", "auth_failed"), Some(1));
    assert_eq!(handle.count("info", "robustmq", "unstructured"), Some(1));
    assert!(handle.render().contains("node_id=\"3\""));
}

#[test]
fn a_misspelled_key_next_to_the_appender_keys_is_named() {
    let a = appender(&LOGGER_TOML.replace("preset =", "presett =")).unwrap();
    let e = LogMetrics::from_layer_config(&a.metrics).unwrap_err();
    assert!(
        matches!(e, Error::UnknownKey { ref key, .. } if key == "presett"),
        "{e:?}"
    );
    assert!(e.to_string().contains("`presett`"), "{e}");
    assert!(e.to_string().contains("preset, default_service"), "{e}");
}

/// RobustMQ's `Filter`: an externally tagged enum flattened into each
/// appender (keys `target`, `targets`, `level`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Filter {
    #[allow(dead_code)] // read only by RobustMQ
    Target(Target),
    Targets(Vec<Target>),
    Level(String),
}

/// The same keys as a flattened struct.
#[derive(Debug, Deserialize)]
struct FilterFields {
    #[serde(default)]
    targets: Vec<Target>,
    #[serde(default)]
    level: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FilteredByEnum {
    #[serde(flatten)]
    filter: Filter,
    #[serde(flatten)]
    metrics: LayerConfig,
}

#[derive(Debug, Deserialize)]
struct FilteredByStruct {
    #[serde(flatten)]
    filter: FilterFields,
    #[serde(flatten)]
    metrics: LayerConfig,
}

#[test]
fn a_misspelled_key_after_a_flattened_filter_is_named_and_the_filter_keys_are_not() {
    let clean = "targets = [{ path = \"\", level = \"info\" }]\npreset = \"robustmq\"\n";
    let typo = format!("{clean}max_labl_len = 3\n");
    let by_enum: FilteredByEnum = toml::from_str(clean).unwrap();
    assert!(matches!(by_enum.filter, Filter::Targets(ref t) if t.len() == 1));
    assert_eq!(by_enum.metrics.unknown_keys(), [] as [String; 0]);
    assert!(LogMetrics::from_layer_config(&by_enum.metrics).is_ok());
    let by_struct: FilteredByStruct = toml::from_str(clean).unwrap();
    assert_eq!(by_struct.filter.targets.len(), 1);
    assert_eq!(by_struct.filter.level, None);
    assert_eq!(by_struct.metrics.unknown_keys(), [] as [String; 0]);
    let level: FilteredByEnum = toml::from_str("level = \"warn\"\n").unwrap();
    assert!(matches!(level.filter, Filter::Level(ref l) if l == "warn"));
    assert_eq!(level.metrics.unknown_keys(), [] as [String; 0]);

    let by_enum: FilteredByEnum = toml::from_str(&typo).unwrap();
    let by_struct: FilteredByStruct = toml::from_str(&typo).unwrap();
    for metrics in [by_enum.metrics, by_struct.metrics] {
        assert_eq!(metrics.unknown_keys(), ["max_labl_len"]);
        let e = LogMetrics::from_layer_config(&metrics).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "unknown key `max_labl_len` in the log metrics configuration; expected one of: {}",
                LayerConfig::keys().join(", ")
            )
        );
    }
}

#[test]
fn a_wrong_type_under_flatten_still_names_the_key() {
    let e = appender(&LOGGER_TOML.replace("node_id = \"3\"", "node_id = 3")).unwrap_err();
    assert!(e.to_string().contains("`global_labels.node_id`"), "{e}");
    let e =
        appender(&LOGGER_TOML.replace("preset = \"robustmq\"", "preset = \"robust\"")).unwrap_err();
    assert!(e.to_string().contains("`preset`"), "{e}");
    assert!(e.to_string().contains("robustmq"), "{e}");
    let e = appender(&format!("{LOGGER_TOML}unstructured = \"lines\"\n")).unwrap_err();
    assert!(e.to_string().contains("`unstructured`"), "{e}");
    assert!(e.to_string().contains("callsite"), "{e}");
}

#[test]
fn unstructured_mode_is_read_from_the_table() {
    let a = appender(&format!("{LOGGER_TOML}unstructured = \"callsite\"\n")).unwrap();
    assert_eq!(a.metrics.unstructured, UnstructuredEvents::Callsite);
    assert_eq!(
        appender(LOGGER_TOML).unwrap().metrics.unstructured,
        UnstructuredEvents::Unstructured
    );
}

fn built(b: robustmq_log_metrics::LogMetricsBuilder) -> (LogMetricsLayer, LogMetricsHandle) {
    b.build().unwrap()
}

#[test]
fn the_preset_maps_every_robustmq_crate() {
    // tracing's macros need a literal target: one call per crate, as RobustMQ logs.
    let (layer, handle) = built(LogMetrics::builder().robustmq_services());
    log_under(layer, || {
        tracing::error!(target: "meta_service::raft", "x");
        tracing::error!(target: "mqtt_broker::handler", "x");
        tracing::error!(target: "kafka_broker::server", "x");
        tracing::error!(target: "amqp_broker::server", "x");
        tracing::error!(target: "nats_broker::server", "x");
        tracing::error!(target: "storage_engine::segment", "x");
        tracing::error!(target: "storage_adapter::driver", "x");
        tracing::error!(target: "connector::kafka", "x");
        tracing::error!(target: "delay_message::pop", "x");
        tracing::error!(target: "broker_server::cluster", "x");
        tracing::error!(target: "broker_core::cache", "x");
        tracing::error!(target: "admin_server::server", "x");
        tracing::error!(target: "grpc_clients::pool", "x");
        tracing::error!(target: "network_server::common::tcp_acceptor", "x");
        tracing::error!(target: "common_security::auth::blacklist", "x");
        // A shared crate other than those two keeps the default service.
        tracing::error!(target: "common_base::tools", "x");
    });
    let expected = [
        "meta-service",
        "mqtt-broker",
        "kafka-broker",
        "amqp-broker",
        "nats-broker",
        "storage-engine",
        "storage-adapter",
        "connector",
        "delay-message",
        "broker-server",
        "broker-core",
        "admin-server",
        "grpc-clients",
        "network-server",
        "security",
    ];
    assert_eq!(ROBUSTMQ_SERVICES.len(), expected.len());
    for service in expected {
        assert!(
            ROBUSTMQ_SERVICES.iter().any(|(_, s)| *s == service),
            "{service} missing from the preset"
        );
        assert_eq!(
            handle.count("error", service, "unstructured"),
            Some(1),
            "{service}"
        );
    }
    assert_eq!(handle.count("error", "robustmq", "unstructured"), Some(1));
}

#[test]
fn an_explicit_target_wins_over_the_preset_in_either_order() {
    for preset_first in [true, false] {
        let mut b = LogMetrics::builder();
        if preset_first {
            b = b
                .robustmq_services()
                .service_for_target("mqtt_broker", "mqtt");
        } else {
            b = b
                .service_for_target("mqtt_broker", "mqtt")
                .robustmq_services();
        }
        let (layer, handle) = built(b);
        log_under(layer, || {
            tracing::info!(target: "mqtt_broker::handler", event = "connected", "x");
            tracing::info!(target: "kafka_broker::x", event = "connected", "x");
        });
        assert_eq!(
            handle.count("info", "mqtt", "connected"),
            Some(1),
            "{preset_first}"
        );
        assert_eq!(
            handle.count("info", "mqtt-broker", "connected"),
            None,
            "{preset_first}"
        );
        assert_eq!(handle.count("info", "kafka-broker", "connected"), Some(1));
    }
    // The same through the config: `services` wins over `preset`.
    let cfg = LayerConfig::from_toml(
        "preset = \"robustmq\"\nservices = { \"meta_service\" = \"meta\" }\n",
    )
    .unwrap();
    let (layer, handle) = built(LogMetrics::from_layer_config(&cfg).unwrap());
    log_under(layer, || {
        tracing::info!(target: "meta_service::raft", event = "leader_changed", "x");
    });
    assert_eq!(handle.count("info", "meta", "leader_changed"), Some(1));
}

#[test]
fn global_label_takes_the_broker_id_as_it_is() {
    let broker_id: u64 = 18_446_744_073_709_551_615;
    let (layer, handle) = built(
        LogMetrics::builder()
            .global_label("node_id", broker_id)
            .global_label("cluster", String::from("eu"))
            .global_label("zone", "a"),
    );
    log_under(layer, || tracing::info!("x"));
    let text = handle.render();
    assert!(text.contains("node_id=\"18446744073709551615\""), "{text}");
    assert!(text.contains("cluster=\"eu\""), "{text}");
    assert!(text.contains("zone=\"a\""), "{text}");
}

#[test]
fn reserved_values_are_rejected_where_they_are_configured() {
    for reserved in robustmq_log_metrics::RESERVED_VALUES {
        let e = LogMetrics::builder()
            .default_service(reserved)
            .build()
            .unwrap_err();
        assert!(
            matches!(e, Error::ReservedValue { ref setting, ref value } if setting == "default_service" && value == reserved),
            "{e:?}"
        );
        let e = LogMetrics::builder()
            .service_for_target("mqtt_broker", reserved)
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("services.\"mqtt_broker\""), "{e}");
        assert!(e.to_string().contains(reserved), "{e}");
        let cfg = LayerConfig::from_toml(&format!("default_service = \"{reserved}\"")).unwrap();
        let e = LogMetrics::from_layer_config(&cfg).unwrap_err();
        assert!(e.to_string().contains("`default_service`"), "{e}");
        let e = LogMetricsConfig::from_toml(&format!(
            "[log_metrics.services]\n\"x\" = \"{reserved}\"\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("log_metrics.services.\"x\""), "{e}");
    }
    // Only the exact values are reserved: another case is another label value.
    built(LogMetrics::builder().default_service("Overflow"));
}

#[test]
fn layer_config_serialises_and_reads_back_the_same() {
    let a = appender(LOGGER_TOML).unwrap();
    let text = toml::to_string(&a.metrics).unwrap();
    assert!(text.contains("preset = \"robustmq\""), "{text}");
    assert!(text.contains("unstructured = \"unstructured\""), "{text}");
    let back = LayerConfig::from_toml(&text).unwrap();
    assert_eq!(back, a.metrics);
    // As RobustMQ prints its whole appender table at start-up.
    let whole =
        toml::to_string(&HashMap::from([("log_metrics", Appender::LogMetrics(a))])).unwrap();
    let again = appender(&whole).unwrap();
    assert_eq!(again.targets.len(), 2);
    assert!(LogMetrics::from_layer_config(&again.metrics).is_ok());
}

#[test]
fn a_printed_server_config_redacts_secrets() {
    for auth in [
        "bearer_token = \"s3cret-token\"",
        "username = \"prom\"\npassword = \"s3cret-token\"",
    ] {
        let cfg = LogMetricsConfig::from_toml(&format!(
            "[log_metrics]\npreset = \"robustmq\"\n[log_metrics.auth]\n{auth}\n"
        ))
        .unwrap();
        let printed = toml::to_string(&cfg).unwrap();
        let debug = format!("{cfg:?}");
        for shown in [&printed, &debug] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
        assert!(printed.contains("preset = \"robustmq\""), "{printed}");
        assert!(printed.contains("listen = "), "{printed}");
    }
}

#[test]
fn the_server_section_reads_layer_keys_at_the_same_level() {
    let cfg = LogMetricsConfig::from_toml(
        "[log_metrics]\npreset = \"robustmq\"\nunstructured = \"callsite\"\nlisten = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    assert_eq!(cfg.layer.preset, Some(Preset::Robustmq));
    assert_eq!(cfg.layer.unstructured, UnstructuredEvents::Callsite);
    assert_eq!(cfg.server.listen, "127.0.0.1:0".parse().unwrap());
    let e = LogMetricsConfig::from_toml("[log_metrics]\ntargets = []\n").unwrap_err();
    assert!(
        e.to_string().contains("unknown key `log_metrics.targets`"),
        "{e}"
    );
}
