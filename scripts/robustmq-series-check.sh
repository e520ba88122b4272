#!/usr/bin/env bash
# The quick check of the RobustMQ series that CI runs (the full test,
# scripts/robustmq-e2e.sh, builds RobustMQ and takes far longer): the series
# applies with `git am` to the 8bd49dc59 snapshot, and every file it touches
# still parses: Rust with rustfmt (rustc's parser), TOML, JSON, and the
# Prometheus config and rules with promtool.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
snapshot_default="$here/../shared/robustmq/robustmq-8bd49dc59.tar.gz"
[ -f "$snapshot_default" ] || snapshot_default=/work/shared/robustmq/robustmq-8bd49dc59.tar.gz
snapshot="${RMQ_SNAPSHOT:-$snapshot_default}"
[ -f "$snapshot" ] || { echo "series-check: RobustMQ snapshot not found at $snapshot; set RMQ_SNAPSHOT" >&2; exit 2; }
command -v promtool >/dev/null || { echo "series-check: promtool missing; run .ci/install-tools" >&2; exit 2; }

work=$(mktemp -d /tmp/robustmq-series.XXXXXX)
trap 'rm -rf "$work"' EXIT
tar -xzf "$snapshot" -C "$work"
rmq="$work/robustmq"
bash "$here/scripts/robustmq-apply.sh" "$rmq"
cd "$rmq"
base=$(git rev-list --max-parents=0 HEAD)
mapfile -t files < <(git diff --name-only --diff-filter=AM "$base" HEAD)
[ ${#files[@]} -gt 0 ] || { echo "series-check: the series changes no file" >&2; exit 1; }
checked=0
for f in "${files[@]}"; do
  case "$f" in
    *.rs) rustfmt --edition 2024 --emit stdout "$f" >/dev/null || { echo "series-check: $f does not parse" >&2; exit 1; } ;;
    *.toml) python3 -c 'import sys, tomllib; tomllib.load(open(sys.argv[1], "rb"))' "$f" ;;
    *.json) python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$f" ;;
    grafana/prometheus-config-example.yml)
      # promtool resolves rule_files next to the config: they are in grafana/.
      promtool check config --syntax-only "$f" >/dev/null ;;
    *rules.yml) promtool check rules "$f" >/dev/null ;;
    *) continue ;;
  esac
  checked=$((checked + 1))
done
# The series' grafana files are the mixin's rendering for RobustMQ, byte for byte.
command -v jsonnet >/dev/null || { echo "series-check: jsonnet missing; run .ci/install-tools" >&2; exit 2; }
mkdir -p "$work/render/grafana"
jsonnet -J "$here/mixin" -S -m "$work/render" "$here/mixin/robustmq-grafana.jsonnet" >/dev/null
for f in "$work"/render/grafana/*; do
  cmp -s "$f" "grafana/$(basename "$f")" || {
    echo "series-check: grafana/$(basename "$f") in the series differs from mixin/robustmq-grafana.jsonnet's rendering; regenerate the grafana patch" >&2
    exit 1
  }
done
echo "series-check: grafana/ matches the mixin's rendering"
echo "series-check: ${#files[@]} files changed by $(git rev-list --count "$base"..HEAD) patches; $checked parsed (rust, toml, json, prometheus config and rules)"
