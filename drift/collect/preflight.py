"""Checks on the controller before any host is contacted: a file the inventory names must exist.

A missing identity file or known_hosts file is one mistake in the input, not a failure of every host:
it is reported once, naming the inventory line that set it (exit 2), instead of as N connection errors
(exit 3) that send a person looking at the network. So is a host whose address or user drift could not
read (a Jinja template, an inline vault value): the hosts not contacted are not refused for it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from drift.collect.inventory import Host
from drift.core.errors import InventoryError


def check_files(hosts: Sequence[Host]) -> None:
    checked: set[tuple[str, str]] = set()
    for host in hosts:
        if host.problem is not None:  # e.g. an Ansible ansible_host that is a template: refused only when used
            raise InventoryError(*host.problem)
        for key in ("identity_file", "known_hosts"):
            value = getattr(host.ssh, key)
            origin = host.ssh.origin(key)
            if not value or origin is None or (key, value) in checked:
                continue  # unset, or drift's default rather than the user's choice
            checked.add((key, value))
            if key == "known_hosts" and host.ssh.host_key_policy == "accept-new":
                continue  # created on first use
            path = Path(value).expanduser()
            problem = None
            if not path.exists():
                problem = "no such file"
            elif not path.is_file():
                problem = "not a file"
            elif not os.access(path, os.R_OK):
                problem = "not readable by this user"
            if problem:
                users = [h.name for h in hosts if getattr(h.ssh, key) == value]
                shown = ", ".join(users[:3]) + (f" and {len(users) - 3} more" if len(users) > 3 else "")
                hint = (" (or set host_key_policy = \"accept-new\" to record keys on first contact)"
                        if key == "known_hosts" else "")
                raise InventoryError(f"{key} {value}: {problem}; needed for {shown}{hint}", origin[0], origin[1])
