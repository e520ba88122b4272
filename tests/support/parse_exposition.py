"""Parses exposition text from stdin with the reference parser (prometheus-client)
and prints one JSON object per sample: {"family", "type", "name", "labels", "value"}.

Usage: parse_exposition.py [prometheus|openmetrics]
Exit 2 with the parser's error on invalid input.
"""
import json
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families as prom_parse
    from prometheus_client.openmetrics.parser import (
        text_string_to_metric_families as om_parse,
    )
except ImportError:
    sys.stderr.write(
        "python package prometheus-client is missing: run `bash .ci/install-tools` "
        "(scripts/lib/install.sh pins its version)\n"
    )
    sys.exit(3)

fmt = sys.argv[1] if len(sys.argv) > 1 else "prometheus"
text = sys.stdin.read()
parse = om_parse if fmt == "openmetrics" else prom_parse
try:
    out = []
    for fam in parse(text):
        for s in fam.samples:
            out.append(
                {
                    "family": fam.name,
                    "type": fam.type,
                    "help": fam.documentation,
                    "name": s.name,
                    "labels": s.labels,
                    "value": s.value,
                }
            )
except Exception as e:  # the parser raises ValueError and others on bad input
    sys.stderr.write(f"parse error: {e!r}\n")
    sys.exit(2)
json.dump(out, sys.stdout)
