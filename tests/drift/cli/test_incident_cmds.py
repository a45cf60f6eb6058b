from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import replace

import pytest

from drift.cli import main
from drift.cli.environment import Environment
from drift.store import baseline as baseline_io
from drift.store.sqlite import Store
from tests.drift.analysis import incident_fixtures as fx

NOW = dt.datetime(2026, 11, 20, 7, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def run(tmp_path):
    """`drift ARGS` at a fixed clock (07:00) over a store holding the staged fleet history."""
    db = tmp_path / "s.db"
    with Store.open(db) as store:
        store.record([s for h in fx.HOSTS for s in fx.history(h)])

    def go(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        env = Environment(stdout=out, stderr=err, vars={"HOME": str(tmp_path), "DRIFT_STORE": str(db)},
                          cwd=tmp_path, now=lambda: NOW, stderr_isatty=False)
        return main(list(args), env), out.getvalue(), err.getvalue()

    go.dir = tmp_path  # type: ignore[attr-defined]
    return go


def test_changes_json_is_one_document_of_ranked_events(run):
    code, out, err = run("changes", "prod", "--since", "5h", "--format", "json")
    doc = json.loads(out)
    assert code == 3 and "db-2" in err  # db-2 has no snapshot in the window: unknown, not unchanged
    assert doc["schema"] == "drift.changes/1" and doc["unobserved"] == ["db-2"]
    assert [e["subject"] for e in doc["events"]] == ["/etc/app.conf", "iptables filter INPUT", "libssl3", "openssl",
                                                     "10 packages"]
    libssl = doc["events"][2]
    assert libssl["partial"] and [h["host"] for h in libssl["hosts"]] == ["web-1", "web-2", "web-3"]
    assert libssl["between"] == {"after": fx.at(2), "before": fx.at(3)} and libssl["of"] == 4
    assert doc["events"][4]["count"] == 10 and len(doc["events"][4]["members"]) == 10


def test_changes_table_markdown_html_and_filters(run):
    code, out, _ = run("changes", "prod", "--since", "5h")
    assert "3 of 4 web: web-1 web-2" in out and "high partial" in out and "unobserved" in out
    code, out, _ = run("changes", "prod", "--since", "5h", "--format", "markdown")
    assert out.startswith("## drift changes prod") and "| `libssl3` |" in out
    code, out, _ = run("changes", "prod", "--since", "5h", "--format", "html")
    assert "<details><summary>" in out and "lib9" in out
    code, out, _ = run("changes", "prod", "--since", "5h", "--category", "firewall", "--format", "json")
    assert [e["subject"] for e in json.loads(out)["events"]] == ["iptables filter INPUT"]
    code, out, _ = run("changes", "prod", "--since", "5h", "--host", "web-4", "--format", "json")
    assert code == 0 and {e["subject"] for e in json.loads(out)["events"]} == {"iptables filter INPUT", "openssl"}
    code, out, _ = run("changes", "prod", "--since", "5h", "--until", "4h", "--format", "json")
    assert {e["subject"] for e in json.loads(out)["events"]} == {"/etc/app.conf", "libssl3", "openssl"}


@pytest.mark.parametrize("args, message", [
    (("--since", "yesterday"), "--since 'yesterday'"),
    (("--until", "soon"), "--until 'soon'"),
    (("--since", "1h", "--until", "2h"), "is before --since"),
    (("--span", "0m"), "--span '0m'"),
    (("--format", "junit"), "--format"),
    (("--host", "nope"), "not a host of prod"),
])
def test_changes_bad_input_is_exit_2_with_a_message(run, args, message):
    code, _, err = run("changes", "prod", *args)
    assert code == 2 and message in err


def test_changes_of_an_unknown_environment_or_without_a_store(run, tmp_path):
    code, _, err = run("changes", "qa")
    assert code == 2 and "'qa'" in err
    code, _, err = run("changes", "prod", "-i", str(tmp_path / "missing.toml"))
    assert code == 2


def test_explain_from_the_store_with_a_baseline(run):
    approved = baseline_io.Baseline("prod", fx.at(1), "ops", "0" * 64,
                                    (*(fx.history(h)[-1] for h in ("web-1", "web-2", "web-3")),
                                     replace(fx.history("web-1")[-1], host="web-4")))
    path = run.dir / "baselines" / "prod.json"
    path.parent.mkdir()
    path.write_text(approved.to_json())
    code, out, err = run("explain", "web-4", "--source", "store")
    assert code == 0, err
    out = " ".join(out.split(" \n")).replace("\n        ", "")
    out = "\n".join(" ".join(line.split()) for line in out.splitlines())
    assert "libssl3 1.0; baseline 1.1; peers 1.1 (3 of 3); 1.0 since at least 2026-11-20 02:00:00" in out
    assert "the peers took 1.1 between 2026-11-20 02:00:00 and 03:00:00 and that change did not reach web-4" in out
    assert "differs from both baseline and peers (1):\nlibssl3 1.0 (baseline 1.1, peers 1.1)" in out
    assert "actual: the store's newest snapshot" in out
    code, out, _ = run("why", "web-4", "--source", "store", "--format", "json")
    doc = json.loads(out)
    assert doc["alone"] == ["packages/deb/libssl3"] and doc["divergences"][0]["since"]["after"] is None


def test_explain_needs_a_known_host(run):
    code, _, err = run("explain", "web-9", "--source", "store")
    assert code == 2 and "no snapshot of 'web-9'" in err
    code, _, err = run("explain", "web-4")  # live needs an inventory
    assert code == 2 and "inventory" in err


def test_top_puts_the_most_important_findings_first_with_since_when(run):
    for name, hour in (("then", 2), ("now", 6)):
        folder = run.dir / name
        folder.mkdir()
        for h in ("web-1", "web-2", "web-3", "web-4"):
            snap = next(s for s in fx.history(h) if s.collected_at == fx.at(hour))
            (folder / f"{h}.json").write_text(snap.to_json())
    code, out, _ = run("compare", "then", "now", "--top", "3")
    blocks = out.split("\n\n")
    assert blocks[0].startswith("drift compare")  # the header (sides, hosts, counts) first, then the top block
    head = blocks[1].splitlines()
    assert head[0] == "top 3 of 4 findings:"
    assert len(head) == 4 and all(len(line) <= 160 for line in head)
    libssl = next(line for line in head if "web-4 has libssl3" in line)
    assert "— on web-4; since 2026-11-20 02:00:00 – 03:00:00" in libssl  # the odd one out, and when
    assert out.count("top 3") == 1 and "drift compare" in out  # then the full table
    code, plain, _ = run("compare", "then", "now")  # not a terminal: no summary by default
    assert "top " not in plain
    code, js, _ = run("compare", "then", "now", "--top", "3", "--format", "json")
    assert json.loads(js)["schema"] == "drift.report/1"


def test_top_names_the_since_only_where_the_store_knows(tmp_path):
    from drift.model.report import Finding, Kind, Level, Report, Side, Value
    from drift.reports import top

    f = Finding("packages", "packages/deb/x", "x", Kind.outlier, "web", "web-2 has x 2; its 2 web peers have 1",
                (Value("prod", "web-1", "1"), Value("prod", "web-2", "2"), Value("prod", "web-3", "1")),
                Level.high, True, odd=("web-2",))  # analysis names the odd host; top never guesses it
    report = Report("audit", fx.at(7), Side("prod", ("web-1", "web-2", "web-3")), None, (f,), (), Level.high)
    assert top.render(report, 5) == "top 1 of 1 finding:\n 1. high* packages: web-2 has x 2; its 2 web peers " \
                                    "have 1 — on web-2\n\n"
    assert top.render(report, 0) == ""


def test_a_failed_snapshot_before_the_window_is_no_evidence(run, tmp_path):
    from tests.drift.factory import snap

    with Store.open(tmp_path / "s.db") as store:
        store.record([replace(snap("web-4", "prod", "web", {}, down=True), collected_at="2026-11-20T02:30:00Z")])
    code, out, _ = run("changes", "prod", "--since", "2026-11-20T02:45Z", "--format", "json")
    openssl = next(e for e in json.loads(out)["events"] if e["subject"] == "openssl")
    assert {h["host"]: h["after"] for h in openssl["hosts"]}["web-4"] == fx.at(2)  # not the failed 02:30


def test_hosts_first_seen_inside_the_window_are_noted(run):
    code, out, _ = run("changes", "prod", "--since", "2026-11-20T01:30Z", "--format", "json")
    (note,) = json.loads(out)["notes"]
    assert note.startswith("the store has no snapshot before the window of db-1 (2026-11-20 02:00:00), web-1")
