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
  mixin (RENDER_DIR, rendered by the shell script), byte for byte;
- every alert and panel can fire on the patched tree: each event and service
  name that a rule, alert, panel or dashboard variable selects (of grafana/ in
  the tree, and of this repository's alerts/ and dashboards/) is emitted by a
  tracing call under the tree's src/ (`event = "x"`, the field the crate reads;
  a call without one emits `unstructured`, and `overflow` is what the crate's
  caps emit), and each alert or panel over robustmq_log_events_total has call
  sites whose (level, service, event) pass the selectors on its way down to
  the counter. Negative matchers name nothing that must exist.

  RMQ_TREE RENDER_DIR [--report | --report-all] prints each alert of grafana/
  with the call sites (file:line) that can make it fire.
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


# ---------------------------------------------------------------------------
# Every alert and panel can fire on the patched tree: the event (and service)
# names the rules and dashboards select are emitted by RobustMQ's call sites.

LEVELS = ("error", "warn", "info", "debug", "trace")
# The values the crate itself writes (docs/log-format.md): `unstructured` is the
# event of every call without an event field (emitted by each unmigrated call
# site, which the scan below lists as such), `overflow` the event or service of
# whatever passes a cap (any call site can be folded into it).
CAP = "overflow"
MACRO = re.compile(r"(?<![\w:])(?:tracing::)?(error|warn|info|debug|trace)!\s*\(")


def balanced(text, start):
    """The end of the parenthesised group opening at text[start] ('('), string and
    char literals skipped; -1 when it does not close."""
    depth, i, n = 0, start, len(text)
    while i < n:
        ch = text[i]
        if ch == '"' or (ch == "r" and re.match(r'r#*"', text[i:i + 8]) and not (text[i - 1].isalnum() or text[i - 1] == "_")):
            if ch == "r":
                hashes = re.match(r"r(#*)\"", text[i:]).group(1)
                end = text.find('"' + hashes, i + len(hashes) + 2)
                if end < 0:
                    return -1
                i = end + 1 + len(hashes)
                continue
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif ch == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                i += len(m.group(0))
                continue
        elif ch == "/" and text[i:i + 2] == "//":
            i = text.find("\n", i)
            if i < 0:
                return -1
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def top_level_args(body):
    """The macro's arguments, split at commas outside brackets and strings."""
    args, depth, cur, i = [], 0, [], 0
    while i < len(body):
        ch = body[i]
        if ch == '"':
            j = i + 1
            while j < len(body) and body[j] != '"':
                j += 2 if body[j] == "\\" else 1
            cur.append(body[i:j + 1])
            i = j + 1
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    if "".join(cur).strip():
        args.append("".join(cur).strip())
    return args


def crate_services(repo):
    """The `preset = "robustmq"` table, (target prefix, service), from its one
    source, ROBUSTMQ_SERVICES in src/config.rs; and the default service."""
    text = open(os.path.join(repo, "src/config.rs"), encoding="utf-8").read()
    table = re.search(r"pub const ROBUSTMQ_SERVICES[^=]*=\s*\[(.*?)\];", text, re.S)
    default = re.search(r'default_service:\s*"([^"]+)"', text)
    if not table or not default:
        fail("src/config.rs: no ROBUSTMQ_SERVICES table or default_service: the event check cannot name services")
    pairs = re.findall(r'\("([^"]+)",\s*"([^"]+)"\)', table.group(1))
    return sorted(pairs, key=lambda p: -len(p[0])), default.group(1)


def service_of(target, services, default):
    for prefix, service in services:
        if target == prefix or target.startswith(prefix + "::"):
            return service
    return default


def crate_name(tree, path, cache):
    d = os.path.dirname(path)
    while d.startswith(tree) and d != tree:
        if d not in cache:
            toml = os.path.join(d, "Cargo.toml")
            cache[d] = None
            if os.path.isfile(toml):
                cache[d] = (tomllib.load(open(toml, "rb")).get("package") or {}).get("name")
        if cache[d]:
            return cache[d].replace("-", "_")
        d = os.path.dirname(d)
    return None


