"""From an Ansible inventory's groups to drift's environments and roles (docs/inputs.md).

The convention, each part configurable in drift.toml `[inventory.ansible]`:
- a group named like an environment (prod, staging, ... or those listed in `environments`) is one;
  a host's environment is the environment group holding it (two is an error); a host in none takes
  `environment`, else the inventory's own name (inventories/prod/hosts.yml -> prod, prod.ini -> prod);
- every other group is a role (or only those listed in `roles`), except `all`, `ungrouped`, groups in
  `ignore_groups`, groups that hold environment groups, and a group that holds every host (such as
  `linux`, which tells no host from another). `prod_web`, `prod-web` and `web_prod` are role `web`;
- a host in several role groups takes the most specific (deepest, then first by name), or, when
  `roles` lists them, all of them (co-located roles); a host in no role group has role `default`;
- ansible_host, ansible_port, ansible_user and ansible_ssh_private_key_file (and their older
  ansible_ssh_* spellings) become the host's address, port, user and identity file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from drift.collect.ansible.model import AnsibleHost, AnsibleInventory, Opaque, Var
from drift.collect.hosts import RESERVED_NAMES, Host, SSHSettings
from drift.core.errors import InventoryError

ENVIRONMENT_NAMES = frozenset({
    "production", "prod", "prd", "live", "staging", "stage", "stg", "preprod", "pre-prod", "uat", "qa",
    "test", "testing", "tst", "dev", "development", "sandbox", "demo", "integration", "perf", "dr",
})
_GENERIC_FILES = frozenset({"hosts", "inventory", "main", "all"})
# drift setting <- Ansible variables, first found wins (the newer spelling first).
_CONNECTION = {
    "address": ("ansible_host", "ansible_ssh_host"),
    "port": ("ansible_port", "ansible_ssh_port"),
    "user": ("ansible_user", "ansible_ssh_user"),
    "identity_file": ("ansible_ssh_private_key_file", "ansible_private_key_file"),
}


@dataclass(frozen=True)
class Convention:
    environments: tuple[str, ...] | None = None  # None: groups named like ENVIRONMENT_NAMES
    environment: str | None = None  # for hosts in no environment group; None: the inventory's name
    roles: tuple[str, ...] | None = None  # None: every other group
    ignore_groups: tuple[str, ...] = ()


def default_environment(path: Path) -> str:
    if path.is_dir():
        return path.resolve().name
    stem = path.stem if path.suffix else path.name
    if stem.lower() in _GENERIC_FILES and path.resolve().parent.name:
        return path.resolve().parent.name
    return stem


def environments(inv: AnsibleInventory, conv: Convention, base: SSHSettings) -> dict[str, tuple[Host, ...]]:
    env_groups = _env_groups(inv, conv)
    fallback = conv.environment or default_environment(inv.path)
    roles = _role_groups(inv, conv, env_groups)
    out: dict[str, list[Host]] = {}
    for h in inv.hosts:
        envs = sorted(set(h.groups) & env_groups)
        if len(envs) > 1:
            raise InventoryError(f"host {h.name!r} is in several environment groups ({', '.join(envs)}); "
                                 "a host belongs to one environment", h.file or inv.path, h.line)
        env = envs[0] if envs else fallback
        candidates = sorted((g for g in h.groups if g in roles), key=lambda g: (-inv.depth[g], roles[g]))
        names = list(dict.fromkeys(roles[g] for g in candidates)) or ["default"]
        # Roles listed in `roles` are the user's word that a host in two of them runs both (co-located);
        # by convention only the most specific group counts, as broad groups (debian, eu-west) would
        # otherwise become "roles" whose hosts are all outliers of each other.
        carried = tuple(names) if conv.roles is not None else (names[0],)
        address, ssh, problem = _connection(h, inv.path, base)
        out.setdefault(env, []).append(Host(h.name, env, carried[0], address, ssh,
                                            carried if len(carried) > 1 else (), problem))
    _check_names(inv, out)
    return {env: tuple(hosts) for env, hosts in out.items()}


def _env_groups(inv: AnsibleInventory, conv: Convention) -> set[str]:
    if conv.environments is not None:
        return {g for g in conv.environments if g in inv.groups}
    return {g for g in inv.groups if g.lower() in ENVIRONMENT_NAMES}


def _role_groups(inv: AnsibleInventory, conv: Convention, env_groups: set[str]) -> dict[str, str]:
    """Role groups -> role names."""
    holds_env = _ancestors(inv, env_groups)
    everyone = {h.name for h in inv.hosts}
    members: dict[str, set[str]] = {}
    for h in inv.hosts:
        for g in h.groups:
            members.setdefault(g, set()).add(h.name)
    out: dict[str, str] = {}
    for g in inv.groups:
        if g in ("all", "ungrouped") or g in env_groups or g in conv.ignore_groups or g in holds_env:
            continue
        name = _strip_env(g, env_groups | set(conv.environments or ()) | ENVIRONMENT_NAMES)
        if conv.roles is not None:
            if g in conv.roles or name in conv.roles:
                out[g] = name
        elif members.get(g, set()) != everyone or len(everyone) < 2:
            out[g] = name
    return out


def _ancestors(inv: AnsibleInventory, groups: set[str]) -> set[str]:
    """Every group holding one of `groups`, directly or through children: one walk up the graph."""
    parents: dict[str, list[str]] = {}
    for parent, children in inv.children.items():
        for child in children:
            parents.setdefault(child, []).append(parent)
    found: set[str] = set()
    stack = [p for g in groups for p in parents.get(g, ())]
    while stack:
        g = stack.pop()
        if g not in found:
            found.add(g)
            stack.extend(parents.get(g, ()))
    return found


def _strip_env(group: str, envs: set[str] | frozenset[str]) -> str:
    for env in sorted(envs, key=len, reverse=True):  # `preprod_web` before `prod`
        for sep in ("_", "-"):
            if group.startswith(env + sep) and len(group) > len(env) + 1:
                return group[len(env) + 1:]
            if group.endswith(sep + env) and len(group) > len(env) + 1:
                return group[: -len(env) - 1]
    return group


def _connection(h: AnsibleHost, path: Path, base: SSHSettings
                ) -> tuple[str, SSHSettings, tuple[str, str, int | None] | None]:
    """(address, settings, problem): a templated or vault-encrypted connection setting is a problem of
    this host only (refused when contacted), not of the whole inventory."""
    found: dict[str, Var] = {}
    for setting, names in _CONNECTION.items():
        var = next((h.vars[n] for n in names if n in h.vars), None)
        if var is not None:
            found[setting] = var
    problems: list[tuple[str, str, int | None]] = []

    def fail(setting: str, message: str) -> InventoryError:
        return InventoryError(f"host {h.name!r}: {message}", found[setting].file or path, found[setting].line)

    def unreadable(setting: str) -> bool:
        var, name = found[setting], _CONNECTION[setting][0]
        value = var.value
        if isinstance(value, Opaque):
            why = (f"{name} is a {value.what}: drift never decrypts, and ansible-inventory lists inline vault "
                   f"values still encrypted; give it in plain text, e.g. in host_vars/{h.name}.yml"
                   if "vault" in value.what else f"{name} must be a single value, not {value.what}")
        elif isinstance(value, str) and ("{{" in value or "{%" in value):
            why = (f"{name} is a Jinja template ({value[:80]!r}), which only a playbook run evaluates "
                   "(ansible-inventory does not either): give the value itself, e.g. in host_vars/"
                   f"{h.name}.yml")
        else:
            return False
        problems.append((f"host {h.name!r}: {why}", var.file or str(path), var.line))
        return True

    def text(setting: str) -> str | None:
        if setting not in found or unreadable(setting):
            return None
        value = found[setting].value
        if not isinstance(value, str) or not value.strip():
            raise fail(setting, f"{_CONNECTION[setting][0]} must be a non-empty string, not {value!r}")
        return value.strip()

    changes: dict[str, object] = {}
    if "port" in found and not unreadable("port"):
        port = found["port"].value
        if isinstance(port, str) and port.strip().isdigit():
            port = int(port)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise fail("port", f"ansible_port must be a port number, not {port!r}")
        changes["port"] = port
    user = text("user")
    if user is not None:
        changes["user"] = user
    key = text("identity_file")
    if key is not None:
        here = path.resolve() if path.is_dir() else path.resolve().parent  # the inventory's directory
        resolved = key if key.startswith("~") or Path(key).is_absolute() else str(here / key)
        changes["identity_file"] = resolved
        origin = found["identity_file"]
        changes["origins"] = base.with_origin("identity_file", origin.file or str(path), origin.line).origins
    address = text("address")
    if address is None and "address" in found and isinstance(found["address"].value, str):
        address = found["address"].value  # a template, listed as Ansible lists it; the host is refused on use
    return address or h.name, replace(base, **changes), problems[0] if problems else None  # type: ignore[arg-type]


def _check_names(inv: AnsibleInventory, envs: Mapping[str, list[Host]]) -> None:
    where = {h.name: (h.file or inv.path, h.line) for h in inv.hosts}
    for env in envs:  # `local` may be one (inventories/local/): an environment is looked up before `local`
        if ":" in env or not env:
            raise InventoryError(f"{env!r} cannot be an environment name (it holds a ':'): set "
                                 "[inventory.ansible] environment, or rename the group or directory", inv.path)
    for hosts in envs.values():
        for h in hosts:
            if h.name in envs or h.name in RESERVED_NAMES or "/" in h.name:
                raise InventoryError(f"host name {h.name!r} clashes with an environment or target name, "
                                     "or holds a '/'", *where.get(h.name, (inv.path, None)))
