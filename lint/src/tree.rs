//! The commands that work on a whole source tree: `check` reports on its
//! calls, `suggest` names every unstructured call into a names file, `fix`
//! applies a reviewed one. The binary parses the arguments and prints what
//! these return.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::check::{check_files, CheckOptions, CheckReport};
use crate::files::{map_files, rust_files, CrateNames};
use crate::level::Level;
use crate::names::{is_failure_name, Taxonomy};
use crate::ratchet::{Baseline, BaselineResult, Ratchet};
use crate::rewrite::{fix_text, NamedCall, NamesFile, Outcome};
use crate::scan::EventField;
use crate::source::{calls_in, string_constants_in};
use crate::suggest::{suggest, NameSource};

/// What the user gave is unusable: a path that is not there, a file that
/// does not read or parse, an output that cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

/// Reads a file the user named; the error says which `what` it was.
pub fn read_input(path: &Path, what: &str) -> Result<String, InputError> {
    std::fs::read_to_string(path)
        .map_err(|e| InputError(format!("cannot read {what} {}: {e}", path.display())))
}

fn require_dir(dir: &Path) -> Result<(), InputError> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(InputError(format!("{} is not a directory", dir.display())))
    }
}

/// What `check` is asked: the paths and the limits to hold them to.
#[derive(Debug, Clone, Copy)]
pub struct CheckRequest<'a> {
    /// Files or directories to check.
    pub paths: &'a [PathBuf],
    /// The event field's name.
    pub event_field: &'a str,
    /// Only calls at this level or more severe.
    pub min_level: Option<Level>,
    /// The events module (a file, or a folder of them) of `const NAME: &str`
    /// event names.
    pub events: Option<&'a Path>,
    /// A baseline file of per-crate limits on unstructured calls.
    pub baseline: Option<&'a Path>,
    /// Where to write today's per-crate counts as a baseline file.
    pub write_baseline: Option<&'a Path>,
    /// The most unstructured calls the whole tree may have.
    pub max_unstructured: Option<usize>,
}

/// What `check` found, and each limit held against it.
#[derive(Debug, Clone)]
pub struct CheckRun {
    /// The findings and tallies.
    pub report: CheckReport,
    /// The whole tree against `max_unstructured`, when given.
    pub ratchet: Option<Ratchet>,
    /// Each crate against the baseline, when given.
    pub baseline: Vec<BaselineResult>,
}

impl CheckRun {
    /// Whether a naming error was found or a limit is exceeded.
    pub fn failed(&self) -> bool {
        self.report.naming_errors() > 0
            || self.ratchet.as_ref().is_some_and(|r| !r.ok)
            || self.baseline.iter().any(|b| !b.ok)
    }
}

/// Checks the calls under `request.paths` and holds them to its limits.
pub fn check_tree(request: &CheckRequest<'_>) -> Result<CheckRun, InputError> {
    let registry = request.events.map(read_registry).transpose()?;
    let baseline: Option<Baseline> = match request.baseline {
        None => None,
        Some(p) => Some(
            toml::from_str(&read_input(p, "baseline")?)
                .map_err(|e| InputError(format!("baseline {}: {e}", p.display())))?,
        ),
    };
    let files = files_under(request.paths)?;
    let report = check_files(
        &files,
        &CheckOptions {
            event_field: request.event_field,
            registry: registry.as_ref(),
            min_level: request.min_level,
        },
    );
    let ratchet = request
        .max_unstructured
        .map(|limit| Ratchet::of(&report, limit));
    let baseline = baseline.map_or_else(Vec::new, |b| b.evaluate(&report));
    if let Some(p) = request.write_baseline {
        let b = Baseline::of(&report);
        let text = format!(
            "# Unstructured tracing calls per crate (robustmq-log-lint check --baseline):\n# lower a number as a crate migrates; a crate not listed may have none.\n{}",
            toml::to_string(&b).map_err(|e| InputError(e.to_string()))?
        );
        std::fs::write(p, text)
            .map_err(|e| InputError(format!("cannot write {}: {e}", p.display())))?;
    }
    Ok(CheckRun {
        report,
        ratchet,
        baseline,
    })
}

