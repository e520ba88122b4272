//! Scale topology on loopback with real processes: two demo brokers (node_id 1
//! and 2), each scraped by its own Prometheus in agent mode, both
//! remote-writing to a central Prometheus that loads alerts/ and evaluates the
//! rules. The broker logging 20% errors makes its services burn their error
//! budget: RobustMQHighErrorRate per (cluster, service), with the agents'
//! cluster label, and no per-broker labels.
//! Uses deploy/prometheus/agent.yml and central.yml, pointed at loopback.

use crate::support;

use std::time::Duration;

use support::{start_broker, wait_for, Prometheus};

fn read(path: &str) -> String {
    std::fs::read_to_string(support::repo_dir().join(path)).unwrap()
}

fn replaced(text: &str, pairs: &[(&str, &str)]) -> String {
    let mut t = text.to_owned();
    for (from, to) in pairs {
        assert!(
            t.contains(from),
            "{from:?} not found: the config changed, update this test"
        );
        t = t.replace(from, to);
    }
    t
}

#[test]
fn agents_remote_write_to_a_central_prometheus_that_alerts_per_cluster_and_service() {
    let (_healthy, healthy_addr) = start_broker(&[
        "--node-id",
        "1",
        "--events-per-sec",
        "200",
        "--error-rate",
        "0.002",
    ]);
    let (_sick, sick_addr) = start_broker(&[
        "--node-id",
        "2",
        "--events-per-sec",
        "200",
        "--error-rate",
        "0.2",
    ]);

    // The records and the alerts: every rule file under alerts/.
    let rules = support::repo_dir().join("alerts/*.yml");
    let central = Prometheus::start(
        &replaced(
            &read("deploy/prometheus/central.yml"),
            &[
                ("evaluation_interval: 1m", "evaluation_interval: 1s"),
                ("/etc/prometheus/rules/*.yml", rules.to_str().unwrap()),
            ],
        ),
        &["--web.enable-remote-write-receiver"],
    );
    // Kubernetes discovery (which Debian's Prometheus lacks; tests/deploy.rs checks its
    // relabelling) swapped for the broker's address, with the cluster label it would set.
    let agent_config = read("deploy/prometheus/agent.yml");
    let discovery = agent_config.find("    kubernetes_sd_configs:").unwrap();
    let remote_write = agent_config.find("\nremote_write:").unwrap();
    let agent_config = format!(
        "{}    static_configs:\n      - targets: ['BROKER']\n        labels: {{cluster: robustmq-east}}\n{}",
        &agent_config[..discovery],
        &agent_config[remote_write..]
    );
    let agents: Vec<Prometheus> = [healthy_addr, sick_addr]
        .iter()
        .map(|addr| {
            Prometheus::start_agent(&replaced(
                &agent_config,
                &[
                    ("scrape_interval: 15s", "scrape_interval: 1s"),
                    ("BROKER", &addr.to_string()),
                    (
                        "http://prometheus-central.monitoring.svc:9090",
                        &format!("http://{}", central.addr),
                    ),
                    ("batch_send_deadline: 5s", "batch_send_deadline: 1s"),
                ],
            ))
        })
        .collect();

    // Both brokers' samples arrive through remote write, with their node_id.
    wait_for(
        "both brokers' series in the central Prometheus",
        Duration::from_secs(60),
        || {
            // The agents' external label travels with the samples.
            let nodes = central.vector(
                "count by (node_id) (robustmq_log_events_total{cluster=\"robustmq-east\"})",
            );
            (nodes.len() == 2).then_some(())
        },
    );
    // The recording rules run on the central server for both instances.
    let ratios = wait_for(
        "error ratios for both instances",
        Duration::from_secs(60),
        || {
            let r = central.vector(
                "service_instance:robustmq_log_errors:ratio_rate5m{service=\"mqtt-broker\"}",
            );
            (r.len() == 2).then_some(r)
        },
    );
    let alert = wait_for(
        "RobustMQHighErrorRate for the services of the broker logging 20% errors",
        Duration::from_secs(90),
        || {
            let a = central.vector("ALERTS{alertname=\"RobustMQHighErrorRate\"}");
            (!a.is_empty()).then_some(a)
        },
    );
    // Per (cluster, service): the cluster travels from the agents, the broker labels do not.
    let fleet_labels = |a: &[(std::collections::BTreeMap<String, String>, f64)]| {
        a.iter().all(|(l, _)| {
            l["cluster"] == "robustmq-east"
                && l.contains_key("service")
                && !l.contains_key("instance")
                && !l.contains_key("node_id")
        })
    };
    assert!(fleet_labels(&alert), "{alert:?}");
    let healthy_ratio = ratios
        .iter()
        .find(|(l, _)| l["instance"] == healthy_addr.to_string())
        .map(|(_, v)| *v)
        .unwrap();
    assert!(
        healthy_ratio < 0.01,
        "healthy broker's ratio {healthy_ratio}"
    );
    // Still per (cluster, service) a little later.
    let again = central.vector("ALERTS{alertname=\"RobustMQHighErrorRate\"}");
    assert!(fleet_labels(&again), "{again:?}");
    for a in agents {
        a.stop();
    }
    central.stop();
}
