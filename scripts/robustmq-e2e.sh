#!/usr/bin/env bash
# RobustMQ for real: applies the pull requests of integrations/robustmq/ to
# RobustMQ's own tree, builds it with its own toolchain against this crate as
# `cargo package` packs it (what the registry would serve), runs
# broker-server, drives it with a real MQTT client and scrapes it with a real
# Prometheus that loads the shipped rules (scripts/robustmq_e2e.py does the
# run and the assertions).
#
#   scripts/robustmq-e2e.sh [RMQ_DIR]
#
# Without RMQ_DIR it extracts the snapshot (RMQ_SNAPSHOT; the default is in
# scripts/lib/robustmq-common.sh) afresh into RMQ_WORK_DIR/robustmq
# (default ~/.cache/robustmq-log-metrics/e2e-tree, the tree of the last run
# removed first; nothing else in RMQ_WORK_DIR is touched): the same
# path every run, so the build stays incremental (scripts/lib/robustmq-target.sh
# says why a new path costs a rebuild).
# RMQ_DIR is a pristine RobustMQ tree at 8bd49dc59 (a git checkout or a plain
# copy); the pull requests are applied to it with `git am`.
#
# The crate is packed from this checkout (CRATE_DIR: another checkout, e.g.
# the commit under test) and unpacked into RMQ_WORK_DIR/crate; RobustMQ's
# Cargo.toml gets a [patch.crates-io] entry for it (never part of a PR).
#
# The build uses RMQ_TARGET_DIR (default ~/.cache/robustmq-log-metrics/target),
# outside any clone, so a second run is incremental (times on 2 cores in
# docs/robustmq.md: over an hour cold, the broker build 4.5 minutes warm).
#
# Environment: RMQ_SKIP_CHECK=1 leaves out `cargo check --workspace
# --all-targets` and RMQ_SKIP_UNIT=1 RobustMQ's own logging tests (both run after the
# broker checks); RMQ_BENCH_ROUNDS=N (default 2) sets the rounds of the
# with/without-appender publish load under callgrind; RMQ_BENCH_ROUNDS=0 leaves it out.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/lib/robustmq-common.sh
. "$repo/scripts/lib/robustmq-common.sh"
# shellcheck source=scripts/lib/install.sh
. "$repo/scripts/lib/install.sh"
start=$(date +%s)
step() { echo "e2e: $1 ($(($(date +%s) - start)) s)"; }

target_dir="${RMQ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/robustmq-log-metrics/target}"
work="${RMQ_WORK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/robustmq-log-metrics/e2e-tree}"
toolchain=1.97.0

step "packages"
# RobustMQ's build (RMQ_BUILD_PACKAGES), an MQTT client, Prometheus and callgrind.
apt_install "${RMQ_BUILD_PACKAGES[@]}" mosquitto-clients prometheus valgrind
pip_install prometheus_client "$PIP_PROMETHEUS_CLIENT"
rustup toolchain list | grep -q "^$toolchain" || rustup toolchain install "$toolchain" --profile minimal

step "tree"
if [ $# -ge 1 ]; then
  rmq="$(cd "$1" && pwd)"
else
  rmq_extract "$work"
  rmq="$work/robustmq"
fi
bash "$repo/scripts/robustmq-apply.sh" "$rmq"

step "package the crate"
crate=$(rmq_package_crate "$work/crate")
rmq_patch_crate "$rmq" "$crate"
echo "e2e: RobustMQ builds $crate"

# shellcheck source=scripts/lib/robustmq-target.sh
. "$repo/scripts/lib/robustmq-target.sh"
rmq_target_for_tree e2e "$target_dir" "$rmq"
cd "$rmq"
export CARGO_TARGET_DIR="$target_dir"
export CARGO_TERM_COLOR=never
cargo="cargo +$toolchain"
step "build broker-server"
# As RobustMQ's scripts/cluster.sh builds it: `--package cmd` unifies the
# features of cmd's dependencies only (a bare `--bin` selects the whole
# workspace, a different feature set and so a second build of hundreds of
# dependencies), and the gates' MQTT cluster reuses this build.
$cargo build --quiet --package cmd --bin broker-server
step "run"
python3 "$repo/scripts/robustmq_e2e.py" --tree "$rmq" --broker "$target_dir/debug/broker-server" \
  --rules "$rmq/grafana/robustmq-log-metrics-rules.yml" --bench-rounds "${RMQ_BENCH_ROUNDS:-2}"
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
