"""The Ansible INI and YAML parsers: structure, precedence, odd input, linear time."""

import contextlib
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drift.collect.ansible.ini import parse_ini
from drift.collect.ansible.model import AnsibleInventory
from drift.collect.ansible.ranges import expand
from drift.collect.ansible.yml import parse_yaml
from drift.core.errors import InventoryError

P = Path("inv")
FIXTURES = Path(__file__).parents[1] / "fixtures" / "ansible"


def hosts(inv: AnsibleInventory) -> dict[str, tuple[str, ...]]:
    return {h.name: h.groups for h in inv.hosts}


def var(inv: AnsibleInventory, host: str, key: str) -> object:
    h = next(h for h in inv.hosts if h.name == host)
    return h.vars[key].value if key in h.vars else None


def test_ini_groups_children_vars_and_precedence() -> None:
    inv = parse_ini((FIXTURES / "hosts.ini").read_text(), P)
    got = hosts(inv)
    assert got["bastion.example.com"] == ("ungrouped",)
    assert got["stg-web-1"] == ("linux", "staging", "stg_web", "web")
    assert got["prd-db-1"] == ("linux", "prd_db", "prod")
    assert var(inv, "prd-web-04.example.com", "ansible_port") == 2200  # host beats [prod:vars]
    assert var(inv, "prd-web-01.example.com", "ansible_port") == 22  # "22 # trailing comment"
    assert var(inv, "prd-web-04.example.com", "ansible_ssh_private_key_file") == "~/.ssh/prod key"
    assert var(inv, "prd-web-01.example.com", "ansible_user") == "admin"
    assert inv.depth["stg_web"] == 3 and inv.depth["web"] == 1


def test_ini_lines_are_kept() -> None:
    text = "[web]\nweb-1\n\n[web:vars]\nansible_user=deploy\n"
    inv = parse_ini(text, P)
    (h,) = inv.hosts
    assert h.line == 2 and h.vars["ansible_user"].line == 5


@pytest.mark.parametrize(("pattern", "names", "port"), [
    ("web[01:03]", ["web01", "web02", "web03"], None),
    ("db-[a:c].x", ["db-a.x", "db-b.x", "db-c.x"], None),
    ("n[0:4:2]", ["n0", "n2", "n4"], None),
    ("r[1:2]-[a:b]", ["r1-a", "r1-b", "r2-a", "r2-b"], None),
    ("host:2222", ["host"], 2222),
    ("web[1:2]:2200", ["web1", "web2"], 2200),
    ("[fe80::1]:22", ["fe80::1"], 22),
    ("fe80::2", ["fe80::2"], None),
    ("10.0.0.1", ["10.0.0.1"], None),
    ("web[:3]", ["web0", "web1", "web2", "web3"], None),  # a missing begin is 0, as in Ansible
    ("a[Y:b]", [], None),  # letters run a-z then A-Z: Y comes after b, so this is refused below
    ("x[z:B]", ["xz", "xA", "xB"], None),
    ("10.0.[1:2].5:2222", ["10.0.1.5", "10.0.2.5"], 2222),
])
def test_host_patterns(pattern: str, names: list[str], port: int | None) -> None:
    if not names:
        with pytest.raises(InventoryError):
            expand(pattern, 1, P)
        return
    assert expand(pattern, 1, P) == (names, port)


@pytest.mark.parametrize("pattern", ["web[3:1]", "web[0:99999999]", "web[1:", "web[a:10]", "h:0", "h:70000",
                                     "web[01:1]", "web[1:3:0]", "w[1:]", "a[1:2]|b"])
def test_bad_host_patterns_name_the_line(pattern: str) -> None:
    with pytest.raises(InventoryError) as err:
        expand(pattern, 7, P)
    assert err.value.line == 7


@pytest.mark.parametrize(("text", "line", "words"), [
    ("[web\nh1\n", 1, "host pattern"),  # ansible reads it as a host line, and so do we
    ("[web:bogus]\nh1\n", 1, "unknown type"),
    ("[web]\nh1 junk\n", 2, "key=value"),
    ("[web]\nh1 a='open\n", 2, "cannot split"),
    ("[web:vars]\nnot a var\n", 2, "key=value"),
    ("[a:children]\nb\n[b:children]\na\n", None, "loop"),
    ("[a:children]\na\n", 2, "own child"),
])
def test_ini_errors(text: str, line: int | None, words: str) -> None:
    with pytest.raises(InventoryError) as err:
        parse_ini(text, P)
    assert words in str(err.value)
    if line is not None:
        assert err.value.line == line


