//! Finds tracing call sites in Rust source with `syn` and reads their
//! level, `event` field and event name.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::visit::Visit;

/// One tracing macro call.
#[derive(Debug, Clone)]
pub(crate) struct CallSite {
    pub(crate) line: usize,
    pub(crate) col: usize,
    pub(crate) macro_name: String,
    /// `error` .. `trace`, or `None` when an `event!` level is not a plain `Level::X`.
    pub(crate) level: Option<&'static str>,
    pub(crate) event: EventField,
}

/// What the call's event field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EventField {
    /// No event field: the call is unstructured.
    Missing,
    /// A string literal.
    Literal(String),
    /// An expression whose value is only known at run time.
    Dynamic(String),
}

const LEVEL_MACROS: [(&str, &str); 5] = [
    ("error", "error"),
    ("warn", "warn"),
    ("info", "info"),
    ("debug", "debug"),
    ("trace", "trace"),
];

struct Finder<'a> {
    event_field: &'a str,
    out: Vec<CallSite>,
}

/// Every tracing call in `file`, including calls nested in other macros whose
/// arguments parse as Rust expressions or statements.
pub(crate) fn scan(file: &syn::File, event_field: &str) -> Vec<CallSite> {
    let mut f = Finder {
        event_field,
        out: Vec::new(),
    };
    f.visit_file(file);
    f.out.sort_by_key(|c| (c.line, c.col));
    f.out
}

fn tracing_macro(path: &syn::Path) -> Option<&'static str> {
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let (last, prefix) = segs.split_last()?;
    // `info!` or `tracing::info!` (also `::tracing::info!`); `log::info!` is not ours.
    if !(prefix.is_empty() || prefix == ["tracing"]) {
        return None;
    }
    if last == "event" {
        return Some("event");
    }
    LEVEL_MACROS
        .iter()
        .find(|(m, _)| m == last)
        .map(|(m, _)| *m)
}

/// Splits a token stream at top-level commas.
fn split_commas(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut out = vec![Vec::new()];
    for tt in tokens {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => out.push(Vec::new()),
            _ => out.last_mut().map(|v| v.push(tt)).unwrap_or(()),
        }
    }
    out.retain(|v| !v.is_empty());
    out
}

fn is_punct(tt: Option<&TokenTree>, c: char) -> bool {
    matches!(tt, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

/// `target: x`, `parent: x`, `name: x` (a single `:`, not a path's `::`).
fn is_keyword_arg(seg: &[TokenTree]) -> bool {
    matches!(seg.first(), Some(TokenTree::Ident(i)) if ["target", "parent", "name"].contains(&i.to_string().as_str()))
        && is_punct(seg.get(1), ':')
        && !is_punct(seg.get(2), ':')
}

fn level_of_expr(seg: &[TokenTree]) -> Option<&'static str> {
    let text: String = seg.iter().map(|t| t.to_string()).collect();
    let last = text.rsplit("::").next()?.trim();
    match last {
        "ERROR" => Some("error"),
        "WARN" => Some("warn"),
        "INFO" => Some("info"),
        "DEBUG" => Some("debug"),
        "TRACE" => Some("trace"),
        _ => None,
    }
}

/// The field name and value tokens of a field segment, or None for the message.
fn field(seg: &[TokenTree]) -> Option<(String, Vec<TokenTree>)> {
    let mut toks = seg;
    // `?x` / `%x` sigils belong to the value.
    if is_punct(toks.first(), '?') || is_punct(toks.first(), '%') {
        toks = &toks[1..];
    }
    if let Some(TokenTree::Literal(_)) = toks.first() {
        // A string literal: the start of the message (or a quoted field name before `=`).
        if !is_punct(toks.get(1), '=') {
            return None;
        }
    }
    match toks
        .iter()
        .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == '='))
    {
        Some(eq) if !is_punct(toks.get(eq + 1), '=') => {
            let name: String = toks[..eq].iter().map(|t| t.to_string()).collect::<String>();
            Some((
                name.trim_matches('"').replace(' ', ""),
                toks[eq + 1..].to_vec(),
            ))
        }
        _ => {
            // Shorthand `x`, `?x`, `%x`, `a.b`: named after the expression, valued by it.
            let name: String = toks.iter().map(|t| t.to_string()).collect::<String>();
            Some((name.replace(' ', ""), toks.to_vec()))
        }
    }
}

fn event_value(value: &[TokenTree]) -> EventField {
    let mut v = value;
    if is_punct(v.first(), '?') || is_punct(v.first(), '%') {
        v = &v[1..];
    }
    if let [TokenTree::Literal(lit)] = v {
        if let Ok(syn::Lit::Str(s)) = syn::parse_str::<syn::Lit>(&lit.to_string()) {
            return EventField::Literal(s.value());
        }
    }
    EventField::Dynamic(
        v.iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" "),
    )
}

impl Finder<'_> {
    fn record(&mut self, mac: &syn::Macro, name: &'static str) {
        let start = span_start(
            mac.path
                .segments
                .first()
                .map(|s| s.ident.span())
                .unwrap_or_else(Span::call_site),
        );
        let mut segs = split_commas(mac.tokens.clone());
        // Keyword arguments (`target:`, `parent:`, `name:`) come first, in any order.
        let mut i = 0;
        while i < segs.len() && is_keyword_arg(&segs[i]) {
            i += 1;
        }
        let mut level = LEVEL_MACROS
            .iter()
            .find(|(m, _)| *m == name)
            .map(|(_, l)| *l);
        if name == "event" {
            level = segs.get(i).and_then(|s| level_of_expr(s));
            i += 1;
        }
        let mut event = EventField::Missing;
        for seg in segs.drain(i.min(segs.len())..) {
            let Some((fname, value)) = field(&seg) else {
                break; // the message and its format arguments
            };
            if fname == self.event_field {
                event = event_value(&value);
            }
        }
        self.out.push(CallSite {
            line: start.0,
            col: start.1,
            macro_name: name.to_owned(),
            level,
            event,
        });
    }

    /// Looks inside a non-tracing macro: `vec![..]`, `tokio::select! {..}`,
    /// `assert!(..)`... whatever parses as expressions or statements.
    fn nested(&mut self, tokens: &TokenStream) {
        if let Ok(block) = syn::parse2::<BlockBody>(tokens.clone()) {
            for stmt in &block.0 {
                self.visit_stmt(stmt);
            }
            return;
        }
        for seg in split_commas(tokens.clone()) {
            let ts: TokenStream = seg.into_iter().collect();
            if let Ok(e) = syn::parse2::<syn::Expr>(ts.clone()) {
                self.visit_expr(&e);
            } else {
                // `pattern => expr` arms (select!, matches!): look at groups inside.
                for tt in ts {
                    if let TokenTree::Group(g) = tt {
                        if g.delimiter() != Delimiter::None {
                            self.nested(&g.stream());
                        }
                    }
                }
            }
        }
    }
}

/// Statements without surrounding braces.
struct BlockBody(Vec<syn::Stmt>);

impl syn::parse::Parse for BlockBody {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        Ok(BlockBody(syn::Block::parse_within(input)?))
    }
}

fn span_start(span: Span) -> (usize, usize) {
    let lc = span.start();
    (lc.line, lc.column + 1)
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        match tracing_macro(&mac.path) {
            Some(name) => self.record(mac, name),
            None => self.nested(&mac.tokens),
        }
        syn::visit::visit_macro(self, mac);
    }
}
