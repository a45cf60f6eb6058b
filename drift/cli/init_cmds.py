"""`drift init [--from-ansible FILE | --from-ssh-config]`: write a starter drift.toml to review."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated

import typer

from drift.cli.app import Common, QuietOpt, app, common
from drift.collect import ansible_map, ssh_config
from drift.collect import inventory as inventory_io
from drift.collect.inventory import Host, SSHSettings
from drift.core.atomic import write_atomic
from drift.core.errors import ExitStatus, InputError, InventoryError

_COMMON = """\
[ssh]
# user = "deploy"                    # default: ~/.ssh/config, else your login name
# identity_file = "~/.ssh/id_ed25519"
# known_hosts = "~/.ssh/known_hosts"  # the default
host_key_policy = "strict"           # or "accept-new": trust a key never seen before, refuse a changed one
sudo = false                         # run the firewall collectors through `sudo -n`

[collect]
files = ["/etc/hosts", "/etc/resolv.conf", "/etc/ssh/sshd_config"]   # hashes, never contents
sysctl = ["net.core.somaxconn", "net.ipv4.ip_forward"]
# python = ["/opt/app/venv/bin/python"]   # interpreters whose installed distributions are recorded

[policy]
fail_on = "high"                     # what makes `drift compare` exit 1
max_snapshot_age = "7d"              # reports warn about compared snapshots older than this
"""


@app.command("init")
def init_cmd(
    ctx: typer.Context,
    from_ansible: Annotated[Path | None, typer.Option(
        "--from-ansible", help="Read hosts from this Ansible inventory (INI or YAML), on every run.")] = None,
    from_ssh_config: Annotated[bool, typer.Option(
        "--from-ssh-config", help="List the hosts of ~/.ssh/config, grouped by a guess at env and role.")] = False,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write.")] = Path("drift.toml"),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    env: Annotated[str | None, typer.Option(
        "--env", metavar="NAME", help="With --from-ansible: the environment of hosts in no environment group.")] = None,
    quiet: QuietOpt = False,
) -> int:
    """Write a starter drift.toml to review: from an Ansible inventory, ~/.ssh/config, or an example."""
    c = common(ctx, quiet=quiet)
    if from_ansible is not None and from_ssh_config:
        raise InputError("give --from-ansible FILE or --from-ssh-config, not both")
    target = _absolute(c, output)
    if target.exists() and not force:
        raise InputError("already exists; drift init never replaces a file unless you pass --force", target)
    if env is not None and from_ansible is None:
        raise InputError("--env names the environment of an Ansible inventory's hosts: use it with --from-ansible")
    if from_ansible is not None:
        text = _from_ansible(c, _absolute(c, from_ansible), target.parent, env)
    elif from_ssh_config:
        text = _from_ssh_config(c)
    else:
        text = _example()
    write_atomic(target, text)
    try:
        inv = inventory_io.load(target, c.env.vars)
    except InventoryError as exc:  # pragma: no cover - a bug of ours: what we write must load
        raise RuntimeError(f"drift init wrote an inventory it cannot read: {exc}") from None
    hosts, n = inv.hosts(), len(inv.environments)
    c.say(f"drift: wrote {target}: {n} environment{'s' if n != 1 else ''}, {len(hosts)} host"
          f"{'s' if len(hosts) != 1 else ''}. Review it, then run `drift inventory --check` to test every "
          "host's SSH access and host key.")
    return ExitStatus.OK


def _absolute(c: Common, path: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else c.env.cwd / path


# Stands for "no environment group" while init looks at the inventory; never written anywhere.
_NO_ENV = "drift-init-in-no-environment-group"


def _from_ansible(c: Common, source: Path, out_dir: Path, env: str | None) -> str:
    from drift.collect.ansible_files import load_hosts

    if not source.exists():
        raise InputError("file not found", source)
    envs = load_hosts(source, ansible_map.Convention(environment=_NO_ENV), SSHSettings())[0]
    stray = len(envs.get(_NO_ENV, ()))
    if stray and env is None:
        fallback = ansible_map.default_environment(source)
        if stray == sum(map(len, envs.values())):
            # The file's (or its directory's) name is a guess a person would not make: ask.
            raise InputError(f"no group looks like an environment (prod, staging, ...), so its {stray} hosts "
                             f"would all be in an environment named {fallback!r} after the file: name it with "
                             "--env NAME, or group the hosts by environment", source)
        c.say(f"drift: warning: {stray} host{'s are' if stray != 1 else ' is'} in no environment group and "
              f"go{'es' if stray == 1 else ''} to environment {fallback!r}; pass --env NAME to name it")
    envs = load_hosts(source, ansible_map.Convention(environment=env), SSHSettings())[0]
    if all(h.role == "default" for hosts in envs.values() for h in hosts):
        c.say("drift: warning: no group looks like a role, so every host has role `default` and web, db "
              "and other hosts of an environment are compared as peers; group hosts by role (web, db), or "
              "list the role groups in [inventory.ansible] roles")
    relative = os.path.relpath(source.resolve(), out_dir.resolve())
    named = f"environment = {json.dumps(env)}" if env is not None else \
        "# environment = \"lab\"                   # for hosts in no environment group"
    return (f"# drift.toml: written by `drift init --from-ansible {source.name}`; see docs/inputs.md.\n"
            "# Hosts are read from the Ansible inventory on every run. Groups named like an environment\n"
            "# (prod, staging, ...) are environments; other groups are roles (prod_web -> web).\n"
            "# As mapped now:\n" + _summary(envs) + "\n"
            "[inventory.ansible]\n"
            f"path = {json.dumps(relative)}\n"
            "# environments = [\"staging\", \"prod\"]   # the groups that are environments\n"
            "# roles = [\"web\", \"db\"]                 # the groups that are roles (default: every other)\n"
            "# ignore_groups = [\"monitored\"]         # groups that are never roles\n"
            f"{named}\n\n" + _COMMON)


def _summary(envs: Mapping[str, Sequence[Host]]) -> str:
    lines = []
    for env, hosts in sorted(envs.items()):
        roles: dict[str, list[str]] = {}
        for h in hosts:
            roles.setdefault(h.role, []).append(h.name)
        parts = [f"{role} ({', '.join(names[:3])}{f' +{len(names) - 3} more' if len(names) > 3 else ''})"
                 for role, names in sorted(roles.items())]
        lines.append(f"#   {env}: " + "; ".join(parts))
    return "\n".join(lines[:40]) + ("\n#   ..." if len(lines) > 40 else "") + "\n"


def _from_ssh_config(c: Common) -> str:
    home = Path(c.env.vars.get("HOME") or Path.home())
    path = home / ".ssh" / "config"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise InputError("file not found: --from-ssh-config reads ~/.ssh/config", path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path) from None
    found = ssh_config.aliases(text)
    if not found:
        raise InputError("no concrete Host entries (only patterns such as `Host *`)", path)
    envs: dict[str, list[tuple[str, str]]] = {}
    for alias, _line in found:
        env, role = ssh_config.guess(alias)
        envs.setdefault(env, []).append((alias, role))
    out = [f"# drift.toml: written by `drift init --from-ssh-config` from {path}; see docs/inputs.md.",
           "# Each host is its ~/.ssh/config alias, so HostName, User, Port, IdentityFile and ProxyJump",
           "# come from there. Environments and roles below are guesses from the names: review them.", ""]
    for env, hosts in sorted(envs.items()):
        out += [f"[environments.{json.dumps(env)}]", "hosts = ["]
        out += [f"  {{ name = {json.dumps(a)}, role = {json.dumps(r)} }}," for a, r in hosts]
        out += ["]", ""]
    return "\n".join(out) + "\n" + _COMMON


def _example() -> str:
    return ("# drift.toml: a starter; see docs/inputs.md and the inventory reference.\n"
            "# Name your hosts below (or read them from Ansible: drift init --from-ansible hosts.ini).\n\n"
            + _COMMON + "\n"
            "# [environments.staging]\n"
            "# hosts = [\n"
            "#   { name = \"stg-web-1\", address = \"10.0.1.10\", role = \"web\" },\n"
            "#   { name = \"stg-db-1\",  address = \"10.0.1.20\", role = \"db\" },\n"
            "# ]\n#\n"
            "# [environments.prod]\n"
            "# hosts = [\n"
            "#   { name = \"prd-web-1\", address = \"10.0.2.10\", role = \"web\" },\n"
            "#   { name = \"prd-db-1\",  address = \"10.0.2.20\", role = \"db\" },\n"
            "# ]\n")
