//! `suggest` then `fix` on arbitrary input: whatever `fix` rewrites still
//! parses and holds the same number of calls, bytes outside the calls stay as
//! they were, and a second `fix` with the same names changes nothing.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use robustmq_log_lint::{calls_in, fix_text, suggest, EventField, NamedCall, Outcome, Taxonomy};

/// The text with every call replaced by a marker: what must not change.
fn outside_calls(text: &str) -> String {
    let calls = calls_in(text, "event").expect("parses");
    let mut rest = String::new();
    let mut at = 0;
    for c in &calls {
        if c.parts.call.start < at {
            continue; // a call nested in another call's arguments
        }
        rest.push_str(&text[at..c.parts.call.start]);
        rest.push('\u{0}');
        at = c.parts.call.end;
    }
    rest.push_str(&text[at..]);
    rest
}

fuzz_target!(|data: &[u8]| {
    static TAXONOMY: OnceLock<Taxonomy> = OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(calls) = calls_in(text, "event") else {
        return;
    };
    let taxonomy = TAXONOMY.get_or_init(Taxonomy::builtin);
    let entries: Vec<NamedCall> = calls
        .iter()
        .filter(|c| c.event == EventField::Missing)
        .filter_map(|c| {
            let s = suggest(c, taxonomy, "mqtt-broker", "event").ok()?;
            Some(NamedCall {
                file: "f.rs".into(),
                line: c.line,
                fingerprint: c.fingerprint.clone(),
                level: None,
                original: c.message.clone(),
                event: s.event,
                source: None,
                note: None,
                fields: s.fields,
                rename: s.rename.into_iter().collect(),
                message: s.message,
            })
        })
        .collect();
    let refs: Vec<&NamedCall> = entries.iter().collect();
    let (fixed, outcomes) = fix_text(text, &refs, "event");
    assert_eq!(outcomes.len(), refs.len());
    let Some(fixed) = fixed else {
        assert!(!outcomes.iter().any(|o| matches!(o, Outcome::Rewritten { .. })));
        return;
    };
    let after = calls_in(&fixed, "event").expect("a rewritten file parses");
    assert_eq!(after.len(), calls.len(), "{fixed}");
    assert_eq!(outside_calls(text), outside_calls(&fixed), "{fixed}");
    let (again, _) = fix_text(&fixed, &refs, "event");
    assert!(again.is_none(), "a second fix changed {fixed:?}");
});
