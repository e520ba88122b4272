#!/usr/bin/env bash
# Runs the concurrency tests under ThreadSanitizer with an instrumented std.
# Installs the nightly rust-src component it needs and fails loudly when it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup component add --toolchain nightly rust-src; then
  echo "tsan.sh: cannot install rust-src for the nightly toolchain (rustup component add --toolchain nightly rust-src)" >&2
  exit 1
fi
# A separate target dir: sanitizer flags rebuild everything.
# One build of the library; each run adds only its test binary. The concurrency
# test reads its final scrape with the reference parser (python3, prometheus-client).
tsan() {
  RUSTFLAGS="-Zsanitizer=thread" RUSTDOCFLAGS="-Zsanitizer=thread" \
    cargo +nightly test -Zbuild-std --target x86_64-unknown-linux-gnu \
    --target-dir target/tsan "$@"
}
# --no-run: only the build (.ci/run starts it early, at low priority).
if [ "${1:-}" = --no-run ]; then
  tsan --test soundness --test core --test reference --no-run
  exit 0
fi
tsan --test soundness
tsan --test core -- stress::
tsan --test reference -- concurrency::
