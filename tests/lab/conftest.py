"""The lab as a session fixture: real SSH hosts, built once, always torn down."""

from __future__ import annotations

import fcntl
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from drift.cli.environment import Environment
from tests.lab.lab import Lab, down, unavailable

LOCK = "/tmp/drift-lab.lock"  # `flock /tmp/drift-lab.lock CMD` takes the same lock by hand
SUMMARY: list[str] = []  # what lab tests measured, printed after the run however it went (not captured)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for text in SUMMARY:
        terminalreporter.write_line(text)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory):
    reason = unavailable()
    if reason:
        if os.environ.get("DRIFT_LAB") == "required":
            pytest.fail(f"DRIFT_LAB=required, but {reason}")
        pytest.skip(reason)
    # One lab per machine: several checkouts (worktrees, helpers, CI) may run the suite at once, and
    # the lab's names, bridge and addresses are fixed. The lock serialises them instead of letting
    # one run's `down` tear out another's hosts.
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Not under pytest's basetemp (mode 0700): the lab hosts' login users must reach the lab's
        # venv and authorized_keys, as any user reaches /usr/bin/python3 on a real host.
        root = Path(tempfile.mkdtemp(prefix="drift-lab-"))
        root.chmod(0o755)
        built = Lab(root)
        try:
            built.up()
            yield built
        finally:
            down()
            shutil.rmtree(root, ignore_errors=True)


class DriftRun:
    """`drift ARGS` in-process against the lab, over the real SSH transport."""

    def __init__(self, lab: Lab, workdir: Path):
        self.lab, self.workdir = lab, workdir

    def __call__(self, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        env = Environment(stdout=out, stderr=err, vars={**os.environ, "CI": "1"}, cwd=self.workdir,
                          stderr_isatty=False)
        from drift.cli import main

        code = main(list(args), env)
        return code, out.getvalue(), err.getvalue()

    def json(self, *args: str) -> tuple[int, Any, str]:
        code, out, err = self(*args, "--format", "json")
        return code, json.loads(out), err

    def inventory(self, name: str = "drift.toml", **ssh: object) -> Path:
        """A variant of the lab's inventory in this test's directory."""
        path = self.workdir / name
        path.write_text(self.lab.toml(**ssh))
        return path


@pytest.fixture
def drift(lab: Lab, tmp_path: Path) -> DriftRun:
    return DriftRun(lab, tmp_path)