fn files_under(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut files = Vec::new();
    for p in paths {
        if !p.exists() {
            return Err(InputError(format!("{} does not exist", p.display())));
        }
        files.extend(rust_files(p));
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// The `--events` module (a file, or a folder of them) as name -> event value.
fn read_registry(p: &Path) -> Result<HashMap<String, String>, InputError> {
    // A module file, or a folder of them (`events/mod.rs`, `events/storage.rs`).
    let sources = if p.is_dir() {
        rust_files(p)
    } else {
        vec![p.to_owned()]
    };
    let mut constants = HashMap::new();
    for f in &sources {
        let text = read_input(f, "events file")?;
        let found = string_constants_in(&text).map_err(|s| {
            InputError(format!(
                "events file {}:{}:{}: {}",
                f.display(),
                s.line,
                s.column,
                s.message
            ))
        })?;
        constants.extend(found);
    }
    Ok(constants)
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

/// What `suggest` did.
#[derive(Debug, Clone, Default)]
pub struct SuggestRun {
    /// The names file it wrote.
    pub names: NamesFile,
    /// Files read.
    pub files: usize,
    /// Files skipped (they did not read or parse).
    pub skipped: usize,
    /// Calls named from the taxonomy.
    pub from_taxonomy: usize,
    /// Calls named from their message.
    pub from_message: usize,
    /// Calls given a catch-all name.
    pub catch_all: usize,
    /// Calls left out: no name could be proposed.
    pub unsure: usize,
    /// Calls whose message reports a failure.
    pub failures: usize,
    /// Of those, the ones with a failure name of their own.
    pub failure_named: usize,
    /// Other calls with a failure name.
    pub success_failure_named: usize,
    /// A line per skipped file and per call left out, in file order.
    pub notices: Vec<String>,
}

/// Proposes a name for every call without an event field under `dir`, and
/// writes the names file to `out`.
pub fn suggest_tree(
    dir: &Path,
    out: &Path,
    taxonomy: &Taxonomy,
    event_field: &str,
) -> Result<SuggestRun, InputError> {
    require_dir(dir)?;
    let files = rust_files(dir);
    let mut crates = CrateNames::default();
    let crate_names: Vec<String> = files.iter().map(|f| crates.of(f)).collect();
    let index: HashMap<&Path, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_path(), i))
        .collect();
    let results = map_files(&files, |f| {
        let text = std::fs::read_to_string(f).map_err(|e| e.to_string())?;
        let calls = calls_in(&text, event_field).map_err(|s| s.message)?;
        let krate = &crate_names[index[f]];
        Ok::<_, String>(
            calls
                .into_iter()
                .filter(|c| c.event == EventField::Missing)
                .map(|c| {
                    let s = suggest(&c, taxonomy, krate, event_field);
                    (c, s)
                })
                .collect::<Vec<_>>(),
        )
    });
    let mut run = SuggestRun {
        files: files.len(),
        ..SuggestRun::default()
    };
    for (file, r) in files.iter().zip(results) {
        let shown = file.display();
        let calls = match r {
            Ok(Ok(c)) => c,
            Ok(Err(why)) | Err(why) => {
                run.skipped += 1;
                run.notices.push(format!("{shown}: skipped: {why}"));
                continue;
            }
        };
        for (call, s) in calls {
            match s {
                Ok(s) => {
                    if s.reports_failure {
                        run.failures += 1;
                        run.failure_named += usize::from(
                            is_failure_name(&s.event) && s.source != NameSource::CatchAll,
                        );
                    } else {
                        run.success_failure_named += usize::from(is_failure_name(&s.event));
                    }
                    match s.source {
                        NameSource::Taxonomy => run.from_taxonomy += 1,
                        NameSource::Message => run.from_message += 1,
                        NameSource::CatchAll => run.catch_all += 1,
                    }
                    run.names.calls.push(NamedCall {
                        file: relative(dir, file),
                        line: call.line,
                        fingerprint: call.fingerprint,
                        level: call.level,
                        original: call.message,
                        event: s.event,
                        source: Some(s.source.as_str().to_owned()),
                        note: (s.source == NameSource::CatchAll).then(|| {
                            "review: the message names no verb and object, so this is a catch-all name".to_owned()
                        }),
                        fields: s.fields,
                        rename: s.rename.into_iter().collect(),
                        message: s.message,
                    });
                }
                Err(why) => {
                    run.unsure += 1;
                    run.notices.push(format!(
                        "{shown}:{}:{}: no suggestion: {why}",
                        call.line, call.column
                    ));
                }
            }
        }
    }
    note_levels(&mut run.names, taxonomy);
    let text = toml::to_string(&run.names).map_err(|e| InputError(e.to_string()))?;
    std::fs::write(out, format!("{NAMES_HEADER}\n{text}"))
        .map_err(|e| InputError(format!("cannot write {}: {e}", out.display())))?;
    Ok(run)
}

/// One level per event: points out what the reviewer has to settle.
fn note_levels(names: &mut NamesFile, taxonomy: &Taxonomy) {
    let mut levels_of: HashMap<String, BTreeSet<String>> = HashMap::new();
    for c in &names.calls {
        if let Some(l) = &c.level {
            levels_of
                .entry(c.event.clone())
                .or_default()
                .insert(l.as_str().to_owned());
        }
    }
    for c in &mut names.calls {
        let mut notes = Vec::new();
        if let (Some(want), Some(have)) = (taxonomy.level_of(&c.event), c.level) {
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
            c.note = Some(match c.note.take() {
                Some(n) => format!("{n}; {}", notes.join("; ")),
                None => notes.join("; "),
            });
        }
    }
}

/// What `fix` did.
#[derive(Debug, Clone, Default)]
pub struct FixRun {
    /// Calls rewritten.
    pub rewritten: usize,
    /// Files changed.
    pub files_changed: usize,
    /// Calls already in the standard form.
    pub already: usize,
    /// A line per call not rewritten, saying why.
    pub not_rewritten: Vec<String>,
}

/// Rewrites the calls listed in `names` under `dir`.
pub fn fix_tree(dir: &Path, names: &NamesFile, event_field: &str) -> Result<FixRun, InputError> {
    require_dir(dir)?;
    let mut by_file: BTreeMap<&str, Vec<&NamedCall>> = BTreeMap::new();
    for c in &names.calls {
        by_file.entry(c.file.as_str()).or_default().push(c);
    }
    let keys: Vec<&str> = by_file.keys().copied().collect();
    let paths: Vec<PathBuf> = keys.iter().map(|k| dir.join(k)).collect();
    let results = map_files(&paths, |p| {
        let rel = relative(dir, p);
        let entries = &by_file[rel.as_str()];
        let escapes = Path::new(&rel)
            .components()
            .any(|c| !matches!(c, Component::Normal(_)));
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
    let mut run = FixRun::default();
    for (key, r) in keys.iter().zip(results) {
        let entries = &by_file[key];
        let outcomes = match r {
            Ok(Ok(o)) => o,
            Ok(Err(why)) | Err(why) => entries
                .iter()
                .map(|_| Outcome::NotRewritten(why.clone()))
                .collect(),
        };
        let before = run.rewritten;
        for (entry, o) in entries.iter().zip(outcomes) {
            match o {
                Outcome::Rewritten { .. } => run.rewritten += 1,
                Outcome::AlreadyDone => run.already += 1,
                Outcome::NotRewritten(why) => run.not_rewritten.push(format!(
                    "{}:{}: not rewritten ({}): {why}",
                    dir.join(&entry.file).display(),
                    entry.line,
                    entry.event
                )),
            }
        }
        run.files_changed += usize::from(run.rewritten > before);
    }
    Ok(run)
}
