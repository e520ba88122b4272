#!/usr/bin/env bash
# Runs every test on a fresh Debian machine: installs the real tools the tests
# use (prometheus + promtool, the Python reference parser, Grafana's schema
# tooling), then the whole cargo test suite with every feature.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
  bash .ci/install-tools
else
  sudo bash .ci/install-tools
fi
# The live tests start the demo broker binary: build it first. (`--all-targets`
# would build examples as test harnesses under another name, and run the
# criterion benches, which belong to `cargo bench`.)
cargo build --all-features --examples
cargo test --workspace --all-features
