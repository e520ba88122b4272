//! The router factory: the metrics route with its auth, concurrent-scrape
//! bound and gzip, for any application state.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::Semaphore;

use crate::http::auth::ExpectedAuth;
use crate::http::body::ScrapeBody;
use crate::http::options::RouteOptions;
use crate::{Error, LogMetricsHandle};

struct RouteState {
    handle: LogMetricsHandle,
    auth: Option<ExpectedAuth>,
    permits: Arc<Semaphore>,
}

async fn scrape(State(state): State<Arc<RouteState>>, headers: HeaderMap) -> Response {
    if let Some(auth) = &state.auth {
        if !auth.admits(&headers) {
            return (
                StatusCode::UNAUTHORIZED,
                [(WWW_AUTHENTICATE, auth.challenge)],
                "unauthorized\n",
            )
                .into_response();
        }
    }
    // try_acquire, not acquire: an excess scrape is refused at once rather
    // than queued behind the others.
    let Ok(permit) = state.permits.clone().try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(RETRY_AFTER, "1")],
            "too many concurrent scrapes\n",
        )
            .into_response();
    };
    // Rendering is CPU work (about 0.35 ms per 10,000 series): off the
    // runtime's threads, so accepting and timing out other clients goes on.
    let handle = state.handle.clone();
    match tokio::task::spawn_blocking(move || handle.render()).await {
        Ok(text) => (
            [(CONTENT_TYPE, crate::CONTENT_TYPE)],
            Body::new(ScrapeBody::new(text, permit)),
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `options` must have passed `validate()`: axum panics on a path that is
/// not a literal.
pub(crate) fn metrics_router<S>(handle: &LogMetricsHandle, options: &RouteOptions) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let state = Arc::new(RouteState {
        handle: handle.clone(),
        auth: options.auth.as_ref().map(ExpectedAuth::new),
        permits: Arc::new(Semaphore::new(options.max_concurrent_scrapes)),
    });
    let router = Router::new()
        .route(&options.path, get(scrape))
        .with_state(state);
    if options.gzip {
        router.layer(tower_http::compression::CompressionLayer::new().gzip(true))
    } else {
        router
    }
}

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
    pub fn router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        metrics_router(self, &RouteOptions::default())
    }

    /// Like [`router`](Self::router) at another path (see
    /// [`RouteOptions::path`] for what a path may hold).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfigValue`] naming `path` when it is not a literal path.
    pub fn router_at<S>(&self, path: &str) -> Result<Router<S>, Error>
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
    pub fn router_with<S>(&self, options: &RouteOptions) -> Result<Router<S>, Error>
    where
        S: Clone + Send + Sync + 'static,
    {
        options.validate()?;
        Ok(metrics_router(self, options))
    }
}
