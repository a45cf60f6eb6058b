import textwrap

import pytest

from drift.collect.inventory import load
from drift.core.errors import InventoryError

GOOD = """\
[ssh]
user = "deploy"
port = 22
identity_file = "~/.ssh/id_ed25519"
host_key_policy = "strict"
connect_timeout = 10
sudo = false
jobs = 8

[collect]
collectors = ["packages", "files"]
files = ["/etc/nginx/**/*.conf"]
python = ["/opt/acme/venv/bin/python"]
sysctl = ["net.core.somaxconn", "net.ipv4.*"]

[store]
keep_days = 30

[environments.staging]
hosts = [
  { name = "stg-web-1", address = "10.0.1.10", role = "web" },
  { name = "stg-db-1",  address = "10.0.1.20", role = "db", user = "admin" },
]

[environments.prod]
ssh = { port = 2222 }
hosts = [
  { name = "prd-web-1", address = "10.0.2.10", role = "web" },
  { name = "prd-misc" },
]

[policy]
fail_on = "high"
"""


def write(tmp_path, text):
    p = tmp_path / "drift.toml"
    p.write_text(textwrap.dedent(text))
    return p


def test_the_spec_example_loads_with_overrides_and_defaults(tmp_path):
    inv = load(write(tmp_path, GOOD), env={})
    assert set(inv.environments) == {"staging", "prod"}
    db = inv.host("stg-db-1")
    assert db.role == "db" and db.ssh.user == "admin" and db.ssh.port == 22 and db.ssh.jobs == 8
    assert inv.host("prd-web-1").ssh.port == 2222
    misc = inv.host("prd-misc")
    assert misc.role == "default" and misc.address == "prd-misc"
    assert inv.collect.sysctl == ("net.core.somaxconn", "net.ipv4.*")
    assert inv.store_path == tmp_path.resolve() / ".drift" / "drift.db" and inv.keep_days == 30
    assert inv.policy_table["fail_on"] == "high"


def test_store_path_falls_back_to_env_var(tmp_path):
    inv = load(write(tmp_path, "[environments.a]\nhosts = []\n"), env={"DRIFT_STORE": str(tmp_path / "s.db")})
    assert inv.store_path == tmp_path / "s.db"


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("[ssh]\nuser = 'x'\nprot = 22\n", 3, "unknown key 'ssh.prot'"),
        ("[ssh]\nport = 'twenty'\n", 2, "ssh.port must be an integer"),
        ("[ssh]\nhost_key_policy = 'yolo'\n", 2, "host_key_policy"),
        ("[colect]\nfiles = []\n", 1, "unknown key 'colect'"),
        ("[collect]\ncollectors = ['pakages']\n", 2, "unknown collector 'pakages'"),
        ("[environments.prod]\nhosts = [\n  { name = 'a' },\n  { name = 'b', rol = 'web' },\n]\n", 4, "hosts[1].rol"),
        ("[environments.prod]\nhosts = [{ name = 'a' }, { name = 'a' }]\n", 2, "appears twice"),
        ("[store]\nkeep_days = 0\n", 2, "keep_days"),
        ("[ssh]\nuser = \n", 2, "invalid TOML"),
        ("[environments.local]\nhosts = []\n", 1, "cannot be an environment name"),
    ],
)
def test_errors_name_file_key_and_line(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(InventoryError) as err:
        load(path, env={})
    assert err.value.path == str(path) and err.value.line == line
    assert words in str(err.value) and str(err.value).startswith(f"{path}:{line}: ")


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(InventoryError, match="file not found"):
        load(tmp_path / "absent.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"[ssh]\nuser = \"\xff\"\n")
    with pytest.raises(InventoryError) as err:
        load(bad, env={})
    assert err.value.line == 2


def test_ssh_config_file_and_proxy_jump_at_every_level(tmp_path):
    (tmp_path / "ssh_config").write_text("Host bastion\n  HostName 10.0.0.5\n")
    inv = load(write(tmp_path, """
        [ssh]
        config = "ssh_config"
        proxy_jump = "jump@bastion:2222"
        [environments.prod]
        ssh = { proxy_jump = "a@b1,c@b2" }
        hosts = [{ name = "web-1" }, { name = "web-2", proxy_jump = "none" }]
        [environments.lab]
        hosts = [{ name = "lab-1" }]
    """))
    assert inv.ssh.config == str(tmp_path / "ssh_config")  # relative to the inventory, like store.path
    by_name = {h.name: h.ssh for h in inv.hosts()}
    assert by_name["web-1"].proxy_jump == "a@b1,c@b2" and by_name["web-2"].proxy_jump == "none"
    assert by_name["lab-1"].proxy_jump == "jump@bastion:2222" and by_name["lab-1"].config == inv.ssh.config


@pytest.mark.parametrize("line, words", [
    ('config = "missing"', "no ssh config file"),
    ('proxy_jump = ""', "proxy_jump must be"),
    ('proxy_jump = "a b"', "proxy_jump must be"),
    ('proxy_jump = "a,,b"', "proxy_jump must be"),
])
def test_bad_ssh_config_and_proxy_jump_name_the_line(tmp_path, line, words):
    with pytest.raises(InventoryError) as caught:
        load(write(tmp_path, f"[ssh]\n{line}\n"))
    assert words in str(caught.value) and ":2:" in str(caught.value)
