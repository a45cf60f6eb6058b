"""The table: who was compared first, then one row per finding; wraps on a terminal, never in a pipe."""

from __future__ import annotations

import re
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from drift.model.report import Finding, Kind, Level, Value
from drift.reports import OutputFormat, render, table
from tests.drift.reports.test_renderers import report

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_header_comes_first_with_sides_hosts_times_and_counts():
    lines = render(report(), OutputFormat.table).splitlines()
    assert lines[0] == "drift compare staging prod"
    assert lines[1].split()[:3] == ["staging", "3", "hosts"] and "collected 2026-11-22 03:00Z" in lines[1]
    assert "prd-web-9" in lines[2] and "1 not fully collected" in lines[2]
    assert lines[3].strip().startswith("9 findings: 6 high, 3 medium; 5 blocking at --fail-on high")
    assert lines[5].split() == ["severity", "category", "role", "what"]


def test_piped_output_is_one_line_per_finding():
    r = report()
    text = render(r, OutputFormat.table)  # width None: a file or a pipe
    rows = [line for line in text.splitlines() if line.split()[:1] and line.split()[0].rstrip("*") in
            [lvl.name for lvl in Level]]
    assert len(rows) == len(r.findings)
    for f, row in zip(r.findings, rows, strict=True):
        assert f.message in row


def test_a_terminal_wraps_between_words_and_never_splits_a_host_name():
    for width in (80, 200):
        text = render(report(), OutputFormat.table, width=width)
        assert max(map(len, text.splitlines())) <= width
        assert "prd-\n" not in text and "prd-web-3 has acme-app 2.3.9" in text.replace("\n" + " " * 30, " ")
    wide = render(report(), OutputFormat.table, width=200)
    assert wide.count("\n") < render(report(), OutputFormat.table, width=80).count("\n")


def test_the_first_80_column_screen_shows_the_sides_and_the_most_severe_findings():
    screen = render(report(), OutputFormat.table, width=80).splitlines()[:24]
    text = "\n".join(screen)
    assert "staging" in screen[1] and "prod" in screen[2]
    assert "prd-web-3 has acme-app 2.3.9" in text and "libssl3 is newer in prod" in text


def test_colour_only_when_asked():
    assert "\x1b[" not in render(report(), OutputFormat.table)
    coloured = render(report(), OutputFormat.table, color=True)
    assert "\x1b[31mhigh*" in coloured and ANSI.sub("", coloured) == render(report(), OutputFormat.table)


def test_a_top_block_goes_between_the_header_and_the_findings():
    text = table.render(report(), top="top 3 hosts by findings:\n  prd-web-3  4\n")
    lines = text.splitlines()
    assert lines[5] == "top 3 hosts by findings:" and lines[8].startswith("severity")


def test_waived_and_related_findings_say_so_on_their_row():
    text = render(report(), OutputFormat.table)
    assert "[waived: rolling kernel upgrade, CHG-1234]" in text
    assert text.count("(+2 related on tcp port 9187)") == 3


def _finding(message: str, role: str) -> Finding:
    return Finding("packages", "packages/deb/x", "x", Kind.changed, role, message,
                   (Value("a", "h", "1"),), Level.high, True)


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=300), st.text(min_size=1, max_size=30),
       st.integers(min_value=1, max_value=300))
def test_any_message_any_width_keeps_one_row_per_finding_when_piped(message, role, width):
    r = replace(report(), findings=(_finding(message, role),))
    piped = render(r, OutputFormat.table)
    body = piped.split("\n\n")[1].splitlines()
    assert len(body) == 2  # the column header and exactly one row
    render(r, OutputFormat.table, width=width)  # never raises, whatever the width


def test_the_header_says_how_old_the_snapshots_are():
    r = report()
    old = replace(r, right=replace(r.right, collected_at=("2026-09-01T03:00:00Z", *r.right.collected_at[1:])))
    lines = render(old, OutputFormat.table).splitlines()
    assert "collected 2026-09-01 03:00Z to 2026-11-22 03:00Z, 82 days ago" in lines[2]
    assert "ago" not in lines[1]  # collected when the report was made


def test_nothing_collected_is_not_reported_as_no_drift():
    """Both sides down: no findings, but nothing was compared either (issue 22)."""
    from drift.model.report import HostError, Side

    down = report()
    down = replace(down, findings=(), left=Side("staging", ("stg-web-1",)), right=Side("prod", ("prd-web-1",)),
                   errors=(HostError("stg-web-1", None, "refused"), HostError("prd-web-1", None, "refused")))
    for fmt in (OutputFormat.table, OutputFormat.markdown, OutputFormat.html):
        text = render(down, fmt)
        assert "no drift" not in text.lower(), fmt
        assert "no host of staging or prod could be collected" in text.lower(), fmt
    one_side = replace(down, errors=down.errors[1:])
    assert "nothing compared: no host of prod could be collected" in render(one_side, OutputFormat.table)
    partly = replace(down, right=Side("prod", ("prd-web-1", "prd-web-2")), errors=down.errors[1:])
    assert "no drift among the hosts that could be collected" in render(partly, OutputFormat.table)
    assert "\nno drift\n" in render(replace(down, errors=()), OutputFormat.table)
