//! deploy/: every YAML parses, Kubernetes manifests validate against the
//! Kubernetes and prometheus-operator schemas (offline), generated objects
//! match their sources, Prometheus configs pass promtool, and Fluent Bit ships
//! logs only with a parser that matches what the demo really writes.

mod support;

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
    assert_eq!(files.len(), 3, "{files:?}");
    let (ok, text) = run(Command::new("node")
        .arg("validate-crs.mjs")
        .args(&files)
        .current_dir(&tools));
    assert!(ok, "{text}");
    for kind in ["ServiceMonitor", "PodMonitor", "PrometheusRule"] {
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
}

#[test]
fn the_prometheus_rule_and_dashboard_configmaps_match_their_sources() {
    let hint = "run `python3 deploy/tools/generate.py` and commit the result";
    let rule = &docs(&support::repo_dir().join("deploy/kubernetes/prometheusrule.yaml"))[0];
    let source = &docs(&support::repo_dir().join("alerts/robustmq-logs.rules.yml"))[0];
    assert_eq!(rule["kind"], "PrometheusRule");
    assert_eq!(
        rule["spec"]["groups"], source["groups"],
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

#[test]
fn prometheus_configs_pass_promtool() {
    for f in [
        "deploy/prometheus/agent.yml",
        "deploy/prometheus/central.yml",
    ] {
        let (ok, text) = run(Command::new(support::tool("promtool"))
            .args(["check", "config", f])
            .current_dir(support::repo_dir()));
        assert!(ok, "{f}:\n{text}");
    }
    // Debian's Prometheus is built without Kubernetes service discovery, so its
    // promtool cannot read `kubernetes_sd_configs`: check everything else with
    // the block swapped for static_configs, and the block's keys by hand.
    let path = support::repo_dir().join("deploy/prometheus/prometheus.yml");
    let doc = &docs(&path)[0];
    let sd = &doc["scrape_configs"][0]["kubernetes_sd_configs"][0];
    assert_eq!(sd["role"], "pod");
    for key in sd.as_mapping().unwrap().keys() {
        let k = key.as_str().unwrap();
        assert!(
            [
                "role",
                "namespaces",
                "selectors",
                "api_server",
                "attach_metadata"
            ]
            .contains(&k),
            "unknown kubernetes_sd_configs key {k}"
        );
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let swapped = text.replace(
        "    kubernetes_sd_configs:\n      - role: pod\n        namespaces:\n          names: [robustmq-system]\n",
        "    static_configs:\n      - targets: ['127.0.0.1:9091']\n",
    );
    assert_ne!(
        swapped, text,
        "the kubernetes_sd_configs block changed; update this test"
    );
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("prometheus.yml");
    std::fs::write(&copy, swapped).unwrap();
    let (ok, text) = run(Command::new(support::tool("promtool"))
        .arg("check")
        .arg("config")
        .arg(&copy));
    assert!(ok, "{text}");
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
            ["tail", "kubernetes", "parser", "loki"].contains(&plugin),
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
}
