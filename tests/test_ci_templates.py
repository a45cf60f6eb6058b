"""The GitHub Action (action.yml) and the GitLab CI template run the gate for real: their shell is
taken from the YAML and run with bash against the example snapshots and this machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def shell_env(tmp_path):
    """PATH with a `drift` that runs this checkout."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "drift"
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m drift "$@"\n')
    shim.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path), "DRIFT_FAIL_ON": "high",
           "DRIFT_STORE": str(tmp_path / "store.db")}
    return work, env


def sarif_supported(env) -> bool:
    out = subprocess.run(["drift", "compare", "--help"], capture_output=True, text=True, env=env).stdout
    return "sarif" in out


def action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def gitlab() -> dict:
    return yaml.safe_load((ROOT / ".gitlab" / "drift.gitlab-ci.yml").read_text())


def test_action_is_a_composite_action_with_pinned_steps():
    doc = action()
    assert doc["runs"]["using"] == "composite"
    assert doc["inputs"]["left"]["required"] and doc["inputs"]["right"]["required"]
    for step in doc["runs"]["steps"]:
        if "uses" in step:
            assert "@v" in step["uses"], step
        else:
            assert step["shell"] == "bash"
    assert doc["outputs"]["exit-code"]["value"] == "${{ steps.gate.outputs.exit-code }}"


def run_action_gate(work, env, left, right, inventory=""):
    gate = next(s for s in action()["runs"]["steps"] if s.get("id") == "gate")
    out = work / "github_output"
    summary = work / "summary.md"
    env = {**env, "DRIFT_LEFT": left, "DRIFT_RIGHT": right, "DRIFT_INVENTORY_FILE": inventory,
           "DRIFT_OUT": "drift-reports", "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary)}
    done = subprocess.run(["bash", "-c", gate["run"]], cwd=work, env=env, capture_output=True, text=True,
                          timeout=300)
    return done, out.read_text() if out.exists() else "", summary


def test_action_gate_reports_drift_and_hands_the_exit_code_on(shell_env):
    work, env = shell_env
    done, outputs, summary = run_action_gate(work, env, str(EXAMPLES / "staging"), str(EXAMPLES / "prod"))
    assert done.returncode == 0, done.stderr  # uploads run first; the last step fails the job
    assert "exit-code=1" in outputs
    reports = work / "drift-reports"
    for name in ("drift-junit.xml", "drift.md", "drift.html", "drift.json"):
        assert (reports / name).stat().st_size > 0, name
    assert "<testsuite" in (reports / "drift-junit.xml").read_text()
    assert summary.read_text() == (reports / "drift.md").read_text()
    assert "libssl3" in done.stdout  # the table, in the job log
    if sarif_supported(env):
        assert (reports / "drift.sarif").exists()


def test_action_gate_collects_live_targets_once(shell_env):
    work, env = shell_env
    done, outputs, _ = run_action_gate(work, env, "local", str(EXAMPLES / "staging"))
    assert "exit-code=" in outputs and "exit-code=2" not in outputs, done.stderr
    assert [p.name for p in (work / "drift-reports" / "snapshots").iterdir()] == ["left"]
    assert "local" in (work / "drift-reports" / "drift.md").read_text()


def test_action_gate_bad_input_is_exit_2(shell_env):
    work, env = shell_env
    done, outputs, _ = run_action_gate(work, env, "nosuch", str(EXAMPLES / "prod"))
    assert "exit-code=2" in outputs and "could not collect nosuch" in done.stderr


def test_gitlab_template_runs_the_gate(shell_env):
    work, env = shell_env
    doc = gitlab()
    job = doc[".drift-gate"]
    assert doc["drift-gate"]["extends"] == ".drift-gate"
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == "drift-reports/drift-junit.xml"
    script = "\n".join(job["script"])
    env = {**env, **{k: str(v) for k, v in doc["variables"].items()},
           "DRIFT_LEFT": str(EXAMPLES / "staging"), "DRIFT_RIGHT": str(EXAMPLES / "prod"),
           "DRIFT_INVENTORY_FILE": ""}
    done = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "drift gate: exit 1" in done.stdout, done.stderr
    assert (work / "drift-reports" / "drift-junit.xml").exists()
