//! Demo broker and reference integration.
//!
//! Initialises tracing the way a RobustMQ broker does (a fmt layer plus the
//! log-metrics layer, one process running the mqtt-broker, meta-service
//! and storage-engine roles under their own targets), logs realistic
//! structured events and some legacy unstructured lines, and serves /metrics.
//! Log lines leave through `tracing_appender::non_blocking`, as RobustMQ's
//! appenders do, with the writer inside it counted as appender `console`.
//!
//! ```text
//! cargo run --example broker -- [--listen ADDR] [--events-per-sec N]
//!     [--error-rate F] [--duration-secs N] [--node-id ID] [--log-format text|json]
//!     [--log-buffer-lines N] [--log-sink stderr|slow]
//! ```
//!
//! `--log-sink slow` sleeps 1 ms before each line it writes to stderr, so a
//! fast enough event rate overflows the non-blocking buffer and
//! `robustmq_log_appender_dropped_lines_total` counts the lost lines.

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use robustmq_log_metrics::LogMetrics;
use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::prelude::*;

struct Args {
    listen: SocketAddr,
    events_per_sec: f64,
    error_rate: f64,
    duration: Option<Duration>,
    node_id: String,
    json: bool,
    log_buffer_lines: usize,
    slow_sink: bool,
}

const USAGE: &str = "usage: broker [--listen ADDR] [--events-per-sec N] [--error-rate F] [--duration-secs N] [--node-id ID] [--log-format text|json] [--log-buffer-lines N] [--log-sink stderr|slow]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: robustmq_log_metrics::server::DEFAULT_LISTEN,
        events_per_sec: 100.0,
        error_rate: 0.002,
        duration: None,
        node_id: "1".to_owned(),
        json: false,
        log_buffer_lines: tracing_appender::non_blocking::DEFAULT_BUFFERED_LINES_LIMIT,
        slow_sink: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |what: &str| format!("{flag} {value:?}: expected {what}\n{USAGE}");
        match flag.as_str() {
            "--listen" => args.listen = value.parse().map_err(|_| bad("IP:PORT"))?,
            "--events-per-sec" => {
                args.events_per_sec = value
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite() && *v > 0.0)
                    .ok_or_else(|| bad("a positive number"))?
            }
            "--error-rate" => {
                args.error_rate = value
                    .parse()
                    .ok()
                    .filter(|v: &f64| (0.0..=1.0).contains(v))
                    .ok_or_else(|| bad("a fraction between 0 and 1"))?
            }
            "--duration-secs" => {
                args.duration = Some(Duration::from_secs(
                    value.parse().map_err(|_| bad("whole seconds"))?,
                ))
            }
            "--node-id" => args.node_id = value,
            "--log-format" => {
                args.json = match value.as_str() {
                    "json" => true,
                    "text" => false,
                    _ => return Err(bad("text or json")),
                }
            }
            "--log-buffer-lines" => {
                args.log_buffer_lines = value
                    .parse()
                    .ok()
                    .filter(|v: &usize| *v > 0)
                    .ok_or_else(|| bad("a positive number of lines"))?
            }
            "--log-sink" => {
                args.slow_sink = match value.as_str() {
                    "slow" => true,
                    "stderr" => false,
                    _ => return Err(bad("stderr or slow")),
                }
            }
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    Ok(args)
}

/// The `--log-sink slow` sink: stderr, 1 ms late per line.
struct SlowStderr;

impl Write for SlowStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::thread::sleep(Duration::from_millis(1));
        std::io::stderr().write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Small deterministic PRNG (xorshift64*), so the demo needs no extra crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

mod mqtt_broker {
    pub fn normal(r: u64, client: u64) {
        let client_id = format!("client-{client}");
        match r % 10 {
            0 => {
                tracing::info!(event = "connection_accepted", protocol = "tcp", remote_addr = %format!("10.0.0.{}:5{:04}", client % 250, client % 10000), connection_id = client, "TCP connection accepted")
            }
            1 => tracing::info!(
                event = "user_login",
                connection_id = client,
                result = "success",
                "User login successful"
            ),
            2 => tracing::warn!(
                event = "auth_failed",
                connection_id = client,
                reason = "bad_password",
                "Authentication failed"
            ),
            3 => {
                tracing::info!(event = "topic_subscribed", client_id = %client_id, topic_name = "sensors/+/temp", "Subscribed")
            }
            4 => tracing::info!(
                event = "connection_closed",
                connection_id = client,
                "Connection closed"
            ),
            5 => tracing::debug!(event = "message_delivered", client_id = %client_id, "Delivered"),
            // Legacy lines from before the log standard: counted as event="unstructured".
            6 => tracing::info!("accept tcp connection:{:?}", client),
            7 => tracing::info!("connect [{}] login success", client),
            _ => {
                tracing::info!(event = "message_published", client_id = %client_id, topic_name = "sensors/1/temp", qos = 1, "Message published")
            }
        }
    }
    pub fn error(r: u64, client: u64) {
        match r % 3 {
            0 => tracing::error!(
                event = "connection_failed",
                protocol = "tcp",
                error_type = "accept_failed",
                error = "connection reset by peer",
                "Failed to accept TCP connection"
            ),
            1 => tracing::error!(
                event = "network_error",
                connection_id = client,
                error = "broken pipe",
                "Network error"
            ),
            _ => tracing::error!(
                "TCP accept failed to create connection with error message :{:?}",
                "os error 24"
            ),
        }
    }
}

