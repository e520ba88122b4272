//! A proposed rewrite of one unstructured call: an event name from what its
//! message says happened, fields by the standard, and a constant message.

use crate::format::{self, ArgRef, Piece};
use crate::level::Level;
use crate::names::{is_error_name, is_number_field, Taxonomy, ERROR_FIELD};
use crate::phrase::Phrase;
use crate::scan::{snake, CallSite};

/// A proposed rewrite of one unstructured call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The event name.
    pub event: String,
    /// Where the name comes from.
    pub source: NameSource,
    /// Whether the message reports a failure: a failure word
    /// (fail, error, unable, timed out, refused, ...), or an error value
    /// logged at `error` or `warn`. Such a call gets a failure name.
    pub reports_failure: bool,
    /// New fields in tracing syntax (`?addr`, `connection_id = %conn.id`).
    pub fields: Vec<String>,
    /// Fields the call has already that carry an error under another name:
    /// old name -> [`ERROR_FIELD`].
    pub rename: Vec<(String, String)>,
    /// The constant message, when the call had one.
    pub message: Option<String>,
}

/// Where a proposed event name comes from: what a reviewer should check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameSource {
    /// A taxonomy event that means what the message says.
    Taxonomy,
    /// The message's verb and object (`message_requeue_failed`) or, for a
    /// message that reports no failure, its first words.
    Message,
    /// `operation_failed` or `<area>_event`: the message names no verb and
    /// object. Always to be reviewed.
    CatchAll,
}

impl NameSource {
    /// The name used in the names file.
    pub fn as_str(self) -> &'static str {
        match self {
            NameSource::Taxonomy => "taxonomy",
            NameSource::Message => "message",
            NameSource::CatchAll => "catch-all",
        }
    }
}

/// The words of a format string just before a placeholder that say an error
/// follows (`error: {}`, `err={}`, `error message :{}`, `reason: {}`).
fn labels_an_error(before: &str) -> bool {
    let t = before
        .trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '=' | '\'' | '"'))
        .to_ascii_lowercase();
    [
        "error",
        "err",
        "error message",
        "error msg",
        "reason",
        "cause",
    ]
    .iter()
    .any(|l| t.ends_with(l) && !t.ends_with(&format!("_{l}")))
}

/// An area name for a crate (`mqtt-broker` -> `mqtt`), for names made of one word.
fn area_of(krate: &str) -> String {
    krate
        .split(['-', '_', '/'])
        .find(|w| !w.is_empty() && w.starts_with(|c: char| c.is_ascii_lowercase()))
        .unwrap_or("broker")
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        .collect()
}

/// The event name for a message, and where it comes from.
fn name_for(
    phrase: &Phrase,
    taxonomy: &Taxonomy,
    krate: &str,
    level: Option<Level>,
    logs_error: bool,
) -> (String, NameSource) {
    // An error value logged at error or warn reports a failure even when the
    // words do not say so ("remove shard dir {}: {}").
    let failure_by_value = logs_error && level.is_some_and(Level::reports_problems);
    let suffix = phrase
        .failure_suffix()
        .or(failure_by_value.then_some("failed"));
    let verb = phrase.failure_verb();
    if let Some(e) = taxonomy.best(&phrase.head_words(), suffix, verb.as_deref(), krate, level) {
        return (e.name.clone(), NameSource::Taxonomy);
    }
    if suffix.is_some() {
        let name = match phrase.failure_suffix() {
            Some(_) => phrase.failure_name(),
            None => phrase.action_failure_name(),
        };
        return match name {
            Some(n) => (n, NameSource::Message),
            None => ("operation_failed".to_owned(), NameSource::CatchAll),
        };
    }
    if let Some(n) = phrase.plain_name() {
        return (n, NameSource::Message);
    }
    // One word (`SUCCESS`): the crate's area names the object.
    let area = area_of(krate);
    match phrase.words().iter().find(|w| w.len() > 1) {
        Some(w) => {
            let n = format!("{area}_{w}");
            if crate::names::name_problem(&n).is_none() {
                return (n, NameSource::Message);
            }
            (format!("{area}_event"), NameSource::CatchAll)
        }
        None => (format!("{area}_event"), NameSource::CatchAll),
    }
}

const RESERVED_FIELD_NAMES: [&str; 3] = ["event", "message", "target"];

