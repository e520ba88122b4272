#!/usr/bin/env bash
# Instructions per event of each layer, counted by callgrind: deterministic
# where wall-clock time on a shared machine is not (same binary, same input,
# same count). Prints a markdown table on stdout, progress on stderr.
#
#   scripts/instructions.sh [--baseline REV] [--events N] [--keep DIR]
#
# Each (layer, event) of benches/instructions.rs runs at N and 3N events (N
# defaults to 20000); instructions per event = (Ir(3N) - Ir(N)) / 2N, which
# cancels start-up, warm-up and exit. "Added" is that minus the bare
# registry's on the same event.
#
# --baseline REV also builds the same bench file against the library at git
# revision REV (a temporary worktree with the current bench file, Cargo.toml
# bench entry and Cargo.lock copied in, so both use the same dependency
# versions, toolchain and profile) and adds REV's `registry` and `ours` to
# the table.
#
# --keep DIR keeps the callgrind profiles there, to see where the
# instructions go: `callgrind_annotate DIR/callgrind.ours.six_field.60000`.
set -euo pipefail
shopt -s inherit_errexit

usage() {
  echo "usage: scripts/instructions.sh [--baseline REV] [--events N] [--keep DIR]" >&2
  exit 2
}

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/callgrind.sh
. "$root/scripts/lib/callgrind.sh"
n=20000
baseline=""
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --baseline) [ $# -ge 2 ] || usage; baseline=$2; shift 2 ;;
    --events) [ $# -ge 2 ] || usage; n=$2; shift 2 ;;
    --keep) [ $# -ge 2 ] || usage; keep=$2; shift 2 ;;
    *) usage ;;
  esac
done
case "$n" in '' | *[!0-9]*) usage ;; esac
[ "$n" -gt 0 ] || usage

callgrind_require instructions.sh valgrind jq cargo git

layers=(registry floor ours naive json)
events=(structured six_field)

work=$(mktemp -d)
base_wt=""
cleanup() {
  if [ -n "$base_wt" ]; then
    git -C "$root" worktree remove --force "$base_wt" 2>/dev/null || true
    git -C "$root" worktree prune
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ -n "$baseline" ]; then
  rev=$(git -C "$root" rev-parse --verify --quiet "$baseline^{commit}") || {
    echo "instructions.sh: '$baseline' is not a commit in $root" >&2
    exit 1
  }
  short=$(git -C "$root" rev-parse --short "$rev")
fi

target_dir=$(callgrind_target_dir "$root")
# Builds benches/instructions.rs in the checkout $1 and prints the binary's path.
build() { callgrind_bench_exe instructions.sh "$1" instructions "$target_dir"; }

# Total instructions of one run: binary, layer, event, events, and a tag
# told apart in the kept profiles' names.
ir() { callgrind_ir instructions.sh "$work/callgrind$5.$2.$3.$4" "$1" "$2" "$3" "$4"; }

# Instructions per event of binary $1 for layer $2 and event $3 (tag $4).
per_event() {
  local low high
  low=$(ir "$1" "$2" "$3" "$n" "${4:-}")
  high=$(ir "$1" "$2" "$3" $((3 * n)) "${4:-}")
  per_unit "$low" "$high" "$n"
}

echo "building benches/instructions.rs in $root" >&2
exe=$(build "$root")
declare -A per
for event in "${events[@]}"; do
  for layer in "${layers[@]}"; do
    echo "callgrind: $layer $event at $n and $((3 * n)) events" >&2
    per[$layer.$event]=$(per_event "$exe" "$layer" "$event")
  done
done

