//! A server of its own for the endpoint: listen, accept with a connection
//! limit, header and write timeouts, TLS, graceful shutdown.
//!
//! The accept loop is hand-written on hyper rather than `axum::serve`, which
//! cannot set a header-read timeout (slow-loris protection).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::sync::Semaphore;

use crate::error::Error;
use crate::http::io::WriteTimeout;
use crate::http::options::ServerOptions;
use crate::http::routes::metrics_router;
use crate::http::tls::Acceptor;
use crate::instance::Instance;

/// Everything checked and loaded before serving, so that every
/// configuration error is returned to the caller, never met in the server.
pub(crate) struct Prepared {
    options: ServerOptions,
    listener: std::net::TcpListener,
    pub(crate) local: SocketAddr,
    router: Router,
    acceptor: Option<Acceptor>,
}

impl Prepared {
    pub(crate) fn new(instance: &Arc<Instance>, options: ServerOptions) -> Result<Self, Error> {
        options.validate()?;
        #[cfg(feature = "tls")]
        let acceptor = crate::http::tls::acceptor(options.tls.as_ref())?;
        #[cfg(not(feature = "tls"))]
        let acceptor = None;
        let listener = bind(options.listen)?;
        let local = listener.local_addr().map_err(|source| Error::Bind {
            addr: options.listen,
            source,
        })?;
        let router = metrics_router(instance, &options.route)
            .layer(axum::middleware::from_fn(refuse_request_bodies));
        Ok(Self {
            options,
            listener,
            local,
            router,
            acceptor,
        })
    }

    /// Serves on a thread of its own with its own small runtime, so the
    /// endpoint neither needs nor disturbs the application's runtime.
    pub(crate) fn spawn(self) -> Result<MetricsServer, Error> {
        let local = self.local;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
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
                    let shutdown = async move {
                        let _ = rx.await;
                    };
                    self.run(shutdown).await.map_err(serve_err)
                })
            })
            .map_err(serve_err)?;
        Ok(MetricsServer {
            addr: local,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// Serves until `shutdown`; inside a tokio runtime.
    // Without the `tls` feature the TLS branch is statically unreachable.
    #[cfg_attr(not(feature = "tls"), allow(unused_variables, unreachable_code))]
    pub(crate) async fn run(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        use hyper_util::rt::{TokioIo, TokioTimer};
        use hyper_util::service::TowerToHyperService;

        let Self {
            options,
            listener,
            router,
            acceptor,
            ..
        } = self;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(options.header_read_timeout);
        let connections = Arc::new(Semaphore::new(options.max_connections));
        let mut refused = RefusedConnections::new(options.max_connections);
        tokio::pin!(shutdown);
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        if !is_transient(&e) {
                            return Err(e);
                        }
                        // Out of file descriptors and the like: back off instead of spinning.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let Ok(slot) = connections.clone().try_acquire_owned() else {
                // Closed at once: its descriptor is the one we must not keep.
                drop(stream);
                refused.record();
                continue;
            };
            let _ = stream.set_nodelay(true);
            let stream = WriteTimeout::new(stream, options.write_timeout);
            let svc = TowerToHyperService::new(router.clone());
            match &acceptor {
                None => {
                    let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), svc));
                    tokio::spawn(async move {
                        let _ = conn.await;
                        drop(slot);
                    });
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    let http = http.clone();
                    let watcher = graceful.watcher();
                    let handshake_timeout = options.header_read_timeout;
                    tokio::spawn(async move {
                        let Ok(Ok(tls)) =
                            tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await
                        else {
                            return;
                        };
                        let conn = http.serve_connection(TokioIo::new(tls), svc);
                        let _ = watcher.watch(conn).await;
                        drop(slot);
                    });
                }
            }
        }
        drop(listener);
        refused.flush();
        let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
        Ok(())
    }
}

/// How long a graceful shutdown waits for scrapes in flight.
const DRAIN: Duration = Duration::from_secs(10);

/// How often at most the refused-connections warning is logged.
const REFUSED_WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// Counts connections closed for the connection limit, and says so in a
/// warning at most every [`REFUSED_WARNING_INTERVAL`]: a flood must not
/// become a flood of log lines.
struct RefusedConnections {
    limit: usize,
    since_warning: u64,
    last_warning: Option<Instant>,
}

impl RefusedConnections {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            since_warning: 0,
            last_warning: None,
        }
    }

    fn record(&mut self) {
        self.since_warning += 1;
        if self
            .last_warning
            .is_some_and(|t| t.elapsed() < REFUSED_WARNING_INTERVAL)
        {
            return;
        }
        self.warn();
    }

    /// Reports the refusals not yet reported, so that the warnings add up
    /// to every refused connection.
    fn flush(&mut self) {
        if self.since_warning > 0 {
            self.warn();
        }
    }

    fn warn(&mut self) {
        tracing::warn!(
            target: "robustmq_log_metrics::internal",
            refused = self.since_warning,
            max_connections = self.limit,
            "log metrics server: connection limit reached; closed new connections at once"
        );
        self.since_warning = 0;
        self.last_warning = Some(Instant::now());
    }
}

/// A scrape has no body. One that claims to have one is answered at once and
/// its connection closed, so no body is ever read: nothing to trickle.
async fn refuse_request_bodies(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let has_body = headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get(CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if has_body {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            [(CONNECTION, "close")],
            Body::from("a scrape request has no body\n"),
        )
            .into_response();
    }
    next.run(request).await
}

/// `EMFILE`: the process has no free file descriptor (24 on Linux, the BSDs and macOS).
const EMFILE: i32 = 24;
/// `ENFILE`: the system has no free file descriptor (23 on Linux, the BSDs and macOS).
const ENFILE: i32 = 23;

/// Accept errors that pass: a client gave up, or descriptors or memory are
/// short for a moment. Anything else ends the server.
fn is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock | TimedOut | OutOfMemory
    ) || matches!(e.raw_os_error(), Some(EMFILE | ENFILE))
}

fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, Error> {
    let l = std::net::TcpListener::bind(addr).map_err(|source| Error::Bind { addr, source })?;
    l.set_nonblocking(true)
        .map_err(|source| Error::Bind { addr, source })?;
    Ok(l)
}

pub(crate) async fn shutdown_signal() {
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

/// A running metrics server from [`LogMetricsHandle::spawn_server`](crate::LogMetricsHandle::spawn_server).
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
