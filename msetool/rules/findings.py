"""Findings: what ``validate`` reports.

A finding names its rule (stable id, documented in docs/rules.md), says the consequence in the browser, and
points at a file, a byte offset and a box/element path, so a user can open a hex editor at the right place.
"""

from __future__ import annotations

from enum import StrEnum

from msetool.records import FrozenRecord


class Severity(StrEnum):
    """error: a browser's append fails; warning: it appends but playback is at risk; info: worth knowing."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


class Finding(FrozenRecord):
    __slots__ = __match_args__ = ("rule", "severity", "message", "file", "offset", "box", "spec")
    rule: str
    severity: Severity
    message: str
    file: str
    offset: int | None
    box: str
    spec: str

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        rule: str,
        severity: Severity,
        message: str,
        file: str = "",
        offset: int | None = None,
        box: str = "",
        spec: str = "",
    ) -> None:
        put = object.__setattr__
        put(self, "rule", rule)
        put(self, "severity", severity)
        put(self, "message", message)
        put(self, "file", file)
        put(self, "offset", offset)
        put(self, "box", box)
        put(self, "spec", spec)

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "offset": self.offset,
            "box": self.box,
            "spec": self.spec,
        }
