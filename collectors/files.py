"""files collectors."""

from __future__ import annotations

from collectors.interface import Collector

COLLECTORS: tuple[Collector, ...] = ()
