"""Random append/remove/abort sequences: no crash, and buffered stays a normalized TimeRanges."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.model import CodedFrame
from msetool.mse.events import DOMException
from tests.unit.mse.dsl import append, make, segment

op = st.one_of(
    st.tuples(
        st.just("append"), st.integers(0, 40), st.integers(1, 6), st.booleans(), st.sampled_from([0, 10, 40])
    ),
    st.tuples(st.just("remove"), st.integers(0, 30), st.integers(1, 30)),
    st.tuples(st.just("abort")),
    st.tuples(st.just("offset"), st.sampled_from([0, -0.5, 0.3])),
    st.tuples(st.just("window"), st.sampled_from([0, 0.1, 0.25])),
)


def _apply(sb: Any, o: tuple[Any, ...]) -> None:
    kind = o[0]
    if kind == "append":
        _, start, n, bframes, dur = o
        v, a = [], []
        for i in range(n):
            t = (start + i) * 40
            pts = t + (40 if bframes and i % 3 == 1 else -40 if bframes and i % 3 == 2 else 0)
            v.append(CodedFrame(1, t, max(pts, 0), dur, 1000, i % 3 == 0, 10))
            a.append(CodedFrame(2, t, t, 20, 1000, True, 5))
        append(sb, segment(v, a))
    elif kind == "remove":
        sb.remove(o[1] * 0.04, (o[1] + o[2]) * 0.04)
        sb.run_pending()
    elif kind == "abort":
        sb.abort()
    elif kind == "offset":
        sb.set_timestamp_offset(o[1])
    else:
        sb.set_append_window_start(o[1])


@settings(max_examples=120, deadline=None)
@given(
    st.sampled_from(["chromium", "spec"]),
    st.sampled_from(["segments", "sequence"]),
    st.lists(op, max_size=12),
)
def test_random_operations_keep_buffered_normalized(
    profile: str, mode: str, ops: list[tuple[Any, ...]]
) -> None:
    _ms, sb = make("video", "audio", profile=profile, mode=mode)
    for o in ops:
        try:
            _apply(sb, o)
        except DOMException as e:
            assert e.name in ("InvalidStateError", "TypeError")
        if sb.removed:
            break
        r = list(sb.buffered())
        assert all(s < e for s, e in r)
        assert all(a[1] < b[0] for a, b in itertools.pairwise(r))
        if sb.chromium:
            for tb in sb.tracks.values():
                for rng in tb.stream.ranges:  # type: ignore[union-attr]
                    assert rng.frames and rng.frames[0][3], "every Chromium range starts with a keyframe"
