#!/usr/bin/env bash
# RobustMQ's own gates on the tree with every pull request of
# integrations/robustmq/ applied, each compared with the same gate on the
# unpatched snapshot: a patched failure counts only when the base passes.
# Heavy (it builds RobustMQ; hours cold on 2 cores): CI runs
# scripts/robustmq-series-check.sh instead.
#
#   scripts/robustmq-gates.sh [GATE...]
#
# Gates, cheap first (default: all, in this order):
#   fmt      cargo fmt --all -- --check                      (code-style.yml)
#   hawkeye  hawkeye check, RobustMQ's licenserc.toml         (license.yaml)
#   typos    typos on the files the pull requests touch      (_typos.toml)
#   deny     cargo deny check licenses                       (deny.toml)
#   logging  ours: common-base's logging module alone, its tests and clippy,
#            at the state after each pull request that changes it
#   clippy   cargo clippy --workspace --all-targets -- -D warnings
#   clippy-touched
#            the same lints on the crates the pull requests touch only
#            (-p each): their features unify as nextest's do, so it reuses
#            that build's dependencies, where --workspace unifies every
#            crate's features and builds librocksdb-sys's C++ once more
#            (the gate took 35 minutes on 2 cores: docs/robustmq.md). Not in the default list.
#   nextest  cargo nextest run on every crate the pull requests touch
#   mqtt     the MQTT integration suite: the 3-node cluster of RobustMQ's
#            scripts/cluster.sh on loopback, then the nextest command that
#            `scripts/ig-test.sh mqtt` runs (with --no-fail-fast, so that
#            base and patched are counted test by test)
#
# One tree, RMQ_WORK_DIR/robustmq (default ~/.cache/robustmq-log-metrics/gates),
# switched between the base commit and the patched branch with git, so the
# shared cargo target dir RMQ_TARGET_DIR (default
# ~/.cache/robustmq-log-metrics/target) rebuilds only what differs. The
# patched tree builds this crate as `cargo package` packs it
# (scripts/lib/robustmq-common.sh). Logs and RMQ_WORK_DIR/results.tsv
# (gate, tree, result, seconds, detail; appended by every run, the last
# result of a gate counts) stay; the comparison is printed last.
#
# The gate tools are installed once, pinned, with `cargo install --locked`.
# The MQTT gate needs RobustMQ's ports (1883, 1228, 58080, ...) free: it stops
# with an error when one is taken, and stops only the processes it started,
# by pid (SIGTERM, then SIGKILL after 30 s).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/lib/robustmq-common.sh
. "$repo/scripts/lib/robustmq-common.sh"
# shellcheck source=scripts/lib/install.sh
. "$repo/scripts/lib/install.sh"
# shellcheck source=scripts/lib/robustmq-target.sh
. "$repo/scripts/lib/robustmq-target.sh"

all_gates=(fmt hawkeye typos deny logging clippy nextest mqtt)
known_gates=("${all_gates[@]}" clippy-touched) # clippy-touched: on request only
gates=("$@")
[ ${#gates[@]} -gt 0 ] || gates=("${all_gates[@]}")
for g in "${gates[@]}"; do
  [[ " ${known_gates[*]} " == *" $g "* ]] || { echo "gates: unknown gate $g (${known_gates[*]})" >&2; exit 2; }
done

work="${RMQ_WORK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/robustmq-log-metrics/gates}"
export CARGO_TARGET_DIR="${RMQ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/robustmq-log-metrics/target}"
export CARGO_TERM_COLOR=never
toolchain=1.97.0
tree="$work/robustmq"
logs="$work/logs"
results="$work/results.tsv"
mkdir -p "$logs"
say() { echo "gates: $(date -u +%H:%M:%S) $*"; }

# The gate tools, one pin each (installed for the gates asked for).
# hawkeye 5: RobustMQ's license.yaml runs korandoru/hawkeye@v5, and hawkeye 7
# rejects its licenserc.toml ("unknown field `excludes`").
declare -A tool_version=([hawkeye]=5.9.1 [typos-cli]=1.52.0 [cargo-deny]=0.20.2 [cargo-nextest]=0.9.143)
declare -A tool_bin=([hawkeye]=hawkeye [typos-cli]=typos [cargo-deny]=cargo-deny [cargo-nextest]=cargo-nextest)

install_tools() {
  apt_install "${RMQ_BUILD_PACKAGES[@]}" golang-go
  rustup toolchain list | grep -q "^$toolchain" ||
    rustup toolchain install "$toolchain" --profile minimal --component clippy,rustfmt
  rustup component add --toolchain "$toolchain" clippy rustfmt >/dev/null 2>&1
  local crate bin version g
  for g in "${gates[@]}"; do
    case "$g" in
      hawkeye) crate=hawkeye ;;
      typos) crate=typos-cli ;;
      deny) crate=cargo-deny ;;
      nextest | mqtt) crate=cargo-nextest ;;
      *) continue ;;
    esac
    bin=${tool_bin[$crate]} version=${tool_version[$crate]}
    if "$bin" --version 2>/dev/null | grep -qF "$version"; then continue; fi
    say "cargo install --locked $crate@$version"
    CARGO_TARGET_DIR="$work/tool-build" cargo install --locked --quiet "$crate@$version"
  done
}

