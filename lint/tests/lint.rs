//! `robustmq-log-lint check` on fixture sources covering every macro form, on
//! files that do not parse or nest too deep, on this repository's demo, and its
//! command-line contract: JSON fields, quiet, level filter, baselines, events
//! registries, closed pipes and exit codes.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_robustmq-log-lint");

fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn lint(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(here())
        .output()
        .expect("run robustmq-log-lint");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = lint(&all);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, v)
}

fn findings(v: &Value) -> Vec<(u64, String, String)> {
    v["findings"]
        .as_array()
        .expect("a findings array")
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

const FORMS: &str = "tests/fixtures/check/forms.rs";

#[test]
fn every_macro_form_is_read() {
    let (code, v) = json(&[FORMS]);
    let f = findings(&v);
    let at = |line: u64, kind: &str| f.iter().any(|(l, k, _)| *l == line && k == kind);
    // Unstructured: plain, event! with a level and target, dotted field, select!, method.
    for line in [6, 13, 19, 29, 44] {
        assert!(at(line, "unstructured"), "line {line}: {f:#?}");
    }
    // Structured and clean: qualified paths, target:, parent:, name:, event!, closures, assert!, async.
    for line in [7, 8, 9, 10, 11, 12, 26, 32, 36, 57] {
        assert!(
            !f.iter().any(|(l, _, _)| *l == line),
            "line {line} should be clean: {f:#?}"
        );
    }
    // Dynamic values: `%name`, `?name`, a constant without a registry, an
    // undeclared constant, format!(..), a Debug-formatted literal.
    for line in [14, 15, 53, 54, 55, 56] {
        assert!(at(line, "dynamic-event"), "line {line}: {f:#?}");
    }
    assert!(at(16, "bad-event-name"), "{f:#?}");
    assert!(
        at(17, "event-two-levels") && at(18, "event-two-levels"),
        "{f:#?}"
    );
    // `log::info!` is not a tracing call.
    assert!(!f.iter().any(|(l, _, _)| *l == 20));
    let s = &v["summary"];
    assert_eq!(s["calls"], 24, "{s}");
    assert_eq!(s["unstructured"], 5, "{s}");
    assert_eq!(s["dynamic_event"], 6, "{s}");
    assert_eq!(s["bad_event_name"], 1, "{s}");
    assert_eq!(s["event_two_levels"], 2, "{s}");
    assert_eq!(v["by_level"]["error"]["calls"], 5, "{}", v["by_level"]);
    assert_eq!(
        code, 1,
        "dynamic events, bad names and two levels fail the run"
    );
}

#[test]
fn json_findings_carry_position_level_crate_and_the_log_message() {
    let (_, v) = json(&[FORMS]);
    let all = v["findings"].as_array().unwrap();
    let f = all
        .iter()
        .find(|f| f["line"] == 6)
        .expect("the finding on line 6");
    assert_eq!(f["file"], FORMS);
    assert_eq!(f["column"], 5);
    assert_eq!(f["level"], "info");
    assert_eq!(f["crate"], "robustmq-log-lint");
    assert_eq!(f["kind"], "unstructured");
    assert_eq!(f["message"], "info! has no `event` field");
    assert_eq!(f["log_message"], "plain format string {}");
    for key in [
        "files",
        "unparsed_files",
        "calls",
        "structured",
        "unstructured",
        "dynamic_event",
        "bad_event_name",
        "event_two_levels",
        "number_as_text",
        "protocol_value",
        "error_values_outside_error_field",
        "elapsed_ms",
    ] {
        assert!(
            v["summary"][key].is_u64(),
            "summary.{key}: {}",
            v["summary"]
        );
    }
}

#[test]
fn a_constant_declared_in_the_events_registry_counts_as_a_literal() {
    let (_, v) = json(&["--events", "tests/fixtures/events.rs", FORMS]);
    let f = findings(&v);
    assert!(!f.iter().any(|(l, _, _)| *l == 53), "declared: {f:#?}");
    assert!(
        f.iter()
            .any(|(l, k, m)| *l == 54 && k == "dynamic-event" && m.contains("--events")),
        "undeclared: {f:#?}"
    );
    assert_eq!(v["summary"]["dynamic_event"], 5);
    // A folder of modules works the same.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        here().join("tests/fixtures/events.rs"),
        dir.path().join("mod.rs"),
    )
    .unwrap();
    let (_, v) = json(&["--events", dir.path().to_str().unwrap(), FORMS]);
    assert_eq!(v["summary"]["dynamic_event"], 5);
    // connection_closed is logged at warn on lines 7 and 53: one level, no finding.
    assert!(!f
        .iter()
        .any(|(_, k, m)| k == "event-two-levels" && m.contains("connection_closed")));
}