@pytest.mark.parametrize(("text", "line", "words"), [
    ("1234:\n", 1, "reserved for a port"),
    ("[web]\n---\n", 2, "YAML"),
    ("[web:children]\napi\n", 2, "never defines"),
    ("[web:vars]\nx=1\n[all:children]\nweb\n", 1, "[web:vars]"),
])
def test_ini_refuses_what_ansible_refuses(text: str, line: int, words: str) -> None:
    with pytest.raises(InventoryError) as err:
        parse_ini(text, P)
    assert err.value.line == line and words in str(err.value)


def test_a_child_group_defined_later_in_the_file() -> None:
    inv = parse_ini("[prod:children]\nweb\n[web:vars]\nx=1\n[web]\nw1\n", P)
    assert hosts(inv) == {"w1": ("prod", "web")} and var(inv, "w1", "x") == 1


def test_group_priority_orders_groups_of_one_depth() -> None:
    text = ("[a]\nh1\n[b]\nh1\n[a:vars]\nansible_user=ua\nansible_group_priority=10\n"
            "[b:vars]\nansible_user=ub\n")
    assert var(parse_ini(text, P), "h1", "ansible_user") == "ua"  # b sorts after a by name, but a is 10
    assert var(parse_ini(text.replace("ansible_group_priority=10\n", ""), P), "h1", "ansible_user") == "ub"
    with pytest.raises(InventoryError) as err:
        parse_ini("[a]\nh1\n[a:vars]\nansible_group_priority=high\n", P)
    assert err.value.line == 4


def test_ini_crlf_and_comments() -> None:
    inv = parse_ini("; c\r\n# c\r\n[web]\r\nh1 ansible_host=10.0.0.1\r\n", P)
    assert var(inv, "h1", "ansible_host") == "10.0.0.1"


def test_yaml_structure_merge_keys_and_lines() -> None:
    inv = parse_yaml((FIXTURES / "site.yml").read_text(), P)
    got = hosts(inv)
    assert got["lone"] == ("ungrouped",)
    assert got["stg-db-1"] == ("staging", "stg_db")
    assert got["prd-web-1"] == ("prd_web", "prod", "web")
    assert var(inv, "prd-web-1", "ansible_port") == 2222
    assert var(inv, "prd-web-2", "ansible_host") == "10.2.0.2"  # overrides the merged anchor
    assert var(inv, "prd-web-2", "ansible_ssh_private_key_file") == "keys/db"  # from the anchor
    assert var(inv, "stg-web-1", "ansible_user") == "deploy"  # host beats all:vars
    h = next(h for h in inv.hosts if h.name == "stg-db-1")
    assert h.line == 17 and h.vars["ansible_host"].line == 18


@pytest.mark.parametrize(("text", "words"), [
    ("all:\n  hostz:\n    h1:\n", "unknown key 'hostz'"),
    ("all:\n  hosts: [h1, h2]\n", "must be a mapping"),
    ("- a\n- b\n", "mapping of groups"),
    ("all:\n  hosts:\n    h1: [1]\n", "must be a mapping"),
    ("all: {hosts: {h1: }\n", "invalid YAML"),
    ("a: 1\n---\nb: 2\n", "invalid YAML"),
])
def test_yaml_errors(text: str, words: str) -> None:
    with pytest.raises(InventoryError) as err:
        parse_yaml(text, P)
    assert words in str(err.value)


def test_yaml_recursive_alias_terminates() -> None:
    """Ansible recurses until Python's limit and lists nothing; drift stops at the loop it makes."""
    with pytest.raises(InventoryError) as err:
        parse_yaml("all:\n  children:\n    g: &g\n      hosts: {h: }\n      children:\n        g2: *g\n", P)
    assert "own child" in str(err.value)


