"""JUnit XML: one testcase per finding, so a CI system shows blocking drift as failed tests."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from drift.model.report import Report
from drift.reports.text import hosts, odd_hosts, safe, title


def _xml_text(text: str) -> str:
    # XML 1.0 cannot carry most control characters; host data may contain them.
    return "".join(ch for ch in safe(text) if ch in "\t\n\r" or ord(ch) >= 0x20)


def render(report: Report) -> str:
    suite = ET.Element("testsuite", name=title(report), timestamp=report.generated_at)
    failures = errors = skipped = 0
    for f in report.findings:
        case = ET.SubElement(suite, "testcase", classname=f"drift.{f.category}.{f.role}",
                             name=_xml_text(f"{f.kind.value}: {f.subject}"))
        odd = f"odd one out: {' '.join(odd_hosts(f))}\n" if odd_hosts(f) else ""
        body = _xml_text(f"{f.message}\nroles: {', '.join(f.all_roles)}\n{odd}hosts: {hosts(f)}\npath: {f.path}\n"
                         f"{f.detail}".rstrip())
        if f.waived is not None and not f.waived.expired:
            skipped += 1
            ET.SubElement(case, "skipped", message=_xml_text(f"waived: {f.waived.reason}"))
        elif f.blocking:
            failures += 1
            ET.SubElement(case, "failure", message=_xml_text(f.message), type=f.severity.name).text = body
        else:
            ET.SubElement(case, "system-out").text = f"[{f.severity.name}] {body}"
    for e in report.errors:
        errors += 1
        case = ET.SubElement(suite, "testcase", classname="drift.collect",
                             name=_xml_text(f"collect {e.host}{' ' + e.collector if e.collector else ''}"))
        ET.SubElement(case, "error", message=_xml_text(e.message), type="unknown").text = _xml_text(e.message)
    for u in report.undecided:
        # An undecided flow is neither a pass nor drift: an error where it leaves parity unproven (it
        # makes the exit 3, like a host that could not be collected), else skipped.
        case = ET.SubElement(suite, "testcase", classname="drift.reach",
                             name=_xml_text(f"undecided: {u.flow} in {u.env}"))
        if u.unproven:
            errors += 1
            ET.SubElement(case, "error", message=_xml_text(u.reason), type="undecided").text = _xml_text(
                f"{u.reason}\nhosts: {' '.join(u.hosts)}")
        else:
            skipped += 1
            ET.SubElement(case, "skipped", message=_xml_text(f"undecided alike on both sides: {u.reason}"))
    cases = len(report.findings) + len(report.errors) + len(report.undecided)
    if not cases:
        ET.SubElement(suite, "testcase", classname="drift", name="parity")
    total = cases or 1
    suite.set("tests", str(total))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    root = ET.Element("testsuites", name="drift", tests=str(total), failures=str(failures), errors=str(errors))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
