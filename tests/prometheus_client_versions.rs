//! Every prometheus-client release the dependency range `>=0.23.1, <0.27`
//! accepts: the collector registers in its registry and each label value
//! reads back exactly through the OpenMetrics reference parser, escaped once
//! (the releases before 0.25.2 write values verbatim, later ones escape).

mod support;

/// All releases in the range, as crates.io lists them (2026-11).
const RELEASES: [&str; 7] = [
    "0.23.1", "0.24.0", "0.24.1", "0.25.0", "0.25.1", "0.25.2", "0.26.0",
];

fn cargo(args: &[&str]) -> String {
    support::cargo_in("prometheus-client-matrix", args)
}

#[test]
fn the_range_in_cargo_toml_is_the_one_tested() {
    let manifest = std::fs::read_to_string(support::repo_dir().join("Cargo.toml")).unwrap();
    assert!(
        manifest
            .contains(r#"prometheus-client = { version = ">=0.23.1, <0.27", optional = true }"#),
        "update RELEASES here when the range changes"
    );
}

#[test]
fn every_release_in_the_range_encodes_exact_label_values() {
    let hostile = "quote\"back\\slash\nnewline";
    for release in RELEASES {
        cargo(&[
            "update",
            "--quiet",
            "--package",
            "prometheus-client",
            "--precise",
            release,
        ]);
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
