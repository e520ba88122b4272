//! A server configuration that validation accepts never fails later: each
//! arbitrary one, from code or from TOML, is rejected with an error naming
//! its key, or serves a scrape on a real loopback server.

use crate::support;

use std::time::Duration;

use base64::Engine as _;
use proptest::prelude::*;
use robustmq_log_metrics::{
    Auth, Error, LogMetrics, LogMetricsConfig, LogMetricsHandle, RouteOptions, ServerOptions,
};

fn handle() -> LogMetricsHandle {
    LogMetrics::builder().build().unwrap().1
}

fn authorization(auth: &Option<Auth>) -> Option<String> {
    match auth {
        None => None,
        Some(Auth::Bearer(t)) => Some(format!("Bearer {t}")),
        Some(Auth::Basic { username, password }) => Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
        )),
        Some(_) => unreachable!("no other auth in these tests"),
    }
}

/// Starts a server with `options` and scrapes it once; panics if either fails.
fn serves_a_scrape(options: ServerOptions) {
    let path = options.route.path.clone();
    let auth = authorization(&options.route.auth);
    let server = handle()
        .spawn_server_with(options)
        .expect("validated options start a server");
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("Authorization", a)])
        .unwrap_or_default();
    let r = support::http(server.local_addr(), "GET", &path, &headers).expect("an answer");
    assert_eq!(r.status, 200, "GET {path}: {r:?}");
    assert!(r
        .text()
        .contains("# TYPE robustmq_log_events_total counter"));
    server.shutdown().unwrap();
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "/[a-z0-9:*{}?#.%~_ /-]{0,10}",
        1 => "[a-z/:{}]{0,4}",
        10 => "/(metrics|a/b|x.y|~u|_|-|[a-z0-9._~-]{1,8})/?",
        1 => any::<String>(),
    ]
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        12 => (100u64..5_000).prop_map(Duration::from_millis),
        1 => (0u64..200).prop_map(Duration::from_millis),
        1 => (3_590u64..3_610).prop_map(Duration::from_secs),
        1 => (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
    ]
}

fn count() -> impl Strategy<Value = usize> {
    prop_oneof![12 => 1usize..8, 1 => 0usize..1, 1 => 60_000usize..70_000, 1 => any::<usize>()]
}

fn auth() -> impl Strategy<Value = Option<Auth>> {
    prop_oneof![
        3 => Just(None),
        1 => "[ -~\n\u{e9}]{0,6}".prop_map(|t| Some(Auth::Bearer(t))),
        1 => ("[ -~\r\u{e9}]{0,6}", "[ -~\r\u{e9}]{0,6}")
            .prop_map(|(username, password)| Some(Auth::Basic { username, password })),
    ]
}

