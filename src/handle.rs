//! The handle: every way to read the counts of one instance, in one place.
//! The HTTP methods (feature `http`) are thin: the route and the server
//! live in `http/`, which knows the instance, not the handle.

use std::fmt;
use std::sync::Arc;

use crate::appender::AppenderMetrics;
use crate::error::Error;
use crate::instance::Instance;
use crate::labels::LEVEL_NAMES;
use crate::series::Family;

#[cfg(feature = "http")]
use crate::http::{MetricsServer, RouteOptions, ServerOptions};
#[cfg(feature = "http")]
use std::{future::Future, net::SocketAddr};

/// Reads the counts of one [`LogMetricsLayer`](crate::LogMetricsLayer).
///
/// Cheap to clone (an `Arc`), `Send + Sync`. Rendering takes no lock that
/// logging uses, so scrapes never slow down logging threads.
#[derive(Clone)]
pub struct LogMetricsHandle {
    pub(crate) instance: Arc<Instance>,
}

impl fmt::Debug for LogMetricsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogMetricsHandle")
            .field("instance", &self.instance.id)
            .field("series", &self.series_count())
            .finish_non_exhaustive()
    }
}

impl LogMetricsHandle {
    pub(crate) fn new(instance: Arc<Instance>) -> Self {
        Self { instance }
    }

    /// The Prometheus text format (0.0.4) of every series, with `# HELP` and
    /// `# TYPE`. A new series shows 0 the first time it is rendered
    /// ([the first sample](crate#the-first-sample)).
    pub fn render(&self) -> String {
        crate::exposition::text::render(&self.instance)
    }

    /// A `prometheus_client` collector over the same counts, for a registry
    /// the application already serves.
    #[cfg(feature = "prometheus-client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "prometheus-client")))]
    pub fn collector(&self) -> crate::exposition::collector::LogMetricsCollector {
        crate::exposition::collector::LogMetricsCollector::new(self.instance.clone())
    }

    /// The counters of the log appender `name` (its `appender` label), made
    /// on the first call and the same for every later call with that name.
    /// Wrap the appender's writer with them, see [`AppenderMetrics`]; the
    /// `robustmq_log_appender_*` families appear on this handle's endpoint
    /// and collector from the first registered appender on.
    ///
    /// ```
    /// # let (_layer, handle) = robustmq_log_metrics::LogMetrics::builder().build()?;
    /// let file = handle.appender("server")?;
    /// let writer = file.make_writer(std::io::sink);
    /// # let _ = writer;
    /// assert_eq!(handle.appender("server")?.lines(), file.lines());
    /// # Ok::<(), robustmq_log_metrics::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidAppenderName`] for an empty name or one longer than
    /// [`MAX_APPENDER_NAME_LEN`](crate::limits::MAX_APPENDER_NAME_LEN) bytes;
    /// [`Error::TooManyAppenders`] for a new name once
    /// [`MAX_APPENDERS`](crate::limits::MAX_APPENDERS) are registered.
    pub fn appender(&self, name: &str) -> Result<AppenderMetrics, Error> {
        self.instance.appenders.register(name)
    }

    /// How many series (of both families) exist now.
    pub fn series_count(&self) -> usize {
        self.instance.series.len()
    }

    /// The exact number of events counted so far for one label set, or `None`
    /// when that series does not exist. Global labels are not part of the key.
    pub fn count(&self, level: &str, service: &str, event: &str) -> Option<u64> {
        self.instance
            .series
            .iter()
            .find(|s| {
                s.family == Family::Events
                    && s.level.and_then(|l| LEVEL_NAMES.get(l)) == Some(&level)
                    && &*s.service == service
                    && s.event.as_deref() == Some(event)
            })
            .map(|s| s.total())
    }

    /// The sum of every `robustmq_log_events_total` series: the number of
    /// events counted.
    pub fn total_events(&self) -> u64 {
        self.instance
            .series
            .iter()
            .filter(|s| s.family == Family::Events)
            .fold(0u64, |sum, s| sum.wrapping_add(s.total()))
    }
}

/// The endpoint: a router to merge into an application's own, or a server
/// of its own.
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
impl LogMetricsHandle {
    /// A router serving `GET /metrics` (and `HEAD`) with the default
    /// [`RouteOptions`], to merge into an application's router of any state
    /// `S` before its `.with_state(..)`. Other methods get `405` with an
    /// `Allow` header; other paths `404`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # let (_layer, handle) = robustmq_log_metrics::LogMetrics::builder().build()?;
    /// #[derive(Clone)]
    /// struct AppState;
    /// let app: axum::Router = axum::Router::<Arc<AppState>>::new()
    ///     .merge(handle.router())
    ///     .with_state(Arc::new(AppState));
    /// # Ok::<(), robustmq_log_metrics::Error>(())
    /// ```
    pub fn router<S>(&self) -> axum::Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        crate::http::metrics_router(&self.instance, &RouteOptions::default())
    }

    /// Like [`router`](Self::router) at another path (see
    /// [`RouteOptions::path`] for what a path may hold).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfigValue`] naming `path` when it is not a literal path.
    pub fn router_at<S>(&self, path: &str) -> Result<axum::Router<S>, Error>
    where
        S: Clone + Send + Sync + 'static,
    {
        self.router_with(&RouteOptions::at(path))
    }

    /// The router with `options`' path, auth, scrape bound and gzip.
    ///
    /// # Errors
    ///
    /// What [`RouteOptions::validate`] rejects, naming the field.
    pub fn router_with<S>(&self, options: &RouteOptions) -> Result<axum::Router<S>, Error>
    where
        S: Clone + Send + Sync + 'static,
    {
        options.validate()?;
        Ok(crate::http::metrics_router(&self.instance, options))
    }

    /// Binds `addr` and serves until Ctrl-C or SIGTERM. The bind error names the address.
    pub async fn serve(&self, addr: SocketAddr) -> Result<(), Error> {
        self.serve_with_shutdown(addr, crate::http::shutdown_signal())
            .await
    }

    /// Binds `addr` and serves until `shutdown` completes, then finishes the
    /// scrapes in flight (for up to 10 s) and returns.
    pub async fn serve_with_shutdown(
        &self,
        addr: SocketAddr,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        self.serve_with_options(ServerOptions::new(addr), shutdown)
            .await
    }

    /// Serves with `options` (checked first) until `shutdown` completes.
    pub async fn serve_with_options(
        &self,
        options: ServerOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let prepared = crate::http::Prepared::new(&self.instance, options)?;
        let local = prepared.local;
        prepared.run(shutdown).await.map_err(|source| Error::Serve {
            addr: local,
            source,
        })
    }

    /// Binds `addr` now (so a port conflict is reported here, naming the
    /// address) and serves on a thread of its own with its own small runtime,
    /// so the endpoint neither needs nor disturbs the application's runtime,
    /// and a failing server never touches logging. Works inside or outside a
    /// tokio runtime. Stop it with [`MetricsServer::shutdown`] or by dropping it.
    pub fn spawn_server(&self, addr: SocketAddr) -> Result<MetricsServer, Error> {
        self.spawn_server_with(ServerOptions::new(addr))
    }

    /// Like [`spawn_server`](Self::spawn_server) with `options` (checked first).
    pub fn spawn_server_with(&self, options: ServerOptions) -> Result<MetricsServer, Error> {
        crate::http::Prepared::new(&self.instance, options)?.spawn()
    }
}
