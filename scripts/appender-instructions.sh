#!/usr/bin/env bash
# Instructions the appender counter adds per written line, counted by
# callgrind against the unwrapped writer in the same run: same binary, same
# input, same count whatever else the machine does. Prints a markdown table
# on stdout, progress on stderr.
#
#   scripts/appender-instructions.sh [--lines N]
#
# Each case of benches/appender_instructions.rs runs at N and 3N lines (N
# defaults to 20000); instructions per line = (Ir(3N) - Ir(N)) / 2N, which
# cancels start-up, warm-up and exit. "Added" is counted minus plain.
set -euo pipefail
shopt -s inherit_errexit

usage() {
  echo "usage: scripts/appender-instructions.sh [--lines N]" >&2
  exit 2
}

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/callgrind.sh
. "$root/scripts/lib/callgrind.sh"
n=20000
while [ $# -gt 0 ]; do
  case "$1" in
    --lines) [ $# -ge 2 ] || usage; n=$2; shift 2 ;;
    *) usage ;;
  esac
done
case "$n" in '' | *[!0-9]*) usage ;; esac
[ "$n" -gt 0 ] || usage

callgrind_require appender-instructions.sh valgrind jq cargo

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "building benches/appender_instructions.rs" >&2
exe=$(callgrind_bench_exe appender-instructions.sh "$root" appender_instructions "$(callgrind_target_dir "$root")")

# Total instructions of one run of case $1 with $2 lines.
ir() { callgrind_ir appender-instructions.sh "$work/callgrind.$1.$2" "$exe" "$1" "$2"; }

declare -A per
for c in write_plain write_counted fmt_plain fmt_counted; do
  echo "callgrind: $c at $n and $((3 * n)) lines" >&2
  low=$(ir "$c" "$n")
  high=$(ir "$c" $((3 * n)))
  per[$c]=$(per_unit "$low" "$high" "$n")
done

sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
rev=$(callgrind_rev "$root" src Cargo.toml dev/Cargo.toml benches/appender_instructions.rs)
echo "## Instructions per written line (callgrind, N = $n and $((3 * n)) lines)"
echo
echo "Library at $rev; $(rustc -V); $(valgrind --version)."
echo
echo "| path | plain: instr/line | counted: instr/line | added by the counter |"
echo "|---|---:|---:|---:|"
echo "| \`write_all\` of a 123-byte line (\`writer\`, e.g. inside non_blocking) | ${per[write_plain]} | ${per[write_counted]} | $(sub "${per[write_counted]}" "${per[write_plain]}") |"
echo "| fmt layer, one info event with five fields (\`make_writer\`) | ${per[fmt_plain]} | ${per[fmt_counted]} | $(sub "${per[fmt_counted]}" "${per[fmt_plain]}") |"
