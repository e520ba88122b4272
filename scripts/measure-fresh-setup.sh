#!/usr/bin/env bash
# Measures the README's two commands as a new user meets them, on a machine
# made as close to a fresh Debian with the Rust toolchain as it gets: it
# REMOVES the test tools (apt: prometheus, prometheus-alertmanager, jsonnet,
# lua5.4; pip: prometheus-client, kubernetes-validate; /opt/go-jsonnet), then
# clones HEAD's repository into /tmp/fresh with a new CARGO_HOME and npm cache,
# and times the demo's first `cargo run` and `bash scripts/test-all.sh` (which
# installs the tools again). Run as root, on a machine you may change.
set -euo pipefail
t0=$(date +%s); at() { echo "fresh: $1 at $(( $(date +%s) - t0 )) s"; }
export DEBIAN_FRONTEND=noninteractive
apt-get remove -y -qq prometheus prometheus-alertmanager jsonnet lua5.4 >/dev/null
python3 -m pip uninstall -y -q prometheus-client kubernetes-validate
rm -rf /opt/go-jsonnet /tmp/fresh
mkdir -p /tmp/fresh
export CARGO_HOME=/tmp/fresh/cargo-home npm_config_cache=/tmp/fresh/npm-cache
mkdir -p "$CARGO_HOME"
git clone -q "$(cd "$(dirname "$0")/.." && pwd)" /tmp/fresh/robustmq-log-metrics
cd /tmp/fresh/robustmq-log-metrics
git log --oneline -1
at "state: tools removed, cold registry"
start=$(date +%s)
timeout 1800 cargo run --quiet --example broker -- --duration-secs 3 >/tmp/fresh/demo.out 2>/tmp/fresh/demo.err || {
  echo "fresh: the demo failed (exit $?):" >&2
  tail /tmp/fresh/demo.err >&2
  exit 1
}
at "demo: cargo run --example broker -- --duration-secs 3 took $(( $(date +%s) - start )) s"
start=$(date +%s)
bash scripts/test-all.sh >/tmp/fresh/test-all.log 2>&1 && rc=0 || rc=$?
at "tests: bash scripts/test-all.sh rc=$rc took $(( $(date +%s) - start )) s"
grep -h "^test result" /tmp/fresh/test-all.log | awk '{p+=$4; f+=$6} END {print "fresh: " p " passed, " f " failed"}'
exit "$rc"
