//! The `/metrics` HTTP endpoint: a router to merge into an app, or a server
//! of its own with the limits a broker needs (header timeout, bounded
//! concurrent scrapes, optional auth and TLS, graceful shutdown).

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::Semaphore;

use crate::exposition::text::CONTENT_TYPE as TEXT_FORMAT;
use crate::{Error, LogMetricsHandle};

/// Who may scrape. Compared in constant time; `Debug` never prints secrets.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// `Authorization: Bearer <token>`, as Prometheus' `authorization.credentials` sends.
    Bearer(String),
    /// `Authorization: Basic ...`, as Prometheus' `basic_auth` sends.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Bearer(_) => f.write_str("Auth::Bearer(<redacted>)"),
            Auth::Basic { username, .. } => write!(f, "Auth::Basic({username:?}, <redacted>)"),
        }
    }
}

/// Certificate and key files for TLS (feature `tls`).
#[cfg(feature = "tls")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain.
    pub cert_path: std::path::PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key_path: std::path::PathBuf,
}

/// How the endpoint is served. `ServerOptions::new(addr)` gives the defaults
/// documented on each field.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerOptions {
    /// Address to bind. Use loopback unless the port must be reached from
    /// outside (see the README on exposing it to Prometheus in Kubernetes).
    pub listen: SocketAddr,
    /// Path of the endpoint. Default `/metrics`.
    pub path: String,
    /// A client that has not sent its request headers within this time is
    /// disconnected (slow-loris protection). Default 10 s.
    pub header_read_timeout: Duration,
    /// At most this many scrapes render at once; more get `503` at once,
    /// so scrapers cannot take CPU from the broker. Default 4.
    pub max_concurrent_scrapes: usize,
    /// Compress with gzip when the scraper sends `Accept-Encoding: gzip`
    /// (Prometheus does). Default `true`.
    pub gzip: bool,
    /// Require credentials. Default none.
    pub auth: Option<Auth>,
    /// Serve HTTPS with these files. Default none (plain HTTP).
    #[cfg(feature = "tls")]
    pub tls: Option<TlsFiles>,
}

impl ServerOptions {
    /// Defaults for `listen`.
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            path: "/metrics".to_owned(),
            header_read_timeout: Duration::from_secs(10),
            max_concurrent_scrapes: 4,
            gzip: true,
            auth: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Sets [`path`](Self::path).
    #[must_use]
    pub fn path(mut self, path: &str) -> Self {
        self.path = path.to_owned();
        self
    }

    /// Sets [`header_read_timeout`](Self::header_read_timeout).
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`max_concurrent_scrapes`](Self::max_concurrent_scrapes).
    #[must_use]
    pub fn max_concurrent_scrapes(mut self, max: usize) -> Self {
        self.max_concurrent_scrapes = max;
        self
    }

    /// Sets [`gzip`](Self::gzip).
    #[must_use]
    pub fn gzip(mut self, gzip: bool) -> Self {
        self.gzip = gzip;
        self
    }

    /// Sets [`auth`](Self::auth).
    #[must_use]
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Sets [`tls`](Self::tls).
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls(mut self, files: TlsFiles) -> Self {
        self.tls = Some(files);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if !self.path.starts_with('/') {
            return Err(Error::InvalidConfigValue {
                key: "path".into(),
                message: format!("{:?} must start with '/', e.g. \"/metrics\"", self.path),
            });
        }
        if self.max_concurrent_scrapes == 0 {
            return Err(Error::InvalidLimit {
                name: "max_concurrent_scrapes",
                value: 0,
                min: 1,
                max: usize::MAX,
            });
        }
        if self.header_read_timeout.is_zero() {
            return Err(Error::InvalidConfigValue {
                key: "header_read_timeout".into(),
                message: "must be above zero".into(),
            });
        }
        match &self.auth {
            Some(Auth::Bearer(t)) if t.is_empty() => Err(Error::EmptyValue {
                what: "bearer token".into(),
                hint: "set a token, or remove the auth setting",
            }),
            Some(Auth::Basic { username, .. }) if username.is_empty() => Err(Error::EmptyValue {
                what: "basic auth username".into(),
                hint: "set a username, or remove the auth setting",
            }),
            _ => Ok(()),
        }
    }
}

