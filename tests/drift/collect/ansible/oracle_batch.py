"""Run as a script: ansible-inventory --list on each path given, in one process. ansible-core is
imported once, then each inventory is read by Ansible's own InventoryCLI in a fresh fork (it keeps
global state), with the inventory's directory as the working directory. Prints
{path: {"rc": exit status, "stdout": the JSON ansible-inventory printed}} as JSON."""

import json
import os
import sys

import ansible.cli.inventory
import ansible.inventory.manager
import ansible.plugins.inventory.auto
import ansible.plugins.inventory.host_list
import ansible.plugins.inventory.ini
import ansible.plugins.inventory.script
import ansible.plugins.inventory.toml
import ansible.plugins.inventory.yaml
import ansible.vars.manager  # these are imported here, once, rather than in every fork


def one(path: str) -> dict[str, object]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: ansible-inventory -i PATH --list, its stdout into the pipe
        os.close(read)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
        os.dup2(write, 1)
        path = os.path.abspath(path)
        os.chdir(os.path.dirname(path))
        try:
            rc = ansible.cli.inventory.InventoryCLI(["ansible-inventory", "-i", path, "--list"]).run() or 0
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            rc = 1
        sys.stdout.flush()
        os._exit(rc)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 1 << 16):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    return {"rc": os.waitstatus_to_exitcode(status), "stdout": b"".join(chunks).decode("utf-8", "replace")}


if __name__ == "__main__":
    print(json.dumps({path: one(path) for path in sys.argv[1:]}))
