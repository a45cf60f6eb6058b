"""The additive `roles` field: written only for several roles, old one-role snapshots load as before."""

from __future__ import annotations

import dataclasses
import json

from drift.model.snapshot import SCHEMA, loads
from drift.store.sqlite import Store
from tests.drift.factory import snap


def test_several_roles_round_trip_and_one_role_documents_are_unchanged():
    one = snap("w1", "prod", "web", {"packages/deb/a": {"version": "1"}})
    assert "roles" not in one.to_dict() and loads(one.to_json()) == one
    two = dataclasses.replace(one, roles=("web", "worker"))
    doc = json.loads(two.to_json())
    assert doc["roles"] == ["web", "worker"] and doc["role"] == "web"
    assert loads(two.to_json()).all_roles == ("web", "worker")


def test_an_old_snapshot_without_roles_loads_with_its_role():
    old = {"schema": SCHEMA, "host": "h", "env": "e", "role": "db", "collected_at": "2026-01-01T00:00:00Z"}
    s = loads(json.dumps(old))
    assert s.all_roles == ("db",) and s.roles == ()


def test_the_store_keeps_several_roles(tmp_path):
    two = dataclasses.replace(snap("w1", "prod", "web", {}), roles=("web", "worker"))
    with Store.open(tmp_path / "d.db") as store:
        store.record([two, snap("w2", "prod", "db", {})])
        got = {s.host: s.all_roles for s in store.latest("prod")}
    assert got == {"w1": ("web", "worker"), "w2": ("db",)}
