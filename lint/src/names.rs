//! Event names: the naming rules, the taxonomy, and a proposed name and
//! fields for an unstructured call.

use serde::Deserialize;

use crate::format::{self, ArgRef, Piece};
use crate::scan::{snake, CallSite};

/// Why `name` breaks the naming rules of docs/log-format.md, if it does.
pub fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if name.len() > 64 {
        return Some(format!(
            "is {} bytes; keep event names at most 64 bytes long",
            name.len()
        ));
    }
    if robustmq_log_metrics::RESERVED_VALUES.contains(&name) {
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

/// The embedded taxonomy (lint/taxonomy.toml).
pub const TAXONOMY_TOML: &str = include_str!("../taxonomy.toml");

/// Event categories and their events, with the words that select them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    /// Categories in the order they are documented.
    #[serde(rename = "category")]
    pub categories: Vec<Category>,
}

/// One category of events (a subsystem or a concern).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Short name (`connection`, `storage`).
    pub name: String,
    /// What part of RobustMQ it covers.
    pub covers: String,
    /// RobustMQ crates whose calls prefer this category on a tie.
    pub crates: Vec<String>,
    /// Its events.
    pub events: Vec<EventDef>,
}

/// One event name of the taxonomy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventDef {
    /// The `event` value.
    pub name: String,
    /// The level it belongs at.
    pub level: String,
    /// Word prefixes a message must contain (`a|b`: either).
    pub words: Vec<String>,
}

impl Taxonomy {
    /// The taxonomy built into the binary.
    pub fn builtin() -> Self {
        Self::from_toml(TAXONOMY_TOML).expect("lint/taxonomy.toml is checked by a test")
    }

    /// Reads a taxonomy in the format of lint/taxonomy.toml; every name must
    /// pass the naming rules.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let t: Taxonomy = toml::from_str(text).map_err(|e| e.to_string())?;
        for c in &t.categories {
            for e in &c.events {
                if let Some(p) = name_problem(&e.name) {
                    return Err(format!("event {:?} {p}", e.name));
                }
                if !crate::LEVELS.contains(&e.level.as_str()) {
                    return Err(format!("event {:?}: unknown level {:?}", e.name, e.level));
                }
            }
        }
        Ok(t)
    }

    /// The level the taxonomy gives an event, if it lists it.
    pub fn level_of(&self, event: &str) -> Option<&str> {
        self.categories
            .iter()
            .flat_map(|c| &c.events)
            .find(|e| e.name == event)
            .map(|e| e.level.as_str())
    }

    /// The taxonomy as the Markdown tables of docs/log-format.md.
    pub fn markdown(&self) -> String {
        let mut out = String::from("| category | covers | events (level) |\n|---|---|---|\n");
        for c in &self.categories {
            let events: Vec<String> = c
                .events
                .iter()
                .map(|e| format!("`{}` ({})", e.name, e.level))
                .collect();
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                c.name,
                c.covers,
                events.join(", ")
            ));
        }
        out
    }

    /// The best matching event for a message, preferring the crate's
    /// categories and the call's level on a tie.
    fn best(&self, words: &[String], krate: &str, level: Option<&str>) -> Option<&EventDef> {
        let mut best: Option<(usize, &EventDef)> = None;
        for c in &self.categories {
            let crate_bonus = c
                .crates
                .iter()
                .any(|k| krate == k || krate.starts_with(&format!("{k}-")));
            for e in &c.events {
                let all = e.words.iter().all(|w| {
                    w.split('|')
                        .any(|alt| words.iter().any(|m| m.starts_with(alt)))
                });
                if !all {
                    continue;
                }
                let score = e.words.len() * 10
                    + usize::from(crate_bonus) * 5
                    + usize::from(level == Some(e.level.as_str()));
                if best.is_none_or(|(s, _)| score > s) {
                    best = Some((score, e));
                }
            }
        }
        best.map(|(_, e)| e)
    }
}

/// A proposed rewrite of one unstructured call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The event name.
    pub event: String,
    /// `taxonomy` when the name comes from the taxonomy, `message` when it is
    /// made from the message's words (review those first).
    pub source: &'static str,
    /// New fields in tracing syntax (`?addr`, `connection_id = %conn.id`).
    pub fields: Vec<String>,
    /// The constant message, when the call had one.
    pub message: Option<String>,
}

const STOPWORDS: [&str; 34] = [
    "a", "an", "the", "to", "of", "for", "in", "on", "at", "by", "from", "with", "and", "or", "is",
    "are", "was", "were", "be", "been", "this", "that", "it", "its", "into", "as", "not", "no",
    "has", "have", "can", "will", "please", "err",
];

/// Lowercase words of a message's constant text, camelCase split.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = c.is_ascii_lowercase();
            cur.push(c.to_ascii_lowercase());
        } else {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A name made of the message's first content words, for messages the
/// taxonomy does not cover.
fn name_from_words(words: &[String], krate: &str) -> String {
    let content: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !STOPWORDS.contains(w) && !w.chars().all(|c| c.is_ascii_digit()))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_lowercase()))
        .take(3)
        .collect();
    let mut name = content.join("_");
    if content.len() < 2 {
        let area: String = krate
            .split(['-', '_', '/'])
            .find(|w| !w.is_empty() && w.starts_with(|c: char| c.is_ascii_lowercase()))
            .unwrap_or("broker")
            .chars()
            .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            .collect();
        name = if name.is_empty() {
            format!("{area}_event")
        } else {
            format!("{area}_{name}")
        };
    }
    while name.len() > 64 {
        match name.rfind('_') {
            Some(i) => name.truncate(i),
            None => name.truncate(64),
        }
    }
    if name_problem(&name).is_some() {
        name = "unnamed_event".to_owned();
    }
    name
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
    let Some(fmt) = &call.message else {
        if !call.parts.format_args.is_empty() {
            return Err("its message is not a string literal".into());
        }
        // Fields only, no message: an event field is all it needs.
        let names: Vec<String> = call
            .parts
            .fields
            .iter()
            .flat_map(|(n, _)| words(n))
            .collect();
        return Ok(Suggestion {
            event: name_from_words(&names, krate),
            source: "message",
            fields: Vec::new(),
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
        .collect();
    let mut done: Vec<(usize, bool)> = Vec::new();
    let mut next = 0usize;
    let mut captured: Vec<String> = Vec::new();
    let args = &call.parts.format_args;
    for p in &pieces {
        let Piece::Placeholder(ph) = p else { continue };
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
                Some(i) => (i, snake(n), args[i].expr.clone(), false),
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
        let mut name = base.clone();
        let mut n = 2;
        while used.contains(&name) || !is_plain_ident(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        used.push(name.clone());
        fields.push(if shorthand && name == expr {
            format!("{sigil}{expr}")
        } else {
            format!("{name} = {sigil}{expr}")
        });
    }
    if (0..args.len()).any(|i| !done.iter().any(|(k, _)| *k == i)) {
        return Err("a format argument is not used by the format string".into());
    }
    let text = format::constant_text(&pieces);
    let w = words(&text);
    let (event, source) = match taxonomy.best(&w, krate, call.level) {
        Some(e) => (e.name.clone(), "taxonomy"),
        None => (name_from_words(&w, krate), "message"),
    };
    // A message that was only placeholders keeps a readable constant.
    let message = if text.is_empty() {
        event.replace('_', " ")
    } else {
        text
    };
    Ok(Suggestion {
        event,
        source,
        fields,
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
