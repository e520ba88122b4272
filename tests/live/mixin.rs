//! mixin/ (jsonnet) renders every committed rule, dashboard and Kubernetes
//! object that embeds them: a committed file that differs from its rendering
//! fails here, and `_config` overrides reach every query.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

const HINT: &str = "run `bash scripts/render-mixin.sh` and commit the result";

/// The rendering as path -> content, the way scripts/render-mixin.sh writes it,
/// rendered once for all tests.
fn rendered() -> &'static BTreeMap<String, String> {
    static RENDERED: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    RENDERED.get_or_init(render)
}

fn render() -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["alerts", "dashboards", "deploy/kubernetes"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    let listing = support::jsonnet(&[
        "-S",
        "-m",
        dir.path().to_str().unwrap(),
        "mixin/render.jsonnet",
    ]);
    listing
        .lines()
        .map(|written| {
            let rel = Path::new(written)
                .strip_prefix(dir.path())
                .unwrap_or_else(|_| panic!("{written} outside the output dir"))
                .to_string_lossy()
                .into_owned();
            (rel, std::fs::read_to_string(written).unwrap())
        })
        .collect()
}

/// Compares `files` (a rendering) with the files committed under `root`:
/// the same set of generated files, each with the same content. The error
/// names the first file that differs and from which line.
fn compare_with_committed(files: &BTreeMap<String, String>, root: &Path) -> Result<(), String> {
    let mut expected: Vec<String> = vec![
        "deploy/kubernetes/prometheusrule.yaml".into(),
        "deploy/kubernetes/grafana-dashboards.yaml".into(),
    ];
    for (dir, suffix) in [("alerts", ".yml"), ("dashboards", ".json")] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(suffix) {
                expected.push(format!("{dir}/{name}"));
            }
        }
    }
    expected.sort();
    let got: Vec<String> = files.keys().cloned().collect();
    if got != expected {
        return Err(format!(
            "the mixin renders {got:?}, but {expected:?} are committed"
        ));
    }
    for (path, text) in files {
        let committed = std::fs::read_to_string(root.join(path)).unwrap();
        if committed != *text {
            let line = committed
                .lines()
                .zip(text.lines())
                .position(|(a, b)| a != b)
                .map_or(committed.lines().count().min(text.lines().count()), |i| i)
                + 1;
            return Err(format!(
                "{path} differs from its rendering from line {line}"
            ));
        }
    }
    Ok(())
}

#[test]
fn every_committed_rendering_matches_the_mixin() {
    if let Err(e) = compare_with_committed(rendered(), &support::repo_dir()) {
        panic!("{e}; {HINT}");
    }
}

/// The comparison above on a copy of the committed files: clean as
/// rendered, and naming the file and line after one hand edit.
#[test]
fn the_comparison_notices_a_hand_edit() {
    let files = rendered();
    let copy = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let to = copy.path().join(path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, text).unwrap();
    }
    assert_eq!(compare_with_committed(files, copy.path()), Ok(()));

    let path = "alerts/robustmq-logs.alerts.yml";
    let rules = &files[path];
    let edited = rules.replacen("severity: \"critical\"", "severity: \"page\"", 1);
    assert_ne!(&edited, rules, "the rendered rules have no critical alert");
    let line = rules
        .lines()
        .position(|l| l.contains("severity: \"critical\""))
        .unwrap()
        + 1;
    std::fs::write(copy.path().join(path), edited).unwrap();
    assert_eq!(
        compare_with_committed(files, copy.path()),
        Err(format!(
            "{path} differs from its rendering from line {line}"
        ))
    );
}

/// The raw series the mixin reads; everything else it reads is recorded.
const RAW: [&str; 8] = [
    "robustmq_log_events_total{",
    "robustmq_log_label_overflow_total{",
    "robustmq_log_label_limit{",
    "robustmq_log_appender_lines_total{",
    "robustmq_log_appender_bytes_total{",
    "robustmq_log_appender_dropped_lines_total{",
    "robustmq_log_appender_suppressed_lines_total{",
    "up{",
];

