# Sourced by the scripts/robustmq-*.sh scripts: where the RobustMQ snapshot
# is, which pull requests integrations/robustmq/ holds, and the crate as
# RobustMQ will consume it. Needs $repo, this repository's root.

# The RobustMQ tree the pull requests are made against (commit 8bd49dc59, a
# tarball whose one top folder is robustmq/). RMQ_SNAPSHOT overrides the
# default, shared/robustmq/ beside the repository's main checkout or beside one
# of its parent folders (for a git worktree, the checkout that holds .git).
rmq_snapshot() {
  local main="$repo" common
  if common=$(git -C "$repo" rev-parse --path-format=absolute --git-common-dir 2>/dev/null); then
    main=$(dirname "$common")
  fi
  local rel=shared/robustmq/robustmq-8bd49dc59.tar.gz snapshot="${RMQ_SNAPSHOT:-}" dir
  if [ -z "$snapshot" ]; then
    # The nearest shared/ beside the checkout or beside one of its parent folders
    # (a CI clone may sit a level deeper than the main checkout).
    snapshot="$main/../$rel"
    dir=$(cd "$main/.." && pwd)
    while [ ! -f "$snapshot" ] && [ "$dir" != / ]; do
      [ -f "$dir/$rel" ] && snapshot="$dir/$rel"
      dir=$(dirname "$dir")
    done
  fi
  if [ ! -f "$snapshot" ]; then
    echo "RobustMQ snapshot not found (no $rel beside the checkout or its parents); set RMQ_SNAPSHOT" >&2
    return 2
  fi
  (cd "$(dirname "$snapshot")" && echo "$PWD/$(basename "$snapshot")")
}

# rmq_extract DIR: a fresh RobustMQ tree at DIR/robustmq, a git repository
# whose one commit is the snapshot (the base the pull requests apply to).
rmq_extract() {
  local dir=$1 snapshot
  snapshot=$(rmq_snapshot) || return 2
  rm -rf "$dir/robustmq"
  mkdir -p "$dir"
  tar -xzf "$snapshot" -C "$dir"
  (
    cd "$dir/robustmq"
    git init -q
    git add -A
    GIT_AUTHOR_NAME=robustmq-scratch GIT_AUTHOR_EMAIL=scratch@localhost.invalid \
      rmq_git commit -qm "RobustMQ 8bd49dc59"
  )
}

# git with a committer for scratch trees: a fresh machine may have no identity.
# `git am` takes each commit's author from its patch.
rmq_git() {
  GIT_COMMITTER_NAME=robustmq-scratch GIT_COMMITTER_EMAIL=scratch@localhost.invalid git "$@"
}

# The pull request folders, in merge order, one per line.
rmq_prs() {
  local d
  for d in "$repo"/integrations/robustmq/[0-9][0-9]-*/; do
    [ -d "$d" ] && echo "${d%/}"
  done
}

# rmq_package_crate OUT: packs this repository's crate with `cargo package`
# (what the registry would serve) and unpacks the .crate into OUT; prints the
# unpacked crate's directory. CRATE_DIR packs another checkout of the crate
# (for example the commit under test); LM_TARGET_DIR is the target dir of that
# build (default: the checkout's own target/).
rmq_package_crate() {
  local out=$1 crate_dir="${CRATE_DIR:-$repo}" target name version
  target="${LM_TARGET_DIR:-$crate_dir/target}"
  name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$crate_dir/Cargo.toml" | head -n 1)
  version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$crate_dir/Cargo.toml" | head -n 1)
  # --no-verify: RobustMQ's build compiles it; --allow-dirty: a working tree
  # under test may have uncommitted changes.
  (cd "$crate_dir" && CARGO_TARGET_DIR="$target" cargo package --quiet --allow-dirty --no-verify -p "$name") >&2
  local new="${out:?}/.new"
  rm -rf "$new"
  mkdir -p "$new"
  tar -xzf "$target/package/$name-$version.crate" -C "$new"
  if [ -d "$out/$name-$version" ] && diff -rq "$new/$name-$version" "$out/$name-$version" >/dev/null; then
    # Unchanged: its files keep their times, so cargo reuses RobustMQ's build.
    rm -rf "$new"
  else
    rm -rf "${out:?}/$name-$version"
    mv "$new/$name-$version" "$out/"
    rm -rf "$new"
    # Every file of a .crate carries one fixed mtime (2006-07-24), and cargo
    # decides whether a path dependency changed by comparing its files' mtimes
    # with its last build: unstamped, a changed crate at the same path is not
    # rebuilt (seen 2026-12-06: the gates compiled RobustMQ against a packing
    # of the crate from hours before, without LineLimit).
    find "$out/$name-$version" -exec touch {} +
  fi
  echo "$out/$name-$version"
}

# rmq_patch_crate TREE CRATE: RobustMQ's workspace builds CRATE (an unpacked
# .crate) for its crates.io dependency robustmq-log-metrics. Never part of a
# pull request: the PR depends on the published version.
rmq_patch_crate() {
  local tree=$1 crate=$2
  if grep -q '^\[patch.crates-io\]' "$tree/Cargo.toml"; then
    sed -i "s|^robustmq-log-metrics = { path = .*|robustmq-log-metrics = { path = \"$crate\" }|" "$tree/Cargo.toml"
  else
    printf '\n[patch.crates-io]\nrobustmq-log-metrics = { path = "%s" }\n' "$crate" >>"$tree/Cargo.toml"
  fi
}
