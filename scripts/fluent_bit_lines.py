#!/usr/bin/env python3
"""What the shipped Fluent Bit (deploy/fluent-bit/fluent-bit.yaml) makes of a broker's console lines.

Fluent Bit is in none of the package registries here, so this reads its definition out of the
shipped ConfigMap (fluent-bit.conf and parsers.conf, never a copy) and applies it the way
Fluent Bit does, stage by stage, to the `log` values the cri parser leaves:

- the tail input's Path and Exclude_Path globs, on container log file names;
- the multiline filter's regex rules (src/multiline/flb_ml_rule.c: a line that matches a
  start_state rule opens a block; a line that matches a rule of the state the last rule named
  is appended with "\\n"; any other line ends the block, and opens the next one if it matches
  a start_state rule, else stands alone);
- the grep filter's Regex rules on the kubernetes metadata (record accessor keys, every rule
  must match);
- the parser filter's parsers in order (json: a JSON object; regex: Onigmo's Ruby syntax, where
  ^ and $ match at line boundaries and (?<name>...) names a group).

scripts/robustmq_e2e.py applies it to the real broker's console output; tests/live/deploy.rs
runs `self-test` (synthetic pods, negative cases, real Rust panics) and `check` on the demo
broker's JSON lines with the panics of deploy/fluent-bit/tests/rust-panics.txt.

    fluent_bit_lines.py self-test
    fluent_bit_lines.py check --lines FILE [--lines FILE ...] [--min-events N]
"""

import argparse
import fnmatch
import json
import os
import re
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFINITION = os.path.join(REPO, "deploy/fluent-bit/fluent-bit.yaml")
LEVELS = ("ERROR", "WARN", "INFO", "DEBUG", "TRACE")
ANSI = "\x1b["


class ShipError(Exception):
    """A line or block that the shipped definition does not ship as it must."""


def sections(text):
    """Fluent Bit's classic format: [SECTION] headers, `key value` lines; keys are
    case-insensitive and may repeat (Parser, Regex, Rule). Returns [(name, [(key, value)])]."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            out.append((line[1:-1].upper(), []))
            continue
        if not out:
            raise ShipError(f"a key outside any section: {line!r}")
        key, _, value = line.partition(" ")
        out[-1][1].append((key.lower(), value.strip()))
    return out


def onigmo(pattern):
    """An Onigmo (Ruby syntax) regex as Python's: named groups, and ^/$ at line boundaries."""
    return re.compile(pattern.replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace("(?P<!", "(?<!"), re.M)


def values(entries, key):
    return [v for k, v in entries if k == key]


def one(entries, key):
    found = values(entries, key)
    if len(found) != 1:
        raise ShipError(f"expected one {key!r}, found {found}")
    return found[0]