# The tree: base = the snapshot's commit, patched = a branch with every pull
# request. use_tree base|patched switches it.
# The patched branch is made again when the pull requests changed.
prepare_tree() {
  local sum
  sum=$(cat "$repo"/integrations/robustmq/[0-9][0-9]-*/*.patch | sha256sum | cut -d' ' -f1)
  if [ ! -d "$tree/.git" ] || ! git -C "$tree" rev-parse -q --verify base >/dev/null; then
    say "extracting the snapshot into $tree"
    rmq_extract "$work"
    git -C "$tree" branch -q base
  elif git -C "$tree" rev-parse -q --verify patched >/dev/null &&
    [ "$(cat "$work/patched.sha256" 2>/dev/null)" = "$sum" ]; then
    return
  fi
  say "applying the pull requests on a new branch patched"
  git -C "$tree" checkout -q -f base
  git -C "$tree" branch -q -D patched 2>/dev/null || true
  git -C "$tree" checkout -q -b patched
  bash "$repo/scripts/robustmq-apply.sh" "$tree" >"$logs/apply.log"
  echo "$sum" >"$work/patched.sha256"
  # The patched tree's earlier results are void; the base's still hold.
  if [ -f "$results" ]; then
    awk -F'\t' '$2 != "patched"' "$results" >"$results.new"
    mv "$results.new" "$results"
  fi
}
current=""
use_tree() {
  [ "$current" = "$1" ] && return
  git -C "$tree" checkout -q -f "$1"
  # The MQTT gate's cluster data of an earlier run is no file of RobustMQ.
  rm -rf "$tree/data"
  if [ "$1" = patched ]; then
    rmq_patch_crate "$tree" "$crate"
  fi
  rmq_target_for_tree gates "$CARGO_TARGET_DIR" "$tree" >/dev/null
  current=$1
}

record() { # gate tree result seconds detail
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$results"
  say "$1 on $2: $3 in $4 s ($5)"
}

# nextest_summary LOG: nextest's last "Summary [...] N tests run: ..." line.
nextest_summary() { grep -E '^ *Summary' "$1" | tail -n 1 | sed 's/^ *//'; }

# run_gate GATE TREE CMD...: runs CMD in the tree, logs it, records pass/fail.
run_gate() {
  local gate=$1 which=$2 log t0 status=0
  shift 2
  log="$logs/$gate-$which.log"
  t0=$(date +%s)
  (cd "$tree" && "$@") >"$log" 2>&1 || status=$?
  local result=pass
  [ $status -eq 0 ] || result="fail (exit $status)"
  gate_detail=""
  case "$gate" in
    fmt) gate_detail="files: $(grep '^Diff in' "$log" | sed "s|^Diff in $tree/\(.*\):[0-9]*:\$|\1|" | sort -u | tr '\n' ' ')" ;;
    hawkeye) gate_detail="$(grep -o 'No missing header file has been found\|Found missing header files: .*' "$log" | head -n 1)" ;;
    typos) gate_detail="$(grep -c '^error:' "$log" || true) findings" ;;
    deny) gate_detail="$(grep -c '^error\[' "$log" || true) errors" ;;
    clippy | clippy-touched) gate_detail="$(grep -c '^error' "$log" || true) error lines, $(grep -c '^warning' "$log" || true) warning lines" ;;
    nextest) gate_detail="$(nextest_summary "$log")" ;;
  esac
  record "$gate" "$which" "$result" "$(($(date +%s) - t0))" "${gate_detail:-see $log}"
}

