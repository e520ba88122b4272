//! The mixin's alerts through a real Prometheus and a real Alertmanager
//! (Debian `prometheus-alertmanager`) routed by deploy/alertmanager/alertmanager.yml,
//! with a webhook receiver here counting notifications. 50 brokers of two
//! services go from healthy to 20% errors and back:
//! - a healthy fleet: no notification at all;
//! - the storm: one page per service (two), however many brokers;
//! - the errors stop: each page is followed by one resolve notification.
//!
//! Bounded: the rules are rendered from the mixin with the windows scaled down
//! (a 10s base rate, a 30s/10s page pair, a 1m/20s ticket pair) and every `for`
//! at 2s; the alert expressions are otherwise the committed ones. The 50
//! brokers are one exporter process-local server per port, each serving the
//! families the crate renders, whose counters move at the scenario's rates.
//!
//! And deploy/kubernetes/alertmanagerconfig.yaml, converted the way the
//! Prometheus Operator converts it (namespace matcher included), in a real
//! Alertmanager: only alerts carrying its namespace reach its receivers.

use crate::support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{free_port, wait_for, ChildGuard, Prometheus};

const BROKERS: usize = 50;
const SERVICES: [&str; 2] = ["mqtt-broker", "storage-engine"];

/// Renders the rule groups with scaled-down windows and every `for` at 2s.
fn fast_rules() -> String {
    support::mixin_rules_with(
        "rateWindow: '10s', evaluationInterval: '1s',\n\
         burnRateWindows: [\n\
           { severity: 'critical', long: '30s', short: '10s', factor: 14.4 },\n\
           { severity: 'warning', long: '1m', short: '20s', factor: 3 },\n\
         ],\n\
         alertFor: std.mapWithKey(function(k, v) '2s', super.alertFor),",
    )
}

/// One notification as the webhook received it.
#[derive(Debug, Clone)]
struct Notification {
    receiver: String,
    status: String,
    group: BTreeMap<String, String>,
    alerts: usize,
}

/// The webhook receiver: every POST body, by path (the receiver).
fn webhook() -> (
    tokio::runtime::Runtime,
    SocketAddr,
    Arc<Mutex<Vec<Notification>>>,
) {
    let seen: Arc<Mutex<Vec<Notification>>> = Arc::default();
    let sink = seen.clone();
    let router = axum::Router::new().route(
        "/{receiver}",
        axum::routing::post(
            move |axum::extract::Path(receiver): axum::extract::Path<String>, body: String| {
                let sink = sink.clone();
                async move {
                    let v: serde_json::Value = serde_json::from_str(&body).expect("webhook json");
                    sink.lock().unwrap().push(Notification {
                        receiver,
                        status: v["status"].as_str().unwrap_or("").to_owned(),
                        group: serde_json::from_value(v["groupLabels"].clone()).unwrap_or_default(),
                        alerts: v["alerts"].as_array().map_or(0, Vec::len),
                    });
                    "ok"
                }
            },
        ),
    );
    let (rt, addr) = support::serve_router(router);
    (rt, addr, seen)
}

/// 50 brokers' scrape endpoints, each on a port of its own: per scrape, 100
/// info events per service, and 25 errors per service while `storm` is set.
fn brokers(storm: Arc<AtomicBool>) -> (tokio::runtime::Runtime, Vec<SocketAddr>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let mut addrs = Vec::new();
    for node in 1..=BROKERS {
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        addrs.push(listener.local_addr().unwrap());
        let info = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let storm = storm.clone();
        let router = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let info = info.fetch_add(100, Ordering::Relaxed) + 100;
                let errors = if storm.load(Ordering::Relaxed) {
                    errors.fetch_add(25, Ordering::Relaxed) + 25
                } else {
                    errors.load(Ordering::Relaxed)
                };
                let mut text = String::from("# TYPE robustmq_log_events_total counter\n");
                for s in SERVICES {
                    text.push_str(&format!(
                        "robustmq_log_events_total{{node_id=\"{node}\",level=\"info\",service=\"{s}\",event=\"message_published\"}} {info}\n\
                         robustmq_log_events_total{{node_id=\"{node}\",level=\"error\",service=\"{s}\",event=\"connection_failed\"}} {errors}\n"
                    ));
                }
                text.push_str("# TYPE robustmq_log_label_overflow_total counter\n");
                for s in SERVICES {
                    text.push_str(&format!(
                        "robustmq_log_label_overflow_total{{node_id=\"{node}\",service=\"{s}\"}} 0\n"
                    ));
                }
                text.push_str(&format!(
                    "# TYPE robustmq_log_label_limit gauge\n\
                     robustmq_log_label_limit{{node_id=\"{node}\",kind=\"events_per_service\"}} 256\n\
                     robustmq_log_label_limit{{node_id=\"{node}\",kind=\"services\"}} 64\n"
                ));
                async move {
                    (
                        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
                        text,
                    )
                }
            }),
        );
        rt.spawn(async move { axum::serve(listener, router).await });
    }
    (rt, addrs)
}

