"""A seeded random driver over the fuzz suite's own seeds, mutations and properties, without
Hypothesis's per-case overhead: for long runs on a busy machine (docs/fuzzing.md).

    python3 -m tests.fuzz.drive --cases 10000 [--seed 1] [--only dpkg,nft,split,snapshot,...]

Prints one line per target: cases run, refusals, results, failures (with the input's repr, cut).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
from collections.abc import Callable

from hypothesis import strategies as st

from collectors import REGISTRY
from tests.fuzz import mutate
from tests.fuzz import test_loaders as loaders
from tests.fuzz import test_parsers as parsers
from tests.fuzz import test_split as splits


def _edits(rng: random.Random) -> list[tuple]:  # type: ignore[type-arg]
    out: list[tuple] = []  # type: ignore[type-arg]
    for _ in range(rng.randrange(7)):
        kind = rng.choice(["cut", "insert", "insert", "delete", "repeat"])
        where = rng.random()
        if kind == "cut":
            out.append((kind, where))
        elif kind == "insert":
            text = rng.choice(mutate.NASTY) if rng.random() < 0.7 else "".join(
                chr(rng.randrange(0, 0x3000)) for _ in range(rng.randrange(20)))
            out.append((kind, where, text.replace("\ud800", "")))
        else:
            out.append((kind, where, rng.randrange(1, 200)))
    return out


def mutated(rng: random.Random, seeds: list[str]) -> str:
    if rng.random() < 0.3:
        a, b, k = rng.choice(seeds), rng.choice(seeds), rng.random()
        return a[: int(k * len(a))] + b[int(k * len(b)):]
    return mutate.apply(rng.choice(seeds), _edits(rng))


def targets() -> dict[str, Callable[[random.Random], None]]:
    out: dict[str, Callable[[random.Random], None]] = {}
    for c in REGISTRY:
        seeds, cfg = parsers.seeds(c)
        out[c.name] = lambda rng, c=c, seeds=seeds, cfg=cfg: parsers.check_outcome(c, mutated(rng, seeds), cfg)
    sections = splits.SECTIONS
    out["split"] = lambda rng: _split(rng, sections)
    out["snapshot"] = lambda rng: _snapshot(rng)
    out["inventory"] = lambda rng: loaders.test_inventory_loading.hypothesis.inner_test(  # type: ignore[attr-defined]
        mutated(rng, loaders.INVENTORIES + (loaders.TOML_BITS if rng.random() < 0.5 else [])))
    return out


def _split(rng: random.Random, sections: st.SearchStrategy) -> None:  # type: ignore[type-arg]
    example = [(f"s{i}", rng.randbytes(rng.randrange(40)), rng.choice([None, 0, 1, 255]), rng.randbytes(10))
               for i in range(rng.randrange(6))]
    splits.test_cut_or_spliced_output_loses_only_what_was_cut.hypothesis.inner_test(  # type: ignore[attr-defined]
        example, rng.random(), rng.randbytes(rng.randrange(20)))
    splits.test_complete_output_gives_every_section_exactly.hypothesis.inner_test(  # type: ignore[attr-defined]
        example, rng.randbytes(rng.randrange(40)))


def _snapshot(rng: random.Random) -> None:
    if rng.random() < 0.5:
        doc = json.loads(rng.choice(loaders.SEEDS))
        choices = [rng.randrange(10_000) for _ in range(rng.randrange(1, 8))]
        value = rng.choice([Ellipsis, None, 0, -1, 1.5, "", "x", [], {}, [1], {"a": 1}, True,
                            rng.choice(mutate.NASTY)])
        text = json.dumps(loaders._replace_somewhere(doc, choices, value))
    else:
        text = mutated(rng, loaders.SEEDS)
    loaders.test_snapshot_loading_and_every_report.hypothesis.inner_test(text)  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    failed = 0
    for name, run in targets().items():
        if args.only and name not in args.only.split(","):
            continue
        rng = random.Random(f"{args.seed}:{name}")
        start, bad = time.perf_counter(), []
        for case in range(args.cases):
            state = rng.getstate()
            try:
                run(rng)
            except Exception as exc:  # a property failed: report it with how to replay it
                bad.append((case, state, exc))
        failed += len(bad)
        print(f"{name:10s} {args.cases:6d} cases  {len(bad):3d} failures  {time.perf_counter() - start:7.1f} s",
              flush=True)
        kinds: dict[tuple[str, str, int], int] = {}
        for case, _, exc in bad:  # one example of each distinct failure (exception type and place)
            where = traceback.extract_tb(exc.__traceback__)[-1]
            key = (type(exc).__name__, where.filename, where.lineno or 0)
            if key not in kinds:
                print(f"    case {case}: {''.join(traceback.format_exception(exc)[-2:])[:400]}", flush=True)
            kinds[key] = kinds.get(key, 0) + 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
