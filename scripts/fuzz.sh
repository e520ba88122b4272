#!/usr/bin/env bash
# Runs cargo-fuzz targets for a bounded time:  scripts/fuzz.sh TARGET... SECONDS
# Builds them only:                             scripts/fuzz.sh --build TARGET...
# Targets are the [[bin]] entries of fuzz/Cargo.toml; seeds are fuzz/corpus/TARGET/;
# extra cargo-fuzz flags for one target go in fuzz/options/TARGET (one line).
# (committed, never written to: new inputs go to a scratch folder). A crash
# leaves its input in fuzz/artifacts/TARGET/ and exits non-zero.
# Needs the nightly toolchain; installs cargo-fuzz when it is missing.
#
# The targets are built one after the other (they share their dependencies),
# then run side by side: a libFuzzer run is one thread, so on CI's two cores
# three 30-second runs end in about 45 s instead of 93 s one after the other
# (.ci/run; 2026-12-06). Each run's output is printed whole when all are done.
set -euo pipefail
cd "$(dirname "$0")/.."

build_only=0
if [ "${1:-}" = --build ]; then
  build_only=1
  shift
  set -- "$@" 1
fi
if [ $# -lt 2 ]; then
  echo "usage: scripts/fuzz.sh TARGET... SECONDS, or scripts/fuzz.sh --build TARGET..." >&2
  exit 2
fi
secs=${*: -1}
set -- "${@:1:$#-1}"
case "$secs" in
  '' | *[!0-9]* | 0)
    echo "fuzz: SECONDS must be a whole number above 0, not '$secs'" >&2
    exit 2
    ;;
esac
known=$(sed -n '/^\[\[bin\]\]/,/^path/ s/^name = "\(.*\)"/\1/p' fuzz/Cargo.toml)
for target in "$@"; do
  if ! grep -qx "$target" <<<"$known"; then
    echo "fuzz: no target '$target'; targets: $(echo $known)" >&2
    exit 2
  fi
done
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: the nightly toolchain is missing; install it with: rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz is missing; installing it (cargo install cargo-fuzz --locked)" >&2
  if ! cargo install cargo-fuzz --locked; then
    echo "fuzz: could not install cargo-fuzz; install it by hand: cargo install cargo-fuzz --locked" >&2
    exit 1
  fi
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd fuzz
options_of() {
  options=()
  if [ -f "options/$1" ]; then
    read -r -a options <"options/$1"
  fi
}
for target in "$@"; do
  mkdir -p "corpus/$target" "$scratch/$target"
  options_of "$target"
  cargo +nightly fuzz build "${options[@]}" "$target"
done
[ $build_only -eq 0 ] || exit 0
pids=()
for target in "$@"; do
  options_of "$target"
  cargo +nightly fuzz run "${options[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$secs" -timeout=20 -print_final_stats=1 >"$scratch/$target.log" 2>&1 &
  pids+=($!)
done
targets=("$@")
failed=()
for i in "${!pids[@]}"; do
  target=${targets[$i]}
  status=0
  wait "${pids[$i]}" || status=$?
  echo "fuzz: $target (exit $status)"
  cat "$scratch/$target.log"
  [ $status -eq 0 ] || failed+=("$target")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
