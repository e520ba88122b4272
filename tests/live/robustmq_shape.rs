//! RobustMQ's shape at its locked versions (tests/robustmq-shape: the
//! appender enum with the `log_metrics` variant, boxed layers in a `Vec`, the
//! collector in the global `LazyLock<Mutex<Registry>>`, the admin router with
//! `Arc<State>`), built and run; its `/metrics` body, fetched over a socket,
//! is read back by the OpenMetrics reference parser.

use crate::support;

use std::process::Command;

/// Runs cargo on the shape crate; its Cargo.lock is committed like
/// RobustMQ's (prometheus-client locked at 0.23.1), and cargo keeps locked
/// versions when it adds the path dependency's new packages.
fn cargo(args: &[&str]) -> String {
    support::cargo_in("robustmq-shape", args)
}

fn section<'a>(out: &'a str, name: &str) -> &'a str {
    let start = format!("--- {name} ---\n");
    let from = out
        .find(&start)
        .unwrap_or_else(|| panic!("no {name} in\n{out}"))
        + start.len();
    let len = out[from..].find("--- end ---").expect("end marker");
    &out[from..from + len]
}

fn key(level: &str, service: &str, event: &str) -> (String, String, String) {
    (level.into(), service.into(), event.into())
}

#[test]
fn robustmq_shape_serves_exact_counts_from_its_own_registry() {
    let out = cargo(&["run", "--quiet"]);
    let metrics = section(&out, "metrics");
    assert_eq!(metrics.matches("# EOF").count(), 1, "{metrics}");
    assert!(metrics.ends_with("# EOF\n"), "{metrics}");
    let samples =
        support::try_parse(metrics, "openmetrics").unwrap_or_else(|e| panic!("{e}\n{metrics}"));
    assert!(
        samples
            .iter()
            .any(|s| s.name == "mqtt_connections_total" && s.value == 7.0),
        "RobustMQ's own metric is missing:\n{metrics}"
    );
    let expected = [
        (key("error", "meta-service", "unstructured"), 1),
        (key("warn", "mqtt-broker", "auth_failed"), 2),
        (key("info", "storage-engine", "segment_rolled"), 1),
        (
            key("error", "kafka-broker", "quote\"back\\slash\nnewline"),
            1,
        ),
        // openraft at warn passes the appender's targets; at info it does not.
        (key("warn", "robustmq", "unstructured"), 1),
        // common/* crates keep the default service.
        (key("error", "robustmq", "unstructured"), 1),
    ];
    assert_eq!(
        support::event_counts(&samples),
        expected.into_iter().collect(),
        "{metrics}"
    );
    for s in samples
        .iter()
        .filter(|s| s.name.starts_with("robustmq_log_"))
    {
        assert_eq!(s.labels["node_id"], "3", "{s:?}");
    }
    // The handle's own router, merged into the admin router at another path,
    // serves the same counts in the Prometheus text format.
    let own = support::parse(section(&out, "log-metrics"));
    assert_eq!(support::event_counts(&own), support::event_counts(&samples));
}

#[test]
fn robustmq_shape_has_one_prometheus_client_toml_axum_and_tracing_subscriber() {
    let tree = cargo(&["tree", "--edges", "normal", "--depth", "1"]);
    println!("{tree}");
    // Depth 0 lines are the packages present in two or more versions.
    let duplicates = cargo(&[
        "tree",
        "--duplicates",
        "--edges",
        "normal",
        "--prefix",
        "depth",
    ]);
    assert!(
        duplicates.lines().any(|l| l.starts_with('0')) || duplicates.trim().is_empty(),
        "unexpected `cargo tree --prefix depth` output:\n{duplicates}"
    );
    for name in ["prometheus-client", "toml", "axum", "tracing-subscriber"] {
        assert!(
            !duplicates
                .lines()
                .any(|l| l.starts_with(&format!("0{name} v"))),
            "two versions of {name}:\n{duplicates}"
        );
    }
    let prom = support::resolved("robustmq-shape", "prometheus-client");
    assert!(prom.starts_with("prometheus-client v0.23.1\n"), "{prom}");
    assert!(prom.contains("robustmq-log-metrics v"), "{prom}");
}

/// RobustMQ's situation exactly: a workspace whose Cargo.lock already holds
/// prometheus-client 0.23.1 adds this crate; cargo keeps the locked release
/// for the range `>=0.23.1, <0.27` instead of adding 0.26.
#[test]
fn adding_the_crate_to_a_workspace_locked_at_0_23_1_adds_no_second_prometheus_client() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
    let manifest = dir.path().join("Cargo.toml");
    let head = "[package]\nname = \"locked-workspace\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n\n[dependencies]\nprometheus-client = \"0.23.1\"\n";
    std::fs::write(&manifest, head).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let run = |args: &[&str]| {
        let out = Command::new(&cargo)
            .args(args)
            .arg("--manifest-path")
            .arg(&manifest)
            .output()
            .expect("run cargo");
        assert!(
            out.status.success(),
            "cargo {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["generate-lockfile", "--quiet"]);
    let ours = format!(
        "robustmq-log-metrics = {{ path = {:?}, default-features = false, features = [\"prometheus-client\"] }}\n",
        support::repo_dir()
    );
    std::fs::write(&manifest, format!("{head}{ours}")).unwrap();
    let prom = run(&[
        "tree",
        "--invert",
        "prometheus-client",
        "--prefix",
        "depth",
        "--edges",
        "normal",
    ]);
    let roots: Vec<&str> = prom.lines().filter(|l| l.starts_with('0')).collect();
    assert_eq!(roots, ["0prometheus-client v0.23.1"], "{prom}");
    assert!(prom.contains("robustmq-log-metrics v"), "{prom}");
}
