//! What a log message says happened: its words in clauses, whether it reports
//! a failure, and an event name built from its verb and object.
//!
//! Messages are English sentences with placeholders; the reading is lexical
//! on purpose (a small word list, clause boundaries at punctuation), so that
//! every name it proposes can be traced back to the words it came from.

use crate::format::Piece;
use crate::names::name_problem;

/// One token of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// A lowercase word of the prose.
    Word(String),
    /// A placeholder, or a field label written into the text (`unique_id=`,
    /// `timeout: {}`): never prose.
    Value,
    /// An identifier written into the text (`wait_cluster_running`,
    /// `shard_offset_req`): not prose, but it may name what failed.
    Ident(String),
}

/// A message read into clauses of prose words.
#[derive(Debug, Clone)]
pub(crate) struct Phrase {
    clauses: Vec<Vec<Tok>>,
}

/// How a message reports a failure: the word that says so decides the
/// suffix of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Failed,
    Error,
    Timeout,
    Refused,
    Denied,
    Rejected,
    Invalid,
    Unsupported,
    Unreachable,
    Unavailable,
    NotFound,
    Missing,
    Panicked,
    Corrupted,
    Mismatch,
    Exceeded,
    Dropped,
    Lost,
    Unknown,
    Banned,
}

impl Failure {
    fn suffix(self) -> &'static str {
        match self {
            Failure::Failed => "failed",
            Failure::Error => "error",
            Failure::Timeout => "timeout",
            Failure::Refused => "refused",
            Failure::Denied => "denied",
            Failure::Rejected => "rejected",
            Failure::Invalid => "invalid",
            Failure::Unsupported => "unsupported",
            Failure::Unreachable => "unreachable",
            Failure::Unavailable => "unavailable",
            Failure::NotFound => "not_found",
            Failure::Missing => "missing",
            Failure::Panicked => "panicked",
            Failure::Corrupted => "corrupted",
            Failure::Mismatch => "mismatch",
            Failure::Exceeded => "exceeded",
            Failure::Dropped => "dropped",
            Failure::Lost => "lost",
            Failure::Unknown => "unknown",
            Failure::Banned => "banned",
        }
    }

    /// Whether the word after it is the verb of what failed
    /// (`failed to requeue`, `unable to open`, `error reading`).
    fn takes_verb(self) -> bool {
        matches!(self, Failure::Failed | Failure::Error)
    }
}

/// Words that carry no meaning of their own in a name.
const STOPWORDS: [&str; 44] = [
    "a", "an", "the", "to", "of", "for", "in", "on", "at", "by", "from", "with", "and", "or", "is",
    "are", "was", "were", "be", "been", "this", "that", "it", "its", "into", "as", "not", "no",
    "has", "have", "can", "please", "err", "while", "when", "during", "after", "before", "some",
    "any", "all", "due", "so", "via",
];

/// Words that end a verb's object: what follows is a complement, not the object.
const PREPOSITIONS: [&str; 30] = [
    "to", "of", "for", "in", "on", "at", "by", "from", "with", "into", "after", "before", "via",
    "because", "due", "while", "when", "during", "and", "or", "within", "without", "than", "over",
    "under", "through", "per", "beyond", "until", "since",
];

/// Verbs that take an adjective (`failed to become ready`): the adjective is what failed.
const LINKING_VERBS: [&str; 2] = ["become", "be"];

/// Protocol names that open many broker messages (`AMQP Queue.Declare failed`):
/// the `service` label already says them.
const PROTOCOLS: [&str; 4] = ["mqtt", "kafka", "amqp", "nats"];

/// Most words of an object after its verb in a name.
const MAX_OBJECT_WORDS: usize = 4;
/// Most words of what stands before a failure word (`queue declare metadata write`).
const MAX_SUBJECT_WORDS: usize = 4;
/// Most words of a name made from a message that reports no failure.
const MAX_NAME_WORDS: usize = 4;

impl Phrase {
    /// Reads a parsed format string.
    pub(crate) fn read(pieces: &[Piece]) -> Self {
        let mut clauses = vec![Vec::new()];
        let mut aside = 0usize;
        for p in pieces {
            match p {
                Piece::Placeholder(_) => push(&mut clauses, Tok::Value),
                Piece::Text(t) => tokenize(t, &mut clauses, &mut aside),
            }
        }
        clauses.retain(|c| !c.is_empty());
        Phrase { clauses }
    }

