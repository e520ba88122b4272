//! deploy/: every YAML parses, Kubernetes manifests validate against the
//! Kubernetes and prometheus-operator schemas (offline), generated objects
//! match their sources, Prometheus configs pass promtool, alert and evaluate at
//! the costed interval, a real Prometheus applies the shipped scrape
//! relabelling to the pods RobustMQ's operator makes of its sample resources,
//! and Fluent Bit ships logs only, with a pipeline (tail, multiline, grep and
//! parsers, applied by scripts/fluent_bit_lines.py) that reads what the demo
//! really writes and real Rust panics; Fluent Bit's own metrics are scraped
//! and alerted on (promtool cases).

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_yaml::Value;

fn files_under(dir: &str, exts: &[&str]) -> Vec<PathBuf> {
    fn walk(p: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(p).unwrap().filter_map(Result::ok) {
            let path = e.path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "node_modules" {
                    walk(&path, exts, out);
                }
            } else if exts.iter().any(|x| name.ends_with(x)) && !name.starts_with("package") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&support::repo_dir().join(dir), exts, &mut out);
    out.sort();
    out
}

fn docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| {
            serde::Deserialize::deserialize(d).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .filter(|v: &Value| !v.is_null())
        .collect()
}

#[test]
fn every_yaml_file_parses() {
    let mut n = 0;
    for dir in ["deploy", "alerts"] {
        for f in files_under(dir, &[".yml", ".yaml"]) {
            assert!(!docs(&f).is_empty(), "{} has no document", f.display());
            n += 1;
        }
    }
    assert!(n >= 9, "found only {n} YAML files");
}

fn manifests() -> Vec<PathBuf> {
    let mut m = files_under("deploy/kubernetes", &[".yaml"]);
    m.extend(files_under("deploy/fluent-bit", &[".yaml"]));
    m
}

/// Through the interpreter, so a missing console-script shim does not matter.
fn kubernetes_validate() -> Command {
    let mut c = Command::new("python3");
    c.args(["-m", "kubernetes_validate"]);
    c
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}; {}", support::INSTALL_HINT));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn kubernetes_manifests_validate_against_the_kubernetes_schemas() {
    let files = manifests();
    let (ok, text) = run(kubernetes_validate().arg("--strict").args(&files));
    assert!(ok, "kubernetes-validate:\n{text}");
    // Every core object was checked; only the operator's kinds have no schema here.
    for line in text.lines().filter(|l| l.contains("Couldn't find schema")) {
        assert!(
            line.contains("monitoring.coreos.com"),
            "unchecked object: {line}"
        );
    }
    assert!(text.matches("passed for resource").count() >= 8, "{text}");
    // Not vacuous: an unknown field fails.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  ports: [{port: 80, portt: 1}]\n").unwrap();
    let (ok, _) = run(kubernetes_validate().arg("--strict").arg(&bad));
    assert!(!ok, "kubernetes-validate accepted an unknown field");
}

#[test]
fn prometheus_operator_resources_validate_against_their_schemas() {
    let tools = support::repo_dir().join("deploy/tools");
    assert!(
        tools.join("node_modules").is_dir(),
        "deploy/tools/node_modules missing; {}",
        support::INSTALL_HINT
    );
    let files: Vec<PathBuf> = manifests()
        .into_iter()
        .filter(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .contains("monitoring.coreos.com/v1")
        })
        .collect();
    assert_eq!(files.len(), 5, "{files:?}");
    let (ok, text) = run(Command::new("node")
        .arg("validate-crs.mjs")
        .args(&files)
        .current_dir(&tools));
    assert!(ok, "{text}");
    for kind in [
        "ServiceMonitor",
        "PodMonitor",
        "PrometheusRule",
        "AlertmanagerConfig",
    ] {
        assert!(
            text.contains(&format!("{kind}/")),
            "{kind} not checked: {text}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\nspec:\n  selector: {}\n  endpoints: [{port: 5, interval: soon}]\n").unwrap();
    let (ok, _) = run(Command::new("node")
        .arg("validate-crs.mjs")
        .arg(&bad)
        .current_dir(&tools));
    assert!(!ok, "the validator accepted a wrong type");
    std::fs::write(&bad, "apiVersion: monitoring.coreos.com/v1alpha1\nkind: AlertmanagerConfig\nmetadata: {name: x}\nspec:\n  route: {receiver: a, matchers: [{name: a, matchType: '~~', value: b}]}\n").unwrap();
    let (ok, _) = run(Command::new("node")
        .arg("validate-crs.mjs")
        .arg(&bad)
        .current_dir(&tools));
    assert!(
        !ok,
        "the validator accepted a wrong AlertmanagerConfig matchType"
    );
}

#[test]
fn the_prometheus_rule_and_dashboard_configmaps_match_their_sources() {
    let hint = "run `bash scripts/render-mixin.sh` and commit the result";
    let rule = &docs(&support::repo_dir().join("deploy/kubernetes/prometheusrule.yaml"))[0];
    // The records' groups, then the alerts' group.
    let mut groups = Vec::new();
    for file in [
        "alerts/robustmq-logs.rules.yml",
        "alerts/robustmq-logs.alerts.yml",
    ] {
        let source = &docs(&support::repo_dir().join(file))[0];
        groups.extend(source["groups"].as_sequence().unwrap().iter().cloned());
    }
    assert_eq!(rule["kind"], "PrometheusRule");
    assert_eq!(
        rule["spec"]["groups"],
        serde_yaml::Value::Sequence(groups),
        "PrometheusRule drifted from alerts/; {hint}"
    );
    let maps = docs(&support::repo_dir().join("deploy/kubernetes/grafana-dashboards.yaml"));
    let dashboards = files_under("dashboards", &[".json"]);
    assert_eq!(maps.len(), dashboards.len());
    for d in dashboards {
        let name = d.file_name().unwrap().to_string_lossy().into_owned();
        let map = maps
            .iter()
            .find(|m| m["data"].get(name.as_str()).is_some())
            .unwrap_or_else(|| panic!("no ConfigMap for {name}; {hint}"));
        assert_eq!(map["metadata"]["labels"]["grafana_dashboard"], "1");
        let embedded: serde_json::Value =
            serde_json::from_str(map["data"][name.as_str()].as_str().unwrap()).unwrap();
        let file: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&d).unwrap()).unwrap();
        assert_eq!(embedded, file, "{name} drifted; {hint}");
    }
}

