//! The `/metrics` HTTP endpoint (feature `http`): a router to merge into an
//! application's own, or a server of its own with the limits a broker needs.
//!
//! Modules, top-down: `options` (what the endpoint is, and all of its
//! validation), `config` (the `[log_metrics]` section that maps onto the
//! options), `auth` (credentials), `body` (the response body that holds the
//! scrape permit), `routes` (the router factory and the handler), `io` (the
//! write timeout), `tls` (feature `tls`), `server` (listen, accept, limits,
//! shutdown). They know the instance; the handle's methods call them.

mod auth;
mod body;
mod config;
mod io;
mod options;
mod routes;
mod server;
mod tls;

pub use auth::Auth;
pub use config::LogMetricsConfig;
#[cfg(feature = "tls")]
pub use options::TlsFiles;
pub use options::{
    RouteOptions, ServerOptions, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_LISTEN,
    DEFAULT_MAX_CONCURRENT_SCRAPES, DEFAULT_MAX_CONNECTIONS, DEFAULT_PATH, DEFAULT_WRITE_TIMEOUT,
    MAX_CONCURRENT_SCRAPES_LIMIT, MAX_CONNECTIONS_LIMIT, MAX_PATH_LEN, MAX_TIMEOUT, MIN_TIMEOUT,
};
pub(crate) use routes::metrics_router;
pub use server::MetricsServer;
pub(crate) use server::{shutdown_signal, Prepared};
