//! `robustmq-log-lint`: checks RobustMQ's tracing calls against the log
//! standard (docs/log-format.md), suggests event names, rewrites calls.
//!
//! Exit codes: 0 clean, 1 findings, 2 usage error, 3 internal error.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};
use robustmq_log_lint::{
    calls_in, fix_text, map_files, name_problem, rust_files, string_constants_in, suggest,
    CallSite, CrateNames, EventField, NamedCall, NamesFile, Outcome, Taxonomy, LEVELS,
};
use serde::{Deserialize, Serialize};

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
    /// Only calls at this level or more severe.
    #[arg(long, value_enum)]
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

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Level {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// Why a run stopped early.
enum Failure {
    /// Bad arguments or input files given by the user: exit 2.
    Usage(String),
    /// Writing the output failed.
    Io(io::Error),
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

fn read_input(path: &Path, what: &str) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read {what} {}: {e}", path.display())))
}

fn files_under(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut files = Vec::new();
    for p in paths {
        if !p.exists() {
            return Err(Failure::Usage(format!("{} does not exist", p.display())));
        }
        files.extend(rust_files(p));
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// One finding, as printed and as JSON.
#[derive(Debug, Serialize)]
struct Finding {
    file: String,
    line: usize,
    column: usize,
    /// `error` .. `trace`; null for a file-level finding or an unknown level.
    level: Option<&'static str>,
    #[serde(rename = "crate")]
    krate: String,
    kind: &'static str,
    /// What is wrong.
    message: String,
    /// The call's own message (its format string), when it has a literal one.
    log_message: Option<String>,
}

#[derive(Default, Clone, Copy, Serialize)]
struct Tally {
    calls: usize,
    structured: usize,
    unstructured: usize,
    structured_share: f64,
}

impl Tally {
    fn add(&mut self, structured: bool, unstructured: bool) {
        self.calls += 1;
        self.structured += usize::from(structured);
        self.unstructured += usize::from(unstructured);
        self.structured_share = if self.calls == 0 {
            100.0
        } else {
            (self.structured as f64 * 1000.0 / self.calls as f64).round() / 10.0
        };
    }
}

#[derive(Default, Serialize)]
struct Summary {
    files: usize,
    unparsed_files: usize,
    calls: usize,
    structured: usize,
    unstructured: usize,
    dynamic_event: usize,
    bad_event_name: usize,
    event_two_levels: usize,
    internal_errors: usize,
    elapsed_ms: u64,
}

#[derive(Serialize, Deserialize, Default)]
struct Baseline {
    /// Crate name -> the most unstructured calls it may have.
    unstructured: BTreeMap<String, usize>,
}

#[derive(Serialize)]
struct BaselineResult {
    #[serde(rename = "crate")]
    krate: String,
    unstructured: usize,
    limit: usize,
    ok: bool,
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

#[derive(Serialize)]
struct Ratchet {
    unstructured: usize,
    limit: usize,
    ok: bool,
}

fn severity(level: &str) -> usize {
    LEVELS
        .iter()
        .position(|l| *l == level)
        .unwrap_or(usize::MAX)
}

fn check(a: &CheckArgs, out: &mut impl Write) -> Result<u8, Failure> {
    let started = Instant::now();
    let registry: HashMap<String, String> = match &a.events {
        None => HashMap::new(),
        Some(p) => {
            // A module file, or a folder of them (`events/mod.rs`, `events/storage.rs`).
            let sources = if p.is_dir() {
                rust_files(p)
            } else {
                vec![p.clone()]
            };
            let mut constants = HashMap::new();
            for f in &sources {
                let text = read_input(f, "events file")?;
                let found = string_constants_in(&text).map_err(|s| {
                    Failure::Usage(format!(
                        "events file {}:{}:{}: {}",
                        f.display(),
                        s.line,
                        s.column,
                        s.message
                    ))
                })?;
                constants.extend(found);
            }
            constants
        }
    };
    let baseline: Option<Baseline> = match &a.baseline {
        None => None,
        Some(p) => Some(
            toml::from_str(&read_input(p, "baseline")?)
                .map_err(|e| Failure::Usage(format!("baseline {}: {e}", p.display())))?,
        ),
    };
    let files = files_under(&a.paths)?;
    let event_field = a.event_field.as_str();
    let results = map_files(&files, |f| {
        std::fs::read_to_string(f)
            .map_err(|e| ("unreadable", 1, 1, e.to_string()))
            .and_then(|t| {
                calls_in(&t, event_field).map_err(|s| (s.kind, s.line, s.column, s.message))
            })
    });
    let max_severity = a.level.map(|l| l as usize);

    let mut crates = CrateNames::default();
    let mut findings: Vec<Finding> = Vec::new();
    let mut s = Summary {
        files: files.len(),
        ..Summary::default()
    };
    let mut by_crate: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_level: BTreeMap<String, Tally> = BTreeMap::new();
    // event -> level -> the findings' positions, for events logged at two levels.
    let mut levels_of: BTreeMap<String, BTreeMap<&'static str, Vec<usize>>> = BTreeMap::new();
    let mut pending: Vec<Finding> = Vec::new();
    for (file, result) in files.iter().zip(results) {
        let shown = file.display().to_string();
        let krate = crates.of(file);
        let calls: Vec<CallSite> = match result {
            Err(panic) => {
                s.internal_errors += 1;
                findings.push(Finding {
                    file: shown,
                    line: 1,
                    column: 1,
                    level: None,
                    krate,
                    kind: "internal-error",
                    message: format!("the linter failed on this file: {panic}"),
                    log_message: None,
                });
                continue;
            }
            Ok(Err((kind, line, column, message))) => {
                s.unparsed_files += 1;
                findings.push(Finding {
                    file: shown,
                    line,
                    column,
                    level: None,
                    krate,
                    kind,
                    message,
                    log_message: None,
                });
                continue;
            }
            Ok(Ok(calls)) => calls,
        };
        for call in calls {
            if let Some(max) = max_severity {
                if call.level.is_none_or(|l| severity(l) > max) {
                    continue;
                }
            }
            let finding = |kind: &'static str, message: String| Finding {
                file: shown.clone(),
                line: call.line,
                column: call.column,
                level: call.level,
                krate: krate.clone(),
                kind,
                message,
                log_message: call.message.clone(),
            };
            let name = match &call.event {
                EventField::Missing => {
                    pending.push(finding(
                        "unstructured",
                        format!("{}! has no `{event_field}` field", call.macro_name),
                    ));
                    None
                }
                EventField::Literal(n) => Some(n.clone()),
                EventField::Path(p) => {
                    let last = p.rsplit("::").next().unwrap_or(p).trim();
                    match registry.get(last) {
                        Some(v) => Some(v.clone()),
                        None => {
                            pending.push(finding(
                                "dynamic-event",
                                if a.events.is_some() {
                                    format!("event value `{p}` is not a constant of the --events file")
                                } else {
                                    format!("event value `{p}` is not a string literal; declare it in a module given with --events")
                                },
                            ));
                            None
                        }
                    }
                }
                EventField::Dynamic(e) => {
                    pending.push(finding(
                        "dynamic-event",
                        format!("event value `{e}` is not a constant: it may be unbounded"),
                    ));
                    None
                }
            };
            if let Some(n) = &name {
                if let Some(problem) = name_problem(n) {
                    pending.push(finding(
                        "bad-event-name",
                        format!("event name {n:?} {problem}"),
                    ));
                }
                if let Some(l) = call.level {
                    pending.push(finding("event-two-levels", String::new()));
                    levels_of
                        .entry(n.clone())
                        .or_default()
                        .entry(l)
                        .or_default()
                        .push(pending.len() - 1);
                }
            }
            let structured = name.is_some();
            let unstructured = call.event == EventField::Missing;
            s.calls += 1;
            s.structured += usize::from(structured);
            s.unstructured += usize::from(unstructured);
            by_crate
                .entry(krate.clone())
                .or_default()
                .add(structured, unstructured);
            by_level
                .entry(call.level.unwrap_or("unknown").to_owned())
                .or_default()
                .add(structured, unstructured);
        }
    }
    // Two-level placeholders become findings only for events at two levels.
    let mut keep = vec![true; pending.len()];
    for (name, levels) in &levels_of {
        let list: Vec<&str> = levels.keys().copied().collect();
        for idx in levels.values().flatten() {
            if levels.len() > 1 {
                pending[*idx].message = format!(
                    "event {name:?} is logged at {}: pick one level per event",
                    list.join(" and ")
                );
            } else {
                keep[*idx] = false;
            }
        }
    }
    findings.extend(
        pending
            .into_iter()
            .zip(keep)
            .filter_map(|(f, k)| k.then_some(f)),
    );
    findings.sort_by(|x, y| {
        (&x.file, x.line, x.column, x.kind).cmp(&(&y.file, y.line, y.column, y.kind))
    });
    for f in &findings {
        match f.kind {
            "dynamic-event" => s.dynamic_event += 1,
            "bad-event-name" => s.bad_event_name += 1,
            "event-two-levels" => s.event_two_levels += 1,
            _ => {}
        }
    }
    let ratchet = a.max_unstructured.map(|limit| Ratchet {
        unstructured: s.unstructured,
        limit,
        ok: s.unstructured <= limit,
    });
    let mut baseline_results = Vec::new();
    if let Some(b) = &baseline {
        let names: std::collections::BTreeSet<&String> =
            by_crate.keys().chain(b.unstructured.keys()).collect();
        for k in names {
            let n = by_crate.get(k).map_or(0, |t| t.unstructured);
            let limit = b.unstructured.get(k).copied().unwrap_or(0);
            baseline_results.push(BaselineResult {
                krate: k.clone(),
                unstructured: n,
                limit,
                ok: n <= limit,
            });
        }
    }
    if let Some(p) = &a.write_baseline {
        let b = Baseline {
            unstructured: by_crate
                .iter()
                .map(|(k, t)| (k.clone(), t.unstructured))
                .collect(),
        };
        let text = format!(
            "# Unstructured tracing calls per crate (robustmq-log-lint check --baseline):\n# lower a number as a crate migrates; a crate not listed may have none.\n{}",
            toml::to_string(&b).map_err(|e| Failure::Usage(e.to_string()))?
        );
        std::fs::write(p, text)
            .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", p.display())))?;
    }
    s.elapsed_ms = started.elapsed().as_millis() as u64;
    let errors = s.dynamic_event + s.bad_event_name + s.event_two_levels;
    let failed = errors > 0
        || ratchet.as_ref().is_some_and(|r| !r.ok)
        || baseline_results.iter().any(|b| !b.ok);

    if a.format == Format::Json {
        let report = Report {
            summary: &s,
            findings: (!a.quiet).then_some(findings.as_slice()),
            by_crate: &by_crate,
            by_level: &by_level,
            ratchet,
            baseline: baseline_results,
        };
        serde_json::to_writer(&mut *out, &report).map_err(io::Error::from)?;
        writeln!(out)?;
    } else {
        if !a.quiet {
            for f in &findings {
                writeln!(
                    out,
                    "{}:{}:{}: {}: {}",
                    f.file, f.line, f.column, f.kind, f.message
                )?;
            }
            writeln!(out)?;
        }
        table(out, "crate", &by_crate)?;
        writeln!(out)?;
        table(out, "level", &by_level)?;
        writeln!(out)?;
        writeln!(
            out,
            "{} files ({} skipped), {} tracing calls, {} unstructured, {} dynamic events, {} naming errors, in {:.2} s",
            s.files,
            s.unparsed_files,
            s.calls,
            s.unstructured,
            s.dynamic_event,
            s.bad_event_name + s.event_two_levels,
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

/// A path in the names file: relative to DIR, `/`-separated.
fn relative(dir: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(dir).unwrap_or(file);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

const NAMES_HEADER: &str = "\
# Event names for robustmq-log-lint fix, one [[call]] per unstructured call site.
# Review each: `event` (source = \"message\" means no taxonomy name matched; rename it),
# `fields` (tracing syntax: ?x for Debug, %x for Display, name = %expr), and `message`
# (the constant text that replaces the format string). Delete a [[call]] to leave it alone.
# `fingerprint` finds the call again after unrelated edits; `line` is a hint.
";

fn suggest_cmd(a: &SuggestArgs, out: &mut impl Write) -> Result<u8, Failure> {
    let started = Instant::now();
    let taxonomy = match &a.taxonomy {
        None => Taxonomy::builtin(),
        Some(p) => Taxonomy::from_toml(&read_input(p, "taxonomy")?)
            .map_err(|e| Failure::Usage(format!("taxonomy {}: {e}", p.display())))?,
    };
    if !a.dir.is_dir() {
        return Err(Failure::Usage(format!(
            "{} is not a directory",
            a.dir.display()
        )));
    }
    let files = rust_files(&a.dir);
    let mut crates = CrateNames::default();
    let crate_names: Vec<String> = files.iter().map(|f| crates.of(f)).collect();
    let index: HashMap<&Path, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_path(), i))
        .collect();
    let event_field = a.event_field.as_str();
    let results = map_files(&files, |f| {
        let text = std::fs::read_to_string(f).map_err(|e| e.to_string())?;
        let calls = calls_in(&text, event_field).map_err(|s| s.message)?;
        let krate = &crate_names[index[f]];
        Ok::<_, String>(
            calls
                .into_iter()
                .filter(|c| c.event == EventField::Missing)
                .map(|c| {
                    let s = suggest(&c, &taxonomy, krate, event_field);
                    (c, s)
                })
                .collect::<Vec<_>>(),
        )
    });
    let mut names = NamesFile::default();
    let (mut from_taxonomy, mut from_message, mut unsure, mut skipped) = (0, 0, 0, 0);
    for (file, r) in files.iter().zip(results) {
        let shown = file.display();
        let calls = match r {
            Ok(Ok(c)) => c,
            Ok(Err(why)) | Err(why) => {
                skipped += 1;
                eprintln!("{shown}: skipped: {why}");
                continue;
            }
        };
        for (call, s) in calls {
            match s {
                Ok(s) => {
                    if s.source == "taxonomy" {
                        from_taxonomy += 1;
                    } else {
                        from_message += 1;
                    }
                    names.calls.push(NamedCall {
                        file: relative(&a.dir, file),
                        line: call.line,
                        fingerprint: call.fingerprint,
                        level: call.level.map(str::to_owned),
                        original: call.message,
                        event: s.event,
                        source: Some(s.source.to_owned()),
                        note: None,
                        fields: s.fields,
                        message: s.message,
                    });
                }
                Err(why) => {
                    unsure += 1;
                    eprintln!(
                        "{shown}:{}:{}: no suggestion: {why}",
                        call.line, call.column
                    );
                }
            }
        }
    }
    // One level per event: point out what the reviewer has to settle.
    let mut levels_of: HashMap<String, std::collections::BTreeSet<String>> = HashMap::new();
    for c in &names.calls {
        if let Some(l) = &c.level {
            levels_of
                .entry(c.event.clone())
                .or_default()
                .insert(l.clone());
        }
    }
    for c in &mut names.calls {
        let mut notes = Vec::new();
        if let (Some(want), Some(have)) = (taxonomy.level_of(&c.event), &c.level) {
            if want != have {
                notes.push(format!(
                    "the taxonomy logs {} at {want}: change the level or pick another name",
                    c.event
                ));
            }
        }
        if let Some(levels) = levels_of.get(&c.event).filter(|l| l.len() > 1) {
            let list: Vec<&str> = levels.iter().map(String::as_str).collect();
            notes.push(format!(
                "proposed at {}: one level per event",
                list.join(" and ")
            ));
        }
        if !notes.is_empty() {
            c.note = Some(notes.join("; "));
        }
    }
    let text = toml::to_string(&names).map_err(|e| Failure::Usage(e.to_string()))?;
    std::fs::write(&a.out, format!("{NAMES_HEADER}\n{text}"))
        .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", a.out.display())))?;
    writeln!(
        out,
        "suggest: {} files ({skipped} skipped), {} calls to name: {from_taxonomy} from the taxonomy, {from_message} from their message, {unsure} left out (listed on stderr); wrote {} in {:.2} s",
        files.len(),
        from_taxonomy + from_message + unsure,
        a.out.display(),
        started.elapsed().as_secs_f64()
    )?;
    Ok(0)
}

fn fix_cmd(a: &FixArgs, out: &mut impl Write) -> Result<u8, Failure> {
    let started = Instant::now();
    let names: NamesFile = toml::from_str(&read_input(&a.names, "names file")?)
        .map_err(|e| Failure::Usage(format!("names file {}: {e}", a.names.display())))?;
    if !a.dir.is_dir() {
        return Err(Failure::Usage(format!(
            "{} is not a directory",
            a.dir.display()
        )));
    }
    let mut by_file: BTreeMap<&str, Vec<&NamedCall>> = BTreeMap::new();
    for c in &names.calls {
        by_file.entry(c.file.as_str()).or_default().push(c);
    }
    let keys: Vec<&str> = by_file.keys().copied().collect();
    let paths: Vec<PathBuf> = keys.iter().map(|k| a.dir.join(k)).collect();
    let event_field = a.event_field.as_str();
    let results = map_files(&paths, |p| {
        let rel = relative(&a.dir, p);
        let entries = &by_file[rel.as_str()];
        let escapes = Path::new(&rel)
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)));
        if escapes {
            return Err("the path leaves DIR".to_owned());
        }
        let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read: {e}"))?;
        let (new, outcomes) = fix_text(&text, entries, event_field);
        if let Some(new) = new {
            std::fs::write(p, new).map_err(|e| format!("cannot write: {e}"))?;
        }
        Ok(outcomes)
    });
    let (mut rewritten, mut files_changed, mut already, mut failed) = (0, 0, 0, 0);
    for (key, r) in keys.iter().zip(results) {
        let entries = &by_file[key];
        let outcomes = match r {
            Ok(Ok(o)) => o,
            Ok(Err(why)) | Err(why) => entries
                .iter()
                .map(|_| Outcome::NotRewritten(why.clone()))
                .collect(),
        };
        let before = rewritten;
        for (entry, o) in entries.iter().zip(outcomes) {
            match o {
                Outcome::Rewritten { .. } => rewritten += 1,
                Outcome::AlreadyDone => already += 1,
                Outcome::NotRewritten(why) => {
                    failed += 1;
                    writeln!(
                        out,
                        "{}:{}: not rewritten ({}): {why}",
                        a.dir.join(&entry.file).display(),
                        entry.line,
                        entry.event
                    )?;
                }
            }
        }
        files_changed += usize::from(rewritten > before);
    }
    writeln!(
        out,
        "fix: rewrote {rewritten} calls in {files_changed} files, {already} already in the standard form, {failed} not rewritten, in {:.2} s",
        started.elapsed().as_secs_f64()
    )?;
    Ok(if failed > 0 { EXIT_FINDINGS } else { 0 })
}
