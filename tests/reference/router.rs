//! The router factories driven directly (tower's `oneshot`), merged into a
//! stateful application router, and `serve_with_shutdown` on a real socket.

use crate::support;

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use robustmq_log_metrics::{Auth, Error, LogMetrics, LogMetricsHandle, RouteOptions};
use tower::ServiceExt;
use tracing_subscriber::prelude::*;

fn handle_with_events() -> LogMetricsHandle {
    let (layer, handle) = LogMetrics::builder().build().unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::error!(event = "storage_error", "x");
        tracing::error!(event = "storage_error", "x");
    });
    handle
}

async fn call(router: &Router, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn body_text(response: Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The series `handle_with_events` counts into.
const STORAGE_ERRORS: &str =
    r#"robustmq_log_events_total{level="error",service="robustmq",event="storage_error"}"#;

fn storage_errors(text: &str) -> f64 {
    support::parse(text)
        .into_iter()
        .find(|s| s.labels.get("event").map(String::as_str) == Some("storage_error"))
        .expect("the storage_error series")
        .value
}

#[tokio::test]
async fn router_serves_get_and_head_and_refuses_the_rest() {
    let handle = handle_with_events();
    let router: Router = handle.router();
    let r = call(&router, "GET", "/metrics", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()[header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    // The first scrape shows a new series at 0, the next one its count.
    assert_eq!(storage_errors(&body_text(r).await), 0.0);
    let r = call(&router, "GET", "/metrics", &[]).await;
    assert_eq!(storage_errors(&body_text(r).await), 2.0);

    let r = call(&router, "HEAD", "/metrics", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body_text(r).await, "");
    let r = call(&router, "POST", "/metrics", &[]).await;
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = r.headers()[header::ALLOW].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("HEAD"), "{allow}");
    for path in ["/", "/metrics/", "/other"] {
        assert_eq!(
            call(&router, "GET", path, &[]).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn router_at_serves_its_path_only_and_rejects_router_syntax() {
    let handle = handle_with_events();
    let router: Router = handle.router_at("/log-metrics").unwrap();
    let r = call(&router, "GET", "/log-metrics", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    // The first scrape of the series: its 0.
    assert_eq!(
        support::sample(&body_text(r).await, STORAGE_ERRORS),
        Some(0)
    );
    assert_eq!(
        call(&router, "GET", "/metrics", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    for bad in [
        "/:x",
        "/*x",
        "/{",
        "/}",
        "/{}",
        "/{*rest}",
        "/metrics?x=1",
        "metrics",
    ] {
        let e = handle.router_at::<()>(bad).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidConfigValue { key, .. } if key == "path"),
            "{bad}: {e:?}"
        );
        assert!(e.to_string().contains(&format!("{bad:?}")), "{e}");
    }
}

#[tokio::test]
async fn router_with_applies_auth_gzip_and_the_scrape_bound() {
    let handle = handle_with_events();
    let router: Router = handle
        .router_with(
            &RouteOptions::at("/m")
                .auth(Auth::Bearer("tok".into()))
                .max_concurrent_scrapes(1)
                .gzip(true),
        )
        .unwrap();
    let r = call(&router, "GET", "/m", &[]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let auth = ("Authorization", "Bearer tok");

    let zipped = call(&router, "GET", "/m", &[auth, ("Accept-Encoding", "gzip")]).await;
    assert_eq!(zipped.status(), StatusCode::OK);
    assert_eq!(zipped.headers()[header::CONTENT_ENCODING], "gzip");
    // The permit is held by the unread body: the next scrape is refused.
    let refused = call(&router, "GET", "/m", &[auth]).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()[header::RETRY_AFTER], "1");
    let bytes = axum::body::to_bytes(zipped.into_body(), usize::MAX)
        .await
        .unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(support::sample(&text, STORAGE_ERRORS), Some(0), "{text}");
    // Written (and dropped): the permit is back.
    let r = call(&router, "GET", "/m", &[auth]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        support::sample(&body_text(r).await, STORAGE_ERRORS),
        Some(2)
    );
    // A dropped, unread body gives it back too.
    assert_eq!(
        call(&router, "GET", "/m", &[auth]).await.status(),
        StatusCode::OK
    );

    let e = handle
        .router_with::<()>(&RouteOptions::default().max_concurrent_scrapes(0))
        .unwrap_err();
    assert!(e.to_string().contains("max_concurrent_scrapes"), "{e}");
}

#[derive(Clone)]
struct AppState {
    name: &'static str,
}

#[tokio::test]
async fn routers_merge_into_a_stateful_router_before_with_state() {
    let handle = handle_with_events();
    let app: Router = Router::<Arc<AppState>>::new()
        .route(
            "/name",
            get(|State(state): State<Arc<AppState>>| async move { state.name }),
        )
        .merge(handle.router())
        .merge(handle.router_at("/log-metrics").unwrap())
        .merge(
            handle
                .router_with(&RouteOptions::at("/private").gzip(false))
                .unwrap(),
        )
        .with_state(Arc::new(AppState { name: "admin" }));
    assert_eq!(
        body_text(call(&app, "GET", "/name", &[]).await).await,
        "admin"
    );
    // One handle behind the three routes: the first scrape shows the 0, the others the count.
    for (path, shown) in [("/metrics", 0), ("/log-metrics", 2), ("/private", 2)] {
        let r = call(&app, "GET", path, &[]).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(
            support::sample(&body_text(r).await, STORAGE_ERRORS),
            Some(shown),
            "{path}"
        );
    }
}

#[test]
fn serve_with_shutdown_serves_until_told_and_frees_the_port() {
    let handle = handle_with_events();
    let addr: SocketAddr = ([127, 0, 0, 1], support::free_port()).into();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(handle.serve_with_shutdown(addr, async {
                let _ = stopped.await;
            }))
    });
    // Stops the server also when an assertion below fails.
    struct Stop(Option<tokio::sync::oneshot::Sender<()>>);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.take().map(|s| s.send(()));
        }
    }
    let mut stop = Stop(Some(stop));
    let r = support::wait_for("the server to answer", Duration::from_secs(10), || {
        support::http(addr, "GET", "/metrics", &[]).ok()
    });
    assert_eq!(r.status, 200);
    assert_eq!(support::sample(&r.text(), STORAGE_ERRORS), Some(0));
    let r = support::http(addr, "GET", "/metrics", &[]).unwrap();
    assert_eq!(support::sample(&r.text(), STORAGE_ERRORS), Some(2));

    let _ = stop.0.take().unwrap().send(());
    let start = Instant::now();
    support::wait_for(
        "serve_with_shutdown to return",
        Duration::from_secs(15),
        || server.is_finished().then_some(()),
    );
    assert!(start.elapsed() < Duration::from_secs(12));
    server.join().unwrap().unwrap();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still listening after shutdown"
    );
}
