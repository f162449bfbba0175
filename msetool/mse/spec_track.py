"""The spec profile's track buffer storage: coded frames in decode order, removal by the spec's letter.

The spec leaves "track buffer ranges" implementation-defined (the disjointness threshold); the spec
profile reports the exact union of the presentation intervals ``[PTS, PTS + duration)`` of the stored
frames, with no coalescing at all, in exact rational seconds. Steps 13-15 of coded frame processing and
steps 3.3-3.6 of coded frame removal run literally, frame by frame.

Spec: https://www.w3.org/TR/2024/WD-media-source-2-20240704/ (#track-buffers,
#sourcebuffer-coded-frame-processing, #sourcebuffer-coded-frame-removal).
"""

from __future__ import annotations

from bisect import bisect_right
from fractions import Fraction
from typing import Any

from msetool.mse.ranges import TimeRanges

#: (pts, dts, duration, is_random_access_point, size) in exact seconds.
SpecFrame = tuple[Any, Any, Any, bool, int]

P, D, DUR, KEY, SIZE = 0, 1, 2, 3, 4


class SpecTrackStore:
    """Coded frames of one track buffer, kept sorted by decode timestamp."""

    def __init__(self) -> None:
        self.frames: list[SpecFrame] = []
        self._dts: list[Any] = []
        #: highest PTS + duration of any stored frame (a fast "nothing can overlap" test).
        self.max_end: Any = None
        self.mem = 0
        self._ranges: TimeRanges | None = TimeRanges()
        #: normalized [start, end) pairs kept up to date on in-order adds (None: recompute)
        self._rl: list[list[Any]] | None = []

    def add(self, f: SpecFrame) -> None:
        """Step 16: add the coded frame to the track buffer (decode order)."""
        if not self._dts or f[D] >= self._dts[-1]:
            self.frames.append(f)
            self._dts.append(f[D])
        else:
            i = bisect_right(self._dts, f[D])
            self.frames.insert(i, f)
            self._dts.insert(i, f[D])
        self.mem += f[SIZE]
        end = f[P] + f[DUR]
        if self.max_end is None or end > self.max_end:
            self.max_end = end
        self._ranges = None
        rl = self._rl
        if rl is not None and f[DUR] > 0:
            if not rl or f[P] > rl[-1][1]:
                rl.append([f[P], end])
            elif f[P] >= rl[-1][0]:
                rl[-1][1] = max(rl[-1][1], end)
            else:
                self._rl = None

    def can_overlap(self, start: Fraction) -> bool:
        return self.max_end is not None and start < self.max_end

    def remove_where(self, pred: object) -> list[SpecFrame]:
        """Remove frames matching ``pred`` and, per the decode-dependency step, every later frame in
        decode order up to the next random access point. Returns everything removed."""
        assert callable(pred)
        keep: list[SpecFrame] = []
        gone: list[SpecFrame] = []
        dropping = False
        for f in self.frames:
            if pred(f):
                gone.append(f)
                dropping = True
                continue
            if dropping and not f[KEY]:
                gone.append(f)
                continue
            dropping = False
            keep.append(f)
        if gone:
            self.mem -= sum(f[SIZE] for f in gone)
            self.frames = keep
            self._dts = [f[D] for f in keep]
            self.max_end = max((f[P] + f[DUR] for f in keep), default=None)
            self._ranges = None
            self._rl = None
        return gone

    def remove_one(self, victim: SpecFrame) -> list[SpecFrame]:
        return self.remove_where(lambda f: f is victim)

    def overlapped_frame(self, pts: Fraction) -> SpecFrame | None:
        """Step 13: a stored frame whose presentation interval contains ``pts``."""
        if not self.can_overlap(pts):
            return None
        for f in self.frames:
            if f[P] <= pts < f[P] + f[DUR]:
                return f
        return None

    def replace(self, old: SpecFrame, new: SpecFrame) -> None:
        for i, f in enumerate(self.frames):
            if f is old:
                self.frames[i] = new
                break
        self.max_end = max((f[P] + f[DUR] for f in self.frames), default=None)
        self._ranges = None
        self._rl = None

    def ranges(self) -> TimeRanges:
        if self._ranges is None:
            if self._rl is None:
                self._rl = _linear_union(self.frames)
            if self._rl is not None:
                self._ranges = TimeRanges((s, e) for s, e in self._rl)
            else:
                self._ranges = TimeRanges((f[P], f[P] + f[DUR]) for f in self.frames)
                self._rl = [[s, e] for s, e in self._ranges]
        return self._ranges

    def rap_at_or_after(self, t: Fraction) -> Any:
        best: Any = None
        for f in self.frames:
            if f[KEY] and f[P] >= t and (best is None or f[P] < best):
                best = f[P]
        return best

    def highest_pts(self) -> Any:
        return max((f[P] for f in self.frames), default=None)

    def memory(self) -> int:
        return self.mem

    def frame_count(self) -> int:
        return len(self.frames)


def _linear_union(frames: list[SpecFrame]) -> list[list[Any]] | None:
    """Union of frame intervals in one pass when PTS never decreases in decode order (else None)."""
    out: list[list[Any]] = []
    prev = None
    for f in frames:
        p = f[P]
        if prev is not None and p < prev:
            return None
        prev = p
        if f[DUR] <= 0:
            continue
        e = p + f[DUR]
        if out and p <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([p, e])
    return out
