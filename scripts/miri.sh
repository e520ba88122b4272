#!/usr/bin/env bash
# Runs the hot-path tests under Miri in both borrow models (Stacked Borrows
# and Tree Borrows). Installs the nightly components it needs and fails
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
# Built once (MIRIFLAGS is not part of cargo's fingerprint), then the two
# models run side by side: Miri interprets on one thread, and CI has two cores.
cargo +nightly miri test "${tests[@]}" --no-run
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
declare -A model_flags=([stacked-borrows]="" [tree-borrows]="-Zmiri-tree-borrows")
pids=()
models=(stacked-borrows tree-borrows)
for model in "${models[@]}"; do
  MIRIFLAGS="-Zmiri-ignore-leaks ${model_flags[$model]}" \
    cargo +nightly miri test "${tests[@]}" -- --skip loom >"$scratch/$model.log" 2>&1 &
  pids+=($!)
done
failed=()
for i in "${!pids[@]}"; do
  status=0
  wait "${pids[$i]}" || status=$?
  echo "miri: ${models[$i]} (exit $status)"
  cat "$scratch/${models[$i]}.log"
  [ $status -eq 0 ] || failed+=("${models[$i]}")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "miri: failed under ${failed[*]}" >&2
  exit 1
fi