mod meta_service {
    pub fn normal(r: u64) {
        match r % 4 {
            0 => tracing::info!(
                event = "node_joined",
                node_id = r % 5,
                "Node joined the cluster"
            ),
            1 => tracing::info!(event = "leader_elected", term = r % 100, "Leader elected"),
            2 => tracing::warn!(
                event = "node_unreachable",
                node_id = r % 5,
                "Node heartbeat missed"
            ),
            _ => tracing::info!(
                "Received request from meta service to delete expired Session. Cluster name :{}",
                "robustmq"
            ),
        }
    }
    pub fn error(_r: u64) {
        tracing::error!(
            event = "raft_append_failed",
            error = "term mismatch",
            "Raft append failed"
        );
    }
}

mod storage_engine {
    pub fn normal(r: u64) {
        match r % 3 {
            0 => tracing::info!(
                event = "segment_sealed",
                segment = r % 1000,
                "Segment sealed"
            ),
            1 => tracing::debug!(event = "shard_created", "Shard created"),
            _ => tracing::info!(event = "message_persisted", "Message persisted"),
        }
    }
    pub fn error(_r: u64) {
        tracing::error!(
            event = "storage_error",
            error_type = "rocksdb_write",
            error = "No space left on device",
            "Storage write failed"
        );
    }
}

fn emit(rng: &mut Rng, is_error: bool) {
    let r = rng.next();
    let client = rng.below(5000);
    match rng.below(10) {
        // The mqtt-broker role logs most.
        0..=5 if is_error => mqtt_broker::error(r, client),
        0..=5 => mqtt_broker::normal(r, client),
        6 | 7 if is_error => meta_service::error(r),
        6 | 7 => meta_service::normal(r),
        _ if is_error => storage_engine::error(r),
        _ => storage_engine::normal(r),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };

    // The one addition to a broker's subscriber init: the layer, with its
    // own per-layer filter, beside the existing fmt appender.
    // In RobustMQ itself `.robustmq_services()` maps its crates' targets
    // (`mqtt_broker::...`); this example's modules live under `broker::`.
    let (metrics_layer, handle) = LogMetrics::builder()
        .default_service("robustmq")
        .service_for_target("broker::mqtt_broker", "mqtt-broker")
        .service_for_target("broker::meta_service", "meta-service")
        .service_for_target("broker::storage_engine", "storage-engine")
        .global_label("node_id", &args.node_id)
        .build()
        .unwrap_or_else(|e| {
            eprintln!("log metrics: {e}");
            std::process::exit(2);
        });
    // The appender as RobustMQ builds it, with the sink counted inside
    // non_blocking: lines that reached the sink, and the lines the full
    // buffer dropped, read from its ErrorCounter at each scrape.
    let console = handle.appender("console").unwrap_or_else(|e| {
        eprintln!("log metrics: {e}");
        std::process::exit(2);
    });
    let sink: Box<dyn Write + Send> = if args.slow_sink {
        Box::new(SlowStderr)
    } else {
        Box::new(std::io::stderr())
    };
    let (log_writer, _log_guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(args.log_buffer_lines)
        .finish(console.writer(sink));
    let dropped = log_writer.error_counter();
    console.count_dropped(move || dropped.dropped_lines() as u64);
    let fmt_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("error"));
    // Log lines go to stderr (RUST_LOG, default error); --log-format json writes
    // what the Fluent Bit parser in deploy/ reads.
    let fmt_layer = if args.json {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(log_writer)
            .with_filter(fmt_filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(log_writer)
            .with_filter(fmt_filter)
            .boxed()
    };
    let layers: Vec<Box<dyn tracing_subscriber::Layer<_> + Send + Sync>> = vec![
        fmt_layer,
        metrics_layer.with_filter(LevelFilter::DEBUG).boxed(),
    ];
    tracing_subscriber::registry().with(layers).init();

    let server = match handle.spawn_server(args.listen) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    println!(
        "demo broker (node_id={}): {} events/s, error rate {}; scrape http://{}/metrics",
        args.node_id,
        args.events_per_sec,
        args.error_rate,
        server.local_addr()
    );

    let start = Instant::now();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ u64::from(std::process::id()));
    let mut sent: u64 = 0;
    let mut errors: u64 = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::signal::ctrl_c() => break,
        }
        let elapsed = start.elapsed();
        if args.duration.is_some_and(|d| elapsed >= d) {
            break;
        }
        let due = (elapsed.as_secs_f64() * args.events_per_sec) as u64;
        while sent < due {
            sent += 1;
            // An exact share of errors, spread evenly, keeps the demo's ratio predictable.
            let errors_due = (sent as f64 * args.error_rate) as u64;
            let is_error = errors < errors_due;
            if is_error {
                errors += 1;
            }
            emit(&mut rng, is_error);
        }
    }
    println!("sent {sent} events ({errors} errors)");
    let _ = server.shutdown();
}
