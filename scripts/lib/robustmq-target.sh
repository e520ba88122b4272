# Sourced by scripts/robustmq-e2e.sh and scripts/robustmq-migrate.sh: one
# cargo target dir shared by RobustMQ trees at different paths.
#
# RobustMQ's protocol/build.rs reads `env!("CARGO_MANIFEST_DIR")`, so the
# tree's path is compiled into the build script. Cargo's fingerprints of a
# workspace member do not depend on where the workspace lies, and a tar
# extraction keeps the files' old mtimes, so a target dir last used by a tree
# at another path keeps that binary, which then runs protoc on the old path:
# "protoc failed: Could not make proto path relative: /tmp/<old>/...". Seen on
# 2026-12-02 when the e2e's temporary tree of the run before was gone.

# rmq_target_for_tree WHO TARGET_DIR TREE: TARGET_DIR is about to build TREE.
# When it last built a tree at another path (or has builds and no record of
# their tree), the build scripts that compile their path in are forgotten, so
# cargo rebuilds them (and the crates that depend on them) for this path.
# WHO names the script in messages.
rmq_target_for_tree() {
  local who=$1 target=$2 tree=$3 marker last build pkg
  marker="$target/.robustmq-tree"
  mkdir -p "$target"
  last=$(cat "$marker" 2>/dev/null || true)
  if [ -z "$last" ] && compgen -G "$target/*/.fingerprint" >/dev/null; then
    last="an unrecorded tree"
  fi
  if [ -n "$last" ] && [ "$last" != "$tree" ]; then
    while IFS= read -r build; do
      pkg=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$(dirname "$build")/Cargo.toml" | head -n 1)
      [ -n "$pkg" ] || continue
      echo "$who: $target last built $last; $pkg's build script compiles its tree's path in, so it is rebuilt for $tree"
      rm -rf "$target"/*/build/"$pkg"-* "$target"/*/.fingerprint/"$pkg"-*
    done < <(grep -rl --include=build.rs 'env!("CARGO_MANIFEST_DIR")' "$tree/src" 2>/dev/null || true)
  fi
  echo "$tree" >"$marker"
}
