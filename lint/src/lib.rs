//! `robustmq-log-lint`: checks tracing calls against the RobustMQ log standard
//! (docs/log-format.md), proposes event names for calls that lack one, and
//! rewrites reviewed calls into the standard form.
//!
//! The binary is the interface (`robustmq-log-lint --help`); this library holds
//! its parts so that tests and the fuzz target drive the same code.
//!
//! ```
//! let calls = robustmq_log_lint::calls_in(
//!     r#"fn f(addr: u32) { tracing::info!("accept tcp connection:{:?}", addr); }"#,
//!     "event",
//! )
//! .unwrap();
//! let s = robustmq_log_lint::suggest(
//!     &calls[0],
//!     &robustmq_log_lint::Taxonomy::builtin(),
//!     "mqtt-broker",
//!     "event",
//! )
//! .unwrap();
//! assert_eq!(s.event, "connection_accepted");
//! assert_eq!(s.fields, ["?addr"]);
//! assert_eq!(s.message.as_deref(), Some("accept tcp connection"));
//! ```
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]

mod check;
mod files;
mod format;
mod level;
mod names;
mod phrase;
mod ratchet;
mod rewrite;
mod scan;
mod source;
mod suggest;
mod tree;

pub use check::{check_files, CheckOptions, CheckReport, Finding, FindingKind, Summary, Tally};
pub use files::{crate_of, map_files, rust_files, CrateNames};
pub use level::Level;
pub use names::{
    is_catch_all, is_error_name, is_failure_name, is_number_field, name_problem, Category,
    EventDef, Taxonomy, ERROR_FIELD, FAILURE_SUFFIXES, PROTOCOLS, PROTOCOL_FIELD, TAXONOMY_TOML,
};
pub use ratchet::{Baseline, BaselineResult, Ratchet};
pub use rewrite::{fix_text, NamedCall, NamesFile, Outcome};
pub use scan::{CallParts, CallSite, EventField, FieldValue, FormatArg};
pub use source::{
    calls_in, string_constants_in, with_parser_stack, SkipKind, Skipped, MAX_NESTING,
    PARSER_STACK_BYTES,
};
pub use suggest::{suggest, NameSource, Suggestion};
pub use tree::{
    check_tree, fix_tree, read_input, suggest_tree, CheckRequest, CheckRun, FixRun, InputError,
    SuggestRun,
};
