//! Instruction-count workload: `instructions LAYER EVENT N` builds one
//! dispatch, warms it up, logs EVENT N times and exits. Run under
//! `valgrind --tool=callgrind` at N and 3N events, the difference divided by
//! 2N is the instructions one event costs; `scripts/instructions.sh` does that
//! for every LAYER and EVENT and prints the table.
//!
//! LAYER: `registry`, `floor`, `ours`, `naive`, `json`, `fmt`, `fmt_limited`,
//! `fmt_suppressed` (see `Layer`); `scripts/line-limit-instructions.sh` runs the
//! last three, the cost of a `LineLimit` against the line it lets through.
//! EVENT: `structured`, `six_field` (see `Event`).
//!
//! A `[[bench]]` with `harness = false` rather than an example: it is a
//! measurement, it gets the bench profile (release with debug info, so
//! `callgrind_annotate` can name the lines that cost), and `cargo build
//! --examples` in the test script does not pay for it. Run without arguments
//! (as `cargo bench` does) it logs each pair a few times and checks that every
//! layer saw the events.
//!
//! It uses only the library's public API, so the script can build this same
//! file against an older revision of the library and compare both in one run.

use std::cell::Cell;
use std::hint::black_box;
use std::process::ExitCode;

use robustmq_log_metrics::limits::{MAX_LINE_BUDGET, MAX_LINE_INTERVAL};
use robustmq_log_metrics::{AppenderMetrics, LineLimit, LogMetrics, LogMetricsHandle};
use tracing::field::{Field, Visit};
use tracing::Dispatch;
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;

/// Events logged before the measured loop: enough that callsite registration,
/// per-thread cache fills and map growth all happen here, so they cancel out
/// of the N / 3N difference.
const WARM_UP: u64 = 1_000;

/// Added to the loop counter so every `connection_id` has the same number of
/// digits at N and at 3N events: the layers that format it then cost the same
/// per event in both runs.
const ID_BASE: u64 = 1_000_000;

// ------------------------------------------------------------------- events

/// The `structured` event of `benches/overhead.rs`.
#[inline(never)]
fn structured(i: u64) {
    tracing::info!(target: "broker::mqtt_broker::conn", event = "connection_accepted", protocol = "tcp",
        connection_id = i, remote_addr = "10.0.0.1:1883", node_id = 1u64, "TCP connection accepted");
}

/// A publish-path event with the fields RobustMQ logs there: five fields and
/// a message.
#[inline(never)]
fn six_field(_i: u64) {
    tracing::info!(target: "broker::mqtt_broker::publish", event = "message_published", protocol = "mqtt5",
        client_id = "sensor-gateway-0042", topic_name = "factory/line1/temperature", qos = 1u8,
        "Message published");
}

#[derive(Clone, Copy, Debug)]
enum Event {
    Structured,
    SixField,
}

impl Event {
    const ALL: [Event; 2] = [Event::Structured, Event::SixField];

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == s)
    }

    fn name(self) -> &'static str {
        match self {
            Event::Structured => "structured",
            Event::SixField => "six_field",
        }
    }

    fn log_fn(self) -> fn(u64) {
        match self {
            Event::Structured => structured,
            Event::SixField => six_field,
        }
    }
}

// ------------------------------------------------------------------ layers

/// The least any counter that reads a field value can do: visit every field
/// (two dynamic calls each) with a visitor that does nothing, then one
/// thread-local increment.
struct FloorLayer;

thread_local! {
    static FLOOR_COUNT: Cell<u64> = const { Cell::new(0) };
}

struct NoopVisit;

impl Visit for NoopVisit {
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for FloorLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        event.record(&mut NoopVisit);
        FLOOR_COUNT.with(|c| c.set(c.get() + 1));
    }
}

