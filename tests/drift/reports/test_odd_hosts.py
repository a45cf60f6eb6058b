"""Property: in random role fleets where a majority agrees, every format names exactly the minority
as odd, for every kind of fact (package, file hash, config key, line, sysctl, service, port); a
host holding the majority value is never blamed."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
from collections import Counter
from xml.etree import ElementTree as ET

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drift.analysis import compare as engine
from drift.analysis.differ import Env
from drift.analysis.policy import Policy
from drift.model import outliers
from drift.model.report import Kind, Report
from drift.reports import OutputFormat, render
from tests.drift.factory import snap

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.timezone.utc)


def _file(c: str) -> dict[str, object]:
    return {"sha256": c * 64, "size": 43, "mode": "0644", "owner": "root", "group": "root", "type": "file"}


def _unit(active: str) -> dict[str, str]:
    return {"enabled": "enabled", "active": active, "sub": "running" if active == "active" else "dead"}


# path -> (the majority's value, the values a minority host may hold instead); None is "absent".
KINDS = {
    "packages/deb/libssl3": ({"version": "3.0.19-1", "arch": "amd64"},
                             [{"version": "3.0.20-1", "arch": "amd64"}, {"version": "3.0.11-1", "arch": "amd64"}]),
    "files/etc/acme/app.conf": (_file("a"), [_file("b"), _file("c")]),
    "files/etc/acme/settings.ini//[cache] max_entries": ("1024", ["2048", "4096"]),
    "files/etc/hosts.allow//lines": (["sshd: 10.0.0.0/8"], [["sshd: ALL"], ["sshd: 10.0.0.0/8", "ALL: ALL"]]),
    "system/sysctl/net.ipv4.ip_forward": ("0", ["1"]),
    "services/nginx.service": (_unit("active"), [_unit("inactive"), _unit("failed")]),
    "topology/listen/tcp/*:8080": (None, [{"families": ["v4"], "process": "python3"}]),
}
ALWAYS = {"topology/listen/tcp/*:22": {"families": ["v4"], "process": "sshd"}}  # so absence is known


@st.composite
def fleets(draw: st.DrawFn) -> tuple[list, dict[str, set[str]]]:
    n = draw(st.integers(3, 7))
    hosts = [f"prd-web-{i}" for i in range(1, n + 1)]
    facts: dict[str, dict[str, object]] = {h: dict(ALWAYS) for h in hosts}
    minority: dict[str, set[str]] = {}
    for path, (major, others) in KINDS.items():
        odd = draw(st.sets(st.sampled_from(hosts), min_size=1, max_size=(n - 1) // 2))
        minority[path] = odd
        for h in hosts:
            v = draw(st.sampled_from(others)) if h in odd else major
            if v is not None:
                facts[h][path] = v
    return [snap(h, "prod", "web", facts[h]) for h in hosts], minority


def _audit(snaps: list) -> Report:
    return engine.audit(Env("prod", tuple(snaps)), None, Policy(), NOW)


def _named(text: str) -> set[str]:
    return set(re.findall(r"\bprd-web-\d\b", text))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets())
def test_every_format_blames_exactly_the_minority(fleet):
    snaps, minority = fleet
    report = _audit(snaps)
    found = {f.path: f for f in report.findings if f.kind is Kind.outlier}
    assert set(found) == set(minority)
    for path, f in found.items():
        assert set(f.odd) == minority[path], path

    doc = json.loads(render(report, OutputFormat.json))
    assert {f["path"]: set(f["odd_hosts"]) for f in doc["findings"]} == minority

    sarif = json.loads(render(report, OutputFormat.sarif))
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: set(r["properties"]["oddHosts"])
            for r in sarif["runs"][0]["results"]} == minority

    for case in ET.fromstring(render(report, OutputFormat.junit)).iter("testcase"):
        body = "".join(case.itertext())
        path = re.search(r"^path: (.*)$", body, re.M).group(1)  # type: ignore[union-attr]
        odd = re.search(r"^odd one out: (.*)$", body, re.M).group(1)  # type: ignore[union-attr]
        assert set(odd.split()) == minority[path]

    table = render(report, OutputFormat.table)
    md = render(report, OutputFormat.markdown)
    for f in found.values():
        (row,) = [line for line in table.splitlines() if f.message in line]
        assert _named(row) == minority[f.path], row
        (mdrow,) = [line for line in md.splitlines() if line.startswith("| ") and f.message in line.replace("\\", "")]
        assert set(re.findall(r"\*\*(prd-web-\d)\*\*", mdrow.rsplit(" | ", 1)[1])) == minority[f.path]
    tally = {t.name: t.count for t in outliers.summarize(report.findings).by_host}
    expected = Counter(h for odd in minority.values() for h in odd)
    assert tally == expected

    page = render(report, OutputFormat.html)
    by_subject = {htmllib.unescape(s): set(o.split()) for o, s in
                  re.findall(r'data-odd="([^"]*)" data-subject="([^"]*)"', page)}
    assert by_subject == {f.subject: minority[p] for p, f in found.items()}
    counts = dict(re.findall(r'data-host="(prd-web-\d)">[^<]*</button></td>\n<td>[^<]*</td><td>\d+</td><td>(\d+)</td>',
                             page))
    assert {h: int(c) for h, c in counts.items() if int(c)} == expected


def test_with_no_majority_every_host_is_named():
    snaps = [snap(f"prd-web-{i}", "prod", "web", {"system/sysctl/vm.swappiness": str(i)}) for i in (1, 2, 3)]
    (f,) = _audit(snaps).findings
    assert f.odd == ("prd-web-1", "prd-web-2", "prd-web-3")
    keyed = [snap(f"prd-web-{i}", "prod", "web", {"files/etc/a.ini//[x] y": str(i)}) for i in (1, 2)]
    (g,) = _audit(keyed).findings
    assert g.odd == ("prd-web-1", "prd-web-2")
