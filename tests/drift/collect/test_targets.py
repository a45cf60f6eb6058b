"""Targets (spec/cli.md): DIR:ROLE takes one role of a directory of snapshots, as ENV:ROLE does."""

from __future__ import annotations

from pathlib import Path

import pytest

from drift.collect.targets import resolve
from drift.core.errors import InputError

EXAMPLES = Path(__file__).parents[3] / "examples"


def test_dir_colon_role_is_one_role_of_the_directory():
    t = resolve("prod:web", None, EXAMPLES)
    assert t.name == "prod" and sorted(s.host for s in t.snapshots) == ["prd-web-1", "prd-web-2", "prd-web-3"]
    assert {s.role for s in t.snapshots} == {"web"} and all(s.roles == () for s in t.snapshots)
    assert [s.host for s in resolve(f"{EXAMPLES}/prod:db", None, Path("/")).snapshots] == ["prd-db-1"]


def test_a_shared_host_joins_as_the_role_asked_for():
    shared = next(s for s in resolve("staging", None, EXAMPLES).snapshots if len(s.all_roles) > 1)
    other = next(r for r in shared.all_roles if r != shared.role)
    (got,) = [s for s in resolve(f"staging:{other}", None, EXAMPLES).snapshots if s.host == shared.host]
    assert got.all_roles == (other,)


def test_an_unknown_role_of_a_directory_names_the_roles_it_has():
    with pytest.raises(InputError, match=r"prod has no role 'cache' \(roles: db, web, worker\)"):
        resolve("prod:cache", None, EXAMPLES)
    with pytest.raises(InputError, match="unknown target 'nowhere:web'"):
        resolve("nowhere:web", None, EXAMPLES)
