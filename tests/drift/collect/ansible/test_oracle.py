"""ansible-core's own parser is the oracle: ansible-inventory --list on the same files agrees with ours
on every host, its groups (directly or through children) and its connection variables."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drift.collect.ansible.files import adjacent, read
from drift.collect.ansible.ini import parse_ini
from drift.collect.ansible.yml import parse_yaml

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ansible"
ANSIBLE = shutil.which("ansible-inventory")
pytestmark = pytest.mark.skipif(ANSIBLE is None, reason="ansible-core is not installed (pip install ansible-core)")
CONNECTION = ("ansible_host", "ansible_port", "ansible_user", "ansible_ssh_private_key_file")


def oracle(path: Path) -> dict[str, tuple[tuple[str, ...], dict[str, object]]]:
    done = subprocess.run([ANSIBLE, "-i", str(path), "--list"], capture_output=True, text=True, timeout=120,
                          env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true", "PATH": "/usr/bin:/bin",
                               "HOME": str(path.parent), "ANSIBLE_LOCAL_TEMP": str(path.parent)})
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    parents: dict[str, set[str]] = {}
    for group, body in doc.items():
        for child in body.get("children", ()) if group != "_meta" else ():
            parents.setdefault(child, set()).add(group)
    out = {}
    for host, hostvars in doc["_meta"]["hostvars"].items():
        direct = {g for g, body in doc.items() if g != "_meta" and host in body.get("hosts", ())}
        member, stack = set(), list(direct)
        while stack:
            g = stack.pop()
            if g not in member:
                member.add(g)
                stack.extend(parents.get(g, ()))
        member.discard("all")
        out[host] = (tuple(sorted(member)), {k: hostvars[k] for k in CONNECTION if k in hostvars})
    return out


def ours(path: Path) -> dict[str, tuple[tuple[str, ...], dict[str, object]]]:
    if path.is_dir():
        return ours_dir(path)
    parse = parse_yaml if path.suffix in (".yml", ".yaml") else parse_ini
    inv = parse(path.read_text(), path, adjacent(path.parent))
    return {h.name: (h.groups, {k: h.vars[k].value for k in CONNECTION if k in h.vars}) for h in inv.hosts}


def ours_dir(path: Path) -> dict[str, tuple[tuple[str, ...], dict[str, object]]]:
    inv, _digest = read(path)
    return {h.name: (h.groups, {k: h.vars[k].value for k in CONNECTION if k in h.vars}) for h in inv.hosts}


@pytest.mark.parametrize("name", ["hosts.ini", "site.yml", "withvars/hosts.ini", "invdir"])
def test_fixtures_agree_with_ansible(name: str) -> None:
    path = FIXTURES / name
    theirs, mine = oracle(path), ours(path)
    for host, (groups, connection) in theirs.items():
        assert mine[host] == (groups, connection), host
    assert set(theirs) <= set(mine)


NAME = st.from_regex(r"[a-z][a-z0-9]{0,4}", fullmatch=True)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(NAME, st.lists(NAME, max_size=3, unique=True), st.lists(NAME, max_size=2),
                          st.sampled_from(["", "ansible_port=2222", "ansible_user=x", "ansible_host=10.0.0.9"])),
                min_size=1, max_size=5, unique_by=lambda t: t[0]),
       st.booleans())
def test_generated_inventories_agree_with_ansible(tmp_path, groups, as_yaml) -> None:
    """Random groups with hosts, children and vars, each host given a variable so ansible lists it."""
    names = {"g" + g for g, *_ in groups}
    ini, yml = [], ["all:", "  children:"]
    for g, members, children, extra in groups:
        ini.append(f"[g{g}]")
        yml += [f"    g{g}:", "      hosts:" if members else "      hosts: {}"]
        for h in members:
            ini.append(f"h{h} drift_seen=1 {extra}".strip())
            kv = dict(x.split("=") for x in f"drift_seen=1 {extra}".split())
            yml.append(f"        h{h}: {json.dumps(kv)}")
        kids = [f"g{c}" for c in children if f"g{c}" in names and f"g{c}" != f"g{g}"]
        if kids:
            ini += [f"[g{g}:children]", *kids]
            yml += ["      children:", *(f"        {k}:" for k in kids)]
    path = tmp_path / ("inv.yml" if as_yaml else "inv.ini")
    path.write_text("\n".join(yml if as_yaml else ini) + "\n")
    try:
        mine = ours(path)
    except Exception as exc:  # a loop in children: ansible refuses it too
        assert "loop" in str(exc)
        return
    theirs = oracle(path)
    assert {h: v for h, v in mine.items() if h in theirs} == theirs


def test_ansibles_own_yaml_rendering_reads_like_the_ini(tmp_path) -> None:
    """ansible-inventory --list --yaml writes the INI fixture as a YAML inventory: the same hosts."""
    done = subprocess.run([ANSIBLE, "-i", str(FIXTURES / "hosts.ini"), "--list", "--yaml"], capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                                       "ANSIBLE_LOCAL_TEMP": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    (tmp_path / "hosts.yml").write_text(done.stdout)
    assert ours(tmp_path / "hosts.yml") == ours(FIXTURES / "hosts.ini")


PIECES = ["web", "db", "-", ".", "[", "]", ":", "0", "01", "3", "a", "Z", "::", "2222", "_", "[1:3]", "[a:c]", "[:2]",
          "[01:03]", "fe80", "1.2.3.4", "[fe80::1]", "|", "[0:0:2]", "[z:B]", "[1:2:0]", "[ 1:3]", "[+1:2]", "é"]


def test_host_patterns_expand_as_ansibles_own_ini_reader() -> None:
    """3,000 patterns built from pieces ranges are made of: the same names and port, or both refuse.
    drift refuses on purpose what Ansible expands to no host at all, and ports outside 1-65535."""
    import random

    ini = pytest.importorskip("ansible.plugins.inventory.ini", reason="ansible-core is not installed")
    from drift.collect.ansible.ranges import expand
    from drift.core.errors import InventoryError

    reader, rng = ini.InventoryModule(), random.Random(7)
    for _ in range(3000):
        pattern = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 5)))
        try:
            names, port = reader._expand_hostpattern(pattern)
            theirs: object = (list(names), port)
        except Exception:
            theirs = "refused"
        try:
            mine: object = expand(pattern, 1, "inv", ini=True)
        except InventoryError:
            mine = "refused"
        if mine == "refused" and theirs != "refused":
            names, port = theirs  # type: ignore[misc]
            assert names == [] or not 0 < (port or 1) < 65536, pattern
        else:
            assert mine == theirs, pattern
