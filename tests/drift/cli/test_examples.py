"""examples/: real lab snapshots in the repository, so `drift compare examples/staging examples/prod`
shows real drift on any laptop, without root, SSH or a store."""

from __future__ import annotations

import json
from pathlib import Path

EXAMPLES = Path(__file__).parents[3] / "examples"
# The drift the lab injected when the examples were made (examples/README.md): a frozen data set, so
# this list stays as it is while the lab grows.
INJECTED = [
    ("packages/deb/libssl3", "web"), ("packages/deb/libssl3", "db"), ("packages/deb/acme-agent", "web"),
    ("packages/deb/tzdata", "web"), ("files/etc/acme/app.conf", "web"), ("firewall/iptables/filter/INPUT", "web"),
    ("firewall/nft/inet acme/input", "web"), ("topology/listen/tcp/*:9187", "web"),
    ("system/sysctl/net.core.somaxconn", "db"), ("topology/routes/v4/10.99.0.0/16", "web"),
    ("packages/pip:/tmp/drift-lab/venv/bin/python/acme-lib", "web"),
    ("packages/pip:/tmp/drift-lab/venv/bin/python/acme-lib", "db"),
]


def test_examples_show_every_injected_drift(cli):
    code, out, _ = cli("compare", str(EXAMPLES / "staging"), str(EXAMPLES / "prod"), "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["errors"] == []
    found = {(f["path"], role) for f in report["findings"] for role in f.get("roles", [f["role"]])}
    for want in INJECTED:
        assert want in found, want
    assert report["left"]["hosts"] == ["stg-db-1", "stg-web-1", "stg-web-2"]


def test_examples_built_alike_compare_clean(cli):
    code, out, _ = cli("compare", str(EXAMPLES / "staging"), str(EXAMPLES / "mirror"))
    assert code == 0 and "no drift" in out


def test_examples_need_nothing_writable(cli):
    before = sorted(p.name for p in cli.dir.iterdir())
    cli("compare", str(EXAMPLES / "staging"), str(EXAMPLES / "prod"))
    assert sorted(p.name for p in cli.dir.iterdir()) == before  # no store, no cache


def test_examples_are_small_and_hold_nothing_of_the_build_machine():
    files = sorted(EXAMPLES.glob("*/*.json"))
    assert len(files) == 11 and sum(f.stat().st_size for f in files) < 200_000
    machine_id = Path("/etc/machine-id").read_text().strip() if Path("/etc/machine-id").exists() else None
    for f in files:
        text = f.read_text()
        assert machine_id is None or machine_id not in text
        assert json.loads(text)["address"].startswith("10.213.")  # lab addresses only
