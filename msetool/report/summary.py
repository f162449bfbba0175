"""The Report: findings grouped by file, the summary counts and the exit code every renderer shares.

Renderers (text, json_, junit, github) only format a Report; deciding what "failed" means lives here once,
so ``--format json`` and ``--format junit`` can never disagree with the exit code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from msetool.records import Record
from msetool.report import exitcodes
from msetool.rules.findings import Finding, Severity

SCHEMA_VERSION = 1


# Records (msetool.records: repr, eq, unhashable, as @dataclass(slots=True) made them): creating dataclasses
# is a measurable part of every validation's start-up.


class FileReport(Record):
    __slots__ = ("findings", "path")
    __match_args__ = ("path", "findings")

    def __init__(self, path: str, findings: list[Finding] | None = None) -> None:
        self.path = path
        self.findings: list[Finding] = [] if findings is None else findings


    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)


class StreamInfo(Record):
    """One byte stream that was validated: a file list or one SourceBuffer of a scenario."""

    __slots__ = ("files", "format", "id", "type")
    __match_args__ = ("id", "type", "format", "files")

    def __init__(self, id: str, type: str | None, format: str | None, files: list[str]) -> None:
        self.id = id
        self.type = type
        self.format = format
        self.files = files


    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "format": self.format, "files": self.files}


class Report(Record):
    """What ``validate`` found. ``fail_on`` is the lowest severity that makes the exit code 1."""

    __slots__ = ("command", "fail_on", "files", "streams")
    __match_args__ = ("files", "streams", "fail_on", "command")

    def __init__(
        self,
        files: list[FileReport] | None = None,
        streams: list[StreamInfo] | None = None,
        fail_on: Severity = Severity.ERROR,
        command: str = "validate",
    ) -> None:
        self.files: list[FileReport] = [] if files is None else files
        self.streams: list[StreamInfo] = [] if streams is None else streams
        self.fail_on = fail_on
        self.command = command


    @classmethod
    def build(
        cls,
        findings: Iterable[Finding],
        files: Iterable[str],
        *,
        fail_on: Severity = Severity.ERROR,
        streams: Iterable[StreamInfo] = (),
    ) -> Report:
        """Group findings by file, keeping the input order of files (files without findings included)."""
        rep = cls(fail_on=fail_on, streams=list(streams))
        by: dict[str, FileReport] = {}
        for p in files:
            if p not in by:
                by[p] = FileReport(p)
                rep.files.append(by[p])
        for f in findings:
            fr = by.get(f.file)
            if fr is None:
                fr = by[f.file] = FileReport(f.file)
                rep.files.append(fr)
            fr.findings.append(f)
        return rep

    @property
    def findings(self) -> list[Finding]:
        return [f for fr in self.files for f in fr.findings]

    def count(self, severity: Severity) -> int:
        return sum(fr.count(severity) for fr in self.files)

    @property
    def summary(self) -> dict[str, int]:
        return {
            "errors": self.count(Severity.ERROR),
            "warnings": self.count(Severity.WARNING),
            "infos": self.count(Severity.INFO),
            "files": len(self.files),
        }

    def failing(self, f: Finding) -> bool:
        return f.severity.rank >= self.fail_on.rank

    @property
    def exit_code(self) -> int:
        """0 clean, 1 when any finding reaches ``fail_on`` (errors; warnings too with --strict)."""
        return exitcodes.FINDINGS if any(self.failing(f) for f in self.findings) else exitcodes.OK

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "command": self.command,
            "files": [
                {
                    "path": fr.path,
                    "findings": [_finding_json(f) for f in fr.findings],
                    "summary": {
                        "errors": fr.count(Severity.ERROR),
                        "warnings": fr.count(Severity.WARNING),
                        "infos": fr.count(Severity.INFO),
                    },
                }
                for fr in self.files
            ],
            "streams": [s.to_json() for s in self.streams],
            "summary": self.summary,
            "fail_on": self.fail_on.value,
            "exit_code": self.exit_code,
        }


def _finding_json(f: Finding) -> dict[str, Any]:
    d = f.to_json()
    d["file"] = f.file
    return d
