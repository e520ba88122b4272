//! Dashboards: structure, Grafana's own schema, and every panel query
//! returning data from a real Prometheus scraping the demo broker.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::{start_broker_with_env, wait_for, Prometheus};

const DASHBOARDS: [&str; 2] = ["robustmq-log-overview.json", "robustmq-log-events.json"];

fn load(name: &str) -> Value {
    let p = support::repo_dir().join("dashboards").join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap())
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", p.display()))
}

/// Every panel, rows' nested panels included.
fn panels(d: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for p in d["panels"].as_array().unwrap() {
        out.push(p.clone());
        if let Some(inner) = p["panels"].as_array() {
            out.extend(inner.iter().cloned());
        }
    }
    out
}

fn exprs(d: &Value) -> Vec<(String, String)> {
    panels(d)
        .iter()
        .flat_map(|p| {
            let title = p["title"].as_str().unwrap_or("").to_owned();
            p["targets"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |t| (title.clone(), t["expr"].as_str().unwrap_or("").to_owned()))
        })
        .collect()
}

fn variables(d: &Value) -> Vec<Value> {
    d["templating"]["list"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// `$name` and `${name}` references in a string.
fn refs(s: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let (start, braced) = if b.get(i + 1) == Some(&b'{') {
                (i + 2, true)
            } else {
                (i + 1, false)
            };
            let mut j = start;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j > start {
                out.insert(s[start..j].to_owned());
            }
            i = if braced { j + 1 } else { j };
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn dashboards_are_well_formed_and_follow_the_conventions() {
    let mut uids = BTreeSet::new();
    for name in DASHBOARDS {
        let d = load(name);
        let text =
            std::fs::read_to_string(support::repo_dir().join("dashboards").join(name)).unwrap();
        assert!(text.contains("\n  \""), "{name} is not pretty-printed");
        assert!(!text.contains("${DS_"), "{name} uses an import placeholder");
        assert!(d.get("__inputs").is_none(), "{name} has __inputs");
        assert!(
            uids.insert(d["uid"].as_str().unwrap().to_owned()),
            "duplicate uid"
        );
        assert!(d["title"].as_str().unwrap().starts_with("RobustMQ / "));
        assert!(d["tags"]
            .as_array()
            .unwrap()
            .contains(&Value::from("robustmq")));
        assert!(d["refresh"].as_str().is_some() && d["time"]["from"].as_str().is_some());
        let link = &d["links"][0];
        assert!(
            link["keepTime"] == true && link["includeVars"] == true,
            "{name}: links must keep time and variables"
        );

        let vars = variables(&d);
        let names: BTreeSet<String> = vars
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_owned())
            .collect();
        let ds = vars
            .iter()
            .find(|v| v["name"] == "datasource")
            .expect("datasource variable");
        assert_eq!(ds["type"], "datasource");
        assert_eq!(ds["query"], "prometheus");
        for v in vars.iter().filter(|v| v["type"] == "query") {
            assert_eq!(
                v["datasource"]["uid"], "${datasource}",
                "{name}: variable {}",
                v["name"]
            );
            let q = v["query"]["query"].as_str().unwrap();
            assert!(q.starts_with("label_values("), "{name}: {q}");
        }
        for required in ["cluster", "node_id", "service", "level"] {
            assert!(names.contains(required), "{name} lacks ${required}");
        }

        let ps = panels(&d);
        let mut ids = BTreeSet::new();
        let mut cells: BTreeMap<(i64, i64), i64> = BTreeMap::new();
        for p in &ps {
            let id = p["id"].as_i64().unwrap();
            assert!(ids.insert(id), "{name}: duplicate panel id {id}");
            assert_ne!(p["type"], "graph", "{name}: use timeseries, not graph");
            assert_eq!(
                p["datasource"]["uid"], "${datasource}",
                "{name}: panel {id}"
            );
            let g = &p["gridPos"];
            let (x, y, w, h) = (
                g["x"].as_i64().unwrap(),
                g["y"].as_i64().unwrap(),
                g["w"].as_i64().unwrap(),
                g["h"].as_i64().unwrap(),
            );
            assert!(
                x >= 0 && w > 0 && h > 0 && x + w <= 24,
                "{name}: panel {id} off the 24-column grid"
            );
            for cx in x..x + w {
                for cy in y..y + h {
                    if let Some(other) = cells.insert((cx, cy), id) {
                        panic!("{name}: panels {other} and {id} overlap at ({cx},{cy})");
                    }
                }
            }
            assert!(
                p["fieldConfig"]["defaults"]["unit"].as_str().is_some(),
                "{name}: panel {id} has no unit"
            );
            for t in p["targets"].as_array().unwrap() {
                assert_eq!(
                    t["datasource"]["uid"], "${datasource}",
                    "{name}: panel {id} target"
                );
                let expr = t["expr"].as_str().unwrap();
                if expr.contains("rate(") && !expr.contains(":") {
                    assert!(
                        expr.contains("[$__rate_interval]"),
                        "{name}: panel {id} rate without $__rate_interval: {expr}"
                    );
                }
            }
        }
        let used: BTreeSet<String> = refs(&text);
        for r in used {
            let builtin = r.starts_with("__") || r == "value" || r == "labels";
            assert!(
                builtin || names.contains(&r),
                "{name}: ${r} is used but not defined"
            );
        }
    }
}

fn tools_dir() -> PathBuf {
    support::repo_dir().join("dashboards").join("tools")
}

fn npx(args: &[&str]) -> std::process::Output {
    let bin = tools_dir().join("node_modules").join(".bin").join(args[0]);
    assert!(
        bin.is_file(),
        "{} missing: run `bash .ci/install-tools` (npm ci in dashboards/tools)",
        bin.display()
    );
    Command::new(bin)
        .args(&args[1..])
        .current_dir(tools_dir())
        .output()
        .expect("run node tool")
}

fn ajv_validate(schema: &std::path::Path, file: &std::path::Path) -> std::process::Output {
    npx(&[
        "ajv",
        "validate",
        "-s",
        schema.to_str().unwrap(),
        "-d",
        file.to_str().unwrap(),
        "--spec=draft7",
        "--strict=false",
        "--all-errors",
    ])
}

#[test]
fn dashboards_validate_against_grafanas_dashboard_schema() {
    let schema = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("grafana-dashboard.schema.json");
    let out = npx(&[
        "ts-json-schema-generator",
        "--path",
        "node_modules/@grafana/schema/dist/types/raw/dashboard/x/types.gen.d.ts",
        "--type",
        "Dashboard",
        "--no-type-check",
        "-o",
        schema.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "schema generation failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The generated schema must be strict, or the check below proves nothing.
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&schema).unwrap()).unwrap();
    assert_eq!(s["definitions"]["Dashboard"]["additionalProperties"], false);
    assert_eq!(s["definitions"]["Panel"]["additionalProperties"], false);
    for name in DASHBOARDS {
        let file = support::repo_dir().join("dashboards").join(name);
        let out = ajv_validate(&schema, &file);
        assert!(
            out.status.success(),
            "{name} does not match Grafana's dashboard schema:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // And a typo is caught: the validator is not vacuous.
    let mut bad = load(DASHBOARDS[0]);
    bad["panels"][0]["titel"] = Value::from("typo");
    let bad_file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bad-dashboard.json");
    std::fs::write(&bad_file, serde_json::to_string(&bad).unwrap()).unwrap();
    let out = ajv_validate(&schema, &bad_file);
    assert!(
        !out.status.success(),
        "a dashboard with an unknown panel key passed validation"
    );
}

/// Substitutes Grafana variables the way Grafana does for Prometheus.
fn substitute(expr: &str, values: &BTreeMap<&str, String>) -> String {
    let mut e = expr
        .replace("$__rate_interval", "15s")
        .replace("$__range_s", "60")
        .replace("$__range", "1m")
        .replace("$__interval", "5s");
    // Longest names first so `$instance` is not cut by a shorter name.
    let mut names: Vec<_> = values.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for n in names {
        e = e
            .replace(&format!("${{{n}}}"), &values[n])
            .replace(&format!("${n}"), &values[n]);
    }
    e
}

/// "All" for every variable that has it; a concrete value for single-select ones.
fn all_for<'a>(d: &Value, all: &BTreeMap<&'a str, String>) -> BTreeMap<&'a str, String> {
    let mut all = all.clone();
    if variables(d)
        .iter()
        .any(|v| v["name"] == "service" && v["includeAll"] == false)
    {
        all.insert("service", "mqtt-broker".to_owned());
    }
    all
}

#[test]
fn every_panel_query_returns_data_from_prometheus_scraping_the_demo() {
    // The slow sink (1 ms per line) behind a 64-line buffer takes about
    // 1,000 of the 2,000 info lines a second: the log pipeline panels and
    // the appender's alert see drops.
    let (_broker, addr) = start_broker_with_env(
        &[
            "--events-per-sec",
            "2000",
            "--error-rate",
            "0.05",
            "--node-id",
            "7",
            "--log-sink",
            "slow",
            "--log-buffer-lines",
            "64",
        ],
        &[("RUST_LOG", "info")],
    );
    // Both rule files: the records and the alerts that read them.
    let rules = support::repo_dir().join("alerts/*.yml");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: robustmq\n    honor_labels: true\n    static_configs:\n      - targets: ['{addr}']\n        labels: {{cluster: demo, namespace: robustmq-system, pod: robustmq-7}}\n",
        rules.display()
    );
    let prom = Prometheus::start(&config, &[]);

    let all: BTreeMap<&str, String> = [
        ("cluster", ".*"),
        ("node_id", ".*"),
        ("service", ".*"),
        ("level", ".*"),
        ("event", ".*"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect();
    let concrete: BTreeMap<&str, String> = [
        ("cluster", "demo".to_owned()),
        ("node_id", "7".to_owned()),
        ("service", "mqtt-broker".to_owned()),
        ("level", "error".to_owned()),
        ("event", "connection_failed".to_owned()),
    ]
    .into_iter()
    .collect();

    let mut queries: Vec<(String, String, String)> = Vec::new();
    for name in DASHBOARDS {
        let d = load(name);
        let all = all_for(&d, &all);
        for (title, expr) in exprs(&d) {
            for (mode, values) in [("All", &all), ("concrete", &concrete)] {
                queries.push((
                    format!("{name} / {title} ({mode})"),
                    expr.clone(),
                    substitute(&expr, values),
                ));
            }
        }
    }
    assert!(queries.len() >= 20);

    // Every query is valid now (a typo fails at once), and returns data once
    // Prometheus has a few scrapes and rule evaluations.
    for (what, _, q) in &queries {
        prom.query(q)
            .unwrap_or_else(|e| panic!("{what}: invalid query {q}: {e}"));
    }
    let mut pending: Vec<&(String, String, String)> = queries.iter().collect();
    wait_for(
        "every panel query to return data",
        Duration::from_secs(90),
        || {
            pending.retain(|(_, _, q)| prom.vector(q).is_empty());
            pending.is_empty().then_some(())
        },
    );

    // The variables' own queries return values.
    for name in DASHBOARDS {
        let d = load(name);
        let all = all_for(&d, &all);
        for v in variables(&d).iter().filter(|v| v["type"] == "query") {
            let q = v["query"]["query"].as_str().unwrap();
            let inner = q.trim_start_matches("label_values(").trim_end_matches(')');
            let (selector, label) = inner.rsplit_once(',').unwrap();
            let selector = substitute(selector.trim(), &all);
            let path = format!(
                "/api/v1/label/{}/values?match[]={}",
                label.trim(),
                support::urlencode(&selector)
            );
            let r = prom.get(&path);
            assert!(
                r["data"].as_array().is_some_and(|a| !a.is_empty()),
                "{name}: variable {} ({q}) has no values: {r}",
                v["name"]
            );
        }
    }

    // 5% errors: 5x the 1% budget, the ticket pair's burn rate (3x) is
    // exceeded, so the burn-rate alert is at least pending; the demo's console
    // appender drops lines behind its slow sink, so its alert is too.
    for (alert, labels) in [
        (
            "RobustMQHighErrorRate",
            "severity=\"warning\", cluster=\"demo\"",
        ),
        (
            "RobustMQLogAppenderDroppingLines",
            "appender=\"console\", cluster=\"demo\"",
        ),
    ] {
        wait_for(
            &format!("{alert} pending or firing"),
            Duration::from_secs(60),
            || {
                let v = prom.vector(&format!("ALERTS{{alertname=\"{alert}\", {labels}}}"));
                (!v.is_empty()).then_some(v)
            },
        );
    }
    prom.stop();
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("percent escape"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// RobustMQBrokerHighErrorRate's threshold and guard, read from the committed rules.
fn broker_error_rate_thresholds() -> (Vec<f64>, String) {
    let rules: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(support::repo_dir().join("alerts/robustmq-logs.alerts.yml"))
            .unwrap(),
    )
    .unwrap();
    let mut thresholds = Vec::new();
    let mut guard = String::new();
    for g in rules["groups"].as_sequence().unwrap() {
        for r in g["rules"].as_sequence().unwrap() {
            if r["alert"] == "RobustMQBrokerHighErrorRate" {
                let expr = r["expr"].as_str().unwrap();
                let t = expr.split("> ").nth(1).unwrap().split_whitespace().next();
                thresholds.push(t.unwrap().parse().unwrap());
                guard = expr.rsplit(">= ").next().unwrap().trim().to_owned();
            }
        }
    }
    (thresholds, guard)
}

#[test]
fn panels_have_level_colours_units_guarded_ratios_non_overlapping_history_and_links() {
    let (thresholds, guard) = broker_error_rate_thresholds();
    assert_eq!(thresholds.len(), 1);
    let mut explore_links = 0;
    let mut event_links = 0;
    for name in DASHBOARDS {
        let d = load(name);
        for p in panels(&d) {
            let title = p["title"].as_str().unwrap();
            let defaults = &p["fieldConfig"]["defaults"];
            let unit = defaults["unit"].as_str().unwrap();
            for t in p["targets"].as_array().unwrap() {
                let expr = t["expr"].as_str().unwrap();
                let legend = t["legendFormat"].as_str().unwrap_or("");
                // Fixed colours wherever a series is a level.
                if legend.contains("{{level}}") {
                    let overrides = p["fieldConfig"]["overrides"].as_array().unwrap();
                    for (level, colour) in [
                        ("error", "red"),
                        ("warn", "orange"),
                        ("info", "blue"),
                        ("debug", "#8e8e8e"),
                    ] {
                        assert!(
                            overrides.iter().any(|o| o["matcher"]["options"]
                                .as_str()
                                .unwrap()
                                .contains(level)
                                && o["properties"][0]["value"]["fixedColor"] == colour),
                            "{name} / {title}: no fixed {colour} for {level}"
                        );
                    }
                }
                // A range query never sums windows wider than its step.
                if t["instant"] == false && expr.contains("increase(") {
                    assert!(
                        expr.contains("[$__interval])") && p["interval"].as_str().is_some(),
                        "{name} / {title}: increase() over windows that overlap: {expr}"
                    );
                }
                if expr.contains("rate(") && !expr.contains(" / ") && !expr.contains("ratio") {
                    assert_eq!(unit, "suffix: events/s", "{name} / {title}");
                }
                if expr.contains("ratio") && !title.starts_with("Burn rate") {
                    assert_eq!(unit, "percentunit", "{name} / {title}");
                }
                // The broker error-ratio panels show what the alert sees: its guard and threshold.
                if expr.contains("service_instance:robustmq_log_errors:ratio_rate5m") {
                    assert!(
                        expr.contains(&format!(">= {guard}")),
                        "{name} / {title}: no guard"
                    );
                    let steps: Vec<f64> = defaults["thresholds"]["steps"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter_map(|s| s["value"].as_f64())
                        .collect();
                    assert_eq!(steps, thresholds, "{name} / {title}");
                }
            }
            for link in defaults["links"].as_array().into_iter().flatten() {
                let url = link["url"].as_str().unwrap();
                if let Some(panes) = url.split("panes=").nth(1) {
                    let json: Value = serde_json::from_str(&percent_decode(panes))
                        .unwrap_or_else(|e| panic!("{name} / {title}: explore link: {e}"));
                    let q = &json["logs"]["queries"][0];
                    assert_eq!(q["datasource"]["type"], "loki");
                    let logql = q["expr"].as_str().unwrap();
                    assert!(
                        logql.starts_with("{job=\"robustmq\", cluster=~\"${cluster:regex}\""),
                        "{logql}"
                    );
                    assert!(logql.contains("level=\"error\""), "{logql}");
                    assert_eq!(json["logs"]["range"]["from"], "${__from}");
                    explore_links += 1;
                } else {
                    assert!(url.starts_with("/d/robustmq-log-events/"), "{url}");
                    assert!(
                        url.contains("var-service=${__") && url.contains("${__url_time_range}")
                    );
                    event_links += usize::from(url.contains("var-event=${__data.fields.event}"));
                }
            }
        }
    }
    assert!(explore_links >= 4, "{explore_links} Loki links");
    assert!(
        event_links >= 1,
        "the top errors table must link to its event"
    );
}
