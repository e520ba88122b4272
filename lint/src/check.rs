//! `check`: the tracing calls of a set of files against the log standard,
//! as typed findings and per-crate and per-level tallies.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

use serde::{Serialize, Serializer};

use crate::files::{map_files, CrateNames};
use crate::level::Level;
use crate::names::{
    is_error_name, is_number_field, name_problem, ERROR_FIELD, PROTOCOLS, PROTOCOL_FIELD,
};
use crate::scan::{CallSite, EventField, FieldValue};
use crate::source::{calls_in, SkipKind};

/// What a finding reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingKind {
    /// A call without an event field.
    Unstructured,
    /// An event value that is not a constant: it may be unbounded.
    DynamicEvent,
    /// An event name that breaks the naming rules.
    BadEventName,
    /// An event logged at more than one level.
    EventTwoLevels,
    /// An error value in a field other than `error`.
    ErrorFieldName,
    /// A number field (`elapsed_ms`, `connection_id`) recorded through
    /// Display or Debug (`%x`, `?x`), which records a string.
    NumberAsText,
    /// A `protocol` value outside the standard's closed set, or recorded
    /// through Display or Debug (an enum's own spelling).
    ProtocolValue,
    /// A file that does not parse (skipped).
    ParseError,
    /// A file whose brackets nest too deep (skipped).
    TooDeep,
    /// A file that cannot be read (skipped).
    Unreadable,
    /// The linter failed on a file.
    InternalError,
}

impl FindingKind {
    /// The kebab-case name printed and in JSON (`dynamic-event`).
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Unstructured => "unstructured",
            FindingKind::DynamicEvent => "dynamic-event",
            FindingKind::BadEventName => "bad-event-name",
            FindingKind::EventTwoLevels => "event-two-levels",
            FindingKind::ErrorFieldName => "error-field-name",
            FindingKind::NumberAsText => "number-as-text",
            FindingKind::ProtocolValue => "protocol-value",
            FindingKind::ParseError => "parse-error",
            FindingKind::TooDeep => "too-deep",
            FindingKind::Unreadable => "unreadable",
            FindingKind::InternalError => "internal-error",
        }
    }

    /// Whether a finding of this kind makes `check` exit 1: the rules a
    /// structured call breaks (a dynamic or bad name, a name at two levels, a
    /// number recorded as text, a protocol outside the closed set).
    /// Unstructured calls and misnamed error fields are counted (a ratchet or
    /// baseline bounds the former) and skipped files are reported, not failed.
    pub fn fails_check(self) -> bool {
        matches!(
            self,
            FindingKind::DynamicEvent
                | FindingKind::BadEventName
                | FindingKind::EventTwoLevels
                | FindingKind::NumberAsText
                | FindingKind::ProtocolValue
        )
    }
}

impl From<SkipKind> for FindingKind {
    fn from(k: SkipKind) -> Self {
        match k {
            SkipKind::ParseError => FindingKind::ParseError,
            SkipKind::TooDeep => FindingKind::TooDeep,
        }
    }
}

impl Serialize for FindingKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One finding, as printed and as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The file, as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The call's level; `None` for a file-level finding or an unknown level.
    pub level: Option<Level>,
    /// The package the file belongs to.
    #[serde(rename = "crate")]
    pub krate: String,
    /// What it reports.
    pub kind: FindingKind,
    /// What is wrong.
    pub message: String,
    /// The call's own message (its format string), when it has a literal one.
    pub log_message: Option<String>,
}

/// Calls and structured calls of a crate or a level.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Tally {
    /// Tracing calls.
    pub calls: usize,
    /// Calls with a constant event name.
    pub structured: usize,
    /// Calls without an event field.
    pub unstructured: usize,
    /// `structured / calls` in percent, one decimal.
    pub structured_share: f64,
}

impl Tally {
    fn add(&mut self, structured: bool, unstructured: bool) {
        self.calls += 1;
        self.structured += usize::from(structured);
        self.unstructured += usize::from(unstructured);
        self.structured_share =
            (self.structured as f64 * 1000.0 / self.calls as f64).round() / 10.0;
    }
}

