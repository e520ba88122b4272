// Fixture for tests/lint.rs: every tracing macro form the linter must read.
// Not compiled; line numbers are asserted, so append new cases at the end.
use tracing::{debug, error, event, info, trace, warn, Level};

fn forms(span: tracing::Span, x: u32, name: String) {
    info!("plain format string {}", x);
    tracing::warn!(event = "connection_closed", "qualified path");
    ::tracing::error!(event = "storage_error");
    debug!(target: "broker::mqtt", event = "node_joined", "with target");
    trace!(parent: &span, event = "leader_elected", "with parent");
    info!(name: "custom", target: "t", event = "user_login", "name and target");
    event!(Level::INFO, event = "message_published", "event! with a level");
    tracing::event!(target: "t", tracing::Level::ERROR, "legacy {}", x);
    info!(event = %name, "dynamic display value");
    info!(?name, event = ?name, "dynamic debug value");
    warn!(event = "BadName", "not snake_case");
    error!(event = "auth_failed", "at error");
    warn!(event = "auth_failed", "and at warn");
    info!(monotonic_counter.requests = 1, "dotted field, no event");
    log::info!("the log crate is not tracing");
    let v = vec![x, 2];
    let _ = v;
}

async fn nested(rx: tokio::sync::oneshot::Receiver<u32>) {
    let closure = || debug!(event = "in_closure", "x");
    closure();
    tokio::select! {
        _ = rx => { info!("inside select") }
    }
    assert!({
        warn!(event = "in_assert", "x");
        true
    });
    let _ = async {
        error!(event = "in_async_block");
    };
}

struct S;

impl S {
    fn method(&self) {
        trace!("in a method");
    }
}

mod events {
    pub const CONNECTION_CLOSED: &str = "connection_closed";
}

fn registry(e: std::io::Error, id: u32) {
    warn!(event = events::CONNECTION_CLOSED, "a declared constant");
    info!(event = UNDECLARED, "a constant the registry does not declare");
    warn!(event = format!("client_{}", id), "built at run time");
    error!(event = ?"storage_error", "Debug-formatted literal: quotes in the value");
    info!(event = %"node_left", "Display-formatted literal");
}
