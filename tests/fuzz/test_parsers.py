"""Every parser, fuzzed from its golden fixtures: a result that can be written, or a clean refusal.

Also through gather.interpret, the boundary the real pipeline uses, which must never raise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors import REGISTRY
from collectors.interface import CollectConfig, Collector, NotApplicable, Parsed
from drift.collect.gather import interpret
from drift.collect.script import Section
from drift.core import jsonio
from drift.core.errors import CollectError
from tests.collectors.test_golden import config as golden_config
from tests.fuzz.mutate import mutated

pytestmark = pytest.mark.fuzz
FIXTURES = Path(__file__).parents[1] / "collectors" / "fixtures"


def seeds(collector: Collector) -> tuple[list[str], CollectConfig]:
    outputs, cfg = [], CollectConfig()
    for path in sorted((FIXTURES / collector.name).glob("*.json")):
        fixture = json.loads(path.read_text(encoding="utf-8"))
        outputs.append(fixture["output"])
        if "facts" in fixture and fixture.get("config"):
            cfg = golden_config(fixture)
    assert outputs, f"{collector.name}: no golden fixtures to seed from"
    return outputs, cfg


def check_outcome(collector: Collector, text: str, cfg: CollectConfig) -> None:
    try:
        result = collector.parse(text, cfg)
    except (CollectError, NotApplicable) as exc:
        assert str(exc) and len(str(exc)) < 1000, "a refusal must be short and say why"
        return
    facts = result.facts if isinstance(result, Parsed) else result
    assert all(isinstance(k, str) and k.startswith(collector.category + "/") for k in facts)
    if isinstance(result, Parsed):
        assert result.identity <= set(facts)
    jsonio.dumps(facts).encode("utf-8")  # strict and encodable: the snapshot and the store can write it


# Cases a seeded run of about 15,000 found (issue 19), kept so they never come back.
FOUND = [
    ("files", "mutated size: 5,000 digits", lambda out: out.replace(" 12 644 root", " " + "9" * 5000 + " 644 root", 1)),
    ("files", "mutated size: a superscript digit", lambda out: out.replace(" 12 644 root", " 1\u00b2 644 root", 1)),
    ("listen", "mutated port: a superscript digit", lambda out: out.replace(":5353 ", ":53\u00b2 ", 1)),
    # Found by review: a number where docker's inspect has a list was a TypeError, not a clean refusal.
    ("containers", "Mounts: a number", lambda out: out.replace('"Mounts": [', '"Mounts": 5, "Was": [', 1)),
    ("containers", "a port's bindings: a number", lambda out: out.replace('"6379/tcp": [', '"6379/tcp": 5, "W": [', 1)),
]


@pytest.mark.parametrize("name,case,mutate", FOUND, ids=[c for _, c, _ in FOUND])
def test_cases_fuzzing_found(name: str, case: str, mutate) -> None:
    collector = next(c for c in REGISTRY if c.name == name)
    outputs, cfg = seeds(collector)
    changed = [mutate(out) for out in outputs if mutate(out) != out]
    assert changed, f"{case}: the seed no longer has the spot to mutate"
    for text in changed:
        check_outcome(collector, text, cfg)


@pytest.mark.parametrize("collector", [pytest.param(c, id=c.name) for c in REGISTRY])
@given(data=st.data())
def test_parser(collector: Collector, data: st.DataObject) -> None:
    outputs, cfg = seeds(collector)
    check_outcome(collector, data.draw(mutated(outputs)), cfg)


@pytest.mark.parametrize("collector", [pytest.param(c, id=c.name) for c in REGISTRY])
@given(data=st.data(), status=st.sampled_from([0, 0, 0, 1, None]), raw=st.binary(max_size=64))
def test_interpret_never_raises(collector: Collector, data: st.DataObject, status: int | None, raw: bytes) -> None:
    outputs, cfg = seeds(collector)
    text = data.draw(mutated(outputs))
    stdout = text.encode("utf-8", "surrogatepass") + (raw if status == 1 else b"")
    result = interpret(collector, Section(collector.name, stdout, status, "err"), cfg)
    assert result.status in ("ok", "failed", "unsupported")
    jsonio.dumps(result.to_dict()).encode("utf-8")
