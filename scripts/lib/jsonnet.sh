# Sourced by the scripts that render mixin/: sets JSONNET to go-jsonnet
# (PyPI pup-go-jsonnet, pinned in scripts/lib/install.sh and installed into
# /opt/go-jsonnet by .ci/install-tools), or fails saying how to get it.
# Not Debian's C++ jsonnet 0.18: on this 2-core machine it took 58 s of CPU
# for mixin/render.jsonnet, 34 s for mixin/robustmq-grafana.jsonnet and 192 s
# for mixin/alerts-doc.jsonnet, where go-jsonnet 0.21 takes 5.2 s, 2.0 s and
# 0.4 s (user time, /usr/bin/time, 2026-12-06).
JSONNET="${JSONNET:-/opt/go-jsonnet/bin/jsonnet}"
if [ ! -x "$JSONNET" ]; then
  echo "$0: go-jsonnet is missing at $JSONNET: run \`bash .ci/install-tools\` (or set JSONNET to a go-jsonnet binary)" >&2
  exit 1
fi
