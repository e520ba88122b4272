//! Finds tracing call sites in a parsed file with `syn` and reads, for each,
//! its level, `event` field, message and the byte ranges a rewrite needs.

use std::ops::Range;

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::visit::Visit;

use crate::level::Level;

/// One tracing macro call.
#[derive(Debug, Clone)]
pub struct CallSite {
    /// 1-based line of the macro's path.
    pub line: usize,
    /// 1-based column (in characters) of the macro's path.
    pub column: usize,
    /// `error` .. `trace`, or `event`.
    pub macro_name: &'static str,
    /// The call's level; `None` when an `event!` level is not a plain `Level::X`.
    pub level: Option<Level>,
    /// What the `event` field holds.
    pub event: EventField,
    /// The message's format string (its value, unescaped), when it is a string literal.
    pub message: Option<String>,
    /// A hash of the call's tokens: the same call keeps it when lines move or
    /// whitespace changes.
    pub fingerprint: String,
    /// Where the call's parts are in the source, for a rewrite.
    pub parts: CallParts,
}

/// What a call's event field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventField {
    /// No event field: the call is unstructured.
    Missing,
    /// A string literal (plain, or `%"..."`).
    Literal(String),
    /// A path such as `EV` or `events::CONNECTION_ACCEPTED`: a constant when
    /// the events registry declares its last segment.
    Path(String),
    /// Anything else (`%e`, `?e`, `format!(..)`, `?"x"`): known only at run time.
    Dynamic(String),
}

/// Byte ranges of a call's parts in the source text.
#[derive(Debug, Clone, Default)]
pub struct CallParts {
    /// The whole call, from the macro path to the closing delimiter.
    pub call: Range<usize>,
    /// Between the delimiters.
    pub body: Range<usize>,
    /// `target:`/`parent:`/`name:` arguments and `event!`'s level, as written.
    pub leading: Vec<Range<usize>>,
    /// Fields before the message: name and source range.
    pub fields: Vec<(String, Range<usize>)>,
    /// For each of `fields`, a snake_case name of its value expression
    /// (`e` for `%e`, `client_id` for `conn.client_id()`); empty for a
    /// braced field set.
    pub field_hints: Vec<String>,
    /// For each of `fields`, how it records its value; the default for a
    /// braced field set.
    pub field_values: Vec<FieldValue>,
    /// The message's format string literal.
    pub format: Option<Range<usize>>,
    /// Format arguments after the message.
    pub format_args: Vec<FormatArg>,
    /// Why a rewrite would not be safe, if it would not: a part without a
    /// source position (made by a macro), a comment between arguments, a
    /// message that is not a literal, a braced field set.
    pub not_rewritable: Option<&'static str>,
}

/// How a field records its value: through Display (`%x`), Debug (`?x`) or as
/// a value (`x`), and the string when the value is a string literal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldValue {
    /// `'%'` (Display) or `'?'` (Debug) when the value has a sigil.
    pub sigil: Option<char>,
    /// The string when the value is a string literal (`protocol = "tcp"`).
    pub literal: Option<String>,
}

impl FieldValue {
    fn of(value: &[TokenTree]) -> Self {
        let (sigil, v) = match value.first() {
            Some(TokenTree::Punct(p)) if matches!(p.as_char(), '?' | '%') => {
                (Some(p.as_char()), &value[1..])
            }
            _ => (None, value),
        };
        let literal = match v {
            [TokenTree::Literal(lit)] => match syn::parse_str::<syn::Lit>(&lit.to_string()) {
                Ok(syn::Lit::Str(s)) => Some(s.value()),
                _ => None,
            },
            _ => None,
        };
        FieldValue { sigil, literal }
    }
}

/// One argument after the format string.
#[derive(Debug, Clone)]
pub struct FormatArg {
    /// `name` in `name = expr`, the named-argument form.
    pub name: Option<String>,
    /// The value expression, as written.
    pub expr: String,
    /// A snake_case name derived from the expression (`addr`, `connection_id`).
    pub hint: String,
    /// True when `expr` is a single identifier, so `?x` / `%x` shorthand fits.
    pub is_ident: bool,
}