struct RouteState {
    handle: LogMetricsHandle,
    /// The expected `Authorization` header value, precomputed.
    expected_auth: Option<(Vec<u8>, &'static str)>,
    permits: Semaphore,
}

fn expected_header(auth: &Auth) -> (Vec<u8>, &'static str) {
    match auth {
        Auth::Bearer(token) => (
            format!("Bearer {token}").into_bytes(),
            "Bearer realm=\"metrics\"",
        ),
        Auth::Basic { username, password } => (
            format!(
                "Basic {}",
                base64(format!("{username}:{password}").as_bytes())
            )
            .into_bytes(),
            "Basic realm=\"metrics\", charset=\"UTF-8\"",
        ),
    }
}

/// Equality whose time depends only on the lengths, not on where the bytes differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= u64::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(T[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

async fn scrape(State(state): State<Arc<RouteState>>, headers: HeaderMap) -> Response {
    if let Some((expected, challenge)) = &state.expected_auth {
        let given = headers
            .get(AUTHORIZATION)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !constant_time_eq(given, expected) {
            return (
                StatusCode::UNAUTHORIZED,
                [(WWW_AUTHENTICATE, *challenge)],
                "unauthorized\n",
            )
                .into_response();
        }
    }
    // try_acquire, not acquire: an excess scrape is refused at once rather
    // than queued behind the others.
    let Ok(_permit) = state.permits.try_acquire() else {
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
        Ok(body) => ([(CONTENT_TYPE, TEXT_FORMAT)], body).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

impl LogMetricsHandle {
    /// A router serving `GET /metrics` (and `HEAD`) with the default
    /// [`ServerOptions`] limits, to merge into an application's own router.
    /// Other methods get `405` with an `Allow` header; other paths `404`.
    pub fn router(&self) -> Router {
        self.router_with(&ServerOptions::new(SocketAddr::from(([127, 0, 0, 1], 0))))
    }

    /// Like [`router`](Self::router) at another path, which must start with `/`.
    pub fn router_at(&self, path: &str) -> Router {
        self.router_with(&ServerOptions::new(SocketAddr::from(([127, 0, 0, 1], 0))).path(path))
    }

    /// The router with `options`' path, auth, scrape limit and gzip.
    pub fn router_with(&self, options: &ServerOptions) -> Router {
        let state = Arc::new(RouteState {
            handle: self.clone(),
            expected_auth: options.auth.as_ref().map(expected_header),
            permits: Semaphore::new(options.max_concurrent_scrapes.max(1)),
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

    /// Binds `addr` and serves until Ctrl-C or SIGTERM. The bind error names the address.
    pub async fn serve(&self, addr: SocketAddr) -> Result<(), Error> {
        self.serve_with_shutdown(addr, shutdown_signal()).await
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

    /// Serves with `options` until `shutdown` completes.
    pub async fn serve_with_options(
        &self,
        options: ServerOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        options.validate()?;
        let listener = bind(options.listen)?;
        let local = listener.local_addr().unwrap_or(options.listen);
        let listener =
            tokio::net::TcpListener::from_std(listener).map_err(|source| Error::Bind {
                addr: options.listen,
                source,
            })?;
        let acceptor = crate::tls::acceptor(&options)?;
        run(
            listener,
            self.router_with(&options),
            &options,
            acceptor,
            shutdown,
        )
        .await
        .map_err(|source| Error::Serve {
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

    /// Like [`spawn_server`](Self::spawn_server) with `options`.
    pub fn spawn_server_with(&self, options: ServerOptions) -> Result<MetricsServer, Error> {
        options.validate()?;
        let listener = bind(options.listen)?;
        let local = listener.local_addr().map_err(|source| Error::Bind {
            addr: options.listen,
            source,
        })?;
        let acceptor = crate::tls::acceptor(&options)?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let router = self.router_with(&options);
        let serve_err = move |source| Error::Serve {
            addr: local,
            source,
        };
        let thread = std::thread::Builder::new()
            .name("log-metrics-http".into())
            .spawn(move || -> Result<(), Error> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(serve_err)?;
                rt.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).map_err(serve_err)?;
                    let shutdown = async move {
                        let _ = rx.await;
                    };
                    run(listener, router, &options, acceptor, shutdown)
                        .await
                        .map_err(serve_err)
                })
            })
            .map_err(serve_err)?;
        Ok(MetricsServer {
            addr: local,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }
}

/// How long a graceful shutdown waits for scrapes in flight.
const DRAIN: Duration = Duration::from_secs(10);

// Without the `tls` feature the TLS branch is statically unreachable.
#[cfg_attr(not(feature = "tls"), allow(unused_variables, unreachable_code))]
async fn run(
    listener: tokio::net::TcpListener,
    router: Router,
    options: &ServerOptions,
    acceptor: Option<crate::tls::Acceptor>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    let handshake_timeout = options.header_read_timeout;
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    if is_fatal(&e) {
                        return Err(e);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(router.clone());
        match &acceptor {
            None => {
                let conn = http.serve_connection(TokioIo::new(stream), svc);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let http = http.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let Ok(Ok(tls)) =
                        tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    let conn = http.serve_connection(TokioIo::new(tls), svc);
                    let _ = watcher.watch(conn).await;
                });
            }
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
    Ok(())
}

fn is_fatal(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    !matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock | TimedOut
    ) && e.raw_os_error() != Some(24) // EMFILE: transient, back off
        && e.raw_os_error() != Some(23) // ENFILE
}

fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, Error> {
    let l = std::net::TcpListener::bind(addr).map_err(|source| Error::Bind { addr, source })?;
    l.set_nonblocking(true)
        .map_err(|source| Error::Bind { addr, source })?;
    Ok(l)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// A running metrics server from [`LogMetricsHandle::spawn_server`].
/// Dropping it stops the server without waiting.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), Error>>>,
}

impl MetricsServer {
    /// The bound address (with the real port when `:0` was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets the scrapes in flight finish (up to 10 s), and
    /// waits for the server thread. Returns the server's error if it failed.
    pub fn shutdown(mut self) -> Result<(), Error> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(Error::Serve {
                addr: self.addr,
                source: std::io::Error::other("metrics server thread panicked"),
            }),
            None => Ok(()),
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"abc\0", b"abc"));
    }

    #[test]
    fn auth_debug_hides_secrets() {
        let s = format!(
            "{:?}",
            Auth::Basic {
                username: "prom".into(),
                password: "hunter2".into()
            }
        );
        assert!(!s.contains("hunter2"));
        assert!(!format!("{:?}", Auth::Bearer("tok".into())).contains("tok"));
    }
}
