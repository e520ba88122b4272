//! What the endpoint is: [`RouteOptions`] for the route (path, auth,
//! concurrent-scrape bound, gzip) and [`ServerOptions`] for a server of its
//! own (listen address, timeouts, connection limit, TLS). Every check of
//! both lives here, in `validate()`, which the router, the server and the
//! config mapping all call: what passes never fails later.
//!
//! The options are also the `[log_metrics]` server keys: each setting is
//! declared once, as a field here, and serde names its key (`listen`,
//! `path`, `header_read_timeout_secs`, ...).

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::DerivedFields;
use crate::error::Error;
use crate::http::auth::Auth;

/// The stand-alone server's default address: loopback, on a port that
/// RobustMQ does not use (its operator's Prometheus port is 9091, its
/// admin port 58080).
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9477));
/// Default [`RouteOptions::path`].
pub const DEFAULT_PATH: &str = "/metrics";
/// Default [`ServerOptions::header_read_timeout`].
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ServerOptions::write_timeout`].
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default [`RouteOptions::max_concurrent_scrapes`].
pub const DEFAULT_MAX_CONCURRENT_SCRAPES: usize = 4;
/// Default [`ServerOptions::max_connections`]: far below the common
/// 1,024-descriptor limit, far above what a few Prometheus replicas need.
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;
/// Largest timeout accepted. Longer ones protect nothing, and durations near
/// `u64::MAX` seconds overflow when added to an `Instant`.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// Smallest timeout accepted: a shorter one would cut well-behaved scrapes.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(100);
/// Largest [`RouteOptions::max_concurrent_scrapes`].
pub const MAX_CONCURRENT_SCRAPES_LIMIT: usize = 1024;
/// Largest [`ServerOptions::max_connections`].
pub const MAX_CONNECTIONS_LIMIT: usize = 65_536;
/// Longest [`RouteOptions::path`], in bytes.
pub const MAX_PATH_LEN: usize = 256;

/// Certificate and key files for TLS.
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// PEM certificate chain.
    pub cert_path: std::path::PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key_path: std::path::PathBuf,
}

/// What the metrics route needs, whether merged into an application's
/// router ([`LogMetricsHandle::router_with`](crate::LogMetricsHandle::router_with))
/// or served by [`ServerOptions`]. `RouteOptions::default()` gives the
/// defaults documented on each field. Its keys in a `[log_metrics]`
/// section are the field names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RouteOptions {
    /// Path of the endpoint: `/`, or `/`-separated segments of ASCII
    /// letters, digits, `-`, `.`, `_`, `~` (no captures, wildcards or query),
    /// at most [`MAX_PATH_LEN`] bytes. Default `/metrics`.
    pub path: String,
    /// Require credentials: a bearer token of visible ASCII, or a basic auth
    /// username (no `:`) and password without control characters.
    /// Default none. In a `[log_metrics.auth]` table: `bearer_token`, or
    /// `username` and `password`; printed as `"<redacted>"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    /// At most this many scrapes are rendered and written at once; more get
    /// `503` at once, so scrapers can take neither CPU nor memory from the
    /// broker. A scrape holds its slot until its body is written, so at most
    /// this many responses are in memory. 1..=[`MAX_CONCURRENT_SCRAPES_LIMIT`],
    /// default 4.
    pub max_concurrent_scrapes: usize,
    /// Compress with gzip when the scraper sends `Accept-Encoding: gzip`
    /// (Prometheus does). Default `true`.
    pub gzip: bool,
}

impl Default for RouteOptions {
    fn default() -> Self {
        Self {
            path: DEFAULT_PATH.to_owned(),
            auth: None,
            max_concurrent_scrapes: DEFAULT_MAX_CONCURRENT_SCRAPES,
            gzip: true,
        }
    }
}

impl RouteOptions {
    /// The defaults at `path`.
    pub fn at(path: &str) -> Self {
        Self::default().path(path)
    }