/// Every tracing call in `file`, including calls nested in other macros whose
/// arguments parse as Rust expressions or statements; sorted by position.
pub(crate) fn scan(file: &syn::File, source: &str, event_field: &str) -> Vec<CallSite> {
    let mut f = Finder {
        event_field,
        source,
        out: Vec::new(),
    };
    f.visit_file(file);
    f.out.sort_by_key(|c| (c.line, c.column));
    f.out
}

struct Finder<'a> {
    event_field: &'a str,
    source: &'a str,
    out: Vec<CallSite>,
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
    Level::from_name(last).map(Level::as_str)
}

/// Splits a token stream at top-level commas.
fn split_commas(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut out = vec![Vec::new()];
    for tt in tokens {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => out.push(Vec::new()),
            _ => {
                if let Some(v) = out.last_mut() {
                    v.push(tt);
                }
            }
        }
    }
    out.retain(|v| !v.is_empty());
    out
}

fn is_punct(tt: Option<&TokenTree>, c: char) -> bool {
    matches!(tt, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

/// `target: x`, `parent: x`, `name: x`: a single `:` (not joined into a
/// path's `::`; the value may itself start with `::`).
fn is_keyword_arg(seg: &[TokenTree]) -> bool {
    matches!(seg.first(), Some(TokenTree::Ident(i)) if ["target", "parent", "name"].contains(&i.to_string().as_str()))
        && matches!(seg.get(1), Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == proc_macro2::Spacing::Alone)
}

fn level_of_expr(seg: &[TokenTree]) -> Option<Level> {
    let text: String = seg.iter().map(|t| t.to_string()).collect();
    // `Level::WARN` is the constant of the level named `warn`.
    Level::from_name(&text.rsplit("::").next()?.trim().to_ascii_lowercase())
}

fn tokens_text(toks: &[TokenTree]) -> String {
    toks.iter().cloned().collect::<TokenStream>().to_string()
}

/// The field name and value tokens of a field segment, or None for the message.
fn field(seg: &[TokenTree]) -> Option<(String, Vec<TokenTree>)> {
    let mut toks = seg;
    // `?x` / `%x` sigils belong to the value.
    let sigil = is_punct(toks.first(), '?') || is_punct(toks.first(), '%');
    if sigil {
        toks = &toks[1..];
    }
    if let Some(TokenTree::Literal(_)) = toks.first() {
        // A string literal: the message (or a quoted field name before `=`).
        if sigil || !is_punct(toks.get(1), '=') {
            return None;
        }
    }
    match toks
        .iter()
        .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == '='))
    {
        Some(eq) if !sigil && !is_punct(toks.get(eq + 1), '=') => {
            let name: String = toks[..eq].iter().map(|t| t.to_string()).collect();
            Some((
                name.trim_matches('"').replace(' ', ""),
                toks[eq + 1..].to_vec(),
            ))
        }
        _ => {
            // Shorthand `x`, `?x`, `%x`, `a.b`: named after the expression, valued
            // by it. Anything else (`concat!(..)`, `MSG.trim()`) is the message.
            let dotted = toks.iter().enumerate().all(|(i, t)| match t {
                TokenTree::Ident(_) => i % 2 == 0,
                TokenTree::Punct(p) => i % 2 == 1 && p.as_char() == '.',
                _ => false,
            }) && toks.len() % 2 == 1;
            if !dotted {
                return None;
            }
            let name: String = toks.iter().map(|t| t.to_string()).collect();
            Some((name, seg.to_vec()))
        }
    }
}

