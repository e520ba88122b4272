# Sourced by scripts/instructions.sh, scripts/appender-instructions.sh and
# scripts/line-limit-instructions.sh: instruction counts with callgrind, the
# same whatever else the machine does.

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

# callgrind_require WHO TOOL...: stops naming the first TOOL not on PATH.
callgrind_require() {
  local who=$1 tool
  shift
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null; then
      echo "$who: '$tool' is missing (Debian: apt-get install -y valgrind jq)" >&2
      exit 1
    fi
  done
}

# callgrind_target_dir ROOT: the cargo target dir of the checkout ROOT (a
# baseline worktree builds into it too, so a rerun reuses its artifacts).
callgrind_target_dir() {
  (cd "$1" && cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
}

# callgrind_bench_exe WHO DIR BENCH TARGET_DIR: builds bench BENCH of the
# checkout DIR into TARGET_DIR in the bench profile (release) with debug info
# forced on, so that callgrind_annotate can name lines whatever the
# checkout's Cargo.toml says, and prints the binary's path.
callgrind_bench_exe() {
  local who=$1 dir=$2 bench=$3 target=$4 exe
  exe=$(cd "$dir" && CARGO_TARGET_DIR="$target" CARGO_PROFILE_BENCH_DEBUG=true \
    cargo bench --no-run --bench "$bench" --message-format=json-render-diagnostics |
    jq -r --arg b "$bench" 'select(.reason == "compiler-artifact" and .target.name == $b and .executable != null) | .executable')
  if [ -z "$exe" ] || [ ! -x "$exe" ]; then
    echo "$who: building bench $bench in $dir produced no binary" >&2
    exit 1
  fi
  echo "$exe"
}

# callgrind_keep WORK KEEP: copies the profiles in WORK to KEEP (when KEEP is
# not empty), for callgrind_annotate.
callgrind_keep() {
  [ -n "$2" ] || return 0
  mkdir -p "$2"
  cp "$1"/callgrind* "$2"/
  echo "callgrind profiles kept in $2" >&2
}

# callgrind_rev ROOT PATH...: the short commit of ROOT, with "+uncommitted"
# when any PATH (what the measured binary is built from) has changes.
callgrind_rev() {
  local root=$1 rev
  shift
  rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [ -n "$(git -C "$root" status --porcelain -- "$@" 2>/dev/null)" ]; then
    rev="$rev+uncommitted"
  fi
  echo "$rev"
}