def call_sites(tree, repo):
    """Every tracing macro call under the tree's src/, as dicts of file, line,
    level, service (the preset's, from the crate's target or a literal `target:`)
    and event (the literal `event = "..."` field, `unstructured` without one)."""
    services, default = crate_services(repo)
    sites, dynamic, cache = [], [], {}
    for path in sorted(glob.glob(os.path.join(tree, "src/**/*.rs"), recursive=True)):
        text = open(path, encoding="utf-8", errors="replace").read()
        rel = os.path.relpath(path, tree)
        crate = crate_name(tree, path, cache)
        for m in MACRO.finditer(text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            if text[line_start:m.start()].lstrip().startswith("//"):
                continue
            end = balanced(text, m.end() - 1)
            if end < 0 or crate is None:
                continue
            line = text.count("\n", 0, m.start()) + 1
            args = top_level_args(text[m.end():end])
            target, event, service = crate, "unstructured", None
            for arg in args:
                t = re.fullmatch(r'target\s*:\s*"([^"]+)"', arg)
                if t:
                    target = t.group(1)
                f = re.fullmatch(r'(event|service)\s*=\s*(.+)', arg, re.S)
                if f:
                    lit = re.fullmatch(r'"([^"\\]*)"', f.group(2).strip())
                    if f.group(1) == "service":
                        service = lit.group(1) if lit else None
                    elif lit:
                        event = lit.group(1)
                    else:
                        event = None
                        dynamic.append(f"{rel}:{line}: event = {f.group(2).strip()}")
            if event is None:
                continue
            sites.append({
                "where": f"{rel}:{line}",
                "level": m.group(1),
                "service": service or service_of(target, services, default),
                "event": event,
            })
    if not sites:
        fail(f"no tracing call found under {tree}/src: the event check read nothing")
    return sites, dynamic


# A small PromQL parser: enough of the grammar for the mixin's rules and the
# dashboards' queries (Grafana's $variables included), to follow each alert and
# panel down to the raw counters whose series can make it fire.
TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<range>\[[^\]]*\])
  | (?P<num>\d+(?:\.\d+)?(?:e[+-]?\d+)?[smhdwy]?\b)
  | (?P<var>\$\{[^}]*\}|\$\w+)
  | (?P<ident>[A-Za-z_:][\w:]*)
  | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^<>=(){},@])
