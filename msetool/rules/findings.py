"""Findings: what ``validate`` reports.

A finding names its rule (stable id, documented in docs/rules.md), says the consequence in the browser, and
points at a file, a byte offset and a box/element path, so a user can open a hex editor at the right place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """error: a browser's append fails; warning: it appends but playback is at risk; info: worth knowing."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    file: str = ""
    offset: int | None = None
    box: str = ""
    spec: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "offset": self.offset,
            "box": self.box,
            "spec": self.spec,
        }
