"""A line-level file's unified diff renders as a diff block in Markdown and HTML."""

from __future__ import annotations

from drift.model.report import Finding, Kind, Level, Report, Side
from drift.reports import OutputFormat, render

DIFF = "--- staging\n+++ prod\n@@ -1,2 +1,3 @@\n server {\n+gzip on;\n-gzip off;\n }"


def report() -> Report:
    f = Finding("files", "files/etc/nginx/site.conf//lines", "/etc/nginx/site.conf", Kind.changed, "web",
                "site.conf differs (web): 1 line added in prod: + gzip on;", (), Level.high, True, detail=DIFF)
    return Report("compare", "2026-11-22T03:00:00Z", Side("staging", ("s1",)), Side("prod", ("p1",)), (f,), (),
                  Level.high)


def test_markdown_has_a_diff_block() -> None:
    text = render(report(), OutputFormat.markdown)
    assert "```diff\n--- staging\n+++ prod\n@@ -1,2 +1,3 @@\n server {\n+gzip on;" in text


def test_html_colours_added_and_removed_lines() -> None:
    text = render(report(), OutputFormat.html)
    assert '<pre class="diff"><span class="">--- staging</span>' in text
    assert '<span class="add">+gzip on;</span>' in text and '<span class="del">-gzip off;</span>' in text
