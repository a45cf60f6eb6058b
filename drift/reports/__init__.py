"""Renderers: each is a pure `Report -> str`. The match on OutputFormat is exhaustive, so a new
format that is not handled here fails the type check, not a user."""

from __future__ import annotations

import enum
from typing import NoReturn

from drift.model.report import Report
from drift.reports import html, json_report, junit, markdown, sarif, table


class OutputFormat(str, enum.Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    junit = "junit"
    html = "html"
    sarif = "sarif"


def _never(value: object) -> NoReturn:
    raise AssertionError(f"unhandled format {value!r}")


def render(report: Report, fmt: OutputFormat, color: bool = False, width: int | None = None) -> str:
    """`width`: the terminal's columns when the table goes to a terminal; None for a file or a pipe."""
    match fmt:
        case OutputFormat.table:
            return table.render(report, color, width)
        case OutputFormat.json:
            return json_report.render(report)
        case OutputFormat.markdown:
            return markdown.render(report)
        case OutputFormat.junit:
            return junit.render(report)
        case OutputFormat.html:
            return html.render(report)
        case OutputFormat.sarif:
            return sarif.render(report)
        case _:
            _never(fmt)
