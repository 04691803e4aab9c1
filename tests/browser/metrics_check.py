"""Reads a Gatehouse /metrics page in both of its text formats with the Prometheus project's own
Python parsers (prometheus_client), for the Rust integration tests (tests/it/metrics.rs).

Usage: python3 metrics_check.py URL

Fetches URL asking for OpenMetrics (as Prometheus does), then with no Accept header (the
classic 0.0.4 text format). Each page must carry its format's Content-Type and parse with that
format's parser (prometheus_client.openmetrics.parser, prometheus_client.parser); every metric
family of the first page must be on the second with the same type, and no counter may go down
from the first page to the second. Prints one JSON object {"name{label=\"value\",...}": value} of the
second page's samples (labels sorted) and exits 0; on any failure it prints the reason on
stderr and exits 1.
"""

import json
import math
import sys
import urllib.request

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_classic

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
CLASSIC = "text/plain; version=0.0.4; charset=utf-8"


def fail(reason):
    print(reason, file=sys.stderr)
    sys.exit(1)


def fetch(url, accept):
    headers = {"Accept": accept} if accept else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
        return r.headers.get("Content-Type"), r.read().decode("utf-8")


def key(sample):
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
    return f"{sample.name}{{{labels}}}"


def families(parsed):
    """{family name: type}, an OpenMetrics info family named and typed as the classic format
    writes it (a gauge whose name ends in _info)."""
    out = {}
    for family in parsed:
        name, kind = family.name, family.type
        if kind == "info":
            name, kind = name + "_info", "gauge"
        out[name] = kind
    return out


def main():
    if len(sys.argv) != 2:
        fail(__doc__)
    url = sys.argv[1]

    content_type, page = fetch(url, "application/openmetrics-text;version=1.0.0,text/plain;q=0.5")
    if content_type != OPENMETRICS:
        fail(f"OpenMetrics asked for, got Content-Type {content_type!r}")
    if not page.endswith("# EOF\n"):
        fail("an OpenMetrics page ends with # EOF")
    try:
        first = list(parse_openmetrics(page))
    except Exception as error:  # the parser's own exceptions are plain ValueErrors
        fail(f"OpenMetrics page does not parse: {error}\n{page}")

    content_type, page = fetch(url, None)
    if content_type != CLASSIC:
        fail(f"no Accept header, got Content-Type {content_type!r}")
    try:
        second = list(parse_classic(page))
    except Exception as error:
        fail(f"classic page does not parse: {error}\n{page}")

    # The second page may have more: the first request itself was counted in between.
    kinds = families(second)
    for name, kind in families(first).items():
        if kinds.get(name) != kind:
            fail(f"the formats disagree on {name}: {kind} then {kinds.get(name)}")
    if not families(second):
        fail("no metric families")

    samples = {}
    for family in second:
        for sample in family.samples:
            samples[key(sample)] = sample.value
    for family in first:
        if family.type != "counter":
            continue
        for sample in family.samples:
            later = samples.get(key(sample))
            if later is None or later < sample.value:
                fail(f"counter {key(sample)} went from {sample.value} to {later}")
    for name, value in samples.items():
        if math.isnan(value):
            fail(f"{name} is NaN")
    print(json.dumps(samples, sort_keys=True))


if __name__ == "__main__":
    main()
