//! The line limit (`LineLimit`): the budget and its refill on a manual clock,
//! the summary line as a real fmt layer writes it, `lines + suppressed +
//! dropped = events` per appender, threads sharing one call site's budget,
//! and its configuration's errors.

use std::io::{self, Write};
use std::process::Command;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use robustmq_log_metrics::{
    AppenderMetrics, Error, LineLimit, LineLimitConfig, LogMetrics, LogMetricsHandle, ManualClock,
    LINE_LIMIT_TARGET,
};
use tracing_subscriber::filter::{FilterExt, LevelFilter};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::{prelude::*, Layer};

/// Everything a fmt layer wrote, line by line.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// The metrics layer, and a text fmt layer at `level` and above writing into
/// `out` through the appender `name`'s counters, limited by `limit`.
fn fmt_layer<S>(
    appender: &AppenderMetrics,
    out: &Captured,
    level: LevelFilter,
    limit: LineLimit,
) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'l> tracing_subscriber::registry::LookupSpan<'l>,
{
    tracing_subscriber::fmt::layer()
        .without_time()
        .with_ansi(false)
        .with_writer(appender.make_writer(out.clone()))
        .with_filter(level.and(limit))
}

fn flood(n: u64) {
    for i in 0..n {
        tracing::warn!(event = "auth_failed", attempt = i, "bad password");
    }
}

#[test]
fn a_call_site_writes_its_burst_then_one_line_per_refill_interval() {
    let (metrics, handle) = LogMetrics::builder().build().unwrap();
    let console = handle.appender("console").unwrap();
    let clock = ManualClock::new();
    let limit = LineLimit::builder()
        .burst(5)
        .refill(2)
        .interval(Duration::from_secs(1))
        .appender(&console)
        .manual_clock(&clock)
        .build()
        .unwrap();
    let out = Captured::default();
    let subscriber = tracing_subscriber::registry().with(metrics).with(fmt_layer(
        &console,
        &out,
        LevelFilter::INFO,
        limit.clone(),
    ));
    tracing::subscriber::with_default(subscriber, || {
        flood(20);
        assert_eq!((console.lines(), console.suppressed()), (5, 15));
        // Another call site has a budget of its own, mid-flood.
        tracing::error!(event = "storage_error", "disk full");
        assert_eq!(console.lines(), 6);
        // Below the appender's level: not a line, takes no budget.
        for _ in 0..10 {
            tracing::debug!(event = "noise", "below the appender's level");
        }
        // Half a second regains one line (two per second).
        clock.advance(Duration::from_millis(499));
        flood(1);
        clock.advance(Duration::from_millis(1));
        flood(3);
        assert_eq!((console.lines(), console.suppressed()), (7, 18));
        // Quiet for long: the whole burst is back, and no more.
        clock.advance(Duration::from_secs(60));
        flood(7);
        assert_eq!((console.lines(), console.suppressed()), (12, 20));
    });
    assert_eq!(limit.suppressed(), 20);
    assert_eq!(handle.count("warn", "robustmq", "auth_failed"), Some(31));
    let written = out.lines();
    assert_eq!(written.len(), 12, "{written:#?}");
    assert_eq!(
        written.iter().filter(|l| l.contains("disk full")).count(),
        1
    );
    assert_eq!(events_at_or_above_info(&handle), 32);
}

#[test]
fn after_a_quiet_spell_a_call_site_writes_at_most_twice_its_burst() {
    let (_, handle) = LogMetrics::builder().build().unwrap();
    let console = handle.appender("console").unwrap();
    let clock = ManualClock::new();
    let limit = LineLimit::builder()
        .burst(4)
        .refill(1)
        .appender(&console)
        .manual_clock(&clock)
        .build()
        .unwrap();
    let out = Captured::default();
    let subscriber =
        tracing_subscriber::registry().with(fmt_layer(&console, &out, LevelFilter::INFO, limit));
    tracing::subscriber::with_default(subscriber, || {
        // At 10 s another call site, quiet since the clock was last read (at
        // 0 s), writes its burst charged from 0 s, and its fifth line reads
        // the clock: 5 lines.
        clock.advance(Duration::from_secs(10));
        for _ in 0..5 {
            tracing::info!(event = "other", "x");
        }
        assert_eq!(console.lines(), 5);
        // At 100 s this one is charged from 10 s: a burst, then the clock is
        // read and a second burst passes, and then nothing.
        clock.advance(Duration::from_secs(90));
        flood(20);
    });
    assert_eq!(console.lines(), 5 + 2 * 4);
    assert_eq!(console.suppressed(), 20 - 2 * 4);
}

