"""Report renderers: JSON keys, JUnit XML that parses, GitHub annotation lines, exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from rich.console import Console

from msetool.report import github, json_, junit, text
from msetool.report.summary import Report, StreamInfo
from msetool.rules.findings import Finding, Severity

FINDINGS = [
    Finding(
        "BMFF-MEDIA-10", Severity.ERROR, "traf has no tfdt", "out/seg2.m4s", 24, "moof[0]/traf[0]", "spec"
    ),
    Finding("GEN-TIME-01", Severity.WARNING, "gap of 80 ms, 2 frames", "out/seg3.m4s", 0, "moof[0]", "spec"),
    Finding(
        "BMFF-MEDIA-23", Severity.INFO, "sequence_number 1 repeats", "out/seg3.m4s", 8, "moof[0]/mfhd", ""
    ),
]
FILES = ["out/init.mp4", "out/seg2.m4s", "out/seg3.m4s"]


def report(fail_on: Severity = Severity.ERROR, findings: list[Finding] | None = None) -> Report:
    return Report.build(
        FINDINGS if findings is None else findings,
        FILES,
        fail_on=fail_on,
        streams=[StreamInfo("stream", "video/mp4", "mp4", FILES)],
    )


def test_exit_codes() -> None:
    assert report().exit_code == 1
    assert report(findings=FINDINGS[1:]).exit_code == 0
    assert report(Severity.WARNING, FINDINGS[1:]).exit_code == 1
    assert report(Severity.WARNING, FINDINGS[2:]).exit_code == 0
    assert report(findings=[]).exit_code == 0


def test_json_schema() -> None:
    doc = json.loads(json_.render(report()))
    assert doc["summary"] == {"errors": 1, "warnings": 1, "infos": 1, "files": 3}
    assert [f["path"] for f in doc["files"]] == FILES  # files without findings are listed too
    first = doc["files"][1]["findings"][0]
    assert {"rule", "severity", "message", "offset", "box"} <= set(first)
    assert (first["rule"], first["severity"], first["offset"], first["box"]) == (
        "BMFF-MEDIA-10",
        "error",
        24,
        "moof[0]/traf[0]",
    )
    assert doc["exit_code"] == 1 and doc["fail_on"] == "error"
    assert doc["streams"][0]["format"] == "mp4"


def test_junit_one_testcase_per_file() -> None:
    root = ET.fromstring(junit.render(report()))
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == FILES
    assert cases[0].find("failure") is None
    fail = cases[1].find("failure")
    assert fail is not None and "BMFF-MEDIA-10" in (fail.get("message") or "")
    assert cases[2].find("failure") is None  # a warning does not fail by default
    assert "GEN-TIME-01" in (cases[2].findtext("system-out") or "")
    strict = ET.fromstring(junit.render(report(Severity.WARNING)))
    assert strict.findall(".//testcase")[2].find("failure") is not None
    assert root.get("failures") == "1"


def test_github_annotations_are_escaped() -> None:
    f = Finding("GEN-12", Severity.ERROR, "50% bad\nsecond line", "dir,with:odd/seg.m4s", 7, "moof", "")
    out = github.render(report(findings=[*FINDINGS[1:], f])).splitlines()
    assert out[0].startswith("::warning file=out/seg3.m4s,title=GEN-TIME-01::")
    assert out[1].startswith("::notice ")
    assert (
        out[2]
        == "::error file=dir%2Cwith%3Aodd/seg.m4s,title=GEN-12::50%25 bad%0Asecond line (offset 7, moof)"
    )
    assert out[-1].startswith("msetool validate: 1 errors, 1 warnings, 1 infos")


def test_text_groups_by_file() -> None:
    console = Console(record=True, width=200, color_system=None)
    text.render(report(), console)
    out = console.export_text()
    assert out.index("out/init.mp4") < out.index("out/seg2.m4s") < out.index("BMFF-MEDIA-10")
    assert "@24 moof[0]/traf[0]" in out
    assert "FAIL" in out and "1 errors, 1 warnings, 1 infos" in out