#[test]
fn config_overrides_reach_every_rule_alert_and_dashboard_query() {
    let overridden = "(import 'mixin.libsonnet') + { _config+:: { selector: 'job=\"mq-prod\"', clusterLabel: 'region', runbookURLPattern: 'https://wiki.example/runbooks/%s' } }";
    let rules: serde_json::Value = serde_json::from_str(&support::jsonnet(&[
        "-e",
        &format!("local m = {overridden}; m.prometheusRules.groups + m.prometheusAlerts.groups"),
    ]))
    .unwrap();
    let mut raw_reads = 0;
    for group in rules.as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let expr = rule["expr"].as_str().unwrap();
            assert!(
                !expr.replace("cluster_service", "").contains("cluster"),
                "cluster label left in {expr}"
            );
            // Every read of a raw series uses the selector.
            for metric in RAW {
                for (i, _) in expr.match_indices(metric) {
                    raw_reads += 1;
                    assert!(
                        expr[i + metric.len()..].starts_with("job=\"mq-prod\""),
                        "{expr}"
                    );
                }
            }
            if let Some(alert) = rule["alert"].as_str() {
                assert_eq!(
                    rule["annotations"]["runbook_url"],
                    format!("https://wiki.example/runbooks/{}", alert.to_lowercase())
                );
            }
        }
    }
    // 9 records (2 event reads, overflow, the names count, the limit, 4 appender
    // counters) and 3 alerts on `up`.
    assert!(raw_reads >= 12, "only {raw_reads} raw reads");
    let dashboards: serde_json::Value = serde_json::from_str(&support::jsonnet(&[
        "-e",
        &format!("({overridden}).grafanaDashboards"),
    ]))
    .unwrap();
    let mut queries = 0;
    for d in dashboards.as_object().unwrap().values() {
        let text = d.to_string();
        assert!(text.contains("region=~\\\"$cluster\\\""), "{}", d["uid"]);
        for p in d["panels"].as_array().unwrap() {
            for t in p["targets"].as_array().unwrap() {
                let expr = t["expr"].as_str().unwrap();
                if RAW.iter().any(|m| expr.contains(m)) {
                    // A raw read carries the selector.
                    for m in RAW {
                        for (i, _) in expr.match_indices(m) {
                            assert!(expr[i + m.len()..].starts_with("job=\"mq-prod\""), "{expr}");
                        }
                    }
                } else {
                    // Anything else reads recorded series (or ALERTS), in the overridden cluster.
                    assert!(expr.contains(":") || expr.contains("ALERTS{"), "{expr}");
                    assert!(expr.contains("region=~\"$cluster\""), "{expr}");
                }
                queries += 1;
            }
        }
    }
    assert!(queries >= 10);
}

/// The windows in `_config` drive the rules, the alerts and the panels alike.
#[test]
fn overriding_a_window_changes_the_rules_alerts_and_panels() {
    let overridden = "(import 'mixin.libsonnet') + { _config+:: { burnRateWindows: [{ severity: 'critical', long: '2h', short: '10m', factor: 10 }, { severity: 'warning', long: '12h', short: '1h', factor: 2 }] } }";
    let text = support::jsonnet(&[
        "-e",
        &format!("local m = {overridden}; [m.prometheusRules.groups, m.prometheusAlerts.groups, m.grafanaDashboards]"),
    ]);
    for needle in [
        "cluster_service:robustmq_log_errors:ratio_rate2h > 0.1",
        "cluster_service:robustmq_log_errors:ratio_rate10m > 0.1",
        "\"record\": \"cluster_service:robustmq_log_errors:ratio_rate12h\"",
        "ratio_rate(5m|10m|1h|2h|12h)",
    ] {
        assert!(text.contains(needle), "{needle} missing");
    }
    assert!(
        !text.contains("ratio_rate6h"),
        "a default window survived the override"
    );
}

