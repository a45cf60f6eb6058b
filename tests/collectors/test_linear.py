"""Every parser, the section splitter and the part splitter are linear: 10x the input costs about
10x the time. A generous ratio (not an absolute time) tells linear from quadratic (~100x) on a
shared, noisy machine: each side is timed by tests/timing.py."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from collectors import REGISTRY, topology
from collectors.interface import CollectConfig, NotApplicable
from collectors.parsing import split_parts
from drift.collect.script import Script, split
from drift.core.errors import CollectError
from tests.collectors.odd_inputs import BIG
from tests.timing import best_cpu_time

RATIO = 35  # linear is ~10, quadratic ~100
E = CollectConfig()
ADDR = json.dumps([{"ifname": "eth0", "addr_info": [{"local": "10.0.0.5", "prefixlen": 24}]}])
MARK = "@@DRIFT-0123"


def _best(fn: Callable[[], object]) -> float:
    return best_cpu_time(fn, expected=(CollectError, NotApplicable))


def assert_linear(run: Callable[[int], Callable[[], object]], n: int) -> None:
    small, big = _best(run(n)), _best(run(10 * n))
    assert big < RATIO * max(small, 5e-3), f"10x input took {big / max(small, 1e-9):.0f}x the time"


def _ip(i: int) -> str:
    return f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"


def routes_many_interfaces(n: int) -> str:
    links = [{"ifname": f"e{i}", "addr_info": [{"local": _ip(i * 256 + 5), "prefixlen": 24}]} for i in range(n)]
    routes = [{"dst": f"{_ip(i * 256)}/24", "dev": f"e{i}", "protocol": "kernel", "scope": "link"} for i in range(n)]
    routes += [{"dst": f"172.16.{i >> 8 & 255}.{i & 255}/32", "gateway": _ip(i * 256 + 1), "dev": f"e{i}"}
               for i in range(n)]
    return f"{json.dumps(links)}\n@@next\n{json.dumps(routes)}\n@@next\n[]"


def routes_full_table(n: int) -> str:
    routes = [{"dst": f"{_ip(i)}/32", "gateway": "10.0.0.1", "dev": "eth0", "protocol": "bgp"} for i in range(n)]
    routes += [{"dst": "default", "gateway": "10.0.0.1", "dev": "eth0", "metric": i} for i in range(n // 10)]
    return f"{ADDR}\n@@next\n{json.dumps(routes)}\n@@next\n[]"


CASES: dict[str, tuple[Callable[[int], Callable[[], object]], int]] = {
    "routes, a full table": (lambda n: lambda: topology.parse_routes(routes_full_table(n), E), 1000),
    "routes, thousands of interfaces": (lambda n: lambda: topology.parse_routes(routes_many_interfaces(n), E), 300),
    "hosts, many addresses for one name": (
        lambda n: lambda: topology.parse_hosts("h\n@@hosts\n" + "".join(f"{_ip(i)} one\n" for i in range(n)), E),
        2000),
    "hosts, many names on one line": (
        lambda n: lambda: topology.parse_hosts("h\n@@hosts\n10.0.0.1 " + " ".join(f"n{i}" for i in range(n)), E),
        5000),
    "listen, many processes on one socket": (lambda n: lambda: topology.parse_listen(
        f"{ADDR}\n@@next\ntcp LISTEN 0 1 0.0.0.0:22 0.0.0.0:* users:("
        + ",".join(f'("p{i}",pid={i},fd=3)' for i in range(n)) + ")\n", E), 2000),
    "listen, many lines for one socket": (lambda n: lambda: topology.parse_listen(
        ADDR + "\n@@next\n" + "".join(f'tcp LISTEN 0 1 0.0.0.0:22 0.0.0.0:* users:(("p{i}",pid={i},fd=3))\n'
                                      for i in range(n)), E), 1000),
    "split, many unclosed sections": (lambda n: lambda: split(
        Script(MARK, "", ()), "".join(f"{MARK} BEGIN s{i}\nout\n" for i in range(n)).encode()), 2000),
    "split, many sections": (lambda n: lambda: split(Script(MARK, "", ()), "".join(
        f"{MARK} BEGIN s{i}\nout\n\n{MARK} END s{i} 0\n{MARK} ERR s{i}\n\n{MARK} ENDERR s{i}\n"
        for i in range(n)).encode()), 1000),
    "split, one huge section": (lambda n: lambda: split(Script(MARK, "", ()), (
        f"{MARK} BEGIN a\n" + "x y z\n" * n * 10 + f"\n{MARK} END a 0\n{MARK} ERR a\n\n{MARK} ENDERR a\n").encode()),
        2000),
    "split_parts, many markers": (lambda n: lambda: split_parts("x\n@@next\n" * n, "@@next", 2, "t"), 5000),
}


@pytest.mark.parametrize("name", list(CASES))
def test_adversarial_shapes_are_linear(name: str) -> None:
    run, n = CASES[name]
    assert_linear(run, n)


@pytest.mark.parametrize("collector", [pytest.param(c, id=c.name) for c in REGISTRY])
def test_every_parser_is_linear_on_big_output(collector) -> None:
    def run(n: int) -> Callable[[], object]:
        output, cfg = BIG[collector.name](n)
        return lambda: collector.parse(output, cfg)
    assert_linear(run, 2000)
