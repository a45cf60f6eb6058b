"""Secrets never leave, measured both ways on real config formats (tests/collectors/content/corpus).

Two hosts, staging and prod, each with the corpus's files, planted credentials differing between
them and some ordinary settings changed. Collected through the real script and parser (a shell
session per host, in-process CLI), recorded in the store, snapshot files and a baseline, compared
in every report format with --verbose, then read back by history, changes and explain. No planted
byte may appear in any of it; every ordinary change must still be reported with both its values
(over-hiding is counted and printed). Then the same hosts as drift 0.2 stored them, scrubbed.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from collectors.content.analyse import analyse
from collectors.content.formats import significant_lines
from collectors.content.secrets import Redactor
from drift.cli.environment import Environment
from drift.collect.runner import ExecResult, HostKey
from drift.model.snapshot import Snapshot
from drift.store import baseline as baseline_io
from drift.store.baseline import Baseline
from drift.store.sqlite import Store
from tests.drift.factory import snap

CORPUS = Path(__file__).resolve().parents[2] / "collectors" / "content" / "corpus"
_MARK = re.compile(r"@@([SC]):(.*?)\|(.*?)@@")
FORMATS = ("table", "json", "markdown", "html", "junit", "sarif")
KEY = "corpus-test-secret-key-0123456789"


def plant(text: str, side: int) -> str:
    return _MARK.sub(lambda m: m.group(2 + side), text)


def planted() -> tuple[set[str], list[tuple[str, str, str, str]]]:
    """Every planted secret value, and every (file, template line, old, new) ordinary change."""
    secrets, changes = set(), []
    for path in sorted(CORPUS.iterdir()):
        if path.name == "MANIFEST.md":
            continue
        for line in path.read_text().splitlines():
            for kind, a, b in _MARK.findall(line):
                if kind == "S":
                    secrets |= {a, b}
                else:
                    changes.append((path.name, line, a, b))
    return secrets, changes


class _Session:
    host_key = HostKey("ssh-ed25519", "SHA256:fake")

    def __init__(self, shared: str, own: str):
        self.shared, self.own = shared, own

    def exec(self, script: bytes, deadline: float) -> ExecResult:
        # Each host reads its own copy of the corpus at the one path the inventory names.
        done = subprocess.run(["/bin/sh", "-s"], input=script.replace(self.shared.encode(), self.own.encode()),
                              capture_output=True)
        swap = (self.own.encode(), self.shared.encode())
        return ExecResult(done.stdout.replace(*swap), done.stderr.replace(*swap), done.returncode)

    def close(self) -> None:
        pass


class _Hosts:
    def __init__(self, root: Path):
        self.root = root

    def open(self, host, deadline):  # type: ignore[no-untyped-def]
        # A sibling of the shared path, so the script's depth checks see the same number of `/`.
        return _Session(str(self.root / "corpus"), str(self.root / f"corpus-{host.env}"))


@pytest.fixture
def fleet(tmp_path: Path):  # type: ignore[no-untyped-def]
    for side, env in enumerate(("staging", "prod")):
        target = tmp_path / f"corpus-{env}"
        target.mkdir()
        for path in CORPUS.iterdir():
            if path.name != "MANIFEST.md":
                target.joinpath(path.name).write_text(plant(path.read_text(), side))
    (tmp_path / "corpus").mkdir()
    root = tmp_path / "corpus"
    (tmp_path / "drift.toml").write_text(f"""\
[collect]
collectors = ["files"]
files = ["{root}/*"]
content = ["{root}/*"]

[environments.staging]
hosts = [{{ name = "stg-app-1", address = "127.0.0.1", role = "app" }}]