    /// Sets [`path`](Self::path).
    #[must_use]
    pub fn path(mut self, path: &str) -> Self {
        self.path = path.to_owned();
        self
    }

    /// Sets [`auth`](Self::auth).
    #[must_use]
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
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

    /// Checks every field. The error's key is the field name
    /// (`path`, `max_concurrent_scrapes`, `auth`).
    pub fn validate(&self) -> Result<(), Error> {
        validate_path(&self.path)?;
        check_count(
            "max_concurrent_scrapes",
            self.max_concurrent_scrapes,
            MAX_CONCURRENT_SCRAPES_LIMIT,
        )?;
        match &self.auth {
            None => Ok(()),
            Some(Auth::Bearer(token)) => {
                check_credential("bearer token", token, |c| c.is_ascii_graphic())
            }
            Some(Auth::Basic { username, password }) => {
                check_credential("basic auth username", username, |c| {
                    !c.is_control() && c != ':'
                })?;
                if password.chars().any(char::is_control) {
                    return Err(invalid(
                        "auth",
                        "the basic auth password has a control character, which no scraper can send"
                            .into(),
                    ));
                }
                Ok(())
            }
        }
    }
}

/// How a server of its own serves the endpoint. `ServerOptions::new(addr)`
/// gives the defaults documented on each field; `ServerOptions::default()`
/// listens on [`DEFAULT_LISTEN`]. In a `[log_metrics]` section its keys are
/// the field names, the timeouts in whole seconds (`header_read_timeout_secs`,
/// `write_timeout_secs`), next to the route's keys.
///
/// Besides the limits below, the server reads no request body: a request
/// with one gets `413` and its connection is closed at once, so no body can
/// be trickled in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ServerOptions {
    /// Address to bind. Use loopback unless the port must be reached from
    /// outside (docs/deploy.md says how to expose it in Kubernetes).
    #[serde(deserialize_with = "socket_address")]
    pub listen: SocketAddr,
    /// The route: path, auth, concurrent-scrape bound, gzip. Read from the
    /// same table as the server's keys (see `LogMetricsConfig`), so it is
    /// skipped here: a flattened struct would hide unknown keys.
    #[serde(flatten, skip_deserializing)]
    pub route: RouteOptions,
    /// A client that has not sent its request headers within this time
    /// (also the TLS handshake, and the idle time between two requests on one
    /// connection) is disconnected: slow-loris protection.
    /// [`MIN_TIMEOUT`]..=[`MAX_TIMEOUT`], default 10 s.
    #[serde(rename = "header_read_timeout_secs", with = "whole_seconds")]
    pub header_read_timeout: Duration,
    /// A connection whose socket takes no bytes of the response for this
    /// long (the client reads nothing, or reads so slowly that the kernel's
    /// send buffer, up to a few MiB, does not drain) is closed, and its
    /// scrape slot freed. A slow reader that keeps reading is served.
    /// [`MIN_TIMEOUT`]..=[`MAX_TIMEOUT`], default 30 s.
    #[serde(rename = "write_timeout_secs", with = "whole_seconds")]
    pub write_timeout: Duration,
    /// At most this many connections are open at once; a connection beyond
    /// it is closed as soon as it is accepted (and counted in a rate-limited
    /// warning with target `robustmq_log_metrics::internal`), so idle clients
    /// cannot exhaust the process's file descriptors.
    /// 1..=[`MAX_CONNECTIONS_LIMIT`], default 64.
    pub max_connections: usize,
    /// Serve HTTPS with these files. Default none (plain HTTP).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsFiles>,
    /// Without the feature a `tls` key is an error that says which feature
    /// to enable, rather than an unknown key.
    #[cfg(not(feature = "tls"))]
    #[serde(
        rename = "tls",
        skip_serializing,
        deserialize_with = "tls_needs_the_feature"
    )]
    tls_unsupported: NoTls,
}

/// A `tls` key in a build without the feature: only ever an error.
#[cfg(not(feature = "tls"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct NoTls;

