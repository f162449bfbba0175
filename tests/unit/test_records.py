"""Record classes written out instead of @dataclass (start-up) must behave as the dataclass they replace.

For each one a reference dataclass with the same fields is declared here; both are built from the same
random values and must agree on repr, equality, hashing, frozen fields, pickling and pattern matching. A
field added to the class but not to its repr/eq/hash/state fails here.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.codecs.derive import DerivedCodec
from msetool.mime import MimeType
from msetool.report.summary import FileReport, Report, StreamInfo
from msetool.rules.catalog import Rule
from msetool.rules.findings import Finding, Severity


@dataclass(frozen=True, slots=True)
class _MimeType:
    type: str
    subtype: str
    codecs: tuple[str, ...] = ()
    params: dict[str, str] = field(default_factory=dict)
    raw: str = ""


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    severity: Severity
    title: str
    browser: str
    spec: str


@dataclass(frozen=True, slots=True)
class _DerivedCodec:
    codec: str
    coding_name: str
    kind: str
    entry_type: str = ""
    encrypted: bool = False
    problem: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _FileReport:
    path: str
    findings: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class _StreamInfo:
    id: str
    type: str | None
    format: str | None
    files: list[str]


@dataclass(slots=True)
class _Report:
    files: list[Any] = field(default_factory=list)
    streams: list[Any] = field(default_factory=list)
    fail_on: Severity = Severity.ERROR
    command: str = "validate"


_TEXT = st.text(max_size=6)
_SEV = st.sampled_from(list(Severity))
_FINDING = st.builds(Finding, _TEXT, _SEV, _TEXT, _TEXT, st.none() | st.integers(0, 9), _TEXT, _TEXT)

#: (class, its reference, strategy for (positional args, keyword args) common to both)
CASES: list[tuple[type, type, st.SearchStrategy[tuple[tuple[Any, ...], dict[str, Any]]]]] = [
    (MimeType, _MimeType, st.tuples(st.tuples(_TEXT, _TEXT), st.fixed_dictionaries(
        {}, optional={"codecs": st.tuples(_TEXT), "params": st.dictionaries(_TEXT, _TEXT), "raw": _TEXT}))),
    (Rule, _Rule, st.tuples(st.tuples(_TEXT, _SEV, _TEXT, _TEXT, _TEXT), st.just({}))),
    (DerivedCodec, _DerivedCodec, st.tuples(st.tuples(_TEXT, _TEXT, _TEXT), st.fixed_dictionaries(
        {}, optional={"entry_type": _TEXT, "encrypted": st.booleans(), "problem": st.none() | _TEXT,
                      "details": st.dictionaries(_TEXT, st.integers())}))),
    (FileReport, _FileReport, st.tuples(st.tuples(_TEXT), st.fixed_dictionaries(
        {}, optional={"findings": st.lists(_FINDING, max_size=2)}))),
    (StreamInfo, _StreamInfo, st.tuples(st.tuples(_TEXT, st.none() | _TEXT, st.none() | _TEXT,
                                                  st.lists(_TEXT, max_size=2)), st.just({}))),
    (Report, _Report, st.tuples(st.just(()), st.fixed_dictionaries(
        {}, optional={"fail_on": _SEV, "command": _TEXT}))),
]


def _outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except Exception as e:
        return type(e).__name__, str(e)


def _strip(r: str, ref: type) -> str:
    return r.replace(ref.__qualname__ + "(", ref.__qualname__.lstrip("_") + "(")


@pytest.mark.parametrize("cls, ref, args", CASES, ids=[c[0].__name__ for c in CASES])
def test_behaves_as_the_dataclass(cls: type, ref: type, args: st.SearchStrategy[Any]) -> None:
    @settings(derandomize=True, max_examples=60, deadline=None)
    @given(a=args, b=args)
    def check(a: tuple[tuple[Any, ...], dict[str, Any]], b: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
        x, rx = cls(*a[0], **a[1]), ref(*a[0], **a[1])
        y, ry = cls(*b[0], **b[1]), ref(*b[0], **b[1])
        assert repr(x) == _strip(repr(rx), ref)
        assert (x == y, x != y, x == cls(*a[0], **a[1])) == (rx == ry, rx != ry, rx == ref(*a[0], **a[1]))
        assert (x == 1) == (rx == 1)
        hx, hr = _outcome(lambda: hash(x)), _outcome(lambda: hash(rx))
        assert hx[0] == hr[0]
        if hx[0] == "ok":
            assert (hash(x) == hash(cls(*a[0], **a[1]))) and (hash(rx) == hash(ref(*a[0], **a[1])))
        match_args: tuple[str, ...] = getattr(cls, "__match_args__")  # noqa: B009 (mypy: not on type)
        name = match_args[0]
        assert _outcome(lambda: setattr(x, name, 1)) == _outcome(lambda: setattr(rx, name, 1))
        assert pickle.loads(pickle.dumps(x)) == x
        assert match_args == getattr(ref, "__match_args__")  # noqa: B009

    check()
