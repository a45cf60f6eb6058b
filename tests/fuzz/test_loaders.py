"""Snapshot, baseline and inventory loading, fuzzed from real seeds, then every report format.

A loader gives a value or a clean exit-2 error naming the file; a loaded snapshot compares, audits,
renders in every format, and writes back, without one unexpected exception."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from collectors import REGISTRY
from collectors.interface import Parsed
from drift.analysis import compare as engine
from drift.analysis import policy as policy_mod
from drift.analysis.differ import Env
from drift.analysis.policy import Policy
from drift.collect import inventory, kubernetes
from drift.core.errors import InputError, InventoryError, SnapshotFileError
from drift.model import snapshot as snapshot_io
from drift.model.snapshot import CollectorResult, Snapshot
from drift.reports import OutputFormat, render
from drift.store import baseline as baseline_io
from tests.collectors.test_golden import config as golden_config
from tests.fuzz.mutate import NASTY, mutated

pytestmark = pytest.mark.fuzz
ROOT = Path(__file__).parents[1]
NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.timezone.utc)


def _golden_snapshot(host: str, env: str) -> Snapshot:
    """A snapshot holding every golden fixture's facts: the richest real seed there is."""
    results = {}
    for c in REGISTRY:
        for path in sorted((ROOT / "collectors" / "fixtures" / c.name).glob("*.json")):
            fixture = json.loads(path.read_text(encoding="utf-8"))
            if "facts" in fixture:
                cfg = golden_config(fixture)
                parsed = c.parse(fixture["output"], cfg)
                facts = parsed.facts if isinstance(parsed, Parsed) else parsed
                results[c.name] = CollectorResult(c.name, c.category, "ok", None, facts)
                break
    results["nft"] = CollectorResult("nft", "firewall", "failed", "exited 1: Operation not permitted")
    return Snapshot(host, env, "web", host, "2026-11-22T03:00:00Z", "test", collectors=results)


GOLDEN = _golden_snapshot("g1", "prod")
SEEDS = [GOLDEN.to_json(), _golden_snapshot("g2", "staging").to_json()]
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from(NASTY), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(max_size=6), inner, max_size=3), max_leaves=6)


def _replace_somewhere(doc: Any, choices: list[int], value: Any) -> Any:
    """Replace (or delete, for value ...) one node of `doc`, walking down by `choices`."""
    node = doc
    for choice in choices:
        children = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) \
            if isinstance(node, list) else []
        if not children:
            break
        key, child = children[choice % len(children)]
        if not isinstance(child, (dict, list)) or choice % 3 == 0:
            if value is Ellipsis and isinstance(node, dict):
                del node[key]
            else:
                node[key] = None if value is Ellipsis else value
            return doc
        node = child
    return doc


STRUCTURAL = st.builds(lambda seed, choices, value: json.dumps(
    _replace_somewhere(json.loads(seed), choices, value)),
    st.sampled_from(SEEDS), st.lists(st.integers(0, 10_000), min_size=1, max_size=8),
    st.one_of(st.just(Ellipsis), JSON_VALUE))


def exercise(snap: Snapshot) -> None:
    snap.to_json().encode("utf-8")
    assert snapshot_io.loads(snap.to_json()) == snap
    for report in (engine.compare(Env("staging", (snap,)), Env("prod", (GOLDEN,)), Policy(), NOW),
                   engine.audit(Env("prod", (snap, GOLDEN)), Env("baseline", (GOLDEN,)), Policy(), NOW)):
        for fmt in OutputFormat:
            out = render(report, fmt)
            out.encode("utf-8")
            if fmt is OutputFormat.json:
                json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in the JSON report"))


@given(st.one_of(STRUCTURAL, mutated(SEEDS)))
def test_snapshot_loading_and_every_report(text: str) -> None:
    try:
        snap = snapshot_io.loads(text, "fuzz.json")
    except SnapshotFileError as exc:
        assert str(exc).startswith("fuzz.json") and len(str(exc)) < 1000
        return
    exercise(snap)


INVENTORIES = [
    (ROOT / "drift" / "cli" / "conftest.py").read_text().split('INVENTORY = """\\\n', 1)[1].split('"""', 1)[0],
    """[ssh]\nuser = "drift"\nport = 22\nsudo = true\nconnect_timeout = 5\njobs = 8\n
[collect]\ncollectors = ["packages", "files"]\nfiles = ["/etc/ssh/sshd_config", "/etc/nginx/**/*.conf"]
python = ["/usr/bin/python3"]\nsysctl = ["net.ipv4.*"]\n\n[store]\npath = ".drift/drift.db"\nkeep_days = 30\n
[environments.staging]\nhosts = [\n  { name = "stg-web-1", address = "10.0.1.10", role = "web" },
  { name = "stg-db-1", role = "db", port = 2222 },\n]\n\n[environments.prod.ssh]\nuser = "ops"\n
[[environments.prod.hosts]]\nname = "prd-web-1"\nrole = "web"\n
[policy]\nfail_on = "high"\nignore = ["packages/deb/linux-image-*"]\n""",
]
TOML_BITS = ["[ssh]", "[collect]", "[[environments.x.hosts]]", "port = 70000", "sudo = \"yes\"", "hosts = [",
             "{ name = \"x\" }", "name = \"\"", "role = 1", "a.b.c = 1", "= 1", "[environments.\"a b\"]",
             "\"\"\"", "'''", "x = 1979-05-27", "x = inf", "x = nan", "[" * 50, "{a=" * 40,
             '[environments."a\\nb".ssh]\nport = "x"']


