#!/usr/bin/env bash
# Runs the hot-path tests under Miri in both borrow models (Stacked Borrows,
# then Tree Borrows). Installs the nightly components it needs and fails
# loudly when it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup component add --toolchain nightly miri rust-src; then
  echo "miri.sh: cannot install miri/rust-src for the nightly toolchain (rustup component add --toolchain nightly miri rust-src)" >&2
  exit 1
fi
cargo +nightly miri setup
# -Zmiri-ignore-leaks: thread-local caches of the main thread are never
# destroyed, by design of Rust's TLS on the main thread.
tests=(--test soundness --lib)
for model in "" "-Zmiri-tree-borrows"; do
  echo "miri: ${model:-stacked borrows}"
  MIRIFLAGS="-Zmiri-ignore-leaks $model" cargo +nightly miri test "${tests[@]}" -- --skip loom
done
