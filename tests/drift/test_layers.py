"""The package graph is the pipeline: a lower stage never imports an upper one.

Checked from the source with ast, so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What each package may import besides itself (and the stdlib and third parties).
ALLOWED: dict[str, set[str]] = {
    "drift.core": set(),
    "collectors": {"drift.core"},
    "drift.model": {"drift.core", "collectors"},
    "drift.analysis": {"drift.core", "drift.model"},
    "drift.store": {"drift.core", "drift.model"},
    "drift.collect": {"drift.core", "drift.model", "collectors"},
    "drift.reports": {"drift.core", "drift.model"},
    "drift.cli": {"drift.core", "drift.model", "drift.analysis", "drift.store", "drift.collect",
                  "drift.reports", "collectors"},
}


def package_of(module: str) -> str | None:
    for pkg in sorted(ALLOWED, key=len, reverse=True):
        if module == pkg or module.startswith(pkg + "."):
            return pkg
    return None


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from drift.core import errors` names a module too; either spelling lands on a package.
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def test_every_module_belongs_to_a_stage() -> None:
    for path in [*ROOT.joinpath("drift").rglob("*.py"), *ROOT.joinpath("collectors").rglob("*.py")]:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        if module in ("drift", "drift.__main__"):
            continue
        assert package_of(module), f"{module} is in no stage package: add it to ALLOWED"


def test_lower_stages_never_import_upper_ones() -> None:
    bad = []
    for path in [*ROOT.joinpath("drift").rglob("*.py"), *ROOT.joinpath("collectors").rglob("*.py")]:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        own = package_of(module)
        if own is None:
            continue
        for target in imports(path):
            other = package_of(target)
            if other and other != own and other not in ALLOWED[own]:
                bad.append(f"{module} imports {target}")
    assert not bad, "\n".join(bad)


def test_the_ansible_readers_never_import_the_drift_toml_reader() -> None:
    """drift.collect.inventory imports drift.collect.ansible; the way back would be an import circle."""
    bad = [f"{path.name} imports {target}" for path in ROOT.joinpath("drift", "collect", "ansible").rglob("*.py")
           for target in imports(path) if target.startswith("drift.collect.inventory")]
    assert not bad, "\n".join(bad)
