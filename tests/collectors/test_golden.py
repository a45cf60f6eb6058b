"""Golden fixtures: real (or documented-format) output of every collector's command, and its facts.

Each tests/collectors/fixtures/<collector>/<case>.json holds the exact command drift composes for
`config`, the raw stdout it printed, and either the expected `facts` (plus `identity` for parsers
that return Parsed), the `error` a CollectError must mention, or `unsupported` for NotApplicable.
The command is compared too, so a changed command makes its fixtures fail until recaptured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from collectors import REGISTRY
from collectors.interface import CollectConfig, Collector, NotApplicable, Parsed
from drift.core.errors import CollectError

FIXTURES = Path(__file__).parent / "fixtures"
BY_NAME = {c.name: c for c in REGISTRY}


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def config(fixture: dict[str, Any]) -> CollectConfig:
    def value(key: str, raw: Any) -> Any:
        if key == "secret_key":
            return raw.encode()
        return tuple(raw) if isinstance(raw, list) else raw

    return CollectConfig(**{key: value(key, raw) for key, raw in fixture.get("config", {}).items()})


def collector_of(path: Path) -> Collector:
    assert path.parent.name in BY_NAME, f"{path}: no collector named {path.parent.name!r}"
    return BY_NAME[path.parent.name]


CASES = [pytest.param(p, id=f"{p.parent.name}/{p.stem}") for p in fixture_files()]


@pytest.mark.parametrize("path", CASES)
def test_command_is_current(path: Path) -> None:
    fixture = load(path)
    assert collector_of(path).command(config(fixture)) == fixture["command"], \
        "the collector's command changed: recapture this fixture's output with the new command"


@pytest.mark.parametrize("path", CASES)
def test_parse_matches_golden(path: Path) -> None:
    fixture = load(path)
    collector, cfg = collector_of(path), config(fixture)
    outcomes = [key for key in ("facts", "error", "unsupported") if key in fixture]
    assert len(outcomes) == 1, f"{path}: give exactly one of facts, error, unsupported"
    if "error" in fixture:
        with pytest.raises(CollectError) as caught:
            collector.parse(fixture["output"], cfg)
        assert fixture["error"] in str(caught.value)
        return
    if "unsupported" in fixture:
        with pytest.raises(NotApplicable) as not_here:
            collector.parse(fixture["output"], cfg)
        assert fixture["unsupported"] in str(not_here.value)
        return
    result = collector.parse(fixture["output"], cfg)
    facts = result.facts if isinstance(result, Parsed) else result
    assert facts == fixture["facts"]
    if isinstance(result, Parsed) or "identity" in fixture:
        assert isinstance(result, Parsed), f"{path}: identity expected but parse returned plain facts"
        assert sorted(result.identity) == fixture.get("identity", [])
    # Facts are stored as JSON: they must survive a round trip unchanged.
    assert json.loads(json.dumps(facts)) == facts


# Line-based success cases (files is NUL-separated: a \r there would belong to a name).
LINE_BASED = [pytest.param(p, id=f"{p.parent.name}/{p.stem}") for p in fixture_files()
              if p.parent.name != "files" and "facts" in load(p)]


@pytest.mark.parametrize("path", LINE_BASED)
def test_crlf_parses_like_lf(path: Path) -> None:
    fixture = load(path)
    collector, cfg = collector_of(path), config(fixture)
    result = collector.parse(fixture["output"].replace("\n", "\r\n"), cfg)
    facts = result.facts if isinstance(result, Parsed) else result
    assert facts == fixture["facts"]


def test_every_collector_has_a_golden_fixture() -> None:
    covered = {p.parent.name for p in fixture_files() if "facts" in load(p) or "unsupported" in load(p)}
    missing = sorted(set(BY_NAME) - covered)
    assert not missing, f"collectors without a golden fixture: {missing}"


def test_every_fixture_dir_is_a_collector() -> None:
    stray = sorted({p.parent.name for p in fixture_files()} - set(BY_NAME))
    assert not stray, f"fixture directories that name no collector: {stray}"
