"""The user reference in docs/reference is the contract, word for word.

The contract's master copy lives beside the repository (../shared/spec) where the project's
steering keeps it; a clone without it skips this check.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "spec"


@pytest.mark.parametrize("name", ["cli", "inventory", "report"])
def test_reference_matches_the_contract(name: str) -> None:
    if not SPEC.is_dir():
        pytest.skip(f"no contract at {SPEC}")
    ours = (ROOT / "docs" / "reference" / f"{name}.md").read_text().split("\n", 1)[1]
    assert ours == (SPEC / f"{name}.md").read_text(), f"docs/reference/{name}.md is out of step with the contract"


def test_readme_points_only_inside_the_repository() -> None:
    text = (ROOT / "README.md").read_text()
    assert "../" not in text, "README.md points outside the repository"