class Definition:
    """The shipped pipeline: tail, multiline, grep and parser filters, in their order."""

    def __init__(self, path=DEFINITION):
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        data = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
        conf = sections(data["fluent-bit.conf"])
        parsers = sections(data["parsers.conf"])
        service = next(e for n, e in conf if n == "SERVICE")
        if one(service, "parsers_file") != "parsers.conf":
            raise ShipError("fluent-bit.conf must load parsers.conf")
        tail = [e for n, e in conf if n == "INPUT" and one(e, "name") == "tail"]
        if len(tail) != 1:
            raise ShipError(f"one tail input, not {len(tail)}")
        self.paths = [p.strip() for v in values(tail[0], "path") for p in v.split(",")]
        self.exclude = [p.strip() for v in values(tail[0], "exclude_path") for p in v.split(",")]
        # Skip_Long_Lines drops a line longer than Buffer_Max_Size (default 32k).
        size = (values(tail[0], "buffer_max_size") or ["32k"])[0].lower()
        self.max_line = int(size.rstrip("km")) * {"k": 1024, "m": 1024 * 1024}.get(size[-1], 1)
        self.filters = [(one(e, "name"), e) for n, e in conf if n == "FILTER"]
        names = [n for n, _ in self.filters]
        # Multiline first: it re-emits joined records at the start of the pipeline.
        if names[:1] != ["multiline"]:
            raise ShipError(f"the multiline filter must come first, filters are {names}")
        ml = self.filters[0][1]
        if one(ml, "multiline.key_content") != "log":
            raise ShipError("the multiline filter must join the `log` key")
        ml_names = [p.strip() for p in one(ml, "multiline.parser").split(",")]
        self.multiline = [self._multiline(parsers, n) for n in ml_names]
        self.grep, self.grep_exclude = [], []
        for _, e in (f for f in self.filters if f[0] == "grep"):
            for kind, rules in (("regex", self.grep), ("exclude", self.grep_exclude)):
                for rule in values(e, kind):
                    key, _, pattern = rule.partition(" ")
                    rules.append((key, accessor(key), onigmo(pattern.strip())))
        parser_filters = [e for n, e in self.filters if n == "parser"]
        if len(parser_filters) != 1 or one(parser_filters[0], "key_name") != "log":
            raise ShipError("one parser filter on the `log` key")
        self.reserve_data = one(parser_filters[0], "reserve_data").lower() == "on"
        self.parsers = [self._parser(parsers, n) for n in values(parser_filters[0], "parser")]
        if names.index("multiline") > names.index("parser") or names.index("grep") > names.index("parser"):
            raise ShipError(f"filters out of order: {names}")

    @staticmethod
    def _multiline(parsers, name):
        for kind, e in parsers:
            if kind == "MULTILINE_PARSER" and one(e, "name") == name:
                if one(e, "type") != "regex":
                    raise ShipError(f"multiline parser {name}: only type regex is emulated")
                rules = []
                for r in values(e, "rule"):
                    m = re.fullmatch(r'"([^"]+)"\s+"/(.*)/"\s+"([^"]+)"', r)
                    if not m:
                        raise ShipError(f"multiline parser {name}: cannot read rule {r!r}")
                    rules.append((m.group(1), onigmo(m.group(2)), m.group(3)))
                if not any(state == "start_state" for state, _, _ in rules):
                    raise ShipError(f"multiline parser {name} has no start_state rule")
                return rules
        raise ShipError(f"no [MULTILINE_PARSER] named {name}")

    @staticmethod
    def _parser(parsers, name):
        for kind, e in parsers:
            if kind == "PARSER" and one(e, "name") == name:
                fmt = one(e, "format")
                if fmt == "json":
                    return name, fmt, strptime_regex(one(e, "time_format")), one(e, "time_key")
                if fmt == "regex":
                    return name, fmt, onigmo(one(e, "regex")), None
                raise ShipError(f"parser {name}: format {fmt} is not emulated")
        raise ShipError(f"no [PARSER] named {name}")

    def tails(self, file_name):
        """Whether the tail input reads /var/log/containers/<file_name>."""
        path = "/var/log/containers/" + file_name
        return any(fnmatch.fnmatchcase(path, p) for p in self.paths) and not any(
            fnmatch.fnmatchcase(path, p) for p in self.exclude
        )

    def keeps(self, record):
        """Whether the grep filters keep a record: every Regex matches, no Exclude does."""
        for _, get, pattern in self.grep:
            value = get(record)
            if value is None or not pattern.search(str(value)):
                return False
        for _, get, pattern in self.grep_exclude:
            value = get(record)
            if value is not None and pattern.search(str(value)):
                return False
        return True

    def drops_log(self, log):
        """Whether the grep filters drop a record for its `log` value alone."""
        return any(key == "$log" and not rx.search(log) for key, _, rx in self.grep) or any(
            key == "$log" and rx.search(log) for key, _, rx in self.grep_exclude
        )

    def join(self, lines):
        """The multiline filter over one stream's `log` values: the records it emits."""
        out, block, state = [], None, None
        rules = [r for p in self.multiline for r in p]
        for line in lines:
            if block is not None:
                # The rules of the state the last rule named; start_state rules are not
                # continuations.
                to = next((t for n, rx, t in rules if n == state != "start_state" and rx.search(line)), None)
                if to is not None:
                    block.append(line)
                    state = to
                    continue
                out.append("\n".join(block))
                block = None
            start = next((to for n, rx, to in rules if n == "start_state" and rx.search(line)), None)
            if start is not None:
                block, state = [line], start
            else:
                out.append(line)
        if block is not None:
            out.append("\n".join(block))  # flushed by the timeout
        return out

    def parse(self, log):
        """The parser filter: the first parser that reads the value; None if none does."""
        for name, fmt, rx, time_key in self.parsers:
            if fmt == "json":
                try:
                    v = json.loads(log)
                except ValueError:
                    continue
                if isinstance(v, dict):
                    if not isinstance(v.get(time_key), str) or not rx.fullmatch(v[time_key]):
                        raise ShipError(f"{name}: {time_key} missing or not in its Time_Format: {log[:200]}")
                    return name, v
            else:
                m = rx.search(log)
                if m:
                    return name, {k: v for k, v in m.groupdict().items() if v is not None}
        return None


