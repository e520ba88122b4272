//! Shared test helpers: a raw HTTP/1.1 client, the reference exposition
//! parser (Python prometheus-client), a Prometheus child process, polling.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const INSTALL_HINT: &str = "run `bash .ci/install-tools` (as root) to install prometheus, promtool and python3-prometheus-client";

/// Polls `f` until it returns `Some`, or panics with `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("utf-8 body")
    }
}

/// One HTTP/1.1 request over a fresh connection (`Connection: close`).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<Response> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_response(&raw, method == "HEAD")
}

fn parse_response(raw: &[u8], head: bool) -> std::io::Result<Response> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no header end"))?;
    let head_text = std::str::from_utf8(&raw[..end]).map_err(|_| bad("header utf-8"))?;
    let mut lines = head_text.split("\r\n");
    let status_line = lines.next().ok_or_else(|| bad("no status"))?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad("bad status"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if head {
        Vec::new()
    } else if chunked {
        let mut out = Vec::new();
        let mut p = rest;
        loop {
            let nl = p
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or_else(|| bad("chunk size"))?;
            let size_text = std::str::from_utf8(&p[..nl]).map_err(|_| bad("chunk size"))?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad("chunk size"))?;
            p = &p[nl + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(&p[..size]);
            p = &p[size + 2..];
        }
        out
    } else {
        rest.to_vec()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

pub fn get(addr: SocketAddr, path: &str) -> Response {
    http(addr, "GET", path, &[]).unwrap_or_else(|e| panic!("GET http://{addr}{path}: {e}"))
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Sample {
    pub family: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub help: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

fn run_python(script: &str, args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new("python3")
        .arg(support_dir().join(script))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}); {INSTALL_HINT}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("python3 output");
    writer.join().expect("writer");
    out
}

/// Parses with the reference parser; panics with the parser's message on invalid text.
pub fn parse(text: &str) -> Vec<Sample> {
    try_parse(text, "prometheus").unwrap_or_else(|e| panic!("{e}\n--- text ---\n{text}"))
}

/// Parses `text` as `format` ("prometheus" or "openmetrics").
pub fn try_parse(text: &str, format: &str) -> Result<Vec<Sample>, String> {
    let out = run_python("parse_exposition.py", &[format], text.as_bytes());
    match out.status.code() {
        Some(0) => Ok(serde_json::from_slice(&out.stdout).expect("parser json")),
        Some(3) => panic!("{}", String::from_utf8_lossy(&out.stderr)),
        _ => Err(format!(
            "reference parser rejected the exposition: {}",
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

/// `robustmq_log_events_total` samples as (level, service, event) -> value.
pub fn event_counts(samples: &[Sample]) -> BTreeMap<(String, String, String), u64> {
    samples
        .iter()
        .filter(|s| s.name == "robustmq_log_events_total")
        .map(|s| {
            (
                (
                    s.labels["level"].clone(),
                    s.labels["service"].clone(),
                    s.labels["event"].clone(),
                ),
                s.value as u64,
            )
        })
        .collect()
}

pub fn support_dir() -> PathBuf {
    repo_dir().join("tests").join("support")
}

/// The repository's root: the parent of dev/, the package that declares the tests.
pub fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("dev/ has a parent directory")
        .to_path_buf()
}

/// Path of a required tool, or a panic that says how to install it.
pub fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("`{name}` is not installed; {INSTALL_HINT}");
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A child process killed on drop (also when the test panics).
pub struct ChildGuard {
    pub child: Child,
    pub name: String,
}

impl ChildGuard {
    pub fn spawn(name: &str, cmd: &mut Command) -> Self {
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self {
            child,
            name: name.to_owned(),
        }
    }

    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited early with {status}", self.name);
        }
    }

    /// Polls `GET path` on `addr` until it answers 200 (panicking if the
    /// child exits first, or after `timeout`).
    pub fn wait_serving(&mut self, addr: SocketAddr, path: &str, timeout: Duration) {
        let what = format!("{} {path}", self.name);
        wait_for(&what, timeout, || {
            self.assert_running();
            http(addr, "GET", path, &[])
                .ok()
                .filter(|r| r.status == 200)
        });
    }

    /// SIGTERM, then SIGKILL if it does not exit within 10 s.
    pub fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A built example binary (cargo test builds examples before running tests).
pub fn example_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join("examples").join(name);
    assert!(
        bin.is_file(),
        "example binary {} missing: run `cargo build --examples` (cargo test builds it)",
        bin.display()
    );
    bin
}

/// Starts `examples/broker` on a free loopback port with extra args.
pub fn start_broker(args: &[&str]) -> (ChildGuard, SocketAddr) {
    start_broker_with_env(args, &[])
}

/// [`start_broker`] with environment variables, e.g. `RUST_LOG` for the
/// level of the lines it writes (default error).
pub fn start_broker_with_env(args: &[&str], env: &[(&str, &str)]) -> (ChildGuard, SocketAddr) {
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut cmd = Command::new(example_bin("broker"));
    cmd.args(["--listen", &addr.to_string()])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut guard = ChildGuard::spawn("demo broker", &mut cmd);
    guard.wait_serving(addr, "/metrics", Duration::from_secs(30));
    (guard, addr)
}

/// Percent-encodes a query parameter value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A real Prometheus server on a free loopback port with a temporary data dir.
pub struct Prometheus {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    guard: ChildGuard,
}

impl Prometheus {
    /// Starts Prometheus with `config` (YAML); `rule_files` are copied next to it
    /// and may be referenced by file name.
    pub fn start(config: &str, extra_args: &[&str]) -> Self {
        Self::start_mode(config, extra_args, false)
    }

    /// A Prometheus in agent mode (scrape and remote-write only).
    pub fn start_agent(config: &str) -> Self {
        Self::start_mode(config, &["--enable-feature=agent"], true)
    }

    fn start_mode(config: &str, extra_args: &[&str], agent: bool) -> Self {
        let bin = tool("prometheus");
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = dir.path().join("prometheus.yml");
        std::fs::write(&cfg, config).expect("write config");
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log");
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", cfg.display()))
            .arg(if agent {
                format!("--storage.agent.path={}", dir.path().join("wal").display())
            } else {
                format!("--storage.tsdb.path={}", dir.path().join("data").display())
            })
            .arg(format!("--web.listen-address={addr}"))
            .args(extra_args)
            .stdout(Stdio::null())
            .stderr(log);
        let mut guard = ChildGuard::spawn("prometheus", &mut cmd);
        let p = wait_for("prometheus /-/ready", Duration::from_secs(30), || {
            if let Ok(Some(status)) = guard.child.try_wait() {
                let log =
                    std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
                panic!("prometheus exited early with {status}:\n{log}");
            }
            http(addr, "GET", "/-/ready", &[])
                .ok()
                .filter(|r| r.status == 200)
        });
        drop(p);
        Prometheus { addr, dir, guard }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// Runs an instant query; returns the JSON `data` or the error text.
    pub fn query(&self, q: &str) -> Result<serde_json::Value, String> {
        let path = format!("/api/v1/query?query={}", urlencode(q));
        let r = http(self.addr, "GET", &path, &[]).map_err(|e| e.to_string())?;
        let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| e.to_string())?;
        if v["status"] != "success" {
            return Err(format!("query {q:?} failed: {}", v));
        }
        Ok(v["data"].clone())
    }

    /// The vector result of an instant query as (labels, value) pairs.
    pub fn vector(&self, q: &str) -> Vec<(BTreeMap<String, String>, f64)> {
        let data = self.query(q).unwrap_or_else(|e| panic!("{e}"));
        data["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|r| {
                let labels = serde_json::from_value(r["metric"].clone()).unwrap_or_default();
                let v = r["value"][1]
                    .as_str()
                    .unwrap_or("NaN")
                    .parse()
                    .unwrap_or(f64::NAN);
                (labels, v)
            })
            .collect()
    }

    pub fn get(&self, path: &str) -> serde_json::Value {
        let r = get(self.addr, path);
        serde_json::from_slice(&r.body).expect("prometheus json")
    }

    pub fn stop(mut self) {
        self.guard.stop();
    }
}

/// Renders twice: the first render shows new series at 0.
pub fn settled(handle: &robustmq_log_metrics::LogMetricsHandle) -> String {
    let _ = handle.render();
    handle.render()
}

/// Event counts above 0 after `settled`. Callsites without an event field are
/// pre-registered at 0 whenever a dispatcher registers them, and other tests
/// in the same binary register theirs too, so zeros are expected noise.
pub fn nonzero_counts(
    handle: &robustmq_log_metrics::LogMetricsHandle,
) -> BTreeMap<(String, String, String), u64> {
    let mut c = event_counts(&parse(&settled(handle)));
    c.retain(|_, v| *v > 0);
    c
}

/// Runs cargo on a crate of its own under `tests/` (`dir`: its folder name)
/// with its own target dir, whatever its exit status.
pub fn cargo_in_output(dir: &str, args: &[&str]) -> std::process::Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir);
    Command::new(cargo)
        .args(args)
        .arg("--manifest-path")
        .arg(repo_dir().join("tests").join(dir).join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target)
        // A fixture's build needs no debuginfo: a cold build of
        // robustmq-shape took 46 s of CPU without it, 53 s with it.
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo")
}

