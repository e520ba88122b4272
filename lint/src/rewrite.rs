//! The names file (`suggest` writes it, a reviewer edits it, `fix` applies it)
//! and the rewrite of one file's listed calls.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::level::Level;
use crate::names::name_problem;
use crate::scan::{CallSite, EventField};
use crate::source::calls_in;

/// The reviewed names file: one `[[call]]` table per call site.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamesFile {
    /// The call sites, in file and line order.
    #[serde(rename = "call", default)]
    pub calls: Vec<NamedCall>,
}

/// One call site and the standard form to rewrite it into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedCall {
    /// Path relative to the directory given to `suggest` and `fix`, with `/`.
    pub file: String,
    /// The line the call was on when suggested (a hint: the fingerprint decides).
    pub line: usize,
    /// The call's token hash when suggested.
    pub fingerprint: String,
    /// The call's level, for the reviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// The original format string, for the reviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    /// The event name to add.
    pub event: String,
    /// Where the name came from (`taxonomy` or `message`), for the reviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Something for the reviewer to decide (a level that differs from the
    /// taxonomy's, a name proposed at two levels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Fields to add, in tracing syntax (`?addr`, `connection_id = %c.id`).
    #[serde(default)]
    pub fields: Vec<String>,
    /// Fields the call has already, to rename: old name -> new name
    /// (`{ err = "error" }`). Their values stay as written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rename: BTreeMap<String, String>,
    /// The constant message that replaces the format string (shown as written:
    /// braces are escaped by the rewrite).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What became of one listed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Rewritten into the standard form.
    Rewritten {
        /// Where the call is now.
        line: usize,
    },
    /// Already carries the listed event (a second run of `fix`).
    AlreadyDone,
    /// Left untouched, and why.
    NotRewritten(String),
}

/// Rewrites the listed calls of one file's text. Returns the new text (None
/// when nothing changed) and an outcome per entry, in the entries' order.
/// Bytes outside the rewritten calls are kept as they are; when the result
/// would not parse, nothing is rewritten.
pub fn fix_text(
    text: &str,
    entries: &[&NamedCall],
    event_field: &str,
) -> (Option<String>, Vec<Outcome>) {
    let calls = match calls_in(text, event_field) {
        Ok(c) => c,
        Err(s) => {
            let why = format!("the file was skipped: {}", s.message);
            return (
                None,
                entries
                    .iter()
                    .map(|_| Outcome::NotRewritten(why.clone()))
                    .collect(),
            );
        }
    };
    let mut claimed = vec![false; calls.len()];
    let mut outcomes = Vec::with_capacity(entries.len());
    let mut edits: Vec<(std::ops::Range<usize>, String, usize)> = Vec::new();
    for entry in entries {
        let matching =
            |c: &CallSite| c.event == EventField::Missing && c.fingerprint == entry.fingerprint;
        let pick = calls
            .iter()
            .enumerate()
            .filter(|(i, c)| !claimed[*i] && matching(c))
            .min_by_key(|(_, c)| c.line.abs_diff(entry.line));
        let Some((i, call)) = pick else {
            let done = calls
                .iter()
                .any(|c| c.event == EventField::Literal(entry.event.clone()));
            outcomes.push(if done {
                Outcome::AlreadyDone
            } else {
                Outcome::NotRewritten(
                    "no unstructured call with this fingerprint: the call changed since `suggest`"
                        .into(),
                )
            });
            continue;
        };
        claimed[i] = true;
        match rewrite_call(text, call, entry, event_field) {
            Ok(body) => {
                outcomes.push(Outcome::Rewritten { line: call.line });
                edits.push((call.parts.body.clone(), body, outcomes.len() - 1));
            }
            Err(why) => outcomes.push(Outcome::NotRewritten(why)),
        }
    }
    if edits.is_empty() {
        return (None, outcomes);
    }
    edits.sort_by_key(|(r, _, _)| std::cmp::Reverse(r.start));
    let mut out = text.to_owned();
    for (range, body, _) in &edits {
        out.replace_range(range.clone(), body);
    }
    // The rewritten file must parse and hold the same calls, now structured.
    let ok = match calls_in(&out, event_field) {
        Ok(after) => {
            after.len() == calls.len()
                && after
                    .iter()
                    .filter(|c| c.event == EventField::Missing)
                    .count()
                    == calls
                        .iter()
                        .filter(|c| c.event == EventField::Missing)
                        .count()
                        - edits.len()
        }
        Err(_) => false,
    };
    if !ok {
        for (_, _, idx) in &edits {
            outcomes[*idx] =
                Outcome::NotRewritten("the rewritten file would not parse; left as it was".into());
        }
        return (None, outcomes);
    }
    (Some(out), outcomes)
}

