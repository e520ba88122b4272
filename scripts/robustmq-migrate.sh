#!/usr/bin/env bash
# Migrates a RobustMQ tree to the log standard end to end and proves it still
# compiles: robustmq-log-lint check (before), suggest, fix, check (after), then
# `cargo check --workspace --all-targets` and RobustMQ's own common-base (and broker-server) lib tests
# on the rewritten tree. Prints the before/after check summaries.
#
#   scripts/robustmq-migrate.sh [RMQ_DIR]
#
# RMQ_DIR is rewritten in place: give it a copy. Without it, the snapshot
# (RMQ_SNAPSHOT; the default is in scripts/lib/robustmq-common.sh) is
# extracted into WORK_DIR (default a new temporary folder).
#
# Environment: LINT (a built robustmq-log-lint; default: build it in release),
# CARGO_TARGET_DIR (for RobustMQ's build; keep it outside the tree),
# SKIP_CARGO=1 (the lint part only), CHECK_TIMEOUT (seconds, default 7200).
# The names file, fix listing and cargo logs go to WORK_DIR.
#
# Exit status: 0 when the fixed tree checks and its tests pass, 1 otherwise.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK_DIR:-$(mktemp -d /tmp/robustmq-migrate.XXXXXX)}
mkdir -p "$work"
say() { echo "migrate: $*"; }

if [ $# -gt 1 ]; then
  echo "usage: $0 [RMQ_DIR]" >&2
  exit 2
fi
if [ $# -eq 1 ]; then
  dir=$1
  if [ ! -d "$dir" ]; then
    echo "migrate: $dir is not a directory" >&2
    exit 2
  fi
else
  # shellcheck source=scripts/lib/robustmq-common.sh
  . "$repo/scripts/lib/robustmq-common.sh"
  snapshot=$(rmq_snapshot) || { echo "migrate: no RMQ_DIR given" >&2; exit 2; }
  say "extracting $snapshot into $work"
  tar -xzf "$snapshot" -C "$work"
  dir=$work/robustmq
fi
dir=$(cd "$dir" && pwd)

if [ -z "${LINT:-}" ]; then
  # This repository's own target dir: CARGO_TARGET_DIR is RobustMQ's.
  (cd "$repo" && CARGO_TARGET_DIR="$repo/target" cargo build --quiet --release -p robustmq-log-lint)
  LINT=$repo/target/release/robustmq-log-lint
fi

# `check` exits 1 on findings; here its summary is what counts.
summary() { "$LINT" -q "$dir" | tail -n 1 || true; }
before=$(summary)
say "suggest"
"$LINT" suggest "$dir" --out "$work/names.toml" >"$work/suggest.stdout" 2>"$work/suggest.stderr"
cat "$work/suggest.stdout"
say "fix"
fix_status=0
"$LINT" fix "$dir" --names "$work/names.toml" >"$work/fix.out" || fix_status=$?
tail -n 1 "$work/fix.out"
if [ "$fix_status" -gt 1 ]; then
  echo "migrate: fix failed (exit $fix_status), see $work/fix.out" >&2
  exit 1
fi
# Calls fix listed instead of rewriting: the reviewer's list.
grep 'not rewritten (' "$work/fix.out" | head -n 20 || true
after=$(summary)
"$LINT" --format json -q "$dir" >"$work/check-after.json" || true

status=0
if [ "${SKIP_CARGO:-0}" != 1 ]; then
  say "cargo check --workspace --all-targets in $dir (log: $work/cargo-check.log)"
  t0=$(date +%s)
  # ort-sys (search-engine, llm-engine) downloads a prebuilt ONNX Runtime
  # unless ORT_LIB_LOCATION names one; a check links nothing, so an empty
  # directory serves and the check needs no network. The same one as
  # scripts/robustmq-e2e.sh's, so a shared target dir keeps its ort-sys.
  # shellcheck source=scripts/lib/robustmq-target.sh
  . "$repo/scripts/lib/robustmq-target.sh"
  rmq_target="${CARGO_TARGET_DIR:-$dir/target}"
  rmq_target_for_tree migrate "$rmq_target" "$dir"
  ort_none="$rmq_target/ort-none"
  mkdir -p "$ort_none"
  if (cd "$dir" && ORT_LIB_LOCATION="$ort_none" timeout "${CHECK_TIMEOUT:-7200}" cargo check --workspace --all-targets --message-format short) >"$work/cargo-check.log" 2>&1; then
    check_result=ok
  else
    check_result=FAILED
    status=1
  fi
  t1=$(date +%s)
  errors=$(grep -c '^error' "$work/cargo-check.log" || true)
  warnings=$(grep -cE '^[^ ]+:[0-9]+:[0-9]+: warning' "$work/cargo-check.log" || true)
  say "cargo check: $check_result, $errors error lines, $warnings warnings, in $((t1 - t0)) s"
  if [ -d "$dir/src/common/base" ]; then
    # With broker-server in the same invocation the dependencies get the
    # binary's features, so they are the ones a broker build (or
    # scripts/robustmq-e2e.sh) left in CARGO_TARGET_DIR, not a second set.
    say "cargo test -p common-base -p broker-server --lib (log: $work/common-base-tests.log)"
    t0=$(date +%s)
    if (cd "$dir" && timeout "${CHECK_TIMEOUT:-7200}" cargo test -p common-base -p broker-server --lib) >"$work/common-base-tests.log" 2>&1; then
      tests_result=ok
    else
      tests_result=FAILED
      status=1
    fi
    t1=$(date +%s)
    say "common-base and broker-server lib tests: $tests_result ($(grep -h '^test result' "$work/common-base-tests.log" | awk '{p+=$4; f+=$6} END {print p+0 " passed, " f+0 " failed"}')) in $((t1 - t0)) s"
  else
    say "no src/common/base in $dir: RobustMQ's common-base tests skipped"
  fi
fi

echo "before: $before"
echo "after:  $after"
cat "$work/suggest.stdout"
exit "$status"