/// Like [`cargo_in_output`]; returns stdout and panics with stderr on failure.
pub fn cargo_in(dir: &str, args: &[&str]) -> String {
    let out = cargo_in_output(dir, args);
    assert!(
        out.status.success(),
        "cargo {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Serves `router` with `axum::serve` on 127.0.0.1:0, on a runtime of its
/// own; dropping the runtime (also on a failed assertion) stops the server.
pub fn serve_router(router: axum::Router) -> (tokio::runtime::Runtime, SocketAddr) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    rt.spawn(async move { axum::serve(listener, router).await });
    (rt, addr)
}

/// The line `cargo tree --invert PACKAGE` starts with for a crate of its own
/// under `tests/` (`dir`), e.g. `prometheus-client v0.23.1`: the version
/// its lock resolved.
pub fn resolved(dir: &str, package: &str) -> String {
    cargo_in(
        dir,
        &[
            "tree", "--invert", package, "--prefix", "none", "--edges", "normal",
        ],
    )
}

/// The value of one sample line of a text exposition, found by its series as
/// rendered (`name{label="value",...}`, labels in exposition order): the
/// check looks at a sample, never at a name that the HELP line always prints.
pub fn sample(text: &str, series: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().expect("an integer sample value"))
}

/// The mixin's rule and alert groups as YAML, rendered by jsonnet with
/// `config` merged into `_config` (jsonnet object fields, e.g.
/// `rateWindow: '10s'`), as the live tests load them.
pub fn mixin_rules_with(config: &str) -> String {
    let code = format!(
        "local m = (import 'mixin.libsonnet') + {{ _config+:: {{ {config} }} }};\n\
         (import 'yaml.libsonnet').groups(m.prometheusRules.groups + m.prometheusAlerts.groups)"
    );
    jsonnet(&["-S", "-e", &code])
}

