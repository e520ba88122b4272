#!/usr/bin/env bash
# RobustMQ for real: applies integrations/robustmq/*.patch to RobustMQ's own
# tree, builds it with its own toolchain, runs broker-server, drives it with a
# real MQTT client and scrapes it with a real Prometheus that loads the
# shipped rules (scripts/robustmq_e2e.py does the run and the assertions).
#
#   scripts/robustmq-e2e.sh [RMQ_DIR]
#
# Without RMQ_DIR it extracts the snapshot (RMQ_SNAPSHOT, default
# ../shared/robustmq/robustmq-8bd49dc59.tar.gz) afresh into RMQ_WORK_DIR/robustmq
# (default ~/.cache/robustmq-log-metrics/e2e-tree, the tree of the last run
# removed first; nothing else in RMQ_WORK_DIR is touched): the same
# path every run, so the build stays incremental (scripts/lib/robustmq-target.sh
# says why a new path costs a rebuild).
# RMQ_DIR is a pristine RobustMQ tree at 8bd49dc59 (a git checkout or a plain
# copy); the series is applied to it with `git am`.
#
# The build uses RMQ_TARGET_DIR (default ~/.cache/robustmq-log-metrics/target),
# outside any clone, so a second run is incremental (times on 2 cores in
# docs/robustmq.md: over an hour cold, the broker build 4.5 minutes warm).
#
# Environment: RMQ_SKIP_CHECK=1 leaves out `cargo check --workspace
# --all-targets` and RMQ_SKIP_UNIT=1 RobustMQ's own logging tests (both run after the
# broker checks); RMQ_BENCH_ROUNDS=N (default 3) sets the rounds of the
# with/without-appender publish load; RMQ_BENCH_ROUNDS=0 leaves it out.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
start=$(date +%s)
step() { echo "e2e: $1 ($(($(date +%s) - start)) s)"; }

snapshot_default="$here/../shared/robustmq/robustmq-8bd49dc59.tar.gz"
[ -f "$snapshot_default" ] || snapshot_default=/work/shared/robustmq/robustmq-8bd49dc59.tar.gz
snapshot="${RMQ_SNAPSHOT:-$snapshot_default}"
target_dir="${RMQ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/robustmq-log-metrics/target}"
toolchain=1.97.0

step "packages"
# RobustMQ's build needs (docs: ../shared/ROBUSTMQ.md): clang + lld (its
# .cargo/config.toml links with them), protoc and the well-known .proto files,
# libclang for bindgen, cmake, OpenSSL; the test needs an MQTT client and
# Prometheus.
need=()
for p in clang lld protobuf-compiler libprotobuf-dev libclang-dev cmake pkg-config libssl-dev \
  mosquitto-clients prometheus; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  # policy-rc.d exiting 101: dpkg must not start the packaged Prometheus.
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod 755 /usr/sbin/policy-rc.d
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
  $sudo rm -f /usr/sbin/policy-rc.d
fi
python3 -c 'import prometheus_client' 2>/dev/null || python3 -m pip install -q 'prometheus-client==0.21.1'
rustup toolchain list | grep -q "^$toolchain" || rustup toolchain install "$toolchain" --profile minimal

step "tree"
if [ $# -ge 1 ]; then
  rmq="$(cd "$1" && pwd)"
else
  [ -f "$snapshot" ] || { echo "e2e: RobustMQ snapshot $snapshot not found; set RMQ_SNAPSHOT or pass RMQ_DIR" >&2; exit 2; }
  work="${RMQ_WORK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/robustmq-log-metrics/e2e-tree}"
  rm -rf "$work/robustmq"
  mkdir -p "$work"
  tar -xzf "$snapshot" -C "$work"
  rmq="$work/robustmq"
fi
bash "$here/scripts/robustmq-apply.sh" "$rmq"

# The series declares the crate as a crates.io version; the test builds this
# checkout instead. Never part of the series.
if ! grep -q '^\[patch.crates-io\]' "$rmq/Cargo.toml"; then
  printf '\n[patch.crates-io]\nrobustmq-log-metrics = { path = "%s" }\n' "$here" >>"$rmq/Cargo.toml"
fi

# shellcheck source=scripts/lib/robustmq-target.sh
. "$here/scripts/lib/robustmq-target.sh"
rmq_target_for_tree e2e "$target_dir" "$rmq"
cd "$rmq"
export CARGO_TARGET_DIR="$target_dir"
export CARGO_TERM_COLOR=never
cargo="cargo +$toolchain"
step "build broker-server"
$cargo build --quiet --bin broker-server
step "run"
python3 "$here/scripts/robustmq_e2e.py" --tree "$rmq" --broker "$target_dir/debug/broker-server" \
  --rules "$rmq/grafana/robustmq-log-metrics-rules.yml" --bench-rounds "${RMQ_BENCH_ROUNDS:-3}"
if [ "${RMQ_SKIP_CHECK:-0}" != 1 ]; then
  step "cargo check --workspace --all-targets"
  # The workspace's search-engine and llm-engine crates (mq9 vector search,
  # off in the binary) depend on ort-sys, whose build script downloads a
  # prebuilt ONNX Runtime from parcel.pyke.io unless ORT_LIB_LOCATION names
  # one. A check links nothing, so an empty directory serves, and the check
  # needs no network.
  mkdir -p "$target_dir/ort-none"
  ORT_LIB_LOCATION="$target_dir/ort-none" $cargo check --workspace --all-targets --quiet
fi
if [ "${RMQ_SKIP_UNIT:-0}" != 1 ]; then
  step "common-base logging tests"
  # Last, because they compile more than the binary does (test harnesses and
  # their features). broker-server in the same invocation keeps the features
  # as close to the binary's build as cargo allows.
  $cargo test --quiet -p common-base -p broker-server --lib -- logging::
fi
step "passed"