/// Events at info and above, as the metrics layer counted them.
fn events_at_or_above_info(handle: &LogMetricsHandle) -> u64 {
    // The first render shows new series at 0: render again for the counts.
    let _ = handle.render();
    let text = handle.render();
    text.lines()
        .filter(|l| l.starts_with("robustmq_log_events_total{"))
        .filter(|l| !l.contains("level=\"debug\"") && !l.contains("level=\"trace\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

#[test]
fn threads_sharing_a_call_site_share_its_budget_exactly() {
    let (metrics, handle) = LogMetrics::builder().build().unwrap();
    let file = handle.appender("file").unwrap();
    let clock = ManualClock::new();
    let limit = LineLimit::builder()
        .burst(100)
        .refill(1)
        .appender(&file)
        .manual_clock(&clock)
        .build()
        .unwrap();
    let out = Captured::default();
    let dispatch =
        tracing::Dispatch::new(tracing_subscriber::registry().with(metrics).with(fmt_layer(
            &file,
            &out,
            LevelFilter::TRACE,
            limit.clone(),
        )));
    let (threads, each) = (4, 1_000u64);
    let start = Arc::new(Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (dispatch, start) = (dispatch.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                tracing::dispatcher::with_default(&dispatch, || flood(each));
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let events = threads as u64 * each;
    assert_eq!(
        handle.count("warn", "robustmq", "auth_failed"),
        Some(events)
    );
    // The clock never moved: the burst was written, and at most one line more
    // per other thread (a thread whose first event meets another adding the
    // call site's node lets it through rather than wait).
    let lines = file.lines();
    assert!((100..100 + threads as u64).contains(&lines), "{lines}");
    assert_eq!(file.suppressed(), events - lines);
    assert_eq!(limit.suppressed(), events - lines);
    assert_eq!(file.lines() + file.suppressed() + file.dropped(), events);
    assert_eq!(out.lines().len() as u64, lines);
}

/// Set in the child process that runs the summary test alone.
const CHILD: &str = "ROBUSTMQ_LOG_METRICS_LINE_LIMIT_CHILD";

/// The summary is an event logged inside a dispatch, which tracing-core
/// delivers only to a global default subscriber while no scoped one is
/// active in the process: so this test runs again alone in a child process
/// of this binary, which installs the global default.
#[test]
fn the_summary_line_goes_through_the_same_fmt_layer_and_every_event_is_accounted_for() {
    const NAME: &str =
        "line_limit::the_summary_line_goes_through_the_same_fmt_layer_and_every_event_is_accounted_for";
    if std::env::var_os(CHILD).is_none() {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
        // The child ran the test rather than filtering it out.
        assert!(stdout.contains("1 passed"), "{stdout}\n{stderr}");
        return;
    }
    let (metrics, handle) = LogMetrics::builder().build().unwrap();
    let (console, file) = (
        handle.appender("console").unwrap(),
        handle.appender("file").unwrap(),
    );
    let clock = ManualClock::new();
    let console_limit = LineLimit::builder()
        .burst(3)
        .refill(1)
        .appender(&console)
        .manual_clock(&clock)
        .build()
        .unwrap();
    let file_limit = LineLimit::builder()
        .burst(1_000)
        .appender(&file)
        .manual_clock(&clock)
        .build()
        .unwrap();
    let (console_out, file_out) = (Captured::default(), Captured::default());
    tracing_subscriber::registry()
        .with(metrics)
        .with(fmt_layer(
            &console,
            &console_out,
            LevelFilter::INFO,
            console_limit,
        ))
        .with(fmt_layer(&file, &file_out, LevelFilter::INFO, file_limit))
        .init();

    flood(10); // 3 lines, 7 suppressed
    tracing::error!(event = "storage_error", "disk full");
    // 2.5 lines regained: the next line lifts the limit, with a summary first.
    clock.advance(Duration::from_millis(2_500));
    flood(3); // 2 lines, then a new suppressed run
    assert_eq!((console.lines(), console.suppressed()), (7, 8));

    let lines = console_out.lines();
    let summary = lines
        .iter()
        .position(|l| l.contains(LINE_LIMIT_TARGET))
        .unwrap_or_else(|| panic!("no summary line in {lines:#?}"));
    let line = &lines[summary];
    // Before the line that lifted the limit, at the suppressed call site's level.
    assert_eq!(summary, 4, "{lines:#?}");
    assert!(lines[summary + 1].contains("bad password"), "{lines:#?}");
    assert!(line.trim_start().starts_with("WARN "), "{line}");
    for part in [
        "log line limit: 7 lines of core::line_limit:",
        "suppressed over 2.500 s",
        "event=\"log_lines_suppressed\"",
        "suppressed=7",
        "over_ms=2500",
    ] {
        assert!(line.contains(part), "{part:?} not in {line}");
    }
    assert!(line.contains("callsite=core::line_limit:"), "{line}");
    // The file appender did not write the console's summary; it counts it as
    // suppressed, since it is an event at its levels.
    assert!(!file_out
        .lines()
        .iter()
        .any(|l| l.contains(LINE_LIMIT_TARGET)));
    assert_eq!((file.lines(), file.suppressed()), (14, 1));

    // Every event at the appenders' levels is a line, a suppressed line or a
    // dropped one, in each appender.
    assert_eq!(
        handle.count("warn", "robustmq", "log_lines_suppressed"),
        Some(1)
    );
    let events = events_at_or_above_info(&handle);
    assert_eq!(events, 15);
    for appender in [&console, &file] {
        assert_eq!(
            appender.lines() + appender.suppressed() + appender.dropped(),
            events,
            "{appender:?}"
        );
    }
    // The exposition shows the suppressed family next to lines and drops.
    let text = handle.render();
    assert!(
        text.contains("robustmq_log_appender_suppressed_lines_total{appender=\"console\"} 8\n"),
        "{text}"
    );

    // A run (started at 2.5 s) is summarised once it is an interval old: a
    // line that passes 0.6 s into it logs no summary, one at 1.6 s does.
    clock.advance(Duration::from_millis(600));
    flood(1);
    assert_eq!(console_out.lines().len(), 8);
    clock.advance(Duration::from_secs(1));
    flood(1);
    let lines = console_out.lines();
    assert_eq!(lines.len(), 10, "{lines:#?}");
    let second = &lines[8];
    for part in ["suppressed=1", "over_ms=1600", "over 1.600 s"] {
        assert!(second.contains(part), "{part:?} not in {second}");
    }
    let events = events_at_or_above_info(&handle);
    assert_eq!(events, 18);
    assert_eq!((console.lines(), console.suppressed()), (10, 8));
    assert_eq!((file.lines(), file.suppressed()), (16, 2));
}

#[test]
fn the_settings_are_read_from_a_table_and_bad_values_name_their_key() {
    let config: LineLimitConfig =
        toml::from_str("burst = 50\nrefill = 5\ninterval_secs = 0.5").unwrap();
    assert_eq!(
        (config.burst, config.refill, config.interval),
        (50, 5, Duration::from_millis(500))
    );
    let built = LineLimit::from_config(&config).unwrap().build().unwrap();
    assert_eq!(built.config(), &config);
    assert_eq!(
        toml::from_str::<LineLimitConfig>("").unwrap(),
        LineLimitConfig::default()
    );

    let built = |toml: &str| -> Result<LineLimit, String> {
        let config: LineLimitConfig = toml::from_str(toml).map_err(|e| e.to_string())?;
        LineLimit::from_config(&config)
            .and_then(|b| b.build())
            .map_err(|e| e.to_string())
    };
    for (toml, culprit) in [
        (
            "burst = 0",
            "line_limit.burst = 0 is out of range; allowed: 1..=1000000",
        ),
        ("refill = 0", "line_limit.refill = 0 is out of range"),
        (
            "refill = 1000001",
            "line_limit.refill = 1000001 is out of range",
        ),
        ("burst = -1", "`line_limit.burst`"),
        ("burst = 4294967296", "`line_limit.burst`"),
        ("burst = \"ten\"", "`line_limit.burst`"),
        (
            "interval_secs = 0",
            "`line_limit.interval_secs`: 0 s is out of range",
        ),
        (
            "interval_secs = 3601",
            "`line_limit.interval_secs`: 3601 s is out of range",
        ),
        ("interval_secs = -1", "`line_limit.interval_secs`"),
        ("brust = 10", "unknown key `line_limit.brust`"),
    ] {
        let err = built(toml).expect_err(toml);
        assert!(err.contains(culprit), "{toml}: {err}");
    }
    // The builder is checked the same way.
    match LineLimit::builder().burst(0).build() {
        Err(Error::InvalidLimit { name, value: 0, .. }) => assert_eq!(name, "line_limit.burst"),
        other => panic!("{other:?}"),
    }
    assert!(LineLimit::builder()
        .interval(Duration::from_micros(999))
        .build()
        .is_err());
}

#[test]
fn flattened_into_an_appender_config_unknown_keys_are_still_named() {
    #[derive(serde::Deserialize)]
    struct Console {
        #[allow(dead_code)]
        level: String,
        #[serde(default)]
        line_limit: Option<LineLimitConfig>,
    }
    #[derive(serde::Deserialize)]
    struct Flat {
        #[allow(dead_code)]
        level: String,
        #[serde(flatten)]
        limit: LineLimitConfig,
    }
    let console: Console =
        toml::from_str("level = \"info\"\nline_limit = { burst = 9, refill = 3 }").unwrap();
    assert_eq!(console.line_limit.unwrap().burst, 9);
    let console: Console = toml::from_str("level = \"info\"").unwrap();
    assert!(console.line_limit.is_none());
    let flat: Flat = toml::from_str("level = \"info\"\nburst = 9\nrefil = 3").unwrap();
    assert_eq!(flat.limit.unknown_keys(), ["refil"]);
    let err = LineLimit::from_config(&flat.limit).unwrap_err().to_string();
    assert!(
        err.contains("`line_limit.refil`") && err.contains("refill"),
        "{err}"
    );
}