#[test]
fn level_filters_calls_at_that_level_or_more_severe() {
    let (_, v) = json(&["--level", "warn", FORMS]);
    let levels: Vec<&String> = v["by_level"].as_object().unwrap().keys().collect();
    assert_eq!(levels, ["error", "warn"], "{}", v["by_level"]);
    assert_eq!(v["summary"]["calls"], 11, "{}", v["summary"]);
    let f = findings(&v);
    // info! and trace! calls are filtered out; event!(Level::ERROR, ..) is kept.
    assert!(
        f.iter().all(|(l, _, _)| ![6, 19, 29, 44].contains(l)),
        "{f:#?}"
    );
    assert!(
        f.iter().any(|(l, k, _)| *l == 13 && k == "unstructured"),
        "{f:#?}"
    );
}

#[test]
fn quiet_prints_the_summary_only_in_text_and_json() {
    let (_, v) = json(&["--quiet", FORMS]);
    assert!(v.get("findings").is_none(), "{v}");
    assert_eq!(v["summary"]["calls"], 24);
    let (_, out, _) = lint(&["-q", FORMS]);
    assert!(!out.contains("unstructured:"), "{out}");
    assert!(out.contains("24 tracing calls"), "{out}");
}

#[test]
fn text_output_is_clickable_and_has_summaries() {
    let (_, out, _) = lint(&[FORMS]);
    assert!(
        out.contains("tests/fixtures/check/forms.rs:6:5: unstructured: info! has no `event` field"),
        "{out}"
    );
    assert!(out.contains("crate") && out.contains("robustmq-log-lint"));
    assert!(out.contains("level") && out.contains("share"));
    // The explicit subcommand is the same check.
    assert_eq!(lint(&["check", FORMS]).1.lines().next(), out.lines().next());
}

#[test]
fn a_file_that_does_not_parse_is_reported_and_skipped() {
    let (code, v) = json(&["tests/fixtures/check"]);
    assert_eq!(v["summary"]["files"], 2);
    assert_eq!(v["summary"]["unparsed_files"], 1);
    assert!(findings(&v)
        .iter()
        .any(|(_, k, m)| k == "parse-error" && m.contains("does not parse")));
    assert_eq!(v["summary"]["calls"], 24, "the other file is still linted");
    assert_eq!(code, 1);
}

