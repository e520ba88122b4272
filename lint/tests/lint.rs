//! The `robustmq-log-lint` binary on fixture sources covering every macro
//! form, on a file that does not parse, and on this crate's demo.
#![cfg(feature = "lint")]

mod support;

use std::process::Command;

use serde_json::Value;

fn lint(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_robustmq-log-lint"))
        .args(args)
        .current_dir(support::repo_dir())
        .output()
        .expect("run robustmq-log-lint");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn findings(v: &Value) -> Vec<(u64, String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["kind"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_macro_form_is_read() {
    let (code, out) = lint(&["--format", "json", "tests/fixtures/lint/forms.rs"]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let f = findings(&v);
    let at = |line: u64, kind: &str| f.iter().any(|(l, k, _)| *l == line && k == kind);
    // Unstructured: plain, event! with a level and target, dotted field, select!, method.
    for line in [6, 13, 19, 29, 44] {
        assert!(at(line, "unstructured"), "line {line}: {f:#?}");
    }
    // Structured and clean: qualified paths, target:, parent:, name:, event!, closures, assert!, async.
    for line in [7, 8, 9, 10, 11, 12, 26, 32, 36] {
        assert!(
            !f.iter().any(|(l, _, _)| *l == line),
            "line {line} should be clean: {f:#?}"
        );
    }
    assert!(at(14, "dynamic-event") && at(15, "dynamic-event"), "{f:#?}");
    assert!(at(16, "bad-event-name"), "{f:#?}");
    assert!(
        at(17, "event-two-levels") && at(18, "event-two-levels"),
        "{f:#?}"
    );
    // `log::info!` is not a tracing call.
    assert!(!f.iter().any(|(l, _, _)| *l == 20));
    assert_eq!(v["calls"], 19, "{out}");
    assert_eq!(v["unstructured"], 5);
    assert_eq!(v["by_level"]["error"]["calls"], 4, "{}", v["by_level"]);
    // Bad names and an event at two levels fail the run.
    assert_eq!(code, 1);
}

#[test]
fn text_output_is_clickable_and_has_summaries() {
    let (_, out) = lint(&["tests/fixtures/lint/forms.rs"]);
    assert!(
        out.contains("tests/fixtures/lint/forms.rs:6:5: unstructured: info! has no `event` field"),
        "{out}"
    );
    assert!(out.contains("crate") && out.contains("robustmq-log-metrics"));
    assert!(out.contains("level") && out.contains("share"));
}

#[test]
fn a_file_that_does_not_parse_is_reported_and_skipped() {
    let (code, out) = lint(&["--format", "json", "tests/fixtures/lint"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["files"], 2);
    assert_eq!(v["unparsed_files"], 1);
    assert!(findings(&v)
        .iter()
        .any(|(_, k, m)| k == "parse-error" && m.contains("does not parse")));
    assert_eq!(v["calls"], 19, "the other file is still linted");
    assert_eq!(code, 1);
}

#[test]
fn the_demo_passes_its_own_lint_but_for_its_legacy_lines() {
    // examples/broker.rs keeps 4 deliberate legacy (unstructured) lines.
    let (code, out) = lint(&["--max-unstructured", "4", "examples/broker.rs"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("ratchet: 4 unstructured call sites, limit 4: ok"),
        "{out}"
    );
    let (code, out) = lint(&["--max-unstructured", "3", "examples/broker.rs"]);
    assert_eq!(code, 1, "the ratchet must fail above its limit: {out}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(lint(&[]).0, 2);
    assert_eq!(lint(&["--max-unstructured", "many", "src"]).0, 2);
    assert_eq!(lint(&["does/not/exist"]).0, 2);
}