    /// The prose words, clause after clause.
    pub(crate) fn words(&self) -> Vec<&str> {
        self.clauses
            .iter()
            .flatten()
            .filter_map(|t| match t {
                Tok::Word(w) => Some(w.as_str()),
                Tok::Value | Tok::Ident(_) => None,
            })
            .collect()
    }

    /// The words that say what the message is about: its first clause with
    /// a word, and for a failure the clause of the failure word and the one
    /// before it. Taxonomy names are matched on these, not on a detail
    /// further on (`... skipped (broker shutting down)`).
    pub(crate) fn head_words(&self) -> Vec<&str> {
        let first = self
            .clauses
            .iter()
            .position(|c| c.iter().any(|t| matches!(t, Tok::Word(_))));
        let mut picked: Vec<usize> = first.into_iter().collect();
        if let Some((ci, ..)) = self.first_failure() {
            picked.extend(ci.saturating_sub(1)..=ci);
        }
        picked.sort_unstable();
        picked.dedup();
        picked
            .iter()
            .flat_map(|&ci| &self.clauses[ci])
            .filter_map(|t| match t {
                Tok::Word(w) => Some(w.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The verb of what failed (`failed to requeue` -> `requeue`), when the
    /// message has one.
    pub(crate) fn failure_verb(&self) -> Option<String> {
        let (ci, i, kind, len) = self.first_failure()?;
        let clause = &self.clauses[ci];
        if !kind.takes_verb() {
            return None;
        }
        verb_and_object(&clause[i + len..], verb_follows(clause, i)).map(|(v, _)| v)
    }

    /// The last word of the name a failure message gets (`failed`,
    /// `timeout`, `not_found`), `None` when it reports no failure.
    pub(crate) fn failure_suffix(&self) -> Option<&'static str> {
        self.first_failure().map(|(_, _, f, _)| f.suffix())
    }

    /// Whether the message reports a failure.
    pub(crate) fn is_failure(&self) -> bool {
        self.first_failure().is_some()
    }

    /// The first failure word: its clause, its position there, its kind and
    /// how many words it spans.
    /// A failure with its verb (`failed to disconnect`) wins over an
    /// earlier one without (`Heartbeat timeout: failed to disconnect ...`):
    /// it says what went wrong.
    fn first_failure(&self) -> Option<(usize, usize, Failure, usize)> {
        let mut first = None;
        for (ci, clause) in self.clauses.iter().enumerate() {
            for i in 0..clause.len() {
                if let Some((kind, len)) = failure_at(clause, i) {
                    let with_verb = kind.takes_verb()
                        && verb_and_object(&clause[i + len..], verb_follows(clause, i)).is_some();
                    if with_verb {
                        return Some((ci, i, kind, len));
                    }
                    first = first.or(Some((ci, i, kind, len)));
                }
            }
        }
        first
    }

    /// A name for a failure message: `<object>_<verb>_failed` when a verb
    /// follows the failure word, `<subject>_<suffix>` otherwise. `None` when
    /// the message reports no failure, or names nothing that failed.
    pub(crate) fn failure_name(&self) -> Option<String> {
        let (ci, i, kind, len) = self.first_failure()?;
        let clause = &self.clauses[ci];
        let before = || {
            let mut s = subject(&clause[..i]);
            let mut k = ci;
            while s.is_empty() && k > 0 {
                k -= 1;
                s = subject(&self.clauses[k]);
            }
            s
        };
        let after = &clause[i + len..];
        if kind.takes_verb() {
            if let Some((verb, object)) = verb_and_object(after, verb_follows(clause, i)) {
                let mut words = if object.is_empty() { before() } else { object };
                words.push(verb);
                words.push("failed".into());
                return finish(words);
            }
        }
        // `No last will message found`: the words between name the thing.
        if word(clause.get(i)) == Some("no") && kind == Failure::NotFound {
            let mut words = object_of(&clause[i + 1..i + len - 1]);
            // `topic no longer exists`: the subject is before.
            words.retain(|w| w != "longer");
            if words.is_empty() {
                words = before();
            }
            if words.is_empty() {
                return None;
            }
            words.push(kind.suffix().into());
            return finish(words);
        }
        let mut words = before();
        // `Invalid config`, `Unsupported authn type`, `error message`: the words
        // after a failure word that opens its clause name the thing.
        if words.is_empty() {
            words = object_of(after);
        }
        if words.is_empty() {
            return None;
        }
        words.push(kind.suffix().into());
        finish(words)
    }

    /// A name from the first words of a message that reports no failure
    /// (`raft_server_handler_slow`); `None` when it has no word that names
    /// anything.
    pub(crate) fn plain_name(&self) -> Option<String> {
        finish(self.first_words(MAX_NAME_WORDS))
    }

    /// A failure name for a message that says what it did but not that it
    /// failed, logged with an error value at `error` or `warn`
    /// (`"remove shard dir {}: {}"` -> `remove_shard_dir_failed`).
    pub(crate) fn action_failure_name(&self) -> Option<String> {
        let mut words = self.first_words(MAX_OBJECT_WORDS);
        if words.is_empty() {
            return None;
        }
        words.push("failed".into());
        finish(words)
    }

    fn first_words(&self, n: usize) -> Vec<String> {
        self.clauses
            .iter()
            .map(|c| content(c))
            .find(|w| !w.is_empty())
            .unwrap_or_default()
            .into_iter()
            .take(n)
            .collect()
    }
}

fn push(clauses: &mut [Vec<Tok>], t: Tok) {
    if let Some(c) = clauses.last_mut() {
        c.push(t);
    }
}

/// Splits text into words and clauses. A `.` inside a word (`Queue.Declare`)
/// and a `-` (`re-register`) join; `_` or a following `=` makes an identifier.
/// Words in brackets are an aside (`(broker shutting down)`, `[{}]`): left out.
fn tokenize(text: &str, clauses: &mut Vec<Vec<Tok>>, aside: &mut usize) {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '(' | '[' | '\u{3010}') {
            *aside += 1;
            i += 1;
            continue;
        }
        if matches!(c, ')' | ']' | '\u{3011}') {
            *aside = aside.saturating_sub(1);
            i += 1;
            continue;
        }
        if *aside > 0 {
            i += 1;
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let raw: String = chars[start..i].iter().collect();
            let keyed = matches!(chars.get(i), Some('=') if chars.get(i + 1) != Some(&'='));
            // `(timeout: {}s)` gives a setting, not a failure.
            let ident = raw.contains('_') && raw.chars().any(|c| c.is_ascii_lowercase());
            let setting = raw.eq_ignore_ascii_case("timeout")
                && chars.get(i) == Some(&':')
                && chars[i + 1..].iter().all(|c| c.is_whitespace());
            if keyed || setting {
                push(clauses, Tok::Value);
            } else if ident
                && chars.get(i) == Some(&':')
                && clauses.last().is_none_or(|c| c.is_empty())
            {
                // `{},client_id:{}` labels a value.
                push(clauses, Tok::Value);
            } else if ident {
                let ident = raw.trim_matches('_').to_ascii_lowercase();
                push(clauses, Tok::Ident(ident));
            } else {
                // `CLIENT_ERROR` is a heading in capitals: its words are prose.
                for w in joined(raw.split('_').flat_map(camel_words).collect()) {
                    push(clauses, Tok::Word(w));
                }
            }
            continue;
        }
        let next = chars.get(i + 1).copied();
        let boundary = match c {
            ',' | ';' | ':' | '|' | '!' | '?' | '{' | '}' => true,
            '.' => next.is_none_or(|n| n.is_whitespace()),
            '-' => {
                next.is_none_or(|n| n.is_whitespace()) && (i == 0 || chars[i - 1].is_whitespace())
            }
            _ => false,
        };
        if boundary {
            clauses.push(Vec::new());
        } else if c == '\'' && matches!(next, Some('t')) {
            // `can't`, `couldn't`: the negation stays with its verb.
            push(clauses, Tok::Word("not".into()));
            i += 1;
        }
        i += 1;
    }
}

/// `PushManager` -> push, manager; `HTTP` -> http; `mq9` -> mq9.
fn camel_words(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = raw.chars().collect();
    for (k, &c) in chars.iter().enumerate() {
        let prev = k.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(k + 1);
        let split = c.is_ascii_uppercase()
            && (prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(|p| p.is_ascii_uppercase())
                    && next.is_some_and(|n| n.is_ascii_lowercase())));
        if split && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Product names that camelCase splits apart (`MySQL`, `RabbitMQ`, `WebSocket`).
const JOINS: [(&str, &str); 6] = [
    ("my", "sql"),
    ("rabbit", "mq"),
    ("mongo", "db"),
    ("web", "socket"),
    ("web", "sockets"),
    ("postgre", "sql"),
];

fn joined(words: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words {
        if let Some(prev) = out.last_mut() {
            if JOINS.iter().any(|(a, b)| prev == a && w == *b) {
                prev.push_str(&w);
                continue;
            }
        }
        out.push(w);
    }
    out
}

fn word(t: Option<&Tok>) -> Option<&str> {
    match t {
        Some(Tok::Word(w)) => Some(w.as_str()),
        _ => None,
    }
}

/// A failure word at `clause[i]`: its kind and how many tokens it spans.
fn failure_at(clause: &[Tok], i: usize) -> Option<(Failure, usize)> {
    failure_and_verb_at(clause, i).map(|(f, n, _)| (f, n))
}

/// Whether the failure word at `clause[i]` is a negated modal whose verb
/// follows at once (`cannot open`, `could not bind`).
fn verb_follows(clause: &[Tok], i: usize) -> bool {
    failure_and_verb_at(clause, i).is_some_and(|(_, _, v)| v)
}

fn failure_and_verb_at(clause: &[Tok], i: usize) -> Option<(Failure, usize, bool)> {
    let w = word(clause.get(i))?;
    let next = word(clause.get(i + 1));
    let modal = matches!(w, "cannot")
        || (matches!(w, "can" | "could" | "couldn" | "did" | "didn") && next == Some("not"));
    failure_kind_at(clause, i).map(|(f, n)| (f, n, modal))
}

fn failure_kind_at(clause: &[Tok], i: usize) -> Option<(Failure, usize)> {
    let w = word(clause.get(i))?;
    let next = word(clause.get(i + 1));
    let two = |n: &str| next == Some(n);
    Some(match w {
        "fail" | "failed" | "fails" | "failure" | "failures" | "failing" => (Failure::Failed, 1),
        "error" | "errors" | "errored" => (Failure::Error, 1),
        "unable" => (Failure::Failed, 1),
        "cannot" => (Failure::Failed, 1),
        "can" | "could" | "couldn" | "did" | "didn" if two("not") => (Failure::Failed, 2),
        "timeout" | "timeouts" => (Failure::Timeout, 1),
        "timed" | "time" if two("out") => (Failure::Timeout, 2),
        "refused" | "refuse" => (Failure::Refused, 1),
        "denied" | "deny" | "forbidden" => (Failure::Denied, 1),
        "rejected" | "reject" | "rejecting" => (Failure::Rejected, 1),
        "invalid" => (Failure::Invalid, 1),
        "unsupported" => (Failure::Unsupported, 1),
        "unreachable" => (Failure::Unreachable, 1),
        "unavailable" => (Failure::Unavailable, 1),
        "not" if two("found") || two("exist") || two("exists") => (Failure::NotFound, 2),
        "not" if two("supported") => (Failure::Unsupported, 2),
        "missing" => (Failure::Missing, 1),
        "unknown" | "unrecognized" | "unrecognised" => (Failure::Unknown, 1),
        // `No last will message found`, `no available broker`.
        "no" if two("available") => (Failure::Unavailable, 2),
        "no" => {
            let found = (i + 2..clause.len().min(i + 7))
                .find(|&k| matches!(word(clause.get(k)), Some("found" | "exists")))?;
            (Failure::NotFound, found - i + 1)
        }
        "panic" | "panicked" | "panics" => (Failure::Panicked, 1),
        "corrupt" | "corrupted" | "corruption" => (Failure::Corrupted, 1),
        "mismatch" | "mismatched" => (Failure::Mismatch, 1),
        "exceeded" | "exceeds" | "exceed" => (Failure::Exceeded, 1),
        "dropped" | "dropping" | "discarded" | "discarding" => (Failure::Dropped, 1),
        "lost" => (Failure::Lost, 1),
        "banned" | "blacklisted" => (Failure::Banned, 1),
        // `does not exist`: the negation before the verb.
        "does" | "do" if two("not") => match word(clause.get(i + 2)) {
            Some("exist") => (Failure::NotFound, 3),
            _ => return None,
        },
        _ => return None,
    })
}

fn is_content(w: &str) -> bool {
    !STOPWORDS.contains(&w)
        && w.starts_with(|c: char| c.is_ascii_lowercase())
        && w.len() > 1
        && !["t", "s", "ms"].contains(&w)
}

/// The content words of a clause, in order.
fn content(clause: &[Tok]) -> Vec<String> {
    clause
        .iter()
        .filter_map(|t| match t {
            Tok::Word(w) if is_content(w) && failure_word(w).is_none() => Some(w.clone()),
            Tok::Ident(id) => Some(id.clone()),
            _ => None,
        })
        .collect()
}

fn failure_word(w: &str) -> Option<Failure> {
    failure_at(&[Tok::Word(w.to_owned())], 0).map(|(f, _)| f)
}

/// What stands before a failure word: the last content words of the clause
/// up to a preposition, without a leading protocol name.
fn subject(toks: &[Tok]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (k, t) in toks.iter().enumerate().rev() {
        match t {
            Tok::Value => continue,
            Tok::Ident(id) => out.push(id.clone()),
            Tok::Word(w) => {
                if PREPOSITIONS.contains(&w.as_str()) && !out.is_empty() {
                    // `flush of shard {} failed`: the action before `of` is
                    // what failed, done to the object after it.
                    let action = word(k.checked_sub(1).and_then(|p| toks.get(p)));
                    if let Some(a) = action.filter(|a| w == "of" && is_content(a)) {
                        out.insert(0, a.to_owned());
                    }
                    break;
                }
                if is_content(w) && failure_word(w).is_none() {
                    out.push(w.clone());
                }
            }
        }
    }
    out.reverse();
    drop_protocol(&mut out);
    let extra = out.len().saturating_sub(MAX_SUBJECT_WORDS);
    out.drain(..extra);
    out
}

fn drop_protocol(words: &mut Vec<String>) {
    if words.len() > 1 && PROTOCOLS.contains(&words[0].as_str()) {
        words.remove(0);
    }
}

/// The object after a verb: content words up to a value, a preposition or
/// the clause's end.
fn object_of(toks: &[Tok]) -> Vec<String> {
    let mut out = Vec::new();
    for t in toks {
        match t {
            Tok::Value => break,
            // `watching metrics_rx`: an identifier can be the object.
            Tok::Ident(id) => out.push(id.clone()),
            Tok::Word(w) if PREPOSITIONS.contains(&w.as_str()) => break,
            Tok::Word(w) if is_content(w) && failure_word(w).is_none() => out.push(w.clone()),
            Tok::Word(_) => {}
        }
        if out.len() == MAX_OBJECT_WORDS {
            break;
        }
    }
    drop_protocol(&mut out);
    out
}

/// After `failed`: `to <verb> <object>`, `<verb>ing <object>`, `while <verb>ing`.
fn verb_and_object(after: &[Tok], direct: bool) -> Option<(String, Vec<String>)> {
    let mut k = 0;
    while let Some(w) = word(after.get(k)) {
        // `failed to actively disconnect`: an adverb is not the verb.
        let adverb = k > 0 && w.len() > 4 && w.ends_with("ly");
        if matches!(w, "to" | "while" | "when" | "in" | "on" | "during" | "not") || adverb {
            k += 1;
        } else {
            break;
        }
    }
    // `failed to get_qos_data_by_client_id`: the function named is what failed.
    if let (Some(Tok::Ident(id)), true) = (after.get(k), k > 0) {
        return Some((id.clone(), Vec::new()));
    }
    let mut verb = word(after.get(k))?.to_owned();
    let follows_to = k > 0 || direct;
    if !(follows_to || verb.ends_with("ing")) || !is_content(&verb) {
        return None;
    }
    k += 1;
    // `re-register`: the prefix stays with its verb.
    if verb == "re" {
        verb = format!("re{}", word(after.get(k))?);
        k += 1;
    }
    if LINKING_VERBS.contains(&verb.as_str()) {
        // `failed to become ready`: the adjective is the verb of the name.
        let adjective = word(after.get(k)).filter(|w| is_content(w))?;
        return Some((adjective.to_owned(), Vec::new()));
    }
    Some((verb, object_of(&after[k..])))
}

/// Joins words into a name that passes the naming rules, or `None`.
fn finish(words: Vec<String>) -> Option<String> {
    let mut name = words
        .iter()
        .map(|w| w.trim_matches('_'))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    while name.len() > 64 {
        let cut = name.find('_')?;
        name = name[cut + 1..].to_owned();
    }
    name_problem(&name).is_none().then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::parse;

    fn read(s: &str) -> Phrase {
        Phrase::read(&parse(s).unwrap())
    }

    #[test]
    fn failure_names_come_from_verb_and_object() {
        for (msg, want) in [
            ("failed to requeue message {}: {}", "message_requeue_failed"),
            ("MQTT broker failed to start: {}", "broker_start_failed"),
            (
                "GRPC server failed to become ready on port {}, exiting",
                "grpc_server_ready_failed",
            ),
            (
                "Failed to re-register node {}: {}",
                "node_reregister_failed",
            ),
            (
                "AMQP Queue.Declare failed for queue={}",
                "queue_declare_failed",
            ),
            ("Raft RPC timed out. machine={}", "raft_rpc_timeout"),
            ("Shard '{}' not found in cache", "shard_not_found"),
            (
                "Kafka: failed to get coordinator leader: {}",
                "coordinator_leader_get_failed",
            ),
            ("Unsupported authn type, skipped", "authn_type_unsupported"),
            ("Error reading stream {}: {}", "stream_reading_failed"),
            ("Task {} failed: join error: {}", "task_failed"),
            ("flush of shard {} failed", "shard_flush_failed"),
            (
                "Heartbeat timeout: failed to purge zombie connection",
                "zombie_connection_purge_failed",
            ),
            (
                "Heartbeat timeout: failed to actively disconnect connection",
                "connection_disconnect_failed",
            ),
            (
                "No last will message found for tenant={}",
                "last_will_message_not_found",
            ),
            ("No available broker for connector {}", "broker_unavailable"),
            (
                "{} stopping: topic no longer exists ({})",
                "topic_not_found",
            ),
            (
                "Error while watching metrics_rx: {}",
                "metrics_rx_watching_failed",
            ),
            ("Unknown connector type {}", "connector_type_unknown"),
            (
                "Kafka UpdateFeatures is not supported yet; rejecting request",
                "update_features_unsupported",
            ),
            (
                "NATS keep-alive PING batch did not finish within timeout",
                "keep_alive_ping_batch_finish_failed",
            ),
            ("connection refused by {}", "connection_refused"),
            ("We can't open the file", "file_open_failed"),
        ] {
            let p = read(msg);
            assert!(p.is_failure(), "{msg}");
            assert_eq!(p.failure_name().as_deref(), Some(want), "{msg}");
        }
    }

    #[test]
    fn a_failure_without_an_object_has_no_name() {
        assert_eq!(read("failed: {}").failure_name(), None);
        assert_eq!(read("{} error").failure_name(), None);
        assert!(read("failed: {}").is_failure());
    }

    #[test]
    fn identifiers_and_field_labels_are_not_prose() {
        let p = read("segment fenced: requester_node_id={} registered={}");
        assert_eq!(p.words(), ["segment", "fenced"]);
        // An aside in brackets is not what the message is about.
        let p = read("Delay task skipped (broker shutting down): task_id={}");
        assert_eq!(p.words(), ["delay", "task", "skipped"]);
        assert!(!read("op=install_snapshot fail_send={}").is_failure());
    }

    #[test]
    fn success_messages_are_no_failures() {
        for msg in [
            "Admin HTTP Server started successfully, listening port: {}",
            "Raft server handler is slow. machine={}",
            "node {} joined the cluster",
        ] {
            assert!(!read(msg).is_failure(), "{msg}");
        }
        assert_eq!(
            read("Raft server handler is slow. machine={}")
                .plain_name()
                .as_deref(),
            Some("raft_server_handler_slow")
        );
    }
}
