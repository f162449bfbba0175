"""Number model per profile: where the spec says "double", what each profile computes with.

``spec``: exact rational seconds (:class:`fractions.Fraction`); the spec defines timestamps "as if double"
but exact arithmetic is what its steps mean and keeps ``x + d == y`` true for exact inputs.
``chromium``: integer microseconds (``base::TimeDelta``); a rational ``ticks / timescale`` becomes
microseconds by truncation toward zero (TimeDeltaFromRational in media/formats/mp4/track_run_iterator.cc)
and a JavaScript double by truncation too (``base::Microseconds(double)``). Start and duration are
converted separately, which is why Chromium reports ends such as ``1.999999``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

INF = math.inf


class Profile:
    name = "spec"
    chromium = False

    def ticks(self, value: int, timescale: int) -> Any:
        return Fraction(value, timescale)

    def from_js(self, value: float) -> Any:
        """A JavaScript number (finite or +Infinity) as a model time."""
        if math.isinf(value):
            return INF
        return Fraction(value)

    def to_js(self, t: Any) -> float:
        return float(t)

    def micro(self, us: int) -> Any:
        return Fraction(us, 1_000_000)


class ChromiumProfile(Profile):
    name = "chromium"
    chromium = True

    def ticks(self, value: int, timescale: int) -> Any:
        if timescale == 1_000_000:
            return value
        if value >= 0:
            return value * 1_000_000 // timescale
        return -((-value) * 1_000_000 // timescale)

    def from_js(self, value: float) -> Any:
        if math.isinf(value):
            return INF
        return math.trunc(value * 1_000_000)

    def to_js(self, t: Any) -> float:
        if isinstance(t, float):
            return t
        return float(t) / 1_000_000

    def micro(self, us: int) -> Any:
        return us


def get_profile(name: str) -> Profile:
    return ChromiumProfile() if name == "chromium" else Profile()