""", re.X)
AGGREGATIONS = {"sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group", "limitk"}
BINARY = [("or",), ("and", "unless"), ("==", "!=", ">", "<", ">=", "<="), ("+", "-"), ("*", "/", "%", "atan2"), ("^",)]


class Query:
    def __init__(self, text):
        self.text = text
        self.toks = []
        pos = 0
        while pos < len(text):
            m = TOKEN.match(text, pos)
            if not m:
                raise ValueError(f"cannot read {text[pos:pos + 20]!r}")
            pos = m.end()
            if m.lastgroup != "ws":
                self.toks.append((m.lastgroup, m.group()))
        self.i = 0

    def peek(self, k=0):
        return self.toks[self.i + k] if self.i + k < len(self.toks) else (None, None)

    def take(self, want=None):
        tok = self.peek()
        if want is not None and tok[1] != want:
            raise ValueError(f"expected {want!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self):
        node = self.expr(0)
        if self.i != len(self.toks):
            raise ValueError(f"unexpected {self.peek()[1]!r}")
        return node

    def labels(self):
        self.take("(")
        while self.peek()[1] != ")":
            self.take()
        self.take(")")

    def expr(self, level):
        if level == len(BINARY):
            return self.unary()
        lhs = self.expr(level + 1)
        while self.peek()[1] in BINARY[level]:
            op = self.take()[1]
            if self.peek()[1] == "bool":
                self.take()
            if self.peek()[1] in ("on", "ignoring"):
                self.take()
                self.labels()
            if self.peek()[1] in ("group_left", "group_right"):
                self.take()
                if self.peek()[1] == "(":
                    self.labels()
            rhs = self.expr(level + 1) if op != "^" else self.expr(level)
            lhs = ("binary", op, lhs, rhs)
        return lhs

    def unary(self):
        if self.peek()[1] in ("-", "+"):
            self.take()
            return ("binary", "*", ("number",), self.unary())
        node = self.primary()
        while True:
            kind, tok = self.peek()
            if kind == "range":
                self.take()
            elif tok == "offset":
                self.take()
                self.take()
            elif tok == "@":
                self.take()
                self.take()
            else:
                return node

    def matchers(self):
        self.take("{")
        out = []
        while self.peek()[1] != "}":
            label = self.take()[1]
            op = self.take()[1]
            value = self.take()[1][1:-1]
            out.append((label, op, value.encode().decode("unicode_escape")))
            if self.peek()[1] == ",":
                self.take()
        self.take("}")
        return out

    def primary(self):
        kind, tok = self.peek()
        if kind in ("num", "var"):
            self.take()
            return ("number",)
        if kind == "str":
            self.take()
            return ("string",)
        if tok == "(":
            self.take()
            node = self.expr(0)
            self.take(")")
            return node
        if tok == "{":
            ms = self.matchers()
            name = next((v for l, o, v in ms if l == "__name__"), None)
            return ("selector", name, [m for m in ms if m[0] != "__name__"],
                    next((o for l, o, v in ms if l == "__name__"), "="))
        if kind == "ident":
            self.take()
            if tok in AGGREGATIONS:
                if self.peek()[1] in ("by", "without"):
                    self.take()
                    self.labels()
                self.take("(")
                args = [self.expr(0)]
                while self.peek()[1] == ",":
                    self.take()
                    args.append(self.expr(0))
                self.take(")")
                if self.peek()[1] in ("by", "without"):
                    self.take()
                    self.labels()
                # topk(k, v), quantile(q, v): the vector is the last argument.
                return ("call", tok, [args[-1]])
            if self.peek()[1] == "(":
                self.take()
                args = []
                while self.peek()[1] != ")":
                    args.append(self.expr(0))
                    if self.peek()[1] == ",":
                        self.take()
                self.take(")")
                # label_values(v, label), label_replace(v, ...): the vector is first.
                return ("call", tok, [a for a in args if a[0] not in ("string", "number")][:1])
            ms = self.matchers() if self.peek()[1] == "{" else []
            return ("selector", tok, ms, "=")
        raise ValueError(f"unexpected {tok!r}")


def is_vector(node):
    return node[0] in ("selector", "call", "binary") and not (
        node[0] == "binary" and not is_vector(node[2]) and not is_vector(node[3]))


def trigger_paths(node, records, seen=()):
    """The raw series whose rise can make `node` rise, as (metric, matchers) paths:
    through records to the counters, following what a value comes from: both
    sides of `or` and `+`, the left side of a filter or ratio (`>`, `and`,
    `unless`, `/`: the right side is a threshold, a gate or a denominator)."""
    kind = node[0]
    if kind in ("number", "string"):
        return []
    if kind == "call":
        return [p for a in node[2] for p in trigger_paths(a, records, seen)]
    if kind == "binary":
        op, lhs, rhs = node[1:]
        if op in ("or", "+"):
            return trigger_paths(lhs, records, seen) + trigger_paths(rhs, records, seen)
        if not is_vector(lhs):
            return trigger_paths(rhs, records, seen)
        return trigger_paths(lhs, records, seen)
    _, name, ms, name_op = node
    names = [n for n in records if re.fullmatch(name, n)] if name_op == "=~" else [name]
    paths = []
    for n in names:
        if n in records and n not in seen:
            for expr in records[n]:
                paths += [(metric, ms + inner) for metric, inner in trigger_paths(expr, records, seen + (n,))]
        else:
            paths.append((n, ms))
    return paths


def label_matches(value, op, want):
    if "$" in want:  # a Grafana variable: whatever the user picks
        return True
    if op == "=":
        return value == want
    if op == "!=":
        return value != want
    ok = re.fullmatch(want, value) is not None
    return ok if op == "=~" else not ok


def site_matches(site, matchers):
    return all(label_matches(site[l], o, v) for l, o, v in matchers if l in ("level", "service", "event"))


def positive_names(matchers, label):
    """The literal names a selector asks for (`=` or the alternatives of `=~`);
    negative matchers name nothing that must exist."""
    out = []
    for l, op, v in matchers:
        if l == label and op in ("=", "=~") and "$" not in v:
            alts = v.split("|") if op == "=~" else [v]
            out += [a for a in alts if re.fullmatch(r"[\w.-]+", a)]
    return out


def selectors(node):
    if node[0] == "selector":
        yield node
    elif node[0] == "call":
        for a in node[2]:
            yield from selectors(a)
    elif node[0] == "binary":
        yield from selectors(node[2])
        yield from selectors(node[3])


def parse_query(where, text):
    try:
        return Query(text).parse()
    except (ValueError, IndexError) as e:
        fail(f"{where}: cannot parse the query ({e}): {text!r}")


def queries_of(rules_files, dashboard_files):
    """(file name, what, kind, parsed query) for every rule and alert of the rule files and
    every query and variable of the dashboards; and the records by name."""
    items, records = [], {}
    for f in rules_files:
        for group in (yaml.safe_load(open(f, encoding="utf-8")) or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                expr = parse_query(f"{f}: {rule.get('record') or rule.get('alert')}", rule["expr"])
                if "record" in rule:
                    records.setdefault(rule["record"], []).append(expr)
                    items.append((os.path.basename(f), f"record {rule['record']}", "record", expr))
                else:
                    items.append((os.path.basename(f), f"alert {rule['alert']} ({rule.get('labels', {}).get('severity', '?')})", "alert", expr))
    for f in dashboard_files:
        d = json.load(open(f, encoding="utf-8"))

        def walk(panels):
            for p in panels:
                yield p
                yield from walk(p.get("panels") or [])
        for p in walk(d.get("panels") or []):
            for t in p.get("targets") or []:
                ds = (t.get("datasource") or p.get("datasource") or {})
                if isinstance(ds, dict) and ds.get("type") not in (None, "prometheus"):
                    continue
                if t.get("expr"):
                    items.append((os.path.basename(f), f"panel {d.get('title')!r} / {p.get('title')!r}", "panel",
                                  parse_query(f"{f}: {p.get('title')}", t["expr"])))
        for v in (d.get("templating") or {}).get("list") or []:
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            if v.get("type") == "query" and q:
                items.append((os.path.basename(f), f"variable {d.get('title')!r} / ${v.get('name')}", "variable",
                              parse_query(f"{f}: ${v.get('name')}", q)))
    return items, records


def check_event_names(repo, tree, rulesets):
    """Fails on an event or service name that a rule, alert, panel or variable
    selects and no call site emits, and on an alert or panel over the log
    counters that no call site can make fire. Returns the report."""
    sites, dynamic = call_sites(tree, repo)
    events = {s["event"] for s in sites} | {CAP}
    services = {s["service"] for s in sites} | {CAP}
    # The crate's own series: a call past a cap, counted under service="overflow"
    # (max_services) or event="overflow" (max_events_per_service).
    cap_sites = [dict(s, service=CAP, where=f"{s['where']} past max_services") for s in sites] + \
        [dict(s, event=CAP, where=f"{s['where']} past max_events_per_service") for s in sites]
    report = []
    for label, (rules_files, dashboard_files) in rulesets.items():
        items, records = queries_of(rules_files, dashboard_files)
        if not any(kind == "alert" for _, _, kind, _ in items):
            fail(f"{label}: no alert read: the event check read nothing")
        for source, what, kind, node in items:
            for sel in selectors(node):
                for name in positive_names(sel[2], "event"):
                    if name not in events:
                        fail(f"{label}: {what} selects event=\"{name}\", which no call site of the patched tree emits "
                             f"(no `event = \"{name}\"` in a tracing call under src/)")
                for name in positive_names(sel[2], "service"):
                    if name not in services:
                        fail(f"{label}: {what} selects service=\"{name}\", which no crate of the patched tree logs as")
            if kind not in ("alert", "panel"):
                continue
            every = trigger_paths(node, records)
            paths = [m for metric, m in every if metric == "robustmq_log_events_total"]
            if not paths:
                if kind == "alert" and label == "grafana" and source.startswith("robustmq-log-"):
                    report.append((what, sorted({metric for metric, _ in every}), [], [], []))
                continue
            hit = [s for s in sites if any(site_matches(s, m) for m in paths)]
            if not hit:
                hit = [s for s in cap_sites if any(site_matches(s, m) for m in paths)]
            if not hit:
                fail(f"{label}: {what} reads robustmq_log_events_total through {len(paths)} path(s), "
                     f"and no call site of the patched tree passes their selectors: it can never fire")
            if kind == "alert" and label == "grafana" and source.startswith("robustmq-log-"):
                # The services it cannot see: call sites at its levels and services
                # whose event the event matchers leave out (not a failure: the name
                # cap leaves unstructured out on purpose).
                relaxed = [[m for m in ms if m[0] != "event"] for ms in paths]
                seen = {s["service"] for s in hit}
                blind = sorted({s["service"] for s in sites if s["service"] not in seen
                                and any(site_matches(s, m) for m in relaxed)})
                report.append((what, ["robustmq_log_events_total"], paths, hit, blind))
    return sites, dynamic, report


def print_report(sites, dynamic, report, full):
    """Each alert of the patched tree's rules, the selectors its trigger paths
    carry, and the call sites that pass them: by service and level, each event
    name with its file:line (unstructured ones: the first three, all with full)."""
    structured = [s for s in sites if s["event"] != "unstructured"]
    print(f"events: {len(sites)} tracing calls under src/ of the patched tree, {len(structured)} with an event "
          f"field ({len({s['event'] for s in structured})} names), {len(sites) - len(structured)} without "
          f"(event=\"unstructured\"); {len(dynamic)} with a non-literal event")
    for line in dynamic:
        print(f"  non-literal: {line}")
    for what, metrics, paths, hit, blind in report:
        if not paths:
            print(f"\n{what}: reads no log event counter, only {', '.join(metrics)}")
            continue
        keys = sorted({'%s%s"%s"' % m for ms in paths for m in ms if m[0] in ("level", "service", "event") and "$" not in m[2]})
        print(f"\n{what}: {len(hit)} call sites; selectors on its paths to robustmq_log_events_total: {', '.join(keys)}")
        if blind:
            print(f"  leaves out every call site of: {', '.join(blind)} (their events do not pass its event matchers)")
        caps = sorted({s["where"].rsplit(" past ", 1)[1] for s in hit if " past " in s["where"]})
        if caps:
            print(f"  only through the caps: any of the {len(hit)} call sites once past {' or '.join(caps)}")
            continue
        groups = {}
        for s in hit:
            groups.setdefault((s["service"], s["level"]), {}).setdefault(s["event"], []).append(s["where"])
        for (service, level), by_event in sorted(groups.items()):
            n = sum(len(v) for v in by_event.values())
            print(f"  {service} {level} ({n}):")
            for event, where in sorted(by_event.items()):
                shown = where if full or event != "unstructured" or len(where) <= 3 else where[:3] + [f"... {len(where) - 3} more"]
                print(f"    {event} ({len(where)}): {', '.join(shown)}")

def main():
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    repo, tree, render_dir = [a for a in sys.argv[1:] if not a.startswith("--")]
    if set(flags) - {"--report", "--report-all"}:
        fail(f"unknown flag {flags}: --report (the alerts and the call sites that make them fire), --report-all (every call site)")
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
    grafana = os.path.join(tree, "grafana")
    rulesets = {
        "grafana": ([f for f in sorted(glob.glob(os.path.join(grafana, "*.yml")))
                     if ("rules" in f or "alerts" in f)],
                    sorted(glob.glob(os.path.join(grafana, "*.json")))),
        "alerts/": (sorted(glob.glob(os.path.join(repo, "alerts", "*.yml"))),
                    sorted(glob.glob(os.path.join(repo, "dashboards", "*.json")))),
    }
    sites, dynamic, report = check_event_names(repo, tree, rulesets)
    print(f"series-check: every event and service name that the rules, alerts, panels and variables of grafana/ "
          f"and of alerts/ and dashboards/ select is emitted by a call site of the patched tree, and each alert "
          f"or panel over robustmq_log_events_total has call sites that make it fire ({len(report)} alerts in the "
          f"log rules of grafana/, {sum(1 for r in report if r[2])} of them over the event counter)")
    if flags:
        print_report(sites, dynamic, report, "--report-all" in flags)
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
