"""Renderers: each is a pure `Report -> str`. The match on OutputFormat is exhaustive, so a new
format that is not handled here fails the type check, not a user."""

from __future__ import annotations

import enum
from typing import NoReturn

from drift.model.report import Report
from drift.reports import html, json_report, junit, markdown, table
from drift.reports.text import sanitised


class OutputFormat(str, enum.Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    junit = "junit"
    html = "html"


def _never(value: object) -> NoReturn:
    raise AssertionError(f"unhandled format {value!r}")


def render(report: Report, fmt: OutputFormat, color: bool = False) -> str:
    """The one door to every format. Human formats get a sanitised copy of the report (names to
    one printable line, text without control sequences); JSON keeps the data exact and escapes what
    a terminal would obey (json_report)."""
    match fmt:
        case OutputFormat.table:
            return table.render(sanitised(report), color)
        case OutputFormat.json:
            return json_report.render(report)
        case OutputFormat.markdown:
            return markdown.render(sanitised(report))
        case OutputFormat.junit:
            return junit.render(sanitised(report))
        case OutputFormat.html:
            return html.render(sanitised(report))
        case _:
            _never(fmt)