fn event_value(value: &[TokenTree]) -> EventField {
    let text = tokens_text(value);
    let (sigil, v) = match value.first() {
        Some(TokenTree::Punct(p)) if matches!(p.as_char(), '?' | '%') => {
            (Some(p.as_char()), &value[1..])
        }
        _ => (None, value),
    };
    if let [TokenTree::Literal(lit)] = v {
        if let Ok(syn::Lit::Str(s)) = syn::parse_str::<syn::Lit>(&lit.to_string()) {
            // `?"x"` logs the Debug form, quotes included: not the name it shows.
            return if sigil == Some('?') {
                EventField::Dynamic(text)
            } else {
                EventField::Literal(s.value())
            };
        }
    }
    if sigil.is_none() {
        let ts: TokenStream = v.iter().cloned().collect();
        if let Ok(syn::Expr::Path(p)) = syn::parse2::<syn::Expr>(ts) {
            if p.qself.is_none() && p.path.segments.iter().all(|s| s.arguments.is_none()) {
                return EventField::Path(text);
            }
        }
    }
    EventField::Dynamic(text)
}

/// A snake_case name for a format argument, after the expression it logs.
fn expr_hint(expr: &syn::Expr) -> Option<String> {
    // Conversions name nothing: `e.to_string()` logs `e`.
    const CONVERSIONS: [&str; 20] = [
        "to_string",
        "clone",
        "as_str",
        "as_ref",
        "unwrap",
        "unwrap_or",
        "unwrap_or_default",
        "unwrap_or_else",
        "expect",
        "to_owned",
        "borrow",
        "display",
        "as_deref",
        "to_vec",
        "into",
        "lock",
        "cloned",
        "copied",
        "ok",
        "read",
    ];
    match expr {
        syn::Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        syn::Expr::Field(f) => match &f.member {
            syn::Member::Named(i) => Some(qualified(&f.base, &i.to_string())),
            syn::Member::Unnamed(_) => expr_hint(&f.base),
        },
        syn::Expr::MethodCall(m) => {
            let method = m.method.to_string();
            let converts = ["as_", "to_", "into_"]
                .iter()
                .any(|p| method.starts_with(p));
            if converts || CONVERSIONS.contains(&method.as_str()) {
                expr_hint(&m.receiver)
            } else {
                let name = method.strip_prefix("get_").unwrap_or(&method);
                Some(qualified(&m.receiver, name))
            }
        }
        syn::Expr::Call(c) => expr_hint(&c.func),
        syn::Expr::Reference(r) => expr_hint(&r.expr),
        syn::Expr::Unary(u) => expr_hint(&u.expr),
        syn::Expr::Paren(p) => expr_hint(&p.expr),
        syn::Expr::Try(t) => expr_hint(&t.expr),
        syn::Expr::Index(i) => expr_hint(&i.expr),
        syn::Expr::Cast(c) => expr_hint(&c.expr),
        syn::Expr::Await(a) => expr_hint(&a.base),
        syn::Expr::Binary(b) => expr_hint(&b.left),
        _ => None,
    }
}

/// The name of a field's value (`?e` -> `e`), empty when it names nothing.
fn value_hint(value: &[TokenTree]) -> String {
    let v = match value.first() {
        Some(TokenTree::Punct(p)) if matches!(p.as_char(), '?' | '%') => &value[1..],
        _ => value,
    };
    let ts: TokenStream = v.iter().cloned().collect();
    syn::parse2::<syn::Expr>(ts)
        .ok()
        .and_then(|e| expr_hint(&e))
        .map(|h| snake(&h))
        .unwrap_or_default()
}

/// Field and method names that say what a value is only with their owner:
/// `segment.name()` is a segment name, `records.len()` a count of records.
const GENERIC_MEMBERS: [&str; 14] = [
    "name", "id", "len", "value", "key", "kind", "status", "index", "count", "size", "code",
    "state", "info", "data",
];

/// `member`, qualified by its owner's name when it is generic on its own.
fn qualified(owner: &syn::Expr, member: &str) -> String {
    if !GENERIC_MEMBERS.contains(&member) {
        return member.to_owned();
    }
    match expr_hint(owner) {
        // The owner of a generic member that is itself a plain receiver
        // (`self.id`, `req.name`) names nothing more.
        Some(o)
            if !["self", "this", "req", "request", "ctx", "args", "config"]
                .contains(&o.as_str()) =>
        {
            let o = if crate::names::is_error_name(&snake(&o)) {
                "error".to_owned()
            } else {
                o
            };
            format!("{o}_{member}")
        }
        _ => member.to_owned(),
    }
}

