"""Ordinary-use crashes and hostile snapshot files, through the CLI: exit 2 naming file and field,
exit 4 for a bug, never a traceback, never raw control characters on a terminal."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from drift.cli import main
from drift.cli.environment import Environment
from tests.drift.factory import snap

FORMATS = ("table", "json", "markdown", "junit", "html")


def write(folder: Path, *snaps) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for s in snaps:
        (folder / f"{s.host}.json").write_text(s.to_json())
    return str(folder)


def doc(**fields) -> dict:
    base = {"schema": "drift.snapshot/1", "host": "h1", "env": "prod", "role": "web",
            "collected_at": "2026-11-22T03:00:00Z", "collectors": {}}
    base.update(fields)
    return base


@pytest.mark.parametrize("fmt", FORMATS)
def test_unreadable_file_on_one_side_compares(cli, tmp_path, fmt):
    """An unprivileged run cannot hash a file it may not read: sha256 null is a fact, not a crash."""
    unread = {"sha256": None, "size": 10, "mode": "0600", "owner": "root", "group": "root", "type": "file",
              "error": "unreadable: no permission to hash it"}
    read = {**unread, "sha256": "ab" * 32}
    del read["error"]
    left = write(tmp_path / "l", snap("s1", "staging", "web", {"files/etc/shadow": unread}))
    right = write(tmp_path / "r", snap("p1", "prod", "web", {"files/etc/shadow": read}))
    code, out, err = cli("compare", left, right, "--format", fmt)
    assert code == 1, err
    assert "unreadable" in out and "internal error" not in err


@pytest.mark.parametrize("path", ["packages/x", "firewall/nft", "topology/listen", "system/x", "files/x"])
def test_short_fact_paths_compare(cli, tmp_path, path):
    left = write(tmp_path / "l", snap("s1", "staging", "web", {path: {"version": "1", "rules": ["a"]}}))
    right = write(tmp_path / "r", snap("p1", "prod", "web", {path: {"version": "2", "rules": ["b"]}}))
    code, out, err = cli("compare", left, right)
    assert code in (0, 1) and "internal error" not in err and "finding" in out, err


@pytest.mark.parametrize("fields, where", [
    ({"error": {"a": 1}}, "error: expected a string, got an object"),
    ({"host_key": "SHA256:x"}, "host_key: expected an object, got a string"),
    ({"host_key": {"type": "ssh-ed25519", "sha256": 5}}, "host_key.sha256: expected a string, got a number"),
    ({"host": 7}, "host: expected a string, got a number"),
    ({"role": "web\x1b[2J"}, "role: expected a one-line printable name"),
    ({"env": "pr\nod"}, "env: expected a one-line printable name"),
    ({"status": "maybe"}, "status: expected one of ok, failed, got 'maybe'"),
    ({"collectors": {"dpkg": {"category": "packages", "status": "ok", "facts": {"packages": 1}}}},
     "collectors.dpkg.facts: fact path 'packages' is not packages/<name>"),
    ({"collectors": {"dpkg": {"category": "packages", "status": "ok", "identity": "x"}}},
     "collectors.dpkg.identity: expected a list of fact paths, got a string"),
    ({"collectors": {"dpkg": {"category": "packages", "status": "ok", "error": ["x"]}}},
     "collectors.dpkg.error: expected a string, got a list"),
    ({"collectors": {"\x1b]0;pwned\x07": {"category": "packages", "status": "ok"}}},
     "collectors: expected a one-line printable name"),
])
def test_wrong_types_are_exit_2_naming_file_and_field(cli, tmp_path, fields, where):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc(**fields)))
    good = write(tmp_path / "g", snap("p1", "prod", "web", {}))
    code, out, err = cli("compare", str(bad), good)
    assert code == 2, err
    assert str(bad) in err and where in err
    assert "\x1b" not in err and "\x07" not in err


@pytest.mark.parametrize("text, words", [
    ('{"a": ' * 100_000 + "1" + "}" * 100_000, "nested deeper than 64 levels"),
    ('{"schema": "drift.snapshot/1", "n": ' + "9" * 5000 + "}", "an integer of 5,000 digits"),
    ('{"schema": "drift.snapshot/1", "n": NaN}', "NaN is not a JSON number"),
    ('{"schema": "drift.snapshot/1", "n": 1e999}', "out of range"),
    ('{"schema": "' + "x" * 1_000_000 + '"}', "characters)"),
])
def test_deep_and_huge_snapshot_files_are_exit_2(cli, tmp_path, text, words):
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    code, _, err = cli("compare", str(bad), str(bad))
    assert code == 2 and words in err and str(bad) in err
    assert len(err) < 600, "the error echoed the input back"


def test_lone_surrogate_in_a_snapshot_file_is_replaced_and_written_back(cli, tmp_path):
    """The one rule: a lone surrogate escape becomes U+FFFD when read, so every write succeeds."""
    facts = {"packages/deb/a\\ud800": {"version": "1\\udfff", "arch": "all"}}
    text = json.dumps(doc(collectors={"packages": {"category": "packages", "status": "ok", "facts": {}}}))
    text = text.replace('"facts": {}', '"facts": ' + json.dumps(facts).replace("\\\\", "\\"))
    (tmp_path / "l").mkdir()
    (tmp_path / "l" / "h1.json").write_text(text)
    right = write(tmp_path / "r", snap("p1", "prod", "web", {"packages/deb/b": {"version": "1"}}))
    for fmt in FORMATS:
        code, out, err = cli("compare", str(tmp_path / "l"), right, "--format", fmt, "--fail-on", "low")
        assert code == 1, err
        out.encode("utf-8")
        assert "a\ufffd" in out or "a\\ufffd" in out or fmt == "junit"


@pytest.mark.parametrize("fmt", FORMATS)
def test_control_characters_in_names_never_reach_a_terminal(cli, tmp_path, fmt):
    nasty = "x\x1b[31m\x9b2J\u202e"
    left = write(tmp_path / "l", snap("s1", "staging", "web", {f"packages/deb/{nasty}": {"version": "1"}}))
    right = write(tmp_path / "r", snap("p1", "prod", "web", {f"packages/deb/{nasty}": {"version": "2"}}))
    code, out, err = cli("compare", left, right, "--format", fmt, "--fail-on", "low")
    assert code == 1, err
    for ch in ("\x1b", "\x9b", "\u202e"):
        assert ch not in out and ch not in err


def test_json_report_is_strict_json(cli, tmp_path):
    left = write(tmp_path / "l", snap("s1", "staging", "web", {"system/x": 1.5}))
    right = write(tmp_path / "r", snap("p1", "prod", "web", {"system/x": 2.5}))
    code, out, _ = cli("compare", left, right, "--format", "json")
    json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in the JSON report"))


def test_a_bug_is_exit_4_and_says_how_to_get_the_traceback(tmp_path):
    left = write(tmp_path / "l", snap("s1", "staging", "web", {"system/x": 1}))

    def broken_clock():
        raise RuntimeError("clock on fire")

    for extra, traceback_shown in (((), False), (("--verbose",), True)):
        err = io.StringIO()
        env = Environment(stdout=io.StringIO(), stderr=err, vars={}, cwd=tmp_path, now=broken_clock)
        assert main(["compare", left, left, *extra], env) == 4
        text = err.getvalue()
        assert "internal error" in text and "clock on fire" in text
        assert ("Traceback" in text) is traceback_shown
        assert traceback_shown or "DRIFT_DEBUG=1" in text


def test_a_package_fact_without_a_version_compares(cli, tmp_path):
    """Found by the long fuzz run: a package record without "version" on one side."""
    left = write(tmp_path / "l", snap("s1", "staging", "web", {"packages/deb/a": {"arch": "amd64"}}))
    right = write(tmp_path / "r", snap("p1", "prod", "web", {"packages/deb/a": {"version": "1", "arch": "amd64"}}))
    code, out, err = cli("compare", left, right, "--fail-on", "low")
    assert code == 1 and "internal error" not in err, err
