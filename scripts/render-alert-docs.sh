#!/usr/bin/env bash
# Writes docs/alerts.md from mixin/ (mixin/alerts-doc.jsonnet): the alert and
# recording-rule tables, so no table of alerts is kept by hand.
# --check: fail, without writing, when the committed page differs (CI's doc step).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/jsonnet.sh
. scripts/lib/jsonnet.sh
rendered=$("$JSONNET" -J mixin -S mixin/alerts-doc.jsonnet)
if [ "${1:-}" = --check ]; then
  if [ "$rendered" != "$(cat docs/alerts.md)" ]; then
    echo "docs/alerts.md differs from mixin/: run \`bash scripts/render-alert-docs.sh\` and commit it" >&2
    exit 1
  fi
else
  printf '%s\n' "$rendered" > docs/alerts.md
fi
