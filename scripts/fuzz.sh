#!/usr/bin/env bash
# Runs one cargo-fuzz target for a bounded time:  scripts/fuzz.sh TARGET SECONDS
# Targets are the [[bin]] entries of fuzz/Cargo.toml; seeds are fuzz/corpus/TARGET/;
# extra cargo-fuzz flags for one target go in fuzz/options/TARGET (one line).
# (committed, never written to: new inputs go to a scratch folder). A crash
# leaves its input in fuzz/artifacts/TARGET/ and exits non-zero.
# Needs the nightly toolchain; installs cargo-fuzz when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 2 ]; then
  echo "usage: scripts/fuzz.sh TARGET SECONDS" >&2
  exit 2
fi
target=$1
secs=$2
case "$secs" in
  '' | *[!0-9]*)
    echo "fuzz: SECONDS must be a whole number, not '$secs'" >&2
    exit 2
    ;;
esac
targets=$(sed -n '/^\[\[bin\]\]/,/^path/ s/^name = "\(.*\)"/\1/p' fuzz/Cargo.toml)
if ! grep -qx "$target" <<<"$targets"; then
  echo "fuzz: no target '$target'; targets: $(echo $targets)" >&2
  exit 2
fi
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

mkdir -p "fuzz/corpus/$target"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd fuzz
# fuzz/options/TARGET, if present, holds extra `cargo fuzz run` flags for that target.
options=()
if [ -f "options/$target" ]; then
  read -r -a options <"options/$target"
fi
# -timeout: one input running longer than this is a hang, reported like a crash.
cargo +nightly fuzz run "${options[@]}" "$target" "$scratch" "corpus/$target" -- \
  -max_total_time="$secs" -timeout=20 -print_final_stats=1