def strptime_regex(fmt):
    """Fluent Bit's Time_Format (strptime, plus %L for fractional seconds) as a regex, for the
    directives the shipped parser uses; another directive is an error, not a guess."""
    width = {"Y": r"\d{4}", "m": r"\d{2}", "d": r"\d{2}", "H": r"\d{2}", "M": r"\d{2}", "S": r"\d{2}", "L": r"\d{1,9}"}
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%":
            d = fmt[i + 1]
            if d not in width:
                raise ShipError(f"Time_Format directive %{d} is not emulated")
            out.append(width[d])
            i += 2
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    return re.compile("".join(out))


def accessor(key):
    """A record accessor such as $kubernetes['labels']['app'] as a lookup function."""
    m = re.fullmatch(r"\$(\w+)((?:\['[^']+'\])*)", key)
    if not m:
        raise ShipError(f"cannot read record accessor {key!r}")
    path = [m.group(1)] + re.findall(r"\['([^']+)'\]", m.group(2))

    def get(record):
        for k in path:
            if not isinstance(record, dict) or k not in record:
                return None
            record = record[k]
        return record

    return get


def ship(definition, lines):
    """One container stream's console lines (stdout and stderr as the runtime interleaves
    them) through the tail input's line limit, the multiline filter, the grep filter's rules on
    `log` (those on the kubernetes metadata need a pod: Definition.keeps) and the parser filter. Returns the shipped records as
    (parser name, record, the joined text); raises ShipError on a line that does not
    yield level and target, or whose event is lost."""
    for line in lines:
        if len(line.encode()) + 1 > definition.max_line:
            raise ShipError(f"a {len(line.encode())}-byte line, which the tail input skips (Buffer_Max_Size): {line[:100]!r}")
    shipped = []
    for text in definition.join(lines):
        if ANSI in text:
            raise ShipError(f"ANSI colour codes in a console line: {text[:200]!r}")
        if definition.drops_log(text):
            continue
        parsed = definition.parse(text)
        if parsed is None:
            raise ShipError(f"no parser reads this console line: {text[:300]!r}")
        name, record = parsed
        if "level" in record:
            if record["level"] not in LEVELS:
                raise ShipError(f"level {record['level']!r}: {text[:200]}")
            if not isinstance(record.get("target"), str):
                raise ShipError(f"no target: {text[:200]}")
            event = (record.get("fields") or {}).get("event")
            if '"event":' in text and not isinstance(event, str):
                raise ShipError(f"the event is not at fields.event: {text[:200]}")
        elif not {"location", "message"} <= record.keys():
            # The Lua filter makes a panic (a record with a location) an error with
            # target "panic"; anything else would ship without a level.
            raise ShipError(f"{name} yields neither a level nor a panic: {text[:200]!r}")
        shipped.append((name, record, text))
    return shipped


