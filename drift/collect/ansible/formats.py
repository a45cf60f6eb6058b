"""Which reader an inventory file needs, chosen as Ansible chooses its plugin, and the files only
Ansible can read (a vault-encrypted file, an executable script, a plugin's configuration): those are
refused here, before any of their bytes are taken for hosts, with the Ansible feature and the fix."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from drift.collect.ansible.ini import read_ini
from drift.collect.ansible.model import AnsibleOnly, Builder, fix_hint
from drift.collect.ansible.tomlinv import DRIFT_KEYS, is_ansible_toml, read_toml
from drift.collect.ansible.yml import read_yaml

VAULT_HEADER = "$ANSIBLE_VAULT;"
YAML_SUFFIXES = (".yml", ".yaml", ".json")


def kind(path: Path, text: str) -> str | None:
    """'ini', 'yaml' or 'toml' for an Ansible inventory; None for drift.toml. As Ansible's plugins
    decide: YAML by suffix or, without one, by a mapping at the top; TOML needs `.toml`, and then its
    content tells Ansible's format (tables of groups) from drift.toml (drift's own tables)."""
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES:
        return "yaml"
    if text.lstrip().startswith(VAULT_HEADER):
        return "ini"  # refused as vault before any reader sees it; never drift.toml
    doc = _toml(text)
    if suffix == ".toml":  # Ansible's INI reader declines the suffix: its TOML reader, or drift.toml
        return "toml" if doc is not None and is_ansible_toml(doc) else None
    if doc and set(doc) <= DRIFT_KEYS:  # an empty file is no evidence of drift.toml
        return None
    return "yaml" if not suffix and _yaml_mapping(text) else "ini"


def _toml(text: str) -> dict[str, object] | None:
    """The TOML document, or None. tomllib is quadratic in the parts of one dotted key or header, so
    absurd ones are not tried here (drift.toml's own reader refuses them with the line)."""
    from drift.core.tomlsource import MAX_CHARS, MAX_DEPTH, tomllib  # type: ignore[attr-defined]

    if len(text) > MAX_CHARS or any(line.split("=", 1)[0].count(".") > MAX_DEPTH for line in text.splitlines()):
        return None
    try:
        doc: dict[str, object] = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):
        return None
    return doc


def _yaml_mapping(text: str) -> bool:
    """Whether YAML reads the text as a non-empty mapping, which is when Ansible's yaml plugin takes a
    file without a suffix (INI text reads as a plain string, or not at all)."""
    try:
        loader = yaml.SafeLoader(text)  # refuses a NUL character here already
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except (yaml.YAMLError, RecursionError):
        return False
    return isinstance(node, yaml.MappingNode) and bool(node.value)


def refuse_unreadable(path: Path, text: str, source: Path) -> None:
    """Raise AnsibleOnly for a file whose meaning only Ansible can know. `source` is what -i named."""
    if text.lstrip().startswith(VAULT_HEADER):
        raise AnsibleOnly("vault-encrypted (an Ansible Vault file): drift never decrypts, and never reads "
                          "ciphertext as data", fix_hint(source), path, 1)
    if text.startswith("#!") and os.access(path, os.X_OK):
        raise AnsibleOnly("an executable inventory script, which Ansible runs; drift never runs one",
                          fix_hint(source), path, 1)


def read_file(b: Builder, text: str, fmt: str) -> None:
    {"yaml": read_yaml, "toml": read_toml}.get(fmt, read_ini)(b, text)