def test_yaml_host_variables_in_document_order() -> None:
    """Ansible reads a group depth first: the parent's later `hosts:` overrides what a child set."""
    text = ("web:\n  children:\n    edge:\n      hosts:\n        h1: {ansible_user: child}\n"
            "  hosts:\n    h1: {ansible_user: parent}\n")
    assert var(parse_yaml(text, P), "h1", "ansible_user") == "parent"
    text = "web:\n  hosts:\n    h1: {ansible_user: parent}\n  children:\n    edge:\n      hosts:\n        h1: {ansible_user: child}\n"
    assert var(parse_yaml(text, P), "h1", "ansible_user") == "child"


def test_yaml_empty_is_empty() -> None:
    assert parse_yaml("", P).hosts == ()
    assert parse_yaml("# nothing\n", P).hosts == ()


def test_yaml_deep_nesting_is_a_clean_error() -> None:
    with pytest.raises(InventoryError):
        parse_yaml("a: " + "[" * 10_000 + "]" * 10_000, P)


def test_yaml_alias_bomb_stays_linear() -> None:
    lines = ["all:", "  children:", "    g0: &g0", "      hosts: {h0: }"]
    for i in range(1, 25):  # each level holds the previous one twice: 2**24 paths, 48 groups
        lines += [f"    g{i}: &g{i}", "      children:", f"        a{i}: *g{i - 1}", f"        b{i}: *g{i - 1}"]
    start = time.monotonic()
    inv = parse_yaml("\n".join(lines) + "\n", P)
    assert time.monotonic() - start < 10  # 2**24 paths if aliases were followed
    assert [h.name for h in inv.hosts] == ["h0"]


def test_ini_huge_input_is_linear() -> None:
    text = "[web]\n" + "".join(f"web-{i} ansible_host=10.0.{i // 250}.{i % 250}\n" for i in range(20_000))
    start = time.monotonic()
    inv = parse_ini(text, P)
    assert len(inv.hosts) == 20_000 and time.monotonic() - start < 30  # ~1 s; quadratic would be hours


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("[]:=#;'\" \n\tabc01-_.{}&*<>|!")), max_size=200))
def test_ini_odd_input_never_crashes(text: str) -> None:
    with contextlib.suppress(InventoryError):
        parse_ini(text, P)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("[]:=#-'\" \n\tabc01{}&*<>|!,?")), max_size=200))
def test_yaml_odd_input_never_crashes(text: str) -> None:
    with contextlib.suppress(InventoryError):
        parse_yaml(text, P)


NAME = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(NAME.map(lambda s: "g" + s), st.lists(NAME.map(lambda s: "h" + s), max_size=4),
                       min_size=1, max_size=5),
       st.dictionaries(NAME.map(lambda s: "h" + s), st.integers(1, 65535), max_size=4))
def test_ini_and_yaml_agree(groups: dict[str, list[str]], ports: dict[str, int]) -> None:
    """The same inventory written in both formats reads the same."""
    ini, yml = [], ["all:", "  children:"]
    for g, members in groups.items():
        ini.append(f"[{g}]")
        yml.append(f"    {g}:")
        if members:
            yml.append("      hosts:")
        for h in members:
            ini.append(h + (f" ansible_port={ports[h]}" if h in ports else ""))
            yml.append(f"        {h}:" + (f" {{ansible_port: {ports[h]}}}" if h in ports else ""))
    a, b = parse_ini("\n".join(ini) + "\n", P), parse_yaml("\n".join(yml) + "\n", P)
    assert hosts(a) == hosts(b)
    for h in a.hosts:
        assert var(a, h.name, "ansible_port") == var(b, h.name, "ansible_port")


def test_yaml_huge_input_is_linear() -> None:
    text = "all:\n  hosts:\n" + "".join(f"    web-{i}: {{ansible_host: 10.0.{i // 250}.{i % 250}}}\n"
                                       for i in range(20_000))
    start = time.monotonic()
    inv = parse_yaml(text, P)
    assert len(inv.hosts) == 20_000 and time.monotonic() - start < 60  # ~3 s; PyYAML's pure-Python composer


def test_a_port_in_the_pattern_counts_where_the_host_is_first_named() -> None:
    """As Ansible: `h:2222` again later does not undo the ansible_port the first line set."""
    inv = parse_ini("[a]\nh:2222 ansible_port=2200\n[b]\nh:2222\n", P)
    assert var(inv, "h", "ansible_port") == 2200
    assert var(parse_ini("[a]\nh\n[b]\nh:2222\n", P), "h", "ansible_port") is None