/// The example Alertmanager route loads in amtool, groups by the labels the
/// alerts aggregate by, routes by severity and inhibits warnings under a page.
/// tests/live/alertmanager_live.rs runs it in a real Alertmanager.
#[test]
fn the_alertmanager_example_route_passes_amtool_and_groups_per_service() {
    let (ok, text) = run(Command::new(support::tool("amtool"))
        .args(["check-config", "deploy/alertmanager/alertmanager.yml"])
        .current_dir(support::repo_dir()));
    assert!(ok, "{text}");
    let doc = &docs(&support::repo_dir().join("deploy/alertmanager/alertmanager.yml"))[0];
    let route = &doc["route"];
    assert_eq!(
        route["group_by"],
        serde_yaml::from_str::<Value>("[cluster, service, alertname]").unwrap()
    );
    let receivers: Vec<(String, String)> = route["routes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["receiver"].as_str().unwrap().to_owned(),
                serde_yaml::to_string(&r["matchers"]).unwrap(),
            )
        })
        .collect();
    for (receiver, severity) in [("page", "critical"), ("ticket", "warning")] {
        assert!(
            receivers
                .iter()
                .any(|(r, m)| r == receiver && m.contains(&format!("severity=\"{severity}\""))),
            "{receivers:?}"
        );
    }
    assert_eq!(
        doc["inhibit_rules"][0]["equal"],
        serde_yaml::from_str::<Value>("[cluster, service, alertname]").unwrap()
    );
    // The AlertmanagerConfig is the same route for one namespace.
    let amc = &docs(&support::repo_dir().join("deploy/kubernetes/alertmanagerconfig.yaml"))[0];
    let spec = &amc["spec"];
    assert_eq!(spec["route"]["groupBy"], route["group_by"]);
    for key in ["group_wait", "group_interval", "repeat_interval"] {
        let camel: String = key
            .split('_')
            .enumerate()
            .map(|(i, w)| {
                if i == 0 {
                    w.to_owned()
                } else {
                    w[..1].to_uppercase() + &w[1..]
                }
            })
            .collect();
        assert_eq!(spec["route"][camel.as_str()], route[key], "{key}");
    }
    assert_eq!(
        spec["inhibitRules"][0]["equal"],
        doc["inhibit_rules"][0]["equal"]
    );
    let hooks = |receivers: &Value, key: &str| -> Vec<String> {
        receivers
            .as_sequence()
            .unwrap()
            .iter()
            .flat_map(|r| {
                r.get(key)
                    .and_then(Value::as_sequence)
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|h| h["url"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        hooks(&spec["receivers"], "webhookConfigs"),
        hooks(&doc["receivers"], "webhook_configs")
    );
}

/// The mixin's evaluation interval, which docs/scaling.md costs out.
fn mixin_evaluation_interval() -> String {
    support::jsonnet(&[
        "-S",
        "-e",
        "(import 'mixin.libsonnet')._config.evaluationInterval",
    ])
    .trim()
    .to_owned()
}

/// The jobs of a shipped Prometheus config: `robustmq` (the brokers) and `fluent-bit`
/// (deploy/fluent-bit/'s own metrics), in that order.
fn scrape_jobs(path: &str) -> Vec<Value> {
    let doc = &docs(&support::repo_dir().join(path))[0];
    let jobs = doc["scrape_configs"].as_sequence().unwrap().clone();
    let names: Vec<&str> = jobs
        .iter()
        .map(|j| j["job_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["robustmq", "fluent-bit"], "{path}");
    jobs
}

/// The `robustmq` job of a shipped Prometheus config.
fn robustmq_job(path: &str) -> Value {
    scrape_jobs(path).remove(0)
}

/// A shipped config with each job's `kubernetes_sd_configs` swapped for `with`: Debian's
/// Prometheus is built without Kubernetes service discovery, so neither it nor its
/// promtool reads that block. The block's own keys are checked here by hand.
/// deploy/prometheus/prometheus.yml with its Kubernetes discovery replaced by
/// file discovery of `targets` (a file_sd JSON file).
fn prometheus_yml_reading(targets: &Path) -> Value {
    let file_sd: Value = serde_yaml::from_str(&format!(
        "file_sd_configs: [{{files: ['{}']}}]",
        targets.display()
    ))
    .unwrap();
    serde_yaml::from_str(&with_discovery("deploy/prometheus/prometheus.yml", file_sd)).unwrap()
}

fn with_discovery(path: &str, with: Value) -> String {
    let mut doc = docs(&support::repo_dir().join(path)).remove(0);
    for job in doc["scrape_configs"].as_sequence_mut().unwrap() {
        let name = job["job_name"].as_str().unwrap().to_owned();
        let sd = job["kubernetes_sd_configs"].clone();
        assert_eq!(sd.as_sequence().map(Vec::len), Some(1), "{path}: {sd:?}");
        let sd = &sd[0];
        assert_eq!(sd["role"], "pod");
        for key in sd.as_mapping().unwrap().keys() {
            let k = key.as_str().unwrap();
            assert!(
                [
                    "role",
                    "selectors",
                    "namespaces",
                    "api_server",
                    "attach_metadata"
                ]
                .contains(&k),
                "unknown kubernetes_sd_configs key {k}"
            );
        }
        if name == "robustmq" {
            // Every namespace: no `namespaces` block; the selector asks the API server for
            // the operator's pods only.
            assert!(sd.get("namespaces").is_none(), "{path}: fixed namespaces");
            assert_eq!(
                sd["selectors"],
                serde_yaml::from_str::<Value>("[{role: pod, label: 'app=robustmq,instance'}]")
                    .unwrap()
            );
        } else {
            // The DaemonSet of deploy/fluent-bit/, in its namespace, by its labels.
            assert_eq!(
                sd["namespaces"]["names"],
                serde_yaml::from_str::<Value>("[robustmq-system]").unwrap()
            );
            assert_eq!(
                sd["selectors"],
                serde_yaml::from_str::<Value>(
                    "[{role: pod, label: 'app.kubernetes.io/name=fluent-bit,app.kubernetes.io/part-of=robustmq'}]"
                )
                .unwrap()
            );
        }
        let job = job.as_mapping_mut().unwrap();
        job.remove("kubernetes_sd_configs");
        let (key, value) = with.as_mapping().unwrap().iter().next().unwrap();
        job.insert(key.clone(), value.clone());
    }
    serde_yaml::to_string(&doc).unwrap()
}

fn promtool_check_config(text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("prometheus.yml");
    std::fs::write(&copy, text).unwrap();
    let (ok, out) = run(Command::new(support::tool("promtool"))
        .arg("check")
        .arg("config")
        .arg(&copy));
    assert!(ok, "{out}\n{text}");
}

#[test]
fn prometheus_configs_pass_promtool_alert_and_evaluate_at_the_costed_interval() {
    let (ok, text) = run(Command::new(support::tool("promtool"))
        .args(["check", "config", "deploy/prometheus/central.yml"])
        .current_dir(support::repo_dir()));
    assert!(ok, "{text}");
    let static_targets: Value =
        serde_yaml::from_str("static_configs: [{targets: ['127.0.0.1:58080']}]").unwrap();
    for f in [
        "deploy/prometheus/prometheus.yml",
        "deploy/prometheus/agent.yml",
    ] {
        promtool_check_config(&with_discovery(f, static_targets.clone()));
    }

    // The evaluators send to an Alertmanager, at the interval the rules' windows and
    // docs/scaling.md's costs assume.
    let interval = mixin_evaluation_interval();
    assert_eq!(interval, "1m");
    for f in [
        "deploy/prometheus/prometheus.yml",
        "deploy/prometheus/central.yml",
    ] {
        let doc = &docs(&support::repo_dir().join(f))[0];
        assert_eq!(
            doc["global"]["evaluation_interval"],
            interval.as_str(),
            "{f}"
        );
        let managers = doc["alerting"]["alertmanagers"].as_sequence();
        assert!(
            managers.is_some_and(|m| !m.is_empty()),
            "{f}: no alerting block"
        );
        assert_eq!(doc["rule_files"][0], "/etc/prometheus/rules/*.yml", "{f}");
    }
    // An agent evaluates nothing: no rules, no alerting.
    let agent = &docs(&support::repo_dir().join("deploy/prometheus/agent.yml"))[0];
    assert!(agent.get("rule_files").is_none() && agent.get("alerting").is_none());

    // The agent's job is the plain one but for the cluster label's prefix.
    let plain = robustmq_job("deploy/prometheus/prometheus.yml");
    let mut agent_job = robustmq_job("deploy/prometheus/agent.yml");
    assert_eq!(
        plain["job_name"], "robustmq",
        "the mixin selects job=\"robustmq\""
    );
    assert_eq!(
        plain["honor_labels"], true,
        "the crate's service label must win"
    );
    let rules = agent_job["relabel_configs"].as_sequence_mut().unwrap();
    let cluster = rules
        .iter_mut()
        .find(|r| r["target_label"] == "cluster")
        .unwrap();
    assert!(cluster["replacement"]
        .as_str()
        .is_some_and(|r| r.ends_with("/${1}")));
    cluster.as_mapping_mut().unwrap().remove("replacement");
    assert_eq!(agent_job, plain);
    // And the agent scrapes Fluent Bit as the plain config does, for the central alerts.
    assert_eq!(
        scrape_jobs("deploy/prometheus/agent.yml")[1],
        scrape_jobs("deploy/prometheus/prometheus.yml")[1]
    );
}

/// Fluent Bit's strptime format as a regex, for the directives our parser uses.
fn time_regex_match(format: &str, value: &str) -> bool {
    let mut v = value;
    let mut f = format.chars().peekable();
    let digits = |v: &mut &str, min: usize, max: usize| -> bool {
        let n = v.chars().take_while(char::is_ascii_digit).count();
        if n < min || n > max {
            return false;
        }
        *v = &v[n..];
        true
    };
    while let Some(c) = f.next() {
        if c == '%' {
            let ok = match f.next() {
                Some('Y') => digits(&mut v, 4, 4),
                Some('m' | 'd' | 'H' | 'M' | 'S') => digits(&mut v, 2, 2),
                Some('L') => digits(&mut v, 1, 9),
                other => panic!("unsupported directive %{other:?}"),
            };
            if !ok {
                return false;
            }
        } else if let Some(rest) = v.strip_prefix(c) {
            v = rest;
        } else {
            return false;
        }
    }
    v.is_empty()
}

#[test]
fn fluent_bit_ships_logs_only_and_its_parser_matches_the_demos_json_lines() {
    // No plugin that derives metrics from log lines, outside comments.
    for f in files_under("deploy/fluent-bit", &[".yaml", ".conf"]) {
        let text = std::fs::read_to_string(&f).unwrap().to_lowercase();
        for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let plugin = (words.first() == Some(&"name"))
                .then(|| words.get(1).copied())
                .flatten();
            assert!(
                !matches!(plugin, Some("prometheus_exporter" | "log_to_metrics")),
                "{} derives metrics from logs: {line}",
                f.display()
            );
        }
    }
    let map = docs(&support::repo_dir().join("deploy/fluent-bit/fluent-bit.yaml"))
        .into_iter()
        .find(|d| d["kind"] == "ConfigMap")
        .unwrap();
    let conf = map["data"]["fluent-bit.conf"].as_str().unwrap();
    assert!(
        conf.contains("Parser        robustmq_json") && conf.contains("Parsers_File  parsers.conf")
    );
    for line in conf
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("Name"))
    {
        let plugin = line.split_whitespace().nth(1).unwrap();
        assert!(
            [
                "tail",
                "multiline",
                "kubernetes",
                "grep",
                "parser",
                "lua",
                "loki"
            ]
            .contains(&plugin),
            "unexpected plugin {plugin}"
        );
    }
    let parsers = map["data"]["parsers.conf"].as_str().unwrap();
    let get = |key: &str| {
        parsers
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("parsers.conf lacks {key}"))
    };
    assert_eq!(get("Format"), "json");
    let time_key = get("Time_Key");
    let time_format = get("Time_Format");

    // Real lines from the demo's JSON formatter.
    let port = support::free_port();
    let mut child = support::ChildGuard::spawn(
        "demo broker (json logs)",
        Command::new(support::example_bin("broker"))
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--log-format",
                "json",
                "--events-per-sec",
                "500",
                "--duration-secs",
                "2",
            ])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let status = support::wait_for("demo exit", Duration::from_secs(30), || {
        child.child.try_wait().unwrap()
    });
    assert!(status.success());
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.is_empty()).collect();
    assert!(lines.len() > 100, "only {} log lines", lines.len());
    let mut structured = 0;
    for l in &lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        let ts = v[time_key.as_str()]
            .as_str()
            .unwrap_or_else(|| panic!("no {time_key}: {l}"));
        assert!(
            time_regex_match(&time_format, ts),
            "{ts} does not match {time_format}"
        );
        assert!(["ERROR", "WARN", "INFO", "DEBUG", "TRACE"].contains(&v["level"].as_str().unwrap()));
        assert!(
            v["fields"]["message"].is_string() && v["target"].is_string(),
            "{l}"
        );
        structured += usize::from(v["fields"]["event"].is_string());
    }
    assert!(structured > 0);
    assert!(
        !time_regex_match(&time_format, "2026-11-24 23:22:54"),
        "the matcher must reject other formats"
    );

    // The whole shipped pipeline (tail, multiline, grep and parser filters, read out of the
    // ConfigMap) by scripts/fluent_bit_lines.py, which the RobustMQ e2e applies to the real
    // broker's console: its self-test, then these lines and real Rust 1.97 panics
    // (deploy/fluent-bit/tests/rust-panics.txt: the stderr of a program that panics in a named
    // thread and in main, without and with RUST_BACKTRACE=1) each parse and yield level,
    // target and event, and each panic is one record.
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo.log");
    std::fs::write(&demo, lines.join("\n")).unwrap();
    let script = support::repo_dir().join("scripts/fluent_bit_lines.py");
    let (ok, text) = run(Command::new("python3").arg(&script).arg("self-test"));
    assert!(ok, "{text}");
    let (ok, text) = run(Command::new("python3")
        .arg(&script)
        .args(["check", "--min-events", "1", "--min-panics", "4", "--lines"])
        .arg(&demo)
        .arg("--lines")
        .arg(support::repo_dir().join("deploy/fluent-bit/tests/rust-panics.txt")));
    assert!(ok, "{text}");
    let summary: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(summary["panics"], 4, "{summary}");
    assert_eq!(
        summary["records"].as_u64().unwrap(),
        lines.len() as u64 + 4,
        "one record per JSON line and per panic: {summary}"
    );

    // The Lua filter, run by a real Lua on the demo's levels: lower-case levels
    // (the metrics' level label values) and the broker's pod and node id.
    let script = map["data"]["robustmq.lua"].as_str().unwrap();
    assert!(conf.contains("script  /fluent-bit/etc/robustmq.lua"));
    std::fs::write(dir.path().join("robustmq.lua"), script).unwrap();
    std::fs::write(
        dir.path().join("harness.lua"),
        r#"dofile(arg[1])
for line in io.lines() do
  local level, pod, label_key, label_value = line:match("^(%S+) (%S+) (%S+) (%S+)$")
  local labels = {}
  if label_key ~= "-" then labels[label_key] = label_value end
  labels["instance"] = "robustmq-sample"
  local record = { level = level, kubernetes = { namespace_name = "robustmq-system", pod_name = pod, labels = labels } }
  -- "-": a panic as robustmq_panic parses it, no level of its own.
  if level == "-" then record.level = nil; record.location = "src/a.rs:1:2" end
  local code, _, out = robustmq_record("robustmq.x", 0, record)
  print(code, out.level, out.namespace, out.pod, tostring(out.node_id), tostring(out.target), out.cluster)
end
"#,
    )
    .unwrap();
    let levels: std::collections::BTreeSet<String> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["level"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut input = String::new();
    for level in &levels {
        input.push_str(&format!("{level} robustmq-broker-2 - -\n"));
    }
    input.push_str("ERROR robustmq-broker-2 robustmq.io/node-id 7\n");
    input.push_str("ERROR robustmq-meta-0 apps.kubernetes.io/pod-index 0\n");
    input.push_str("- robustmq-meta-1 - -\n");
    let mut lua = Command::new(support::tool("lua5.4"));
    lua.arg(dir.path().join("harness.lua"))
        .arg(dir.path().join("robustmq.lua"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = lua.spawn().expect("run lua5.4");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Vec<String>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), levels.len() + 3);
    for (row, level) in rows.iter().zip(&levels) {
        assert_eq!(row[0], "2", "the filter must report a changed record");
        assert_eq!(row[1], level.to_lowercase());
        assert!(["error", "warn", "info", "debug", "trace"].contains(&row[1].as_str()));
        assert_eq!(
            &row[2..],
            [
                "robustmq-system",
                "robustmq-broker-2",
                "2",
                "nil",
                "robustmq-sample"
            ]
        );
    }
    assert_eq!(rows[levels.len()][4], "7", "the node-id pod label wins");
    assert_eq!(rows[levels.len() + 1][4], "0");
    // A panic is an error, with target "panic".
    assert_eq!(
        rows[levels.len() + 2][1..],
        [
            "error",
            "robustmq-system",
            "robustmq-meta-1",
            "1",
            "panic",
            "robustmq-sample"
        ]
    );
    // The Loki stream labels are the ones the dashboards' Explore links select on.
    let labels_line = conf
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("Labels ") && l.contains("job="))
        .expect("loki Labels");
    for label in [
        "job=robustmq",
        "cluster=$cluster",
        "namespace=$namespace",
        "pod=$pod",
        "node_id=$node_id",
        "level=$level",
    ] {
        assert!(labels_line.contains(label), "{labels_line} lacks {label}");
    }
}