/// The naive layer of `benches/overhead.rs` (`benches/baselines/naive.rs`).
#[path = "baselines/naive.rs"]
mod naive;
use naive::NaiveLayer;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Layer {
    Registry,
    Floor,
    Ours,
    Naive,
    Json,
    /// tracing-subscriber's text fmt layer writing each line (no timestamp,
    /// whose digits would change the count) to `io::sink` through an
    /// appender's counting writer: the line a `LineLimit` lets through.
    Fmt,
    /// `Fmt` behind a `LineLimit` whose budget (a million lines) never runs
    /// out in a run.
    FmtLimited,
    /// `Fmt` behind a `LineLimit` that lets one line through, then
    /// suppresses every other (the cost of a flood's suppressed line).
    FmtSuppressed,
}

/// What a run needs to check afterwards that its layer saw every event.
enum Witness {
    None,
    Floor,
    Ours(LogMetricsHandle),
    Naive(metrics_exporter_prometheus::PrometheusHandle),
    /// The appender's counters, and the lines and suppressed lines expected
    /// of `n` events.
    Lines(AppenderMetrics, LinesOf),
}

/// The lines written and suppressed of so many events.
type LinesOf = fn(u64) -> (u64, u64);

impl Layer {
    const ALL: [Layer; 8] = [
        Layer::Registry,
        Layer::Floor,
        Layer::Ours,
        Layer::Naive,
        Layer::Json,
        Layer::Fmt,
        Layer::FmtLimited,
        Layer::FmtSuppressed,
    ];

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.name() == s)
    }

    fn name(self) -> &'static str {
        match self {
            Layer::Registry => "registry",
            Layer::Floor => "floor",
            Layer::Ours => "ours",
            Layer::Naive => "naive",
            Layer::Json => "json",
            Layer::Fmt => "fmt",
            Layer::FmtLimited => "fmt_limited",
            Layer::FmtSuppressed => "fmt_suppressed",
        }
    }

    fn dispatch(self) -> (Dispatch, Witness) {
        let registry = tracing_subscriber::registry();
        match self {
            Layer::Registry => (Dispatch::new(registry), Witness::None),
            Layer::Floor => (Dispatch::new(registry.with(FloorLayer)), Witness::Floor),
            Layer::Ours => {
                let (layer, handle) = LogMetrics::builder()
                    .service_for_target("broker::mqtt_broker", "mqtt-broker")
                    .service_for_target("broker::journal_server", "journal-server")
                    .build()
                    .expect("build the layer");
                (Dispatch::new(registry.with(layer)), Witness::Ours(handle))
            }
            Layer::Naive => {
                let recorder =
                    metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
                let handle = recorder.handle();
                metrics::set_global_recorder(recorder).expect("install the metrics recorder");
                (
                    Dispatch::new(registry.with(NaiveLayer)),
                    Witness::Naive(handle),
                )
            }
            Layer::Json => (
                Dispatch::new(
                    registry.with(
                        tracing_subscriber::fmt::layer()
                            .json()
                            .with_writer(std::io::sink),
                    ),
                ),
                Witness::None,
            ),
            Layer::Fmt | Layer::FmtLimited | Layer::FmtSuppressed => {
                let (_, handle) = LogMetrics::builder().build().expect("build the handle");
                let console = handle.appender("console").expect("register the appender");
                let fmt = tracing_subscriber::fmt::layer()
                    .without_time()
                    .with_ansi(false)
                    .with_writer(console.make_writer(std::io::sink));
                let limit = |burst, refill| {
                    LineLimit::builder()
                        .burst(burst)
                        .refill(refill)
                        // An hour: `fmt_suppressed` regains no line during a run.
                        .interval(MAX_LINE_INTERVAL)
                        .appender(&console)
                        .build()
                        .expect("build the line limit")
                };
                let (dispatch, expected): (Dispatch, LinesOf) = match self {
                    Layer::Fmt => (Dispatch::new(registry.with(fmt)), |n| (n, 0)),
                    Layer::FmtLimited => (
                        Dispatch::new(
                            registry.with(fmt.with_filter(limit(MAX_LINE_BUDGET, MAX_LINE_BUDGET))),
                        ),
                        |n| (n, 0),
                    ),
                    _ => (
                        Dispatch::new(registry.with(fmt.with_filter(limit(1, 1)))),
                        |n| (1, n - 1),
                    ),
                };
                (dispatch, Witness::Lines(console, expected))
            }
        }
    }
}

