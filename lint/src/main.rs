//! `robustmq-log-lint`: checks RobustMQ's tracing calls against the log
//! standard (docs/log-format.md), suggests event names, rewrites calls.
//!
//! Exit codes: 0 clean, 1 findings, 2 usage error, 3 internal error.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};
use robustmq_log_lint::{
    check_tree, fix_tree, read_input, suggest_tree, BaselineResult, CheckRequest, CheckRun,
    Finding, InputError, Level, NamesFile, Ratchet, Summary, Tally, Taxonomy,
};
use serde::Serialize;

/// Checks tracing calls against the RobustMQ log standard, suggests event
/// names for calls without one, and rewrites reviewed calls.
///
/// Without a subcommand, runs `check`: `robustmq-log-lint [--format json] DIR`.
#[derive(Parser, Debug)]
#[command(
    name = "robustmq-log-lint",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Report calls without an event field, dynamic or badly named events, and
    /// events logged at two levels (the default).
    Check(CheckArgs),
    /// Propose an event name, fields and a constant message for every call
    /// without an event field, into a TOML file to review.
    Suggest(SuggestArgs),
    /// Rewrite the calls listed in a reviewed names file into the standard form.
    Fix(FixArgs),
    /// Print the event taxonomy as the Markdown table of docs/log-format.md.
    Taxonomy,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Only calls at this level or more severe (error, warn, info, debug, trace).
    #[arg(long, value_name = "LEVEL")]
    level: Option<Level>,
    /// Per-crate limits on unstructured calls (TOML `[unstructured]`, crate = N;
    /// a crate not listed may have none): exit 1 when a crate is over its limit.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write today's per-crate unstructured counts as a baseline file.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// A Rust module (file or folder) of `const NAME: &str = "event_name";`
    /// items: an event field set to one of these constants counts as a literal.
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// Exit 1 when more than N calls (all crates together) lack an event field.
    #[arg(long, value_name = "N")]
    max_unstructured: Option<usize>,
    /// The event field's name.
    #[arg(long, default_value = "event", value_name = "NAME")]
    event_field: String,
    /// Summary only: no line per finding (text), no `findings` array (JSON).
    #[arg(long, short)]
    quiet: bool,
    /// Files or directories to check.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct SuggestArgs {
    /// The source tree; paths in the names file are relative to it.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Where to write the names file.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// A taxonomy file in the format of lint/taxonomy.toml instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    taxonomy: Option<PathBuf>,
    /// The event field's name.
    #[arg(long, default_value = "event", value_name = "NAME")]
    event_field: String,
}

