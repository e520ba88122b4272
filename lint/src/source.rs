//! One source file in, its tracing calls out: lexing, the nesting bound,
//! parsing, scanning.

use proc_macro2::{TokenStream, TokenTree};

use crate::scan::{self, CallSite};

/// Deepest nesting of `()`, `[]` and `{}` a file may have before it is reported
/// and skipped. `syn` parses nesting by recursion; real code stays far below
/// this (rustc itself gives up at 256 levels of macro recursion).
pub const MAX_NESTING: usize = 256;

/// Stack size for threads that parse. `syn` recurses on expressions that need
/// no brackets too (`!!!!x`, `a + a + ... + a`); what the nesting bound does not
/// catch this stack absorbs (it is reserved address space, touched only when used).
pub const PARSER_STACK_BYTES: usize = 256 << 20;

/// Why a file was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Why it was skipped.
    pub kind: SkipKind,
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column of the problem.
    pub column: usize,
    /// What went wrong, for a person.
    pub message: String,
}

/// Why a file was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipKind {
    /// The lexer or the parser rejects it.
    ParseError,
    /// Its brackets nest deeper than [`MAX_NESTING`].
    TooDeep,
}

/// The tracing calls in one file's source text, or why the file was skipped.
///
/// Spans are resolved before returning and the thread's span table is then
/// cleared, so scanning many files on one thread does not accumulate them.
///
/// A file in which no `error`/`warn`/`info`/`debug`/`trace`/`event` macro name
/// stands before a `!` has no calls and is not parsed (most files of a large
/// tree): its parse errors, if any, are the compiler's business.
pub fn calls_in(text: &str, event_field: &str) -> Result<Vec<CallSite>, Skipped> {
    if !may_call_tracing(text) {
        return Ok(Vec::new());
    }
    let result = parse_and_scan(text, event_field);
    proc_macro2::extra::invalidate_current_thread_spans();
    result
}

/// Whether some `!` follows one of the tracing macro names (spaces allowed
/// between): a superset of the files that have calls.
fn may_call_tracing(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        if b != b'!' {
            return false;
        }
        let mut end = i;
        while end > 0 && bytes[end - 1].is_ascii_whitespace() {
            end -= 1;
        }
        let mut start = end;
        while start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            start -= 1;
        }
        matches!(
            &bytes[start..end],
            b"error" | b"warn" | b"info" | b"debug" | b"trace" | b"event"
        )
    })
}

/// A `#!` first line (not `#![attr]`) and a byte-order mark are not Rust
/// tokens; blanking them keeps every byte offset and line number.
fn blank_preamble(text: &str) -> std::borrow::Cow<'_, str> {
    let mut owned: Option<String> = None;
    if let Some(rest) = text.strip_prefix('\u{feff}') {
        owned = Some(format!("   {rest}"));
    }
    let t = owned.as_deref().unwrap_or(text);
    if t.starts_with("#!") && !t[2..].trim_start().starts_with('[') {
        let end = t.find('\n').unwrap_or(t.len());
        let blanked = format!("{}{}", " ".repeat(end), &t[end..]);
        return blanked.into();
    }
    match owned {
        Some(s) => s.into(),
        None => text.into(),
    }
}

fn parse_and_scan(text: &str, event_field: &str) -> Result<Vec<CallSite>, Skipped> {
    let text = blank_preamble(text);
    let tokens: TokenStream = text
        .parse()
        .map_err(|e: proc_macro2::LexError| parse_error(e.span().start(), &e))?;
    if let Some((depth, line, column)) = too_deep(&tokens) {
        return Err(Skipped {
            kind: SkipKind::TooDeep,
            line,
            column,
            message: format!(
                "skipped, brackets nest deeper than {MAX_NESTING} levels (at least {depth})"
            ),
        });
    }
    let file: syn::File = syn::parse2(tokens).map_err(|e| parse_error(e.span().start(), &e))?;
    Ok(scan::scan(&file, &text, event_field))
}

/// A file the lexer or the parser rejects, at the place it names.
fn parse_error(at: proc_macro2::LineColumn, e: &dyn std::fmt::Display) -> Skipped {
    Skipped {
        kind: SkipKind::ParseError,
        line: at.line.max(1),
        column: at.column + 1,
        message: format!("skipped, does not parse: {e}"),
    }
}

/// The first place where groups nest deeper than [`MAX_NESTING`], found
/// without recursion (the lexer builds nested groups without recursion too).
fn too_deep(tokens: &TokenStream) -> Option<(usize, usize, usize)> {
    let mut stack = vec![tokens.clone().into_iter()];
    while let Some(top) = stack.last_mut() {
        match top.next() {
            Some(TokenTree::Group(g)) => {
                if stack.len() > MAX_NESTING {
                    let lc = g.span_open().start();
                    return Some((stack.len(), lc.line, lc.column + 1));
                }
                stack.push(g.stream().into_iter());
            }
            Some(_) => {}
            None => {
                stack.pop();
            }
        }
    }
    None
}

/// String constants declared in an events registry module (`--events`):
/// `const CONNECTION_ACCEPTED: &str = "connection_accepted";`, nested modules included.
pub fn string_constants_in(text: &str) -> Result<Vec<(String, String)>, Skipped> {
    let result = (|| {
        let text = blank_preamble(text);
        let tokens: TokenStream = text.parse().map_err(|e: proc_macro2::LexError| Skipped {
            kind: SkipKind::ParseError,
            line: e.span().start().line.max(1),
            column: e.span().start().column + 1,
            message: format!("does not parse: {e}"),
        })?;
        if let Some((depth, line, column)) = too_deep(&tokens) {
            return Err(Skipped {
                kind: SkipKind::TooDeep,
                line,
                column,
                message: format!("brackets nest deeper than {MAX_NESTING} levels ({depth})"),
            });
        }
        let file: syn::File = syn::parse2(tokens).map_err(|e| Skipped {
            kind: SkipKind::ParseError,
            line: e.span().start().line.max(1),
            column: e.span().start().column + 1,
            message: format!("does not parse: {e}"),
        })?;
        Ok(scan::string_constants(&file))
    })();
    proc_macro2::extra::invalidate_current_thread_spans();
    result
}

/// Runs `f` on a thread with a [`PARSER_STACK_BYTES`] stack: for callers (tests,
/// fuzzers) that parse one input outside the linter's own worker threads.
pub fn with_parser_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("robustmq-log-lint-parser".into())
            .stack_size(PARSER_STACK_BYTES)
            .spawn_scoped(s, f)
            .expect("spawn a parser thread")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