touched_files() { git -C "$tree" -c core.quotePath=false diff --name-only --diff-filter=AM base patched; }
touched_crates() {
  local f dir
  for f in $(touched_files | grep '\.rs$'); do
    dir=$(dirname "$f")
    while [ "$dir" != . ] && [ ! -f "$tree/$dir/Cargo.toml" ]; do dir=$(dirname "$dir"); done
    sed -n 's/^name *= *"\(.*\)"/\1/p' "$tree/$dir/Cargo.toml" | head -n 1
  done | sort -u
}

gate_fmt() { run_gate fmt "$1" cargo "+$toolchain" fmt --all -- --check; }
gate_hawkeye() { run_gate hawkeye "$1" hawkeye check; }
gate_typos() {
  local files=() f
  while IFS= read -r f; do [ -f "$tree/$f" ] && files+=("$f"); done < <(touched_files)
  # Without a file typos would check the whole tree.
  [ ${#files[@]} -gt 0 ] || { record typos "$1" pass 0 "no touched file in this tree"; return; }
  # RobustMQ's _typos.toml has an empty [default.extend-identifiers-re]
  # table, a key typos 1.52 rejects ("unknown key"); the same file without
  # it (--isolated: not the file itself), beside it so that its relative
  # excludes hold, and removed after.
  grep -vxF '[default.extend-identifiers-re]' "$tree/_typos.toml" >"$tree/.typos-gate.toml"
  run_gate typos "$1" typos --isolated --config .typos-gate.toml "${files[@]}"
  rm -f "$tree/.typos-gate.toml"
}
gate_deny() { run_gate deny "$1" cargo "+$toolchain" deny check licenses; }
# run_cargo_gate GATE TREE CARGO_ARGS...: cargo on the tree with RobustMQ's
# toolchain. ort-sys (search-engine, llm-engine) downloads ONNX Runtime
# unless ORT_LIB_LOCATION names one; these gates link nothing of it, so an
# empty dir serves.
run_cargo_gate() {
  local gate=$1 which=$2
  shift 2
  mkdir -p "$CARGO_TARGET_DIR/ort-none"
  run_gate "$gate" "$which" env ORT_LIB_LOCATION="$CARGO_TARGET_DIR/ort-none" cargo "+$toolchain" "$@"
}
gate_clippy() { run_cargo_gate clippy "$1" clippy --workspace --all-targets -- -D warnings; }
gate_clippy-touched() { run_cargo_gate clippy-touched "$1" clippy "${touched_args[@]}" --all-targets -- -D warnings; }
gate_nextest() { run_cargo_gate nextest "$1" nextest run --no-fail-fast "${touched_args[@]}"; }

# Ours, not RobustMQ's: common-base's logging module and LogConfigError
# compiled alone (with stand-ins for the three crate::tools functions it
# imports), its unit tests run and clippy -D warnings, at the state after
# every pull request that changes them. Minutes cold, seconds warm; no
# RobustMQ build. The patched states depend on the packed crate.
gate_logging() {
  local which=$1 dir="$work/logging-check" commits c t0 status=0 log checked=()
  log="$logs/logging-$which.log"
  if [ "$which" = base ]; then
    commits=(base)
  else
    mapfile -t commits < <(git -C "$tree" log --reverse --format=%h base..patched -- \
      src/common/base/src/logging src/common/base/src/error/log_config.rs)
  fi
  mkdir -p "$dir/src"
  cp "$tree/Cargo.lock" "$dir/Cargo.lock" # RobustMQ's versions
  {
    printf '[package]\nname = "logging-check"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[workspace]\n\n'
    printf '[dependencies]\nserde = { version = "1.0", features = ["derive"] }\ntoml = "1.1.2"\n'
    printf 'tracing = "0.1.40"\ntracing-appender = "0.2.0"\nthiserror = "2.0"\n'
    printf 'tracing-subscriber = { version = "0.3.23", default-features = false, features = ["std", "fmt", "ansi", "env-filter", "json"] }\n'
    printf 'console-subscriber = { version = "0.4.1", features = ["grpc-web"] }\n'
    if [ "$which" = patched ]; then
      printf 'robustmq-log-metrics = { version = "0.1", default-features = false, features = ["prometheus-client"] }\n'
      printf '\n[patch.crates-io]\nrobustmq-log-metrics = { path = "%s" }\n' "$crate"
    fi
  } >"$dir/Cargo.toml"
  cat >"$dir/src/lib.rs" <<'RUST'
pub mod error {
    pub mod log_config;
}
pub mod logging;
pub mod tools {
    use std::{fs, path::Path};
    pub fn try_create_fold(fold: impl AsRef<Path>) -> std::io::Result<()> {
        fs::create_dir_all(fold)
    }
    pub fn file_exists(path: impl AsRef<Path>) -> bool {
        path.as_ref().exists()
    }
    pub fn read_file(path: impl AsRef<Path>) -> std::io::Result<String> {
        fs::read_to_string(path)
    }
}
RUST
  t0=$(date +%s)
  : >"$log"
  for c in "${commits[@]}"; do
    rm -rf "$dir/src/logging" "$dir/src/error"
    mkdir -p "$dir/src/error"
    git -C "$tree" archive "$c" src/common/base/src/logging src/common/base/src/error/log_config.rs |
      tar -x -m -C "$dir/src" --strip-components=4 # -m: new mtimes, so cargo rebuilds
    echo "== $c: $(git -C "$tree" log -1 --format=%s "$c")" >>"$log"
    if ! (cd "$dir" && CARGO_TARGET_DIR="$work/logging-check-target" cargo "+$toolchain" test --quiet &&
      CARGO_TARGET_DIR="$work/logging-check-target" cargo "+$toolchain" clippy --quiet --all-targets -- -D warnings) >>"$log" 2>&1; then
      status=1
      checked+=("$c FAILED")
      break
    fi
    checked+=("$c")
  done
  local result=pass
  [ $status -eq 0 ] || result="fail"
  record logging "$which" "$result" "$(($(date +%s) - t0))" "states: ${checked[*]}; $(grep -c '^test result: ok' "$log") test binaries ok"
}

cluster_sid=""
stop_cluster() {
  [ -n "$cluster_sid" ] || return 0
  local pids deadline
  pids=$(ps -o pid= -s "$cluster_sid" 2>/dev/null | tr -s ' \n' ' ' || true)
  if [ -n "${pids// /}" ]; then
    say "stopping the cluster's processes (session $cluster_sid): $pids"
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    deadline=$(($(date +%s) + 30))
    while [ "$(date +%s)" -lt $deadline ] && [ -n "$(ps -o pid= -s "$cluster_sid" 2>/dev/null)" ]; do sleep 1; done
    pids=$(ps -o pid= -s "$cluster_sid" 2>/dev/null | tr -s ' \n' ' ' || true)
    # shellcheck disable=SC2086
    [ -z "${pids// /}" ] || kill -KILL $pids 2>/dev/null || true
  fi
  cluster_sid=""
}
trap stop_cluster EXIT

gate_mqtt() {
  local which=$1 p t0 status=0 log
  log="$logs/mqtt-$which.log"
  # Every port of the three nodes of config/cluster/.
  for p in $(awk '/_port *= *[0-9]+/{print $3}' "$tree"/config/cluster/server-[123].toml | sort -u); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      record mqtt "$which" "not run" 0 "port $p on 127.0.0.1 is taken by a process this script did not start"
      return
    fi
  done
  rm -rf "$tree/data"
  t0=$(date +%s)
  # cluster.sh builds broker-server and cli-command, starts the three nodes
  # with `cargo run ... &` and returns when `cluster status` answers. In a
  # session of its own, so its nodes can be found and stopped by pid.
  # A background job of this (non-interactive) shell is no process group
  # leader, so setsid makes it a session leader in place: its pid is the
  # session id, which the nodes inherit.
  setsid bash -c 'cd "$1" && exec bash scripts/cluster.sh start' cluster "$tree" \
    >"$logs/cluster-$which.log" 2>&1 &
  cluster_sid=$!
  local started=0
  wait "$cluster_sid" || started=$?
  if [ -z "$(ps -o pid= -s "$cluster_sid" 2>/dev/null)" ]; then
    echo "gates: no process left in session $cluster_sid after cluster.sh start" >&2
  fi
  if [ $started -ne 0 ]; then
    record mqtt "$which" "fail (cluster did not start)" "$(($(date +%s) - t0))" "see $logs/cluster-$which.log"
    stop_cluster
    return
  fi
  say "cluster up for $which after $(($(date +%s) - t0)) s"
  # The command of `scripts/ig-test.sh mqtt`, --no-fail-fast for full counts.
  (cd "$tree" && cargo "+$toolchain" nextest run --no-fail-fast \
    --test-threads="$(nproc)" --package robustmq-test --lib --test mod \
    -E 'test(/^mqtt::/)') >"$log" 2>&1 || status=$?
  stop_cluster
  # The tests that failed every try, from nextest's final list, so that the
  # comparison can tell "the same failures" from flaky counts that differ.
  awk '/^ *Summary \[/ { f = 1 } f' "$log" |
    sed -nE 's/^ +(TRY [0-9]+ )?(FAIL|TIMEOUT|SIG[A-Z]+) \[.* robustmq-test::mod ([^ ]+).*/\3/p' |
    sort -u >"$logs/mqtt-$which.failed"
  local result=pass
  [ $status -eq 0 ] || result="fail (exit $status)"
  record mqtt "$which" "$result" "$(($(date +%s) - t0))" "$(nextest_summary "$log")"
}

start=$(date +%s)
say "installing the tools"
install_tools
prepare_tree
say "packing the crate"
crate=$(rmq_package_crate "$work/crate")
mapfile -t crates < <(touched_crates)
say "crates the pull requests touch: ${crates[*]}"
touched_args=()
for c in "${crates[@]}"; do touched_args+=(-p "$c"); done
# Appended, not truncated: gates run in separate invocations add up; the
# summary takes each gate's last result per tree (a new patched branch
# starts a new file).

# Cheap gates on both trees first; then each heavy gate on the base tree and
# on the patched tree, switching the tree as seldom as the order allows.
for g in "${gates[@]}"; do
  case "$g" in
    fmt | hawkeye | typos | deny | logging)
      use_tree base
      "gate_$g" base
      use_tree patched
      "gate_$g" patched
      ;;
  esac
done
heavy=()
for g in "${gates[@]}"; do
  case "$g" in clippy | clippy-touched | nextest | mqtt) heavy+=("$g") ;; esac
