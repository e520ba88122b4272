# Sourced by scripts/instructions.sh and scripts/appender-instructions.sh:
# instruction counts with callgrind, the same whatever else the machine does.

# callgrind_ir WHO OUT CMD...: the total instructions (callgrind Ir) of one
# run of CMD, its profile kept in OUT; WHO names the script in errors.
callgrind_ir() {
  local who=$1 out=$2
  shift 2
  if ! valgrind --tool=callgrind --callgrind-out-file="$out" "$@" 2>"$out.log"; then
    echo "$who: '$*' failed under callgrind:" >&2
    tail -20 "$out.log" >&2
    exit 1
  fi
  local total
  total=$(awk '$1 == "summary:" || $1 == "totals:" { print $2; exit }' "$out")
  if [ -z "$total" ] || [ "$total" -le 0 ]; then
    echo "$who: no instruction total in $out" >&2
    exit 1
  fi
  echo "$total"
}

# per_unit LOW HIGH N: instructions per unit from runs at N and 3N units,
# (Ir(3N) - Ir(N)) / 2N, which cancels start-up, warm-up and exit.
per_unit() {
  awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (b - a) / (2 * n) }'
}