impl Default for ServerOptions {
    fn default() -> Self {
        Self::new(DEFAULT_LISTEN)
    }
}

impl DerivedFields for RouteOptions {
    fn derived<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <Self as Deserialize>::deserialize(deserializer)
    }
}

impl DerivedFields for ServerOptions {
    fn derived<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <Self as Deserialize>::deserialize(deserializer)
    }
}

fn socket_address<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SocketAddr, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(|e| {
        serde::de::Error::custom(format!(
            "{text:?} is not an address ({e}); use IP:PORT, e.g. \"{DEFAULT_LISTEN}\""
        ))
    })
}

#[cfg(not(feature = "tls"))]
fn tls_needs_the_feature<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NoTls, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer)?;
    Err(serde::de::Error::custom(
        "this build has no TLS support; enable the `tls` cargo feature of robustmq-log-metrics",
    ))
}

/// A timeout as whole seconds in configuration files; a sub-second one set
/// in code is printed rounded up, so that printing never shows 0.
mod whole_seconds {
    use super::*;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

impl ServerOptions {
    /// Defaults for `listen`.
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            route: RouteOptions::default(),
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(not(feature = "tls"))]
            tls_unsupported: NoTls,
        }
    }

    /// Sets [`route`](Self::route).
    #[must_use]
    pub fn route(mut self, route: RouteOptions) -> Self {
        self.route = route;
        self
    }

    /// Sets the route's [`path`](RouteOptions::path).
    #[must_use]
    pub fn path(mut self, path: &str) -> Self {
        self.route.path = path.to_owned();
        self
    }

    /// Sets the route's [`auth`](RouteOptions::auth).
    #[must_use]
    pub fn auth(mut self, auth: Auth) -> Self {
        self.route.auth = Some(auth);
        self
    }

    /// Sets the route's [`max_concurrent_scrapes`](RouteOptions::max_concurrent_scrapes).
    #[must_use]
    pub fn max_concurrent_scrapes(mut self, max: usize) -> Self {
        self.route.max_concurrent_scrapes = max;
        self
    }

    /// Sets the route's [`gzip`](RouteOptions::gzip).
    #[must_use]
    pub fn gzip(mut self, gzip: bool) -> Self {
        self.route.gzip = gzip;
        self
    }

    /// Sets [`header_read_timeout`](Self::header_read_timeout).
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`write_timeout`](Self::write_timeout).
    #[must_use]
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Sets [`max_connections`](Self::max_connections).
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// Sets [`tls`](Self::tls).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    #[must_use]
    pub fn tls(mut self, files: TlsFiles) -> Self {
        self.tls = Some(files);
        self
    }

    /// Checks every field, the route's too. The error's key is the setting's
    /// configuration key (`header_read_timeout_secs`, `max_connections`,
    /// `path`, ...).
    /// TLS files are read, and checked, when the server starts.
    pub fn validate(&self) -> Result<(), Error> {
        self.route.validate()?;
        check_timeout("header_read_timeout_secs", self.header_read_timeout)?;
        check_timeout("write_timeout_secs", self.write_timeout)?;
        check_count(
            "max_connections",
            self.max_connections,
            MAX_CONNECTIONS_LIMIT,
        )
    }
}

fn invalid(key: &str, message: String) -> Error {
    Error::InvalidConfigValue {
        key: key.to_owned(),
        message,
    }
}

/// A credential a scraper can actually send in an `Authorization` header.
fn check_credential(what: &str, value: &str, allowed: impl Fn(char) -> bool) -> Result<(), Error> {
    if value.is_empty() {
        return Err(invalid(
            "auth",
            format!("the {what} is empty; set one, or remove the auth setting"),
        ));
    }
    if let Some(c) = value.chars().find(|c| !allowed(*c)) {
        return Err(invalid(
            "auth",
            format!("the {what} has {c:?}, which a scraper cannot send in it"),
        ));
    }
    Ok(())
}

