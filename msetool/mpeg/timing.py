"""Time arithmetic shared by the MPEG audio and MPEG-2 TS readers.

Both formats derive audio frame times from sample counts. The spec profile keeps exact rationals; the
Chromium profile reproduces ``base::TimeDelta`` arithmetic (whole microseconds, truncation toward zero:
90 kHz ticks become ``1000 * ticks / 90`` µs and ``AudioTimestampHelper`` adds
``trunc(frames * 1e6 / rate)``), because Chromium's buffered ranges are made of exactly those numbers.
Times are :class:`~fractions.Fraction` seconds inside the readers and become integer ticks only when a
:class:`~msetool.model.CodedFrame` is built.
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm

from msetool.model import CodedFrame

US = 1_000_000


def trunc_div(a: int, b: int) -> int:
    """C++ integer division (toward zero), which Chromium uses for negative unrolled timestamps too."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def ticks90k(ticks: int, chromium: bool) -> Fraction:
    """A 90 kHz PTS/DTS as seconds: exact, or as Chromium's whole microseconds."""
    if chromium:
        return Fraction(trunc_div(1000 * ticks, 90), US)
    return Fraction(ticks, 90000)


class AudioClock:
    """Chromium's AudioTimestampHelper: a base time plus a count of samples at one rate."""

    __slots__ = ("base", "chromium", "count", "rate")

    def __init__(self, rate: int, base: Fraction, chromium: bool) -> None:
        self.rate = rate
        self.base = base
        self.count = 0
        self.chromium = chromium

    def set_base(self, base: Fraction) -> None:
        self.base = base
        self.count = 0

    def at(self, frames: int) -> Fraction:
        if self.chromium:
            return self.base + Fraction(trunc_div(frames * US, self.rate), US)
        return self.base + Fraction(frames, self.rate)

    def now(self) -> Fraction:
        return self.at(self.count)

    def duration(self, samples: int) -> Fraction:
        return self.at(self.count + samples) - self.at(self.count)

    def add(self, samples: int) -> None:
        self.count += samples


def coded_frame(
    track_id: int,
    dts: Fraction,
    pts: Fraction,
    duration: Fraction,
    keyframe: bool,
    *,
    size: int,
    offset: int,
    chromium: bool,
    timescale: int = 1,
) -> CodedFrame:
    """Integer ticks for the model: µs for the Chromium profile; otherwise ``timescale`` (the format's
    clock) or the smallest multiple of it that keeps every value exact."""
    scale = US if chromium else lcm(timescale, dts.denominator, pts.denominator, duration.denominator)
    return CodedFrame(
        track_id=track_id,
        dts=int(dts * scale),
        pts=int(pts * scale),
        duration=int(duration * scale),
        timescale=scale,
        keyframe=keyframe,
        size=size,
        offset=offset,
    )