done
if [ ${#heavy[@]} -gt 0 ]; then
  # Patched first: its results are the ones asked for; the base run tells
  # which failures are RobustMQ's own. RMQ_GATE_TREES narrows the heavy
  # gates to one tree ("base" or "patched"), e.g. to run them in another
  # order across sessions: results.tsv keeps every tree's last result.
  trees=(patched base)
  case "${RMQ_GATE_TREES:-}" in
    "") ;;
    base | patched) trees=("$RMQ_GATE_TREES") ;;
    *) echo "gates: RMQ_GATE_TREES is base or patched, not ${RMQ_GATE_TREES}" >&2; exit 2 ;;
  esac
  for which in "${trees[@]}"; do
    for g in "${heavy[@]}"; do
      use_tree "$which"
      "gate_$g" "$which"
    done
  done
fi
use_tree patched

say "done in $(($(date +%s) - start)) s; results in $results"
python3 - "$results" "$logs" <<'EOF'
import os
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]


def failed_tests(which):
    """The MQTT suite's tests that failed every try on a tree, or None."""
    path = os.path.join(sys.argv[2], f"mqtt-{which}.failed")
    return open(path).read().split() if os.path.exists(path) else None


mqtt_failed = {which: failed_tests(which) for which in ("base", "patched")}


