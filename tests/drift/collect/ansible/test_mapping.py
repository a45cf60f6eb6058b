"""The convention from Ansible groups to environments and roles, and loading through -i / drift.toml."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drift.collect.ansible import mapping as ansible_map
from drift.collect.ansible.formats import kind
from drift.collect.ansible.ini import parse_ini
from drift.collect.ansible.mapping import Convention, default_environment
from drift.collect.inventory import SSHSettings, load
from drift.core.errors import InventoryError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ansible"


DEFAULT = Convention()


def mapped(text: str, conv: Convention = DEFAULT, path: Path = Path("/srv/inv/site.ini")) -> dict:
    envs = ansible_map.environments(parse_ini(text, path), conv, SSHSettings())
    return {env: {h.name: h.role for h in hosts} for env, hosts in envs.items()}


def test_fixture_maps_env_groups_and_role_groups() -> None:
    inv = load(FIXTURES / "hosts.ini")
    assert {e: {h.name: h.role for h in hs} for e, hs in inv.environments.items()} == {
        "ansible": {"bastion.example.com": "default"},  # in no env group: named after the directory
        "staging": {"stg-web-1": "web", "stg-web-2": "web", "stg-db-1": "db"},
        "prod": {f"prd-web-0{i}.example.com": "web" for i in range(1, 5)} | {"prd-db-1": "db"},
    }
    h = inv.host("prd-web-04.example.com")
    assert (h.address, h.ssh.port, h.ssh.user, h.ssh.identity_file) == (
        "prd-web-04.example.com", 2200, "admin", "~/.ssh/prod key")
    assert inv.host("stg-db-1").address == "10.0.1.20"
    assert inv.store_path == (FIXTURES / ".drift" / "drift.db").resolve()


def test_flat_layout_one_inventory_per_environment() -> None:
    got = mapped("[web]\nw1\nw2\n[db]\nd1\n[linux:children]\nweb\ndb\n", path=Path("/srv/inventories/prod/hosts"))
    assert got == {"prod": {"w1": "web", "w2": "web", "d1": "db"}}  # linux holds every host: not a role


def test_env_prefix_and_suffix_are_stripped_from_roles() -> None:
    got = mapped("[prod-web]\na\n[db_prod]\nb\n[prod:children]\nprod-web\ndb_prod\n[preprod_web]\nc\n"
                 "[preprod:children]\npreprod_web\n")
    assert got == {"prod": {"a": "web", "b": "db"}, "preprod": {"c": "web"}}


def test_most_specific_role_wins_then_name() -> None:
    got = mapped("[web]\na\n[api]\na\n[x]\nb\n[edge:children]\nweb\n")
    assert got["site"]["a"] == "web"  # depth 2 (all > edge > web) beats depth 1


def test_configured_convention() -> None:
    text = "[blue]\na\n[green]\nb\n[web]\na\nb\n[monitored]\na\n"
    conv = Convention(environments=("blue", "green"), roles=("web",))
    assert mapped(text, conv) == {"blue": {"a": "web"}, "green": {"b": "web"}}
    conv = Convention(environment="lab", ignore_groups=("monitored",))
    assert mapped(text, conv) == {"lab": {"a": "blue", "b": "green"}}


def test_host_in_two_environments_is_an_error_naming_its_line() -> None:
    with pytest.raises(InventoryError) as err:
        mapped("[prod]\na\n[staging]\nb\na\n")
    assert err.value.line == 2 and "several environment groups" in str(err.value)


@pytest.mark.parametrize(("line", "words"), [
    ("h ansible_port=99999", "port number"),
    ("h ansible_port=abc", "port number"),
    ("h ansible_user=[1]", "non-empty string"),
    ("local", "clashes"),
    ("prod", "clashes"),
])
def test_bad_connection_values(line: str, words: str) -> None:
    with pytest.raises(InventoryError) as err:
        mapped(f"[prod]\n{line}\n")
    assert words in str(err.value) and err.value.line == 2


def test_relative_identity_file_is_beside_the_inventory(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text("[web]\nh ansible_ssh_private_key_file=keys/id\n")
    h = load(tmp_path / "hosts.ini").host("h")
    assert h.ssh.identity_file == str(tmp_path.resolve() / "keys/id")
    assert h.ssh.origin("identity_file") == (str(tmp_path / "hosts.ini"), 2)


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("drift.toml", "[web]\nh1\n", None),
    ("hosts.yml", "x = 1", "yaml"),
    ("hosts", "[web]\nh1\n", "ini"),
    ("hosts", "h1\nh2\n", "ini"),
    ("hosts", "# c\nall:\n  hosts:\n", "yaml"),
    ("hosts", "---\nall: {}\n", "yaml"),
    ("inv.cfg", "[environments.prod]\nhosts = []\n", None),
    ("inv.ini", "[web]\n", "ini"),
])
def test_format_detection(name: str, text: str, expected: str | None) -> None:
    assert kind(Path(name), text) == expected


def test_default_environment_names() -> None:
    assert default_environment(Path("/a/inventories/prod/hosts.yml")) == "prod"
    assert default_environment(Path("/a/staging.ini")) == "staging"
    assert default_environment(Path("/a/qa/hosts")) == "qa"


def test_drift_toml_reads_an_ansible_inventory(tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text("prod:\n  hosts:\n    p1: {ansible_host: 10.0.0.1}\n")
    (tmp_path / "drift.toml").write_text(
        '[ssh]\nuser = "deploy"\n\n[inventory.ansible]\npath = "hosts.yml"\n\n'
        '[environments.staging]\nhosts = [{ name = "s1", role = "web" }]\n')
    inv = load(tmp_path / "drift.toml")
    assert sorted(inv.environments) == ["prod", "staging"]
    assert inv.host("p1").ssh.user == "deploy" and inv.host("p1").address == "10.0.0.1"


@pytest.mark.parametrize(("body", "line", "words"), [
    ('[inventory.ansible]\npath = "hosts.ini"\nenvironmens = ["x"]\n', 3, "unknown key 'inventory.ansible.environmens'"),
    ('[inventory]\nansibel = {}\n', 2, "unknown key"),
    ('[inventory.ansible]\nroles = "web"\npath = "hosts.ini"\n', 2, "list of non-empty strings"),
    ('[inventory.ansible]\npath = "nope.ini"\n', 2, "file not found"),
    ('[inventory.ansible]\nenvironment = "x"\n', 1, "path must name"),
    ('[inventory.ansible]\npath = "hosts.ini"\n[environments.prod]\nhosts = []\n', 3, "defined here and in"),
    ('[inventory.ansible]\npath = "bad.ini"\n', 2, "read as an Ansible INI inventory"),
])
def test_inventory_ansible_table_errors(tmp_path: Path, body: str, line: int, words: str) -> None:
    (tmp_path / "hosts.ini").write_text("[prod]\np1\n")
    (tmp_path / "bad.ini").write_text("[prod]\np1 junk\n")
    (tmp_path / "drift.toml").write_text(body)
    with pytest.raises(InventoryError) as err:
        load(tmp_path / "drift.toml")
    assert words in str(err.value)
    if "read as" in words:
        assert err.value.path.endswith("bad.ini") and err.value.line == 2
    else:
        assert err.value.line == line


def test_origins_of_toml_settings(tmp_path: Path) -> None:
    (tmp_path / "drift.toml").write_text(
        '[ssh]\nknown_hosts = "/x/kh"\n\n[environments.prod]\nhosts = [\n'
        '  { name = "a" },\n  { name = "b", identity_file = "/x/id" },\n]\n')
    inv = load(tmp_path / "drift.toml")
    assert inv.host("a").ssh.origin("known_hosts") == (str(tmp_path / "drift.toml"), 2)
    assert inv.host("b").ssh.origin("identity_file") == (str(tmp_path / "drift.toml"), 7)
    assert inv.host("a").ssh.origin("identity_file") is None


def test_non_utf8_inventory_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_bytes(b"[web]\nh1\nh\xff2\n")
    with pytest.raises(InventoryError) as err:
        load(tmp_path / "hosts.ini")
    assert err.value.line == 3 and "UTF-8" in str(err.value)


GROUP = st.sampled_from(["prod", "staging", "web", "db", "prod_web", "stg_db", "linux", "all", "ungrouped"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(GROUP, st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=3)), max_size=6),
       st.lists(st.tuples(GROUP, GROUP), max_size=4))
def test_every_host_gets_one_environment_and_one_role(groups: list, children: list) -> None:
    text = "".join(f"[{g}]\n" + "".join(f"{h}\n" for h in hosts) for g, hosts in groups)
    text += "".join(f"[{p}:children]\n{c}\n" for p, c in children if p not in ("all", "ungrouped"))
    try:
        envs = ansible_map.environments(parse_ini(text, Path("/x/site.ini")), DEFAULT, SSHSettings())
    except InventoryError as exc:  # two environments for one host, or a loop: named, never a crash
        assert any(words in str(exc) for words in ("several environment groups", "loop", "own child", "never defines"))
        return
    names = [h.name for hosts in envs.values() for h in hosts]
    assert sorted(names) == sorted(set(names))
    assert all(h.role and h.env == env for env, hosts in envs.items() for h in hosts)


def test_many_groups_map_in_linear_time() -> None:
    """Dynamic inventories make a group per tag: 6,000 groups, 4,000 hosts."""
    import time

    lines = []
    for i in range(2_000):
        env = "prod" if i % 2 else "staging"
        lines += [f"[{env}_svc{i}]", f"h{i}-a", f"h{i}-b", f"[tag_{i}]", f"h{i}-a", f"[{env}:children]", f"{env}_svc{i}"]
    start = time.monotonic()
    envs = ansible_map.environments(parse_ini("\n".join(lines) + "\n", Path("/x/site.ini")), DEFAULT, SSHSettings())
    assert sum(len(h) for h in envs.values()) == 4_000 and time.monotonic() - start < 20  # ~0.5 s
    assert {h.role for h in envs["prod"] if h.name == "h1-b"} == {"svc1"}


def test_group_vars_and_host_vars_beside_the_inventory() -> None:
    inv = load(FIXTURES / "withvars" / "hosts.ini")
    w1, w2 = inv.host("w1"), inv.host("w2")
    assert (w1.address, w1.ssh.port, w1.ssh.user) == ("1.1.1.1", 3000, "fromfile")  # group_vars/all, web.yml
    assert (w2.address, w2.ssh.port, w2.ssh.user) == ("9.9.9.9", 3000, "gvweb")  # host_vars/w2.json


@pytest.mark.parametrize(("name", "text", "line", "words"), [
    ("web.yml", "ansible_user: [unclosed\n", 2, "invalid YAML"),
    ("web.yml", "- a\n- b\n", 1, "must be a mapping"),
    ("web", "ansible_port: 99999\n", 1, "port number"),
])
def test_errors_in_group_vars_name_that_file(tmp_path: Path, name: str, text: str, line: int, words: str) -> None:
    (tmp_path / "hosts.ini").write_text("[web]\nw1\nw2\n[prod:children]\nweb\n")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / name).write_text(text)
    with pytest.raises(InventoryError) as err:
        load(tmp_path / "hosts.ini")
    assert err.value.path == str(tmp_path / "group_vars" / name) and err.value.line == line
    assert words in str(err.value)


def test_identity_file_from_group_vars_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text("[web]\nw1\n")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text("# keys\nansible_ssh_private_key_file: keys/id\n")
    h = load(tmp_path / "hosts.ini").host("w1")
    assert h.ssh.identity_file == str(tmp_path.resolve() / "keys/id")
    assert h.ssh.origin("identity_file") == (str(tmp_path / "group_vars" / "all.yml"), 2)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["hosts", "hosts.ini", "hosts.yml", "inv.cfg"]),
       st.text(alphabet=st.sampled_from(list("[]:=#;'\"{}- \n\tab01.*&!|,")), max_size=120))
def test_any_inventory_file_loads_or_is_a_clean_input_error(tmp_path_factory, name: str, text: str) -> None:
    path = tmp_path_factory.mktemp("inv") / name
    path.write_text(text)
    try:
        load(path)
    except InventoryError as exc:
        assert exc.path is not None


def test_an_inventory_directory(tmp_path: Path) -> None:
    d = tmp_path / "prod"
    d.mkdir()
    (d / "a.ini").write_text("[web]\nw1\n")
    (d / "b.yml").write_text("all:\n  children:\n    db:\n      hosts:\n        d1:\n")
    (d / "drift.toml").write_text("[environments.x]\nhosts = []\n")  # drift's own file, not Ansible's
    (d / "notes.txt").write_text("junk\n")
    inv = load(d)
    assert {h.name: (h.env, h.role) for h in inv.hosts()} == {"w1": ("prod", "web"), "d1": ("prod", "db")}
    (d / "c.ini").write_text("[db]\nd2 junk\n")
    with pytest.raises(InventoryError) as err:
        load(d)
    assert err.value.path == str(d / "c.ini") and err.value.line == 2
    (d / "c.ini").write_text("#!/bin/sh\n")
    (d / "c.ini").chmod(0o755)
    with pytest.raises(InventoryError) as err:
        load(d, {})  # no ansible-inventory on this PATH to run it
    assert "never runs" in str(err.value) and "ansible-inventory -i" in str(err.value)


def test_a_directory_in_inventory_ansible(tmp_path: Path) -> None:
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "hosts").write_text("[staging]\ns1\n")
    (tmp_path / "drift.toml").write_text('[inventory.ansible]\npath = "inventory"\n')
    assert [h.name for h in load(tmp_path / "drift.toml").environments["staging"]] == ["s1"]


def test_listed_roles_may_be_co_located() -> None:
    text = "[web]\na\nb\n[worker]\na\nc\n[debian]\na\nc\n[staging:children]\nweb\nworker\ndebian\n"
    envs = ansible_map.environments(parse_ini(text, Path("/x/s.ini")), Convention(roles=("web", "worker")),
                                    SSHSettings())
    assert {h.name: h.all_roles for h in envs["staging"]} == {"a": ("web", "worker"), "b": ("web",),
                                                                 "c": ("worker",)}
    envs = ansible_map.environments(parse_ini(text, Path("/x/s.ini")), DEFAULT, SSHSettings())
    assert {h.name: h.all_roles for h in envs["staging"]} == {"a": ("debian",), "b": ("web",), "c": ("debian",)}
