#!/usr/bin/env bash
# Renders mixin/ into the committed alerts/, dashboards/, deploy/kubernetes/ and docs/alerts.md
# files. Run it after changing anything under mixin/, then commit the result;
# tests/live/mixin.rs fails while a committed file differs from its rendering.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/jsonnet.sh
. scripts/lib/jsonnet.sh
"$JSONNET" -J mixin -S -m . mixin/render.jsonnet
bash scripts/render-alert-docs.sh
