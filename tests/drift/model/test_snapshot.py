import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drift.core.errors import SnapshotFileError
from drift.model.snapshot import CollectorResult, Snapshot, load, loads


def make(**kw):
    base = dict(host="w1", env="prod", role="web", address="10.0.0.1", collected_at="2026-11-22T03:00:00Z",
                drift_version="0.1.0", host_key={"type": "ssh-ed25519", "sha256": "SHA256:x"},
                collectors={
                    "dpkg": CollectorResult("dpkg", "packages", "ok", None,
                                            {"packages/deb/b": {"version": "2"}, "packages/deb/a": {"version": "1"}}),
                    "rpm": CollectorResult("rpm", "packages", "unsupported"),
                    "nft": CollectorResult("nft", "firewall", "failed", "exited 1: Operation not permitted"),
                })
    base.update(kw)
    return Snapshot(**base)


def test_round_trip_and_deterministic_bytes():
    snap = make()
    text = snap.to_json()
    assert loads(text) == snap
    assert loads(text).to_json() == text
    assert text.index('"packages/deb/a"') < text.index('"packages/deb/b"')


def test_failed_collectors_are_unknown_not_empty():
    snap = make()
    assert "packages/deb/a" in snap.facts()
    assert snap.errors() == [("nft", "exited 1: Operation not permitted")]
    down = make(status="failed", error="connect timed out", collectors={})
    assert down.errors() == [(None, "connect timed out")]


@pytest.mark.parametrize("text, words, line", [
    ("{\n  \"schema\": \"drift.snapshot/1\",\n  oops\n}", "invalid JSON", 3),
    ("[]", "top level: expected an object, got a list", None),
    ('{"schema": "drift.report/1"}', "schema is", None),
    ('{"schema": "drift.snapshot/1", "env": "x", "collected_at": "t"}', "host: missing", None),
    ('{"schema": "drift.snapshot/1", "host": "h", "env": "x", "collected_at": "t", '
     '"collectors": {"a": {"category": "system", "status": "weird"}}}', "collectors.a.status: expected one of ok, unsupported, failed, got 'weird'", None),
])
def test_broken_files_name_the_problem(text, words, line):
    with pytest.raises(SnapshotFileError) as err:
        loads(text, "snap.json")
    assert words in str(err.value) and err.value.line == line and str(err.value).startswith("snap.json")


def test_load_reports_unreadable_and_binary_files(tmp_path):
    with pytest.raises(SnapshotFileError, match="cannot read"):
        load(tmp_path / "missing.json")
    (tmp_path / "b.json").write_bytes(b"\xff\xfe")
    with pytest.raises(SnapshotFileError, match="not UTF-8"):
        load(tmp_path / "b.json")
    (tmp_path / "ok.json").write_text(json.dumps(make().to_dict()))
    assert load(tmp_path / "ok.json").host == "w1"


def test_a_float_out_of_range_in_a_fact_gets_the_exact_message():
    text = make().to_json().replace('"version": "2"', '"version": 1e400')
    with pytest.raises(SnapshotFileError, match=r"snap\.json: invalid JSON: 1e400 is out of range"):
        loads(text, "snap.json")


@pytest.mark.parametrize("depth, loaded", [(61, True), (62, False)])
def test_the_depth_bound_is_the_same_for_the_fast_and_the_exact_reader(depth, loaded):
    """The fast reader checks only the fact values it decodes; the bound must stay the document's, as
    the exact reader (which reads any document holding a surrogate escape) counts it."""
    from drift.core import jsonio

    text = make().to_json().replace('{\n          "version": "2"\n        }', "[" * depth + "]" * depth)
    assert "[" * depth in text
    exact = True
    try:
        jsonio.loads(text)
    except jsonio.JsonInputError:
        exact = False
    assert exact is loaded
    if loaded:
        assert loads(text).collectors["dpkg"].facts["packages/deb/b"] is not None
    else:
        with pytest.raises(SnapshotFileError, match="nested deeper than 64 levels"):
            loads(text, "snap.json")


def test_a_hosts_own_values_meet_the_bounds_when_its_base_was_read_before():
    """Loaded together, a later host decodes only its delta: that delta still meets every bound."""
    from drift.model.facts import Tables

    tables = Tables()
    loads(make().to_json(), "a.json", tables)
    for bad, words in (('"version": ' + "9" * 60, "an integer of 60 digits"),
                       ('"version": ' + "[" * 70 + "]" * 70, "nested deeper than 64 levels")):
        with pytest.raises(SnapshotFileError, match=words):
            loads(make(host="w2").to_json().replace('"version": "2"', bad), "b.json", tables)


@given(st.dictionaries(st.text(alphabet="pkg/\n\x00é", max_size=8), st.none(), max_size=6))
def test_the_quick_fact_path_check_agrees_with_the_plain_one(table):
    from drift.model.snapshot_schema import SchemaError, facts

    plain = all(p.startswith("pkg/") and len(p) > len("pkg/") for p in table)
    try:
        facts(table, "f", "pkg")
        quick = True
    except SchemaError:
        quick = False
    assert quick is plain
