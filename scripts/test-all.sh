#!/usr/bin/env bash
# Runs every test tier, on a fresh Debian machine too. The README's one test command.
#
# Tiers (each binary's `//!` header says what it holds; tests/core/main.rs lists them):
#   fast       cargo test --workspace --all-features
#              binaries core, http, golden, soundness, overflow_warning, the unit
#              and doc tests, the lint's tests. Needs nothing but cargo; plain
#              `cargo test` runs exactly this tier.
#   reference  cargo test --all-features --test reference --test callsite_events --test overflow --test scrape
#              needs python3 with prometheus-client, and promtool.
#   heavy      cargo test --all-features --test heavy
#              3,000 connections, slow readers, a cardinality attack: minutes of CPU.
#   live       cargo test --all-features --test live   (after `cargo build --all-features --examples`)
#              needs prometheus, promtool, alertmanager, amtool, go-jsonnet (/opt/go-jsonnet), lua5.4,
#              node and the npm tools, python3 packages, nested cargo builds.
#   lint-live  cargo test --workspace --all-features --test migrate
#              the lint's fix on a fixture crate, built and run by a nested cargo.
# The reference, heavy, live and lint-live binaries are `test = false` in
# dev/Cargo.toml and lint/Cargo.toml, so plain `cargo test` never builds them. A test whose tool is
# missing fails saying how to install it (`bash .ci/install-tools`, as root).
#
# `TIERS="fast reference" scripts/test-all.sh` runs only the named tiers.
# .ci/run installs the tools once and sets TOOLS_INSTALLED=1.
set -euo pipefail
cd "$(dirname "$0")/.."
tiers=${TIERS:-fast reference heavy live lint-live}
if [ "${TOOLS_INSTALLED:-}" != 1 ] && [ "$tiers" != fast ]; then
  if [ "$(id -u)" = 0 ]; then
    bash .ci/install-tools
  else
    sudo bash .ci/install-tools
  fi
fi
start=$(date +%s)
for tier in $tiers; do
  echo "test-all: tier $tier ($(( $(date +%s) - start )) s)"
  case $tier in
    fast) cargo test --workspace --all-features ;;
    reference) cargo test --all-features --test reference --test callsite_events --test overflow --test scrape ;;
    heavy) cargo test --all-features --test heavy ;;
    # The live tests start the demo broker binary: build it first.
    live)
      cargo build --all-features --examples
      # Four threads on two cores: most live tests wait on Prometheus and
      # Alertmanager evaluating (192 s with the default two, 2026-12-06).
      cargo test --all-features --test live -- --test-threads 4
      ;;
    # --workspace: the feature set of the fast tier, so nothing is rebuilt.
    lint-live) cargo test --workspace --all-features --test migrate ;;
    *) echo "test-all: no tier named $tier (fast, reference, heavy, live, lint-live)" >&2; exit 2 ;;
  esac
done
echo "test-all: done in $(( $(date +%s) - start )) s"
