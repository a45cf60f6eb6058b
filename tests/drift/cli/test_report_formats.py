"""Report formats through the CLI: the table follows the terminal's width, a pipe gets one line per
finding, and --format sarif is accepted."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from drift.cli import main
from drift.cli.environment import Environment
from tests import clock
from tests.drift.cli.test_compare_cmds import write_env

LONG = "1.0-1+build.20261122.with.a.longer.tag"


def run(tmp_path, *args, columns=None, now=clock.NOW):
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, vars={"HOME": str(tmp_path)}, cwd=tmp_path, stderr_isatty=False,
                      columns=columns, now=lambda: now)
    return main(list(args), env), out.getvalue(), err.getvalue()


def test_the_table_wraps_to_the_terminal_and_not_in_a_pipe(tmp_path):
    stg = write_env(tmp_path / "stg", "staging", [LONG, LONG])
    prd = write_env(tmp_path / "prd", "prod", ["1.0-2", "1.0-2", "1.0-3"])
    code, piped, _ = run(tmp_path, "compare", stg, prd)
    assert code == 1
    rows = [line for line in piped.splitlines() if line.startswith(("high", "medium"))]
    assert len(rows) == 2 and max(map(len, rows)) > 100  # one line each, however long
    for width in (80, 200):
        _, tty, _ = run(tmp_path, "compare", stg, prd, columns=width)
        assert max(map(len, tty.splitlines())) <= width
        assert (len(tty.splitlines()) > len(piped.splitlines())) == (width == 80)
    assert piped.splitlines()[1].split()[:3] == ["staging", "2", "hosts"]


def test_the_stale_warning_wraps_on_a_terminal_and_is_one_line_in_a_pipe(tmp_path):
    stg = write_env(tmp_path / "stg", "staging", [LONG, LONG])
    prd = write_env(tmp_path / "prd", "prod", ["1.0-2", "1.0-2", "1.0-3"])
    later = clock.NOW + timedelta(days=400)  # every snapshot is a year old: both sides warn
    _, piped, _ = run(tmp_path, "compare", stg, prd, now=later)
    warned = [line for line in piped.splitlines() if line.startswith("warning:")]
    assert len(warned) == 2 and all("older than 7 days" in w for w in warned)
    _, tty, _ = run(tmp_path, "compare", stg, prd, columns=80, now=later)
    assert max(map(len, tty.splitlines())) <= 80
    assert sum(line.startswith("warning:") for line in tty.splitlines()) == 2
    assert len(tty.splitlines()) > len(piped.splitlines())


def test_an_output_file_is_never_wrapped(tmp_path):
    stg = write_env(tmp_path / "stg", "staging", [LONG])
    prd = write_env(tmp_path / "prd", "prod", ["1.0-2"])
    run(tmp_path, "compare", stg, prd, "-o", "report.txt", columns=60)
    text = (tmp_path / "report.txt").read_text()
    assert sum(line.startswith("high") for line in text.splitlines()) == 1 and max(map(len, text.splitlines())) > 60


def test_sarif_is_a_format(tmp_path):
    stg = write_env(tmp_path / "stg", "staging", ["1.0-1"])
    prd = write_env(tmp_path / "prd", "prod", ["1.0-2"])
    code, out, _ = run(tmp_path, "compare", stg, prd, "--format", "sarif")
    doc = json.loads(out)
    assert code == 1 and doc["version"] == "2.1.0" and len(doc["runs"][0]["results"]) == 1


def test_writing_a_report_says_what_it_wrote_on_stderr(tmp_path):
    stg = write_env(tmp_path / "stg", "staging", ["1.0-1"])
    prd = write_env(tmp_path / "prd", "prod", ["1.0-2"])
    code, out, err = run(tmp_path, "compare", stg, prd, "--format", "html", "-o", "report.html")
    assert code == 1 and out == ""
    assert "wrote report.html (1 finding, 1 blocking)" in err
    code, out, err = run(tmp_path, "compare", stg, prd, "--format", "json", "-o", "report.json")
    assert out == "" and "wrote report.json (1 finding, 1 blocking)" in err
    _, _, quiet = run(tmp_path, "compare", stg, prd, "-o", "report.txt", "--quiet")
    assert quiet == ""