/// Proposes an event name, fields and a constant message for an unstructured
/// call, or says why the call cannot be rewritten safely.
pub fn suggest(
    call: &CallSite,
    taxonomy: &Taxonomy,
    krate: &str,
    event_field: &str,
) -> Result<Suggestion, String> {
    if let Some(why) = call.parts.not_rewritable {
        return Err(format!("not safe to rewrite: {why}"));
    }
    // An error the call already logs under another name moves to `error`
    // (when that name is free).
    let mut rename: Vec<(String, String)> = Vec::new();
    let has_error_field = call.parts.fields.iter().any(|(n, _)| n == ERROR_FIELD);
    if !has_error_field {
        let misnamed = call
            .parts
            .fields
            .iter()
            .zip(&call.parts.field_hints)
            .map(|((n, _), hint)| (n, hint))
            .find(|(n, hint)| is_error_name(hint) && is_plain_ident(n));
        if let Some((name, _)) = misnamed {
            rename.push((name.clone(), ERROR_FIELD.to_owned()));
        }
    }
    let Some(fmt) = &call.message else {
        if !call.parts.format_args.is_empty() {
            return Err("its message is not a string literal".into());
        }
        // Fields only, no message: an event field is all it needs.
        let names: String = call
            .parts
            .fields
            .iter()
            .map(|(n, _)| n.replace('_', " "))
            .collect::<Vec<_>>()
            .join(" ");
        let phrase =
            Phrase::read(&format::parse(&names.replace(['{', '}'], "")).unwrap_or_default());
        let (event, source) = name_for(&phrase, taxonomy, krate, call.level, false);
        return Ok(Suggestion {
            event,
            source,
            reports_failure: phrase.is_failure(),
            fields: Vec::new(),
            rename,
            message: None,
        });
    };
    let pieces = format::parse(fmt).ok_or("the format string does not parse")?;
    let mut fields: Vec<String> = Vec::new();
    let mut used: Vec<String> = call
        .parts
        .fields
        .iter()
        .map(|(n, _)| n.clone())
        .chain(RESERVED_FIELD_NAMES.iter().map(|s| s.to_string()))
        .chain(std::iter::once(event_field.to_owned()))
        .chain(rename.iter().map(|(_, new)| new.clone()))
        .collect();
    let mut done: Vec<(usize, bool)> = Vec::new();
    let mut next = 0usize;
    let mut captured: Vec<String> = Vec::new();
    let mut text_before = String::new();
    let mut logs_error = has_error_field || !rename.is_empty();
    let args = &call.parts.format_args;
    // The text before a placeholder (`error: {}`) says which value is the
    // error only when no argument is named like one.
    let named_error = args.iter().any(|a| is_error_name(&a.hint))
        || pieces.iter().any(|p| {
            matches!(p, Piece::Placeholder(ph) if matches!(&ph.arg, ArgRef::Name(n) if is_error_name(&snake(n))))
        });
    for p in &pieces {
        let ph = match p {
            Piece::Text(t) => {
                text_before.push_str(t);
                continue;
            }
            Piece::Placeholder(ph) => ph,
        };
        let labelled_error = !named_error && labels_an_error(&text_before);
        text_before.clear();
        if ph.uses_args {
            return Err("a width or precision is taken from an argument".into());
        }
        let sigil = if ph.debug { '?' } else { '%' };
        let (key, base, expr, shorthand) = match &ph.arg {
            ArgRef::Next | ArgRef::Index(_) => {
                let i = match ph.arg {
                    ArgRef::Index(i) => i,
                    _ => {
                        next += 1;
                        next - 1
                    }
                };
                let a = args
                    .get(i)
                    .ok_or("fewer format arguments than placeholders")?;
                (
                    i,
                    a.hint.clone(),
                    a.expr.clone(),
                    a.is_ident && a.name.is_none(),
                )
            }
            ArgRef::Name(n) => match args.iter().position(|a| a.name.as_deref() == Some(n)) {
                Some(i) => (i, args[i].hint.clone(), args[i].expr.clone(), false),
                // A captured variable: `{addr}` logs `addr`.
                None => {
                    let k = match captured.iter().position(|c| c == n) {
                        Some(k) => k,
                        None => {
                            captured.push(n.clone());
                            captured.len() - 1
                        }
                    };
                    (usize::MAX - k, snake(n), n.clone(), true)
                }
            },
        };
        if done.iter().any(|(k, _)| *k == key) {
            continue; // the same argument twice: one field
        }
        done.push((key, ph.debug));
        // The error's text goes to `error` whatever the local is called;
        // its formatting stays, so the logged value does not change (and a
        // type without Display still compiles).
        let is_error = is_error_name(&base) || labelled_error;
        logs_error |= is_error;
        let base = if is_error && !used.iter().any(|u| u == ERROR_FIELD) {
            ERROR_FIELD.to_owned()
        } else {
            base
        };
        let mut name = base.clone();
        let mut n = 2;
        while used.contains(&name) || !is_plain_ident(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        used.push(name.clone());
        // A number field records the value itself, not its text (the
        // standard's typed fields): an integer's Display and Debug text are
        // its value's, so the logged text does not change.
        let sigil = if is_number_field(&name) {
            String::new()
        } else {
            sigil.to_string()
        };
        fields.push(if shorthand && name == expr {
            format!("{sigil}{expr}")
        } else {
            format!("{name} = {sigil}{expr}")
        });
    }
    if (0..args.len()).any(|i| !done.iter().any(|(k, _)| *k == i)) {
        return Err("a format argument is not used by the format string".into());
    }
    let phrase = Phrase::read(&pieces);
    let (event, source) = name_for(&phrase, taxonomy, krate, call.level, logs_error);
    let reports_failure =
        phrase.is_failure() || (logs_error && call.level.is_some_and(Level::reports_problems));
    let text = format::constant_text(&pieces);
    // A message that was only placeholders keeps a readable constant.
    let message = if text.is_empty() {
        event.replace('_', " ")
    } else {
        text
    };
    Ok(Suggestion {
        event,
        source,
        reports_failure,
        fields,
        rename,
        message: Some(message),
    })
}

const KEYWORDS: [&str; 51] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// A field name usable as written: not a keyword, `[a-z_][a-z0-9_]*`.
fn is_plain_ident(s: &str) -> bool {
    !KEYWORDS.contains(&s)
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