#[test]
fn deep_nesting_is_reported_and_skipped_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    // Each has a tracing call: files without one are not parsed at all.
    let nested = |n: usize| {
        format!(
            "fn f() {{ tracing::info!(\"x\"); let x = {}1{}; }}\n",
            "(".repeat(n),
            ")".repeat(n)
        )
    };
    std::fs::write(dir.path().join("parens_3000.rs"), nested(3_000)).unwrap();
    std::fs::write(dir.path().join("parens_100000.rs"), nested(100_000)).unwrap();
    std::fs::write(
        dir.path().join("brackets.rs"),
        format!(
            "fn g() {{ tracing::info!(\"x\"); }}\nconst X: () = {}{};\n",
            "[".repeat(5_000),
            "]".repeat(5_000)
        ),
    )
    .unwrap();
    // No brackets at all, still deep for a recursive parser.
    std::fs::write(
        dir.path().join("operators.rs"),
        format!(
            "fn f() {{ let a = {}true; let b = {}1; tracing::info!(\"ok\"); }}\n",
            "!".repeat(20_000),
            "1 + ".repeat(20_000)
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("fine.rs"),
        "fn f() { tracing::warn!(event = \"node_left\", \"bye\"); }\n",
    )
    .unwrap();
    let (code, out, err) = lint(&["--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "reported, not a crash: {out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let too_deep: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "too-deep")
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(too_deep.len(), 3, "{out}");
    assert!(too_deep.iter().any(|f| f.ends_with("parens_3000.rs")));
    assert_eq!(v["summary"]["unparsed_files"], 3);
    assert_eq!(
        v["summary"]["calls"], 2,
        "the other files are linted: {out}"
    );
}

#[test]
fn the_demo_passes_its_own_lint_but_for_its_legacy_lines() {
    // examples/broker.rs keeps 4 deliberate legacy (unstructured) lines.
    let demo = here().join("../examples/broker.rs");
    let demo = demo.to_str().unwrap();
    let (code, out, _) = lint(&["--max-unstructured", "4", demo]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("ratchet: 4 unstructured call sites, limit 4: ok"),
        "{out}"
    );
    let (code, out, _) = lint(&["--max-unstructured", "3", demo]);
    assert_eq!(code, 1, "the ratchet must fail above its limit: {out}");
}

#[test]
fn a_per_crate_baseline_is_a_ratchet_per_crate() {
    let dir = tempfile::tempdir().unwrap();
    for (krate, calls) in [("meta-service", 3), ("mqtt-broker", 1)] {
        let root = dir.path().join(krate);
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            format!("[package]\nname = \"{krate}\"\nversion = \"0.1.0\"\n"),
        )
        .unwrap();
        let body: String = (0..calls)
            .map(|i| format!("    tracing::info!(\"legacy {i}\");\n"))
            .collect();
        std::fs::write(root.join("src/lib.rs"), format!("fn f() {{\n{body}}}\n")).unwrap();
    }
    let tree = dir.path().to_str().unwrap();
    let baseline = dir.path().join("baseline.toml");
    let b = baseline.to_str().unwrap();
    let (code, _, err) = lint(&["--write-baseline", b, tree]);
    assert_eq!(code, 0, "{err}");
    let written: toml::Table =
        toml::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    assert_eq!(
        written["unstructured"]["meta-service"].as_integer(),
        Some(3)
    );
    assert_eq!(written["unstructured"]["mqtt-broker"].as_integer(), Some(1));
    assert_eq!(lint(&["--baseline", b, tree]).0, 0, "at the baseline");

    // One crate over its own limit fails, although the total went down.
    std::fs::write(
        &baseline,
        "[unstructured]\nmeta-service = 5\nmqtt-broker = 0\n",
    )
    .unwrap();
    let (code, out, _) = lint(&["--baseline", b, tree]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("baseline: mqtt-broker has 1 unstructured call sites, limit 0: FAIL"),
        "{out}"
    );
    let (_, v) = json(&["--baseline", b, tree]);
    let failing: Vec<&Value> = v["baseline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ok"] == false)
        .collect();
    assert_eq!(failing.len(), 1, "{}", v["baseline"]);
    assert_eq!(failing[0]["crate"], "mqtt-broker");

    // A crate the baseline does not list may have none.
    std::fs::write(&baseline, "[unstructured]\nmeta-service = 3\n").unwrap();
    assert_eq!(lint(&["--baseline", b, tree]).0, 1);
}