pub(crate) fn snake(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.trim_start_matches("r#").chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            out.push('_');
            prev_lower = false;
        }
    }
    let out = out.trim_matches('_').to_owned();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        "value".to_owned()
    } else {
        out
    }
}

fn format_arg(seg: &[TokenTree], source: &str) -> FormatArg {
    let (name, value) = match seg {
        [TokenTree::Ident(i), TokenTree::Punct(p), rest @ ..]
            if p.as_char() == '=' && !is_punct(rest.first(), '=') && !rest.is_empty() =>
        {
            (Some(i.to_string()), rest)
        }
        _ => (None, seg),
    };
    let ts: TokenStream = value.iter().cloned().collect();
    let parsed = syn::parse2::<syn::Expr>(ts).ok();
    let is_ident = matches!(&parsed, Some(syn::Expr::Path(p)) if p.qself.is_none() && p.path.get_ident().is_some());
    let hint = name
        .clone()
        .or_else(|| parsed.as_ref().and_then(expr_hint))
        .map(|n| snake(&n))
        .unwrap_or_else(|| "value".to_owned());
    // As written, unless it spans lines (a field in the names file is one line).
    let expr = range_of(value, source)
        .map(|r| source[r].to_owned())
        .filter(|t| !t.contains('\n'))
        .unwrap_or_else(|| tokens_text(value));
    FormatArg {
        name,
        expr,
        hint,
        is_ident,
    }
}

/// The source range of a token sequence, when every token has a position.
fn range_of(toks: &[TokenTree], source: &str) -> Option<Range<usize>> {
    let first = toks.first()?.span().byte_range();
    let last = toks.last()?.span().byte_range();
    let r = first.start..last.end;
    (r.start < r.end
        && r.end <= source.len()
        && source.is_char_boundary(r.start)
        && source.is_char_boundary(r.end))
    .then_some(r)
}

