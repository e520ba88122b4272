#!/usr/bin/env python3
"""The checks of scripts/robustmq-series-check.sh on the pull requests of
integrations/robustmq/, applied one by one to a RobustMQ tree at 8bd49dc59
(a git repository whose HEAD is the snapshot). Exits 1 with a message on the
first failure; prints one line per pull request and a summary.

For each pull request, in merge order:
- PR.md: a title that RobustMQ's pr-title-checker.yml accepts, and the
  sections of its .github/pull_request_template.md;
- its commits: one author identity for the whole set, never an address in
  RobustMQ's name, and a Signed-off-by line of that identity in each;
- `git am` applies them, and every file they add or change parses (Rust with
  rustfmt, TOML, JSON, YAML, Prometheus configs and rules with promtool, Go
  with gofmt, VitePress' .mts modules with node); the relative links of the Markdown files they touch resolve.
After the last one:
- every `job` selector of grafana/*.yml and grafana/*.json selects only jobs
  that exist both in grafana/prometheus-config-example.yml and in
  docker/robustmq/monitoring/prometheus.yml;
- every runbook_url is a page of RobustMQ's own tree with that heading;
- no file points at this repository or tells an editor not to edit it;
- the grafana files the pull requests add are the RobustMQ rendering of the
  mixin (RENDER_DIR, rendered by the shell script), byte for byte.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tomllib
import urllib.parse

import yaml

# .github/workflows/pr-title-checker.yml at 8bd49dc59.
TITLE = re.compile(r"^(release|feat|deps|fix|test|refactor|chore|style|docs|perf|build|ci|revert)(\(.*\))?!?:.*")
TEMPLATE_SECTIONS = [
    "## What's changed and what's your intention?",
    "## Checklist",
    "## Refer to a related PR or issue link",
]
RUNBOOK_PREFIX = "https://github.com/robustmq/robustmq/blob/main/"
FORBIDDEN = [
    ("github.com/robustmq/robustmq-log-metrics", "a link to this repository (RobustMQ owns its copy)"),
    ("do not edit", "a banner that sends an editor elsewhere"),
]


def fail(msg):
    print(f"series-check: {msg}", file=sys.stderr)
    sys.exit(1)


def run(args, cwd, **kw):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, **kw)


def git(tree, *args):
    # core.quotePath=false: the Chinese doc names as they are, not octal-quoted.
    r = run(["git", "-c", "core.quotePath=false", *args], tree)
    if r.returncode != 0:
        fail(f"git {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def check_pr_md(pr):
    path = os.path.join(pr, "PR.md")
    if not os.path.isfile(path):
        fail(f"{os.path.basename(pr)} has no PR.md")
    text = open(path, encoding="utf-8").read()
    first = text.splitlines()[0] if text else ""
    if not first.startswith("# "):
        fail(f"{path}: the first line must be '# <title>'")
    title = first[2:].strip()
    if not TITLE.match(title):
        fail(f"{path}: title {title!r} fails RobustMQ's pr-title-checker pattern {TITLE.pattern}")
    for section in TEMPLATE_SECTIONS:
        if section not in text:
            fail(f"{path}: no {section!r} (RobustMQ's pull_request_template.md)")
    if "Contributor License Agreement" not in text:
        fail(f"{path}: the template's licence and CLA line is missing")
    return title


def check_commits(pr, identity):
    """The From: and Signed-off-by: of each patch; returns the identity."""
    patches = sorted(glob.glob(os.path.join(pr, "*.patch")))
    if not patches:
        fail(f"{os.path.basename(pr)} has no .patch file")
    for p in patches:
        head = open(p, encoding="utf-8").read()
        r = subprocess.run(["git", "mailinfo", "/dev/null", "/dev/null"], input=head,
                           capture_output=True, text=True)
        info = dict(line.split(": ", 1) for line in r.stdout.splitlines() if ": " in line)
        author = f"{info.get('Author', '')} <{info.get('Email', '')}>"
        domain = info.get("Email", "").rsplit("@", 1)[-1].lower()
        if "robustmq" in domain:
            fail(f"{p}: author {author} has an address in RobustMQ's name")
        if identity is None:
            identity = author
        elif author != identity:
            fail(f"{p}: author {author}, but the set's author is {identity}: one identity for all")
        if f"Signed-off-by: {identity}" not in head:
            fail(f"{p}: no 'Signed-off-by: {identity}' (RobustMQ asks for the DCO sign-off)")
    return identity, patches


def parse(tree, f):
    """None when f parses, else the error; 'skip' for a kind no parser here reads."""
    path = os.path.join(tree, f)
    if f.endswith(".rs"):
        r = run(["rustfmt", "--edition", "2021", "--emit", "stdout", path], tree)
        return None if r.returncode == 0 else r.stderr[-2000:]
    if f.endswith(".toml"):
        try:
            tomllib.load(open(path, "rb"))
        except Exception as e:  # noqa: BLE001 - any parse error is the finding
            return str(e)
        return None
    if f.endswith(".json"):
        try:
            json.load(open(path, encoding="utf-8"))
        except Exception as e:  # noqa: BLE001
            return str(e)
        return None
    if f.endswith((".yml", ".yaml")):
        try:
            list(yaml.safe_load_all(open(path, encoding="utf-8")))
        except Exception as e:  # noqa: BLE001
            return str(e)
        if f.endswith("prometheus-config-example.yml") or f == "docker/robustmq/monitoring/prometheus.yml":
            r = run(["promtool", "check", "config", "--syntax-only", path], tree)
            return None if r.returncode == 0 else r.stdout + r.stderr
        if f.startswith("grafana/") and ("rules" in f or "alerts" in f):
            r = run(["promtool", "check", "rules", path], tree)
            return None if r.returncode == 0 else r.stdout + r.stderr
        return None
    if f.endswith(".go"):
        r = run(["gofmt", "-l", path], tree)
        if r.returncode != 0:
            return r.stderr
        return f"not gofmt-formatted" if r.stdout.strip() else None
    if f.endswith(".md"):
        return check_md_links(tree, f)
    if f.endswith(".mts"):
        # VitePress' sidebar modules are plain JavaScript in a .mts file:
        # node (20, no TypeScript) parses them as an ES module.
        copy = os.path.join(os.path.dirname(tree), "check.mjs")
        with open(copy, "w", encoding="utf-8") as out:
            out.write(open(path, encoding="utf-8").read())
        r = run(["node", "--check", copy], tree)
        return None if r.returncode == 0 else r.stderr[-2000:]
    return "skip"


LINK = re.compile(r"\]\(([^)\s]+)\)")


def check_md_links(tree, f):
    text = open(os.path.join(tree, f), encoding="utf-8").read()
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        rel = urllib.parse.unquote(target.split("#", 1)[0])
        if not os.path.exists(os.path.normpath(os.path.join(tree, os.path.dirname(f), rel))):
            return f"link {target!r} resolves to no file of the tree"
    return None


def jobs_of(path):
    conf = yaml.safe_load(open(path, encoding="utf-8"))
    return {s["job_name"] for s in conf.get("scrape_configs") or []}


SELECTOR = re.compile(r'job\s*(=~|=|!=|!~)\s*\\*"([^"\\]*)\\*"')


def check_job_selectors(tree):
    example = jobs_of(os.path.join(tree, "grafana/prometheus-config-example.yml"))
    docker = jobs_of(os.path.join(tree, "docker/robustmq/monitoring/prometheus.yml"))
    both = example & docker
    seen = {}
    for path in sorted(glob.glob(os.path.join(tree, "grafana/*.yml")) + glob.glob(os.path.join(tree, "grafana/*.json"))):
        if path.endswith("prometheus-config-example.yml") or path.endswith("docker-compose.monitoring.yml"):
            continue
        # Data links carry their queries URL-encoded.
        text = urllib.parse.unquote(open(path, encoding="utf-8").read())
        for op, value in SELECTOR.findall(text):
            if op in ("!=", "!~"):
                fail(f"{path}: a negative job selector job{op}\"{value}\" selects unknown jobs")
            names = value.split("|") if op == "=~" else [value]
            for name in names:
                if name not in both:
                    fail(f"{os.path.relpath(path, tree)}: job {name!r} is not a job of both "
                         f"grafana/prometheus-config-example.yml {sorted(example)} and "
                         f"docker/robustmq/monitoring/prometheus.yml {sorted(docker)}")
                seen.setdefault(name, set()).add(os.path.relpath(path, tree))
    if not seen:
        fail("no job selector found in grafana/: the check read nothing")
    return {k: sorted(v) for k, v in seen.items()}


def slug(heading):
    # GitHub's anchors: lower case, punctuation dropped, spaces to dashes.
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def check_runbooks(tree):
    urls = set()
    for path in glob.glob(os.path.join(tree, "grafana/*.yml")):
        urls.update(re.findall(r'runbook_url:\s*"?([^"\s]+)"?', open(path, encoding="utf-8").read()))
    if not urls:
        fail("no runbook_url in grafana/*.yml")
    for url in sorted(urls):
        if not url.startswith(RUNBOOK_PREFIX) or "#" not in url:
            fail(f"runbook {url} is not a section of a page in RobustMQ's tree ({RUNBOOK_PREFIX}...#...)")
        page, anchor = url[len(RUNBOOK_PREFIX):].split("#", 1)
        full = os.path.join(tree, page)
        if not os.path.isfile(full):
            fail(f"runbook {url}: {page} is not in the tree")
        anchors = {slug(m) for m in re.findall(r"^#+ (.+)$", open(full, encoding="utf-8").read(), re.M)}
        if anchor not in anchors:
            fail(f"runbook {url}: {page} has no heading with anchor #{anchor}")
    return len(urls)


def check_forbidden(tree, files):
    for f in files:
        path = os.path.join(tree, f)
        if not os.path.isfile(path):
            continue
        text = open(path, encoding="utf-8", errors="replace").read().lower()
        for needle, what in FORBIDDEN:
            if needle in text:
                fail(f"{f} has {what}: {needle!r}")


def check_rendering(tree, render_dir):
    rendered = sorted(glob.glob(os.path.join(render_dir, "grafana", "*")))
    if not rendered:
        fail(f"nothing rendered in {render_dir}/grafana")
    for path in rendered:
        name = os.path.join("grafana", os.path.basename(path))
        mine = os.path.join(tree, name)
        if not os.path.isfile(mine) or open(mine, "rb").read() != open(path, "rb").read():
            fail(f"{name} differs from mixin/robustmq-grafana.jsonnet's rendering: regenerate the grafana pull request")
    return len(rendered)


def numstat(tree, rev_range):
    files, plus, minus, gen = 0, 0, 0, 0
    for line in git(tree, "diff", "--numstat", rev_range).splitlines():
        a, d, f = line.split("\t", 2)
        files += 1
        if a == "-":
            continue
        if f.startswith("grafana/") and f.endswith(".json"):
            gen += int(a) + int(d)
            continue
        plus, minus = plus + int(a), minus + int(d)
    return files, plus, minus, gen


def main():
    repo, tree, render_dir = sys.argv[1:4]
    prs = sorted(d for d in glob.glob(os.path.join(repo, "integrations/robustmq/[0-9][0-9]-*")) if os.path.isdir(d))
    if not prs:
        fail("no pull request folder in integrations/robustmq/")
    identity, all_files, skipped = None, set(), {}
    base = git(tree, "rev-parse", "HEAD").strip()
    env = dict(os.environ, GIT_COMMITTER_NAME="robustmq-scratch", GIT_COMMITTER_EMAIL="scratch@localhost.invalid")
    for pr in prs:
        name = os.path.basename(pr)
        title = check_pr_md(pr)
        identity, patches = check_commits(pr, identity)
        before = git(tree, "rev-parse", "HEAD").strip()
        r = subprocess.run(["git", "am", "-q", "--whitespace=error-all", *patches], cwd=tree,
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            fail(f"{name} does not apply with git am after the pull requests before it:\n{r.stdout}{r.stderr}")
        files = git(tree, "diff", "--name-only", "--diff-filter=AM", before, "HEAD").splitlines()
        parsed = 0
        for f in files:
            err = parse(tree, f)
            if err == "skip":
                skipped.setdefault(os.path.splitext(f)[1] or f, []).append(f)
            elif err:
                fail(f"{name}: {f}: {err}")
            else:
                parsed += 1
        all_files.update(files)
        n, plus, minus, gen = numstat(tree, f"{before}..HEAD")
        extra = f", generated JSON +/-{gen}" if gen else ""
        print(f"series-check: {name}: {title!r}: {len(patches)} commit(s), {n} files, +{plus} -{minus}{extra}; {parsed} parsed")
    check_forbidden(tree, sorted(all_files))
    jobs = check_job_selectors(tree)
    print(f"series-check: job selectors of grafana/ select {sorted(jobs)}, jobs of both Prometheus configs")
    print(f"series-check: {check_runbooks(tree)} runbook links resolve to headings in RobustMQ's tree")
    print(f"series-check: {check_rendering(tree, render_dir)} grafana files equal mixin/robustmq-grafana.jsonnet's rendering")
    if skipped:
        print("series-check: no parser here for: " + "; ".join(f"{k} ({', '.join(v)})" for k, v in sorted(skipped.items())))
    user = run(["git", "config", "user.name"], repo).stdout.strip()
    email = run(["git", "config", "user.email"], repo).stdout.strip()
    if user and email:
        match = "the one" if identity == f"{user} <{email}>" else "NOT the one"
        print(f"series-check: author {identity}, signed off in every commit; {match} git config gives here")
    else:
        print(f"series-check: author {identity}, signed off in every commit (git config has no identity here)")
    n, plus, minus, gen = numstat(tree, f"{base}..HEAD")
    print(f"series-check: {len(prs)} pull requests, {n} files, +{plus} -{minus} (generated JSON +/-{gen} aside)")


if __name__ == "__main__":
    main()