#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    // Enough findings to overflow a pipe buffer many times over.
    let dir = tempfile::tempdir().unwrap();
    let body: String = (0..20_000)
        .map(|i| format!("    tracing::info!(\"legacy {i}\");\n"))
        .collect();
    std::fs::write(dir.path().join("many.rs"), format!("fn f() {{\n{body}}}\n")).unwrap();
    let mut child = Command::new(BIN)
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("unstructured"), "{first}");
    // The reader is gone, like `| head -1`.
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.is_empty(), "nothing on stderr: {err}");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn exit_codes_tell_usage_errors_and_internal_errors_apart() {
    assert_eq!(lint(&[]).0, 2, "no path");
    assert_eq!(lint(&["--max-unstructured", "many", "src"]).0, 2);
    assert_eq!(lint(&["--format", "yaml", "src"]).0, 2);
    assert_eq!(lint(&["does/not/exist"]).0, 2);
    assert_eq!(lint(&["--events", "does/not/exist.rs", "src"]).0, 2);
    assert_eq!(
        lint(&["--baseline", "tests/fixtures/check/forms.rs", "src"]).0,
        2,
        "not TOML"
    );
    assert_eq!(lint(&["fix", "src", "--names", "does/not/exist.toml"]).0, 2);
    assert_eq!(lint(&["--help"]).0, 0);
    // Clean: structured calls only, each of them read (a tree without
    // tracing calls would be clean whatever the scanner does).
    let (code, v) = json(&["tests/fixtures/clean/structured.rs"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["findings"], serde_json::json!([]), "{v}");
    assert_eq!(
        (
            v["summary"]["calls"].as_u64(),
            v["summary"]["structured"].as_u64()
        ),
        (Some(5), Some(5)),
        "{v}"
    );
    // Output that cannot be written (Linux's /dev/full: every write fails
    // with "no space left") is an internal error.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let status = Command::new(BIN)
        .arg(FORMS)
        .current_dir(here())
        .stdout(full)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(3));
}

#[test]
fn the_documented_taxonomy_is_the_one_suggest_uses() {
    let doc = std::fs::read_to_string(here().join("../docs/log-format.md")).unwrap();
    let table = robustmq_log_lint::Taxonomy::builtin().markdown();
    assert!(
        doc.contains(&table),
        "docs/log-format.md must hold the taxonomy table exactly as \
         `cargo run -p robustmq-log-lint -- taxonomy` prints it:\n{table}"
    );
    let (code, out, _) = lint(&["taxonomy"]);
    assert_eq!((code, out), (0, table));
}

#[test]
fn an_error_value_outside_error_is_found_and_counted_but_does_not_fail() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("errors.rs"),
        concat!(
            "fn f(e: std::io::Error, join_err: String) {\n",
            "    tracing::warn!(event = \"disk_write_failed\", err = %e, \"disk write failed\");\n",
            "    tracing::warn!(event = \"task_join_failed\", error = %join_err, \"task join failed\");\n",
            "    tracing::warn!(event = \"task_join_failed\", reason = ?join_err, \"task join failed\");\n",
            "    tracing::warn!(event = \"disk_write_failed\", error_msg = %e, \"disk write failed\");\n",
            "    tracing::error!(\"write failed: {}\", e);\n",
            "}\n",
        ),
    )
    .unwrap();
    let (code, v) = json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    let found: Vec<(u64, String)> = findings(&v)
        .into_iter()
        .filter(|(_, k, _)| k == "error-field-name")
        .map(|(l, _, m)| (l, m))
        .collect();
    let lines: Vec<u64> = found.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [2, 4, 5], "{found:?}");
    assert!(found[0].1.contains("`e` is logged as `err`"), "{found:?}");
    assert!(
        found[1].1.contains("`join_err` is logged as `reason`"),
        "{found:?}"
    );
    assert!(
        found[2].1.contains("`e` is logged as `error_msg`") && found[2].1.ends_with("is `error`"),
        "{found:?}"
    );
    // The three misnamed fields and the error formatted into the unstructured message.
    assert_eq!(v["summary"]["error_values_outside_error_field"], 4, "{v}");
}

