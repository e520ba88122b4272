//! Log calls in the forms RobustMQ uses today, each run once by `run`.
use std::net::SocketAddr;

use tracing::{debug, error, event, info, warn, Level};

/// A connection, as the brokers keep it.
pub struct Connection {
    /// Its id.
    pub connection_id: u64,
    client: String,
}

impl Connection {
    /// The MQTT client id.
    pub fn client_id(&self) -> &str {
        &self.client
    }
}

/// Logs one event per form.
pub fn run() {
    let addr: SocketAddr = "127.0.0.1:1883".parse().unwrap();
    let e = std::io::Error::new(std::io::ErrorKind::Other, "disk \"full\"");
    let conn = Connection {
        connection_id: 7,
        client: "client-a".into(),
    };
    let shard = "orders";
    info!("accept tcp connection:{:?}", addr);
    error!("TCP accept failed to create connection with error message :{:?}", e);
    info!("connect [{}] login success", conn.connection_id);
    warn!(target: "mqtt_broker::session", peer = %addr, "session {} of {} expired after {secs}s", conn.client_id(), conn.connection_id, secs = 30);
    debug!("delay message {id} saved", id = 42);
    info!("segment {shard} sealed at offset {1} of {0}", 10, 20);
    event!(Level::WARN, "raft append to node {} failed: {}", 3, e);
    tracing::info!("Start the flush thread");
    error!(
        "Failed to write shard {} to rocksdb, {:?}, retry in {} ms",
        shard,
        e.kind(),
        100
    );
    info!("unsubscribe {{topic}} {}", "a/b");
    warn!(event = "acl_denied", client_id = %conn.client_id(), "already in the standard form");
    info!(
        "kept: a comment between the arguments {}", // the fix must leave this call alone
        1
    );
}
