import io
import subprocess

import pytest

from drift.cli.environment import Environment
from drift.collect.runner import ExecResult, HostKey
from tests import clock


class ShellSession:
    host_key = HostKey("ssh-ed25519", "SHA256:fake")

    def exec(self, script, deadline):
        done = subprocess.run(["/bin/sh", "-s"], input=script, capture_output=True)
        return ExecResult(done.stdout, done.stderr, done.returncode)

    def close(self):
        pass


class FakeSSH:
    """Our transport interface, answered by the local shell; hosts named *down* refuse."""

    def __init__(self):
        self.opened = []

    def open(self, host, deadline):
        from drift.core.errors import TransportError

        self.opened.append(host.name)
        if "down" in host.name:
            raise TransportError(f"connection to {host.address}:22 refused")
        return ShellSession()


@pytest.fixture
def cli(tmp_path):
    """Run `drift ARGS` in tmp_path with captured streams; returns (code, stdout, stderr)."""
    ssh = FakeSSH()

    def run(*args, **env_vars):
        out, err = io.StringIO(), io.StringIO()
        env = Environment(stdout=out, stderr=err, vars={"HOME": str(tmp_path), **env_vars}, cwd=tmp_path,
                          ssh_connector=lambda: ssh, stderr_isatty=False, now=clock.fixed)
        from drift.cli import main

        code = main(list(args), env)
        return code, out.getvalue(), err.getvalue()

    run.ssh = ssh
    run.dir = tmp_path
    return run


INVENTORY = """\
[collect]
sysctl = ["net.ipv4.ip_forward"]

[environments.prod]
hosts = [
  { name = "prd-web-1", address = "127.0.0.1", role = "web" },
  { name = "prd-web-down", address = "127.0.0.2", role = "web" },
]
"""


@pytest.fixture
def inventory(tmp_path):
    p = tmp_path / "drift.toml"
    p.write_text(INVENTORY)
    return p
