#!/usr/bin/env bash
# Tests that can fail: each case below breaks the code on purpose (one exact
# edit), runs the tests that claim to guard that behaviour, and requires every
# one of them to fail. A test that still passes with the behaviour broken is
# reported, and the script exits 1.
#
#   scripts/mutants.sh [CASE...]      (default: every case)
#
# It works in a throwaway git worktree of HEAD (the checkout is never edited)
# with its own target dir, target/mutants (a broken build must never be the
# one a later `cargo test` of the checkout finds fresh). The first run builds
# the tests there once; then about 2 minutes per case on 2 cores. Not part of
# scripts/test-all.sh: a broken build per case is too slow for every run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR="$repo/target/mutants"
export CARGO_TERM_COLOR=never

# name | file | exact text | replacement | test targets (cargo test args, ';'
# between runs); no field may hold a '|'.
cases=(
  "first_event_lost|src/cache.rs|        let cell = series.claim_cell();
        cell.increment();|        let cell = series.claim_cell();|--doc -- builder;--test golden;--test reference router::;--test reference endpoint::;--test heavy connection_limit::;--test core stress::;--test soundness"
  "memo_ignores_service|src/cache.rs|            let service_hit = if memo.has_service {|            let service_hit = true;
            let _ = if memo.has_service {|--test soundness"
  "text_value_off_by_one|src/exposition/text.rs|    out.push_str(digits.format(value));|    out.push_str(digits.format(value + 1));|--test golden;--test reference router::;--test reference endpoint::;--test heavy connection_limit::;--test core stress::"
  "newline_not_escaped|src/labels.rs|            '\\n' => out.push_str(\"\\\\n\"),|            '\\n' => out.push('\\n'),|--test golden"
  "collector_value_off_by_one|src/exposition/collector.rs|.encode_counter::<NoLabelSet, u64, u64>(&sample.value, None)?;|.encode_counter::<NoLabelSet, u64, u64>(&(sample.value + 1), None)?;|--features prometheus-client --test golden"
  "lint_scanner_finds_nothing|lint/src/scan.rs|pub(crate) fn scan(file: &syn::File, source: &str, event_field: &str) -> Vec<CallSite> {|pub(crate) fn scan(file: &syn::File, source: &str, event_field: &str) -> Vec<CallSite> {
    if !source.is_empty() {
        return Vec::new();
    }|-p robustmq-log-lint --test lint exit_codes"
  "mixin_comparison_counts_lines|tests/live/mixin.rs|        if committed != *text {|        if committed.lines().count() != text.lines().count() {|--test live mixin::the_comparison_notices_a_hand_edit"
  "client_range_widened|Cargo.toml|prometheus-client = \">=0.23.1, <0.27\"|prometheus-client = \">=0.23.0, <0.27\"|--test live prometheus_client_versions::"
)

wanted=("$@")
for w in "${wanted[@]}"; do
  known=0
  for entry in "${cases[@]}"; do
    [[ $entry == "$w|"* ]] && known=1
  done
  [ "$known" = 1 ] || { echo "mutants: no case named $w" >&2; exit 2; }
done
tree=$(mktemp -d /tmp/robustmq-log-metrics-mutants.XXXXXX)
cleanup() {
  git -C "$repo" worktree remove --force "$tree/wt" >/dev/null 2>&1 || true
  rm -rf "$tree"
}
trap cleanup EXIT
git -C "$repo" worktree add --quiet --detach "$tree/wt" HEAD
cd "$tree/wt"

survivors=0
ran=0
for entry in "${cases[@]}"; do
  IFS='|' read -r -d '' name file old new targets < <(printf '%s\0' "$entry") || true
  if [ ${#wanted[@]} -gt 0 ] && [[ " ${wanted[*]} " != *" $name "* ]]; then
    continue
  fi
  ran=$((ran + 1))
  # The edit must match exactly once, or the case would break nothing.
  OLD="$old" NEW="$new" python3 - "$file" "$name" <<'EOF'
import os, sys
path, name = sys.argv[1], sys.argv[2]
text = open(path).read()
old, new = os.environ["OLD"], os.environ["NEW"]
n = text.count(old)
if n != 1:
    sys.exit(f"mutants: case {name}: the text to break occurs {n} times in {path}, not once")
open(path, "w").write(text.replace(old, new))
EOF
  IFS=';' read -r -a runs <<<"$targets"
  for run in "${runs[@]}"; do
    read -r -a args <<<"$run"
    log="$tree/$name.log"
    if timeout 1800 cargo test --quiet "${args[@]}" >"$log" 2>&1; then
      echo "mutants: $name: cargo test $run PASSED with the behaviour broken (log kept: $CARGO_TARGET_DIR/$name.log)"
      cp "$log" "$CARGO_TARGET_DIR/$name.log"
      survivors=$((survivors + 1))
    elif grep -qE '^error(\[E[0-9]+\])?: ' "$log" && ! grep -q 'test result: FAILED\|panicked' "$log"; then
      echo "mutants: $name: cargo test $run did not build; the case is wrong:" >&2
      grep -E '^error' "$log" | head -5 >&2
      exit 2
    else
      echo "mutants: $name: cargo test $run failed, as it must: $(grep -m1 -E 'panicked at|^test .* FAILED' "$log" | cut -c1-160)"
    fi
  done
  git checkout --quiet -- "$file"
done
if [ "$survivors" -gt 0 ]; then
  echo "mutants: $survivors test run(s) passed with the behaviour broken"
  exit 1
fi
echo "mutants: $ran case(s), every guarding test failed with its behaviour broken"
