//! Names: the naming rules of events (and which names report a failure),
//! the names of error fields, and the taxonomy.

use serde::Deserialize;

use crate::level::Level;

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

/// The last words of event names that report a failure: a name ending in one
/// of these is a failure name.
pub const FAILURE_SUFFIXES: [&str; 20] = [
    "failed",
    "error",
    "timeout",
    "refused",
    "denied",
    "rejected",
    "invalid",
    "unsupported",
    "unreachable",
    "unavailable",
    "not_found",
    "missing",
    "panicked",
    "corrupted",
    "mismatch",
    "exceeded",
    "dropped",
    "lost",
    "banned",
    "unknown",
];

/// Whether an event name reports a failure (`message_requeue_failed`,
/// `raft_rpc_timeout`, `shard_not_found`).
pub fn is_failure_name(name: &str) -> bool {
    FAILURE_SUFFIXES
        .iter()
        .any(|s| name == *s || name.ends_with(&format!("_{s}")))
}

/// Names that say nothing about what happened: allowed only for a message
/// with no verb and object, and then flagged for review.
pub fn is_catch_all(name: &str) -> bool {
    name == "operation_failed" || name.ends_with("_event")
}

/// The field that carries an error's text (docs/log-format.md): `error`, the
/// name RobustMQ's own structured calls and tracing's documentation use.
pub const ERROR_FIELD: &str = "error";

/// The field that names a transport, and its closed set of values
/// (docs/log-format.md, "Protocol values").
pub const PROTOCOL_FIELD: &str = "protocol";

/// The values [`PROTOCOL_FIELD`] may take: RobustMQ's five transports
/// (`NetworkConnectionType::{Tcp, Tls, WebSocket, WebSockets, QUIC}`).
pub const PROTOCOLS: [&str; 5] = ["tcp", "tls", "websocket", "websocket_tls", "quic"];

/// Field names that carry a number: the standard's numeric fields, whose
/// values are integers in RobustMQ (`connect_id` and `node_id` are `u64`,
/// `pkid` is `u16`, ports `u32`, offsets `u64`).
const NUMBER_FIELDS: [&str; 6] = [
    "connection_id",
    "node_id",
    "pkid",
    "port",
    "offset",
    "elapsed",
];

/// Units and counts: a field whose last word is one of these names a number
/// (`elapsed_ms`, `batch_len`, `segment_bytes`, `secs`), since the word is
/// the unit or the kind of quantity. `id` is not among them: `client_id` is
/// a string.
const NUMBER_WORDS: [&str; 12] = [
    "ms", "us", "ns", "secs", "seconds", "millis", "bytes", "count", "len", "size", "total",
    "attempts",
];

/// Whether the standard says that field `name` holds a number, so that it
/// must be recorded as a value (`elapsed_ms = x`), not through Display or
/// Debug (`%x`, `?x`), which record a string. Decided from the name alone:
/// the linter sees no types, so the rule is a naming contract, and a value
/// that is not a number needs a name outside it.
pub fn is_number_field(name: &str) -> bool {
    NUMBER_FIELDS.contains(&name)
        || name
            .rsplit('_')
            .next()
            .is_some_and(|last| NUMBER_WORDS.contains(&last))
}

