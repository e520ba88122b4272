//! `suggest` + `fix` on a real crate: the fixture crate compiles after the
//! rewrite and, under a capturing subscriber, logs the same levels, targets and
//! values as before, now with an event field; bytes outside the rewritten
//! calls are unchanged; a second `fix` changes nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use robustmq_log_lint::{calls_in, NamesFile};

const BIN: &str = env!("CARGO_BIN_EXE_robustmq-log-lint");

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrate")
}

fn copy_fixture(to: &Path) {
    for rel in ["Cargo.toml", "src/lib.rs", "src/main.rs"] {
        let dst = to.join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(fixture().join(rel), dst).unwrap();
    }
}

fn lint(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run robustmq-log-lint");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One captured event: level, target, fields in recording order.
#[derive(Debug, Clone, PartialEq)]
struct Captured {
    level: String,
    target: String,
    fields: Vec<(String, String)>,
}

impl Captured {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Builds and runs the fixture crate in `dir`; its target folder is shared
/// between runs so that only the fixture itself is rebuilt.
fn run_fixture(dir: &Path) -> Vec<Captured> {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("migrate-fixture");
    let out = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "the fixture crate must build and run:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut cols = l.splitn(3, '\t');
            let level = cols.next().unwrap().to_owned();
            let target = cols.next().unwrap().to_owned();
            let fields = cols
                .next()
                .unwrap_or("")
                .split('\u{1f}')
                .filter(|f| !f.is_empty())
                .map(|f| {
                    let (n, v) = f.split_once('=').unwrap();
                    (n.to_owned(), v.to_owned())
                })
                .collect();
            Captured {
                level,
                target,
                fields,
            }
        })
        .collect()
}

/// A field's name as written in the names file (`?addr`, `id = %x.y`).
fn field_name(field: &str) -> String {
    match field.split_once('=') {
        Some((n, _)) => n.trim().to_owned(),
        None => field.trim_start_matches(['?', '%']).trim().to_owned(),
    }
}

/// The format string with its k-th placeholder replaced by `values[k]`
/// (the names file lists one field per placeholder, in order).
fn render(format: &str, values: &[&str]) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut k = 0;
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
                out.push_str(values[k]);
                k += 1;
            }
            c => out.push(c),
        }
    }
    out
}