/// go-jsonnet, as the render scripts run it (scripts/lib/jsonnet.sh says why
/// not Debian's C++ jsonnet): `JSONNET`, else /opt/go-jsonnet/bin/jsonnet.
pub fn jsonnet_bin() -> PathBuf {
    let path = std::env::var_os("JSONNET")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/go-jsonnet/bin/jsonnet"));
    assert!(
        path.is_file(),
        "go-jsonnet is missing at {}; {INSTALL_HINT} (or set JSONNET)",
        path.display()
    );
    path
}

/// `jsonnet -J mixin ARGS` in the repository: its stdout, or a panic with its stderr.
pub fn jsonnet(args: &[&str]) -> String {
    let out = Command::new(jsonnet_bin())
        .args(["-J", "mixin"])
        .args(args)
        .current_dir(repo_dir())
        .output()
        .expect("run jsonnet");
    assert!(
        out.status.success(),
        "jsonnet {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Asserts that `promtool check metrics` finds nothing at all in `text`.
pub fn assert_promtool_clean(text: &str) {
    let mut child = Command::new(tool("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("promtool: {e}; {INSTALL_HINT}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {:?}\nstdout: {}\nstderr: {}\n--- exposition ---\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two OpenMetrics encodings of a registry holding only the handle's
/// collector: the first scrape (new series at 0) and the second.
#[cfg(feature = "prometheus-client")]
pub fn collector_encodings(handle: &robustmq_log_metrics::LogMetricsHandle) -> (String, String) {
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(handle.collector()));
    let mut first = String::new();
    prometheus_client::encoding::text::encode(&mut first, &registry).unwrap();
    let mut second = String::new();
    prometheus_client::encoding::text::encode(&mut second, &registry).unwrap();
    (first, second)
}