/// `value` as a TOML basic string: every control character (DEL and C1
/// included, which JSON leaves raw) escaped.
fn toml_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn options_built_in_code_are_rejected_or_serve(
        path in path(),
        header_read_timeout in duration(),
        write_timeout in duration(),
        max_concurrent_scrapes in count(),
        max_connections in count(),
        gzip in any::<bool>(),
        auth in auth(),
    ) {
        let mut route = RouteOptions::at(&path)
            .max_concurrent_scrapes(max_concurrent_scrapes)
            .gzip(gzip);
        route.auth = auth;
        let options = ServerOptions::new("127.0.0.1:0".parse().unwrap())
            .route(route.clone())
            .header_read_timeout(header_read_timeout)
            .write_timeout(write_timeout)
            .max_connections(max_connections);
        match options.validate() {
            Ok(()) => {
                prop_assert!(handle().router_with::<()>(&route).is_ok());
                serves_a_scrape(options);
            }
            Err(e) => {
                let Error::InvalidConfigValue { key, .. } = &e else {
                    panic!("unexpected error kind: {e:?}");
                };
                prop_assert!(
                    ["path", "auth", "max_concurrent_scrapes", "max_connections",
                     "header_read_timeout_secs", "write_timeout_secs"].contains(&key.as_str()),
                    "{e}"
                );
                // The same error wherever the options are used.
                prop_assert_eq!(
                    handle().spawn_server_with(options).unwrap_err().to_string(),
                    e.to_string()
                );
                if key == "path" || key == "auth" || key == "max_concurrent_scrapes" {
                    prop_assert_eq!(
                        handle().router_with::<()>(&route).unwrap_err().to_string(),
                        e.to_string()
                    );
                }
            }
        }
    }

    #[test]
    fn server_keys_from_toml_are_rejected_naming_the_key_or_serve(
        path in path(),
        header_read_timeout_secs in prop_oneof![12 => 1i64..4, 1 => 0i64..1, 1 => 3599i64..3602, 1 => any::<i64>()],
        write_timeout_secs in prop_oneof![12 => 1i64..4, 1 => 0i64..1, 1 => any::<i64>()],
        max_concurrent_scrapes in prop_oneof![12 => 1i64..4, 1 => 0i64..1, 1 => any::<i64>()],
        max_connections in prop_oneof![12 => 1i64..4, 1 => 0i64..1, 1 => 65_535i64..65_538, 1 => any::<i64>()],
    ) {
        let toml = format!(
            "[log_metrics]\nlisten = \"127.0.0.1:0\"\npath = {}\nheader_read_timeout_secs = {header_read_timeout_secs}\nwrite_timeout_secs = {write_timeout_secs}\nmax_concurrent_scrapes = {max_concurrent_scrapes}\nmax_connections = {max_connections}\n",
            toml_string(&path)
        );
        match LogMetricsConfig::from_toml(&toml) {
            Ok(cfg) => {
                let options = cfg.server_options().expect("accepted config maps to options");
                LogMetrics::from_config(&cfg).unwrap().build().unwrap();
                serves_a_scrape(options);
            }
            Err(Error::ConfigParse { .. }) => {
                // A negative number for an unsigned key: the parser names it.
                prop_assert!(
                    header_read_timeout_secs < 0 || write_timeout_secs < 0
                        || max_concurrent_scrapes < 0 || max_connections < 0
                );
            }
            Err(e) => prop_assert!(e.to_string().contains("`log_metrics."), "{e}"),
        }
    }
}

#[test]
fn router_syntax_and_huge_timeouts_in_config_are_named() {
    for (toml, key) in [
        ("path = \"/:x\"", "log_metrics.path"),
        ("path = \"/*x\"", "log_metrics.path"),
        ("path = \"/{\"", "log_metrics.path"),
        ("path = \"/}\"", "log_metrics.path"),
        ("path = \"/{}\"", "log_metrics.path"),
        ("path = \"/{*rest}\"", "log_metrics.path"),
        ("path = \"/metrics?x=1\"", "log_metrics.path"),
        ("path = \"/x\\u007Fy\"", "log_metrics.path"),
        (
            "header_read_timeout_secs = 9223372036854775807",
            "log_metrics.header_read_timeout_secs",
        ),
        (
            "header_read_timeout_secs = 3601",
            "log_metrics.header_read_timeout_secs",
        ),
        ("write_timeout_secs = 0", "log_metrics.write_timeout_secs"),
        ("max_connections = 0", "log_metrics.max_connections"),
        (
            "max_concurrent_scrapes = 0",
            "log_metrics.max_concurrent_scrapes",
        ),
    ] {
        let e = LogMetricsConfig::from_toml(&format!("[log_metrics]\n{toml}\n")).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidConfigValue { key: k, .. } if k == key),
            "{toml}: {e:?}"
        );
        assert!(e.to_string().contains(&format!("`{key}`")), "{e}");
    }
    let cfg = LogMetricsConfig::from_toml(
        "[log_metrics]\nheader_read_timeout_secs = 3600\nwrite_timeout_secs = 1\nmax_connections = 2\n",
    )
    .unwrap();
    let o = cfg.server_options().unwrap();
    assert_eq!(o.header_read_timeout, Duration::from_secs(3600));
    assert_eq!(o.write_timeout, Duration::from_secs(1));
    assert_eq!(o.max_connections, 2);
    assert_eq!(o.listen, robustmq_log_metrics::server::DEFAULT_LISTEN);
}
