//! `suggest` on single calls: names from the taxonomy for each RobustMQ
//! subsystem, fields named after their expressions with their formatting, and
//! the calls it must refuse.

use robustmq_log_lint::{calls_in, suggest, NameSource, Suggestion, Taxonomy};

fn suggest_for(krate: &str, call: &str) -> Result<Suggestion, String> {
    let src = format!("fn f() {{ {call}; }}");
    let calls = calls_in(&src, "event").unwrap_or_else(|e| panic!("{call}: {e:?}"));
    assert_eq!(calls.len(), 1, "{call}");
    suggest(&calls[0], &Taxonomy::builtin(), krate, "event")
}

#[test]
fn names_come_from_the_taxonomy_for_every_subsystem() {
    let cases = [
        (
            "mqtt-broker",
            r#"info!("accept tcp connection:{:?}", addr)"#,
            "connection_accepted",
        ),
        (
            "mqtt-broker",
            r#"info!("connect [{}] login success", c.connection_id)"#,
            "user_login",
        ),
        (
            "mqtt-broker",
            r#"warn!("client {} subscribe topic {}", id, t)"#,
            "topic_subscribed",
        ),
        (
            "meta-service",
            r#"info!("node {} joined the cluster", id)"#,
            "node_joined",
        ),
        (
            "meta-service",
            r#"info!("raft leader changed to {}", id)"#,
            "leader_elected",
        ),
        (
            "meta-service",
            r#"error!("raft append entries failed: {}", e)"#,
            "raft_append_failed",
        ),
        (
            "storage-engine",
            r#"error!("storage write failed for segment {}: {}", s, e)"#,
            "storage_write_failed",
        ),
        (
            "storage-engine",
            r#"info!("segment {} sealed", s)"#,
            "segment_sealed",
        ),
        (
            "connector",
            r#"error!("connector {} failed to write to sink: {}", n, e)"#,
            "connector_write_failed",
        ),
        (
            "delay-message",
            r#"info!("load delay message queue {}", q)"#,
            "delay_queue_loaded",
        ),
        (
            "kafka-broker",
            r#"warn!("fetch request failed: {}", e)"#,
            "fetch_request_failed",
        ),
        (
            "kafka-broker",
            r#"info!("consumer group {} rebalanced", g)"#,
            "consumer_group_rebalanced",
        ),
        (
            "amqp-broker",
            r#"info!("channel {} opened", id)"#,
            "channel_opened",
        ),
        (
            "amqp-broker",
            r#"info!("declare queue {}", q)"#,
            "queue_declared",
        ),
        (
            "nats-broker",
            r#"info!("stream {} created", s)"#,
            "stream_created",
        ),
        (
            "broker-server",
            r#"info!("Start the flush thread")"#,
            "task_started",
        ),
    ];
    for (krate, call, want) in cases {
        let s = suggest_for(krate, call).unwrap();
        assert_eq!(s.event, want, "{krate}: {call}");
        assert_eq!(s.source, NameSource::Taxonomy, "{call}");
    }
}

