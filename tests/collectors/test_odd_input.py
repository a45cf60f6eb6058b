"""Odd input never breaks a parser: it gives CollectError (or NotApplicable) or a valid result.

Every registered collector is fed empty output, its golden output cut mid-line, with CRLF endings,
blown up to ~100k lines, with names holding spaces and unicode, random bytes, and hypothesis text.
"""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors import REGISTRY
from collectors.interface import CollectConfig, Collector, NotApplicable, Parsed
from drift.core.errors import CollectError
from tests.collectors.odd_inputs import BIG, NAMES

FIXTURES = Path(__file__).parent / "fixtures"
ALLOWED = (CollectError, NotApplicable)


def golden(collector: Collector) -> tuple[str, CollectConfig]:
    return _golden(collector.name)


@functools.cache
def _golden(name: str) -> tuple[str, CollectConfig]:
    """The richest success fixture of a collector: (raw output, config)."""
    best: dict[str, Any] | None = None
    for path in sorted((FIXTURES / name).glob("*.json")):
        fixture = json.loads(path.read_text(encoding="utf-8"))
        if "facts" in fixture and (best is None or len(fixture["output"]) > len(best["output"])):
            best = fixture
    assert best is not None, f"{name}: no golden fixture with facts"
    cfg = CollectConfig(**{k: v.encode() if k == "secret_key" else tuple(v)
                           for k, v in best.get("config", {}).items()})
    return best["output"], cfg


def outcome(collector: Collector, output: str, cfg: CollectConfig, deep: bool = True) -> dict[str, Any] | None:
    """Parse; None for an allowed refusal, the facts for a result that is valid. Anything else fails.

    `deep` also checks the facts survive a JSON round trip (skipped for huge inputs: it costs more
    than the parse).
    """
    try:
        result = collector.parse(output, cfg)
    except ALLOWED as exc:
        assert str(exc), f"{collector.name}: refusal without a message"
        return None
    facts = result.facts if isinstance(result, Parsed) else result
    assert isinstance(facts, dict), f"{collector.name}: parse returned {type(facts).__name__}"
    for key in facts:
        assert isinstance(key, str) and key.startswith(collector.category + "/"), f"bad fact path {key!r}"
    if isinstance(result, Parsed):
        assert result.identity <= set(facts), "identity paths that are not facts"
    if deep:
        assert json.loads(json.dumps(facts)) == facts, "facts are not plain JSON"
    return facts


COLLECTORS = [pytest.param(c, id=c.name) for c in REGISTRY]


@pytest.mark.parametrize("collector", COLLECTORS)
def test_empty_and_blank(collector: Collector) -> None:
    _, cfg = golden(collector)
    for output in ("", "\n", "\r\n", "   \n\t\n", "\0"):
        outcome(collector, output, cfg)