by = {}
for gate, which, result, secs, detail in rows:
    by.setdefault(gate, {})[which] = (result, secs, detail)
print("| gate | base | patched | counts |")
print("|---|---|---|---|")
bad = 0
for gate, r in by.items():
    b = r.get("base", ("not run", "", ""))
    p = r.get("patched", ("not run", "", ""))
    if p[0].startswith("fail") and b[0] == "pass":
        verdict = "REGRESSION"
        bad += 1
    elif p[0].startswith("fail") and p[2] == b[2]:
        verdict = "fails on the base too, with the same findings"
    elif gate == "mqtt" and p[0].startswith("fail") and b[0].startswith("fail") \
            and mqtt_failed["patched"] is not None and mqtt_failed["patched"] == mqtt_failed["base"]:
        verdict = f"fails on the base too, the same {len(mqtt_failed['base'])} tests: {' '.join(mqtt_failed['base'])}"
    elif p[0].startswith("fail"):
        verdict = "fails on the base too; compare the logs"
    elif p[0] == "pass":
        verdict = "ok"
    else:
        verdict = p[0]
    print(f"| {gate} | {b[0]} ({b[1]} s; {b[2]}) | {p[0]} ({p[1]} s; {p[2]}) | {verdict} |")
sys.exit(1 if bad else 0)
EOF
