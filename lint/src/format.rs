//! The parts of a `format_args!` string that a rewrite needs: literal text,
//! and placeholders with the argument they name and whether they use `Debug`.

/// A piece of a format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Text, with `{{`/`}}` already unescaped.
    Text(String),
    /// `{...}`.
    Placeholder(Placeholder),
}

/// One `{arg:spec}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placeholder {
    pub(crate) arg: ArgRef,
    /// `{:?}`, `{:#?}`, `{x:?}`...
    pub(crate) debug: bool,
    /// Width or precision taken from an argument (`{:1$}`, `{:.*}`): the
    /// arguments then do not map one-to-one onto values.
    pub(crate) uses_args: bool,
}

/// Which argument a placeholder formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArgRef {
    /// `{}`: the next positional argument.
    Next,
    /// `{0}`.
    Index(usize),
    /// `{name}`: a named argument, or a captured variable.
    Name(String),
}

/// Splits a format string value; `None` when it is malformed (rustc would reject it).
pub(crate) fn parse(fmt: &str) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '}' => return None,
            '{' => {
                let mut inner = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        '{' => return None,
                        c => inner.push(c),
                    }
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Placeholder(placeholder(&inner)?));
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Some(pieces)
}

fn placeholder(inner: &str) -> Option<Placeholder> {
    let (arg, spec) = inner.split_once(':').unwrap_or((inner, ""));
    let arg = arg.trim();
    let arg = if arg.is_empty() {
        ArgRef::Next
    } else if let Ok(i) = arg.parse() {
        ArgRef::Index(i)
    } else if arg.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !arg.starts_with(|c: char| c.is_ascii_digit())
    {
        ArgRef::Name(arg.to_owned())
    } else {
        return None;
    };
    Some(Placeholder {
        arg,
        debug: spec.ends_with('?'),
        uses_args: spec.contains('$') || spec.contains('*'),
    })
}

/// The text of a format string without its placeholders: the constant message
/// of the rewritten call. Separators left dangling by a removed value
/// (`"accept tcp connection:{:?}"`) are trimmed.
pub(crate) fn constant_text(pieces: &[Piece]) -> String {
    const GAP: char = '\u{0}';
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(&t.replace(GAP, "")),
            Piece::Placeholder(_) => out.push(GAP),
        }
    }
    let out = drop_value_phrases(&out.chars().collect::<Vec<_>>(), GAP);
    let mut cleaned = String::new();
    let mut after_gap = false;
    for c in out.chars() {
        if c == GAP {
            cleaned.push(' ');
            after_gap = true;
        } else if after_gap && c.is_alphanumeric() {
            continue;
        } else {
            after_gap = false;
            cleaned.push(c);
        }
    }
    // A separator whose neighbour was a value (`rocksdb, {:?}, retry`) stands
    // alone now: it joins the word before it, or goes.
    let mut words: Vec<String> = Vec::new();
    for w in cleaned.split_whitespace() {
        if w.chars().any(char::is_alphanumeric) {
            words.push(w.to_owned());
        } else if let Some(prev) = words.last_mut() {
            let sep = w.chars().next().filter(|c| matches!(c, ',' | ';'));
            if let Some(sep) = sep {
                if prev.ends_with(char::is_alphanumeric) {
                    prev.push(sep);
                }
            }
        }
    }
    // A preposition whose object was the value (`rate limit exceeded for {}`).
    const DANGLING: [&str; 10] = [
        "for", "of", "to", "at", "from", "with", "in", "on", "by", "is",
    ];
    while words.len() > 1 {
        let last = words[words.len() - 1]
            .trim_matches(|c: char| matches!(c, ':' | '=' | ',' | '-' | ';' | '.'))
            .to_ascii_lowercase();
        if !DANGLING.contains(&last.as_str()) {
            break;
        }
        words.pop();
    }
    words
        .join(" ")
        .trim_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '=' | ',' | '-' | ';' | '.'))
        .replace(" :", ":")
        .replace(" ,", ",")
}