def summary(shipped):
    levels, events, panics = {}, set(), 0
    for _, record, _ in shipped:
        if "level" in record:
            levels[record["level"]] = levels.get(record["level"], 0) + 1
            event = (record.get("fields") or {}).get("event")
            if event:
                events.add(event)
        else:
            panics += 1
    longest = max((len(text.encode()) for _, _, text in shipped), default=0)
    return {"records": len(shipped), "levels": levels, "events": sorted(events), "panics": panics,
            "longest_record_bytes": longest}


# ---------------------------------------------------------------------------
# self-test: the stages on cases whose answer is known, failing cases included


def expect_error(fn, what, reason):
    try:
        fn()
    except ShipError as e:
        if reason not in str(e):
            raise SystemExit(f"self-test: {what} was refused for another reason: {e}")
        return
    raise SystemExit(f"self-test: {what} was accepted")


def self_test(definition):
    # Tail: the operator's containers in any namespace; not Fluent Bit itself (namespace
    # robustmq-system, whose name the broad glob would otherwise take).
    cid = "0123456789abcdef" * 4
    tailed = [
        f"robustmq-sample-0_default_robustmq-{cid}.log",
        f"robustmq-microservices-meta-2_default_robustmq-meta-{cid}.log",
        f"robustmq-microservices-mqtt-broker-6d5f7c9b8d-k7x2p_prod_robustmq-mqtt-broker-{cid}.log",
        f"robustmq-microservices-journal-0_robustmq-system_robustmq-journal-{cid}.log",
    ]
    not_tailed = [
        f"fluent-bit-robustmq-x7k2p_robustmq-system_fluent-bit-{cid}.log",
        f"web-0_default_nginx-{cid}.log",
    ]
    for f in tailed:
        if not definition.tails(f):
            raise SystemExit(f"self-test: the tail input misses {f}")
    for f in not_tailed:
        if definition.tails(f):
            raise SystemExit(f"self-test: the tail input reads {f}")

    # Grep: what the tail glob lets through and the operator did not make is dropped.
    def meta(container, labels, namespace="default"):
        return {"log": "{...}", "kubernetes": {"namespace_name": namespace, "container_name": container, "labels": labels}}

    operator = {"app": "robustmq", "component": "meta", "instance": "robustmq-sample"}
    for container in ("robustmq", "robustmq-meta", "robustmq-mqtt-broker", "robustmq-journal"):
        if not definition.keeps(meta(container, operator)):
            raise SystemExit(f"self-test: grep drops the operator's container {container}")
    for container, labels, ns in [
        ("robustmq-sidecar", operator, "default"),  # a container the operator does not make
        ("robustmq", {"app": "robustmq"}, "default"),  # labelled by hand, no instance
        ("fluent-bit", {"app.kubernetes.io/name": "fluent-bit"}, "robustmq-system"),
        ("robustmq-exporter", {"app": "robustmq-exporter", "instance": "x"}, "robustmq-dev"),
    ]:
        if definition.keeps(meta(container, labels, ns)):
            raise SystemExit(f"self-test: grep keeps {container} {labels}")

    # Multiline: a panic and its notes are one record; a JSON line ends a block and stands alone.
    if not definition.drops_log("") or definition.drops_log(" ") or definition.drops_log("thread 'main' panicked at a:\n\nb"):
        raise SystemExit("self-test: grep must drop an empty line, and only that")
    line = '{"timestamp":"2026-12-06T08:00:00.000001Z","level":"WARN","fields":{"message":"m","event":"auth_failed"},"target":"mqtt_broker::security"}'
    joined = definition.join([
        line,
        "thread 'tokio-runtime-worker' (42) panicked at src/a.rs:1:2:",
        "first",
        "",
        "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
        line,
        "thread 'main' panicked at src/b.rs:3:4:",
        "second",
    ])
    if len(joined) != 4 or joined[0] != line or joined[2] != line or joined[1].count("\n") != 3:
        raise SystemExit(f"self-test: multiline joined {joined!r}")
    # Two panics in a row (a blank line before each, as Rust writes them) are two records.
    two = definition.join(["", "thread 'a' panicked at x.rs:1:1:", "m", "", "thread 'b' panicked at y.rs:2:2:", "n"])
    if two != ["", "thread 'a' panicked at x.rs:1:1:\nm\n", "thread 'b' panicked at y.rs:2:2:\nn"]:
        raise SystemExit(f"self-test: consecutive panics joined as {two!r}")
    # Rust writes a blank line before each panic: dropped by grep where it stands alone.
    shipped = ship(definition, [line, "", *joined[1].split("\n"), line, "", *joined[3].split("\n")])
    panics = [r for _, r, _ in shipped if "location" in r]
    if [p["location"] for p in panics] != ["src/a.rs:1:2", "src/b.rs:3:4"] or panics[0].get("thread_id") != "42":
        raise SystemExit(f"self-test: panics parsed as {panics!r}")
    if panics[0]["message"].splitlines()[0] != "first" or "thread_id" in panics[1]:
        raise SystemExit(f"self-test: panic message {panics!r}")
    events = [r["fields"]["event"] for _, r, _ in shipped if "fields" in r]
    if events != ["auth_failed", "auth_failed"]:
        raise SystemExit(f"self-test: events {events!r}")

    # What must not ship silently: the text formatter with ANSI colour, its plain form, a
    # JSON line cut short, a level outside tracing's, an event not under fields.
    for bad, what, reason in [
        ("\x1b[2m2026-12-06T08:00:00.000001Z\x1b[0m \x1b[32m INFO\x1b[0m \x1b[2mbroker_server\x1b[0m\x1b[2m:\x1b[0m started", "an ANSI text line", "ANSI"),
        ("2026-12-06T08:00:00.000001Z  INFO broker_server: started", "a plain text line", "no parser"),
        (" ", "a line of spaces", "no parser"),
        (line.replace('"m"', '"' + "m" * 300_000 + '"'), "a line longer than the tail's buffer", "Buffer_Max_Size"),
        (line[:-10], "a truncated JSON line", "no parser"),
        (line.replace("08:00:00.000001Z", "08:00:00"), "a timestamp without fraction", "Time_Format"),
        (line.replace('"WARN"', '"NOTICE"'), "an unknown level", "level"),
        (line.replace('"target":"mqtt_broker::security"', '"tgt":"x"'), "a line without target", "no target"),
        (line.replace('"fields":{"message":"m","event":"auth_failed"}', '"event":"auth_failed","fields":{"message":"m"}'), "an event outside fields", "fields.event"),
    ]:
        expect_error(lambda bad=bad: ship(definition, [bad]), what, reason)

    # Not vacuous: without the multiline stage, a panic's second line ships unparsed.
    lone = Definition.__new__(Definition)
    lone.__dict__.update(definition.__dict__)
    lone.multiline = []
    expect_error(lambda: ship(lone, ["thread 'main' panicked at src/b.rs:3:4:", "second"]), "an unjoined panic", "no parser")
    print("fluent-bit self-test: tail, grep, multiline and parsers behave on every case")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("self-test")
    check = sub.add_parser("check", help="each FILE is one container stream's console lines")
    check.add_argument("--lines", action="append", required=True)
    check.add_argument("--min-events", type=int, default=0)
    check.add_argument("--min-panics", type=int, default=0)
    a = ap.parse_args()
    definition = Definition()
    if a.cmd == "self-test":
        self_test(definition)
        return
    shipped = []
    for path in a.lines:
        with open(path, encoding="utf-8") as f:
            try:
                shipped += ship(definition, f.read().splitlines())
            except ShipError as e:
                raise SystemExit(f"fluent-bit check: {path}: {e}")
    s = summary(shipped)
    if len(s["events"]) < a.min_events or s["panics"] < a.min_panics:
        raise SystemExit(f"fluent-bit check: too few events or panics: {s}")
    print(json.dumps(s, sort_keys=True))


if __name__ == "__main__":
    main()
