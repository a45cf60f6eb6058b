"""The JSON report, exactly as spec/report.md describes; the other formats render this data."""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from drift.model.report import REPORT_SCHEMA, Finding, Report, Side


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id,
        "category": f.category,
        "path": f.path,
        "subject": f.subject,
        "kind": f.kind.value,
        "role": f.role,
        "roles": list(f.all_roles),
        "severity": f.severity.name,
        "blocking": f.blocking,
        "waived": None if f.waived is None else
        {"reason": f.waived.reason, "expires": f.waived.expires, "expired": f.waived.expired},
        "message": f.message,
        "detail": f.detail,
        "odd_hosts": list(f.odd),
        "values": [{"env": v.env, "host": v.host, "value": v.value} for v in f.values],
        "related": list(f.related),
        "topic": f.topic or None,
    }


def _side(side: Side | None) -> dict[str, Any] | None:
    if side is None:
        return None
    return {"name": side.name, "hosts": list(side.hosts),
            "collected_at": dict(zip(side.hosts, side.collected_at, strict=False)) if side.collected_at else {}}


def to_dict(report: Report) -> dict[str, Any]:
    return {
        "schema": REPORT_SCHEMA,
        "generated_at": report.generated_at,
        "command": report.command,
        "left": _side(report.left),
        "right": _side(report.right),
        "fail_on": report.fail_on.name,
        "summary": report.summary(),
        "findings": [finding_dict(f) for f in report.findings],
        "errors": [{"host": e.host, "collector": e.collector, "message": e.message} for e in report.errors],
        "warnings": list(report.warnings),
        "undecided": [{"env": u.env, "flow": u.flow, "hosts": list(u.hosts), "reason": u.reason}
                      for u in report.undecided],
    }


def render(report: Report) -> str:
    # Key order is the spec's, for people reading it; lists are already in the report's order.
    doc = to_dict(report)
    try:
        # The same bytes as json.dumps(indent=2, ensure_ascii=False), from C: the stdlib's indented
        # encoder is pure Python and took 5 of the 9 seconds of a 2 x 1,000-host compare.
        data = msgspec.json.format(msgspec.json.encode(doc, enc_hook=str), indent=2)
        text = data.decode() + "\n"
        # What inert escapes starts, in UTF-8, with one of these: most reports hold none, and a few
        # substring searches cost far less than a regex pass over a report of many megabytes.
        return inert(text) if any(lead in data for lead in _INERT_LEADS) else text
    except (TypeError, OverflowError, msgspec.EncodeError):
        return inert(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n")


def inert(text: str) -> str:
    """JSON escapes C0 controls itself; these others it leaves raw, and a terminal showing the report
    would obey them. Escaped, the data stays exact for a program and inert for a terminal."""
    return _INERT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# UTF-8 lead bytes of U+007F-009F, U+2028-202E, U+2066-2069 and surrogates
_INERT_LEADS = (b"\x7f", b"\xc2", b"\xe2\x80", b"\xe2\x81", b"\xed")
_INERT = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
