//! Configuration: the `[log_metrics]` section and every error naming its culprit.

use robustmq_log_metrics::{Error, LogMetrics, LogMetricsConfig};

fn err_of(toml: &str) -> Error {
    match LogMetricsConfig::from_toml(toml).and_then(|c| LogMetrics::from_config(&c)?.build()) {
        Ok(_) => panic!("expected an error for:\n{toml}"),
        Err(e) => e,
    }
}

#[test]
fn a_full_section_is_read_and_used() {
    let cfg = LogMetricsConfig::from_toml(
        r#"
        [server]
        unrelated = "other sections of the broker config are ignored"

        [log_metrics]
        enabled = true
        listen = "127.0.0.1:0"
        path = "/log-metrics"
        default_service = "robustmq"
        max_events_per_service = 10
        max_services = 5
        max_label_len = 64

        [log_metrics.services]
        "app::mqtt" = "mqtt-broker"

        [log_metrics.global_labels]
        node_id = "3"
        "#,
    )
    .unwrap();
    assert_eq!(cfg.server.route.path, "/log-metrics");
    assert_eq!(cfg.server.listen.port(), 0);
    let (layer, handle) = LogMetrics::from_config(&cfg).unwrap().build().unwrap();
    use tracing_subscriber::prelude::*;
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(target: "app::mqtt::x", event = "connection_accepted", "x");
    });
    assert_eq!(
        handle.count("info", "mqtt-broker", "connection_accepted"),
        Some(1)
    );
    assert!(handle.render().contains("node_id=\"3\""));
}

#[test]
fn a_missing_section_gives_the_defaults() {
    let cfg = LogMetricsConfig::from_toml("[other]\nx = 1\n").unwrap();
    assert_eq!(cfg, LogMetricsConfig::default());
    assert_eq!(cfg.server.listen, "127.0.0.1:9477".parse().unwrap());
}

#[test]
fn bad_toml_is_a_parse_error() {
    let e = err_of("[log_metrics\nlisten = ");
    assert!(matches!(e, Error::ConfigParse { .. }), "{e:?}");
    assert!(
        e.to_string().contains("invalid log_metrics configuration"),
        "{e}"
    );
}

#[test]
fn an_unknown_key_is_named() {
    let e = err_of("[log_metrics]\nlisten_addr = \"127.0.0.1:1\"\n");
    assert!(matches!(e, Error::ConfigParse { .. }), "{e:?}");
    assert!(e.to_string().contains("listen_addr"), "{e}");
}

#[test]
fn a_wrong_type_is_named() {
    let e = err_of("[log_metrics]\nmax_label_len = \"big\"\n");
    assert!(e.to_string().contains("max_label_len"), "{e}");
}

#[test]
fn an_invalid_global_label_name_is_named() {
    let e = err_of("[log_metrics.global_labels]\n\"node-id\" = \"1\"\n");
    assert!(
        matches!(e, Error::InvalidLabelName { ref name, .. } if name == "node-id"),
        "{e:?}"
    );
    assert!(e.to_string().contains("node-id"), "{e}");
    let e = err_of("[log_metrics.global_labels]\nlevel = \"1\"\n");
    assert!(matches!(e, Error::ReservedLabelName { .. }), "{e:?}");
    let e = err_of("[log_metrics.global_labels]\nnode_id = \"\"\n");
    assert!(e.to_string().contains("node_id"), "{e}");
}

#[test]
fn an_empty_service_name_is_named() {
    let e = err_of("[log_metrics]\ndefault_service = \"\"\n");
    assert!(matches!(e, Error::EmptyValue { .. }), "{e:?}");
    assert!(e.to_string().contains("default service"), "{e}");
    let e = err_of("[log_metrics.services]\n\"app::mqtt\" = \"\"\n");
    assert!(e.to_string().contains("app::mqtt"), "{e}");
}

#[test]
fn bad_listen_and_path_and_limits_are_named() {
    let e = err_of("[log_metrics]\nlisten = \"localhost\"\n");
    assert!(e.to_string().contains("log_metrics.listen"), "{e}");
    let e = err_of("[log_metrics]\npath = \"metrics\"\n");
    assert!(e.to_string().contains("log_metrics.path"), "{e}");
    let e = err_of("[log_metrics]\nmax_events_per_service = 0\n");
    assert!(
        matches!(
            e,
            Error::InvalidLimit {
                name: "max_events_per_service",
                ..
            }
        ),
        "{e:?}"
    );
    let e = err_of("[log_metrics]\nmax_label_len = 100000\n");
    assert!(e.to_string().contains("max_label_len"), "{e}");
}

#[test]
fn a_port_in_use_is_a_bind_error_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let (_layer, handle) = LogMetrics::builder().build().unwrap();
    let e = handle.spawn_server(addr).unwrap_err();
    assert!(
        matches!(e, Error::Bind { addr: a, .. } if a == addr),
        "{e:?}"
    );
    assert!(e.to_string().contains(&addr.to_string()), "{e}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let e = rt
        .block_on(handle.serve_with_shutdown(addr, async {}))
        .unwrap_err();
    assert!(e.to_string().contains(&addr.to_string()), "{e}");
}

#[test]
fn builder_errors_are_typed() {
    let e = LogMetrics::builder()
        .global_label("a", "1")
        .global_label("a", "2")
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::DuplicateLabel { .. }), "{e:?}");
    let e = LogMetrics::builder()
        .service_for_target("", "x")
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::EmptyValue { .. }), "{e:?}");
    let e = LogMetrics::builder().event_field("").build().unwrap_err();
    assert!(matches!(e, Error::EmptyValue { .. }), "{e:?}");
}

#[cfg(not(feature = "tls"))]
#[test]
fn a_tls_table_without_the_feature_names_the_feature() {
    let e = err_of("[log_metrics.tls]\ncert_path = \"a.crt\"\nkey_path = \"a.key\"\n");
    assert!(e.to_string().contains("`log_metrics.tls`"), "{e}");
    assert!(
        e.to_string().contains("enable the `tls` cargo feature"),
        "{e}"
    );
}

#[test]
fn a_printed_config_reads_back_the_same() {
    let cfg = LogMetricsConfig::from_toml(
        "[log_metrics]\nlisten = \"127.0.0.1:9999\"\npath = \"/m\"\nwrite_timeout_secs = 7\ngzip = false\nmax_services = 9\n",
    )
    .unwrap();
    let printed = toml::to_string(&cfg).unwrap();
    let again = LogMetricsConfig::from_toml(&format!("[log_metrics]\n{printed}")).unwrap();
    assert_eq!(again, cfg, "{printed}");
    assert_eq!(
        again.server.write_timeout,
        std::time::Duration::from_secs(7)
    );
    assert!(!again.server.route.gzip);
}