#[test]
fn a_number_field_recorded_through_display_or_debug_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("numbers.rs"),
        concat!(
            "fn f(t: u128, id: u64, n: usize, client_id: String, d: std::time::Duration) {\n",
            // Numbers as values: clean.
            "    tracing::debug!(event = \"ack_forward_failed\", elapsed_ms = t as u64, connection_id = id, batch_len = n, \"a\");\n",
            // Strings through Display, enums through Debug: clean (`_id` is not a number suffix).
            "    tracing::debug!(event = \"ack_forward_failed\", client_id = %client_id, bucket_id = %client_id, mqtt_protocol = ?d, \"a\");\n",
            // A unit suffix through Display, a standard number field through Debug.
            "    tracing::debug!(event = \"ack_forward_failed\", elapsed_ms = %t, connection_id = ?id, \"a\");\n",
            // Shorthand: the field is named after the expression.
            "    tracing::debug!(event = \"ack_forward_failed\", %port, ?offset, \"a\");\n",
            // A duration's Debug text under a unit name: the name says ms, the value says \"1.5s\".
            "    tracing::debug!(event = \"ack_forward_failed\", timeout_ms = ?d, \"a\");\n",
            "}\n",
        ),
    )
    .unwrap();
    let (code, v) = json(&[dir.path().to_str().unwrap()]);
    let found: Vec<(u64, String)> = findings(&v)
        .into_iter()
        .filter(|(_, k, _)| k == "number-as-text")
        .map(|(l, _, m)| (l, m))
        .collect();
    let lines: Vec<u64> = found.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [4, 4, 5, 5, 6], "{found:?}");
    assert!(
        found[0]
            .1
            .contains("`elapsed_ms` is a number field recorded through Display (`%`)"),
        "{found:?}"
    );
    assert!(
        found[1]
            .1
            .contains("`connection_id` is a number field recorded through Debug (`?`)"),
        "{found:?}"
    );
    assert_eq!(v["summary"]["number_as_text"], 5, "{v}");
    assert_eq!(code, 1, "a number recorded as text fails the run: {v}");
}

#[test]
fn protocol_takes_one_of_the_closed_set() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("protocols.rs"),
        concat!(
            "fn f(network_type: u8, kind: &'static str) {\n",
            "    tracing::error!(event = \"server_start_failed\", protocol = \"tcp\", \"a\");\n",
            "    tracing::error!(event = \"server_start_failed\", protocol = \"websocket_tls\", \"a\");\n",
            "    tracing::error!(event = \"server_start_failed\", protocol = \"websockets\", \"a\");\n",
            "    tracing::error!(event = \"server_start_failed\", protocol = %network_type, \"a\");\n",
            "    tracing::error!(event = \"server_start_failed\", ?protocol, \"a\");\n",
            // A plain expression (a mapped `&'static str`) cannot be checked without types.
            "    tracing::error!(event = \"server_start_failed\", protocol = kind, \"a\");\n",
            // The MQTT version is another field.
            "    tracing::error!(event = \"server_start_failed\", mqtt_protocol = ?network_type, \"a\");\n",
            "}\n",
        ),
    )
    .unwrap();
    let (code, v) = json(&[dir.path().to_str().unwrap()]);
    let found: Vec<(u64, String)> = findings(&v)
        .into_iter()
        .filter(|(_, k, _)| k == "protocol-value")
        .map(|(l, _, m)| (l, m))
        .collect();
    let lines: Vec<u64> = found.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [4, 5, 6], "{found:?}");
    assert_eq!(
        found[0].1,
        "protocol \"websockets\" is not one of the standard's values (tcp, tls, websocket, websocket_tls, quic)"
    );
    assert!(found[1].1.contains("through Display (`%`)"), "{found:?}");
    assert!(found[2].1.contains("`mqtt_protocol`"), "{found:?}");
    assert_eq!(v["summary"]["protocol_value"], 3, "{v}");
    assert_eq!(code, 1, "{v}");
}

