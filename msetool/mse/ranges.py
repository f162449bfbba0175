"""Immutable, normalized time ranges (the HTML ``TimeRanges`` object).

A normalized TimeRanges holds disjoint, non-empty ``[start, end)`` ranges in increasing order; two ranges
that touch (``end == next start``) are one range. Both profiles use it: the Chromium profile with integer
microseconds (``media::Ranges<base::TimeDelta>`` merges touching ranges the same way and drops empty
ones), the spec profile with exact :class:`fractions.Fraction` seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

#: A time value: ``int`` microseconds (chromium profile) or ``Fraction`` seconds (spec profile).
Time = Any


class TimeRanges:
    """Disjoint sorted half-open ranges; every operation returns a new object."""

    __slots__ = ("_r",)

    def __init__(self, ranges: Iterable[tuple[Time, Time]] = ()) -> None:
        self._r: tuple[tuple[Time, Time], ...] = _normalize(ranges)

    @classmethod
    def of(cls, start: Time, end: Time) -> TimeRanges:
        return cls(((start, end),))

    def __iter__(self) -> Iterator[tuple[Time, Time]]:
        return iter(self._r)

    def __len__(self) -> int:
        return len(self._r)

    def __bool__(self) -> bool:
        return bool(self._r)

    def __getitem__(self, i: int) -> tuple[Time, Time]:
        return self._r[i]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TimeRanges) and self._r == other._r

    def __hash__(self) -> int:
        return hash(self._r)

    def __repr__(self) -> str:
        return "{ " + " ".join(f"[{s},{e})" for s, e in self._r) + (" }" if self._r else "}")

    @property
    def start(self) -> Time:
        return self._r[0][0]

    @property
    def end(self) -> Time:
        return self._r[-1][1]

    def union(self, other: TimeRanges) -> TimeRanges:
        return TimeRanges(self._r + other._r)

    def add(self, start: Time, end: Time) -> TimeRanges:
        return TimeRanges((*self._r, (start, end)))

    def intersection(self, other: TimeRanges) -> TimeRanges:
        out: list[tuple[Time, Time]] = []
        a, b = self._r, other._r
        i = j = 0
        while i < len(a) and j < len(b):
            s = max(a[i][0], b[j][0])
            e = min(a[i][1], b[j][1])
            if s < e:
                out.append((s, e))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return TimeRanges(out)

    def contains(self, t: Time) -> bool:
        return any(s <= t < e for s, e in self._r)

    def map(self, fn: Any) -> list[list[Any]]:
        """Apply ``fn`` to every bound (e.g. to seconds for JSON)."""
        return [[fn(s), fn(e)] for s, e in self._r]


def _normalize(ranges: Iterable[tuple[Time, Time]]) -> tuple[tuple[Time, Time], ...]:
    items = sorted((s, e) for s, e in ranges if s < e)
    out: list[tuple[Time, Time]] = []
    for s, e in items:
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return tuple(out)
