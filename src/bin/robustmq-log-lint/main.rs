//! `robustmq-log-lint`: measures the migration to the RobustMQ log standard
//! (docs/log-format.md). Reports every tracing call site without an `event`
//! field, event names that break the naming rules, and event names used at two
//! levels; prints a summary per crate and level; `--max-unstructured N` turns it
//! into a CI ratchet.
//!
//! ```text
//! cargo run --features lint --bin robustmq-log-lint -- [OPTIONS] PATH...
//!   --format text|json        output format (default text)
//!   --max-unstructured N      exit 1 when more than N call sites lack an event field
//!   --event-field NAME        the event field's name (default "event")
//!   --quiet                   summary only, no per-call-site lines
//! ```
//!
//! Exit codes: 0 clean (within the ratchet), 1 findings over the limit or bad
//! event names, 2 usage errors. A file that does not parse is reported and
//! skipped.

mod scan;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use scan::{CallSite, EventField};

struct Options {
    paths: Vec<PathBuf>,
    json: bool,
    max_unstructured: Option<usize>,
    event_field: String,
    quiet: bool,
}

const USAGE: &str = "usage: robustmq-log-lint [--format text|json] [--max-unstructured N] [--event-field NAME] [--quiet] PATH...";

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        paths: Vec::new(),
        json: false,
        max_unstructured: None,
        event_field: "event".to_owned(),
        quiet: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--format" => match value("--format")?.as_str() {
                "json" => o.json = true,
                "text" => o.json = false,
                other => {
                    return Err(format!(
                        "--format {other:?}: expected text or json\n{USAGE}"
                    ))
                }
            },
            "--max-unstructured" => {
                let v = value("--max-unstructured")?;
                o.max_unstructured = Some(v.parse().map_err(|_| {
                    format!("--max-unstructured {v:?}: expected a whole number\n{USAGE}")
                })?);
            }
            "--event-field" => o.event_field = value("--event-field")?,
            "--quiet" => o.quiet = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option {flag}\n{USAGE}"))
            }
            path => o.paths.push(PathBuf::from(path)),
        }
    }
    if o.paths.is_empty() {
        return Err(format!("no path given\n{USAGE}"));
    }
    Ok(o)
}

/// `.rs` files under `path`, skipping build output and VCS folders; sorted.
fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_owned());
        }
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() && (name == "target" || name.starts_with('.') || name == "node_modules") {
            continue;
        }
        if p.is_symlink() {
            continue;
        }
        rust_files(&p, out);
    }
}

/// The crate a file belongs to: the name of the nearest folder with a Cargo.toml.
fn crate_of(file: &Path) -> String {
    let mut dir = file.parent();
    while let Some(d) = dir {
        let manifest = d.join("Cargo.toml");
        if manifest.is_file() {
            if let Ok(text) = std::fs::read_to_string(&manifest) {
                if let Some(name) = text
                    .lines()
                    .skip_while(|l| l.trim() != "[package]")
                    .find_map(|l| {
                        l.trim().strip_prefix("name").map(|r| {
                            r.trim_start_matches([' ', '='])
                                .trim()
                                .trim_matches('"')
                                .to_owned()
                        })
                    })
                {
                    return name;
                }
            }
            return d
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        dir = d.parent();
    }
    "(no crate)".to_owned()
}

/// Naming rules from docs/log-format.md.
pub(crate) fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if name.len() > 64 {
        return Some(format!(
            "is {} bytes; keep event names under 64",
            name.len()
        ));
    }
    if ["unstructured", "overflow"].contains(&name) {
        return Some(format!("{name:?} is reserved by robustmq-log-metrics"));
    }
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.contains("__")
        && !name.ends_with('_');
    if !ok {
        return Some("is not snake_case ([a-z][a-z0-9_]*, no double or trailing '_')".into());
    }
    if !name.contains('_') {
        return Some(
            "has one word; name the object and what happened, e.g. connection_closed".into(),
        );
    }
    None
}

/// file, line, column.
type Location = (String, usize, usize);

#[derive(Debug)]
struct Finding {
    file: String,
    line: usize,
    col: usize,
    kind: &'static str,
    message: String,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    total: usize,
    structured: usize,
}

fn share(t: Tally) -> f64 {
    if t.total == 0 {
        100.0
    } else {
        t.structured as f64 * 100.0 / t.total as f64
    }
}

