"""The rule catalog: one table of every rule id, its default severity, meaning and spec section.

Rules are data so docs/rules.md is generated from this table (``python -m msetool.rules.catalog``) and
can never drift from the code. Each format's rule module registers its rules at import time with
:func:`rule`; :func:`finding` builds findings from a registered id so messages and severities stay
consistent.
"""

from __future__ import annotations

from msetool.records import FrozenRecord
from msetool.rules.findings import Finding, Severity


class Rule(FrozenRecord):
    """One catalog entry (a frozen record, :mod:`msetool.records`)."""

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
