#!/usr/bin/env bash
# The quick check of the RobustMQ pull requests that CI runs (it builds
# nothing; scripts/robustmq-gates.sh and scripts/robustmq-e2e.sh build and run
# RobustMQ): each pull request of integrations/robustmq/ applies with `git am`
# to the 8bd49dc59 snapshot after the ones before it, has a PR.md in
# RobustMQ's title and template form and signed-off commits of one author,
# and every file it touches parses; the monitoring files select RobustMQ's own
# job names, link runbooks in RobustMQ's tree and are the mixin's rendering.
# Every alert and panel can fire: each event name a rule or panel selects is
# emitted by a call site of the patched tree. scripts/robustmq_series_check.py
# has the list.
#
#   scripts/robustmq-series-check.sh [--report | --report-all]
#     (RMQ_SNAPSHOT: see scripts/lib/robustmq-common.sh; --report prints each
#     alert with the call sites, file:line, that can make it fire)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/lib/robustmq-common.sh
. "$repo/scripts/lib/robustmq-common.sh"
for tool in promtool gofmt rustfmt node; do
  command -v "$tool" >/dev/null || { echo "series-check: $tool missing; run .ci/install-tools" >&2; exit 2; }
done
# shellcheck source=scripts/lib/jsonnet.sh
. "$repo/scripts/lib/jsonnet.sh"
python3 -c 'import yaml' 2>/dev/null || { echo "series-check: Python's yaml missing; run .ci/install-tools" >&2; exit 2; }

work=$(mktemp -d /tmp/robustmq-series.XXXXXX)
trap 'rm -rf "$work"' EXIT
rmq_extract "$work"
# The grafana files as mixin/robustmq-grafana.jsonnet renders them.
mkdir -p "$work/render/grafana"
"$JSONNET" -J "$repo/mixin" -S -m "$work/render" "$repo/mixin/robustmq-grafana.jsonnet" >/dev/null
python3 "$repo/scripts/robustmq_series_check.py" "$repo" "$work/robustmq" "$work/render" "$@"
