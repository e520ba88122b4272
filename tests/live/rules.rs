//! The rule files load in promtool, their unit tests pass, and every alert
//! follows the conventions (for, severity, annotations, runbook, tests).

use crate::support;

use std::process::Command;

use serde_yaml::Value;

fn promtool(args: &[&str]) -> (bool, String) {
    let out = Command::new(support::tool("promtool"))
        .args(args)
        .current_dir(support::repo_dir())
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn rule_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(support::repo_dir().join("alerts"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml"))
        .map(|n| format!("alerts/{n}"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

#[test]
fn promtool_check_rules_passes() {
    for f in rule_files() {
        let (ok, text) = promtool(&["check", "rules", &f]);
        assert!(ok, "promtool check rules {f}:\n{text}");
    }
}

fn groups(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(support::repo_dir().join(file)).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    doc["groups"].as_sequence().unwrap().clone()
}

/// Every alert reads recorded series only, and each raw counter is read by one
/// rule per evaluation: the raw reads of robustmq_log_events_total use
/// disjoint selectors, so no raw series is read twice.
#[test]
fn alerts_read_recorded_series_and_raw_counters_are_read_once() {
    let records = groups("alerts/robustmq-logs.rules.yml");
    let mut raw_event_reads = Vec::new();
    let mut recorded = std::collections::BTreeSet::new();
    for group in &records {
        for rule in group["rules"].as_sequence().unwrap() {
            let expr = rule["expr"].as_str().unwrap();
            recorded.insert(rule["record"].as_str().unwrap().to_owned());
            if expr.contains("robustmq_log_events_total{") {
                raw_event_reads.push(expr.to_owned());
            }
        }
    }
    for group in groups("alerts/robustmq-logs.alerts.yml") {
        for rule in group["rules"].as_sequence().unwrap() {
            let expr = rule["expr"].as_str().unwrap();
            let name = rule["alert"].as_str().unwrap();
            assert!(
                !expr.contains("_total{"),
                "{name} reads a raw counter: {expr}"
            );
            // Every series an alert reads is recorded in the rules file.
            for metric in expr
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .filter(|t| t.matches(':').count() == 2)
            {
                assert!(
                    recorded.contains(metric),
                    "{name} reads {metric}, which alerts/robustmq-logs.rules.yml does not record"
                );
            }
        }
    }
    // The two reads over 5m, errors and the other levels, and the instant count of names.
    let ranged: Vec<&String> = raw_event_reads
        .iter()
        .filter(|e| e.contains("[5m]"))
        .collect();
    assert_eq!(ranged.len(), 2, "{ranged:#?}");
    assert!(ranged[0].contains("level=\"error\"}"));
    assert!(ranged[1].contains("level!=\"error\"}"));
}

#[test]
fn promtool_unit_tests_pass() {
    let dir = support::repo_dir().join("alerts/tests");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "yml") {
            let (ok, text) = promtool(&["test", "rules", p.to_str().unwrap()]);
            assert!(ok, "promtool test rules {}:\n{text}", p.display());
            n += 1;
        }
    }
    assert!(n > 0, "no promtool test files");
}

#[test]
fn every_alert_has_conventions_a_runbook_and_fire_and_silence_tests() {
    let runbooks = std::fs::read_to_string(support::repo_dir().join("docs/runbooks.md")).unwrap();
    let tests_text: Vec<Value> = std::fs::read_dir(support::repo_dir().join("alerts/tests"))
        .unwrap()
        .map(|e| {
            serde_yaml::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap()
        })
        .collect();
    let mut alert_tests: Vec<(String, bool)> = Vec::new();
    for t in &tests_text {
        for case in t["tests"].as_sequence().unwrap() {
            for a in case["alert_rule_test"].as_sequence().into_iter().flatten() {
                let fires = a["exp_alerts"].as_sequence().is_some_and(|s| !s.is_empty());
                alert_tests.push((a["alertname"].as_str().unwrap().to_owned(), fires));
            }
        }
    }
    let mut alerts = 0;
    let mut severities: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for f in rule_files() {
        let doc: Value =
            serde_yaml::from_str(&std::fs::read_to_string(support::repo_dir().join(&f)).unwrap())
                .unwrap();
        for group in doc["groups"].as_sequence().unwrap() {
            let gname = group["name"].as_str().unwrap();
            assert!(gname.starts_with("robustmq-logs."), "group {gname}");
            for rule in group["rules"].as_sequence().unwrap() {
                if let Some(record) = rule["record"].as_str() {
                    assert_eq!(
                        record.split(':').count(),
                        3,
                        "{record} is not level:metric:operations"
                    );
                    continue;
                }
                let name = rule["alert"].as_str().unwrap();
                alerts += 1;
                assert!(name.starts_with("RobustMQ"), "{name}");
                assert!(rule["for"].as_str().is_some(), "{name} has no `for`");
                let sev = rule["labels"]["severity"].as_str().unwrap_or("");
                assert!(
                    ["critical", "warning", "info"].contains(&sev),
                    "{name} severity {sev:?}"
                );
                for key in ["summary", "description", "runbook_url"] {
                    assert!(
                        rule["annotations"][key].as_str().is_some(),
                        "{name} lacks {key}"
                    );
                }
                // Absolute: a relative link is dead in any notification.
                let anchor = name.to_lowercase();
                assert_eq!(
                    rule["annotations"]["runbook_url"].as_str().unwrap(),
                    format!("https://github.com/robustmq/robustmq-log-metrics/blob/main/docs/runbooks.md#{anchor}")
                );
                let section = runbooks
                    .split(&format!("## {name}\n"))
                    .nth(1)
                    .unwrap_or_else(|| panic!("no runbook section for {name}"));
                let section = section.split("\n## ").next().unwrap();
                for part in [
                    "**Meaning:**",
                    "**Impact:**",
                    "**Diagnosis:**",
                    "**Mitigation:**",
                ] {
                    assert!(section.contains(part), "runbook {name} lacks {part}");
                }
                for lang in ["```promql", "```logql", "```sh"] {
                    assert!(
                        section.contains(lang),
                        "runbook {name} has no {lang} commands"
                    );
                }
                assert!(
                    section.contains("/d/robustmq-log-"),
                    "runbook {name} links no dashboard"
                );
                severities
                    .entry(name.to_owned())
                    .or_default()
                    .push(sev.to_owned());
                // Topology labels survive: no alert aggregates `by` instance.
                let expr = rule["expr"].as_str().unwrap();
                assert!(
                    !expr.contains("by (cluster, job, instance"),
                    "{name} drops topology labels: {expr}"
                );
                assert!(
                    alert_tests.iter().any(|(a, fires)| a == name && *fires),
                    "{name} has no test where it fires"
                );
                assert!(
                    alert_tests.iter().any(|(a, fires)| a == name && !*fires),
                    "{name} has no test where it stays silent"
                );
            }
        }
    }
    assert!(alerts >= 11);
    // One name per condition: the error rate's page and ticket differ only in severity.
    assert_eq!(
        severities["RobustMQHighErrorRate"],
        ["critical", "warning"],
        "RobustMQHighErrorRate must have a critical and a warning variant"
    );
    for (name, sevs) in &severities {
        let mut unique = sevs.clone();
        unique.dedup();
        assert_eq!(&unique, sevs, "{name} repeats a severity");
    }
}

/// No record is recorded for nothing: each is read by another record, an alert,
/// or a panel or variable of a committed dashboard.
#[test]
fn every_record_is_read_by_a_rule_an_alert_or_a_dashboard() {
    let rules: Vec<Value> = [
        "alerts/robustmq-logs.rules.yml",
        "alerts/robustmq-logs.alerts.yml",
    ]
    .iter()
    .flat_map(|f| groups(f))
    .flat_map(|g| g["rules"].as_sequence().unwrap().clone())
    .collect();
    let mut dashboards = String::new();
    for e in std::fs::read_dir(support::repo_dir().join("dashboards")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            dashboards += &std::fs::read_to_string(p).unwrap();
        }
    }
    assert!(dashboards.contains("\"panels\""), "no dashboard read");
    let mut records = 0;
    for (i, rule) in rules.iter().enumerate() {
        let Some(record) = rule["record"].as_str() else {
            continue;
        };
        records += 1;
        let read_by_rule = rules.iter().enumerate().any(|(j, other)| {
            j != i
                && other["expr"]
                    .as_str()
                    .unwrap()
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .any(|t| t == record)
        });
        assert!(
            read_by_rule || dashboards.contains(record),
            "{record} is recorded and read by nothing"
        );
    }
    assert!(records >= 20, "only {records} records");
}