/// Fluent Bit's own alerts (deploy/fluent-bit/fluent-bit.alerts.yml): promtool checks and runs
/// their cases, each alert follows the conventions (for, severity, summary, templated
/// description, a runbook section in docs/runbooks.md) and has a firing and a quiet case, and
/// the PrometheusRule in fluent-bit.yaml holds the same group.
#[test]
fn fluent_bit_alerts_pass_promtool_and_match_their_prometheus_rule() {
    let rules = "deploy/fluent-bit/fluent-bit.alerts.yml";
    let tests = "deploy/fluent-bit/tests/fluent-bit.alerts.test.yml";
    for args in [["check", "rules", rules], ["test", "rules", tests]] {
        let (ok, text) = run(Command::new(support::tool("promtool"))
            .args(args)
            .current_dir(support::repo_dir()));
        assert!(ok, "promtool {args:?}:\n{text}");
    }
    let file = &docs(&support::repo_dir().join(rules))[0];
    let rule = docs(&support::repo_dir().join("deploy/fluent-bit/fluent-bit.yaml"))
        .into_iter()
        .find(|d| d["kind"] == "PrometheusRule")
        .expect("fluent-bit.yaml: no PrometheusRule");
    assert_eq!(
        rule["spec"]["groups"], file["groups"],
        "the PrometheusRule drifted from {rules}"
    );
    let runbooks = std::fs::read_to_string(support::repo_dir().join("docs/runbooks.md")).unwrap();
    let cases = &docs(&support::repo_dir().join(tests))[0];
    let mut names = Vec::new();
    for alert in file["groups"][0]["rules"].as_sequence().unwrap() {
        let name = alert["alert"].as_str().unwrap();
        names.push(name);
        assert!(alert["for"].is_string(), "{name}: no for");
        assert!(
            ["critical", "warning", "info"]
                .contains(&alert["labels"]["severity"].as_str().unwrap()),
            "{name}: severity"
        );
        let a = &alert["annotations"];
        assert!(
            !a["summary"].as_str().unwrap().contains("{{"),
            "{name}: static summary"
        );
        assert!(
            a["description"].as_str().unwrap().contains("$labels"),
            "{name}: description"
        );
        let anchor = name.to_lowercase();
        assert_eq!(
            a["runbook_url"].as_str().unwrap(),
            format!("https://github.com/robustmq/robustmq-log-metrics/blob/main/docs/runbooks.md#{anchor}")
        );
        assert!(
            runbooks.contains(&format!("\n## {name}\n")),
            "docs/runbooks.md: no ## {name}"
        );
        let outcomes: Vec<bool> = cases["tests"]
            .as_sequence()
            .unwrap()
            .iter()
            .flat_map(|t| t["alert_rule_test"].as_sequence().unwrap().iter())
            .filter(|c| c["alertname"] == name)
            .map(|c| c["exp_alerts"].as_sequence().is_some_and(|e| !e.is_empty()))
            .collect();
        assert!(
            outcomes.contains(&true) && outcomes.contains(&false),
            "{name}: needs a firing and a quiet case"
        );
    }
    assert_eq!(
        names,
        ["RobustMQFluentBitDown", "RobustMQFluentBitDroppingLogs"]
    );
}