/// Local names an error value goes by (`e`, `err`, `join_err`): such a value
/// is logged as [`ERROR_FIELD`].
pub fn is_error_name(name: &str) -> bool {
    matches!(
        name,
        "e" | "err"
            | "error"
            | "errs"
            | "errors"
            | "error_msg"
            | "err_msg"
            | "error_message"
            | "err_message"
            | "error_info"
            | "err_info"
            | "error_str"
            | "err_str"
            | "ex"
    ) || name.ends_with("_err")
        || name.ends_with("_error")
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
    pub level: Level,
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
            }
        }
        Ok(t)
    }

    /// The level the taxonomy gives an event, if it lists it.
    pub fn level_of(&self, event: &str) -> Option<Level> {
        self.categories
            .iter()
            .flat_map(|c| &c.events)
            .find(|e| e.name == event)
            .map(|e| e.level)
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
    /// categories and the call's level on a tie. Only an event that means
    /// what the message says is eligible: a failure event for a failure
    /// message (and its name's words in the message), a success event for
    /// any other; never a catch-all.
    pub(crate) fn best(
        &self,
        words: &[&str],
        failure: Option<&str>,
        verb: Option<&str>,
        krate: &str,
        level: Option<Level>,
    ) -> Option<&EventDef> {
        let mut best: Option<(usize, &EventDef)> = None;
        for c in &self.categories {
            let crate_bonus = c
                .crates
                .iter()
                .any(|k| krate == k || krate.starts_with(&format!("{k}-")));
            for e in &c.events {
                if is_failure_name(&e.name) != failure.is_some() || is_catch_all(&e.name) {
                    continue;
                }
                // A failure of the same kind: `config_invalid` for "invalid
                // config", not for "failed to serialize config".
                if let Some(kind) = failure {
                    let generic = |k: &str| k == "failed" || k == "error";
                    let its = e.name.rsplit('_').next().unwrap_or("");
                    let same = its == kind.rsplit('_').next().unwrap_or("")
                        || (generic(its) && generic(kind));
                    if !same {
                        continue;
                    }
                }
                // An event chosen by one word alone ("subscri") is not chosen
                // by the one who does it: "subscriber gone" is no `topic_subscribed`.
                let weak = e.words.len() == 1;
                let all = e.words.iter().all(|w| {
                    w.split('|').any(|alt| {
                        words.iter().any(|m| {
                            m.starts_with(alt)
                                && !(weak && (m.ends_with("er") || m.ends_with("ers")))
                        })
                    })
                });
                // What failed is done by the event's verb: "failed to close
                // connection" is no `connection_failed` (accept).
                let verb_fits = verb.is_none_or(|v| {
                    e.words
                        .iter()
                        .any(|w| w.split('|').any(|alt| v.starts_with(alt)))
                });
                if !all || (failure.is_some() && !(names_its_object(&e.name, words) && verb_fits)) {
                    continue;
                }
                let score = e.words.len() * 10
                    + usize::from(crate_bonus) * 5
                    + usize::from(level == Some(e.level));
                if best.is_none_or(|(s, _)| score > s) {
                    best = Some((score, e));
                }
            }
        }
        best.map(|(_, e)| e)
    }
}

/// Whether every word of a failure event's name but its last stands in the
/// message: `connection_failed` needs `connection` (or `connect`), so that
/// "failed to reset connector" is not a connection failure.
fn names_its_object(event: &str, words: &[&str]) -> bool {
    let tokens: Vec<&str> = event.split('_').collect();
    let object = &tokens[..tokens.len().saturating_sub(1)];
    object.iter().all(|t| words.iter().any(|w| same_stem(w, t)))
}

/// `connect` and `connection`, `task` and `tasks`, `auth` and
/// `authentication`; not `read` and `ready`, nor `connection` and `connector`.
fn same_stem(a: &str, b: &str) -> bool {
    const INFLECTIONS: [&str; 11] = [
        "", "s", "es", "d", "ed", "ing", "er", "ers", "ion", "ions", "ation",
    ];
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let Some(rest) = long.strip_prefix(short) else {
        return false;
    };
    INFLECTIONS.contains(&rest) || (short.len() >= 4 && rest.len() >= 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_names_are_recognised_by_their_last_word() {
        assert!(is_failure_name("message_requeue_failed"));
        assert!(is_failure_name("shard_not_found"));
        assert!(!is_failure_name("server_started"));
        assert!(!is_failure_name("errorless_thing"));
        assert!(is_catch_all("operation_failed") && is_catch_all("mqtt_event"));
        assert!(!is_catch_all("event_loop_started"));
    }
}