/// Units that a value before them measures (`after {} attempts`, `in {} ms`).
const UNITS: [&str; 14] = [
    "ms", "s", "sec", "secs", "seconds", "second", "minutes", "attempts", "attempt", "times",
    "retries", "bytes", "records", "messages",
];

/// Removes the words that only framed a value, keeping a gap in their
/// place: brackets around it (`(attempt {}/{})`), its label after a clause
/// break (`, listening port: {}`, `unique_id={}`), and a measure
/// (`after {} attempts`).
fn drop_value_phrases(text: &[char], gap: char) -> String {
    let s: String = text.iter().collect();
    // Bracket groups that hold a value say nothing once the value is gone.
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(open) = rest.find(['(', '[', '<', '\'', '"', '`']) {
        let o = rest[open..].chars().next().unwrap_or('(');
        let close = match o {
            '(' => ')',
            '[' => ']',
            '<' => '>',
            c => c,
        };
        let after = &rest[open + o.len_utf8()..];
        match after.find(close) {
            Some(end) if after[..end].contains(gap) && !after[..end].contains(['(', '[', '<']) => {
                out.push_str(&rest[..open]);
                out.push(gap);
                rest = &after[end + close.len_utf8()..];
            }
            _ => {
                out.push_str(&rest[..open + o.len_utf8()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    // Labels: `key=` always, `some words:` when a clause break comes before them.
    let chars: Vec<char> = out.chars().collect();
    let mut keep = vec![true; chars.len()];
    for (g, _) in chars.iter().enumerate().filter(|(_, c)| **c == gap) {
        let mut k = g;
        while k > 0 && chars[k - 1] == ' ' {
            k -= 1;
        }
        let Some(&mark) = k.checked_sub(1).and_then(|i| chars.get(i)) else {
            continue;
        };
        if mark != ':' && mark != '=' {
            continue;
        }
        let label_end = k - 1;
        let mut start = label_end;
        while start > 0 && !matches!(chars[start - 1], ',' | ';' | '(' | '.' | ':') {
            start -= 1;
        }
        let label: String = chars[start..label_end].iter().collect();
        let label_words = label.split_whitespace().count();
        let reports_failure = label.to_ascii_lowercase().contains("err")
            || label.to_ascii_lowercase().contains("fail");
        let drop = if mark == '=' {
            label_words == 1 || (start > 0 && label_words <= 3)
        } else {
            start > 0 && label_words <= 4 && !reports_failure
        };
        if drop {
            keep[start..k].iter_mut().for_each(|x| *x = false);
        }
    }
    let out: String = chars
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(c, _)| *c)
        .collect();
    // A measure of a value: `after {} attempts` goes with it.
    let gap_s = gap.to_string();
    // `{}s` is a value with its unit glued on.
    let glued: Vec<String> = out
        .split(' ')
        .flat_map(|w| match w.strip_prefix(gap) {
            Some(rest)
                if UNITS.contains(&rest.trim_end_matches(|c: char| !c.is_alphanumeric())) =>
            {
                let tail = rest.trim_start_matches(char::is_alphanumeric);
                vec![
                    gap_s.clone(),
                    format!("{}{tail}", &rest[..rest.len() - tail.len()]),
                ]
            }
            _ => vec![w.to_owned()],
        })
        .collect();
    let words: Vec<&str> = glued.iter().map(String::as_str).collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let is_gap = w == gap.to_string();
        let unit = words.get(i + 1).map(|u| {
            u.trim_end_matches(|c: char| !c.is_alphanumeric())
                .to_ascii_lowercase()
        });
        if is_gap && unit.as_deref().is_some_and(|u| UNITS.contains(&u)) {
            let measured = kept.last().is_some_and(|p| {
                ["after", "in", "for", "within", "every", "than", "of"]
                    .contains(&p.to_ascii_lowercase().as_str())
            });
            if measured {
                kept.pop();
            }
            let next = words[i + 1];
            let tail = next.trim_start_matches(char::is_alphanumeric);
            kept.push(w);
            if !tail.is_empty() {
                kept.push(tail);
            }
            i += 2;
            continue;
        }
        // `requeue message from {} on close`: a preposition whose object
        // was the value, before another preposition.
        const PREPS: [&str; 8] = ["of", "for", "to", "from", "in", "on", "at", "by"];
        let is_prep = |x: &str| PREPS.contains(&x.to_ascii_lowercase().as_str());
        if is_gap
            && kept.last().is_some_and(|p| is_prep(p))
            && words.get(i + 1).is_some_and(|n| is_prep(n))
        {
            kept.pop();
        }
        // `session {} of {} expired`: a preposition between two values.
        if is_gap && kept.len() >= 2 && kept[kept.len() - 2] == gap_s {
            let p = kept[kept.len() - 1].to_ascii_lowercase();
            if ["of", "for", "to", "from", "in", "on", "at", "by"].contains(&p.as_str()) {
                kept.pop();
                i += 1;
                continue;
            }
        }
        kept.push(w);
        i += 1;
    }
    kept.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_escapes() {
        let p = parse("a {{b}} {} {:?} {0} {name:#?} {:>5} {:1$}").unwrap();
        let phs: Vec<&Placeholder> = p
            .iter()
            .filter_map(|p| match p {
                Piece::Placeholder(ph) => Some(ph),
                _ => None,
            })
            .collect();
        assert_eq!(p[0], Piece::Text("a {b} ".into()));
        assert_eq!(phs.len(), 6);
        assert_eq!((phs[0].arg.clone(), phs[0].debug), (ArgRef::Next, false));
        assert_eq!((phs[1].arg.clone(), phs[1].debug), (ArgRef::Next, true));
        assert_eq!(phs[2].arg, ArgRef::Index(0));
        assert_eq!(
            (phs[3].arg.clone(), phs[3].debug),
            (ArgRef::Name("name".into()), true)
        );
        assert!(!phs[4].uses_args && phs[5].uses_args);
        assert_eq!(parse("{"), None);
        assert_eq!(parse("}"), None);
        assert_eq!(parse("{a b}"), None);
    }

    #[test]
    fn constant_text_drops_dangling_separators() {
        let c = |s: &str| constant_text(&parse(s).unwrap());
        assert_eq!(c("accept tcp connection:{:?}"), "accept tcp connection");
        assert_eq!(c("connect [{}] login success"), "connect login success");
        assert_eq!(c("{}"), "");
        assert_eq!(c("a {{x}} b={}"), "a {x} b");
        assert_eq!(c("session {} expired after {}s."), "session expired");
        assert_eq!(c("session {} of {} expired"), "session expired");
        assert_eq!(
            c("failed to requeue message from {} on connection close: {}"),
            "failed to requeue message on connection close"
        );
        assert_eq!(
            c("Raft RPC timed out. machine={}, op=append_entries, target={}, timeout={}s"),
            "Raft RPC timed out. op=append_entries"
        );
        assert_eq!(c("peer '{}' closed: {:?}"), "peer closed");
        assert_eq!(
            c("write {} to rocksdb, {:?}, retry"),
            "write to rocksdb, retry"
        );
        // A value's label, brackets and measure go with it: the rest reads as a sentence.
        assert_eq!(
            c("Admin HTTP Server started successfully, listening port: {}, access logging and CORS enabled"),
            "Admin HTTP Server started successfully, access logging and CORS enabled"
        );
        assert_eq!(
            c("Delay message delivery failed (attempt {}/{}), retrying in {}s: unique_id={}, error={}"),
            "Delay message delivery failed, retrying"
        );
        assert_eq!(
            c("Delay message delivery failed after {} attempts, dropping: unique_id={}"),
            "Delay message delivery failed, dropping"
        );
        assert_eq!(
            c("broker stop signal, error message:{}"),
            "broker stop signal, error message"
        );
        assert_eq!(c("Failed to load cache: {}"), "Failed to load cache");
    }
}
