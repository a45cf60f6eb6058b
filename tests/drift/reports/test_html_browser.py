"""The HTML report in a real browser (Debian's headless Chromium): the script runs under the page's
own Content-Security-Policy, filtering to one host works, and hostile host data stays inert text."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from urllib.parse import quote

import pytest

from drift.model.report import Finding, Kind, Level, Side, Value
from drift.reports import OutputFormat, render
from tests.drift.reports.test_renderers import report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--dump-dom"]


def need_chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("DRIFT_LAB") == "required":  # CI installs it: missing there is a failure
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    need_chromium()
    root = tmp_path_factory.mktemp("browser")

    def dump(page: str, fragment: str = "") -> Dom:
        path = root / f"report-{abs(hash((page, fragment)))}.html"
        path.write_text(page)
        profile = root / f"profile-{path.stem}"  # a fresh profile for every page
        done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", path.as_uri() + fragment],
                              capture_output=True, text=True, timeout=90)
        assert done.returncode == 0, done.stderr[-2000:]
        dom = Dom()
        dom.feed(done.stdout)
        return dom

    return dump


@dataclass
class Dom(HTMLParser):
    """What the tests look at in the DOM Chromium dumps after the page's script ran."""

    rows: list[dict[str, str | None]] = field(default_factory=list)
    scripts: int = 0
    root: dict[str, str | None] = field(default_factory=dict)
    handlers: list[str] = field(default_factory=list)
    hrefs: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    _in: str | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.root = a
        if tag == "script":
            self.scripts += 1
        if tag == "tr" and "finding" in (a.get("class") or "").split():
            self.rows.append(a)
        self.handlers += [k for k in a if k.startswith("on")]
        if a.get("href"):
            self.hrefs.append(a["href"])
        if a.get("id") in ("shown", "hv-host", "hv-odd", "hv-all"):
            self._in = a["id"]

    def handle_data(self, data):
        if self._in:
            self.texts[self._in] = self.texts.get(self._in, "") + data

    def handle_endtag(self, tag):
        self._in = None

    def visible(self) -> list[dict[str, str | None]]:
        return [r for r in self.rows if "hidden" not in r]


def test_the_script_runs_under_the_pages_own_policy(browser):
    dom = browser(render(report(), OutputFormat.html))
    assert dom.root.get("data-ready") == "1"  # our script ran: its CSP hash matches
    assert dom.scripts == 1 and len(dom.rows) == len(report().findings)
    assert dom.texts["shown"] == f"{len(dom.rows)} of {len(dom.rows)} findings shown"


def test_filtering_to_one_host_shows_only_its_findings(browser):
    r = report()
    dom = browser(render(r, OutputFormat.html), "#host=stg-web-1")
    involved = [f for f in r.findings if "stg-web-1" in {v.host for v in f.values}]
    assert 0 < len(involved) < len(r.findings)
    assert sorted(row["id"] for row in dom.visible()) == sorted(f"f-{f.id}" for f in involved)
    assert dom.texts["hv-host"] == "stg-web-1" and dom.texts["shown"] == f"{len(involved)} of {len(r.findings)} findings shown"


def test_the_per_host_view_counts_where_the_host_is_the_odd_one(browser):
    dom = browser(render(report(), OutputFormat.html), "#host=prd-web-3&severity=3")
    visible = dom.visible()
    assert visible and all(int(row["data-severity"]) >= 3 for row in visible)
    odd = [row for row in visible if "odd-here" in (row.get("class") or "")]
    assert [row["data-subject"] for row in odd] == ["acme-app"] and dom.texts["hv-odd"] == "1"


def test_filters_by_category_and_role(browser):
    dom = browser(render(report(), OutputFormat.html), "#category=topology&role=web")
    assert {row["data-category"] for row in dom.visible()} == {"topology"}
    dom = browser(render(report(), OutputFormat.html), "#role=db")
    assert [row["data-subject"] for row in dom.visible()] == ["libssl3"]


EVIL_HOST = "javascript:document.documentElement.setAttribute('data-pwned','host')"
PWN = "document.documentElement.setAttribute('data-pwned','{}')"


