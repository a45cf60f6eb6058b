"""Renderers: each is a pure `Report -> str`. The match on OutputFormat is exhaustive, so a new
format that is not handled here fails the type check, not a user."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import NoReturn

from drift.model.incident import Since
from drift.model.report import Report
from drift.reports import html, json_report, junit, markdown, sarif, table, top
from drift.reports.text import sanitised


class OutputFormat(str, enum.Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    junit = "junit"
    html = "html"
    sarif = "sarif"


def _never(value: object) -> NoReturn:
    raise AssertionError(f"unhandled format {value!r}")


def render(report: Report, fmt: OutputFormat, color: bool = False, top_n: int = 0,
           since: Mapping[str, Since] | None = None, width: int | None = None) -> str:
    """`top_n`: the table starts with the N most important findings (`since`: finding id -> when), after
    its header. `width`: the terminal's columns when the table goes to a terminal; None for a file or
    a pipe (one line per finding).

    The one door to every format: human formats get a sanitised copy of the report (names, messages,
    errors to one printable line, details without control sequences); JSON and SARIF keep the data
    exact (json_report escapes what a terminal would obey)."""
    match fmt:
        case OutputFormat.table:
            clean = sanitised(report)
            return table.render(clean, color, width, top.render(clean, top_n, since) if top_n else "")
        case OutputFormat.json:
            return json_report.render(report)
        case OutputFormat.markdown:
            return markdown.render(sanitised(report))
        case OutputFormat.junit:
            return junit.render(sanitised(report))
        case OutputFormat.html:
            return html.render(sanitised(report))
        case OutputFormat.sarif:
            return sarif.render(report)
        case _:
            _never(fmt)
