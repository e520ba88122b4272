//! Instruction-count workload of the appender counter:
//! `appender_instructions CASE N` writes N lines after a warm-up and exits.
//! Run under `valgrind --tool=callgrind` at N and 3N lines, the difference
//! divided by 2N is the instructions one line costs;
//! `scripts/appender-instructions.sh` does that for every CASE and prints
//! the table, counted minus plain being the cost the counter adds per line.
//!
//! CASE:
//! - `write_plain`, `write_counted`: `write_all` of a 123-byte line to a
//!   writer that only takes it, bare or wrapped with `AppenderMetrics::writer`
//!   (the writer inside `tracing_appender::non_blocking`, on its worker);
//! - `fmt_plain`, `fmt_counted`: a `tracing_subscriber::fmt` layer formatting
//!   an info event with five fields into that writer, through a bare maker
//!   or `AppenderMetrics::make_writer` (the logging thread's path).
//!
//! Without arguments (as `cargo bench` runs it) it runs every case briefly
//! and checks the counts.

use std::hint::black_box;
use std::io::{self, Write};
use std::process::ExitCode;

use robustmq_log_metrics::{AppenderMetrics, LogMetrics};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

const WARM_UP: u64 = 1_000;
/// Added to the loop counter so that the formatted `connection_id` has the
/// same number of digits at N and at 3N lines.
const ID_BASE: u64 = 1_000_000;
const LINE: &[u8] = b"2026-12-01T20:00:00.000000Z  INFO broker::mqtt_broker::publish: Message published event=\"message_published\" qos=1 id=12345\n";

/// Takes every byte and does nothing with them: what is left is the cost of
/// handing a line over, bare or counted.
struct Null;

impl Write for Null {
    #[inline(never)]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(black_box(buf).len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn null() -> Null {
    Null
}

#[derive(Clone, Copy, PartialEq)]
enum Case {
    WritePlain,
    WriteCounted,
    FmtPlain,
    FmtCounted,
}

impl Case {
    const ALL: [Case; 4] = [
        Case::WritePlain,
        Case::WriteCounted,
        Case::FmtPlain,
        Case::FmtCounted,
    ];

    fn name(self) -> &'static str {
        match self {
            Case::WritePlain => "write_plain",
            Case::WriteCounted => "write_counted",
            Case::FmtPlain => "fmt_plain",
            Case::FmtCounted => "fmt_counted",
        }
    }
}

#[inline(never)]
fn event(i: u64) {
    tracing::info!(target: "broker::mqtt_broker::publish", event = "message_published",
        client_id = "sensor-gateway-0042", topic_name = "factory/line1/temperature", qos = 1u8,
        connection_id = i, "Message published");
}

#[inline(never)]
fn write_n(writer: &mut impl Write, n: u64) {
    for _ in 0..n {
        // A failed write would make the count meaningless: checked below.
        if writer.write_all(black_box(LINE)).is_err() {
            return;
        }
    }
}

#[inline(never)]
fn log_n(n: u64) {
    for i in 0..n {
        event(black_box(ID_BASE + i));
    }
}

fn run(case: Case, n: u64) -> Result<(), String> {
    let (_layer, handle) = LogMetrics::builder().build().map_err(|e| e.to_string())?;
    let appender: AppenderMetrics = handle.appender("bench").map_err(|e| e.to_string())?;
    match case {
        Case::WritePlain => {
            let mut w = Null;
            write_n(&mut w, WARM_UP);
            write_n(&mut w, n);
            return Ok(());
        }
        Case::WriteCounted => {
            let mut w = appender.writer(Null);
            write_n(&mut w, WARM_UP);
            write_n(&mut w, n);
        }
        Case::FmtPlain | Case::FmtCounted => {
            // No timestamp: its digits change from run to run, and so would the
            // instructions formatting them.
            let fmt = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .without_time();
            let dispatch = if case == Case::FmtPlain {
                Dispatch::new(tracing_subscriber::registry().with(fmt.with_writer(null)))
            } else {
                Dispatch::new(
                    tracing_subscriber::registry()
                        .with(fmt.with_writer(appender.make_writer(null))),
                )
            };
            tracing::dispatcher::set_global_default(dispatch).map_err(|e| e.to_string())?;
            log_n(WARM_UP);
            log_n(n);
            if case == Case::FmtPlain {
                return Ok(());
            }
        }
    }
    if appender.lines() == WARM_UP + n && appender.dropped() == 0 {
        Ok(())
    } else {
        Err(format!(
            "counted {} lines ({} dropped), expected {}",
            appender.lines(),
            appender.dropped(),
            WARM_UP + n
        ))
    }
}

const USAGE: &str = "usage: appender_instructions CASE N
  CASE: write_plain | write_counted | fmt_plain | fmt_counted
  N: lines to write after the warm-up
Run it under callgrind through scripts/appender-instructions.sh.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [case, n] => {
            let (Some(case), Ok(n)) = (
                Case::ALL.into_iter().find(|c| c.name() == *case),
                n.parse::<u64>(),
            ) else {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            };
            match run(case, n) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("appender_instructions {} {n}: {e}", case.name());
                    ExitCode::FAILURE
                }
            }
        }
        // `cargo bench` passes `--bench`; a global dispatcher can be set once
        // per process, so each case runs in a child of its own.
        [] | ["--bench"] => {
            let Ok(exe) = std::env::current_exe() else {
                return ExitCode::FAILURE;
            };
            let failed = Case::ALL
                .into_iter()
                .filter(|c| {
                    !matches!(
                        std::process::Command::new(&exe).args([c.name(), "100"]).status(),
                        Ok(s) if s.success()
                    )
                })
                .count();
            eprintln!("{USAGE}");
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