/// A field as written (`error = %e`, `%e`, `e`) under a new name, its value
/// unchanged.
fn renamed_field(written: &str, name: &str, new: &str) -> Result<String, String> {
    if !new.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        || !new
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(format!(
            "the new field name {new:?} is not a plain identifier"
        ));
    }
    let shorthand = written.trim_start_matches(['?', '%']);
    if shorthand == name {
        return Ok(format!("{new} = {written}"));
    }
    match written.split_once('=') {
        Some((_, value)) => Ok(format!("{new} ={value}")),
        None => Err(format!(
            "cannot rename field {name:?} as written: {written}"
        )),
    }
}

/// The new body (between the delimiters) of one call.
fn rewrite_call(
    text: &str,
    call: &CallSite,
    entry: &NamedCall,
    event_field: &str,
) -> Result<String, String> {
    if let Some(p) = name_problem(&entry.event) {
        return Err(format!("event name {:?} {p}", entry.event));
    }
    if let Some(why) = call.parts.not_rewritable {
        return Err(format!("not safe to rewrite: {why}"));
    }
    let p = &call.parts;
    let mut args: Vec<String> = p
        .leading
        .iter()
        .map(|r| text[r.clone()].to_owned())
        .collect();
    args.push(format!("{event_field} = {:?}", entry.event));
    for (name, r) in &p.fields {
        let written = text[r.clone()].trim();
        args.push(match entry.rename.get(name) {
            None => written.to_owned(),
            Some(new) => renamed_field(written, name, new)?,
        });
    }
    for f in &entry.fields {
        let f = f.trim();
        if f.is_empty() || f.contains(['\n', '\r']) {
            return Err(format!("field {f:?} is empty or spans lines"));
        }
        args.push(f.to_owned());
    }
    match &entry.message {
        Some(m) if p.format.is_some() => {
            args.push(format!("{:?}", m.replace('{', "{{").replace('}', "}}")))
        }
        Some(_) => return Err("a message is listed but the call has none".into()),
        None if p.format.is_some() => {
            return Err("the call has a message but the entry lists none".into())
        }
        None => {}
    }

    // The call alone must scan as one structured call with the new fields
    // and no format arguments.
    let line_start = text[..p.call.start].rfind('\n').map_or(0, |i| i + 1);
    let indent: String = text[line_start..p.call.start]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect();
    let head = &text[p.call.start..p.body.start];
    let tail = &text[p.body.end..p.call.end];
    let one_line = args.join(", ");
    let single = !text[p.call.clone()].contains('\n')
        && !one_line.contains('\n')
        && (p.call.start - line_start) + head.len() + one_line.len() + tail.len() <= 100;
    // A file with Windows line ends keeps them.
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let body = if single {
        one_line
    } else {
        let mut b = String::from(nl);
        for a in &args {
            b.push_str(&format!("{indent}    {a},{nl}"));
        }
        b.push_str(&indent);
        b
    };
    let probe = format!("fn probe() {{ {head}{body}{tail}; }}");
    let probed = calls_in(&probe, event_field)
        .map_err(|_| "the rewritten call would not parse (check the fields)".to_owned())?;
    match probed.as_slice() {
        [c] if c.event == EventField::Literal(entry.event.clone())
            && c.parts.format_args.is_empty()
            && c.parts.fields.len() == p.fields.len() + entry.fields.len() + 1 => {}
        _ => return Err(
            "the rewritten call would not read as one call with these fields (check the fields)"
                .into(),
        ),
    }
    Ok(body)
}
