#!/usr/bin/env bash
# Applies the RobustMQ patch series (integrations/robustmq/*.patch) to a
# RobustMQ tree at 8bd49dc59 with `git am`; a plain copy of the tree becomes a
# git repository first. A tree that already has the series is left as it is.
#
#   scripts/robustmq-apply.sh RMQ_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
rmq="${1:?usage: robustmq-apply.sh RMQ_DIR}"
cd "$rmq"
[ -f Cargo.toml ] && [ -d src/common/base ] || { echo "apply: $rmq is not a RobustMQ tree" >&2; exit 2; }
export GIT_AUTHOR_NAME=e2e GIT_AUTHOR_EMAIL=e2e@invalid GIT_COMMITTER_NAME=e2e GIT_COMMITTER_EMAIL=e2e@invalid
if [ ! -d .git ]; then
  git init -q
  git add -A
  git commit -qm "RobustMQ 8bd49dc59"
fi
patches=("$here"/integrations/robustmq/*.patch)
# git mailinfo unfolds the Subject header and strips its [PATCH n/m] prefix.
first=$(git mailinfo /dev/null /dev/null <"${patches[0]}" | sed -n 's/^Subject: //p')
# (grep without -q: a pipe closed early would fail the pipeline under pipefail)
if git log --format=%s | grep -xF "$first" >/dev/null; then
  echo "apply: the series is already in $rmq"
  exit 0
fi
git am -q --whitespace=error-all "${patches[@]}"
echo "apply: ${#patches[@]} patches applied to $rmq"
