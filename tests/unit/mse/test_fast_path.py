"""The Chromium profile's bulk path must give exactly what the per-frame frame processor gives."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.model import CodedFrame
from msetool.mse.source_buffer import SourceBuffer
from tests.unit.mse.dsl import append, make, segment


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


def _run(segs: list[list[CodedFrame]], aws: float, offset: float, fast: bool) -> Any:
    ms, sb = make("video", "audio", profile="chromium")
    sb.fast_path = fast
    if aws:
        sb.set_append_window_start(aws)
    if offset:
        sb.set_timestamp_offset(offset)
    for seg in segs:
        append(sb, segment(seg))
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


def test_fast_path_flag_defaults_on() -> None:
    assert SourceBuffer.fast_path is True
