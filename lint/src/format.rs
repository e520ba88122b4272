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
    // Brackets and quotes around a removed value (`connect [{}] login`) say
    // nothing, nor does a unit glued to it (`after {}s`).
    for pair in ["[]", "()", "<>", "{}", "''", "\"\"", "``"] {
        let mut chars = pair.chars();
        let (open, close) = (chars.next().unwrap_or(' '), chars.next().unwrap_or(' '));
        out = out.replace(&format!("{open}{GAP}{close}"), &GAP.to_string());
    }
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
    // A separator whose neighbour was a value (`rocksdb, {:?}, retry`) stands alone now.
    let squeezed = cleaned
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect::<Vec<_>>()
        .join(" ");
    let mut words: Vec<&str> = squeezed.split(' ').collect();
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
        assert_eq!(c("session {} expired after {}s."), "session expired after");
        assert_eq!(c("peer '{}' closed: {:?}"), "peer closed");
        assert_eq!(
            c("write {} to rocksdb, {:?}, retry"),
            "write to rocksdb, retry"
        );
    }
}
