"""The engine's per-batch work reads FrameColumns (builtins per column) and must mean what walking the frames
one by one means, whether a producer built the batch from columns (BMFF) or from frames (WebM, TS, MPEG
audio), and however a track's frames are split into columns.

The references below restate each aggregate frame by frame, the way the engine computed them before it
read columns. Batches built from frames are still read frame by frame (deriving columns would cost more):
both paths are checked.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from msetool.model import CodedFrame
from msetool.rules.engine import (
    _dts_order,
    _FrameSummary,
    _note_undecodable,
    _OffsetMap,
    _summarise,
    _summarise_frames,
)
from msetool.stream import FrameColumns, FramesParsed, MediaSegmentStarted, ParseFailed, ParserEvent

frame = st.builds(
    CodedFrame,
    track_id=st.sampled_from([1, 2, 3]),
    dts=st.integers(-5, 200),
    pts=st.integers(-50, 300),
    duration=st.integers(0, 40),
    timescale=st.just(1000),
    keyframe=st.booleans(),
    size=st.integers(0, 100),
    offset=st.integers(0, 2000),
    duration_estimated=st.booleans(),
    decode_error=st.sampled_from([None, None, None, "bytes are not this frame", "bad slice"]),
)


def split_columns(frames: list[CodedFrame], cuts: list[int]) -> FramesParsed:
    """The frames as columns the way a reader may hand them over: runs of one track, cut anywhere."""
    cols: list[FrameColumns] = []
    start = 0
    for i in range(1, len(frames) + 1):
        if i == len(frames) or frames[i].track_id != frames[start].track_id or i in cuts:
            cols.append(FrameColumns.of(frames[start:i]))
            start = i
    return FramesParsed(columns=cols)


def reference_summary(frames: list[CodedFrame]) -> dict[int, tuple[int, ...]]:
    by_track: dict[int, list[CodedFrame]] = {}
    for f in frames:
        by_track.setdefault(f.track_id, []).append(f)
    out: dict[int, tuple[int, ...]] = {}
    for tid, fs in by_track.items():
        f0, last = fs[0], fs[-1]
        out[tid] = (f0.timescale, f0.dts, f0.pts, int(f0.keyframe), f0.duration, len(fs),
                    min(f.pts for f in fs), max(f.pts + f.duration for f in fs), last.dts + last.duration,
                    sum(1 for f in fs if f.keyframe), last.duration, sum(f.duration for f in fs),
                    max(f.duration for f in fs))
    return out


def reference_dts_order(frames: list[CodedFrame], omap: _OffsetMap) -> ParseFailed | None:
    last: dict[int, int] = {}
    for f in frames:
        prev = last.get(f.track_id)
        if prev is not None and f.dts < prev:
            if omap.to_run(f.offset) is None:
                return None
            return ParseFailed(
                f"Parsed buffers not in DTS sequence (track {f.track_id}: DTS {f.dts} after {prev}, "
                f"timescale {f.timescale})", f.offset, "", "BMFF-MEDIA-26")
        last[f.track_id] = f.dts
    return None


def reference_undecodable(frames: list[CodedFrame], omap: _OffsetMap) -> list[tuple[int, CodedFrame]]:
    out: list[tuple[int, CodedFrame]] = []
    for f in frames:
        if f.decode_error is not None and sum(1 for _o, g in out if g.track_id == f.track_id) < 8:
            o = omap.to_run(f.offset)
            if o is not None:
                out.append((o, f))
    return out


def omap_with_priming(primed: int) -> _OffsetMap:
    """Parser offsets below ``primed`` are priming bytes (no run offset); the rest map to run offset 0..."""
    omap = _OffsetMap()
    omap.add(None, primed)
    omap.add(0, 1 << 20)
    return omap


@given(st.lists(frame, min_size=1, max_size=40), st.lists(st.integers(1, 40), max_size=5))
def test_summary_from_columns_is_the_frame_by_frame_summary(
    frames: list[CodedFrame], cuts: list[int]
) -> None:
    want = reference_summary(frames)
    for got in (_summarise(FramesParsed(frames).columns), _summarise(split_columns(frames, cuts).columns),
                _summarise_frames(frames)):
        assert isinstance(got, _FrameSummary)
        assert got.spans == want
        assert list(got.spans) == list(want)  # tracks in order of first appearance (the model keeps it)


@given(st.lists(frame, min_size=1, max_size=40), st.lists(st.integers(1, 40), max_size=5),
       st.sampled_from([0, 300, 5000]))
def test_dts_order_from_columns_is_the_frame_by_frame_check(
    frames: list[CodedFrame], cuts: list[int], primed: int
) -> None:
    omap = omap_with_priming(primed)
    want = reference_dts_order(frames, omap)
    head = MediaSegmentStarted(0)
    derived = FramesParsed(frames)
    assert derived.columns  # a batch of frames whose columns someone derived is read as columns
    for ev in (FramesParsed(frames), split_columns(frames, cuts), derived):
        evs: list[ParserEvent] = [head, ev, head]
        out = _dts_order(evs, omap)
        if want is None:
            assert out == evs
        else:  # the events stop after the failing batch, with the failure
            assert out == [head, ev, want]


@given(st.lists(frame, min_size=1, max_size=60), st.lists(st.integers(1, 60), max_size=5),
       st.sampled_from([0, 300]))
def test_undecodable_frames_from_sparse_columns(
    frames: list[CodedFrame], cuts: list[int], primed: int
) -> None:
    omap = omap_with_priming(primed)
    want = reference_undecodable(frames, omap)
    derived = FramesParsed(frames)
    assert derived.columns
    for ev in (FramesParsed(frames), split_columns(frames, cuts), derived):
        got: list[tuple[int, CodedFrame]] = []
        _note_undecodable(ev, omap, got)
        assert got == want


def test_a_step_back_inside_a_column_and_at_a_column_boundary() -> None:
    omap = omap_with_priming(0)
    video = FrameColumns(1, 1000, [0, 10, 20, 15], [0, 10, 20, 15], [10] * 4, [5] * 4, [100, 200, 300, 400],
                         [True, False, False, False])
    out = _dts_order([FramesParsed(columns=[video])], omap)
    assert isinstance(out[-1], ParseFailed) and out[-1].offset == 400
    assert "DTS 15 after 20" in out[-1].message
    # the same track continuing in a later column of the batch, earlier than where it stopped
    audio = FrameColumns(2, 1000, [0], [0], [10], [5], [500], [True])
    again = FrameColumns(1, 1000, [5], [5], [10], [5], [600], [True])
    ok = FrameColumns(1, 1000, [0, 10], [0, 10], [10, 10], [5, 5], [100, 200], [True, False])
    out = _dts_order([FramesParsed(columns=[ok, audio, again])], omap)
    assert isinstance(out[-1], ParseFailed) and out[-1].offset == 600 and "DTS 5 after 10" in out[-1].message
    # equal DTS is no step back
    same = FrameColumns(1, 1000, [10], [10], [10], [5], [700], [True])
    evs: list[ParserEvent] = [FramesParsed(columns=[ok, audio, same])]
    assert _dts_order(evs, omap) == evs