def _hostile():
    values = (Value("prod\"'><b>", EVIL_HOST, f"\"><svg onload=\"{PWN.format('svg')}\">"),
              Value("prod", "ok-1", "1"), Value("prod", "ok-2", "1"))
    f = Finding("files", "files/<script>x", f"<script>{PWN.format('subject')}</script>", Kind.outlier,
                "web</td><script>alert(1)</script>", f"<img src=x onerror=\"{PWN.format('img')}\"> and 'quotes\"",
                values, Level.high, True, detail=f"</pre><script>{PWN.format('detail')}</script>",
                odd=(EVIL_HOST,), related=("deadbeef",), topic="<i>t</i>")
    r = report()
    return replace(r, findings=(f, *r.findings), left=Side("<script>alert(1)</script>", ("a",)),
                   right=Side("prod", (EVIL_HOST, "ok-1", "ok-2"), ("2026-11-22T03:00:00Z",) * 3),
                   warnings=("<script>alert(2)</script>",))


def test_a_hostile_report_stays_inert_in_the_browser(browser):
    page = render(_hostile(), OutputFormat.html)
    assert page.count("<script") == 1
    for fragment in ("", "#host=" + quote(EVIL_HOST, safe="")):
        dom = browser(page, fragment)
        assert dom.root.get("data-ready") == "1" and "data-pwned" not in dom.root
        assert dom.scripts == 1 and not dom.handlers
        assert not [h for h in dom.hrefs if not h.startswith("#")]
    assert dom.texts["hv-host"] == EVIL_HOST and len(dom.visible()) == 1  # filtered to it, as text


def test_sorting_by_a_column(browser):
    dom = browser(render(report(), OutputFormat.html), "#sort=category")
    cats = [row["data-category"] for row in dom.rows]
    assert cats == sorted(cats) and cats != [f.category for f in report().findings][::-1]
    dom = browser(render(report(), OutputFormat.html), "#sort=-finding")
    subjects = [row["data-subject"] for row in dom.rows]
    assert subjects == sorted(subjects, reverse=True)


def test_a_person_clicking_filters_sorts_and_unfolds(tmp_path):
    """The controls themselves, driven as a person would use them (DevTools protocol over a pipe)."""
    chromium = need_chromium()
    from tests.drift.reports.cdp import Browser

    r = report()
    page = tmp_path / "report.html"
    page.write_text(render(r, OutputFormat.html))
    b = Browser(chromium, tmp_path / "profile")
    try:
        b.open(page.as_uri())
        visible = "Array.from(document.querySelectorAll('tr.finding')).filter(r => !r.hidden).map(r => r.id)"
        b.js("document.querySelector('button.host[data-host=\"stg-web-1\"]').click()")
        involved = [f"f-{f.id}" for f in r.findings if "stg-web-1" in {v.host for v in f.values}]
        assert b.js(visible) == involved and b.js("document.getElementById('f-host').value") == "stg-web-1"
        b.js("var c = document.getElementById('f-severity'); c.value = '3'; c.dispatchEvent(new Event('change'))")
        high = [f"f-{f.id}" for f in r.findings if f.id in {i[2:] for i in involved} and f.severity >= 3]
        assert b.js(visible) == high and b.js("location.hash") == "#severity=3&host=stg-web-1"
        b.js("document.getElementById('f-reset').click()")
        assert len(b.js(visible)) == len(r.findings)
        b.js("document.querySelector('th button[data-sort=\"category\"]').click()")
        cats = b.js("Array.from(document.querySelectorAll('tr.finding')).map(r => r.dataset.category)")
        assert cats == sorted(cats)
        b.js("var t = document.getElementById('f-text'); t.value = 'node_exporter'; t.dispatchEvent(new Event('input'))")
        assert b.js("document.getElementById('shown').textContent") == "1 of 9 findings shown"
        b.js("document.querySelector('tr.finding:not([hidden]) summary').click()")
        assert b.js("document.querySelector('tr.finding:not([hidden]) details').open") is True
    finally:
        b.close()
