//! The lint scanner on arbitrary input, as `robustmq-log-lint` runs it on a
//! file: lex, nesting bound, parse, scan, then `suggest` on every call found.
//! Any panic, stack overflow or out-of-memory is a finding.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use robustmq_log_lint::{calls_in, suggest, Taxonomy};

fuzz_target!(|data: &[u8]| {
    static TAXONOMY: OnceLock<Taxonomy> = OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The fuzzer's own thread (8 MiB here), not the linter's 256 MiB parser
    // stack: inputs up to libFuzzer's length limit must fit in the smaller one.
    match calls_in(text, "event") {
        Ok(calls) => {
            let taxonomy = TAXONOMY.get_or_init(Taxonomy::builtin);
            for call in &calls {
                let p = &call.parts;
                assert!(p.call.start <= p.call.end && p.call.end <= text.len());
                if let Ok(s) = suggest(call, taxonomy, "mqtt-broker", "event") {
                    assert!(robustmq_log_lint::name_problem(&s.event).is_none(), "{s:?}");
                }
            }
        }
        Err(skipped) => assert!(!skipped.message.is_empty()),
    }
});
