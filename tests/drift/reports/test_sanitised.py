"""Every string that reaches a terminal or a report is sanitised in one place (reports.render)."""

from __future__ import annotations

import json

import pytest

from drift.model.report import Finding, HostError, Kind, Level, Report, Side, Value
from drift.reports import OutputFormat, render

NASTY = "a\x1b[2J\x1b]0;title\x07\x9b31m\u202eb\nc\x00"
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\x00")


def report() -> Report:
    f = Finding(NASTY, f"{NASTY}/x", NASTY, Kind.changed, NASTY, NASTY, (Value(NASTY, NASTY, NASTY),),
                severity=Level.high, blocking=True, detail=NASTY)
    return Report("compare", "2026-11-22T03:00:00Z", Side(NASTY, (NASTY,)), Side(NASTY, (NASTY,)), (f,),
                  (HostError(NASTY, NASTY, NASTY * 10_000),), Level.high, (NASTY,))


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_no_control_sequence_reaches_any_format(fmt: OutputFormat) -> None:
    out = render(report(), fmt)
    for ch in RAW:
        assert ch not in out, f"{ch!r} in {fmt.value}"
    out.encode("utf-8")


def test_json_keeps_the_data_exact() -> None:
    doc = json.loads(render(report(), OutputFormat.json))
    assert doc["findings"][0]["role"] == NASTY and doc["errors"][0]["host"] == NASTY


def test_names_cannot_forge_a_line_in_the_table() -> None:
    out = render(report(), OutputFormat.table)
    assert not any(line.startswith("c") and not line.startswith("could") for line in out.splitlines())
    assert len(out) < 20_000, "a huge error message reached the table unbounded"
