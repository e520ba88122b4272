#!/usr/bin/env bash
# Checks that the crate without its default `http` feature (and the lint crate,
# which depends on it that way) pulls neither axum nor hyper nor tokio, and that
# this build is warning-free.
set -euo pipefail
cd "$(dirname "$0")/.."
http_stack='^(axum|axum-core|hyper|hyper-util|tokio|tokio-rustls|tower-http|tower) '
check() {
  local what=$1; shift
  local tree
  tree=$(cargo tree -e normal --prefix none --format '{p}' "$@")
  if found=$(grep -E "$http_stack" <<<"$tree" | sort -u) && [ -n "$found" ]; then
    echo "check-no-http: $what pulls the HTTP stack:" >&2
    echo "$found" >&2
    exit 1
  fi
  echo "check-no-http: $what: $(sort -u <<<"$tree" | wc -l) crates, none of axum/hyper/tokio"
}
check "robustmq-log-metrics --no-default-features --features prometheus-client" \
  -p robustmq-log-metrics --no-default-features --features prometheus-client
check "robustmq-log-lint" -p robustmq-log-lint
cargo clippy -p robustmq-log-metrics --no-default-features --features prometheus-client --lib -- -D warnings
cargo clippy -p robustmq-log-metrics --no-default-features --lib -- -D warnings
