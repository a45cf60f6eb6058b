"""SARIF 2.1.0, for code-scanning dashboards (GitHub code scanning, GitLab, Azure DevOps).

One rule per category and kind (`drift/packages/changed`), one result per finding. Drift is not about
source files, so a result's location is the fact it is about, as a URI under the base `DRIFT_FACTS`
(`packages/deb/libssl3`), plus the hosts involved as logical locations. Blocking findings are errors,
other findings of medium and above warnings, the rest notes; waived findings carry a suppression with
the waiver's reason. Hosts that could not be collected are tool notifications, and the run is then
marked unsuccessful: parity was not proven.
"""

from __future__ import annotations

import json
from typing import Any

from drift import __version__
from drift.model.report import Finding, Kind, Level, Report
from drift.reports.json_report import inert
from drift.reports.text import odd_hosts, safe, title

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
BASE = "DRIFT_FACTS"
_KIND_TEXT = {
    Kind.only_left: "present on the left side only",
    Kind.only_right: "present on the right side only",
    Kind.changed: "different between the sides",
    Kind.outlier: "a host disagrees with its role's peers",
}
_MAX_HOSTS = 20  # logical locations per result; the full list is in properties.hosts


def _rule_id(f: Finding) -> str:
    return f"drift/{f.category}/{f.kind.value}"


def _level(f: Finding) -> str:
    if f.blocking:
        return "error"
    return "warning" if f.severity >= Level.medium else "note"


def _rule(f: Finding) -> dict[str, Any]:
    what = f"{f.category}: {_KIND_TEXT[f.kind]}"
    return {
        "id": _rule_id(f),
        "name": "".join(w.capitalize() for w in (f.category, *f.kind.value.split("_"))),
        "shortDescription": {"text": what},
        "fullDescription": {"text": f"drift finding in {f.category}: {_KIND_TEXT[f.kind]}. Severity comes "
                                    "from policy; see each result's properties.severity."},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["drift", f.category]},
    }


def _result(f: Finding, index: int) -> dict[str, Any]:
    odd = odd_hosts(f)
    hosts = sorted({(v.env, v.host) for v in f.values}, key=lambda eh: (eh[1] not in odd, eh))
    result: dict[str, Any] = {
        "ruleId": _rule_id(f),
        "ruleIndex": index,
        "level": _level(f),
        "message": {"text": safe(f.message)},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": f.path, "uriBaseId": BASE}},
            "logicalLocations": [{"name": host, "fullyQualifiedName": f"{env}/{f.role}/{host}", "kind": "resource"}
                                 for env, host in hosts[:_MAX_HOSTS]],
        }],
        "partialFingerprints": {"driftFinding/v1": f.id},
        "properties": {
            "severity": f.severity.name, "category": f.category, "kind": f.kind.value, "subject": safe(f.subject),
            "roles": list(f.all_roles), "hosts": [h for _, h in hosts], "oddHosts": odd,
            "blocking": f.blocking, "detail": safe(f.detail), "related": list(f.related),
        },
    }
    if f.waived is not None and not f.waived.expired:
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": safe(f.waived.reason)
                                   + (f" (until {f.waived.expires})" if f.waived.expires else "")}]
    return result


def to_dict(report: Report) -> dict[str, Any]:
    rules: dict[str, int] = {}
    rule_list: list[dict[str, Any]] = []
    results = []
    for f in report.findings:
        if _rule_id(f) not in rules:
            rules[_rule_id(f)] = len(rule_list)
            rule_list.append(_rule(f))
        results.append(_result(f, rules[_rule_id(f)]))
    notes = [{"level": "error", "message": {"text": safe(f"could not collect {e.host}"
                                                         f"{' ' + e.collector if e.collector else ''}: {e.message}")},
              "descriptor": {"id": "drift/collect"}} for e in report.errors]
    notes += [{"level": "error" if u.unproven else "note",
               "message": {"text": safe(f"undecided: {u.flow} in {u.env}: {u.reason}")},
               "descriptor": {"id": "drift/reach-undecided"}} for u in report.undecided]
    notes += [{"level": "warning", "message": {"text": safe(w)}} for w in report.warnings]
    sides = [report.left] if report.right is None else [report.left, report.right]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "drift", "version": __version__, "semanticVersion": __version__,
                            "rules": rule_list}},
        "automationDetails": {"id": f"drift/{report.command}/{'-'.join(s.name for s in sides)}/"},
        "originalUriBaseIds": {BASE: {"uri": "drift:/facts/",
                                      "description": {"text": "drift fact paths (category/…), not files"}}},
        "invocations": [{"executionSuccessful": not report.errors, "endTimeUtc": report.generated_at,
                         "exitCode": int(report.exit_code), "toolExecutionNotifications": notes}],
        "results": results,
        "properties": {"title": title(report), "failOn": report.fail_on.name, "summary": report.summary(),
                       "sides": [{"name": s.name, "hosts": list(s.hosts)} for s in sides]},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: Report) -> str:
    return inert(json.dumps(to_dict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n")