/// The mixin contract, read the way kubernetes-mixin's consumers read it: a user
/// vendors the repository and imports `mixin/mixin.libsonnet` by its path, with
/// no `-J mixin`. prometheusRules holds only records, prometheusAlerts only
/// alerts, every alert reads series that prometheusRules records (or `up`),
/// grafanaDashboards is not empty, and a `_config+::` override reaches all three.
#[test]
fn the_mixin_imported_as_a_user_does_keeps_the_contract() {
    let vendor = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        support::repo_dir(),
        vendor.path().join("robustmq-log-metrics"),
    )
    .unwrap();
    let code = r#"
        local plain = import 'robustmq-log-metrics/mixin/mixin.libsonnet';
        local custom = plain + { _config+:: {
          selector: 'job="mq-prod"',
          clusterLabel: 'region',
          runbookURLPattern: 'https://wiki.example/runbooks/%s',
        } };
        local view(m) = {
          rules: m.prometheusRules,
          alerts: m.prometheusAlerts,
          dashboards: std.objectFields(m.grafanaDashboards),
          variables: [v.query for v in m.grafanaDashboards['robustmq-log-overview.json'].templating.list],
        };
        { plain: view(plain), custom: view(custom) }
    "#;
    let out = std::process::Command::new(support::jsonnet_bin())
        .arg("-J")
        .arg(vendor.path())
        .args(["-e", code])
        .current_dir(vendor.path())
        .output()
        .expect("run jsonnet");
    assert!(
        out.status.success(),
        "importing the vendored mixin failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules_of = |m: &serde_json::Value, key: &str| -> Vec<serde_json::Value> {
        m[key]["groups"]
            .as_array()
            .unwrap_or_else(|| panic!("{key} has no groups"))
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap().clone())
            .collect()
    };
    for (which, m) in [("plain", &v["plain"]), ("custom", &v["custom"])] {
        let records = rules_of(m, "rules");
        let alerts = rules_of(m, "alerts");
        assert!(!records.is_empty() && !alerts.is_empty(), "{which}");
        let recorded: std::collections::BTreeSet<&str> = records
            .iter()
            .map(|r| {
                assert!(
                    r.get("alert").is_none(),
                    "{which}: prometheusRules holds an alert: {r}"
                );
                r["record"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{which}: not a record: {r}"))
            })
            .collect();
        let group_names = |key: &str| -> Vec<String> {
            m[key]["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert!(group_names("rules").contains(&"robustmq-logs.rules".to_owned()));
        assert_eq!(group_names("alerts"), ["robustmq-logs.alerts"]);
        for a in &alerts {
            assert!(
                a.get("record").is_none(),
                "{which}: prometheusAlerts holds a record: {a}"
            );
            let name = a["alert"]
                .as_str()
                .unwrap_or_else(|| panic!("{which}: not an alert: {a}"));
            let expr = a["expr"].as_str().unwrap();
            for series in expr
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .filter(|t| t.matches(':').count() == 2)
            {
                assert!(
                    recorded.contains(series),
                    "{which}: {name} reads {series}, which prometheusRules does not record"
                );
            }
            // No raw counter or gauge of the crate: only records and `up`.
            for raw in RAW.iter().filter(|r| **r != "up{") {
                assert!(!expr.contains(raw), "{which}: {name} reads {raw}: {expr}");
            }
        }
        assert!(
            m["dashboards"].as_array().is_some_and(|d| !d.is_empty()),
            "{which}: grafanaDashboards is empty"
        );
    }
    // The override reaches the records, the alerts and the dashboards.
    let custom = &v["custom"];
    let text = |x: &serde_json::Value| x.to_string();
    for r in rules_of(custom, "rules") {
        let expr = r["expr"].as_str().unwrap();
        if RAW.iter().any(|m| expr.contains(m)) {
            assert!(expr.contains("job=\"mq-prod\""), "{expr}");
        }
        assert!(
            !expr.contains("(cluster,") && !expr.contains("(cluster)"),
            "{expr}"
        );
    }
    let alerts = rules_of(custom, "alerts");
    assert!(alerts.iter().all(|a| a["annotations"]["runbook_url"]
        .as_str()
        .unwrap()
        .starts_with("https://wiki.example/runbooks/")));
    assert!(text(&custom["alerts"]).contains("on (region, namespace, service)"));
    let variables = text(&custom["variables"]);
    assert!(
        variables.contains("job=\\\"mq-prod\\\"") && variables.contains("region"),
        "{variables}"
    );
    assert!(!text(&v["plain"]).contains("mq-prod"));
}
