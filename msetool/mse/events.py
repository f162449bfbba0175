"""What the model reports: DOM events, exceptions (DOMException names), append errors and warnings.

The model never prints; callers (the scenario runner, the CLI) read these records after each operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    """A DOM event the page would receive: ``target`` is ``sb:<id>``, ``mediaSource`` or ``video``."""

    target: str
    type: str

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "type": self.type}


class DOMException(Exception):
    """An exception a Web API call throws; ``name`` is the DOMException (or TypeError) name."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def invalid_state(message: str) -> DOMException:
    return DOMException("InvalidStateError", message)


def type_error(message: str) -> DOMException:
    return DOMException("TypeError", message)


@dataclass(slots=True)
class AppendError:
    """An append that ended in the append error algorithm, located where we can."""

    message: str
    rule: str | None = None
    offset: int | None = None
    file: str | None = None
    box: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "rule": self.rule,
            "offset": self.offset,
            "file": self.file,
            "box": self.box,
        }


@dataclass(slots=True)
class Warning:
    """Something a player engineer should know that is not an error (gap, dropped or replaced frames)."""

    kind: str
    message: str
    time: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "message": self.message}
        if self.time is not None:
            d["time"] = self.time
        if self.detail:
            d.update(self.detail)
        return d
