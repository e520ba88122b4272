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
    for kind in ["ServiceMonitor", "PrometheusRule"] {
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
/// tests/alertmanager_live.rs runs it in a real Alertmanager.
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
    let job = &doc["scrape_configs"][0];
    assert_eq!(
        job["job_name"], "robustmq",
        "the mixin selects job=\"robustmq\""
    );
    assert_eq!(
        job["honor_labels"], true,
        "the crate's service label must win"
    );
    let sd = &job["kubernetes_sd_configs"][0];
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
        "    static_configs:\n      - targets: ['127.0.0.1:58080']\n",
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
            ["tail", "kubernetes", "parser", "lua", "loki"].contains(&plugin),
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

    // The Lua filter, run by a real Lua on the demo's levels: lower-case levels
    // (the metrics' level label values) and the broker's pod and node id.
    let script = map["data"]["robustmq.lua"].as_str().unwrap();
    assert!(conf.contains("script  /fluent-bit/etc/robustmq.lua"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("robustmq.lua"), script).unwrap();
    std::fs::write(
        dir.path().join("harness.lua"),
        r#"dofile(arg[1])
for line in io.lines() do
  local level, pod, label_key, label_value = line:match("^(%S+) (%S+) (%S+) (%S+)$")
  local labels = {}
  if label_key ~= "-" then labels[label_key] = label_value end
  local record = { level = level, kubernetes = { namespace_name = "robustmq-system", pod_name = pod, labels = labels } }
  local code, _, out = robustmq_record("robustmq.x", 0, record)
  print(code, out.level, out.namespace, out.pod, tostring(out.node_id))
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
    assert_eq!(rows.len(), levels.len() + 2);
    for (row, level) in rows.iter().zip(&levels) {
        assert_eq!(row[0], "2", "the filter must report a changed record");
        assert_eq!(row[1], level.to_lowercase());
        assert!(["error", "warn", "info", "debug", "trace"].contains(&row[1].as_str()));
        assert_eq!(&row[2..], ["robustmq-system", "robustmq-broker-2", "2"]);
    }
    assert_eq!(rows[levels.len()][4], "7", "the node-id pod label wins");
    assert_eq!(rows[levels.len() + 1][4], "0");
    // The Loki stream labels are the ones the dashboards' Explore links select on.
    let labels_line = conf
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("Labels ") && l.contains("job="))
        .expect("loki Labels");
    for label in [
        "job=robustmq",
        "cluster=robustmq-east",
        "namespace=$namespace",
        "pod=$pod",
        "node_id=$node_id",
        "level=$level",
    ] {
        assert!(labels_line.contains(label), "{labels_line} lacks {label}");
    }
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
    for (dir, port_name) in [
        ("deploy/kubernetes", "http"),
        ("deploy/kubernetes/standalone-port", "log-metrics"),
    ] {
        let objects = kubernetes_docs(dir);
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
        let monitor = scrapes[0];
        assert!(
            !objects.iter().any(|(_, d)| d["kind"] == "NetworkPolicy"),
            "{dir}: a NetworkPolicy is opt-in only"
        );
        let service = &objects
            .iter()
            .find(|(_, d)| d["kind"] == "Service")
            .unwrap_or_else(|| panic!("{dir}: no Service"))
            .1;
        // RobustMQ's operator labels its pods app: robustmq.
        assert_eq!(service["spec"]["selector"]["app"], "robustmq");
        assert!(service["spec"]["clusterIP"] == "None", "{dir}: headless");
        for (k, v) in monitor["spec"]["selector"]["matchLabels"]
            .as_mapping()
            .unwrap()
        {
            assert_eq!(
                &service["metadata"]["labels"][k], v,
                "{dir}: selector {k:?}"
            );
        }
        let job_label = monitor["spec"]["jobLabel"].as_str().unwrap();
        assert_eq!(
            service["metadata"]["labels"][job_label], "robustmq",
            "{dir}: job must be robustmq, the mixin's selector"
        );
        let ports: Vec<&str> = service["spec"]["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for ep in monitor["spec"]["endpoints"].as_sequence().unwrap() {
            assert_eq!(ep["honorLabels"], true, "{dir}: honorLabels");
            assert_eq!(ep["path"], "/metrics");
            assert_eq!(ep["port"], port_name);
            assert!(
                ports.contains(&port_name),
                "{dir}: no Service port {port_name}"
            );
        }
        assert_eq!(
            monitor["spec"]["namespaceSelector"]["matchNames"][0],
            service["metadata"]["namespace"]
        );
    }
    // The default layout serves the counts on RobustMQ's admin port.
    let default = kubernetes_docs("deploy/kubernetes");
    let service = &default
        .iter()
        .find(|(_, d)| d["kind"] == "Service")
        .unwrap()
        .1;
    assert_eq!(service["spec"]["ports"][0]["port"], 58080);

    // Every namespaced object's namespace is created, by the file applied first.
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
    all.extend(kubernetes_docs("deploy/kubernetes/standalone-port"));
    all.extend(kubernetes_docs("deploy/kubernetes/opt-in"));
    all.extend(kubernetes_docs("deploy/fluent-bit"));
    for (path, d) in &all {
        if let Some(ns) = d["metadata"]["namespace"].as_str() {
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