#[test]
fn one_level_per_event_name_across_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    for (krate, level) in [("a", "warn"), ("b", "error"), ("c", "warn")] {
        let src = dir.path().join(krate).join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            dir.path().join(krate).join("Cargo.toml"),
            format!("[package]\nname = \"{krate}\"\n"),
        )
        .unwrap();
        std::fs::write(
            src.join("lib.rs"),
            format!("fn f() {{ tracing::{level}!(event = \"auth_failed\", \"a\"); }}\n"),
        )
        .unwrap();
    }
    let (code, v) = json(&[dir.path().to_str().unwrap()]);
    let two: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "event-two-levels")
        .collect();
    let crates: Vec<&str> = two.iter().map(|f| f["crate"].as_str().unwrap()).collect();
    // Every call site of the name, in every crate, points at the conflict.
    assert_eq!(crates, ["a", "b", "c"], "{v}");
    assert_eq!(
        two[0]["message"],
        "event \"auth_failed\" is logged at error and warn: pick one level per event"
    );
    assert_eq!(code, 1, "{v}");
    // The same name at one level in every crate is clean.
    std::fs::write(
        dir.path().join("b/src/lib.rs"),
        "fn f() { tracing::warn!(event = \"auth_failed\", \"a\"); }\n",
    )
    .unwrap();
    let (code, v) = json(&[dir.path().to_str().unwrap()]);
    assert_eq!(
        (code, v["summary"]["event_two_levels"].as_u64()),
        (0, Some(0)),
        "{v}"
    );
}

#[test]
fn the_library_check_returns_typed_findings() {
    use robustmq_log_lint::{check_files, CheckOptions, FindingKind, Level};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.rs");
    std::fs::write(
        &file,
        "fn f(x: u8) {\n    tracing::info!(event = \"node_joined\", \"a\");\n    tracing::warn!(event = \"node_joined\", \"b\");\n    tracing::debug!(event = %x, \"c\");\n    tracing::info!(\"d\");\n}\n",
    )
    .unwrap();
    let opts = CheckOptions {
        event_field: "event",
        registry: None,
        min_level: None,
    };
    let r = check_files(std::slice::from_ref(&file), &opts);
    let kinds: Vec<(usize, FindingKind, Option<Level>)> = r
        .findings
        .iter()
        .map(|f| (f.line, f.kind, f.level))
        .collect();
    assert_eq!(
        kinds,
        [
            (2, FindingKind::EventTwoLevels, Some(Level::Info)),
            (3, FindingKind::EventTwoLevels, Some(Level::Warn)),
            (4, FindingKind::DynamicEvent, Some(Level::Debug)),
            (5, FindingKind::Unstructured, Some(Level::Info)),
        ]
    );
    assert_eq!(r.naming_errors(), 3);
    assert_eq!((r.summary.calls, r.summary.structured), (4, 2));
    // `--level info` leaves the debug call out.
    let r = check_files(
        &[file],
        &CheckOptions {
            min_level: Some(Level::Info),
            ..opts
        },
    );
    assert_eq!(r.summary.calls, 3);
    assert!(r
        .findings
        .iter()
        .all(|f| f.kind != FindingKind::DynamicEvent));
}

#[test]
fn a_baseline_with_an_unknown_key_is_a_usage_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.toml");
    std::fs::write(&baseline, "[unstructurd]\nmqtt-broker = 3\n").unwrap();
    let (code, _, err) = lint(&["--baseline", baseline.to_str().unwrap(), FORMS]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unstructurd"), "{err}");
}

#[test]
fn number_fields_are_told_by_their_name() {
    use robustmq_log_lint::is_number_field;
    for (name, number) in [
        ("elapsed_ms", true),
        ("received_at_ms", true),
        ("secs", true),
        ("segment_bytes", true),
        ("subscription_count", true),
        ("records_len", true),
        ("connection_id", true),
        ("node_id", true),
        ("pkid", true),
        ("port", true),
        ("offset", true),
        // Ids other than the standard's numeric ones are strings (`client_id`, a uuid).
        ("client_id", false),
        ("bucket_id", false),
        ("topic_name", false),
        ("protocol", false),
        // A word that only ends like a unit is not one.
        ("items", false),
        ("forms", false),
    ] {
        assert_eq!(is_number_field(name), number, "{name}");
    }
}