impl Finder<'_> {
    fn record(&mut self, mac: &syn::Macro, name: &'static str) {
        let path_span = mac
            .path
            .leading_colon
            .map(|c| c.spans[0])
            .or_else(|| mac.path.segments.first().map(|s| s.ident.span()))
            .unwrap_or_else(Span::call_site);
        let (line, column) = {
            let lc = path_span.start();
            (lc.line, lc.column + 1)
        };
        let delim = mac.delimiter.span();
        let call = path_span.byte_range().start..delim.close().byte_range().end;
        let body = delim.open().byte_range().end..delim.close().byte_range().start;
        let path_text = mac
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect::<Vec<_>>()
            .join("::");
        let fingerprint = format!(
            "{:016x}",
            xxhash_rust::xxh3::xxh3_64(format!("{path_text}!{}", mac.tokens).as_bytes())
        );
        let source = self.source;
        let positioned = call.start < body.start
            && body.start <= body.end
            && call.end <= source.len()
            && source.is_char_boundary(call.start)
            && source.is_char_boundary(body.start)
            && source.is_char_boundary(body.end)
            && source.is_char_boundary(call.end);
        let mut why: Option<&'static str> =
            (!positioned).then_some("a part of it has no source position (made by a macro)");
        let mut parts = CallParts {
            call,
            body,
            ..CallParts::default()
        };
        let mut covered: Vec<Range<usize>> = Vec::new();
        let mut take = |toks: &[TokenTree], why: &mut Option<&'static str>| -> Range<usize> {
            match range_of(toks, source) {
                Some(r) => {
                    covered.push(r.clone());
                    r
                }
                None => {
                    why.get_or_insert("a part of it has no source position (made by a macro)");
                    0..0
                }
            }
        };

        let segs = split_commas(mac.tokens.clone());
        let mut i = 0;
        // Keyword arguments (`target:`, `parent:`, `name:`) come first, in any order.
        while i < segs.len() && is_keyword_arg(&segs[i]) {
            parts.leading.push(take(&segs[i], &mut why));
            i += 1;
        }
        let mut level = Level::from_name(name);
        if name == "event" {
            level = segs.get(i).and_then(|s| level_of_expr(s));
            if let Some(s) = segs.get(i) {
                parts.leading.push(take(s, &mut why));
            }
            i += 1;
        }
        let mut event = EventField::Missing;
        let mut message = None;
        while i < segs.len() {
            let seg = &segs[i];
            // The braced field set, `{ a = 1, event = "x" }`: read for the event
            // field, kept as written, and not rewritten (its syntax does not mix
            // with fields outside the braces).
            if let [TokenTree::Group(g)] = seg.as_slice() {
                if g.delimiter() == Delimiter::Brace {
                    for inner in split_commas(g.stream()) {
                        if let Some((fname, value)) = field(&inner) {
                            if fname == self.event_field {
                                event = event_value(&value);
                            }
                        }
                    }
                    let r = take(seg, &mut why);
                    parts.fields.push(("{..}".to_owned(), r));
                    parts.field_hints.push(String::new());
                    parts.field_values.push(FieldValue::default());
                    why.get_or_insert("it has a braced field set `{ .. }`");
                    i += 1;
                    continue;
                }
            }
            match field(seg) {
                Some((fname, value)) => {
                    if fname == self.event_field {
                        event = event_value(&value);
                    }
                    let r = take(seg, &mut why);
                    parts.fields.push((fname, r));
                    parts.field_hints.push(value_hint(&value));
                    parts.field_values.push(FieldValue::of(&value));
                    i += 1;
                }
                None => break,
            }
        }
        if let Some(seg) = segs.get(i) {
            if let [TokenTree::Literal(lit)] = seg.as_slice() {
                if let Ok(syn::Lit::Str(s)) = syn::parse_str::<syn::Lit>(&lit.to_string()) {
                    message = Some(s.value());
                    parts.format = Some(take(seg, &mut why));
                }
            }
            if message.is_none() {
                why.get_or_insert("its message is not a string literal");
            }
            for seg in &segs[i + 1..] {
                take(seg, &mut why);
                parts.format_args.push(format_arg(seg, source));
            }
        }
        // Whatever the arguments do not cover must be commas and whitespace:
        // a comment there would be lost by a rewrite.
        if why.is_none() {
            covered.sort_by_key(|r| r.start);
            let mut at = parts.body.start;
            for r in covered
                .iter()
                .chain(std::iter::once(&(parts.body.end..parts.body.end)))
            {
                if r.start < at || r.end > parts.body.end {
                    why = Some("its arguments overlap");
                    break;
                }
                if !source[at..r.start]
                    .chars()
                    .all(|c| c.is_whitespace() || c == ',')
                {
                    why = Some("it has a comment between its arguments");
                    break;
                }
                at = r.end;
            }
        }
        parts.not_rewritable = why;
        self.out.push(CallSite {
            line,
            column,
            macro_name: name,
            level,
            event,
            message,
            fingerprint,
            parts,
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

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        match tracing_macro(&mac.path) {
            Some(name) => self.record(mac, name),
            None => self.nested(&mac.tokens),
        }
        syn::visit::visit_macro(self, mac);
    }
}

/// `pub const NAME: &str = "value";` items anywhere in `file` (nested modules
/// included): the events registry given to `check --events`.
pub(crate) fn string_constants(file: &syn::File) -> Vec<(String, String)> {
    struct Consts(Vec<(String, String)>);
    impl<'ast> Visit<'ast> for Consts {
        fn visit_item_const(&mut self, c: &'ast syn::ItemConst) {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &*c.expr
            {
                self.0.push((c.ident.to_string(), s.value()));
            }
        }
        fn visit_item_static(&mut self, c: &'ast syn::ItemStatic) {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &*c.expr
            {
                self.0.push((c.ident.to_string(), s.value()));
            }
        }
    }
    let mut c = Consts(Vec::new());
    c.visit_file(file);
    c.0
}