/// The totals of a run.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Files skipped (unreadable, not parsing, nesting too deep).
    pub unparsed_files: usize,
    /// Tracing calls.
    pub calls: usize,
    /// Calls with a constant event name.
    pub structured: usize,
    /// Calls without an event field.
    pub unstructured: usize,
    /// [`FindingKind::DynamicEvent`] findings.
    pub dynamic_event: usize,
    /// [`FindingKind::BadEventName`] findings.
    pub bad_event_name: usize,
    /// [`FindingKind::EventTwoLevels`] findings.
    pub event_two_levels: usize,
    /// Error values (a field or format argument named `e`, `err`,
    /// `join_error` ...) logged anywhere but in `error`.
    pub error_values_outside_error_field: usize,
    /// [`FindingKind::NumberAsText`] findings.
    pub number_as_text: usize,
    /// [`FindingKind::ProtocolValue`] findings.
    pub protocol_value: usize,
    /// Files the linter failed on.
    pub internal_errors: usize,
    /// Wall time of the run.
    pub elapsed_ms: u64,
}

/// What `check` is told.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions<'a> {
    /// The event field's name.
    pub event_field: &'a str,
    /// Constants of the events registry (`--events`): name -> event value.
    /// `None` when no registry was given.
    pub registry: Option<&'a HashMap<String, String>>,
    /// Only calls at this level or more severe.
    pub min_level: Option<Level>,
}

/// The result of [`check_files`].
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// Totals.
    pub summary: Summary,
    /// Findings in file, line, column and kind order.
    pub findings: Vec<Finding>,
    /// Tallies per crate.
    pub by_crate: BTreeMap<String, Tally>,
    /// Tallies per level (`unknown` for an `event!` whose level is not a constant).
    pub by_level: BTreeMap<String, Tally>,
}

impl CheckReport {
    /// The findings that fail the run ([`FindingKind::fails_check`]).
    pub fn naming_errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.kind.fails_check())
            .count()
    }
}