@pytest.mark.parametrize("collector", COLLECTORS)
def test_truncated_mid_line(collector: Collector) -> None:
    output, cfg = golden(collector)
    full = outcome(collector, output, cfg)
    assert full is not None
    cuts = {len(output) * k // 13 for k in range(1, 13)} | {1, len(output) - 1}
    for cut in sorted(cuts):
        # Move the cut off a line end so it lands inside a line.
        while 0 < cut < len(output) and output[cut - 1] in "\n\0":
            cut -= 1
        outcome(collector, output[:cut], cfg)


@pytest.mark.parametrize("collector", COLLECTORS)
def test_crlf_and_mixed_endings(collector: Collector) -> None:
    output, cfg = golden(collector)
    lf = outcome(collector, output, cfg)
    crlf = outcome(collector, output.replace("\n", "\r\n"), cfg)
    if collector.name != "files":  # NUL-separated: a \r there would be part of a name
        assert crlf == lf
    lines = output.split("\n")
    mixed = "\n".join(line + ("\r" if i % 2 else "") for i, line in enumerate(lines))
    outcome(collector, mixed, cfg)


@pytest.mark.parametrize("collector", COLLECTORS)
def test_huge_input(collector: Collector) -> None:
    """~100k lines, built by repetition of the golden output and by a generator of distinct entries."""
    output, cfg = golden(collector)
    if collector.name not in ("nft", "interfaces", "routes", "listen"):  # one JSON document: no repeating
        records = max(1, output.count("\n"), output.count("\0") // 3)  # files: 3 NUL-ended fields a record
        outcome(collector, output * max(1, 100_000 // records), cfg, deep=False)
    big_output, big_cfg = BIG[collector.name](100_000)
    facts = outcome(collector, big_output, big_cfg, deep=False)
    assert facts is not None, f"{collector.name}: big input not understood"
    if collector.name not in ("os", "dns"):  # those keep a fixed handful of keys whatever the input holds
        assert len(facts) >= 1000, f"{collector.name}: big input only partly understood"


@pytest.mark.parametrize("collector", COLLECTORS)
def test_names_with_spaces_and_unicode(collector: Collector) -> None:
    output, cfg = golden(collector)
    for old, new in NAMES[collector.name]:
        assert old in output, f"{collector.name}: {old!r} is not in the golden output"
        # Where a config names the thing too (an interpreter path), it is renamed there as well.
        renamed = CollectConfig(**{k: tuple(v.replace(old, new) for v in vs) if isinstance(vs, tuple) else vs
                                   for k, vs in vars(cfg).items()})
        facts = outcome(collector, output.replace(old, new), renamed)
        probe = new.strip()
        assert facts is not None and any(probe in key or probe in json.dumps(value, ensure_ascii=False)
                                         for key, value in facts.items()), f"{probe!r} was lost"


@pytest.mark.parametrize("collector", COLLECTORS)
@pytest.mark.parametrize("seed", range(4))
def test_random_bytes(collector: Collector, seed: int) -> None:
    output, cfg = golden(collector)
    rng = random.Random(seed)
    noise = rng.randbytes(4000).decode("utf-8", errors="replace")
    outcome(collector, noise, cfg)
    # Corrupt the real output in a few places, keeping most of it readable.
    chars = list(output)
    for _ in range(8):
        at = rng.randrange(len(chars))
        chars[at:at + 3] = rng.randbytes(3).decode("utf-8", errors="replace")
    outcome(collector, "".join(chars), cfg)


FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # cases: the profile



@pytest.mark.fuzz
@pytest.mark.parametrize("collector", COLLECTORS)
@FUZZ
@given(text=st.text())
def test_fuzz_text(collector: Collector, text: str) -> None:
    _, cfg = golden(collector)
    outcome(collector, text, cfg)


@pytest.mark.fuzz
@pytest.mark.parametrize("collector", COLLECTORS)
@FUZZ
@given(data=st.data())
def test_fuzz_golden_lines(collector: Collector, data: st.DataObject) -> None:
    """Real lines (files: NUL-ended fields), shuffled, dropped, repeated, and spliced with arbitrary text."""
    output, cfg = golden(collector)
    sep = "\0" if collector.name == "files" else "\n"
    lines = output.split(sep)
    picked = data.draw(st.lists(st.one_of(st.sampled_from(lines), st.text(max_size=40)), max_size=40))
    outcome(collector, sep.join(picked), cfg)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
KEYS = ("family", "table", "name", "chain", "type", "hook", "prio", "policy", "expr", "elem", "map", "comment",
        "ifname", "addr_info", "local", "prefixlen", "dst", "dev", "gateway", "protocol", "nexthops", "linkinfo")
SHAPED = st.dictionaries(st.sampled_from(KEYS), JSON_VALUES, max_size=6)
# Objects that pass the first checks (an interface has an ifname, a route a dst) with odd fields.
LINK = st.fixed_dictionaries({"ifname": st.text(max_size=6)}, optional={
    "addr_info": st.one_of(JSON_VALUES, st.lists(SHAPED | st.fixed_dictionaries(
        {"local": JSON_VALUES, "prefixlen": JSON_VALUES}), max_size=3)),
    "linkinfo": JSON_VALUES, "mtu": JSON_VALUES, "operstate": JSON_VALUES, "address": JSON_VALUES})
ROUTE = st.fixed_dictionaries({"dst": JSON_VALUES}, optional={
    k: JSON_VALUES for k in ("dev", "gateway", "protocol", "metric", "type", "scope", "nexthops")})
NFT_ITEM = st.dictionaries(st.sampled_from(["chain", "rule", "set", "map", "table", "metainfo"]), SHAPED,
                           min_size=1, max_size=1)


@pytest.mark.fuzz
@FUZZ
@given(doc=st.one_of(JSON_VALUES, st.fixed_dictionaries({"nftables": st.lists(NFT_ITEM, max_size=8)})))
def test_fuzz_nft_json(doc: Any) -> None:
    nft = next(c for c in REGISTRY if c.name == "nft")
    outcome(nft, json.dumps(doc), CollectConfig())


STATEMENT = st.dictionaries(st.sampled_from(
    ["match", "counter", "accept", "drop", "jump", "goto", "reject", "log", "limit", "snat", "dnat", "masquerade",
     "redirect", "xt", "vmap", "mangle", "payload", "meta", "ct", "prefix", "range", "set", "elem"]),
    JSON_VALUES, min_size=1, max_size=1)
WHERE = {"family": "inet", "table": "t"}


@pytest.mark.fuzz
@FUZZ
@given(exprs=st.lists(st.one_of(STATEMENT, JSON_VALUES), max_size=5),
       elems=st.one_of(JSON_VALUES, st.lists(st.one_of(STATEMENT, JSON_VALUES, st.lists(STATEMENT, max_size=2)))),
       kind=st.sampled_from(["set", "map"]))
def test_fuzz_nft_statements(exprs: list[Any], elems: Any, kind: str) -> None:
    """A well-formed ruleset whose rule statements and set elements are anything at all."""
    nft = next(c for c in REGISTRY if c.name == "nft")
    doc = {"nftables": [{"chain": {**WHERE, "name": "c"}}, {"rule": {**WHERE, "chain": "c", "expr": exprs}},
                        {kind: {**WHERE, "name": "s", "type": "ipv4_addr", "map": "verdict", "elem": elems}}]}
    outcome(nft, json.dumps(doc), CollectConfig())


@pytest.mark.fuzz
@pytest.mark.parametrize("name", ["interfaces", "routes", "listen"])
@FUZZ
@given(parts=st.tuples(st.one_of(JSON_VALUES, st.lists(LINK, max_size=3)),
                       st.one_of(JSON_VALUES, st.lists(ROUTE, max_size=4)), st.lists(ROUTE, max_size=4)),
       ss=st.text(max_size=200))
def test_fuzz_ip_json(name: str, parts: tuple[Any, Any, Any], ss: str) -> None:
    collector = next(c for c in REGISTRY if c.name == name)
    texts = [json.dumps(p) for p in parts]
    texts = {"interfaces": texts[:1], "routes": texts, "listen": [*texts[:1], ss]}[name]
    outcome(collector, "\n@@next\n".join(texts), CollectConfig())


def test_every_collector_has_odd_inputs() -> None:
    names = {c.name for c in REGISTRY}
    assert set(BIG) == names and set(NAMES) == names

