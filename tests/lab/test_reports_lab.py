"""The reports on the lab's real drift: SARIF validates, the HTML filters to one host in Chromium,
the table names the sides first and keeps one line per finding in a pipe."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from tests.drift.reports.test_html_browser import FLAGS, Dom, need_chromium

pytestmark = pytest.mark.lab
SCHEMA = json.loads((Path(__file__).parents[1] / "drift" / "reports" / "data" / "sarif-schema-2.1.0.json").read_text())


def test_sarif_from_the_lab_validates(lab, drift):
    code, out, err = drift("compare", "staging", "prod", "-i", str(lab.inventory), "--format", "sarif")
    assert code == 1, err
    doc = json.loads(out)
    assert not list(Draft4Validator(SCHEMA, format_checker=Draft4Validator.FORMAT_CHECKER).iter_errors(doc))
    odd = next(r for r in doc["runs"][0]["results"] if r["ruleId"] == "drift/packages/outlier")
    assert odd["locations"][0]["logicalLocations"][0]["name"] == "prd-web-3"


def test_html_from_the_lab_filters_to_one_host_in_chromium(lab, drift, tmp_path):
    chromium = need_chromium()
    code, _, err = drift("compare", "staging", "prod", "-i", str(lab.inventory), "--format", "html",
                         "-o", "report.html")
    assert code == 1, err
    page = drift.workdir / "report.html"
    done = subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           page.as_uri() + "#host=prd-web-3"], capture_output=True, text=True, timeout=90)
    dom = Dom()
    dom.feed(done.stdout)
    assert dom.root.get("data-ready") == "1" and dom.texts["hv-host"] == "prd-web-3"
    visible = dom.visible()
    assert visible and len(visible) < len(dom.rows)
    assert all("prd-web-3" in (row["data-hosts"] or "").split() for row in visible)
    assert "tzdata" in [row["data-subject"] for row in visible if "odd-here" in (row.get("class") or "")]


def test_the_table_from_the_lab_starts_with_the_sides(lab, drift):
    code, out, _ = drift("compare", "staging", "prod", "-i", str(lab.inventory))
    lines = out.splitlines()
    assert code == 1 and lines[0] == "drift compare staging prod"
    staging, prod = lines[1].split(), lines[2].split()
    assert (staging[0], staging[2], prod[0], prod[2]) == ("staging", "hosts", "prod", "hosts")
    rows = [line for line in lines
            if line.split()[:1] and line.split()[0].rstrip("*") in ("critical", "high", "medium", "low", "info")]
    assert len(rows) == int(lines[3].split()[0]) and any("db,web" in r for r in rows)  # one line per finding