fn check_timeout(key: &str, timeout: Duration) -> Result<(), Error> {
    if timeout < MIN_TIMEOUT || timeout > MAX_TIMEOUT {
        return Err(invalid(
            key,
            format!(
                "{timeout:?} is out of range; allowed: {:?} to {} s",
                MIN_TIMEOUT,
                MAX_TIMEOUT.as_secs()
            ),
        ));
    }
    Ok(())
}

fn check_count(key: &str, value: usize, max: usize) -> Result<(), Error> {
    if value == 0 || value > max {
        return Err(invalid(
            key,
            format!("{value} is out of range; allowed: 1..={max}"),
        ));
    }
    Ok(())
}

/// Accepts only literal paths, so that axum can never panic on the route
/// (`:x`, `*x`, `{x}` are captures to it, a lone `{` is a syntax error) and
/// the route matches what a scraper sends (no query, no `.` segments, no
/// bytes a client would percent-encode).
fn validate_path(path: &str) -> Result<(), Error> {
    const RULE: &str = "use \"/\" or /-separated segments of ASCII letters, digits, '-', '.', '_', '~', e.g. \"/metrics\"";
    let reject = |why: &str| Err(invalid("path", format!("{path:?} {why}; {RULE}")));
    if !path.starts_with('/') {
        return reject("does not start with '/'");
    }
    if path.len() > MAX_PATH_LEN {
        return reject(&format!("is longer than {MAX_PATH_LEN} bytes"));
    }
    if path == "/" {
        return Ok(());
    }
    let body = path.strip_suffix('/').unwrap_or(path);
    for segment in body[1..].split('/') {
        if segment.is_empty() {
            return reject("has an empty segment (\"//\")");
        }
        if segment == "." || segment == ".." {
            return reject("has a '.' or '..' segment, which clients resolve away");
        }
        if let Some(c) = segment
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')))
        {
            let why = match c {
                ':' | '*' | '{' | '}' => {
                    format!("has {c:?}, which the router reads as a capture or wildcard")
                }
                '?' | '#' => format!("has {c:?}: a route path has no query or fragment"),
                _ => format!("has {c:?}"),
            };
            return reject(&why);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_paths_pass_and_router_syntax_is_rejected() {
        for ok in [
            "/",
            "/metrics",
            "/metrics/",
            "/log-metrics",
            "/a/b_c/d.e~f",
            "/v1.2",
        ] {
            assert!(validate_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "metrics",
            "/:x",
            "/*x",
            "/{",
            "/}",
            "/{}",
            "/{x}",
            "/{*rest}",
            "/metrics?x=1",
            "/m#x",
            "//",
            "/a//b",
            "/./m",
            "/../m",
            "/m e",
            "/m%20",
            "/é",
        ] {
            let e = validate_path(bad).unwrap_err().to_string();
            assert!(e.contains("`path`"), "{bad}: {e}");
        }
        assert!(validate_path(&format!("/{}", "a".repeat(MAX_PATH_LEN))).is_err());
    }

    #[test]
    fn timeouts_and_counts_are_bounded() {
        let o = ServerOptions::new(SocketAddr::from(([127, 0, 0, 1], 0)));
        assert!(o.validate().is_ok());
        for t in [
            Duration::ZERO,
            MAX_TIMEOUT + Duration::from_nanos(1),
            Duration::MAX,
        ] {
            assert!(
                o.clone().header_read_timeout(t).validate().is_err(),
                "{t:?}"
            );
            assert!(o.clone().write_timeout(t).validate().is_err(), "{t:?}");
        }
        assert!(o
            .clone()
            .header_read_timeout(MAX_TIMEOUT)
            .validate()
            .is_ok());
        assert!(o.clone().max_connections(0).validate().is_err());
        assert!(o
            .clone()
            .max_connections(MAX_CONNECTIONS_LIMIT + 1)
            .validate()
            .is_err());
        assert!(o.clone().max_concurrent_scrapes(0).validate().is_err());
        assert!(o
            .clone()
            .auth(Auth::Bearer(String::new()))
            .validate()
            .is_err());
    }
}