fn print_table(title: &str, rows: &BTreeMap<String, Tally>) {
    println!(
        "{title:<40} {:>7} {:>10} {:>11}",
        "calls", "structured", "share"
    );
    for (k, t) in rows {
        println!(
            "{k:<40} {:>7} {:>10} {:>10.1}%",
            t.total,
            t.structured,
            share(*t)
        );
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn main() {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let mut files = Vec::new();
    for p in &opts.paths {
        if !p.exists() {
            eprintln!("robustmq-log-lint: {} does not exist", p.display());
            std::process::exit(2);
        }
        rust_files(p, &mut files);
    }

    let mut findings: Vec<Finding> = Vec::new();
    let mut by_crate: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_level: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut levels_of: BTreeMap<String, BTreeMap<&'static str, Vec<Location>>> = BTreeMap::new();
    let mut unparsed = 0usize;
    let mut calls = 0usize;
    let mut unstructured = 0usize;

    for file in &files {
        let shown = file.display().to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                unparsed += 1;
                findings.push(Finding {
                    file: shown,
                    line: 1,
                    col: 1,
                    kind: "unreadable",
                    message: e.to_string(),
                });
                continue;
            }
        };
        let ast = match syn::parse_file(&text) {
            Ok(a) => a,
            Err(e) => {
                unparsed += 1;
                let lc = e.span().start();
                findings.push(Finding {
                    file: shown,
                    line: lc.line.max(1),
                    col: lc.column + 1,
                    kind: "parse-error",
                    message: format!("skipped, does not parse: {e}"),
                });
                continue;
            }
        };
        let krate = crate_of(file);
        for CallSite {
            line,
            col,
            macro_name,
            level,
            event,
        } in scan::scan(&ast, &opts.event_field)
        {
            calls += 1;
            let structured = event != EventField::Missing;
            for t in [
                by_crate.entry(krate.clone()).or_default(),
                by_level.entry(level.unwrap_or("unknown")).or_default(),
            ] {
                t.total += 1;
                t.structured += usize::from(structured);
            }
            match event {
                EventField::Missing => {
                    unstructured += 1;
                    findings.push(Finding {
                        file: shown.clone(),
                        line,
                        col,
                        kind: "unstructured",
                        message: format!("{macro_name}! has no `{}` field", opts.event_field),
                    });
                }
                EventField::Literal(name) => {
                    if let Some(problem) = name_problem(&name) {
                        findings.push(Finding {
                            file: shown.clone(),
                            line,
                            col,
                            kind: "bad-event-name",
                            message: format!("event name {name:?} {problem}"),
                        });
                    }
                    if let Some(l) = level {
                        levels_of.entry(name).or_default().entry(l).or_default().push((shown.clone(), line, col));
                    }
                }
                EventField::Dynamic(expr) => findings.push(Finding {
                    file: shown.clone(),
                    line,
                    col,
                    kind: "dynamic-event",
                    message: format!("event value `{expr}` is not a string literal: it cannot be checked and may be unbounded"),
                }),
            }
        }
    }
    for (name, levels) in &levels_of {
        if levels.len() > 1 {
            let list: Vec<String> = levels.keys().map(|l| l.to_string()).collect();
            for sites in levels.values() {
                for (file, line, col) in sites {
                    findings.push(Finding {
                        file: file.clone(),
                        line: *line,
                        col: *col,
                        kind: "event-two-levels",
                        message: format!(
                            "event {name:?} is logged at {}: pick one level per event",
                            list.join(" and ")
                        ),
                    });
                }
            }
        }
    }
    findings
        .sort_by(|a, b| (&a.file, a.line, a.col, a.kind).cmp(&(&b.file, b.line, b.col, b.kind)));
    let elapsed = started.elapsed();
    let errors = findings
        .iter()
        .filter(|f| f.kind == "bad-event-name" || f.kind == "event-two-levels")
        .count();
    let over = opts.max_unstructured.is_some_and(|m| unstructured > m);

    if opts.json {
        let items: Vec<String> = findings
            .iter()
            .map(|f| {
                format!(
                    "{{\"file\":{},\"line\":{},\"col\":{},\"kind\":\"{}\",\"message\":{}}}",
                    json_str(&f.file),
                    f.line,
                    f.col,
                    f.kind,
                    json_str(&f.message)
                )
            })
            .collect();
        let tallies = |m: &BTreeMap<String, Tally>| -> String {
            m.iter()
                .map(|(k, t)| {
                    format!(
                        "{}:{{\"calls\":{},\"structured\":{},\"structured_share\":{:.1}}}",
                        json_str(k),
                        t.total,
                        t.structured,
                        share(*t)
                    )
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let levels: BTreeMap<String, Tally> =
            by_level.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        println!(
            "{{\"files\":{},\"unparsed_files\":{},\"calls\":{},\"unstructured\":{},\"findings\":[{}],\"by_crate\":{{{}}},\"by_level\":{{{}}},\"elapsed_ms\":{}}}",
            files.len(),
            unparsed,
            calls,
            unstructured,
            items.join(","),
            tallies(&by_crate),
            tallies(&levels),
            elapsed.as_millis()
        );
    } else {
        if !opts.quiet {
            for f in &findings {
                println!("{}:{}:{}: {}: {}", f.file, f.line, f.col, f.kind, f.message);
            }
            println!();
        }
        let levels: BTreeMap<String, Tally> =
            by_level.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        print_table("crate", &by_crate);
        println!();
        print_table("level", &levels);
        println!();
        println!(
            "{} files ({} skipped: parse errors), {} tracing calls, {} unstructured, {} naming errors, in {:.2} s",
            files.len(),
            unparsed,
            calls,
            unstructured,
            errors,
            elapsed.as_secs_f64()
        );
        if let Some(m) = opts.max_unstructured {
            println!(
                "ratchet: {unstructured} unstructured call sites, limit {m}: {}",
                if over { "FAIL" } else { "ok" }
            );
        }
    }
    if over || errors > 0 {
        std::process::exit(1);
    }
}