if [ -n "$baseline" ]; then
  # A fixed path per revision: cargo keys its build artifacts by the package
  # path, so a rerun reuses them instead of piling up copies in target/.
  base_wt="${TMPDIR:-/tmp}/robustmq-log-metrics-instructions-$short"
  git -C "$root" worktree remove --force "$base_wt" 2>/dev/null || true
  rm -rf "$base_wt"
  git -C "$root" worktree prune
  echo "baseline: worktree of $short at $base_wt" >&2
  git -C "$root" worktree add --quiet --detach "$base_wt" "$rev"
  mkdir -p "$base_wt/benches"
  cp "$root/benches/instructions.rs" "$base_wt/benches/instructions.rs"
  mkdir -p "$base_wt/benches/baselines"
  cp "$root/benches/baselines/naive.rs" "$base_wt/benches/baselines/naive.rs"
  # The bench is declared in dev/Cargo.toml since the tests, benches and examples
  # moved there; a revision from before declares it in Cargo.toml, or not at all.
  if ! grep -qs '^name = "instructions"' "$base_wt/Cargo.toml" "$base_wt/dev/Cargo.toml"; then
    printf '\n[[bench]]\nname = "instructions"\nharness = false\n' >>"$base_wt/Cargo.toml"
  fi
  if [ -f "$root/Cargo.lock" ]; then
    cp "$root/Cargo.lock" "$base_wt/Cargo.lock"
  fi
  echo "building benches/instructions.rs against $short" >&2
  base_exe=$(build "$base_wt")
  for event in "${events[@]}"; do
    for layer in registry ours; do
      echo "callgrind: $layer $event at $short" >&2
      per[base.$layer.$event]=$(per_event "$base_exe" "$layer" "$event" ".$short")
    done
  done
fi

callgrind_keep "$work" "$keep"
head_rev=$(callgrind_rev "$root" src Cargo.toml dev/Cargo.toml benches/instructions.rs benches/baselines)

sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "n/a"; else printf "%.2f", a / b }'; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b ? "PASS" : "FAIL") }'; }
# A run's total moves by a few hundred instructions whatever N is (start-up
# randomness): about 0.01 per event at N = 20000, more at small N.
tolerance=0.5

echo "## Instructions per event (callgrind, N = $n and $((3 * n)) events)"
echo
echo "Library at $head_rev; $(rustc -V); $(valgrind --version)."
echo
echo "| layer | structured: instr/event | structured: added | six_field: instr/event | six_field: added |"
echo "|---|---:|---:|---:|---:|"
rows=("${layers[@]}")
for layer in "${rows[@]}"; do
  line="| $layer"
  for event in "${events[@]}"; do
    v=${per[$layer.$event]}
    line="$line | $v | $(sub "$v" "${per[registry.$event]}")"
  done
  echo "$line |"
done
if [ -n "$baseline" ]; then
  for layer in registry ours; do
    line="| $layer at $short (baseline)"
    for event in "${events[@]}"; do
      v=${per[base.$layer.$event]}
      line="$line | $v | $(sub "$v" "${per[base.registry.$event]}")"
    done
    echo "$line |"
  done
fi
echo
echo "Added = instructions/event minus the bare registry's on the same event (the baseline's"
echo "against its own registry run). Targets: ours adds no more than the baseline (PASS within"
echo "$tolerance instruction/event); on six_field ours adds at most 1.5x the floor."
echo
if [ -n "$baseline" ]; then
  echo "| event | ours added | ours added at $short | ours / $short | floor added | ours / floor |"
  echo "|---|---:|---:|---:|---:|---:|"
else
  echo "| event | ours added | floor added | ours / floor |"
  echo "|---|---:|---:|---:|"
fi
for event in "${events[@]}"; do
  ours=$(sub "${per[ours.$event]}" "${per[registry.$event]}")
  floor=$(sub "${per[floor.$event]}" "${per[registry.$event]}")
  ratio=$(div "$ours" "$floor")
  if [ "$event" = six_field ]; then
    ratio="$ratio ($(verdict "$ratio" 1.5) <= 1.5)"
  fi
  if [ -n "$baseline" ]; then
    base=$(sub "${per[base.ours.$event]}" "${per[base.registry.$event]}")
    echo "| $event | $ours | $base | $(div "$ours" "$base") ($(verdict "$ours" "$(sub "$base" "-$tolerance")")) | $floor | $ratio |"
  else
    echo "| $event | $ours | $floor | $ratio |"
  fi
done
