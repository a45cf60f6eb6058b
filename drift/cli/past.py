"""The store's past of one fact, read lean, for `explain` and the `--top` summary of compare/audit."""

from __future__ import annotations

from typing import Any

from drift.cli.app import Common
from drift.cli.live import _default_store, open_store, store_url
from drift.collect.inventory import Inventory
from drift.model.incident import Since
from drift.model.report import Report
from drift.reports import OutputFormat
from drift.store.sqlite import Store

TOP_ON_A_TERMINAL = 5


def top_default(c: Common) -> int:
    """The incident summary is for a person at a terminal; a pipe or a file gets the plain table."""
    if c.fmt is not OutputFormat.table or c.output is not None:
        return 0
    out = c.env.stdout
    return TOP_ON_A_TERMINAL if hasattr(out, "isatty") and out.isatty() else 0


def top_since(c: Common, inv: Inventory | None, report: Report, n: int) -> dict[str, Since]:
    """For the top findings, when their hosts took their current values, as far as the store saw."""
    if not n or c.fmt is not OutputFormat.table:
        return {}
    path = inv.store_path if inv is not None else _default_store(c)
    if not store_url(c, inv) and not path.exists():
        return {}
    from drift.analysis import explain as explain_mod
    from drift.reports import top as top_report

    out: dict[str, Since] = {}
    with open_store(c, inv) as store:
        past = History(store, None)
        for f in top_report.pick(report, n):
            found = []
            for h in sorted({v.host for v in f.values}):
                runs = past.runs(h, f.category)
                found.append(explain_mod.last_change(f.path, runs, past.blobs(runs)))
            when = explain_mod.latest(found)
            if when is not None:
                out[f.id] = when
    return out


class History:
    """One fact's past from the store, read lean: each host's runs once, each blob parsed once."""

    def __init__(self, store: Store, env: str | None):
        self.store, self.env = store, env
        self._runs: dict[tuple[str, str], list[tuple[str, str, str, str | None]]] = {}

    def runs(self, host: str, category: str) -> list[tuple[str, str, str, str | None]]:
        key = (host, category)
        if key not in self._runs:
            self._runs[key] = self.store.runs(self.env, host, category)
        return self._runs[key]

    def blobs(self, runs: list[tuple[str, str, str, str | None]]) -> dict[str, dict[str, Any]]:
        shas = {blob for _, _, status, blob in runs if status == "ok" and blob}
        return {sha: self.store.facts_of(sha) for sha in shas}
