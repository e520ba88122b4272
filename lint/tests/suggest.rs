//! `suggest` on single calls: names from the taxonomy for each RobustMQ
//! subsystem, fields named after their expressions with their formatting, and
//! the calls it must refuse.

use robustmq_log_lint::{calls_in, suggest, Suggestion, Taxonomy};

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
            r#"error!("segment {} write failed: {}", s, e)"#,
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
        assert_eq!(s.source, "taxonomy", "{call}");
    }
}

#[test]
fn a_message_the_taxonomy_does_not_cover_gets_a_name_from_its_words() {
    let s = suggest_for("broker-core", r#"debug!("Cache warmed in {} ms", t)"#).unwrap();
    assert_eq!((s.event.as_str(), s.source), ("cache_warmed_ms", "message"));
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
            "id = ?&conn.id",
            "%secs",
            "err = ?e.to_string()"
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