[environments.prod]
hosts = [{{ name = "prd-app-1", address = "127.0.0.1", role = "app" }}]
""")
    ssh = _Hosts(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        env = Environment(stdout=out, stderr=err, vars={"HOME": str(tmp_path), "DRIFT_SECRET_KEY": KEY},
                          cwd=tmp_path, ssh_connector=lambda: ssh, stderr_isatty=False)
        from drift.cli import main

        code = main([*args, "-i", str(tmp_path / "drift.toml"), "--verbose"], env)
        return code, out.getvalue(), err.getvalue()

    return tmp_path, run


def test_no_planted_secret_leaves_and_every_ordinary_change_is_reported(fleet) -> None:  # type: ignore[no-untyped-def]
    root, run = fleet
    secrets, changes = planted()
    printed: dict[str, str] = {}
    code, out, err = run("snapshot", "staging", "prod", "-o", str(root / "snaps"))
    assert code == 0, err
    printed["snapshot"] = out + err
    code, out, err = run("baseline", "save", "prod")
    assert code == 0, err
    printed["baseline save"] = out + err
    for fmt in FORMATS:
        code, out, err = run("compare", "staging", "prod", "--format", fmt)
        assert code == 1, err
        printed[f"compare --format {fmt}"] = out + err
    code, out, err = run("audit", "prod", "--format", "json")
    assert code == 0, err
    printed["audit"] = out + err
    # Staging takes prod's files: its history now holds every secret changing.
    for path in (root / "corpus-prod").iterdir():
        (root / "corpus-staging" / path.name).write_bytes(path.read_bytes())
    code, out, err = run("snapshot", "staging")
    assert code == 0, err
    code, out, err = run("history", "staging", "--since", "1h", "--format", "json")
    assert "{{secret:" in out and '"secret": true' in out, "the history shows secrets changing, hidden"
    for args in (("history", "staging", "--since", "1h"), ("history", "staging", "--since", "1h", "--format", "json"),
                 ("changes", "staging", "--since", "1h"), ("changes", "staging", "--since", "1h", "--format", "json"),
                 ("explain", "stg-app-1"), ("explain", "stg-app-1", "--format", "json")):
        code, out, err = run(*args)
        assert code in (0, 1), err
        printed[" ".join(args)] = out + err

    written = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
               if p.is_file() and not p.parent.name.startswith("corpus-")}
    assert any(name.endswith("drift.db") for name in written) and "baselines/prod.json" in written
    leaks = [(where, s) for s in sorted(secrets) for where, text in
             [*printed.items(), *((n, b.decode("latin-1")) for n, b in written.items())] if _found(s, text)]
    assert not leaks, f"{len(leaks)} planted secrets leaked: {leaks[:10]}"

    shown = json.dumps(json.loads(_json_document(printed["compare --format json"])), ensure_ascii=False)
    snapshot = (root / "snaps" / "stg-app-1.json").read_text()
    missing = [(name, a, b) for name, line, a, b in changes
               if not all(_shown(name, line, side, (a, b)[side], snapshot, shown) for side in (0, 1))]
    hidden = snapshot.count("{{secret:") + snapshot.count('"secret": true')
    print(f"secret corpus: {len(secrets)} planted secrets, 0 leaked; {hidden} values hidden on a host that "
          f"has {len(secrets) // 2} planted; {len(changes)} ordinary changes, "
          f"{len(changes) - len(missing)} reported with both values, {len(missing)} over-hidden: {missing}")
    assert not missing


def _found(secret: str, text: str) -> bool:
    """The secret, as it is or as JSON escapes it (`Pl4nt\\:pg2` in a JSON file)."""
    return secret in text or json.dumps(secret)[1:-1] in text


def _json_document(text: str) -> str:
    """The one JSON document on stdout (--verbose lines go to stderr, but be exact about it)."""
    start = text.index("{")
    return text[start:text.rindex("}") + 1]


def _shown(name: str, line: str, side: int, value: str, snapshot: str, report: str) -> bool:
    """A key-level change shows its value (the end of a JSON string: a key file's path ends in it);
    a line-level one shows its line, whitespace folded, up to any secret on it."""
    if f"/corpus/{name}//lines" in snapshot:
        text = " ".join(plant(line.split("@@S:", 1)[0], side).split())
        return json.dumps(text)[1:-1] in report
    return json.dumps(value)[1:] in report


class _Leaky(Redactor):
    """What drift 0.2 kept for the formats it did not know: values as they are."""

    def entries(self, entries: Mapping[str, str], path: str = "") -> dict[str, Any]:
        return dict(entries)

    def lines(self, text: str, path: str = "") -> list[str]:
        return significant_lines(text)


def _corpus_facts(root: Path, env: str, redactor: Redactor) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for path in sorted((root / f"corpus-{env}").iterdir()):
        facts.update(analyse(f"/srv/corpus/{path.name}", path.read_bytes(), {}, redactor).facts)
    return facts


def _old_and_new(root: Path) -> tuple[list[Snapshot], list[Snapshot]]:
    """The corpus hosts as 0.2 recorded them, and as a fresh collection records them now."""
    return ([snap(f"{env[:3]}-app-1", env, "app", _corpus_facts(root, env, _Leaky(KEY.encode())))
             for env in ("staging", "prod")],
            [snap(f"{env[:3]}-app-1", env, "app", _corpus_facts(root, env, Redactor(KEY.encode())))
             for env in ("staging", "prod")])


def _scrub_and_check(run, store, secrets: set[str], new: list[Snapshot], text: Callable[[], str]) -> None:  # type: ignore[no-untyped-def]
    leaked_before = {s for s in secrets if _found(s, text())}
    assert len(leaked_before) == len(secrets), "the old store should hold every planted secret"
    code, out, err = run("store", "scrub")
    assert code == 0, err
    replaced = int(re.search(r"(\d+) secret values replaced", out).group(1))  # type: ignore[union-attr]
    print(f"store scrub: {out.strip()}")
    assert [s for s in secrets if _found(s, text())] == []
    assert replaced >= len(secrets) // 2
    kept = {s.host: s.facts() for s in store.latest()}
    assert kept == {s.host: s.facts() for s in new}, "scrubbed values equal what a fresh collection records"
    code, out, err = run("store", "scrub")
    assert code == 0 and "no secret values found" in out, out + err


def test_store_scrub_hides_what_an_older_drift_kept_in_sqlite(fleet) -> None:  # type: ignore[no-untyped-def]
    root, run = fleet
    secrets, _ = planted()
    old, new = _old_and_new(root)
    db = root / ".drift" / "drift.db"
    with Store.open(db) as store:
        store.record(old)

    def text() -> str:
        return b"".join(p.read_bytes() for p in db.parent.glob("drift.db*")).decode("latin-1")

    with Store.open(db) as store:
        _scrub_and_check(run, store, secrets, new, text)


def test_store_scrub_on_postgresql(fleet, pg_url) -> None:  # type: ignore[no-untyped-def]
    from drift.store.postgres import PostgresStore

    root, run = fleet
    inventory = root / "drift.toml"
    inventory.write_text(f'[store]\nurl = "{pg_url}"\n\n' + inventory.read_text())
    secrets, _ = planted()
    old, new = _old_and_new(root)
    with PostgresStore.connect(pg_url) as store:
        store.record(old)

        def text() -> str:
            return "".join(r[0] for r in store.conn.execute("SELECT body FROM blobs").fetchall())

        _scrub_and_check(run, store, secrets, new, text)


def test_baseline_scrub(fleet) -> None:  # type: ignore[no-untyped-def]
    root, run = fleet
    secrets, _ = planted()
    old, new = _old_and_new(root)
    path = root / "baselines" / "prod.json"
    path.parent.mkdir()
    path.write_text(Baseline("prod", "2026-11-22T03:00:00Z", "ops", "0" * 64, tuple(old[1:])).to_json())
    code, out, err = run("baseline", "scrub")
    assert code == 0, err
    assert re.search(r"baseline .*prod.json: \d+ secret values replaced by their keyed hash \(1 hosts", out), out
    text = path.read_text()
    assert [s for s in secrets if _found(s, text)] == []
    assert baseline_io.load(path).snapshots[0].facts() == new[1].facts()
    code, out, err = run("baseline", "scrub", "prod", "--format", "json")
    assert code == 0 and json.loads(out)["scrubbed"][0]["replaced"] == 0, out + err


def test_scrub_with_nothing_to_scrub_is_bad_input(fleet) -> None:  # type: ignore[no-untyped-def]
    root, run = fleet
    code, _, err = run("store", "scrub")
    assert code == 2 and "no store yet" in err
    code, _, err = run("baseline", "scrub")
    assert code == 2 and "no baselines to scrub" in err
    (root / "baselines").mkdir()
    (root / "baselines" / "prod.json").write_text('{"schema": "drift.baseline/1", "hosts": [}')
    code, _, err = run("baseline", "scrub", "prod")
    assert code == 2 and "prod.json" in err and "Traceback" not in err
