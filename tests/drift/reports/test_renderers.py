"""Every format renders the same report; golden files pin the output. UPDATE_GOLDEN=1 rewrites them."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from drift.analysis import compare as engine
from drift.analysis.differ import Env
from drift.analysis.policy import Policy, WaiverRule
from drift.model.report import Level
from drift.reports import OutputFormat, render
from tests.drift.factory import snap

GOLDEN = Path(__file__).parent / "golden"
NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.timezone.utc)
SUFFIX = {OutputFormat.table: "txt", OutputFormat.json: "json", OutputFormat.markdown: "md",
          OutputFormat.junit: "xml", OutputFormat.html: "html", OutputFormat.sarif: "sarif"}


def _net(env, i):
    """Each side on its own subnet: routes compare equal by position, reports show the real gateway."""
    subnet = "10.0.1" if env == "staging" else "10.0.2"
    addresses = "topology/interfaces/eth0/addresses"
    return {addresses: [f"{subnet}.{10 + i}/24"],
            "topology/routes/v4/default": {"dev": "eth0", "via": f"eth0 net+{254 if i == 3 else 1}"}}, (addresses,)


def _file(content, mode="0644"):
    return {"sha256": content * 64, "size": 1834, "mode": mode, "owner": "root", "group": "root", "type": "file"}


def report():
    chain = "firewall/iptables/filter/INPUT"
    nft = "firewall/nft/inet acme/input"
    base = {"policy": "ACCEPT", "rules": ["-i lo -j ACCEPT"]}
    stg = [snap(f"stg-web-{i}", "staging", "web", {
        "packages/deb/libssl3": {"version": "3.0.19-1~deb12u2", "arch": "amd64"},
        "packages/deb/linux-image-amd64": {"version": "6.1.1", "arch": "amd64"}, chain: base,
        nft: {"policy": "accept", "rules": ["iifname lo accept"]},
        "files/etc/acme/app.conf": _file("a"), **_net("staging", i)[0]}, identity=_net("staging", i)[1])
        for i in (1, 2)]
    stg.append(snap("stg-db-1", "staging", "db", {
        "packages/deb/libssl3": {"version": "3.0.19-1~deb12u2", "arch": "amd64"}}))
    prd = [snap(f"prd-web-{i}", "prod", "web", {
        "packages/deb/libssl3": {"version": "3.0.19-1~deb12u9", "arch": "amd64"},
        "packages/deb/linux-image-amd64": {"version": "6.1.2", "arch": "amd64"},
        "packages/deb/acme-app": {"version": "2.3.9" if i == 3 else "2.4.1", "arch": "all"},
        chain: {"policy": "ACCEPT", "rules": ["-i lo -j ACCEPT", "-p tcp -m tcp --dport 9187 -j ACCEPT"]},
        nft: {"policy": "accept", "rules": ["iifname lo accept", "tcp dport 9187 accept"]},
        "topology/listen/tcp/*:9187": {"process": "node_exporter", "families": ["v4"]},
        "files/etc/acme/app.conf": _file("b" if i == 2 else "a", "0600" if i == 2 else "0644"),
        **_net("prod", i)[0]}, identity=_net("prod", i)[1])
        for i in (1, 2, 3)] + [snap("prd-web-9", "prod", "web", {}, down=True)]
    prd.append(snap("prd-db-1", "prod", "db", {
        "packages/deb/libssl3": {"version": "3.0.19-1~deb12u9", "arch": "amd64"}}))
    pol = Policy(waivers=(WaiverRule("packages/deb/linux-image-*", "rolling kernel upgrade, CHG-1234",
                                     dt.date(2026, 12, 31)),))
    return engine.compare(Env("staging", tuple(stg)), Env("prod", tuple(prd)), pol, NOW)


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_golden(fmt):
    text = render(report(), fmt)
    path = GOLDEN / f"report.{SUFFIX[fmt]}"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_json_follows_the_spec():
    doc = json.loads(render(report(), OutputFormat.json))
    assert list(doc)[:7] == ["schema", "generated_at", "command", "left", "right", "fail_on", "summary"][:7]
    assert doc["schema"] == "drift.report/1" and doc["generated_at"] == "2026-11-22T03:00:00Z"
    assert doc["left"]["name"] == "staging" and doc["left"]["hosts"] == ["stg-db-1", "stg-web-1", "stg-web-2"]
    assert doc["left"]["collected_at"]["stg-web-1"] == "2026-11-22T03:00:00Z"
    s = doc["summary"]
    assert set(s) >= {"findings", "blocking", "waived", "by_severity", "by_category", "hosts_failed", "exit_code"}
    assert list(s["by_severity"]) == ["critical", "high", "medium", "low", "info"]
    assert s["exit_code"] == 1 and s["hosts_failed"] == 1 and s["waived"] == 1
    keys = {"id", "category", "path", "subject", "kind", "role", "severity", "blocking", "waived", "message", "values"}
    order = []
    for f in doc["findings"]:
        assert keys <= set(f) and len(f["id"]) == 8
        assert f["kind"] in ("only_left", "only_right", "changed", "outlier")
        order.append((-Level[f["severity"]], f["category"], f["subject"]))
    assert order == sorted(order)
    ssl = next(f for f in doc["findings"] if f["subject"] == "libssl3")
    assert ssl["message"].startswith("libssl3 is newer in prod (3.0.19-1~deb12u9) than in staging (3.0.19-1~deb12u2)")
    kernel = next(f for f in doc["findings"] if f["subject"] == "linux-image-amd64")
    assert kernel["waived"] == {"reason": "rolling kernel upgrade, CHG-1234", "expires": "2026-12-31", "expired": False}
    assert doc["errors"] == [{"host": "prd-web-9", "collector": None, "message": "connection refused"}]


def test_junit_has_one_testcase_per_finding_and_error():
    root = ET.fromstring(render(report(), OutputFormat.junit))
    r = report()
    cases = root.findall(".//testcase")
    assert len(cases) == len(r.findings) + len(r.errors)
    assert int(root.get("failures")) == sum(f.blocking for f in r.findings)


def test_json_names_roles_odd_hosts_and_related_findings():
    doc = json.loads(render(report(), OutputFormat.json))
    ssl = next(f for f in doc["findings"] if f["subject"] == "libssl3")
    assert ssl["role"] == "db" and ssl["roles"] == ["db", "web"]
    assert {v["host"] for v in ssl["values"]} == {"stg-db-1", "stg-web-1", "stg-web-2", "prd-db-1", "prd-web-1",
                                                 "prd-web-2", "prd-web-3"}
    app = next(f for f in doc["findings"] if f["subject"] == "acme-app" and f["kind"] == "outlier")
    assert app["odd_hosts"] == ["prd-web-3"]
    ids = {f["id"]: f for f in doc["findings"]}
    port = [f for f in doc["findings"] if f["topic"] == "tcp port 9187"]
    assert sorted(f["category"] for f in port) == ["firewall", "firewall", "topology"]
    for f in port:
        assert sorted(f["related"]) == sorted(g["id"] for g in port if g is not f)
        assert all(r in ids for r in f["related"])


def test_no_python_reprs_in_any_format():
    for fmt in OutputFormat:
        text = render(report(), fmt)
        assert "['" not in text and "->" not in text and "net+" not in text, fmt


def test_html_is_self_contained_and_escapes_host_data():
    page = render(report(), OutputFormat.html)
    assert page.count("<script") == 1 and "src=" not in page and "<link" not in page
    assert "http://" not in page and "https://" not in page


def test_html_lists_at_most_50_values_per_finding_odd_hosts_first():
    from dataclasses import replace

    from drift.model.report import Finding, Kind, Value

    values = tuple(Value("prod", f"prd-web-{i:03}", "2" if i == 77 else "1") for i in range(120))
    f = Finding("packages", "packages/deb/a", "a", Kind.outlier, "web", "m", values, Level.high, odd=("prd-web-077",))
    page = render(replace(report(), findings=(f,)), OutputFormat.html)
    assert page.count("<tr class=\"odd\">") == 1 and page.index("<td>prd-web-077</td>") < page.index("<td>prd-web-000</td>")
    assert "+70 more hosts" in page and "values on 120 hosts" in page


def test_undecided_flows_reach_junit_and_sarif():
    from dataclasses import replace

    from drift.model.report import Undecided

    r = replace(report(), undecided=(
        Undecided("prod", "db → web:80/tcp", ("prd-db-1", "prd-web-1"), "prd-web-1 nft inet f input rule 4: a meter"),
        Undecided("prod", "web → db:5432/tcp", ("prd-web-1", "prd-db-1"), "xt match owner", unproven=False)))
    root = ET.fromstring(render(r, OutputFormat.junit))
    cases = {c.get("name"): c for c in root.findall(".//testcase") if c.get("classname") == "drift.reach"}
    assert cases["undecided: db → web:80/tcp in prod"].find("error").get("type") == "undecided"
    assert cases["undecided: web → db:5432/tcp in prod"].find("skipped") is not None
    assert int(root.get("errors")) == len(r.errors) + 1
    notes = json.loads(render(r, OutputFormat.sarif))["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    undecided = [n for n in notes if n.get("descriptor", {}).get("id") == "drift/reach-undecided"]
    assert [n["level"] for n in undecided] == ["error", "note"] and "a meter" in undecided[0]["message"]["text"]
