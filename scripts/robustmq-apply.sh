#!/usr/bin/env bash
# Applies the RobustMQ pull requests of integrations/robustmq/ (one folder per
# PR, in merge order, each with its `git format-patch` commits) to a RobustMQ
# tree at 8bd49dc59 with `git am`; a plain copy of the tree becomes a git
# repository first. A tree that already has the pull requests is left as it is.
#
#   scripts/robustmq-apply.sh RMQ_DIR [LAST]
#
# LAST (a folder name such as 04-feat-logging-log-metrics-appender, or its
# number 04) stops after that pull request; default: all of them.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/lib/robustmq-common.sh
. "$repo/scripts/lib/robustmq-common.sh"
rmq="${1:?usage: robustmq-apply.sh RMQ_DIR [LAST]}"
last="${2:-}"
cd "$rmq"
[ -f Cargo.toml ] && [ -d src/common/base ] || { echo "apply: $rmq is not a RobustMQ tree" >&2; exit 2; }
if [ ! -d .git ]; then
  git init -q
  git add -A
  GIT_AUTHOR_NAME=robustmq-scratch GIT_AUTHOR_EMAIL=scratch@localhost.invalid \
    rmq_git commit -qm "RobustMQ 8bd49dc59"
fi
mapfile -t prs < <(rmq_prs)
[ ${#prs[@]} -gt 0 ] || { echo "apply: no pull request folder in $repo/integrations/robustmq" >&2; exit 2; }
applied=0
for pr in "${prs[@]}"; do
  patches=("$pr"/*.patch)
  # git mailinfo unfolds the Subject header and strips its [PATCH n/m] prefix.
  first=$(git mailinfo /dev/null /dev/null <"${patches[0]}" | sed -n 's/^Subject: //p')
  # (grep without -q: a pipe closed early would fail the pipeline under pipefail)
  if git log --format=%s | grep -xF "$first" >/dev/null; then
    echo "apply: $(basename "$pr") is already in $rmq"
  else
    rmq_git am -q --whitespace=error-all "${patches[@]}"
    echo "apply: $(basename "$pr"): ${#patches[@]} commit(s)"
    applied=$((applied + 1))
  fi
  name=$(basename "$pr")
  if [ -n "$last" ] && { [ "$name" = "$last" ] || [ "${name%%-*}" = "$last" ]; }; then
    break
  fi
done
echo "apply: $applied pull request(s) applied to $rmq"