#[test]
fn a_message_the_taxonomy_does_not_cover_gets_a_name_from_its_words() {
    let s = suggest_for("broker-core", r#"debug!("Cache warmed in {} ms", t)"#).unwrap();
    assert_eq!(
        (s.event.as_str(), s.source),
        ("cache_warmed", NameSource::Message)
    );
    let s = suggest_for("broker-core", r#"debug!("{}", t)"#).unwrap();
    assert_eq!(
        s.event, "broker_event",
        "a message with no words: the crate's name"
    );
    assert_eq!(s.message.as_deref(), Some("broker event"));
}

#[test]
fn fields_keep_their_formatting_and_are_named_after_the_expression() {
    let s = suggest_for(
        "mqtt-broker",
        r#"warn!(peer = %addr, "session {} for {:?} closed after {secs}s: {err:?}", self.client_id(), &conn.id, err = e.to_string())"#,
    )
    .unwrap();
    assert_eq!(
        s.fields,
        [
            "client_id = %self.client_id()",
            "conn_id = ?&conn.id",
            "secs",
            "error = ?e.to_string()"
        ]
    );
    // ... except a number field (a unit, a count, a standard number field),
    // which records the value itself: `secs` above, and these.
    let s = suggest_for(
        "mqtt-broker",
        r#"debug!("ack of {} on {} after {}ms, {} attempts", pkid, conn.connection_id, elapsed_ms, n)"#,
    )
    .unwrap();
    assert_eq!(
        s.fields,
        [
            "pkid",
            "connection_id = conn.connection_id",
            "elapsed_ms",
            "%n"
        ]
    );
    // A name already taken by a field, or reserved by tracing, gets a suffix.
    let s = suggest_for("x", r#"info!(id = 1, "a {} b {}", id, message)"#).unwrap();
    assert_eq!(s.fields, ["id_2 = %id", "message_2 = %message"]);
    // The same argument twice is one field.
    let s = suggest_for("x", r#"info!("{0} and {0:?}", n)"#).unwrap();
    assert_eq!(s.fields, ["%n"]);
}

#[test]
fn calls_that_cannot_be_rewritten_safely_are_refused() {
    for (call, why) in [
        (r#"info!("{:1$}", a, 5)"#, "width"),
        (r#"info!("{:.*}", 2, a)"#, "width"),
        (r#"info!(concat!("a", "{}"), x)"#, "not a string literal"),
        (r#"info!({ a = 1 }, "x {}", y)"#, "braced field set"),
        (r#"info!("{} {}", a)"#, "fewer format arguments"),
        (r#"info!("{", a)"#, "does not parse"),
    ] {
        let err = suggest_for("x", call).unwrap_err();
        assert!(err.contains(why), "{call}: {err}");
    }
}

/// The issue's cases from RobustMQ: a failure message gets a failure name
/// from its verb and object, never the success event its words also match.
#[test]
fn a_failure_message_gets_a_failure_name_from_its_verb_and_object() {
    let cases = [
        (
            "mqtt-broker",
            r#"error!("MQTT broker failed to start: {}", e)"#,
            "broker_start_failed",
        ),
        (
            "meta-service",
            r#"error!("Meta service failed to start: {}", e)"#,
            "meta_service_start_failed",
        ),
        (
            "broker-server",
            r#"error!("GRPC server failed to become ready on port {}, exiting", port)"#,
            "grpc_server_ready_failed",
        ),
        (
            "meta-service",
            r#"warn!("Failed to re-register node {}: {}", id, e)"#,
            "node_reregister_failed",
        ),
        (
            "amqp-broker",
            r#"warn!("AMQP Queue.Declare failed for queue={}", q)"#,
            "queue_declare_failed",
        ),
        (
            "amqp-broker",
            r#"warn!("AMQP: failed to requeue message from {}: {}", q, e)"#,
            "message_requeue_failed",
        ),
        (
            "connector",
            r#"warn!("Failed to reset connector {} to Idle: {:?}", n, e)"#,
            "connector_reset_failed",
        ),
        (
            "meta-service",
            r#"warn!("Raft RPC timed out. machine={}, target={}", m, t)"#,
            "raft_rpc_timeout",
        ),
        (
            "storage-engine",
            r#"warn!("Shard '{}' not found in cache", s)"#,
            "shard_not_found",
        ),
        (
            "storage-engine",
            r#"error!("remove shard dir {}: {}", d, e)"#,
            "remove_shard_dir_failed",
        ),
        (
            "admin-server",
            r#"warn!("CLIENT_ERROR: {} {}ms", m, d)"#,
            "client_error",
        ),
    ];
    for (krate, call, want) in cases {
        let s = suggest_for(krate, call).unwrap();
        assert_eq!(s.event, want, "{krate}: {call}");
        assert!(s.reports_failure, "{call}");
        assert_eq!(s.source, NameSource::Message, "{call}");
    }
    // A taxonomy failure event where it means the same thing.
    let s = suggest_for(
        "mqtt-broker",
        r#"error!("TCP accept failed to create connection with error message :{:?}", e)"#,
    )
    .unwrap();
    assert_eq!(
        (s.event.as_str(), s.source),
        ("connection_failed", NameSource::Taxonomy)
    );
}

#[test]
fn a_success_message_never_gets_a_failure_name() {
    for (krate, call) in [
        (
            "admin-server",
            r#"info!("Admin HTTP Server started successfully, listening port: {}", p)"#,
        ),
        (
            "meta-service",
            r#"info!("Node {} has been successfully registered", id)"#,
        ),
        ("amqp-broker", r#"info!("declare queue {}", q)"#),
        (
            "meta-service",
            r#"warn!("Raft server handler is slow. machine={}, op=install_snapshot", m)"#,
        ),
    ] {
        let s = suggest_for(krate, call).unwrap();
        assert!(!s.reports_failure, "{call}");
        assert!(
            !robustmq_log_lint::is_failure_name(&s.event),
            "{call}: {}",
            s.event
        );
    }
    // Words in an aside or an identifier do not pick a taxonomy event.
    let s = suggest_for(
        "delay-message",
        r#"warn!("Delay task skipped (broker shutting down): task_id={}", id)"#,
    )
    .unwrap();
    assert_eq!(s.event, "delay_task_skipped");
}

#[test]
fn catch_all_names_only_for_messages_without_verb_and_object() {
    let s = suggest_for("mqtt-broker", r#"error!("{}", e)"#).unwrap();
    assert_eq!(
        (s.event.as_str(), s.source),
        ("operation_failed", NameSource::CatchAll)
    );
    assert_eq!(s.fields, ["error = %e"]);
    let s = suggest_for("storage-engine", r#"debug!("{}", x)"#).unwrap();
    assert_eq!(
        (s.event.as_str(), s.source),
        ("storage_event", NameSource::CatchAll)
    );
    let s = suggest_for("mqtt-broker", r#"error!("failed to send batch: {}", e)"#).unwrap();
    assert_eq!(
        (s.event.as_str(), s.source),
        ("batch_send_failed", NameSource::Message)
    );
}

#[test]
fn the_error_value_goes_to_error_whatever_its_local_name() {
    for (call, want) in [
        (r#"warn!("send failed: {}", err)"#, vec!["error = %err"]),
        (r#"warn!("send failed: {:?}", e)"#, vec!["error = ?e"]),
        (r#"warn!("send failed: {e}")"#, vec!["error = %e"]),
        (
            r#"warn!("join failed: {}", join_err.to_string())"#,
            vec!["error = %join_err.to_string()"],
        ),
        // Named by the text before it: `error={}`, `error message: {}`.
        (
            r#"warn!("task {} failed, error={}", id, message)"#,
            vec!["%id", "error = %message"],
        ),
        // A count of errors is no error.
        (
            r#"info!("batch sent: success={}, errors={}", ok, failures)"#,
            vec!["%ok", "%failures"],
        ),
        // Two error values: the first is `error`, the other keeps its name.
        (
            r#"warn!("a: {}, b: {}", e, err)"#,
            vec!["error = %e", "%err"],
        ),
        // A call that already has `error`.
        (r#"warn!(error = %x, "send failed: {}", e)"#, vec!["%e"]),
    ] {
        let s = suggest_for("mqtt-broker", call).unwrap();
        assert_eq!(s.fields, want, "{call}");
    }
    // A value named like an error wins over the text before another placeholder.
    let s = suggest_for(
        "nats-broker",
        r#"warn!("NATS queue send error [{}]: {}", queue_key, e)"#,
    )
    .unwrap();
    assert_eq!(s.fields, ["%queue_key", "error = %e"]);
    // A field the call already has is renamed, not duplicated.
    let s = suggest_for("mqtt-broker", r#"warn!(error_msg = %e, "flush failed")"#).unwrap();
    assert_eq!(s.rename, [("error_msg".to_owned(), "error".to_owned())]);
    let s = suggest_for("mqtt-broker", r#"warn!(?err, "flush failed")"#).unwrap();
    assert_eq!(s.rename, [("err".to_owned(), "error".to_owned())]);
    // A call that logs its error as `error` already keeps it.
    let s = suggest_for("mqtt-broker", r#"warn!(error = %e, "flush failed")"#).unwrap();
    assert!(s.rename.is_empty(), "{:?}", s.rename);
}

#[derive(serde::Deserialize)]
struct Cases {
    case: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    #[serde(rename = "crate")]
    krate: String,
    call: String,
    event: String,
}

/// RobustMQ's own messages (`tests/fixtures/names/robustmq.toml`): each gets
/// its expected name, a failure name exactly when it reports a failure.
#[test]
fn robustmq_messages_get_the_names_they_mean() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/names/robustmq.toml"
    );
    let cases: Cases = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(cases.case.len() >= 25);
    let mut wrong = Vec::new();
    for c in &cases.case {
        let s = suggest_for(&c.krate, &c.call).unwrap();
        if s.event != c.event {
            wrong.push(format!("{}: {} (want {})", c.call, s.event, c.event));
        }
        assert_eq!(
            s.reports_failure,
            robustmq_log_lint::is_failure_name(&c.event),
            "{}",
            c.call
        );
        assert_ne!(s.source, NameSource::CatchAll, "{}", c.call);
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn a_blacklisted_client_is_a_ban_not_an_acl_denial() {
    for call in [
        r#"warn!("Connection refused: client {} is on the blacklist", client_id)"#,
        r#"warn!("client {} is banned", client_id)"#,
    ] {
        let s = suggest_for("mqtt-broker", call).unwrap();
        assert_ne!(s.event, "acl_denied", "{call}");
        assert!(
            robustmq_log_lint::is_failure_name(&s.event),
            "{call}: {}",
            s.event
        );
    }
    let s = suggest_for("mqtt-broker", r#"warn!("publish denied by acl for {}", c)"#).unwrap();
    assert_eq!(s.event, "acl_denied");
}