#[derive(Args, Debug)]
struct FixArgs {
    /// The source tree the names file was made for.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The reviewed names file.
    #[arg(long, value_name = "FILE")]
    names: PathBuf,
    /// The event field's name.
    #[arg(long, default_value = "event", value_name = "NAME")]
    event_field: String,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

/// Why a run stopped early.
enum Failure {
    /// Bad arguments or input files given by the user: exit 2.
    Usage(String),
    /// Writing the output failed.
    Io(io::Error),
}

impl From<InputError> for Failure {
    fn from(e: InputError) -> Self {
        Failure::Usage(e.0)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

const EXIT_FINDINGS: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_INTERNAL: u8 = 3;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = match cli.command {
        None => check(&cli.check, &mut out),
        Some(Command::Check(a)) => check(&a, &mut out),
        Some(Command::Suggest(a)) => suggest_cmd(&a, &mut out),
        Some(Command::Fix(a)) => fix_cmd(&a, &mut out),
        Some(Command::Taxonomy) => write!(out, "{}", Taxonomy::builtin().markdown())
            .map(|_| 0)
            .map_err(Failure::Io),
    };
    let result = result.and_then(|code| out.flush().map(|_| code).map_err(Failure::Io));
    match result {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`| head`) is the reader's choice, not a failure to report.
        Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Io(e)) => {
            eprintln!("robustmq-log-lint: cannot write output: {e}");
            ExitCode::from(EXIT_INTERNAL)
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("robustmq-log-lint: {msg}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

#[derive(Serialize)]
struct Report<'a> {
    summary: &'a Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    findings: Option<&'a [Finding]>,
    by_crate: &'a BTreeMap<String, Tally>,
    by_level: &'a BTreeMap<String, Tally>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ratchet: Option<Ratchet>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    baseline: Vec<BaselineResult>,
}

fn check(a: &CheckArgs, out: &mut impl Write) -> Result<u8, Failure> {
    let run = check_tree(&CheckRequest {
        paths: &a.paths,
        event_field: &a.event_field,
        min_level: a.level,
        events: a.events.as_deref(),
        baseline: a.baseline.as_deref(),
        write_baseline: a.write_baseline.as_deref(),
        max_unstructured: a.max_unstructured,
    })?;
    let failed = run.failed();
    let CheckRun {
        report,
        ratchet,
        baseline: baseline_results,
    } = run;
    let (s, findings, by_crate, by_level) = (
        &report.summary,
        &report.findings,
        &report.by_crate,
        &report.by_level,
    );

    if a.format == Format::Json {
        let json = Report {
            summary: s,
            findings: (!a.quiet).then_some(findings.as_slice()),
            by_crate,
            by_level,
            ratchet,
            baseline: baseline_results,
        };
        serde_json::to_writer(&mut *out, &json).map_err(io::Error::from)?;
        writeln!(out)?;
    } else {
        if !a.quiet {
            for f in findings {
                writeln!(
                    out,
                    "{}:{}:{}: {}: {}",
                    f.file,
                    f.line,
                    f.column,
                    f.kind.as_str(),
                    f.message
                )?;
            }
            writeln!(out)?;
        }
        table(out, "crate", by_crate)?;
        writeln!(out)?;
        table(out, "level", by_level)?;
        writeln!(out)?;
        writeln!(
            out,
            "{} files ({} skipped), {} tracing calls, {} unstructured, {} dynamic events, {} naming errors, {} numbers as text, {} protocol values, {} error values outside error, in {:.2} s",
            s.files,
            s.unparsed_files,
            s.calls,
            s.unstructured,
            s.dynamic_event,
            s.bad_event_name + s.event_two_levels,
            s.number_as_text,
            s.protocol_value,
            s.error_values_outside_error_field,
            s.elapsed_ms as f64 / 1000.0
        )?;
        if let Some(r) = &ratchet {
            writeln!(
                out,
                "ratchet: {} unstructured call sites, limit {}: {}",
                r.unstructured,
                r.limit,
                if r.ok { "ok" } else { "FAIL" }
            )?;
        }
        for b in baseline_results.iter().filter(|b| !b.ok) {
            writeln!(
                out,
                "baseline: {} has {} unstructured call sites, limit {}: FAIL",
                b.krate, b.unstructured, b.limit
            )?;
        }
    }
    Ok(if s.internal_errors > 0 {
        EXIT_INTERNAL
    } else if failed {
        EXIT_FINDINGS
    } else {
        0
    })
}

fn table(out: &mut impl Write, title: &str, rows: &BTreeMap<String, Tally>) -> io::Result<()> {
    writeln!(
        out,
        "{title:<40} {:>7} {:>10} {:>11}",
        "calls", "structured", "share"
    )?;
    for (k, t) in rows {
        writeln!(
            out,
            "{k:<40} {:>7} {:>10} {:>10.1}%",
            t.calls, t.structured, t.structured_share
        )?;
    }
    Ok(())
}

fn suggest_cmd(a: &SuggestArgs, out: &mut impl Write) -> Result<u8, Failure> {
    let started = Instant::now();
    let taxonomy = match &a.taxonomy {
        None => Taxonomy::builtin(),
        Some(p) => Taxonomy::from_toml(&read_input(p, "taxonomy")?)
            .map_err(|e| Failure::Usage(format!("taxonomy {}: {e}", p.display())))?,
    };
    let run = suggest_tree(&a.dir, &a.out, &taxonomy, &a.event_field)?;
    for notice in &run.notices {
        eprintln!("{notice}");
    }
    writeln!(
        out,
        "suggest: {} files ({} skipped), {} calls to name: {} from the taxonomy, {} from their message, {} catch-all names to review, {} left out (listed on stderr); wrote {} in {:.2} s",
        run.files,
        run.skipped,
        run.from_taxonomy + run.from_message + run.catch_all + run.unsure,
        run.from_taxonomy,
        run.from_message,
        run.catch_all,
        run.unsure,
        a.out.display(),
        started.elapsed().as_secs_f64()
    )?;
    writeln!(
        out,
        "suggest: {} calls report a failure, {} of them with a failure name of their own ({:.1}%); {} other calls with a failure name",
        run.failures,
        run.failure_named,
        if run.failures == 0 { 100.0 } else { run.failure_named as f64 * 100.0 / run.failures as f64 },
        run.success_failure_named
    )?;
    Ok(0)
}

fn fix_cmd(a: &FixArgs, out: &mut impl Write) -> Result<u8, Failure> {
    let started = Instant::now();
    let names: NamesFile = toml::from_str(&read_input(&a.names, "names file")?)
        .map_err(|e| Failure::Usage(format!("names file {}: {e}", a.names.display())))?;
    let run = fix_tree(&a.dir, &names, &a.event_field)?;
    for line in &run.not_rewritten {
        writeln!(out, "{line}")?;
    }
    writeln!(
        out,
        "fix: rewrote {} calls in {} files, {} already in the standard form, {} not rewritten, in {:.2} s",
        run.rewritten,
        run.files_changed,
        run.already,
        run.not_rewritten.len(),
        started.elapsed().as_secs_f64()
    )?;
    Ok(if run.not_rewritten.is_empty() {
        0
    } else {
        EXIT_FINDINGS
    })
}
