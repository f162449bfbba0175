"""The Chromium profile's bulk path must give exactly what the per-frame frame processor gives."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.model import CodedFrame
from msetool.mse.source_buffer import SourceBuffer
from msetool.stream import FrameColumns, FramesParsed, MediaSegmentEnded, MediaSegmentStarted, ParserEvent
from tests.unit.mse.dsl import append, make, segment

#: how a reader might hold its columns (plain lists, tuples, typed arrays)
Store = Callable[[Sequence[int]], Sequence[int]]
STORES: dict[str, Store] = {"list": list, "tuple": tuple, "array": lambda xs: array("q", xs)}


def _segments(draw: Any) -> list[list[CodedFrame]]:
    segs = []
    t = 0
    for _ in range(draw(st.integers(1, 6))):
        t += draw(st.sampled_from([0, 0, 0, 20, -60, 200]))  # mostly contiguous, sometimes a gap or overlap
        t = max(t, 0)
        n = draw(st.integers(1, 8))
        durs = draw(st.lists(st.sampled_from([20, 20, 25, 0]), min_size=n, max_size=n))
        v, a = [], []
        vt = t
        for i, d in enumerate(durs):
            key = i == 0 or draw(st.booleans())
            v.append(CodedFrame(1, vt, vt, d, 1000, key, 10))
            a.append(CodedFrame(2, vt, vt, 20, 1000, True, 5))
            vt += d or 20
        segs.append(v + a)
        t = vt
    return segs


@st.composite
def scenario(draw: Any) -> tuple[list[list[CodedFrame]], float, float]:
    return _segments(draw), draw(st.sampled_from([0, 0, 0.03])), draw(st.sampled_from([0.0, 0, 1.5]))


def columnar(frames: list[CodedFrame], store: Store) -> list[ParserEvent]:
    """The same segment as a columnar parser would emit it: one FrameColumns per run of a track."""
    runs = FramesParsed(frames).columns
    cols = [
        FrameColumns(c.track_id, c.timescale, store(c.dts), store(c.pts), store(c.duration), store(c.size),
                     store(c.offset), tuple(c.keyframe), c.decode_errors, c.estimated)
        for c in runs
    ]
    return [MediaSegmentStarted(0), FramesParsed(columns=cols), MediaSegmentEnded(0)]


def _run(
    segs: list[list[CodedFrame]], aws: float, offset: float, fast: bool, store: str | None = None
) -> Any:
    ms, sb = make("video", "audio", profile="chromium")
    sb.fast_path = fast
    if aws:
        sb.set_append_window_start(aws)
    if offset:
        sb.set_timestamp_offset(offset)
    for seg in segs:
        append(sb, segment(seg) if store is None else columnar(seg, STORES[store]))
    streams = [
        [(r.start(), r.buffered_end(), list(r.frames), list(r.kpts)) for r in sb.tracks[t].stream.ranges]  # type: ignore[union-attr]
        for t in sb.track_order
    ]
    tbs = [(t.last_dts, t.last_dur, t.highest_end, t.need_rap) for t in sb.tracks.values()]
    return streams, tbs, sb.group_end, ms.duration, list(sb.buffered())


@settings(max_examples=150, deadline=None)
@given(scenario())
def test_bulk_path_equals_frame_by_frame(sc: tuple[list[list[CodedFrame]], float, float]) -> None:
    segs, aws, offset = sc
    assert _run(segs, aws, offset, True) == _run(segs, aws, offset, False)


@settings(max_examples=100, deadline=None)
@given(scenario(), st.sampled_from(sorted(STORES)))
def test_columnar_batches_equal_frame_by_frame(
    sc: tuple[list[list[CodedFrame]], float, float], store: str
) -> None:
    """Batches handed over as columns (what the BMFF reader emits) take the bulk path without frame
    objects and must leave what frame objects through the per-frame processor leave."""
    segs, aws, offset = sc
    assert _run(segs, aws, offset, True, store) == _run(segs, aws, offset, False)


class _NoObjects(FrameColumns):
    """Columns that refuse to become frame objects."""

    def frames(self) -> list[CodedFrame]:
        raise AssertionError("a steady batch must not build frame objects")


def test_steady_columnar_batch_builds_no_frame_objects() -> None:
    ms, sb = make("video", "audio", profile="chromium")
    for n in range(3):  # the first segment starts a coded frame group (per-frame path), the rest continue it
        t = [n * 100 + 20 * i for i in range(5)]
        video = FrameColumns(1, 1000, t, t, [20] * 5, [10] * 5, [0] * 5, [i == 0 for i in range(5)])
        audio = FrameColumns(2, 1000, t, t, [20] * 5, [5] * 5, [0] * 5, [True] * 5)
        cls = FrameColumns if n == 0 else _NoObjects
        cols = [cls(*(getattr(c, f) for f in FrameColumns.__match_args__)) for c in (video, audio)]
        append(sb, [MediaSegmentStarted(0), FramesParsed(columns=cols), MediaSegmentEnded(0)])
    assert ms.last_append_error is None
    assert [(r.start(), r.buffered_end()) for r in sb.tracks[1].stream.ranges] == [(0, 300_000)]  # type: ignore[union-attr]
    assert list(sb.buffered()) == [(0, sb.profile.from_js(0.3))]


def test_fast_path_flag_defaults_on() -> None:
    assert SourceBuffer.fast_path is True