/// A real Alertmanager on a free loopback port, clustering off.
fn start_alertmanager(config: &str, dir: &std::path::Path) -> (ChildGuard, SocketAddr) {
    let file = dir.join("alertmanager.yml");
    std::fs::write(&file, config).unwrap();
    let check = Command::new(support::tool("amtool"))
        .args(["check-config", file.to_str().unwrap()])
        .output()
        .expect("run amtool");
    assert!(
        check.status.success(),
        "amtool check-config:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let log = std::fs::File::create(dir.join("alertmanager.log")).unwrap();
    let mut guard = ChildGuard::spawn(
        "prometheus-alertmanager",
        Command::new(support::tool("prometheus-alertmanager"))
            .arg(format!("--config.file={}", file.display()))
            .arg(format!("--storage.path={}", dir.join("am-data").display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(log),
    );
    guard.wait_serving(addr, "/-/ready", Duration::from_secs(30));
    (guard, addr)
}

fn count(seen: &Mutex<Vec<Notification>>, receiver: &str, status: &str) -> Vec<Notification> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|n| n.receiver == receiver && n.status == status)
        .cloned()
        .collect()
}

#[test]
fn a_fifty_broker_storm_pages_once_per_service_and_resolves() {
    let (_hook_rt, hook, seen) = webhook();
    let storm = Arc::new(AtomicBool::new(false));
    let (_brokers_rt, addrs) = brokers(storm.clone());
    let dir = tempfile::tempdir().unwrap();

    // The shipped route, its receivers pointed here and its timers shortened.
    let shipped =
        std::fs::read_to_string(support::repo_dir().join("deploy/alertmanager/alertmanager.yml"))
            .unwrap();
    let config = receivers_at(&shipped, &hook)
        .replace("group_wait: 30s", "group_wait: 1s")
        .replace("group_interval: 5m", "group_interval: 1s");
    assert!(config.contains(&format!("{hook}/page")) && config.contains("group_wait: 1s"));
    let (mut am, am_addr) = start_alertmanager(&config, dir.path());

    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, fast_rules()).unwrap();
    let targets: Vec<String> = addrs.iter().map(|a| format!("'{a}'")).collect();
    let prom_config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         rule_files:\n  - {}\n\
         alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['{am_addr}']\n\
         scrape_configs:\n  - job_name: robustmq\n    honor_labels: true\n    static_configs:\n      - targets: [{}]\n        labels: {{cluster: live, namespace: robustmq-system}}\n",
        rules.display(),
        targets.join(", ")
    );
    let prom = Prometheus::start(&prom_config, &[]);

    // Healthy: every broker scraped, the fleet ratios recorded, then a quiet
    // stretch longer than every `for` plus group_wait: not one notification.
    wait_for(
        "all 50 brokers scraped and the fleet ratio recorded",
        Duration::from_secs(60),
        || {
            let up = prom.vector("count(up{job=\"robustmq\"} == 1)");
            let ratios = prom.vector("cluster_service:robustmq_log_errors:ratio_rate30s");
            (up.first().is_some_and(|(_, v)| *v == BROKERS as f64) && ratios.len() == 2)
                .then_some(())
        },
    );
    let quiet_until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < quiet_until {
        am.assert_running();
        assert!(
            seen.lock().unwrap().is_empty(),
            "a healthy fleet notified: {:?}",
            seen.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let healthy = seen.lock().unwrap().len();

    // The storm: 20% errors on every broker of both services.
    storm.store(true, Ordering::Relaxed);
    let started = Instant::now();
    wait_for("a page for each service", Duration::from_secs(90), || {
        (count(&seen, "page", "firing").len() >= SERVICES.len()).then_some(())
    });
    let paged_after = started.elapsed();
    // Several group intervals more: no further page arrives.
    let until = Instant::now() + Duration::from_secs(8);
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(200));
    }
    let pages = count(&seen, "page", "firing");
    let storm_tickets = count(&seen, "ticket", "firing").len();

    // The errors stop: the short windows clear, each page resolves.
    storm.store(false, Ordering::Relaxed);
    wait_for(
        "a resolve notification for each page",
        Duration::from_secs(90),
        || (count(&seen, "page", "resolved").len() >= SERVICES.len()).then_some(()),
    );
    let resolved = count(&seen, "page", "resolved");

    eprintln!("notifications: healthy {healthy}; storm: {} page(s) after {:.0?} ({storm_tickets} ticket(s) before the page inhibited them); resolved: {} page resolve(s)", pages.len(), paged_after, resolved.len());
    for n in seen.lock().unwrap().iter() {
        eprintln!(
            "  {} {} {:?} ({} alerts)",
            n.receiver, n.status, n.group, n.alerts
        );
    }
    assert_eq!(healthy, 0);
    let mut paged: Vec<&str> = pages.iter().map(|n| n.group["service"].as_str()).collect();
    paged.sort();
    assert_eq!(paged, SERVICES, "one page per service: {pages:?}");
    for n in &pages {
        assert_eq!(n.alerts, 1, "one alert per page, not one per broker: {n:?}");
        // A storage service pages as RobustMQStorageErrors, which inhibits its
        // RobustMQHighErrorRate (deploy/alertmanager/alertmanager.yml).
        let expected = if n.group["service"].starts_with("storage") {
            "RobustMQStorageErrors"
        } else {
            "RobustMQHighErrorRate"
        };
        assert_eq!(n.group["alertname"], expected, "{n:?}");
        assert_eq!(n.group["cluster"], "live");
    }
    let mut resolved_services: Vec<&str> = resolved
        .iter()
        .map(|n| n.group["service"].as_str())
        .collect();
    resolved_services.sort();
    assert_eq!(resolved_services, SERVICES);
    // No per-broker alert in a fleet-wide storm.
    assert!(prom
        .vector("ALERTS{alertname=\"RobustMQBrokerHighErrorRate\"}")
        .is_empty());
    prom.stop();
    am.stop();
}

