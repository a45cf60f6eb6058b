"""`roles = [...]`: several roles on one host, next to the one-role spelling."""

from __future__ import annotations

import pytest

from drift.collect.inventory import load
from drift.collect.targets import resolve
from drift.core.errors import InputError, InventoryError

TOML = """\
[environments.staging]
hosts = [
  {{ name = "stg-app-1", address = "10.0.1.10", {roles} }},
  {{ name = "stg-db-1", role = "db" }},
]
"""


def inv(tmp_path, roles: str):
    p = tmp_path / "drift.toml"
    p.write_text(TOML.format(roles=roles))
    return load(p, {})


def test_roles_list_gives_several_roles_and_role_is_the_first(tmp_path):
    app = inv(tmp_path, 'roles = ["web", "worker"]').host("stg-app-1")
    assert app is not None and app.role == "web" and app.all_roles == ("web", "worker")


def test_one_role_spellings_agree(tmp_path):
    a = inv(tmp_path, 'role = "web"').host("stg-app-1")
    b = inv(tmp_path, 'roles = ["web"]').host("stg-app-1")
    assert a is not None and b is not None and a.all_roles == b.all_roles == ("web",) and a == b


@pytest.mark.parametrize("roles", ['roles = []', 'roles = ["web", "web"]', 'roles = "web"', 'roles = ["a,b"]',
                                   'role = "web", roles = ["worker"]', 'roles = ["web", 3]'])
def test_bad_roles_name_the_file_and_line(tmp_path, roles):
    with pytest.raises(InventoryError) as err:
        inv(tmp_path, roles)
    assert "roles" in str(err.value) or "role" in str(err.value)
    assert ":3" in str(err.value)


def test_env_role_target_takes_every_host_carrying_the_role(tmp_path):
    i = inv(tmp_path, 'roles = ["web", "worker"]')
    (app,) = resolve("staging:worker", i, tmp_path).hosts
    assert (app.name, app.all_roles) == ("stg-app-1", ("worker",))  # joins as the role asked for
    with pytest.raises(InputError, match="roles: db, web, worker"):
        resolve("staging:cron", i, tmp_path)
