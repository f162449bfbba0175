"""The rule catalog: one table of every rule id, its default severity, meaning and spec section.

Rules are data so docs/rules.md is generated from this table (``python -m msetool.rules.catalog``) and
can never drift from the code. Each format's rule module registers its rules at import time with
:func:`rule`; :func:`finding` builds findings from a registered id so messages and severities stay
consistent.
"""

from __future__ import annotations

from typing import Any

from msetool.rules.findings import Finding, Severity


class Rule:
    """One catalog entry. Written out instead of ``@dataclass(frozen=True, slots=True)`` (creating dataclasses
    is a measurable part of every command's start-up), with the same init, repr, equality, hash, frozen
    fields and pickling."""

    __slots__ = ("browser", "id", "severity", "spec", "title")
    __match_args__ = ("id", "severity", "title", "browser", "spec")
    id: str
    severity: Severity
    title: str
    #: What a browser does when it meets this (the consequence a user cares about).
    browser: str
    #: Spec section, e.g. "isobmff-byte-stream-format §3" or a Chromium source file.
    spec: str

    def __init__(self, id: str, severity: Severity, title: str, browser: str, spec: str) -> None:
        put = object.__setattr__
        put(self, "id", id)
        put(self, "severity", severity)
        put(self, "title", title)
        put(self, "browser", browser)
        put(self, "spec", spec)

    def _astuple(self) -> tuple[Any, ...]:
        return (self.id, self.severity, self.title, self.browser, self.spec)

    def __repr__(self) -> str:
        return (
            f"{type(self).__qualname__}(id={self.id!r}, severity={self.severity!r}, title={self.title!r}, "
            f"browser={self.browser!r}, spec={self.spec!r})"
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Rule)
        return self._astuple() == other._astuple()

    def __hash__(self) -> int:
        return hash(self._astuple())

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __getstate__(self) -> list[Any]:
        return list(self._astuple())

    def __setstate__(self, state: list[Any]) -> None:
        for name, value in zip(self.__match_args__, state, strict=True):
            object.__setattr__(self, name, value)


RULES: dict[str, Rule] = {}


def rule(id: str, severity: Severity | str, title: str, browser: str, spec: str) -> Rule:
    """Register a rule; ids are unique across all formats."""
    if id in RULES:
        raise ValueError(f"duplicate rule id {id}")
    r = Rule(id, Severity(severity), title, browser, spec)
    RULES[id] = r
    return r


def ensure_rule(id: str, severity: Severity | str, title: str, browser: str, spec: str) -> Rule:
    """Register a rule unless another module already did: the parser's and the checker's modules may both
    describe an id, and whichever is imported first wins."""
    return RULES.get(id) or rule(id, severity, title, browser, spec)


#: The consequence every error-severity byte stream rule shares, in the words a player engineer sees.
APPEND_FAILS = (
    "The append fails: the SourceBuffer fires 'error' and the media element reports "
    "CHUNK_DEMUXER_ERROR_APPEND_FAILED."
)


def finding(
    rule_id: str,
    message: str,
    *,
    file: str = "",
    offset: int | None = None,
    box: str = "",
    severity: Severity | None = None,
) -> Finding:
    r = RULES[rule_id]
    return Finding(rule_id, severity or r.severity, message, file, offset, box, r.spec)


if __name__ == "__main__":  # `python -m msetool.rules.catalog` regenerates docs/rules.md (see docgen)
    import sys

    from msetool.rules.docgen import main

    sys.exit(main(sys.argv[1:]))
