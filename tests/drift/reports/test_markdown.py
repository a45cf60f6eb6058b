"""Markdown for a PR comment: three columns, the odd host named, details folded, under GitHub's limit."""

from __future__ import annotations

from dataclasses import replace

from drift.model.report import Finding, Kind, Level, Value
from drift.reports import OutputFormat, markdown, render
from tests.drift.reports.test_renderers import report


def _table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| severity")]


def test_three_columns_and_the_odd_host_named():
    text = render(report(), OutputFormat.markdown)
    assert "| severity | finding | where |" in text
    rows = _table_rows(text)
    assert len(rows) == len(report().findings)
    app = next(r for r in rows if "acme-app 2.3.9" in r)
    assert app.endswith("| **prd-web-3** |")
    assert "<details><summary>Values per host</summary>" in text and "</details>" in text
    assert "**staging**: 3 hosts" in text and "not fully collected: prd-web-9" in text


def _many(n: int) -> tuple[Finding, ...]:
    return tuple(Finding("packages", f"packages/deb/pkg{i}", f"pkg{i}", Kind.outlier, "web",
                         f"prd-web-{i} has pkg{i} 1.{i}; its 40 web peers in prod have 2.{i} " + "x" * 80,
                         tuple(Value("prod", f"prd-web-{j}", f"2.{i}") for j in range(40)), Level.high, True,
                         odd=(f"prd-web-{i}",), detail="version: 2 → 1")
                 for i in range(n))


def test_a_huge_report_stays_under_githubs_limit_with_a_more_line():
    r = replace(report(), findings=_many(3000))
    text = render(r, OutputFormat.markdown)
    assert len(text) < markdown.LIMIT and len(text.encode("utf-16-le")) // 2 < markdown.LIMIT
    rows = _table_rows(text)
    assert 50 < len(rows) < 3000
    assert f"**+{3000 - len(rows)} more findings** not shown here" in text
    assert text.rstrip().endswith("connection refused")  # the errors are never cut


def test_host_data_cannot_inject_markdown_or_html():
    evil = Finding("files", "files/x", "x", Kind.outlier, "web", "a | b <img src=x onerror=alert(1)> [link](javascript:x) **bold**",
                   (Value("prod", "h<script>", "v"),), Level.high, True, odd=("h<script>",), detail="```\nend")
    text = render(replace(report(), findings=(evil,)), OutputFormat.markdown)
    assert "<img" not in text and "<script>" not in text and "[link](" not in text and "\\[link\\](" in text
    row = _table_rows(text)[0]
    assert row.count(" | ") == 2  # the pipe in the message is escaped, the row keeps three cells


def test_hidden_secrets_read_as_words_and_sides_keep_the_users_order():
    import datetime as dt

    from drift.analysis import compare as engine
    from drift.analysis.differ import Env
    from drift.analysis.policy import Policy
    from tests.drift.factory import snap

    key = "files/etc/acme/settings.ini//[smtp] api_token"
    a, b = {"secret": True, "hmac": "a" * 32}, {"secret": True, "hmac": "b" * 32}
    r = engine.compare(Env("staging", (snap("s1", "staging", "web", {key: a}),)),
                       Env("prod", (snap("p1", "prod", "web", {key: b}),)), Policy(),
                       dt.datetime(2026, 11, 22, tzinfo=dt.timezone.utc))
    flipped = replace(r, findings=tuple(replace(f, values=f.values[::-1]) for f in r.findings))
    for fmt in (OutputFormat.markdown, OutputFormat.html):
        text = render(flipped, fmt)
        assert "hmac" not in text and "(hidden; differs from prod)" in text, fmt
        assert "staging vs prod (web)" in text and "prod vs staging" not in text, fmt