/// A real Prometheus applies the shipped fluent-bit job (prometheus.yml, the same in
/// agent.yml) to pods as Kubernetes discovery lists them: it keeps the DaemonSet's pods, once
/// each, on their `http` port (2020) at /api/v2/metrics/prometheus, and nothing else.
#[test]
fn the_fluent_bit_scrape_selects_its_daemonset_pods_on_the_metrics_port() {
    let fluent_bit = |name: &str, ip: &str, part_of: &str| Pod {
        namespace: "robustmq-system",
        name: name.to_owned(),
        ip: ip.to_owned(),
        phase: "Running",
        labels: vec![
            ("app.kubernetes.io/name", "fluent-bit".into()),
            ("app.kubernetes.io/part-of", part_of.to_owned()),
        ],
        controller: ("DaemonSet", "fluent-bit-robustmq".into()),
        container: "fluent-bit",
        ports: vec![("http", 2020)],
    };
    let mut pods = operator_sample_pods();
    pods.push(fluent_bit(
        "fluent-bit-robustmq-x7k2p",
        "192.0.2.71",
        "robustmq",
    ));
    pods.push(fluent_bit(
        "fluent-bit-robustmq-q9m4t",
        "192.0.2.72",
        "robustmq",
    ));
    // Another team's Fluent Bit: not ours to alert on.
    pods.push(fluent_bit(
        "fluent-bit-logging-a1b2c",
        "192.0.2.73",
        "logging",
    ));
    // Role pod names the Kubernetes labels with every character but [a-zA-Z0-9_] made `_`,
    // as Prometheus does.
    let mut targets = pod_role_targets(&pods);
    for group in targets.as_array_mut().unwrap() {
        let labels = group["labels"].as_object_mut().unwrap();
        let renamed: Vec<(String, serde_json::Value)> = labels
            .iter()
            .map(|(k, v)| {
                let safe: String = k
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                (safe, v.clone())
            })
            .collect();
        *labels = renamed.into_iter().collect();
    }
    let dir = tempfile::tempdir().unwrap();
    let pod_file = dir.path().join("pods.json");
    std::fs::write(&pod_file, targets.to_string()).unwrap();
    let mut config = prometheus_yml_reading(&pod_file);
    config.as_mapping_mut().unwrap().remove("alerting");
    let prom = support::Prometheus::start(&serde_yaml::to_string(&config).unwrap(), &[]);
    let active = support::wait_for(
        "the fluent-bit job's targets",
        Duration::from_secs(30),
        || {
            let v = prom.get("/api/v1/targets");
            let active: Vec<serde_json::Value> = v["data"]["activeTargets"]
                .as_array()?
                .iter()
                .filter(|t| t["scrapePool"] == "fluent-bit")
                .cloned()
                .collect();
            (!active.is_empty()).then_some(active)
        },
    );
    prom.stop();
    let mut got: Vec<(String, String, String)> = active
        .iter()
        .map(|t| {
            (
                t["labels"]["pod"].as_str().unwrap().to_owned(),
                t["labels"]["namespace"].as_str().unwrap().to_owned(),
                t["scrapeUrl"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("fluent-bit-robustmq-q9m4t", "192.0.2.72"),
            ("fluent-bit-robustmq-x7k2p", "192.0.2.71"),
        ]
        .map(|(pod, ip)| (
            pod.to_owned(),
            "robustmq-system".to_owned(),
            format!("http://{ip}:2020/api/v2/metrics/prometheus")
        ))
    );
    assert!(active.iter().all(|t| t["labels"]["job"] == "fluent-bit"));
}

fn kubernetes_docs(dir: &str) -> Vec<(PathBuf, Value)> {
    let root = support::repo_dir().join(dir);
    let mut out = Vec::new();
    for e in std::fs::read_dir(&root).unwrap().filter_map(Result::ok) {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "yaml") {
            out.extend(docs(&p).into_iter().map(|d| (p.clone(), d)));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The ports ../shared/ROBUSTMQ.md lists as broker traffic.
const BROKER_PORTS: [u16; 15] = [
    1883, 1885, 8083, 8085, 9083, 9092, 5672, 4222, 4223, 4080, 4443, 1228, 1778, 58080, 9091,
];

#[test]
fn each_layout_has_one_scrape_object_keeping_the_crates_labels_and_no_traffic_cutting_policy() {
    // The default layout: one ServiceMonitor on the Service the operator creates per
    // custom resource, in any namespace; no Service of its own.
    let default = kubernetes_docs("deploy/kubernetes");
    let monitor = only_scrape_object("deploy/kubernetes", &default);
    assert!(
        !default.iter().any(|(_, d)| d["kind"] == "Service"),
        "the operator's own Service is scraped: a second one would select the pods again"
    );
    let spec = &monitor["spec"];
    assert_eq!(spec["namespaceSelector"]["any"], true, "any namespace");
    let service = operator_metrics_service("default", "robustmq-sample");
    for (k, v) in spec["selector"]["matchLabels"].as_mapping().unwrap() {
        assert_eq!(
            &service.labels[k.as_str().unwrap()],
            v.as_str().unwrap(),
            "selector {k:?}"
        );
    }
    assert_eq!(
        service.labels[spec["jobLabel"].as_str().unwrap()],
        "robustmq",
        "job must be robustmq, the mixin's selector"
    );
    for ep in spec["endpoints"].as_sequence().unwrap() {
        assert_eq!(ep["honorLabels"], true, "honorLabels");
        assert_eq!(ep["path"], "/metrics");
        assert_eq!(ep["port"], service.port.0, "the operator's port name");
    }

    // The documented variant: its own Service on the crate's port.
    let variant = kubernetes_docs("deploy/kubernetes/standalone-port");
    let monitor = only_scrape_object("deploy/kubernetes/standalone-port", &variant);
    let service = &variant
        .iter()
        .find(|(_, d)| d["kind"] == "Service")
        .expect("standalone-port: no Service")
        .1;
    assert_eq!(service["spec"]["selector"]["app"], "robustmq");
    assert!(service["spec"]["clusterIP"] == "None", "headless");
    for (k, v) in monitor["spec"]["selector"]["matchLabels"]
        .as_mapping()
        .unwrap()
    {
        assert_eq!(&service["metadata"]["labels"][k], v, "selector {k:?}");
    }
    let job_label = monitor["spec"]["jobLabel"].as_str().unwrap();
    assert_eq!(service["metadata"]["labels"][job_label], "robustmq");
    for ep in monitor["spec"]["endpoints"].as_sequence().unwrap() {
        assert_eq!(ep["honorLabels"], true);
        assert_eq!(ep["path"], "/metrics");
        assert_eq!(ep["port"], "log-metrics");
        assert_eq!(service["spec"]["ports"][0]["name"], "log-metrics");
    }

    // Every namespaced object's namespace is created, by the file applied first, but
    // the AlertmanagerConfig: it must live in a RobustMQ cluster's namespace, which
    // the Operator's OnNamespace matcher routes on, so it names none.
    let namespaces: Vec<(PathBuf, Value)> = default
        .iter()
        .filter(|(_, d)| d["kind"] == "Namespace")
        .cloned()
        .collect();
    assert_eq!(namespaces.len(), 1);
    assert_eq!(
        namespaces[0].0, default[0].0,
        "the Namespace file must sort first"
    );
    let name = namespaces[0].1["metadata"]["name"].as_str().unwrap();
    let mut all = default.clone();
    all.extend(variant);
    all.extend(kubernetes_docs("deploy/kubernetes/opt-in"));
    all.extend(kubernetes_docs("deploy/fluent-bit"));
    for (path, d) in &all {
        if d["kind"] == "AlertmanagerConfig" {
            assert!(
                d["metadata"].get("namespace").is_none(),
                "{}",
                path.display()
            );
        } else if let Some(ns) = d["metadata"]["namespace"].as_str() {
            assert_eq!(ns, name, "{}: {:?}", path.display(), d["kind"]);
        }
    }

    // The opt-in NetworkPolicy admits every broker port from anywhere.
    let policies = kubernetes_docs("deploy/kubernetes/opt-in");
    let policy = &policies
        .iter()
        .find(|(_, d)| d["kind"] == "NetworkPolicy")
        .unwrap()
        .1;
    let open: Vec<u64> = policy["spec"]["ingress"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|rule| rule.get("from").is_none())
        .flat_map(|rule| rule["ports"].as_sequence().unwrap().iter())
        .map(|p| p["port"].as_u64().unwrap())
        .collect();
    for port in BROKER_PORTS {
        assert!(
            open.contains(&u64::from(port)),
            "the policy cuts broker port {port}"
        );
    }
}

fn only_scrape_object<'a>(dir: &str, objects: &'a [(PathBuf, Value)]) -> &'a Value {
    let scrapes: Vec<&Value> = objects
        .iter()
        .map(|(_, d)| d)
        .filter(|d| d["kind"] == "ServiceMonitor" || d["kind"] == "PodMonitor")
        .collect();
    assert_eq!(
        scrapes.len(),
        1,
        "{dir}: one scrape object, not {}",
        scrapes.len()
    );
    assert!(
        !objects.iter().any(|(_, d)| d["kind"] == "NetworkPolicy"),
        "{dir}: a NetworkPolicy is opt-in only"
    );
    scrapes[0]
}

// ---------------------------------------------------------------------------
// RobustMQ's operator (operator/ at RobustMQ 8bd49dc59, Go, not buildable here),
// rendered by reading its code for its own sample custom resources
// (operator/sample-robustmq.yaml, both in namespace `default`):
// - controllers/deployments.go: reconcileAllInOne makes StatefulSet <name> (replicas
//   spec.allInOne.replicas, default 1), pods labelled app=robustmq,
//   component=all-in-one, instance=<name>, container `robustmq` declaring
//   buildContainerPorts(includeAll=true): mqtt-tcp, mqtt-tls, mqtt-ws, mqtt-wss, kafka,
//   grpc, amqp and, with spec.monitoring.enabled, prometheus (9091).
//   reconcileMicroservices makes StatefulSet <name>-meta (3; container robustmq-meta,
//   port grpc), Deployment <name>-mqtt-broker (2; container robustmq-mqtt-broker, the
//   four mqtt ports) and StatefulSet <name>-journal (3; container robustmq-journal,
//   port journal 1771), labelled component=meta|mqtt-broker|journal likewise.
// - controllers/services.go: per custom resource, among others, Service
//   <name>-prometheus (labels app=robustmq, component=prometheus, instance=<name>;
//   selector app=robustmq, instance=<name>: every pod of the resource; port
//   `prometheus` 9091) when spec.monitoring.enabled, and <name>-meta-service
//   (component=meta, the same selector, port grpc 1228).
// No pod declares 58080, the admin HTTP port where RobustMQ serves /metrics.

const MQTT_PORTS: [(&str, u16); 4] = [
    ("mqtt-tcp", 1883),
    ("mqtt-tls", 1885),
    ("mqtt-ws", 8083),
    ("mqtt-wss", 8085),
];

/// A pod as Kubernetes reports it to Prometheus' discovery.
struct Pod {
    namespace: &'static str,
    name: String,
    ip: String,
    phase: &'static str,
    labels: Vec<(&'static str, String)>,
    controller: (&'static str, String),
    container: &'static str,
    ports: Vec<(&'static str, u16)>,
}

impl Pod {
    fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `__meta_kubernetes_pod_*` and the namespace (Prometheus' kubernetes SD).
    fn meta(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: &str| {
            m.insert(k.to_owned(), v.into());
        };
        put("__meta_kubernetes_namespace", self.namespace);
        put("__meta_kubernetes_pod_name", &self.name);
        put("__meta_kubernetes_pod_ip", &self.ip);
        put("__meta_kubernetes_pod_phase", self.phase);
        let ready = if self.phase == "Running" {
            "true"
        } else {
            "false"
        };
        put("__meta_kubernetes_pod_ready", ready);
        put("__meta_kubernetes_pod_controller_kind", self.controller.0);
        put("__meta_kubernetes_pod_controller_name", &self.controller.1);
        for (k, v) in &self.labels {
            put(&format!("__meta_kubernetes_pod_label_{k}"), v);
            put(&format!("__meta_kubernetes_pod_labelpresent_{k}"), "true");
        }
        m
    }

    fn container_meta(
        &self,
        m: &mut serde_json::Map<String, serde_json::Value>,
        port: (&str, u16),
    ) {
        m.insert(
            "__meta_kubernetes_pod_container_name".into(),
            self.container.into(),
        );
        m.insert(
            "__meta_kubernetes_pod_container_init".into(),
            "false".into(),
        );
        m.insert(
            "__meta_kubernetes_pod_container_port_name".into(),
            port.0.into(),
        );
        m.insert(
            "__meta_kubernetes_pod_container_port_number".into(),
            port.1.to_string().into(),
        );
        m.insert(
            "__meta_kubernetes_pod_container_port_protocol".into(),
            "TCP".into(),
        );
    }
}

/// net.JoinHostPort, as discovery forms `__address__`.
fn host_port(ip: &str, port: u16) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// The pods of the operator's two sample resources, one more resource of the same
/// name in another namespace (IPv6, a second replica still Pending) and two pods the
/// operator did not create.
fn operator_sample_pods() -> Vec<Pod> {
    let mut all_in_one_ports = MQTT_PORTS.to_vec();
    all_in_one_ports.extend([
        ("kafka", 9092),
        ("grpc", 1228),
        ("amqp", 5672),
        ("prometheus", 9091),
    ]);
    let mut pods = Vec::new();
    let mut next_ip = 10;
    let mut add = |namespace,
                   cr: &str,
                   component: &str,
                   controller: (&'static str, String),
                   names: Vec<String>,
                   container,
                   ports: &[(&'static str, u16)]| {
        for name in names {
            next_ip += 1;
            pods.push(Pod {
                namespace,
                name,
                ip: format!("192.0.2.{next_ip}"),
                phase: "Running",
                labels: vec![
                    ("app", "robustmq".into()),
                    ("component", component.to_owned()),
                    ("instance", cr.to_owned()),
                ],
                controller: controller.clone(),
                container,
                ports: ports.to_vec(),
            });
        }
    };
    let ordinals = |set: &str, n: usize| (0..n).map(|i| format!("{set}-{i}")).collect::<Vec<_>>();
    add(
        "default",
        "robustmq-sample",
        "all-in-one",
        ("StatefulSet", "robustmq-sample".into()),
        ordinals("robustmq-sample", 1),
        "robustmq",
        &all_in_one_ports,
    );
    let cr = "robustmq-microservices";
    add(
        "default",
        cr,
        "meta",
        ("StatefulSet", format!("{cr}-meta")),
        ordinals(&format!("{cr}-meta"), 3),
        "robustmq-meta",
        &[("grpc", 1228)],
    );
    let rs = format!("{cr}-mqtt-broker-6d5f7c9b8d");
    add(
        "default",
        cr,
        "mqtt-broker",
        ("ReplicaSet", rs.clone()),
        vec![format!("{rs}-k7x2p"), format!("{rs}-q9m4t")],
        "robustmq-mqtt-broker",
        &MQTT_PORTS,
    );
    add(
        "default",
        cr,
        "journal",
        ("StatefulSet", format!("{cr}-journal")),
        ordinals(&format!("{cr}-journal"), 3),
        "robustmq-journal",
        &[("journal", 1771)],
    );
    add(
        "robustmq-prod",
        "robustmq-sample",
        "all-in-one",
        ("StatefulSet", "robustmq-sample".into()),
        ordinals("robustmq-sample", 2),
        "robustmq",
        &all_in_one_ports,
    );
    let prod = pods.len() - 2;
    pods[prod].ip = "2001:db8::10".into();
    pods[prod + 1].ip = String::new();
    pods[prod + 1].phase = "Pending";
    // Labelled app=robustmq by hand, not by the operator: no `instance`, so no cluster.
    pods.push(Pod {
        namespace: "default",
        name: "robustmq-by-hand".into(),
        ip: "192.0.2.98".into(),
        phase: "Running",
        labels: vec![("app", "robustmq".into())],
        controller: ("StatefulSet", "robustmq-by-hand".into()),
        container: "robustmq",
        ports: vec![],
    });
    pods.push(Pod {
        namespace: "default",
        name: "web-0".into(),
        ip: "192.0.2.99".into(),
        phase: "Running",
        labels: vec![("app", "web".into())],
        controller: ("StatefulSet", "web".into()),
        container: "nginx",
        ports: vec![("http", 8080)],
    });
    pods
}

/// Role pod: one target per declared container port, or one without a port.
fn pod_role_targets(pods: &[Pod]) -> serde_json::Value {
    let mut groups = Vec::new();
    for pod in pods {
        let ports: Vec<Option<(&str, u16)>> = if pod.ports.is_empty() {
            vec![None]
        } else {
            pod.ports.iter().copied().map(Some).collect()
        };
        for port in ports {
            let mut labels = pod.meta();
            match port {
                Some(p) => {
                    pod.container_meta(&mut labels, p);
                    labels.insert("__address__".into(), host_port(&pod.ip, p.1).into());
                }
                None => {
                    labels.insert("__address__".into(), pod.ip.clone().into());
                }
            }
            let address = labels.remove("__address__").unwrap();
            groups.push(serde_json::json!({"targets": [address], "labels": labels}));
        }
    }
    serde_json::Value::Array(groups)
}

/// An operator-made Service: name, labels, the pods it selects (app, instance) and its port.
struct OperatorService {
    namespace: &'static str,
    name: String,
    labels: std::collections::BTreeMap<&'static str, String>,
    instance: String,
    port: (&'static str, u16),
}

fn operator_service(
    namespace: &'static str,
    cr: &str,
    suffix: &str,
    component: &'static str,
    port: (&'static str, u16),
) -> OperatorService {
    OperatorService {
        namespace,
        name: format!("{cr}{suffix}"),
        labels: [
            ("app", "robustmq".to_owned()),
            ("component", component.to_owned()),
            ("instance", cr.to_owned()),
        ]
        .into(),
        instance: cr.to_owned(),
        port,
    }
}

/// services.go reconcilePrometheusService, with the sample's spec.monitoring.prometheus.port.
fn operator_metrics_service(namespace: &'static str, cr: &str) -> OperatorService {
    operator_service(
        namespace,
        cr,
        "-prometheus",
        "prometheus",
        ("prometheus", 9091),
    )
}

/// Role endpoints: per Service, a target per selected pod with an IP on the Service's
/// port (container labels only where a container declares that port), then one per
/// container port of those pods that no endpoint port covers.
fn endpoints_role_targets(services: &[OperatorService], pods: &[Pod]) -> serde_json::Value {
    let mut groups = Vec::new();
    for svc in services {
        let mut service_meta = serde_json::Map::new();
        service_meta.insert("__meta_kubernetes_namespace".into(), svc.namespace.into());
        service_meta.insert(
            "__meta_kubernetes_endpoints_name".into(),
            svc.name.clone().into(),
        );
        service_meta.insert(
            "__meta_kubernetes_service_name".into(),
            svc.name.clone().into(),
        );
        for (k, v) in &svc.labels {
            service_meta.insert(
                format!("__meta_kubernetes_service_label_{k}"),
                v.clone().into(),
            );
            service_meta.insert(
                format!("__meta_kubernetes_service_labelpresent_{k}"),
                "true".into(),
            );
        }
        for pod in pods.iter().filter(|p| {
            p.namespace == svc.namespace
                && p.label("app") == Some("robustmq")
                && p.label("instance") == Some(svc.instance.as_str())
                && !p.ip.is_empty()
        }) {
            let mut labels = service_meta.clone();
            labels.extend(pod.meta());
            labels.insert(
                "__meta_kubernetes_endpoint_port_name".into(),
                svc.port.0.into(),
            );
            labels.insert(
                "__meta_kubernetes_endpoint_port_protocol".into(),
                "TCP".into(),
            );
            let ready = if pod.phase == "Running" {
                "true"
            } else {
                "false"
            };
            labels.insert("__meta_kubernetes_endpoint_ready".into(), ready.into());
            labels.insert(
                "__meta_kubernetes_endpoint_address_target_kind".into(),
                "Pod".into(),
            );
            labels.insert(
                "__meta_kubernetes_endpoint_address_target_name".into(),
                pod.name.clone().into(),
            );
            if let Some(declared) = pod.ports.iter().find(|p| p.1 == svc.port.1) {
                pod.container_meta(&mut labels, *declared);
            }
            groups.push(
                serde_json::json!({"targets": [host_port(&pod.ip, svc.port.1)], "labels": labels}),
            );
            for port in pod.ports.iter().filter(|p| p.1 != svc.port.1) {
                let mut labels = service_meta.clone();
                labels.extend(pod.meta());
                pod.container_meta(&mut labels, *port);
                groups.push(
                    serde_json::json!({"targets": [host_port(&pod.ip, port.1)], "labels": labels}),
                );
            }
        }
    }
    serde_json::Value::Array(groups)
}

/// A ServiceMonitor relabeling in Prometheus' own keys; fails on a key it does not map.
fn relabel_config(r: &Value) -> Value {
    let mut out = serde_yaml::Mapping::new();
    for (k, v) in r.as_mapping().unwrap() {
        let key = match k.as_str().unwrap() {
            "sourceLabels" => "source_labels",
            "targetLabel" => "target_label",
            k @ ("regex" | "replacement" | "action" | "separator" | "modulus") => k,
            other => panic!("relabeling key {other} not mapped here"),
        };
        out.insert(key.into(), v.clone());
    }
    Value::Mapping(out)
}

/// The scrape job the Prometheus Operator generates for the shipped ServiceMonitor's
/// first endpoint (its promcfg.go for role endpoints: the selector and port as keep
/// rules, its target labels, the job from jobLabel, `endpoint`, then the monitor's own
/// relabelings, then the shard filter), with file discovery in place of the API server.
fn operator_service_monitor_job(monitor: &Value, sd_file: &Path) -> Value {
    let spec = &monitor["spec"];
    let ep = &spec["endpoints"][0];
    let port = ep["port"].as_str().unwrap();
    let mut relabel =
        String::from("- {source_labels: [job], target_label: __tmp_prometheus_job_name}\n");
    for (k, v) in spec["selector"]["matchLabels"].as_mapping().unwrap() {
        let k = k.as_str().unwrap();
        relabel.push_str(&format!(
            "- {{action: keep, source_labels: [__meta_kubernetes_service_label_{k}, __meta_kubernetes_service_labelpresent_{k}], regex: '({});true'}}\n",
            v.as_str().unwrap()
        ));
    }
    relabel.push_str(&format!(
        "- {{action: keep, source_labels: [__meta_kubernetes_endpoint_port_name], regex: {port}}}\n\
         - {{source_labels: [__meta_kubernetes_endpoint_address_target_kind, __meta_kubernetes_endpoint_address_target_name], separator: ';', regex: 'Node;(.*)', replacement: '${{1}}', target_label: node}}\n\
         - {{source_labels: [__meta_kubernetes_endpoint_address_target_kind, __meta_kubernetes_endpoint_address_target_name], separator: ';', regex: 'Pod;(.*)', replacement: '${{1}}', target_label: pod}}\n\
         - {{source_labels: [__meta_kubernetes_namespace], target_label: namespace}}\n\
         - {{source_labels: [__meta_kubernetes_service_name], target_label: service}}\n\
         - {{source_labels: [__meta_kubernetes_pod_name], target_label: pod}}\n\
         - {{source_labels: [__meta_kubernetes_pod_container_name], target_label: container}}\n\
         - {{action: drop, source_labels: [__meta_kubernetes_pod_phase], regex: '(Failed|Succeeded)'}}\n\
         - {{source_labels: [__meta_kubernetes_service_name], target_label: job, replacement: '${{1}}'}}\n\
         - {{source_labels: [__meta_kubernetes_service_label_{job}], target_label: job, regex: '(.+)', replacement: '${{1}}'}}\n\
         - {{target_label: endpoint, replacement: {port}}}\n",
        job = spec["jobLabel"].as_str().unwrap()
    ));
    let mut rules: Vec<Value> = serde_yaml::from_str(&relabel).unwrap();
    rules.extend(
        ep["relabelings"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(relabel_config),
    );
    rules.extend(
        serde_yaml::from_str::<Vec<Value>>(
            "- {source_labels: [__address__], target_label: __tmp_hash, modulus: 1, action: hashmod}\n\
             - {source_labels: [__tmp_hash], regex: '0', action: keep}\n",
        )
        .unwrap(),
    );
    serde_yaml::from_str::<Value>(&format!(
        "job_name: serviceMonitor/{}/{}/0\nhonor_labels: {}\nmetrics_path: {}\nscrape_interval: {}\nscrape_timeout: {}\nfile_sd_configs: [{{files: ['{}']}}]\n",
        monitor["metadata"]["namespace"].as_str().unwrap(),
        monitor["metadata"]["name"].as_str().unwrap(),
        ep["honorLabels"].as_bool().unwrap(),
        ep["path"].as_str().unwrap(),
        ep["interval"].as_str().unwrap(),
        ep["scrapeTimeout"].as_str().unwrap(),
        sd_file.display()
    ))
    .map(|mut job| {
        job["relabel_configs"] = Value::Sequence(rules);
        job
    })
    .unwrap()
}

type Labels = std::collections::BTreeMap<String, String>;

/// A real Prometheus applies the shipped relabelling to the operator's sample pods, as
/// Kubernetes discovery would list them (file discovery carrying the same
/// `__meta_kubernetes_*` labels: Debian's Prometheus has no Kubernetes discovery):
/// prometheus.yml's job (role pod) and the job the Operator generates from
/// servicemonitor.yaml (role endpoints of the operator's `<name>-prometheus`
/// Services). Each keeps every Running pod of every resource, in any namespace, once,
/// at <pod IP>:58080/metrics, with the resource's name as `cluster`, and nothing else.
/// The pod IPs are TEST-NET addresses: the scrapes themselves fail, the targets are
/// the subject.
#[test]
fn the_scrapes_select_each_pod_of_the_operators_sample_once_on_the_admin_port() {
    let pods = operator_sample_pods();
    let dir = tempfile::tempdir().unwrap();
    let pod_file = dir.path().join("pods.json");
    std::fs::write(&pod_file, pod_role_targets(&pods).to_string()).unwrap();
    let mut services = Vec::new();
    for (namespace, cr) in [
        ("default", "robustmq-sample"),
        ("default", "robustmq-microservices"),
        ("robustmq-prod", "robustmq-sample"),
    ] {
        services.push(operator_metrics_service(namespace, cr));
        // Selects the same pods: the monitor must not take it too.
        services.push(operator_service(
            namespace,
            cr,
            "-meta-service",
            "meta",
            ("grpc", 1228),
        ));
    }
    let endpoints_file = dir.path().join("endpoints.json");
    std::fs::write(
        &endpoints_file,
        endpoints_role_targets(&services, &pods).to_string(),
    )
    .unwrap();

    let mut config = prometheus_yml_reading(&pod_file);
    let monitor = kubernetes_docs("deploy/kubernetes")
        .into_iter()
        .find(|(_, d)| d["kind"] == "ServiceMonitor")
        .unwrap()
        .1;
    let monitor_job = operator_service_monitor_job(&monitor, &endpoints_file);
    let monitor_pool = monitor_job["job_name"].as_str().unwrap().to_owned();
    config["scrape_configs"]
        .as_sequence_mut()
        .unwrap()
        .push(monitor_job);
    // Neither an Alertmanager nor rules matter here.
    config.as_mapping_mut().unwrap().remove("alerting");
    let prom = support::Prometheus::start(&serde_yaml::to_string(&config).unwrap(), &[]);

    let targets = support::wait_for("both jobs' targets", Duration::from_secs(30), || {
        let v = prom.get("/api/v1/targets");
        let active = v["data"]["activeTargets"].as_array()?.clone();
        let pools: std::collections::BTreeSet<&str> = active
            .iter()
            .filter_map(|t| t["scrapePool"].as_str())
            .collect();
        (pools.contains("robustmq") && pools.contains(monitor_pool.as_str())).then_some(v)
    });
    prom.stop();
    let active = |pool: &str| -> Vec<(Labels, String)> {
        let mut out: Vec<(Labels, String)> = targets["data"]["activeTargets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["scrapePool"] == pool)
            .map(|t| {
                (
                    serde_json::from_value(t["labels"].clone()).unwrap(),
                    t["scrapeUrl"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        out.sort();
        out
    };

    // Expected: every Running operator pod, once, whatever ports it declares.
    let scraped: Vec<&Pod> = pods
        .iter()
        .filter(|p| p.label("instance").is_some() && p.phase == "Running")
        .collect();
    assert_eq!(
        scraped.len(),
        10,
        "1 + 3 + 2 + 3 sample pods and the IPv6 one"
    );
    let expect = |service_monitor: bool| -> Vec<(Labels, String)> {
        let mut out: Vec<(Labels, String)> = scraped
            .iter()
            .map(|p| {
                let address = host_port(&p.ip, 58080);
                let mut l: Labels = [
                    ("job", "robustmq".to_owned()),
                    ("instance", address.clone()),
                    ("namespace", p.namespace.to_owned()),
                    ("pod", p.name.clone()),
                    ("cluster", p.label("instance").unwrap().to_owned()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
                if service_monitor {
                    l.insert(
                        "service".into(),
                        format!("{}-prometheus", p.label("instance").unwrap()),
                    );
                    l.insert("endpoint".into(), "http".into());
                    // Discovery names the container only where it declares 9091.
                    if p.ports.iter().any(|port| port.1 == 9091) {
                        l.insert("container".into(), p.container.into());
                    }
                } else {
                    l.insert("container".into(), p.container.into());
                }
                (l, format!("http://{address}/metrics"))
            })
            .collect();
        out.sort();
        out
    };
    assert_eq!(active("robustmq"), expect(false), "prometheus.yml");
    assert_eq!(active(&monitor_pool), expect(true), "servicemonitor.yaml");

    // The two resources of one namespace are two clusters; the same name in another
    // namespace is told apart by `namespace`.
    let clusters: std::collections::BTreeSet<(String, String)> = active("robustmq")
        .into_iter()
        .map(|(l, _)| (l["namespace"].clone(), l["cluster"].clone()))
        .collect();
    assert_eq!(clusters.len(), 3, "{clusters:?}");
    // What was left out: the Pending pod and the pod the operator did not make.
    let dropped: std::collections::BTreeSet<String> = targets["data"]["droppedTargets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["discoveredLabels"]["job"] == "robustmq")
        .map(|t| {
            t["discoveredLabels"]["__meta_kubernetes_pod_name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        dropped,
        ["robustmq-by-hand", "robustmq-sample-1", "web-0"]
            .map(str::to_owned)
            .into(),
        "dropped by prometheus.yml"
    );
}
