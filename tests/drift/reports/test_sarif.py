"""SARIF 2.1.0 output validates against the official schema and maps findings faithfully."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from drift.reports import OutputFormat, render
from tests.drift.reports.test_renderers import report

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture(scope="module")
def sarif():
    return json.loads(render(report(), OutputFormat.sarif))


def test_validates_against_the_official_schema(sarif):
    Draft4Validator.check_schema(SCHEMA)
    errors = sorted(Draft4Validator(SCHEMA, format_checker=Draft4Validator.FORMAT_CHECKER).iter_errors(sarif), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_a_clean_report_validates_too():
    r = report()
    from dataclasses import replace

    clean = replace(r, findings=(), errors=(), warnings=())
    doc = json.loads(render(clean, OutputFormat.sarif))
    assert not list(Draft4Validator(SCHEMA).iter_errors(doc))
    assert doc["runs"][0]["results"] == [] and doc["runs"][0]["invocations"][0]["executionSuccessful"]


def test_one_result_per_finding_with_levels_suppressions_and_fingerprints(sarif):
    r = report()
    run = sarif["runs"][0]
    results = run["results"]
    assert len(results) == len(r.findings)
    for f, res in zip(r.findings, results, strict=True):
        assert res["partialFingerprints"]["driftFinding/v1"] == f.id
        assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] == ("error" if f.blocking else "warning" if f.severity >= 2 else "note")
        assert ("suppressions" in res) == (f.waived is not None and not f.waived.expired)
    app = next(x for x in results if x["ruleId"] == "drift/packages/outlier")
    assert app["locations"][0]["logicalLocations"][0]["name"] == "prd-web-3"  # the odd host first
    kernel = next(x for x in results if "suppressions" in x)
    assert "CHG-1234" in kernel["suppressions"][0]["justification"]


def test_uncollected_hosts_make_the_run_unsuccessful(sarif):
    inv = sarif["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False and inv["exitCode"] == 1
    assert any("prd-web-9" in n["message"]["text"] for n in inv["toolExecutionNotifications"])
