"""[inventory.ansible] reader = "ansible": ansible-inventory reads the inventory, once, with the
user's own Ansible setup (plugins, scripts, vault password files), and drift reads its JSON.

Ansible lists every variable merged per host, so the JSON carries no lines: a mistake is reported
against the inventory as a whole. Inline vault values it could not decrypt stay opaque."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from drift.collect.ansible.model import PRINT_WARNING, Adjacent, AnsibleInventory, Builder, Opaque, Var
from drift.core.errors import InventoryError

TIMEOUT = 300  # seconds: a cloud plugin may page through an API, but never forever
_OUTPUT_MAX = 256 << 20


def find(env: Mapping[str, str]) -> str | None:
    """ansible-inventory on the PATH of `env` (the caller's environment; none without a PATH)."""
    return shutil.which("ansible-inventory", path=env["PATH"]) if env.get("PATH") else None


def run(source: Path, env: Mapping[str, str]) -> tuple[AnsibleInventory, str]:
    """(inventory, sha256 of Ansible's JSON)."""
    exe = find(env)
    if exe is None:
        raise InventoryError("[inventory.ansible] reader = \"ansible\" needs ansible-inventory on PATH "
                             "(pip install ansible-core)", source)
    # A source Ansible cannot parse is a warning and no hosts by default; for drift it is an error.
    full = {**env, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true", "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true",
            "ANSIBLE_NOCOLOR": "1", "ANSIBLE_DEPRECATION_WARNINGS": "false"}
    try:
        done = subprocess.run([exe, "-i", str(source), "--list"], capture_output=True, timeout=TIMEOUT,
                              env=full, check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise InventoryError(f"ansible-inventory -i {source} --list ran past {TIMEOUT} s", source) from None
    except OSError as exc:
        raise InventoryError(f"cannot run {exe}: {exc.strerror}", source) from None
    if done.returncode != 0:
        said = _last_error(done.stderr.decode("utf-8", "replace")).rstrip(".")
        hint = ""
        if "vault" in said.lower():
            hint = (" Give Ansible your vault password (ANSIBLE_VAULT_PASSWORD_FILE or vault_password_file in "
                    "ansible.cfg), or write the inventory out once with ansible-inventory -i "
                    f"{source} --list --yaml > hosts.yml ({PRINT_WARNING})")
        raise InventoryError(f"ansible-inventory -i {source} --list failed: {said}.{hint}", source)
    if len(done.stdout) > _OUTPUT_MAX:
        raise InventoryError(f"ansible-inventory wrote more than {_OUTPUT_MAX >> 20} MiB", source)
    return from_json(done.stdout.decode("utf-8", "replace"), source), hashlib.sha256(done.stdout).hexdigest()


def _last_error(stderr: str) -> str:
    """The most telling line of Ansible's stderr: the vault one, else the parse failure, else its error."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for wanted in ("vault", "failed to parse", "[error]", ""):
        found = next((line for line in lines if wanted in line.lower()), None)
        if found:
            return found[:400]
    return "no message"


def from_json(text: str, source: Path) -> AnsibleInventory:
    """ansible-inventory --list's JSON: groups with hosts and children, every host's merged vars."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InventoryError(f"ansible-inventory wrote output that is not JSON: {exc}", source) from None
    if not isinstance(doc, dict):
        raise InventoryError("ansible-inventory wrote JSON that is not a mapping of groups", source)
    meta = doc.get("_meta")
    hostvars = meta.get("hostvars", {}) if isinstance(meta, dict) else {}
    b = Builder(source)
    for name, body in doc.items():
        if name == "_meta" or not isinstance(body, dict):
            continue
        b.group(name, None)
        for child in body.get("children") or ():
            b.child(name, str(child), None)
        for host in body.get("hosts") or ():
            raw = hostvars.get(host) if isinstance(hostvars, dict) else None
            b.host(str(host), name, None, {str(k): Var(_value(v), None, str(source))
                                           for k, v in (raw if isinstance(raw, dict) else {}).items()})
    return b.build(Adjacent())


def _value(value: object) -> object:
    if isinstance(value, dict) and "__ansible_vault" in value:
        return Opaque("vault-encrypted value (!vault) Ansible could not decrypt")
    return value
