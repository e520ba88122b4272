#!/usr/bin/env bash
# Regenerates RobustMQ pull request 08 (integrations/robustmq/08-*) after a
# change to mixin/: applies the pull requests before it to a fresh snapshot,
# applies 08, writes mixin/robustmq-grafana.jsonnet's rendering over its
# grafana files, amends its one commit (sign-off and author kept) and writes
# the patch again in place. The series check (scripts/robustmq-series-check.sh)
# fails until this has run after any mixin change that reaches grafana/.
#
#   scripts/robustmq-regen-grafana.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/lib/robustmq-common.sh
. "$repo/scripts/lib/robustmq-common.sh"
# shellcheck source=scripts/lib/jsonnet.sh
. "$repo/scripts/lib/jsonnet.sh"
pr=$(ls -d "$repo"/integrations/robustmq/08-*/)
patches=("$pr"*.patch)
[ ${#patches[@]} -eq 1 ] || { echo "regen-grafana: $pr has ${#patches[@]} patches, expected one" >&2; exit 1; }
work=$(mktemp -d /tmp/robustmq-regen.XXXXXX)
trap 'rm -rf "$work"' EXIT
rmq_extract "$work"
tree="$work/robustmq"
bash "$repo/scripts/robustmq-apply.sh" "$tree" 07 >/dev/null
rmq_git -C "$tree" am -q "${patches[0]}"
"$JSONNET" -J "$repo/mixin" -S -m "$tree" "$repo/mixin/robustmq-grafana.jsonnet" >/dev/null
if git -C "$tree" diff --quiet; then
  echo "regen-grafana: 08 already carries the mixin's rendering"
  exit 0
fi
git -C "$tree" diff --stat
rmq_git -C "$tree" commit -q -a --amend --no-edit
rm "${patches[0]}"
rmq_git -C "$tree" format-patch -q -1 -o "$pr"
echo "regen-grafana: wrote $(ls "$pr"*.patch)"