/// A matcher of an AlertmanagerConfig as the Operator writes it (`Matcher.String()`).
fn matcher_string(m: &serde_yaml::Value) -> String {
    for key in m.as_mapping().unwrap().keys() {
        let k = key.as_str().unwrap();
        assert!(
            ["name", "matchType", "value"].contains(&k),
            "matcher key {k} not mapped here"
        );
    }
    format!(
        "{}{}{:?}",
        m["name"].as_str().unwrap(),
        m["matchType"].as_str().unwrap_or("="),
        m["value"].as_str().unwrap()
    )
}

/// `route` of an AlertmanagerConfig in Alertmanager's keys (the Operator's
/// convertRoute): receivers prefixed with "<namespace>/<name>/"; fails on a key it
/// does not map, so the shipped object cannot grow a setting this test ignores.
fn convert_route(r: &serde_yaml::Value, prefix: &str) -> serde_yaml::Value {
    let mut out = serde_yaml::Mapping::new();
    for (k, v) in r.as_mapping().unwrap() {
        let (key, value) = match k.as_str().unwrap() {
            "receiver" => (
                "receiver",
                format!("{prefix}{}", v.as_str().unwrap()).into(),
            ),
            "matchers" => (
                "matchers",
                v.as_sequence()
                    .unwrap()
                    .iter()
                    .map(|m| matcher_string(m).into())
                    .collect::<Vec<serde_yaml::Value>>()
                    .into(),
            ),
            "groupBy" => ("group_by", v.clone()),
            "groupWait" => ("group_wait", v.clone()),
            "groupInterval" => ("group_interval", v.clone()),
            "repeatInterval" => ("repeat_interval", v.clone()),
            "continue" => ("continue", v.clone()),
            "routes" => (
                "routes",
                v.as_sequence()
                    .unwrap()
                    .iter()
                    .map(|c| convert_route(c, prefix))
                    .collect::<Vec<_>>()
                    .into(),
            ),
            other => panic!("route key {other} not mapped here"),
        };
        out.insert(key.into(), value);
    }
    serde_yaml::Value::Mapping(out)
}

