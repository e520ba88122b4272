#!/usr/bin/env bash
# Model-checks the cell hand-over protocol of src/series.rs with loom.
set -euo pipefail
cd "$(dirname "$0")/.."
RUSTFLAGS="--cfg loom" cargo test --release --manifest-path tests/loom/Cargo.toml \
  --target-dir target/loom -- --nocapture