@given(st.one_of(mutated(INVENTORIES), mutated([*INVENTORIES, *TOML_BITS])))
@example('[environments."a\\nb".ssh]\nport = "x"\n[[environments."a\\nb".hosts]]\nname = "h"\n')
@example('[environments.prod.ssh]\nport = "x"\n[[environments.prod.hosts]]\nname = "a\\nb"\n')
def test_inventory_loading(text: str) -> None:
    path = Path("/nonexistent-fuzz/drift.toml")
    from drift.core.tomlsource import TomlSource

    try:
        inv = inventory._Parser(TomlSource(path, text, InventoryError), {}).inventory()
        policy_mod.parse(inv.policy_table, inv.source)
    except InputError as exc:
        message = str(exc)
        assert message.startswith(str(path)) and len(message) < 1000
        assert "\x1b" not in message and "\x00" not in message
        assert "\n" not in message, "one line: a name from the file must not forge another"


@given(st.one_of(STRUCTURAL, mutated(SEEDS)), st.sampled_from(["h", "\x1b[2J", "x" * 300]))
@example("[" * 100_000 + "]" * 100_000, "h")  # the deep document the stdlib's parser cannot read
@example('{"collectors": {"dpkg": {"status": "ok", "identity": []}}}', "h")
def test_baseline_loading(host_doc: str, name: str) -> None:
    # The host document goes in as text, as generated: no oracle of ours parses it first (the standard
    # library's parser raises RecursionError on deep input), so the loader alone must cope with it.
    head = {"schema": "drift.baseline/1", "env": "prod", "saved_at": "t", "saved_by": "u", "inventory_sha256": "x"}
    text = json.dumps(head)[:-1] + ', "hosts": {' + json.dumps(name) + ": " + host_doc + "}}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prod.json"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            loaded = baseline_io.load(path)
        except SnapshotFileError as exc:
            assert str(exc).startswith(str(path)) and len(str(exc)) < 1000 and "\x1b" not in str(exc)
            return
    for snap in loaded.snapshots:
        exercise(snap)


def test_identity_paths_outside_the_collectors_facts_are_refused() -> None:
    # Found by the seeded run (issue 19): an identity list is accepted as any list of strings, so a
    # snapshot file could mark another collector's fact (or one that does not exist) as identity.
    doc = json.loads(GOLDEN.to_json())
    name, result = next((n, c) for n, c in doc["collectors"].items() if c.get("facts"))
    for bogus in (["system/hostname"], [f"{result['category']}/no-such-fact"]):
        result["identity"] = bogus
        with pytest.raises(SnapshotFileError, match=f"collectors.{name}.identity"):
            snapshot_io.loads(json.dumps(doc), "fuzz.json")
    result["identity"] = []
    assert snapshot_io.loads(json.dumps(doc), "fuzz.json").collectors[name].identity == ()


CLUSTERS = [(ROOT / "drift" / "collect" / "fixtures" / "kubernetes" / f"cluster-{c}.json").read_text() for c in "ab"]


@given(st.one_of(st.builds(lambda seed, choices, value: json.dumps(_replace_somewhere(json.loads(seed), choices, value)),
                           st.sampled_from(CLUSTERS), st.lists(st.integers(0, 10_000), min_size=1, max_size=10),
                           st.one_of(st.just(Ellipsis), JSON_VALUE)),
                 mutated(CLUSTERS)))
@example('{"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [5]}}]}')
@example('{"items": [{"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": "3"}}]}')
def test_kubectl_json_ingest(text: str) -> None:
    # Any kubectl object of the wrong shape is refused naming the file, the object and the field;
    # what is read writes back as snapshots every report can render.
    try:
        snaps = kubernetes.snapshots(text.encode("utf-8", "surrogatepass"), "k8s", "pods.json", "2026-11-22T03:00:00Z")
    except InputError as exc:
        assert str(exc).startswith("pods.json") and len(str(exc)) < 1000 and "\n" not in str(exc)
        return
    for snap in snaps[:3]:
        exercise(snap)