/// The Alertmanager configuration the Prometheus Operator generates from the
/// shipped AlertmanagerConfig living in `namespace` (its amcfg.go), in front of a
/// base route whose receiver `base` posts to `base_url`:
/// - OnNamespace (enforceNamespaceForRoute): the resource's top route gets the
///   matcher `namespace="<namespace>"` and `continue: true`, and goes first;
/// - its inhibit rules get the same matcher on both sides;
/// - receivers and routes name "<namespace>/<name>/<receiver>".
fn operator_alertmanager_config(namespace: &str, base_url: &str) -> serde_yaml::Value {
    let text = std::fs::read_to_string(
        support::repo_dir().join("deploy/kubernetes/alertmanagerconfig.yaml"),
    )
    .unwrap();
    let amc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(amc["apiVersion"], "monitoring.coreos.com/v1alpha1");
    assert_eq!(amc["kind"], "AlertmanagerConfig");
    let prefix = format!("{namespace}/{}/", amc["metadata"]["name"].as_str().unwrap());
    let spec = &amc["spec"];
    for key in spec.as_mapping().unwrap().keys() {
        let k = key.as_str().unwrap();
        assert!(
            ["route", "receivers", "inhibitRules"].contains(&k),
            "spec key {k} not mapped here"
        );
    }
    let namespace_matcher: serde_yaml::Value = format!("namespace={namespace:?}").into();

    let mut route = convert_route(&spec["route"], &prefix);
    route["matchers"]
        .as_sequence_mut()
        .unwrap()
        .push(namespace_matcher.clone());
    route["continue"] = true.into();

    let mut receivers = vec![serde_yaml::from_str::<serde_yaml::Value>(&format!(
        "{{name: base, webhook_configs: [{{url: '{base_url}', send_resolved: false}}]}}"
    ))
    .unwrap()];
    for r in spec["receivers"].as_sequence().unwrap() {
        let mut out = serde_yaml::Mapping::new();
        for (k, v) in r.as_mapping().unwrap() {
            match k.as_str().unwrap() {
                "name" => {
                    out.insert(
                        "name".into(),
                        format!("{prefix}{}", v.as_str().unwrap()).into(),
                    );
                }
                "webhookConfigs" => {
                    let hooks: Vec<serde_yaml::Value> = v
                        .as_sequence()
                        .unwrap()
                        .iter()
                        .map(|w| {
                            let mut h = serde_yaml::Mapping::new();
                            for (k, v) in w.as_mapping().unwrap() {
                                let key = match k.as_str().unwrap() {
                                    "url" => "url",
                                    "sendResolved" => "send_resolved",
                                    other => panic!("webhook key {other} not mapped here"),
                                };
                                h.insert(key.into(), v.clone());
                            }
                            serde_yaml::Value::Mapping(h)
                        })
                        .collect();
                    out.insert("webhook_configs".into(), hooks.into());
                }
                other => panic!("receiver key {other} not mapped here"),
            }
        }
        receivers.push(serde_yaml::Value::Mapping(out));
    }

    let inhibit: Vec<serde_yaml::Value> = spec["inhibitRules"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|rule| {
            let mut out = serde_yaml::Mapping::new();
            for (k, v) in rule.as_mapping().unwrap() {
                let side = |v: &serde_yaml::Value| -> serde_yaml::Value {
                    let mut m: Vec<serde_yaml::Value> = v
                        .as_sequence()
                        .unwrap()
                        .iter()
                        .map(|m| matcher_string(m).into())
                        .collect();
                    m.push(namespace_matcher.clone());
                    m.into()
                };
                let (key, value) = match k.as_str().unwrap() {
                    "sourceMatch" => ("source_matchers", side(v)),
                    "targetMatch" => ("target_matchers", side(v)),
                    "equal" => ("equal", v.clone()),
                    other => panic!("inhibit rule key {other} not mapped here"),
                };
                out.insert(key.into(), value);
            }
            serde_yaml::Value::Mapping(out)
        })
        .collect();

    serde_yaml::from_str::<serde_yaml::Value>(
        "route: {receiver: base, group_by: [cluster, service, alertname], group_wait: 1s, group_interval: 1s}",
    )
    .map(|mut config| {
        config["route"]["routes"] = vec![route].into();
        config["receivers"] = receivers.into();
        config["inhibit_rules"] = inhibit.into();
        config
    })
    .unwrap()
}

