#!/usr/bin/env bash
# Instructions per event of a LineLimit in front of a fmt layer, against the
# same fmt layer writing the line without it, counted by callgrind in one run
# of one binary (benches/instructions.rs). Prints a markdown table on stdout,
# progress on stderr.
#
#   scripts/line-limit-instructions.sh [--events N] [--keep DIR]
#
# Each (layer, event) runs at N and 3N events (N defaults to 20000);
# instructions per event = (Ir(3N) - Ir(N)) / 2N, which cancels start-up,
# warm-up and exit. The goal (issue 32): `fmt_limited` within 3% of `fmt`.
set -euo pipefail
shopt -s inherit_errexit

usage() {
  echo "usage: scripts/line-limit-instructions.sh [--events N] [--keep DIR]" >&2
  exit 2
}

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/callgrind.sh
. "$root/scripts/lib/callgrind.sh"
n=20000
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --events) [ $# -ge 2 ] || usage; n=$2; shift 2 ;;
    --keep) [ $# -ge 2 ] || usage; keep=$2; shift 2 ;;
    *) usage ;;
  esac
done
case "$n" in '' | *[!0-9]*) usage ;; esac
[ "$n" -gt 0 ] || usage

callgrind_require line-limit-instructions.sh valgrind jq cargo

layers=(registry fmt fmt_limited fmt_suppressed)
events=(structured six_field)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "building benches/instructions.rs in $root" >&2
exe=$(callgrind_bench_exe line-limit-instructions.sh "$root" instructions "$(callgrind_target_dir "$root")")

declare -A per
for event in "${events[@]}"; do
  for layer in "${layers[@]}"; do
    echo "callgrind: $layer $event at $n and $((3 * n)) events" >&2
    low=$(callgrind_ir line-limit-instructions.sh "$work/callgrind.$layer.$event.$n" "$exe" "$layer" "$event" "$n")
    high=$(callgrind_ir line-limit-instructions.sh "$work/callgrind.$layer.$event.$((3 * n))" "$exe" "$layer" "$event" $((3 * n)))
    per[$layer.$event]=$(per_unit "$low" "$high" "$n")
  done
done
callgrind_keep "$work" "$keep"
head_rev=$(callgrind_rev "$root" src Cargo.toml dev/Cargo.toml benches/instructions.rs)
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

echo "## The line limit: instructions per event (callgrind, N = $n and $((3 * n)) events)"
echo
echo "Library at $head_rev; $(rustc -V); $(valgrind --version)."
echo
echo "| layer | structured: instr/event | six_field: instr/event |"
echo "|---|---:|---:|"
for layer in "${layers[@]}"; do
  echo "| $layer | ${per[$layer.structured]} | ${per[$layer.six_field]} |"
done
echo
echo "| event | fmt | fmt_limited | limit's cost | limited / fmt | goal <= 1.03 | suppressed line / fmt |"
echo "|---|---:|---:|---:|---:|---|---:|"
for event in "${events[@]}"; do
  fmt=${per[fmt.$event]}
  limited=${per[fmt_limited.$event]}
  ratio=$(calc "%.4f" "$limited / $fmt")
  verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.03 ? "PASS" : "FAIL") }')
  echo "| $event | $fmt | $limited | $(calc "%.1f" "$limited - $fmt") | $ratio | $verdict | $(calc "%.4f" "${per[fmt_suppressed.$event]} / $fmt") |"
done
