//! The `/metrics` HTTP endpoint: a router to merge into an app, or a server of its own.

use std::future::Future;
use std::net::SocketAddr;

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;

use crate::render::CONTENT_TYPE as TEXT_FORMAT;
use crate::{Error, LogMetricsHandle};

impl LogMetricsHandle {
    /// A router serving `GET /metrics` (and `HEAD`), to merge into an
    /// application's own router or to serve on a port of its own. Other
    /// methods get `405` with an `Allow` header; other paths `404`.
    pub fn router(&self) -> Router {
        self.router_at("/metrics")
    }

    /// Like [`router`](Self::router) at another path, which must start with `/`.
    pub fn router_at(&self, path: &str) -> Router {
        let handle = self.clone();
        Router::new().route(
            path,
            get(move || {
                let handle = handle.clone();
                async move { ([(CONTENT_TYPE, TEXT_FORMAT)], handle.render()) }
            }),
        )
    }

    /// Binds `addr` and serves [`router`](Self::router) until Ctrl-C or
    /// SIGTERM. The bind error names the address.
    pub async fn serve(&self, addr: SocketAddr) -> Result<(), Error> {
        self.serve_with_shutdown(addr, shutdown_signal()).await
    }

    /// Binds `addr` and serves until `shutdown` completes, then finishes the
    /// scrapes in flight and returns.
    pub async fn serve_with_shutdown(
        &self,
        addr: SocketAddr,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let listener = bind(addr)?;
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|source| Error::Bind { addr, source })?;
        let local = listener.local_addr().unwrap_or(addr);
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|source| Error::Serve {
                addr: local,
                source,
            })
    }

    /// Binds `addr` now (so a port conflict is reported here, naming the
    /// address) and serves on a thread of its own with its own small runtime,
    /// so the endpoint neither needs nor disturbs the application's runtime.
    /// Works inside or outside a tokio runtime. Stop it with
    /// [`MetricsServer::shutdown`] or by dropping the returned value.
    pub fn spawn_server(&self, addr: SocketAddr) -> Result<MetricsServer, Error> {
        let listener = bind(addr)?;
        let local = listener
            .local_addr()
            .map_err(|source| Error::Bind { addr, source })?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let router = self.router();
        let thread = std::thread::Builder::new()
            .name("log-metrics-http".into())
            .spawn(move || -> Result<(), Error> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|source| Error::Serve {
                        addr: local,
                        source,
                    })?;
                rt.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).map_err(|source| {
                            Error::Serve {
                                addr: local,
                                source,
                            }
                        })?;
                    axum::serve(listener, router)
                        .with_graceful_shutdown(async move {
                            let _ = rx.await;
                        })
                        .await
                        .map_err(|source| Error::Serve {
                            addr: local,
                            source,
                        })
                })
            })
            .map_err(|source| Error::Serve {
                addr: local,
                source,
            })?;
        Ok(MetricsServer {
            addr: local,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }
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

    /// Stops accepting, lets the scrapes in flight finish, and waits for the
    /// server thread. Returns the server's error if it failed.
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