/// deploy/kubernetes/alertmanagerconfig.yaml, as the Prometheus Operator routes it
/// when it lives in the RobustMQ resource's namespace (`default`, the operator's
/// sample), in a real Alertmanager: an alert carrying namespace="default" reaches
/// its pager; the same alert without a namespace label, or from another namespace,
/// does not, and falls through to the base route. This is why the fleet alerts must
/// keep the scrape's `namespace` label.
#[test]
fn the_alertmanager_config_routes_only_alerts_of_its_own_namespace() {
    let (_hook_rt, hook, seen) = webhook();
    let dir = tempfile::tempdir().unwrap();
    let mut config = operator_alertmanager_config("default", &format!("http://{hook}/base"));
    // Its receivers pointed here and its timers shortened, as the other test does.
    let route = &mut config["route"]["routes"][0];
    assert_eq!(
        route["matchers"][route["matchers"].as_sequence().unwrap().len() - 1],
        "namespace=\"default\""
    );
    route["group_wait"] = "1s".into();
    route["group_interval"] = "1s".into();
    let text = receivers_at(&serde_yaml::to_string(&config).unwrap(), &hook);
    assert!(text.contains(&format!("{hook}/page")), "{text}");
    let (mut am, am_addr) = start_alertmanager(&text, dir.path());

    // The fleet page of three (namespace, service) pairs, sent by amtool.
    for (service, namespace) in [
        ("mqtt-broker", Some("default")),
        ("storage-engine", None),
        ("kafka-broker", Some("robustmq-prod")),
    ] {
        let mut cmd = Command::new(support::tool("amtool"));
        cmd.arg(format!("--alertmanager.url=http://{am_addr}"))
            .args([
                "alert",
                "add",
                "alertname=RobustMQHighErrorRate",
                "severity=critical",
            ])
            .arg("cluster=robustmq-sample")
            .arg(format!("service={service}"));
        if let Some(ns) = namespace {
            cmd.arg(format!("namespace={ns}"));
        }
        let out = cmd.output().expect("run amtool");
        assert!(
            out.status.success(),
            "amtool alert add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let services = |receiver: &str| -> std::collections::BTreeSet<String> {
        count(&seen, receiver, "firing")
            .iter()
            .map(|n| n.group["service"].clone())
            .collect()
    };
    wait_for(
        "the page and the base route's two notifications",
        Duration::from_secs(30),
        || (services("page").len() == 1 && services("base").len() == 2).then_some(()),
    );
    am.assert_running();
    assert_eq!(services("page"), ["mqtt-broker".to_owned()].into());
    assert_eq!(
        services("base"),
        ["kafka-broker".to_owned(), "storage-engine".to_owned()].into(),
        "without its namespace label, an alert misses the namespace's route"
    );
    assert!(services("ticket").is_empty());
    am.stop();
}

/// The shipped receivers' URLs (deploy/alertmanager/) pointed at the test's webhook.
fn receivers_at(config: &str, hook: &impl std::fmt::Display) -> String {
    config
        .replace(
            "http://pager.monitoring.svc:8080/robustmq",
            &format!("http://{hook}/page"),
        )
        .replace(
            "http://tickets.monitoring.svc:8080/robustmq",
            &format!("http://{hook}/ticket"),
        )
}