/// The value of the `robustmq_log_events_total` sample whose labels include
/// `event="NAME"`, summed over the matching lines of a text exposition.
fn count_in(text: &str, event: &str) -> u64 {
    let label = format!("event=\"{event}\"");
    text.lines()
        .filter(|l| l.starts_with("robustmq_log_events_total{") && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Checks that the layer counted `expected` events named `event`; the
/// instruction counts of a layer that saw nothing would be meaningless.
fn check(witness: &Witness, event: &str, expected: u64) -> Result<(), String> {
    let got = match witness {
        Witness::None => return Ok(()),
        Witness::Floor => FLOOR_COUNT.with(Cell::get),
        // A new series shows 0 on its first scrape (the first-sample policy).
        Witness::Ours(h) => {
            let _ = h.render();
            count_in(&h.render(), event)
        }
        Witness::Naive(h) => count_in(&h.render(), event),
        Witness::Lines(appender, lines_of) => {
            let got = (appender.lines(), appender.suppressed());
            let want = lines_of(expected);
            return if got == want {
                Ok(())
            } else {
                Err(format!(
                    "the appender wrote and suppressed {got:?} lines, expected {want:?}"
                ))
            };
        }
    };
    if got == expected {
        Ok(())
    } else {
        Err(format!(
            "the layer counted {got} events, expected {expected}"
        ))
    }
}

/// The measured part: the only code whose cost grows with `n`.
#[inline(never)]
fn log_n(log: fn(u64), n: u64) {
    for i in 0..n {
        log(black_box(ID_BASE + i));
    }
}

fn run(layer: Layer, event: Event, n: u64) -> Result<(), String> {
    let (dispatch, witness) = layer.dispatch();
    // The global default, as a broker installs it: no scoped-dispatch lookup per event.
    tracing::dispatcher::set_global_default(dispatch).map_err(|e| e.to_string())?;
    let log = event.log_fn();
    log_n(log, WARM_UP);
    log_n(log, n);
    let name = match event {
        Event::Structured => "connection_accepted",
        Event::SixField => "message_published",
    };
    check(&witness, name, WARM_UP + n)
}

const USAGE: &str = "usage: instructions LAYER EVENT N
  LAYER: registry | floor | ours | naive | json | fmt | fmt_limited | fmt_suppressed
  EVENT: structured | six_field
  N: events to log after the warm-up
Run it under callgrind through scripts/instructions.sh.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [layer, event, n] => {
            let (Some(layer), Some(event), Ok(n)) =
                (Layer::parse(layer), Event::parse(event), n.parse::<u64>())
            else {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            };
            match run(layer, event, n) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("instructions {} {} {n}: {e}", layer.name(), event.name());
                    ExitCode::FAILURE
                }
            }
        }
        // `cargo bench` passes `--bench`; a global dispatcher can be set once
        // per process, so the smoke run starts one child per pair.
        [] | ["--bench"] => smoke(),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Runs every pair briefly, each in its own process, and reports failures.
fn smoke() -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("instructions: cannot find my own executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = 0;
    for layer in Layer::ALL {
        for event in Event::ALL {
            let status = std::process::Command::new(&exe)
                .args([layer.name(), event.name(), "100"])
                .status();
            if !matches!(status, Ok(s) if s.success()) {
                eprintln!("instructions {} {}: {status:?}", layer.name(), event.name());
                failed += 1;
            }
        }
    }
    eprintln!("{USAGE}");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
