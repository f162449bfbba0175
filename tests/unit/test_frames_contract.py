"""FramesParsed carries frames as objects or as per-track columns; both views must describe the same frames,
in the same order, whichever one the producer built."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from msetool.model import CodedFrame
from msetool.stream import FrameColumns, FramesParsed

frame = st.builds(
    CodedFrame,
    track_id=st.sampled_from([1, 2]),
    dts=st.integers(-5, 10_000),
    pts=st.integers(-5, 10_000),
    duration=st.integers(0, 3000),
    timescale=st.sampled_from([1000, 90_000]),
    keyframe=st.booleans(),
    size=st.integers(0, 1 << 20),
    offset=st.integers(0, 1 << 30),
    duration_estimated=st.booleans(),
    decode_error=st.sampled_from([None, None, None, "broken slice header"]),
)


@given(st.lists(frame, max_size=40))
def test_columns_round_trip_to_the_same_frames(frames: list[CodedFrame]) -> None:
    cols = FramesParsed(frames).columns
    # each column is one track and timescale, and consecutive columns differ in one of them
    for a, b in itertools.pairwise(cols):
        assert (a.track_id, a.timescale) != (b.track_id, b.timescale)
    assert sum(len(c) for c in cols) == len(frames)
    rebuilt = FramesParsed(columns=cols)
    assert rebuilt.frames == frames
    assert rebuilt.count == len(frames)
    assert rebuilt == FramesParsed(frames)


def test_columns_built_by_a_reader_materialise_lazily_in_stream_order() -> None:
    video = FrameColumns(1, 90_000, [0, 3000], [3000, 6000], [3000, 3000], [500, 40], [100, 600],
                         [True, False], {1: "bytes are not this frame"})
    audio = FrameColumns(2, 48_000, [0], [0], [1024], [9], [640], [True], estimated=frozenset({0}))
    ev = FramesParsed(columns=[video, FrameColumns(3, 1000, [], [], [], [], [], []), audio])
    assert ev.count == 3
    assert len(ev.columns) == 2  # empty runs are dropped
    assert [(f.track_id, f.offset) for f in ev.frames] == [(1, 100), (1, 600), (2, 640)]
    assert [f.decode_error for f in ev.frames] == [None, "bytes are not this frame", None]
    assert [f.duration_estimated for f in ev.frames] == [False, False, True]
    assert bool(FramesParsed([]))  # an event is always truthy; emptiness is ``count``
    assert ev.built_frames is None  # built from columns, whatever views were derived since


def test_built_frames_names_the_view_the_producer_made() -> None:
    frames = [CodedFrame(1, 0, 0, 10, 1000, True, 5, 0), CodedFrame(1, 10, 10, 10, 1000, False, 5, 5)]
    ev = FramesParsed(frames)
    assert ev.columns  # deriving the other view does not change the answer
    assert ev.built_frames is frames
