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
use crate::instance::Instance;

struct RouteState {
    instance: Arc<Instance>,
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
    // Rendering is CPU work (for 10,000 series see BENCHMARKS.md): off the
    // runtime's threads, so accepting and timing out other clients goes on.
    let instance = state.instance.clone();
    match tokio::task::spawn_blocking(move || crate::exposition::text::render(&instance)).await {
        Ok(text) => (
            [(CONTENT_TYPE, crate::exposition::text::CONTENT_TYPE)],
            Body::new(ScrapeBody::new(text, permit)),
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `options` must have passed `validate()`: axum panics on a path that is
/// not a literal.
pub(crate) fn metrics_router<S>(instance: &Arc<Instance>, options: &RouteOptions) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let state = Arc::new(RouteState {
        instance: instance.clone(),
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
