"""``--format junit``: one testcase per file, so CI systems show which segment broke and why.

Findings at or above the failing severity become one ``<failure>`` per testcase (every finding listed in
its body); the rest go to ``<system-out>`` so they are visible without failing the build.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from msetool.report.summary import Report
from msetool.rules.findings import Finding


def _line(f: Finding) -> str:
    where = f"offset {f.offset}" if f.offset is not None else "no offset"
    box = f" {f.box}" if f.box else ""
    return f"[{f.severity.value}] {f.rule} at {where}{box}: {f.message}"


def render(report: Report, suite_name: str = "msetool validate") -> str:
    failures = sum(1 for fr in report.files if any(report.failing(f) for f in fr.findings))
    suites = ET.Element(
        "testsuites", name=suite_name, tests=str(len(report.files)), failures=str(failures), errors="0"
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=suite_name,
        tests=str(len(report.files)),
        failures=str(failures),
        errors="0",
        skipped="0",
    )
    for fr in report.files:
        case = ET.SubElement(suite, "testcase", classname="msetool.validate", name=fr.path or "<stream>")
        failing = [f for f in fr.findings if report.failing(f)]
        other = [f for f in fr.findings if not report.failing(f)]
        if failing:
            first = failing[0]
            fail = ET.SubElement(
                case, "failure", message=f"{first.rule}: {first.message}"[:500], type=first.severity.value
            )
            fail.text = "\n".join(_line(f) for f in failing)
        if other:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(_line(f) for f in other)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
