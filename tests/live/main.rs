//! Tier `live`: the crate with the real programs around it. A real Prometheus
//! (and agents, and Alertmanager) scraping the demo broker and evaluating the
//! mixin's rules and alerts; promtool on every rule file; the mixin rendered
//! by jsonnet and compared with the committed files; the dashboards against
//! Grafana's schema; deploy/ against the Kubernetes and prometheus-operator
//! schemas and Fluent Bit's Lua filter; RobustMQ's shape and every
//! prometheus-client release of the dependency range, each a nested cargo
//! build of a crate of its own under tests/. The tiers are listed in
//! tests/core/main.rs.
//!
//! Needs `prometheus`, `promtool`, `prometheus-alertmanager`, `amtool`,
//! go-jsonnet (`/opt/go-jsonnet/bin`), `lua5.4`, `node` with the npm tools of dashboards/tools and
//! deploy/tools, and `python3` with `prometheus-client` and
//! `kubernetes-validate`: `bash .ci/install-tools` (as root) installs them all,
//! and a test that finds one missing fails saying so. Also the demo broker:
//! `cargo build --all-features --examples` first. `test = false` in
//! dev/Cargo.toml: plain `cargo test` does not build it.
//!
//! ```text
//! cargo build --all-features --examples
//! cargo test --all-features --test live
//! cargo test --all-features --test live mixin::
//! ```

mod alertmanager_live;
mod alerts_live;
mod appender_exactness;
mod dashboards;
mod deploy;
mod first_sample;
mod mixin;
mod prometheus_client_versions;
mod reserved_values;
mod robustmq_shape;
mod rules;
#[path = "../support/mod.rs"]
mod support;
mod topology;
