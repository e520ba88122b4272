#!/usr/bin/env python3
"""Runs RobustMQ's own broker-server with the log_metrics appender and checks it.

Called by scripts/robustmq-e2e.sh after the pull requests are applied and built. The
broker binds its ports on every interface (its own design); all traffic here
goes to 127.0.0.1, and every process started here is stopped on the way out,
also when an assertion fails.

Runs, each from an empty ./data:
  1. without the appender (logger.toml minus its [log_metrics] table): the
     families RobustMQ serves on its own;
  2. with the pull requests' logger.toml: real MQTT traffic (mosquitto_pub/_sub), then
     the families, the OpenMetrics text, the per-level counts against the
     [server] file's lines, the event names, each phase-1 module's events by name,
     level and service (check_module_events), a real Prometheus with the shipped
     rules, and SIGTERM;
  3. with a mistyped key in the appender: start-up must fail naming the key;
  4. the broker's instructions per published message without/with the appender,
     under callgrind (--bench-rounds).
--only flood|bench runs 3b or 4 alone, on a tree and binary an earlier run built.
"""

import argparse
import collections
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import json

from prometheus_client.openmetrics.parser import text_string_to_metric_families

ADMIN = "http://127.0.0.1:58080"
MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
MQTT_TLS_PORT = 1885  # config/server.toml.template's [mqtt_runtime.server] tls_port
# From config/server.toml.template: MQTT auth is on.
USER, PASSWORD = "admin", "robustmq"
LEVELS = ("error", "warn", "info", "debug", "trace")
# A family named for failures: registered by the first failure of its kind.
FAILURE_FAMILY = re.compile(r"_(errors?|failed|failures?)$")
LOG_FAMILIES = {
    "robustmq_log_events",
    "robustmq_log_appender_lines",
    "robustmq_log_appender_bytes",
    "robustmq_log_appender_dropped_lines",
}
# Ports broker-server binds with the template (MQTT, admin HTTP, gRPC, storage).
BROKER_PORTS = (1883, 58080, 1228)

# What the MQTT actions below must produce, by name, under service mqtt-broker
# (integrations/robustmq/02-refactor-mqtt-broker-log-events-core/events-mqtt-broker.md lists every name).
EXPECTED_EVENTS = [
    ("warn", "auth_failed"),  # the bad login
    ("warn", "connection_rejected"),  # the CONNECT with a client id too long for MQTT 3.1.1
    ("info", "push_thread_started"),  # the first subscriber
]

_children = []


def log(msg):
    print(f"e2e: {msg}", flush=True)


def fail(msg):
    raise SystemExit(f"e2e: FAILED: {msg}")


def poll(what, fn, deadline_s, interval_s=0.2):
    """fn() until it returns a true value; fails naming `what` at the deadline."""
    end = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < end:
        try:
            value = fn()
            if value:
                return value
        except Exception as e:  # the service is not up yet: retry
            last = e
        time.sleep(interval_s)
    fail(f"timed out after {deadline_s} s waiting for {what} (last error: {last!r})")


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(args, **kw):
    p = subprocess.Popen(args, start_new_session=True, **kw)
    _children.append(p)
    return p


def stop_all():
    for p in _children:
        if p.poll() is None:
            with_signal(p, signal.SIGTERM)
    for p in _children:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with_signal(p, signal.SIGKILL)
            p.wait()


def with_signal(p, sig):
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        pass


def mosquitto(tool, *args, user=USER, password=PASSWORD, timeout=30, **kw):
    cmd = [tool, "-h", MQTT_HOST, "-p", str(MQTT_PORT), "-u", user, "-P", password, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


# ---------------------------------------------------------------------------
# The broker


class Broker:
    """broker-server from the tree's root with config/server.toml.template."""

    def __init__(self, tree, binary, logger_toml, workdir, wrapper=()):
        self.tree, self.binary, self.logger_toml = tree, binary, logger_toml
        self.wrapper = list(wrapper)  # e.g. valgrind and its options
        self.conf = os.path.join(workdir, "server.toml")
        self.output = os.path.join(workdir, "broker.out")
        template = open(os.path.join(tree, "config/server.toml.template")).read()
        conf, n = re.subn(r'(?m)^log_config = ".*"$', f'log_config = "{logger_toml}"', template)
        if n != 1:
            fail("config/server.toml.template has no single log_config line")
        open(self.conf, "w").write(conf)
        self.proc = None

    @property
    def log_dir(self):
        return os.path.join(self.tree, "data/logs")

    def start(self):
        busy = [p for p in BROKER_PORTS if port_open(p)]
        if busy:
            fail(f"ports {busy} are taken on 127.0.0.1: stop whatever listens there first")
        shutil.rmtree(os.path.join(self.tree, "data"), ignore_errors=True)
        out = open(self.output, "w")
        self.proc = spawn([*self.wrapper, self.binary, "--conf", self.conf], cwd=self.tree, stdout=out, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, deadline_s=120):
        def ready():
            if self.proc.poll() is not None:
                fail(f"broker-server exited with {self.proc.returncode}:\n{self.tail()}")
            status, _ = http_get(f"{ADMIN}/metrics")
            return status == 200 and mosquitto("mosquitto_pub", "-t", "e2e/ready", "-m", "1", timeout=10).returncode == 0

        poll("broker-server to serve /metrics and accept MQTT", ready, deadline_s, 0.5)
        return self

    def tail(self, n=40):
        with open(self.output, errors="replace") as f:
            return "".join(f.readlines()[-n:])

    def stop(self):
        """SIGTERM, as an operator's service manager does; returns the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        timeout = 300 if self.wrapper else 60  # callgrind writes its profile on the way out
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with_signal(self.proc, signal.SIGKILL)
            self.proc.wait()
            fail(f"broker-server did not stop within {timeout} s of SIGTERM:\n{self.tail()}")


def logger_without_appender(text):
    """logger.toml minus its [log_metrics] table (comments before it included)."""
    out, skipping = [], False
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("[log_metrics]"):
            skipping = True
            while out and out[-1].startswith("#"):
                out.pop()
            continue
        if skipping and line.startswith("["):
            skipping = False
        if not skipping:
            out.append(line)
    result = "".join(out)
    if "log_metrics" in result or result == text:
        fail("could not remove the [log_metrics] table from logger.toml")
    return result


# ---------------------------------------------------------------------------
# The exposition


def scrape():
    status, body = http_get(f"{ADMIN}/metrics")
    if status != 200:
        fail(f"/metrics answered {status}")
    return body


def events_total():
    """All of robustmq_log_events_total, from the second of two scrapes: a
    series' first scrape shows 0 (the first-sample rule)."""
    scrape()
    return sum(event_counts(scrape()).values())


def parse_families(body):
    """The family names, by the reference OpenMetrics parser (strict)."""
    try:
        return {f.name for f in text_string_to_metric_families(body)}
    except Exception as e:
        fail(f"/metrics is no valid OpenMetrics text: {e}")


def event_counts(body):
    """{(level, service, event, node_id): value} of robustmq_log_events_total."""
    counts = {}
    for family in text_string_to_metric_families(body):
        if family.name != "robustmq_log_events":
            continue
        for s in family.samples:
            if s.name == "robustmq_log_events_total":
                key = (s.labels["level"], s.labels["service"], s.labels["event"], s.labels.get("node_id"))
                counts[key] = s.value
    return counts


def appender_counts(body):
    """{(appender, family): value} of the robustmq_log_appender_* counters."""
    counts = {}
    for family in text_string_to_metric_families(body):
        if family.name.startswith("robustmq_log_appender_"):
            for s in family.samples:
                if s.name.endswith("_total"):
                    counts[(s.labels["appender"], family.name[len("robustmq_log_appender_"):])] = int(s.value)
    return counts


def file_bytes(log_dir, prefix="server"):
    return sum(os.path.getsize(os.path.join(log_dir, n)) for n in os.listdir(log_dir) if n.startswith(prefix + "."))


def per_level(counts):
    total = collections.Counter()
    for (level, _, _, _), value in counts.items():
        total[level] += int(value)
    return {level: total[level] for level in LEVELS}


ANSI = re.compile(r"\x1b\[[0-9;]*m")
# tracing-subscriber's full format: RFC 3339 timestamp, then the level padded to 5.
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z\s+(ERROR|WARN|INFO|DEBUG|TRACE)\s")


def file_records(log_dir, prefix="server"):
    """The records of the [server] rolling files, ANSI codes removed: the lines that
    start with a timestamp and a level (a message with newlines spans several
    lines; only its first starts so), each with its level in group 1."""
    for name in sorted(os.listdir(log_dir)):
        if name.startswith(prefix + "."):
            with open(os.path.join(log_dir, name), errors="replace") as f:
                for line in f:
                    line = ANSI.sub("", line)
                    m = LINE.match(line)
                    if m:
                        yield line, m


def file_levels(log_dir, prefix="server"):
    """Records per level in the [server] rolling files."""
    total = collections.Counter(m.group(1).lower() for _, m in file_records(log_dir, prefix))
    return {level: total[level] for level in LEVELS}


# ---------------------------------------------------------------------------
# Traffic


def mqtt_string(s):
    """An MQTT UTF-8 string: its length in two bytes, then its bytes."""
    return len(s.encode()).to_bytes(2, "big") + s.encode()


def mqtt_packet(first_byte, body):
    """An MQTT control packet: its first byte (type and flags), the body's length
    as a variable byte integer, then the body."""
    n, length = len(body), b""
    while True:
        n, digit = divmod(n, 128)
        length += bytes([digit | (0x80 if n else 0)])
        if not n:
            return bytes([first_byte]) + length + body


def connect_packet(client_id, password=PASSWORD):
    """An MQTT 3.1.1 CONNECT: clean session, user name and password, keepalive 60 s."""
    body = mqtt_string("MQTT") + bytes([4, 0xC2]) + (60).to_bytes(2, "big")
    body += mqtt_string(client_id) + mqtt_string(USER) + mqtt_string(password)
    return mqtt_packet(0x10, body)


def send_raw(packet):
    """Sends bytes on a fresh MQTT connection and reads until the broker closes it."""
    with socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=10) as s:
        s.sendall(packet)
        try:
            while s.recv(1024):
                pass
        except (ConnectionResetError, socket.timeout):
            pass


