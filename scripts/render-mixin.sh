#!/usr/bin/env bash
# Renders mixin/ into the committed alerts/, dashboards/, deploy/kubernetes/ and docs/alerts.md
# files. Run it after changing anything under mixin/, then commit the result;
# tests/live/mixin.rs fails while a committed file differs from its rendering.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v jsonnet >/dev/null || { echo "jsonnet missing: run \`bash .ci/install-tools\` (Debian package jsonnet)" >&2; exit 1; }
jsonnet -J mixin -S -m . mixin/render.jsonnet
bash scripts/render-alert-docs.sh