#[test]
fn suggest_then_fix_keeps_every_logged_value_and_adds_an_event() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("crate");
    copy_fixture(&dir);
    let before = run_fixture(&dir);
    let lib = dir.join("src/lib.rs");

    // check before: 12 unstructured calls, the 13th already structured.
    let (code, out, _) = lint(&["--format", "json", "-q", dir.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code, 0, "{out}");
    assert_eq!(v["summary"]["calls"], 13, "{out}");
    assert_eq!(v["summary"]["unstructured"], 12, "{out}");

    let names_path = tmp.path().join("names.toml");
    let (code, out, err) = lint(&[
        "suggest",
        dir.to_str().unwrap(),
        "--out",
        names_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    // The call with a comment between its arguments is left out, with the reason.
    assert!(
        err.contains("src/lib.rs:45:5: no suggestion: not safe to rewrite: it has a comment"),
        "{err}"
    );
    let names_text = std::fs::read_to_string(&names_path).unwrap();
    let names: NamesFile = toml::from_str(&names_text).unwrap();
    assert_eq!(names.calls.len(), 11, "{names_text}");
    // The example, and names from the taxonomy for RobustMQ's subsystems.
    let first = names.calls.iter().find(|c| c.file == "src/lib.rs").unwrap();
    assert_eq!(
        first.original.as_deref(),
        Some("accept tcp connection:{:?}")
    );
    assert_eq!(first.event, "connection_accepted");
    assert_eq!(first.fields, ["?addr"]);
    assert_eq!(first.message.as_deref(), Some("accept tcp connection"));
    let events: Vec<&str> = names.calls.iter().map(|c| c.event.as_str()).collect();
    for expected in [
        "connection_failed",
        "user_login",
        "session_expired",
        "delay_message_scheduled",
        "segment_sealed",
        "raft_append_failed",
        "task_started",
        "shard_write_failed",
        "subscription_cancelled",
    ] {
        assert!(events.contains(&expected), "{expected} in {events:?}");
    }
    let session = names
        .calls
        .iter()
        .find(|c| c.event == "session_expired")
        .unwrap();
    assert_eq!(
        session.fields,
        [
            "client_id = %conn.client_id()",
            "connection_id = conn.connection_id",
            "secs = 30"
        ]
    );

    // The error value goes to `error` whatever its local name, in the
    // formatting the message gave it (Display or Debug).
    let fields_of = |event: &str| {
        names
            .calls
            .iter()
            .find(|c| c.event == event)
            .map(|c| c.fields.clone())
            .unwrap_or_else(|| panic!("{event} in {names_text}"))
    };
    assert_eq!(fields_of("connection_failed"), ["error = ?e"]);
    let flush = names
        .calls
        .iter()
        .find(|c| c.event == "shard_flush_failed")
        .unwrap_or_else(|| panic!("{names_text}"));
    assert_eq!(flush.rename.get("err").map(String::as_str), Some("error"));
    assert_eq!(
        fields_of("raft_append_failed"),
        ["value = %3", "error = %e"]
    );
    // A failure message gets a failure name from its verb and object.
    assert_eq!(
        fields_of("shard_write_failed"),
        ["%shard", "error_kind = ?e.kind()", "value = %100"]
    );
    // A warn call named after an info event is pointed out to the reviewer.
    assert!(
        session
            .note
            .as_deref()
            .is_some_and(|n| n.contains("at info")),
        "{session:?}"
    );
    // Edits after the review: every call moves down a line (the fingerprints
    // still find them), and one listed call gains a comment (fix must refuse it).
    let edited = std::fs::read_to_string(&lib)
        .unwrap()
        .replacen(
            "pub fn run() {\n",
            "pub fn run() {\n    // an unrelated edit made after `suggest`\n",
            1,
        )
        .replacen(
            "tracing::info!(\"Start the flush thread\");",
            "tracing::info!(/* reviewed */ \"Start the flush thread\");",
            1,
        );
    std::fs::write(&lib, &edited).unwrap();
    let original = edited;
    let (code, out, err) = lint(&[
        "fix",
        dir.to_str().unwrap(),
        "--names",
        names_path.to_str().unwrap(),
    ]);
    // The call that gained a comment is listed, not touched.
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("rewrote 10 calls in 1 files"), "{out}");
    assert!(
        out.contains("1 not rewritten")
            && out.contains("(task_started): not safe to rewrite: it has a comment"),
        "{out}"
    );
    let fixed = std::fs::read_to_string(&lib).unwrap();

    // Byte-exact outside the rewritten calls: cut every call from both texts.
    let outside = |text: &str| {
        let calls = calls_in(text, "event").unwrap();
        let mut rest = String::new();
        let mut at = 0;
        for c in &calls {
            rest.push_str(&text[at..c.parts.call.start]);
            rest.push_str("<call>");
            at = c.parts.call.end;
        }
        rest.push_str(&text[at..]);
        rest
    };
    assert_eq!(outside(&original), outside(&fixed));
    // The untouched call is byte-identical.
    let kept = "info!(\n        \"kept: a comment between the arguments {}\", // the fix must leave this call alone\n        1\n    );";
    assert!(original.contains(kept) && fixed.contains(kept));
    let kept = "tracing::info!(/* reviewed */ \"Start the flush thread\");";
    assert!(fixed.contains(kept));

    // Idempotent: a second run changes nothing.
    let (code, out, _) = lint(&[
        "fix",
        dir.to_str().unwrap(),
        "--names",
        names_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "still lists the call it cannot rewrite: {out}");
    assert!(
        out.contains("rewrote 0 calls") && out.contains("10 already"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&lib).unwrap(), fixed);

    // check after: two unstructured calls left, the rest structured, clean.
    let (code, out, _) = lint(&["--format", "json", "-q", dir.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(code, 0, "{out}");
    assert_eq!(v["summary"]["unstructured"], 2, "{out}");
    assert_eq!(v["summary"]["structured"], 11, "{out}");

    // The rewritten crate compiles and logs the same values.
    let after = run_fixture(&dir);
    assert_eq!(before.len(), 13, "{before:#?}");
    assert_eq!(before.len(), after.len());
    let entries: Vec<_> = names.calls.iter().collect();
    let mut rewritten = 0;
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(
            (&b.level, &b.target),
            (&a.level, &a.target),
            "{b:?} / {a:?}"
        );
        let Some(original_message) = b.get("message") else {
            panic!("every fixture call has a message: {b:?}")
        };
        let entry = entries.iter().find(|e| {
            a.get("event") == Some(e.event.as_str()) && a.get("message") == e.message.as_deref()
        });
        match entry {
            None => assert_eq!(b, a, "a call not rewritten logs exactly as before"),
            Some(e) => {
                rewritten += 1;
                let values: Vec<&str> = e
                    .fields
                    .iter()
                    .map(|f| {
                        let n = field_name(f);
                        a.get(&n).unwrap_or_else(|| panic!("field {n} in {a:?}"))
                    })
                    .collect();
                assert_eq!(
                    render(e.original.as_deref().unwrap(), &values),
                    original_message,
                    "the new fields hold the values the old message showed: {a:?}"
                );
                // Fields the call had before keep their values, under
                // their new name where the entry renames them.
                for (n, v) in &b.fields {
                    if n != "message" {
                        let now = e.rename.get(n).unwrap_or(n);
                        assert_eq!(a.get(now), Some(v.as_str()), "{n} as {now} in {a:?}");
                    }
                }
            }
        }
    }
    assert_eq!(rewritten, 10);
    // No error value is logged under its local name any more.
    for a in &after {
        assert!(
            a.get("e").is_none() && a.get("err").is_none(),
            "the error is in error: {a:?}"
        );
    }
    assert_eq!(
        after.iter().filter(|a| a.get("error").is_some()).count(),
        3,
        "{after:#?}"
    );
    // The call that logged its error as `err` logs the same value as `error`.
    let flush = |events: &[Captured]| {
        events
            .iter()
            .find(|c| {
                c.get("message")
                    .is_some_and(|m| m.starts_with("flush of shard"))
            })
            .cloned()
            .unwrap()
    };
    assert!(flush(&before).get("err").is_some());
    assert_eq!(flush(&before).get("err"), flush(&after).get("error"));
}