def deliver(sub_id, pub_id, topic, message, what):
    """A real subscriber (mosquitto_sub, one message at QoS 1) receives `message`,
    published at QoS 1 until it arrives (the subscription takes a moment to
    reach the broker); fails unless the subscriber got it."""
    sub = spawn(
        ["mosquitto_sub", "-h", MQTT_HOST, "-p", str(MQTT_PORT), "-u", USER, "-P", PASSWORD,
         "-i", sub_id, "-t", topic, "-q", "1", "-C", "1", "-W", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )

    def delivered():
        r = mosquitto("mosquitto_pub", "-i", pub_id, "-t", topic, "-q", "1", "-m", message)
        if r.returncode != 0:
            fail(f"publish failed: {r.stderr}")
        return sub.poll() is not None

    poll(what, delivered, 60, 0.5)
    out, err = sub.communicate()
    if sub.returncode != 0 or message not in out:
        fail(f"mosquitto_sub: rc {sub.returncode}, out {out!r}, err {err!r}")


def drive_mqtt():
    """Connect, subscribe, publish at each QoS, a bad login, a malformed packet,
    a burst of connections. Each step checks the broker's answer."""
    deliver("e2e-sub", "e2e-pub", "e2e/hello", "hello", "a subscriber to receive a published message")
    for qos in ("0", "1", "2"):
        r = mosquitto("mosquitto_pub", "-i", f"e2e-qos{qos}", "-t", f"e2e/qos{qos}", "-q", qos, "-m", "m")
        if r.returncode != 0:
            fail(f"publish at QoS {qos}: {r.stderr}")
    log("connect, subscribe, deliver, publish at QoS 0/1/2: ok")

    r = mosquitto("mosquitto_pub", "-i", "e2e-bad-login", "-t", "e2e/x", "-m", "x", password="wrong")
    if r.returncode == 0 or "not authori" not in (r.stdout + r.stderr).lower():
        fail(f"a wrong password was not refused as not authorised: rc {r.returncode}, {r.stderr!r}")
    log(f"bad login refused: {r.stderr.strip()}")

    # CONNECT with a remaining length longer than four bytes allow: malformed.
    send_raw(b"\x10\xff\xff\xff\xff\x7f")
    # A CONNECT naming a protocol that does not exist.
    body = b"\x00\x04XQTT\x04\x02\x00\x3c\x00\x03bad"
    send_raw(mqtt_packet(0x10, body))
    # A CONNECT that decodes but breaks the protocol: MQTT 3.1.1 allows client
    # ids of up to 23 characters.
    r = mosquitto("mosquitto_pub", "-V", "mqttv311", "-i", "e2e-client-id-longer-than-23-characters",
                  "-t", "e2e/x", "-m", "x")
    if r.returncode == 0:
        fail("a CONNECT with a 39-character client id was accepted under MQTT 3.1.1")
    log(f"malformed packets sent; invalid CONNECT refused: {r.stderr.strip()}")

    burst = [
        subprocess.Popen(
            ["mosquitto_pub", "-h", MQTT_HOST, "-p", str(MQTT_PORT), "-u", USER, "-P", PASSWORD,
             "-i", f"e2e-burst-{i}", "-t", "e2e/burst", "-q", "1", "-m", str(i)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        for i in range(50)
    ]
    failed = [i for i, p in enumerate(burst) if p.wait(timeout=60) != 0]
    if failed:
        fail(f"{len(failed)} of 50 burst connections failed")
    log("burst of 50 connections: ok")


# ---------------------------------------------------------------------------
# Checks


def check_exact_counts(broker):
    """At a quiet moment the per-level counts equal the [server] file's lines.

    Two scrapes with the same counts bracket a moment with no event in
    between; the file, read after the first and flushed by its writer thread,
    must then hold exactly as many lines per level. A successful scrape logs
    at debug only, below both filters."""

    def agree():
        body = scrape()
        first = per_level(event_counts(body))
        lines = poll(
            "the [server] file to catch up with the counts",
            lambda: (lambda f: f if all(f[lv] >= first[lv] for lv in LEVELS) else None)(file_levels(broker.log_dir)),
            10,
        )
        size = file_bytes(broker.log_dir)
        body2 = scrape()
        second = per_level(event_counts(body2))
        if first == second == lines:
            appender = appender_counts(body2)
            return first, appender, size
        log(f"not quiet yet: counts {first} -> {second}, file {lines}")
        return None

    counts, appender, size = poll("a quiet moment where the counts equal the file's lines", agree, 60, 1)
    log(f"per level, robustmq_log_events_total = lines of data/logs/server.*.log: {counts}")
    if counts["info"] == 0:
        fail("no info event counted: the appender counts nothing")
    # The [server] appender's own counters: every counted event was written or
    # dropped, and the bytes written are the file's size.
    events = sum(counts.values())
    lines, dropped, written = (appender.get(("server", k)) for k in ("lines", "dropped_lines", "bytes"))
    if lines is None or lines + dropped != events or written != size:
        fail(f"[server] appender: lines {lines} + dropped {dropped} != events {events}, or bytes {written} != file size {size}")
    # The shipped line_limit must never trigger on ordinary traffic (issue 32).
    suppressed = {a: n for (a, k), n in appender.items() if k == "suppressed_lines" and n}
    if suppressed:
        fail(f"the shipped line_limit suppressed lines of ordinary traffic: {suppressed}")
    log(f"[server] appender: lines {lines} + suppressed 0 + dropped {dropped} = events {events}; "
        f"bytes {written} = file size; no appender suppressed a line")
    return counts


def check_families(body, baseline):
    if body.count("# EOF") != 1 or not body.rstrip("\n").endswith("# EOF"):
        fail("the exposition must end in exactly one # EOF")
    families = parse_families(body)
    # RobustMQ registers a family on its first use (common-metrics'
    # register_*_metric! macros are LazyLocks), so a family fed only by a
    # failure (grpc_errors: a gRPC call that failed during one run's start-up
    # and not the other's) can be in one run and not the other. Such a
    # family is named, not counted as lost; any other difference fails.
    by_failure = {f for f in baseline ^ families if FAILURE_FAMILY.search(f) and not f.startswith("robustmq_log_")}
    lost = baseline - families - by_failure
    if lost:
        fail(f"RobustMQ families lost with the appender: {sorted(lost)}")
    added = families - baseline - by_failure
    if not LOG_FAMILIES <= added or not all(f.startswith("robustmq_log_") for f in added):
        fail(f"the appender added {sorted(added)}; expected the robustmq_log_* families")
    if by_failure:
        log(f"failure-fed families registered in one run only (first use registers them): {sorted(by_failure)}")
    log(f"{len(baseline & families)} RobustMQ families kept, added {sorted(added)}, one # EOF")


def check_events(body):
    counts = event_counts(body)
    services = collections.Counter()
    for (level, service, event, node_id), value in counts.items():
        if node_id != "1":
            fail(f"series without node_id=\"1\": {level} {service} {event} {node_id}")
        services[service] += int(value)
    log(f"events per service: {dict(services)}")
    for service in ("mqtt-broker", "meta-service", "broker-server"):
        if services[service] == 0:
            fail(f"no event counted under service {service!r}")
    for level, event in EXPECTED_EVENTS:
        n = sum(v for (lv, s, e, _), v in counts.items() if (lv, s, e) == (level, "mqtt-broker", event))
        if n == 0:
            names = sorted({e for (_, s, e, _) in counts if s == "mqtt-broker"})
            fail(f"no {level} {event!r} under mqtt-broker; its events: {names}")
        log(f"mqtt-broker {level} {event}: {int(n)}")


# What check_module_events drives, per phase-1 module: (module, action, level, service, event),
# each at the level the patched code logs it at (integrations/robustmq/: 02's
# events-mqtt-broker.md, 09's events-network-server.md, 10's events-security.md list them), and
# the service `preset = "robustmq"` gives its target (network_server, common_security, mqtt_broker).
MODULE_EVENTS = [
    ("network-server", "connection accepted", "info", "network-server", "connection_accepted"),
    ("network-server", "connection closed (no DISCONNECT: the 3 s GC, 6 to 9 s later)", "info",
     "network-server", "connection_closed"),
    ("network-server", "plain TCP on the TLS port 1885", "warn", "network-server", "connection_handshake_failed"),
    ("network-server", "malformed packet, the client closes mid-frame", "warn", "network-server", "stream_read_failed"),
    ("mqtt-broker", "refused login (wrong password)", "warn", "mqtt-broker", "auth_failed"),
    ("security", "banned client (blacklist entry for its client id)", "info", "security", "blacklist_matched"),
    ("mqtt-broker", "banned client (CONNACK Banned)", "warn", "mqtt-broker", "connection_banned"),
]
# What the same actions log at debug only: the shipped filter (`info` for every target) hides
# them, so the counter must not have them. Each with whether an operator would want it counted.
HIDDEN_EVENTS = {
    "connection_closed_by_peer": (
        "network-server", "no: connection_closed (info) counts every close; this adds only who hung up first"),
    "frame_decoded": ("network-server", "no: one per inbound frame, what mqtt_packets_received counts"),
    "packet_received": ("network-server", "no: one per inbound packet, as frame_decoded"),
    "response_write_started": (
        "network-server", "no: one per outbound packet, deliveries included (mqtt_packets_sent, mqtt_messages_sent)"),
    "login_succeeded": ("mqtt-broker", "rarely: a login rate helps, but mqtt_auth_success counts logins already"),
    "subscription_parse_started": ("mqtt-broker", "no: one per SUBSCRIBE filter, internal matching work"),
    "direct_subscriber_matched": ("mqtt-broker", "no: internal matching of subscriptions to topics"),
    "topic_parse_started": ("mqtt-broker", "no: internal matching of a new topic to subscriptions"),
}


def check_module_events(broker):
    """Drives each phase-1 module and asserts its events on robustmq_log_events_total by name,
    level and service (MODULE_EVENTS), each with the [server] file's line that ties it to this
    client (its source port, its connection_id or its client id); a publish delivered to a
    subscriber, which no event marks at info (RobustMQ's mqtt_messages_sent counts it); and the
    debug events of the same traffic (HIDDEN_EVENTS) absent from the counter."""
    log("module events: network-server, security, mqtt-broker")
    scrape()  # a series' first scrape shows 0: the second is the baseline
    start = event_counts(scrape())

    def count(body_counts, level, service, event):
        return sum(v for (lv, s, e, _), v in body_counts.items() if (lv, s, e) == (level, service, event))

    def lines(since, event, *tokens):
        """The lines of `event` holding every regex in tokens (ANSI removed) that the [server]
        files received after their first `since` bytes (file_bytes before a step: a source
        port can come again, so only lines after the step began count)."""
        want = [re.compile(rf'\bevent="?{event}"?(\s|$)')] + [re.compile(t) for t in tokens]
        text = b""
        for name in sorted(n for n in os.listdir(broker.log_dir) if n.startswith("server.")):
            with open(os.path.join(broker.log_dir, name), "rb") as f:
                text += f.read()
        fresh = ANSI.sub("", text[since:].decode(errors="replace")).splitlines()
        return [l for l in fresh if all(w.search(l) for w in want)]

    def connection_id(since, port):
        """The connection_id network-server gave the client whose source port is `port`."""
        found = poll(f"connection_accepted for 127.0.0.1:{port} in the [server] file",
                     lambda: lines(since, "connection_accepted", rf"\bremote_addr=127\.0\.0\.1:{port}\b"), 20)
        return re.search(r"\bconnection_id=(\d+)\b", found[0]).group(1)

    # A connection accepted, logged in, then dropped without DISCONNECT: network-server closes
    # it when its GC finds it marked (every 3 s, 5 s of grace).
    # The client half-closes and reads to the end, so that it never closes with unread bytes
    # (a reset, which would make the broker's read fail instead).
    since = file_bytes(broker.log_dir)
    with socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=20) as s:
        port = s.getsockname()[1]
        s.sendall(connect_packet("e2e-ev-conn"))
        connack = s.recv(4)
        if connack[:1] != b"\x20" or connack[3:4] != b"\x00":
            fail(f"raw CONNECT with good credentials: CONNACK {connack!r}")
        conn = connection_id(since, port)
        s.shutdown(socket.SHUT_WR)
        try:
            while s.recv(1024):
                pass
        except (ConnectionResetError, socket.timeout):
            pass
    poll(f"connection_closed of connection {conn} (its client left without DISCONNECT)",
         lambda: lines(since, "connection_closed", rf"\bconnection_id={conn}\b"), 30)

    # Plain TCP on the TLS port: the handshake fails before any connection exists.
    since = file_bytes(broker.log_dir)
    with socket.create_connection((MQTT_HOST, MQTT_TLS_PORT), timeout=10) as s:
        port = s.getsockname()[1]
        s.sendall(connect_packet("e2e-ev-tls"))
        try:
            while s.recv(1024):
                pass
        except (ConnectionResetError, socket.timeout):
            pass
    poll(f"connection_handshake_failed for 127.0.0.1:{port}",
         lambda: lines(since, "connection_handshake_failed", rf"\bremote_addr=127\.0\.0\.1:{port}\b"), 20)
    if lines(since, "connection_accepted", rf"\bremote_addr=127\.0\.0\.1:{port}\b"):
        fail(f"a failed TLS handshake from port {port} was logged as connection_accepted")

    # A CONNECT whose remaining length runs over four bytes, then the client closes: the codec
    # keeps bytes it cannot frame (and reports nothing) until the end of the stream, where
    # tokio's decode_eof fails with "bytes remaining on stream".
    since = file_bytes(broker.log_dir)
    with socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=10) as s:
        port = s.getsockname()[1]
        s.sendall(b"\x10\xff\xff\xff\xff\x7f")
        conn = connection_id(since, port)
    poll(f"stream_read_failed of connection {conn} (malformed bytes, then the client closed)",
         lambda: lines(since, "stream_read_failed", rf"\bconnection_id={conn}\b"), 20)

    # A refused login, traced to its client id.
    r = mosquitto("mosquitto_pub", "-i", "e2e-ev-refused", "-t", "e2e/events", "-m", "x", password="wrong")
    if r.returncode == 0:
        fail("a wrong password was accepted")
    poll("auth_failed with client_id=e2e-ev-refused in the [server] file",
         lambda: lines(0, "auth_failed", r"\bclient_id=\"?e2e-ev-refused\"?(\s|$)"), 20)

    # A banned client: a ClientId entry through the admin API (no token from 127.0.0.1), then
    # its CONNECTs until the broker's cache has the entry.
    entry = {"name": "e2e-ev-banned", "tenant": "default", "blacklist_type": "ClientId",
             "resource_name": "e2e-ev-banned", "end_time": int(time.time()) + 3600, "desc": "e2e"}
    req = urllib.request.Request(f"{ADMIN}/api/cluster/blacklist/create", data=json.dumps(entry).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            answer = json.loads(resp.read().decode())
    except urllib.error.HTTPError as e:
        fail(f"blacklist create: HTTP {e.code}: {e.read().decode(errors='replace')}")
    if answer.get("code") != 0:
        fail(f"blacklist create: {answer}")

    def refused():
        r = mosquitto("mosquitto_pub", "-i", "e2e-ev-banned", "-t", "e2e/events", "-m", "x", timeout=10)
        return r.returncode != 0 and (r.stderr.strip() or f"rc {r.returncode}")

    why = poll("the blacklisted client id to be refused", refused, 30, 0.5)
    for event in ("blacklist_matched", "connection_banned"):
        poll(f"{event} with client_id=e2e-ev-banned in the [server] file",
             lambda: lines(0, event, r"\bclient_id=\"?e2e-ev-banned\"?(\s|$)"), 20)
    log(f"banned client refused: {why}")

    # The counter: each event above by name, level and service. A new series shows 0 on its
    # first scrape, so this polls; what is missing, and where its name is counted instead, is
    # the error poll reports at the deadline.
    def counted():
        now = event_counts(scrape())
        rows = [(m, a, lv, s, e, count(now, lv, s, e) - count(start, lv, s, e)) for m, a, lv, s, e in MODULE_EVENTS]
        missing = [(lv, s, e) for _, _, lv, s, e, d in rows if d < 1]
        if missing:
            seen = sorted({k[:3] for k in now if k[2] in {e for _, _, e in missing}})
            raise AssertionError(f"not counted: {missing}; these names are counted as {seen}")
        return rows

    rows = poll("every module event counted under its service at its level", counted, 30, 1)

    # A publish delivered to a subscriber. No event marks it at info: only failures of the
    # push path are logged (02's events file), and RobustMQ's own mqtt_messages_sent counts it.
    def messages_sent(body):
        return sum(s.value for f in text_string_to_metric_families(body) if f.name.endswith("mqtt_messages_sent")
                   for s in f.samples if s.name.endswith("_total"))

    body = scrape()
    before, sent0 = event_counts(body), messages_sent(body)
    deliver("e2e-ev-sub", "e2e-ev-pub", "e2e/events/delivery", "delivered", "the subscriber to receive the message")
    body = poll("mqtt_messages_sent to count the delivery",
                lambda: (lambda b: b if messages_sent(b) > sent0 else None)(scrape()), 20, 1)
    after = event_counts(body)
    rose = sorted({(lv, s, e) for (lv, s, e, n), v in after.items() if v > before.get((lv, s, e, n), 0)})
    log(f"delivery: mqtt_messages_sent {sent0:.0f} -> {messages_sent(body):.0f}; no event marks a delivery "
        f"at info; series that rose meanwhile (connections, push threads): {rose}")

    # The debug events of this traffic: hidden by the shipped `info` filter, so not counted.
    counted_hidden = sorted({(lv, s, e) for (lv, s, e, _) in after if lv in ("debug", "trace") or e in HIDDEN_EVENTS})
    if counted_hidden:
        fail(f"debug events counted although the shipped filter is info: {counted_hidden}")

    log("module -> event -> service -> level (count added by this traffic):")
    for module, action, level, service, event, added in rows:
        log(f"  {module:<15} {event:<28} {service:<15} {level:<5} +{added:.0f}  ({action})")
    log(f"  {'mqtt-broker':<15} {'(publish delivered)':<28} {'-':<15} {'-':<5} no event at info (at debug only "
        "network-server's per-packet ones below); RobustMQ's mqtt_messages_sent counts deliveries")
    for event, (module, operator) in HIDDEN_EVENTS.items():
        log(f"  {module:<15} {event:<28} {module:<15} debug hidden by the info filter, not counted; counted? {operator}")


def run_prometheus(rules, workdir):
    port = free_port()
    conf = os.path.join(workdir, "prometheus.yml")
    open(conf, "w").write(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{rules}']\n"
        "scrape_configs:\n"
        # The job of RobustMQ's grafana/prometheus-config-example.yml, which the
        # rules select, with its target label `service` and honor_labels.
        "  - job_name: robustmq-mqtt-broker\n"
        "    honor_labels: true\n"
        "    static_configs: [{targets: ['127.0.0.1:58080'], labels: {cluster: e2e, service: mqtt-broker}}]\n"
    )
    r = subprocess.run(["promtool", "check", "rules", rules], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"promtool check rules {rules}: {r.stdout}{r.stderr}")
    data = tempfile.mkdtemp(dir=workdir)
    proc = spawn(
        ["prometheus", f"--config.file={conf}", f"--storage.tsdb.path={data}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "prometheus.log"), "w"),
    )
    api = f"http://127.0.0.1:{port}/api/v1"

    def query(q):
        _, body = http_get(f"{api}/query?" + urllib.parse.urlencode({"query": q}))
        return json.loads(body)["data"]["result"]

    def labelled():
        result = query('robustmq_log_events_total{job="robustmq-mqtt-broker",service="mqtt-broker"}')
        # Without honor_labels every series would carry the target's
        # service="mqtt-broker" and its own service as exported_service.
        other = query('robustmq_log_events_total{job="robustmq-mqtt-broker",service="meta-service"}')
        return result if result and other and all("exported_service" not in r["metric"] for r in result + other) else None

    series = poll("Prometheus to scrape mqtt-broker's counts with their own service label", labelled, 90, 1)
    log(f"Prometheus scraped {len(series)} mqtt-broker series, labels {sorted(series[0]['metric'])}")

    # The slow history group runs every few minutes (historyInterval): its
    # first evaluation may come after the test; every other group runs at the
    # 1 s global interval and must have evaluated without error.
    def rules_evaluated():
        _, body = http_get(f"{api}/rules")
        groups = json.loads(body)["data"]["groups"]
        rules_ = [r for g in groups for r in g["rules"]]
        bad = [r for r in rules_ if r.get("health") == "err"]
        if bad:
            fail(f"rules failed: {[(r['name'], r.get('lastError')) for r in bad]}")
        fast = [r for g in groups if g["interval"] <= 60 for r in g["rules"]]
        slow = len(rules_) - len(fast)
        return fast and all(r.get("health") == "ok" for r in fast) and (fast, slow)

    loaded, slow = poll("Prometheus to evaluate every shipped rule", rules_evaluated, 90, 1)
    records = [r["name"] for r in loaded if r["type"] == "recording"]

    def recorded():
        return [n for n in records if query(f'{n}{{service="mqtt-broker"}}')]

    produced = poll("a recording rule to produce an mqtt-broker series", recorded, 90, 1)
    log(f"Prometheus: {len(loaded)} rules evaluated without error ({slow} in slower groups not yet due), "
        f"{len(produced)} recording rules with mqtt-broker series")
    with_signal(proc, signal.SIGTERM)
    proc.wait(timeout=30)


def check_login_flood(tree, binary, logger_text, workdir, attempts=10000, deadline_s=240):
    """A bounded login flood on loopback (issue 32): one client sends `attempts`
    CONNECTs, four in five with a wrong password (auth_failed) and one in five
    with a client id too long for MQTT 3.1.1 (connection_rejected), with the
    shipped logger.toml's line_limit and then without it. With the limit: the
    flood's lines stay within the [server] appender's budget, lines +
    suppressed + dropped equal the events counted, the auth_failed events
    counted equal RobustMQ's own mqtt_auth_failed_total, and a line of
    another call site logged mid-flood (push_thread_started, a subscriber's)
    is written. Logs the flood's bytes and lines with and without the limit."""
    m = re.search(r"(?ms)^\[server\]$.*?^line_limit = \{ burst = (\d+), refill = (\d+), interval_secs = (\d+) \}$",
                  logger_text)
    if not m:
        fail("config/logger.toml's [server] appender has no line_limit = { burst, refill, interval_secs }")
    burst, refill, interval = (int(g) for g in m.groups())
    unlimited_text = re.sub(r"(?m)^line_limit = .*\n", "", logger_text)
    loggers = {"with the limit": logger_text, "without the limit": unlimited_text}

    def attempt(i):
        """One CONNECT to be refused; returns the CONNACK's return code, or
        None when the broker closed the connection without one (it sheds
        connections under load before authentication)."""
        if i % 5 == 4:
            packet = connect_packet(f"e2e-flood-client-id-longer-than-23-{i}", PASSWORD)
        else:
            packet = connect_packet(f"e2e-flood-{i}", "wrong")
        connack = b""
        try:
            with socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=10) as s:
                s.sendall(packet)
                while len(connack) < 4:
                    chunk = s.recv(4 - len(connack))
                    if not chunk:
                        break
                    connack += chunk
        except OSError:  # reset or timed out: shed
            pass
        return connack[3] if len(connack) == 4 and connack[0] == 0x20 else None

    def robustmq_auth_failed(body):
        return sum(s.value for f in text_string_to_metric_families(body) for s in f.samples
                   if s.name == "mqtt_auth_failed_total")

    def counted(body, event):
        return sum(v for (_, svc, e, _), v in event_counts(body).items() if (svc, e) == ("mqtt-broker", event))

    def file_lines_with(log_dir, needle):
        return sum(1 for line, _ in file_records(log_dir) if needle in line)

    def file_times_with(log_dir, needle):
        """The timestamps (to the second) of the [server] file's records with needle."""
        return [line[:19] for line, _ in file_records(log_dir) if needle in line]

    figures = {}
    for name, text in loggers.items():
        path = os.path.join(workdir, f"logger-flood-{len(figures)}.toml")
        open(path, "w").write(text)
        broker = Broker(tree, binary, path, workdir).start().wait_ready()
        scrape()  # series born before the flood show their counts from the next scrape on
        subscriber = socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=10)
        subscriber.sendall(connect_packet("e2e-flood-sub", PASSWORD))
        if subscriber.recv(4)[:1] != b"\x20":
            fail(f"{name}: the subscriber's CONNECT before the flood got no CONNACK")
        subscribe_body = b"\x00\x01" + mqtt_string("e2e/flood") + b"\x00"  # packet id 1, QoS 0
        publish_body = mqtt_string("e2e/flood") + b"mid-flood"  # QoS 0
        refused, t0 = collections.Counter(), time.monotonic()
        for i in range(attempts):
            if time.monotonic() - t0 > deadline_s:
                fail(f"{name}: the flood did not finish {attempts} attempts within {deadline_s} s ({i} sent)")
            refused[attempt(i)] += 1
            if i % 2000 == 0:
                subscriber.sendall(b"\xc0\x00")  # PINGREQ: the keepalive is 60 s, the flood may be longer
            if i == attempts // 2:
                # Another call site, mid-flood: a SUBSCRIBE on the session opened
                # before the flood (a new connection from 127.0.0.1 would meet the
                # per-IP connection cap the flood fills, and be dropped unlogged),
                # then a PUBLISH to it: the new topic matches the subscription, and
                # the broker's push manager, ticking each second, starts the push
                # thread of the new bucket (push_thread_started, info).
                subscriber.sendall(mqtt_packet(0x82, subscribe_body))
                subscriber.sendall(mqtt_packet(0x30, publish_body))
        elapsed = time.monotonic() - t0
        flood_end = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        subscriber.sendall(b"\xe0\x00")  # DISCONNECT
        subscriber.close()
        if refused[0]:
            fail(f"{name}: {refused[0]} flood CONNECTs were accepted; return codes {dict(refused)}")

        def quiet():
            body = scrape()
            counts, appender = event_counts(body), appender_counts(body)
            body2 = scrape()
            if event_counts(body2) != counts or appender_counts(body2) != appender:
                return None
            events = int(sum(counts.values()))
            lines, suppressed, dropped = (appender.get(("server", k), 0)
                                          for k in ("lines", "suppressed_lines", "dropped_lines"))
            if lines + suppressed + dropped != events:
                return None  # the [server] file's writer has not caught up yet
            return body2, events, lines, suppressed, dropped

        body, events, lines, suppressed, dropped = poll(
            f"{name}: a quiet moment where the [server] appender's lines + suppressed + dropped equal the events",
            quiet, 60, 1)
        auth, own = counted(body, "auth_failed"), robustmq_auth_failed(body)
        if auth != own or auth == 0:
            fail(f"{name}: auth_failed counted {auth:.0f}, RobustMQ's own mqtt_auth_failed_total {own:.0f}")
        written = {e: file_lines_with(broker.log_dir, f'event="{e}"') for e in ("auth_failed", "connection_rejected")}
        figures[name] = dict(attempts=attempts, seconds=round(elapsed, 1), refused=dict(refused),
                             auth_failed_counted=int(auth), mqtt_auth_failed_total=int(own),
                             connection_rejected_counted=int(counted(body, "connection_rejected")),
                             flood_lines=written, server_lines=lines, suppressed=suppressed, dropped=dropped,
                             events=events, server_bytes=file_bytes(broker.log_dir),
                             stdout_bytes=os.path.getsize(broker.output))
        mid = [t for t in file_times_with(broker.log_dir, 'event="push_thread_started"') if t <= flood_end]
        if not mid:
            fail(f"{name}: no line of another call site (push_thread_started) logged mid-flood, before {flood_end}, "
                 f"is in the file")
        if name == "with the limit":
            # GCRA: burst lines at once, one per interval/refill after, twice
            # the burst at most right after a quiet spell (LineLimit's docs).
            bound = 2 * burst + refill * (elapsed / interval + 1)
            for e, n in written.items():
                if n > bound:
                    fail(f"{name}: {n} {e} lines written, over the limit's {bound:.0f} for {elapsed:.1f} s")
            if suppressed == 0 or auth <= bound:
                fail(f"{name}: the flood ({auth:.0f} auth_failed) did not exceed the limit ({bound:.0f}); nothing shown")
            summaries = file_lines_with(broker.log_dir, 'event="log_lines_suppressed"')
            if summaries == 0 or summaries > 2 * (elapsed / interval + 2):
                fail(f"{name}: {summaries} summary lines for two flooded call sites over {elapsed:.1f} s; "
                     f"expected at least one and at most one per interval each")
            figures[name]["summary_lines"] = summaries
        elif suppressed != 0:
            fail(f"{name}: {suppressed} lines suppressed by an appender without line_limit")
        code = broker.stop()
        if code != 0:
            fail(f"{name}: broker-server exited with {code} after SIGTERM:\n{broker.tail()}")
        log(f"login flood {name}: {json.dumps(figures[name])}")
    a, b = figures["with the limit"], figures["without the limit"]
    log(f"login flood: [server] file {a['server_bytes']} bytes with the limit, {b['server_bytes']} without "
        f"({a['server_bytes'] / max(b['server_bytes'], 1):.3f}); stdout {a['stdout_bytes']} / {b['stdout_bytes']}")


def check_typo(tree, binary, logger_text, workdir):
    typo = logger_text.replace('preset = "robustmq"', 'presett = "robustmq"', 1)
    if typo == logger_text:
        fail("logger.toml has no preset line to mistype")
    path = os.path.join(workdir, "logger-typo.toml")
    open(path, "w").write(typo)
    broker = Broker(tree, binary, path, workdir).start()
    try:
        code = broker.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        broker.stop()
        fail("broker-server started with a mistyped log_metrics key")
    out = broker.tail(200)
    # PR 01 (fix(cmd)): the error's message and exit status 1, not a panic's Debug form.
    wanted = "broker-server: failed to initialize logging: log_metrics appender: unknown key `presett`"
    if code != 1 or wanted not in out or "panicked" in out:
        fail(f"a mistyped key must stop start-up with exit 1 and {wanted!r}; exit {code}:\n{out}")
    line = next(l for l in out.splitlines() if wanted in l)
    log(f"mistyped key: exit {code}, {line.strip()[:300]}")


def check_console_lines_ship(tree, binary, workdir):
    """The console appender of the logger.toml RobustMQ's operator generates (PR 11: JSON, no
    ANSI codes), on the real broker: its stdout and stderr in one file, as the container
    runtime keeps them, through the shipped Fluent Bit definition (scripts/fluent_bit_lines.py
    reads deploy/fluent-bit/fluent-bit.yaml): every line parses and yields level, target and,
    where the line has one, fields.event. Then a real panic of broker-server (a --conf that
    does not exist), without and with RUST_BACKTRACE=1: one record each."""
    log("run 3b: the operator's console appender through the shipped Fluent Bit definition")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import fluent_bit_lines

    go = open(os.path.join(tree, "operator/controllers/robustmq_controller.go"), encoding="utf-8").read()
    m = re.search(r"func \(r \*RobustMQReconciler\) generateTracingConfig\(.*?\) string \{\s*return `([^`]*)`", go, re.S)
    if not m:
        fail("no logger.toml literal in the operator's generateTracingConfig")
    import tomllib
    generated = m.group(1)
    consoles = [(name, t) for name, t in tomllib.loads(generated).items() if t.get("kind") == "console"]
    if len(consoles) != 1:
        fail(f"the operator's logger.toml has {len(consoles)} console appenders, not one")
    name, table = consoles[0]
    if table.get("formatter") != "json" or table.get("ansi") is not False:
        fail(f"the operator's console appender [{name}] must set formatter = \"json\" and ansi = false: {table}")
    # That table's own lines, as the operator writes them (up to the next table header).
    lines = generated.splitlines()
    start = lines.index(f"[{name}]")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    logger = os.path.join(workdir, "logger-operator-console.toml")
    open(logger, "w").write("\n".join(lines[start:end]) + "\n")

    definition = fluent_bit_lines.Definition()
    broker = Broker(tree, binary, logger, workdir).start().wait_ready()
    drive_mqtt()
    code = broker.stop()
    if code != 0:
        fail(f"broker-server exited with {code} after SIGTERM:\n{broker.tail()}")
    console = open(broker.output, encoding="utf-8", errors="replace").read().splitlines()
    try:
        shipped = fluent_bit_lines.ship(definition, console)
    except fluent_bit_lines.ShipError as e:
        fail(f"the broker's console through the shipped Fluent Bit definition: {e}")
    summary = fluent_bit_lines.summary(shipped)
    if summary["records"] != len(console) or summary["panics"]:
        fail(f"{len(console)} console lines shipped as {summary}")
    got = {(r["level"].lower(), r["fields"].get("event")) for _, r, _ in shipped}
    missing = [e for e in EXPECTED_EVENTS if e not in got]
    if missing:
        fail(f"events missing from the shipped records: {missing}; shipped events {summary['events']}")
    log(f"operator console [{name}] {dict((k, v) for k, v in table.items() if k != 'targets')}: "
        f"{len(console)} lines, each one record with level and target: {summary}")

    for backtrace in ("0", "1"):
        env = {k: v for k, v in os.environ.items() if k != "RUST_BACKTRACE"}
        env["RUST_BACKTRACE"] = backtrace
        r = subprocess.run([binary, "--conf", os.path.join(workdir, "no-such-server.toml")], cwd=tree,
                           capture_output=True, text=True, timeout=60, env=env)
        out = (r.stdout + r.stderr).splitlines()
        if r.returncode == 0 or not any("panicked at" in l for l in out):
            fail(f"broker-server with a missing --conf: exit {r.returncode}, no panic: {out[:10]}")
        try:
            shipped = fluent_bit_lines.ship(definition, out)
        except fluent_bit_lines.ShipError as e:
            fail(f"the broker's panic (RUST_BACKTRACE={backtrace}) through the shipped definition: {e}")
        panics = [rec for _, rec, _ in shipped if "location" in rec]
        if len(panics) != 1 or len(shipped) != 1:
            fail(f"{len(out)} lines of one panic shipped as {len(shipped)} records: {[t[:80] for _, _, t in shipped]}")
        log(f"broker-server panic (RUST_BACKTRACE={backtrace}): {len(out)} lines, one record at "
            f"{panics[0]['location']}, thread {panics[0]['thread']}")


def callgrind_control(pid, *args):
    p = subprocess.run(["callgrind_control", *args, str(pid)], capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        fail(f"callgrind_control {' '.join(args)} {pid}: {p.stdout}{p.stderr}")


def callgrind_dumps(out_file):
    """Instructions in each dump of a callgrind run, in dump order (out_file.1, .2, ...)."""
    counts, n = [], 1
    while os.path.exists(f"{out_file}.{n}"):
        with open(f"{out_file}.{n}") as f:
            m = re.search(r"(?m)^(?:summary|totals): *(\d+)", f.read())
        if not m:
            fail(f"{out_file}.{n} has no summary line")
        counts.append(int(m.group(1)))
        n += 1
    return counts


def crate_instructions(dump, crate_src):
    """Instructions that this crate's own code executed in a callgrind dump: the inclusive
    cost of each function whose path matches crate_src that no such function calls (the layer's
    on_event, the line limit's filter methods, the counting writer's write_all and flush),
    less what the counting writer's calls into the writer it wraps cost (the file or stdout
    write, which runs without the appender too). Deterministic for a given set of calls,
    where the broker's total moves with the scheduling of its threads. Returns the total and
    the entry points with their inclusive costs."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--tree=both", "--threshold=100", dump],
                         capture_output=True, text=True, check=True).stdout
    row = re.compile(r"^\s*([\d,]+) \([^)]*\)\s+([<>*])\s+(\S.*?)(?: \((\d+)x\))? \[[^\]]*\]$")
    funcs = {}  # name -> dict(incl, callers, callees)
    cur, pending = None, []
    for line in out.splitlines():
        m = row.match(line)
        if not m:
            if not line.strip():
                cur, pending = None, []
            continue
        cost, kind, name = int(m.group(1).replace(",", "")), m.group(2), m.group(3)
        if kind == "<":
            pending.append((name, cost))
        elif kind == "*":
            cur = funcs.setdefault(name, {"incl": cost, "callers": [], "callees": []})
            cur["callers"] += pending
            pending = []
        elif kind == ">" and cur is not None:
            cur["callees"].append((name, cost))
    ours = {n: f for n, f in funcs.items() if re.search(crate_src, n)}
    entries = {n: f for n, f in ours.items() if not any(c in ours for c, _ in f["callers"])}
    inner = sum(cost for f in ours.values() for c, cost in f["callees"]
                if c not in ours and re.search(r" as std::io::Write>::(write|write_all|write_vectored|flush)$", c))
    total = sum(f["incl"] for f in entries.values()) - inner
    return total, {n.split(":", 1)[1] if ":" in n else n: f["incl"] for n, f in entries.items()}


def bench(tree, binary, loggers, workdir, rounds, crate_src, messages=2000, idle_s=20):
    """Instructions the broker executes per published message, without and with the
    appender: broker-server under callgrind (all its threads in one count), started with
    instrumentation off; once it serves, instrumentation on, counters zeroed, then two
    dumps: after idle_s seconds of no traffic (the background rate: raft, heartbeats,
    the appender's own timers) and after a QoS 1 load of `messages` messages from one
    mosquitto_pub. Per message: (load - idle rate x load's wall time) / messages; the raw
    figure is printed beside it. The broker's total still moves by several per cent from
    round to round (its threads' scheduling changes how work is batched), so both dumps are
    also split by function: the instructions of this crate's own code (crate_instructions)
    per event counted, times the events per message (idle ones included). Rounds alternate
    ABBA."""
    payload = os.path.join(workdir, "payload.txt")
    open(payload, "w").write("".join(f"message {i}\n" for i in range(messages)))
    results, crate_cost = collections.defaultdict(list), collections.defaultdict(list)
    for r in range(rounds):
        for name in ("without", "with") if r % 2 == 0 else ("with", "without"):
            out_file = os.path.join(workdir, f"callgrind.{name}.{r}")
            wrapper = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_file}"]
            broker = Broker(tree, binary, loggers[name], workdir, wrapper=wrapper).start().wait_ready(deadline_s=900)
            pid = broker.proc.pid
            callgrind_control(pid, "-i", "on")
            # A scrape renders all of RobustMQ's families: millions of instructions,
            # so both configurations scrape, and only outside the two windows.
            events0 = events_total()
            callgrind_control(pid, "-z")
            t0 = time.monotonic()
            # The idle window is the measurement itself, not a wait for a condition.
            time.sleep(idle_s)
            callgrind_control(pid, "-d")
            idle_wall = time.monotonic() - t0
            t0 = time.monotonic()
            with open(payload) as stdin:
                p = mosquitto("mosquitto_pub", "-i", "e2e-bench", "-t", "bench/load", "-q", "1", "-l",
                              stdin=stdin, timeout=1800)
            if p.returncode != 0:
                fail(f"bench publish: {p.stderr}")
            callgrind_control(pid, "-d")
            load_wall = time.monotonic() - t0
            events = events_total() - events0 if name == "with" else None  # over both windows
            broker.stop()
            idle, load = callgrind_dumps(out_file)[:2]
            per_msg = (load - idle / idle_wall * load_wall) / messages
            results[name].append(per_msg)
            ours, entries = 0, collections.Counter()
            for dump in (f"{out_file}.1", f"{out_file}.2"):
                total, by_entry = crate_instructions(dump, crate_src)
                ours += total
                entries.update(by_entry)
            # The line limit runs in both configurations (it is an appender key of
            # its own); what the [log_metrics] table adds is the rest.
            appender = ours - sum(v for n, v in entries.items() if "::line_limit::" in n)
            if name == "with":
                crate_cost["per_event"].append(appender / max(events, 1))
                # An upper bound: the events of the idle window are counted too.
                crate_cost["events_per_msg"].append(events / messages)
            counted = "" if events is None else f", {events:.0f} events counted over both windows"
            log(f"bench round {r + 1} {name}: idle {idle / idle_wall / 1e6:.1f} M instr/s over {idle_wall:.0f} s; "
                f"load {load / 1e6:.1f} M instr over {load_wall:.0f} s = {load / messages:,.0f} instr/msg raw, "
                f"{per_msg:,.0f} instr/msg less the idle rate{counted}; this crate's code in both windows: "
                f"{ours:,} instr, {appender:,} of them outside the line limit: "
                + "; ".join(f"{n.rsplit('::', 1)[-1]} {v:,}" for n, v in sorted(entries.items(), key=lambda kv: -kv[1])))

    def median(xs):
        return sorted(xs)[len(xs) // 2]  # the upper one of an even count
    med = {k: median(v) for k, v in results.items()}
    per_event, per_msg = median(crate_cost["per_event"]), median(crate_cost["events_per_msg"])
    log(f"bench: instructions per QoS 1 message ({rounds} rounds of {messages}): "
        f"without {med['without']:,.0f} (rounds {', '.join(f'{x:,.0f}' for x in results['without'])}), "
        f"with {med['with']:,.0f} (rounds {', '.join(f'{x:,.0f}' for x in results['with'])}), "
        f"ratio with/without {med['with'] / med['without']:.4f}; the appender's code: {per_event:,.0f} instr "
        f"per event counted, {per_msg:.4f} events per message (rounds "
        f"{', '.join(f'{x:.4f}' for x in crate_cost['events_per_msg'])}), so "
        f"{per_event * per_msg:.1f} instr per message = {per_event * per_msg / med['without']:.5%} of one")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", required=True)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--rules", required=True)
    ap.add_argument("--bench-rounds", type=int, default=2)
    ap.add_argument("--crate-src", default=r"/robustmq-log-metrics-[0-9][^/]*/src/",
                    help="a regex matching the path of this crate's sources in the broker's debug info")
    ap.add_argument("--only", choices=("flood", "bench"),
                    help="run only the login flood (run 3b) or only the callgrind publish load (run 4)")
    a = ap.parse_args()
    # SIGTERM (a CI timeout, an operator) unwinds through the finally below, so
    # that the brokers and clients started here are stopped too: each runs in a
    # session of its own and would outlive this process.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tree = os.path.abspath(a.tree)
    workdir = tempfile.mkdtemp(prefix="robustmq-e2e-run.")
    logger_text = open(os.path.join(tree, "config/logger.toml")).read()
    loggers = {"with": os.path.join(tree, "config/logger.toml"),
               "without": os.path.join(workdir, "logger-without.toml")}
    open(loggers["without"], "w").write(logger_without_appender(logger_text))
    try:
        if a.only == "bench":
            bench(tree, a.broker, loggers, workdir, a.bench_rounds, a.crate_src)
            return
        if a.only == "flood":
            check_login_flood(tree, a.broker, logger_text, workdir)
            return
        log("run 1: without the appender")
        broker = Broker(tree, a.broker, loggers["without"], workdir).start().wait_ready()
        drive_mqtt()
        baseline = parse_families(scrape())
        broker.stop()

        log("run 2: with the pull requests' logger.toml")
        broker = Broker(tree, a.broker, loggers["with"], workdir).start().wait_ready()
        drive_mqtt()
        check_exact_counts(broker)
        body = scrape()
        check_families(body, baseline)
        check_events(body)
        check_module_events(broker)
        run_prometheus(os.path.abspath(a.rules), workdir)
        code = broker.stop()
        if code != 0:
            fail(f"broker-server exited with {code} after SIGTERM:\n{broker.tail()}")
        log("SIGTERM: broker-server stopped, exit 0")

        log("run 3: a mistyped appender key")
        check_typo(tree, a.broker, logger_text, workdir)
        check_console_lines_ship(tree, a.broker, workdir)

        log("run 3b: a login flood with and without the shipped line_limit")
        check_login_flood(tree, a.broker, logger_text, workdir)

        if a.bench_rounds:
            log(f"run 4: instructions per published message, {a.bench_rounds} rounds without/with the appender")
            bench(tree, a.broker, loggers, workdir, a.bench_rounds, a.crate_src)
    finally:
        stop_all()
    log("all checks passed")


if __name__ == "__main__":
    main()
