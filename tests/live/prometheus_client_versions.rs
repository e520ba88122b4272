//! Every prometheus-client release the dependency range `>=0.23.1, <0.27`
//! accepts: the collector registers in its registry and each label value
//! reads back exactly through the OpenMetrics reference parser, escaped once
//! (the releases before 0.25.2 write values verbatim, later ones escape).

use crate::support;

/// All releases in the range, as crates.io lists them (2026-11).
const RELEASES: [&str; 7] = [
    "0.23.1", "0.24.0", "0.24.1", "0.25.0", "0.25.1", "0.25.2", "0.26.0",
];
/// The release just below the range.
const BELOW: &str = "0.23.0";

/// Locks the matrix crate to `release`; `Err` with cargo's message when the
/// crate's dependency range refuses it.
fn lock(release: &str) -> Result<(), String> {
    let out = support::cargo_in_output(
        "prometheus-client-matrix",
        &[
            "update",
            "--quiet",
            "--package",
            "prometheus-client",
            "--precise",
            release,
        ],
    );
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn cargo(args: &[&str]) -> String {
    support::cargo_in("prometheus-client-matrix", args)
}

#[test]
fn every_release_in_the_range_encodes_exact_label_values() {
    // The ends of the range as cargo resolves it from the registry, not as
    // Cargo.toml spells it: the newest release it accepts is the last of
    // RELEASES, and the one below the first is refused.
    cargo(&["update", "--quiet", "--package", "prometheus-client"]);
    let newest = support::resolved("prometheus-client-matrix", "prometheus-client");
    let last = RELEASES[RELEASES.len() - 1];
    assert!(
        newest.starts_with(&format!("prometheus-client v{last}\n")),
        "the range accepts a release newer than {last}: add it to RELEASES\n{newest}"
    );
    let refused = lock(BELOW).expect_err("the release below the range is accepted");
    assert!(refused.contains(BELOW), "{refused}");

    let hostile = "quote\"back\\slash\nnewline";
    for release in RELEASES {
        lock(release).unwrap_or_else(|e| panic!("{release} is refused by the range:\n{e}"));
        let locked = support::resolved("prometheus-client-matrix", "prometheus-client");
        assert!(
            locked.starts_with(&format!("prometheus-client v{release}\n")),
            "{locked}"
        );
        let text = cargo(&["run", "--quiet"]);
        assert_eq!(text.matches("# EOF").count(), 1, "{release}:\n{text}");
        assert!(text.ends_with("# EOF\n"), "{release}:\n{text}");
        let samples = support::try_parse(&text, "openmetrics")
            .unwrap_or_else(|e| panic!("{release}: {e}\n{text}"));
        let events = support::event_counts(&samples);
        let expected = [
            (("error", hostile), 1),
            (("warn", "a\\\"b"), 1),
            (("warn", "plain"), 2),
        ]
        .map(|((level, event), n)| {
            (
                (level.to_owned(), "robustmq".to_owned(), event.to_owned()),
                n,
            )
        });
        assert_eq!(events, expected.into_iter().collect(), "{release}:\n{text}");
        for s in samples
            .iter()
            .filter(|s| s.name.starts_with("robustmq_log_"))
        {
            assert_eq!(s.labels["node_id"], hostile, "{release}: {s:?}");
        }
        assert!(
            samples
                .iter()
                .any(|s| s.name == "app_requests_total" && s.value == 1.0),
            "{release}:\n{text}"
        );
    }
}