/// Reads every file (in parallel) and checks its tracing calls.
pub fn check_files(files: &[PathBuf], opts: &CheckOptions<'_>) -> CheckReport {
    let started = Instant::now();
    let event_field = opts.event_field;
    let results = map_files(files, |f| {
        std::fs::read_to_string(f)
            .map_err(|e| (FindingKind::Unreadable, 1, 1, e.to_string()))
            .and_then(|t| {
                calls_in(&t, event_field).map_err(|s| (s.kind.into(), s.line, s.column, s.message))
            })
    });
    let mut crates = CrateNames::default();
    let mut report = CheckReport {
        summary: Summary {
            files: files.len(),
            ..Summary::default()
        },
        ..CheckReport::default()
    };
    // event -> level -> the pending findings' positions, for events at two levels.
    let mut levels_of: BTreeMap<String, BTreeMap<&'static str, Vec<usize>>> = BTreeMap::new();
    let mut pending: Vec<Finding> = Vec::new();
    for (file, result) in files.iter().zip(results) {
        let shown = file.display().to_string();
        let krate = crates.of(file);
        let file_finding = |kind, line, column, message| Finding {
            file: shown.clone(),
            line,
            column,
            level: None,
            krate: krate.clone(),
            kind,
            message,
            log_message: None,
        };
        let calls: Vec<CallSite> = match result {
            Err(panic) => {
                report.summary.internal_errors += 1;
                report.findings.push(file_finding(
                    FindingKind::InternalError,
                    1,
                    1,
                    format!("the linter failed on this file: {panic}"),
                ));
                continue;
            }
            Ok(Err((kind, line, column, message))) => {
                report.summary.unparsed_files += 1;
                report
                    .findings
                    .push(file_finding(kind, line, column, message));
                continue;
            }
            Ok(Ok(calls)) => calls,
        };
        for call in calls {
            if let Some(min) = opts.min_level {
                if !call.level.is_some_and(|l| l.is_at_least(min)) {
                    continue;
                }
            }
            let finding = |kind, message| Finding {
                file: shown.clone(),
                line: call.line,
                column: call.column,
                level: call.level,
                krate: krate.clone(),
                kind,
                message,
                log_message: call.message.clone(),
            };
            let name = event_name(&call, opts, event_field, |kind, msg| {
                pending.push(finding(kind, msg))
            });
            if let Some(n) = &name {
                if let Some(problem) = name_problem(n) {
                    pending.push(finding(
                        FindingKind::BadEventName,
                        format!("event name {n:?} {problem}"),
                    ));
                }
                if let Some(l) = call.level {
                    pending.push(finding(FindingKind::EventTwoLevels, String::new()));
                    levels_of
                        .entry(n.clone())
                        .or_default()
                        .entry(l.as_str())
                        .or_default()
                        .push(pending.len() - 1);
                }
            }
            for (((field, _), hint), value) in call
                .parts
                .fields
                .iter()
                .zip(&call.parts.field_hints)
                .zip(&call.parts.field_values)
            {
                if field != ERROR_FIELD && is_error_name(hint) {
                    report.summary.error_values_outside_error_field += 1;
                    pending.push(finding(
                        FindingKind::ErrorFieldName,
                        format!("the error value `{hint}` is logged as `{field}`: the standard field for an error's text is `{ERROR_FIELD}`"),
                    ));
                }
                if let Some(problem) = value_problem(field, value) {
                    pending.push(finding(problem.0, problem.1));
                }
            }
            // An error formatted into the message is outside `error` too
            // (the unstructured finding already points at the call).
            report.summary.error_values_outside_error_field += call
                .parts
                .format_args
                .iter()
                .filter(|a| is_error_name(&a.hint))
                .count();
            let structured = name.is_some();
            let unstructured = call.event == EventField::Missing;
            let s = &mut report.summary;
            s.calls += 1;
            s.structured += usize::from(structured);
            s.unstructured += usize::from(unstructured);
            report
                .by_crate
                .entry(krate.clone())
                .or_default()
                .add(structured, unstructured);
            report
                .by_level
                .entry(call.level.map_or("unknown", Level::as_str).to_owned())
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
    report.findings.extend(
        pending
            .into_iter()
            .zip(keep)
            .filter_map(|(f, k)| k.then_some(f)),
    );
    report.findings.sort_by(|x, y| {
        (&x.file, x.line, x.column, x.kind).cmp(&(&y.file, y.line, y.column, y.kind))
    });
    for f in &report.findings {
        let s = &mut report.summary;
        match f.kind {
            FindingKind::DynamicEvent => s.dynamic_event += 1,
            FindingKind::BadEventName => s.bad_event_name += 1,
            FindingKind::EventTwoLevels => s.event_two_levels += 1,
            FindingKind::NumberAsText => s.number_as_text += 1,
            FindingKind::ProtocolValue => s.protocol_value += 1,
            _ => {}
        }
    }
    report.summary.elapsed_ms = started.elapsed().as_millis() as u64;
    report
}

/// What is wrong with how a field records its value, if anything: a number
/// field through `%`/`?`, or a `protocol` outside the closed set.
fn value_problem(field: &str, value: &FieldValue) -> Option<(FindingKind, String)> {
    let how = |c: char| if c == '%' { "Display" } else { "Debug" };
    if field == PROTOCOL_FIELD {
        let set = PROTOCOLS.join(", ");
        return match (value.sigil, &value.literal) {
            (None, Some(v)) if PROTOCOLS.contains(&v.as_str()) => None,
            (None, Some(v)) => Some((
                FindingKind::ProtocolValue,
                format!("protocol {v:?} is not one of the standard's values ({set})"),
            )),
            (Some(c), _) => Some((
                FindingKind::ProtocolValue,
                format!(
                    "`protocol` is recorded through {} (`{c}`), which logs the value's own spelling, not one of {set}: write a literal or map the value to one (the MQTT version is `mqtt_protocol`)",
                    how(c)
                ),
            )),
            // A plain expression (a `&'static str` from a match or a helper)
            // cannot be checked without types.
            (None, None) => None,
        };
    }
    match value.sigil {
        Some(c) if is_number_field(field) => Some((
            FindingKind::NumberAsText,
            format!(
                "`{field}` is a number field recorded through {} (`{c}`), which makes it a string: record the value itself (`{field} = x`; a u128 `as u64`), or give a value that is not a number another name",
                how(c)
            ),
        )),
        _ => None,
    }
}

/// The call's constant event name, or `None` after reporting why it has none.
fn event_name(
    call: &CallSite,
    opts: &CheckOptions<'_>,
    event_field: &str,
    mut report: impl FnMut(FindingKind, String),
) -> Option<String> {
    match &call.event {
        EventField::Missing => {
            report(
                FindingKind::Unstructured,
                format!("{}! has no `{event_field}` field", call.macro_name),
            );
            None
        }
        EventField::Literal(n) => Some(n.clone()),
        EventField::Path(p) => {
            let last = p.rsplit("::").next().unwrap_or(p).trim();
            match opts.registry.and_then(|r| r.get(last)) {
                Some(v) => Some(v.clone()),
                None => {
                    report(
                        FindingKind::DynamicEvent,
                        if opts.registry.is_some() {
                            format!("event value `{p}` is not a constant of the --events file")
                        } else {
                            format!("event value `{p}` is not a string literal; declare it in a module given with --events")
                        },
                    );
                    None
                }
            }
        }
        EventField::Dynamic(e) => {
            report(
                FindingKind::DynamicEvent,
                format!("event value `{e}` is not a constant: it may be unbounded"),
            );
            None
        }
    }
}
