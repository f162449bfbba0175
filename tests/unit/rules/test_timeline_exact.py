"""The A/V start offset and drift rules decide with exact rationals, whatever the timescales.

timeline.py compares in integers (no Fraction per segment); these tests state the rules with Fractions,
straight from their definitions, and require the same decisions on random spans, with mixed timescales
and values around the 100 ms / 200 ms / 500 ms thresholds.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.model import InitSegment, TrackInfo
from msetool.rules import timeline
from msetool.rules.engine import SegmentRecord, StreamModel, TrackSpan, ValidateOptions

_TIMESCALES = st.sampled_from([1, 1000, 44100, 48000, 90000, 15360, 30000])


def _span(tid: int, ts: int, min_pts: int, end: int) -> TrackSpan:
    return TrackSpan(tid, ts, count=1, first_dts=min_pts, first_pts=min_pts, min_pts=min_pts, end_dts=end,
                     max_end_pts=end, first_keyframe=True, keyframes=1, last_duration=1, total_duration=1,
                     max_duration=1)


@st.composite
def _av_model(draw: st.DrawFn, audio: bool = True, video: bool = True) -> StreamModel:
    tracks = []
    if video:
        tracks.append(TrackInfo(1, "video", "avc1.64001F", 90000))
    if audio:
        tracks.append(TrackInfo(2, "audio", "mp4a.40.2", 48000))
    init = InitSegment("mp4", tuple(tracks))
    model = StreamModel()
    for i in range(draw(st.integers(1, 6))):
        seg = SegmentRecord(i, f"seg{i}.m4s", 0, f"moof[{i}]", 0, init)
        for tid in [t.track_id for t in tracks]:
            ts = draw(_TIMESCALES)
            start = draw(st.integers(-3 * ts, 3 * ts))
            # ends near 1/10, 1/5, 1/2 s steps so the thresholds are hit exactly and missed by one tick
            end = start + draw(st.integers(0, 4)) * ts // 10 + draw(st.integers(-1, 1))
            seg.tracks[tid] = _span(tid, ts, start, end)
        model.segments.append(seg)
    return model


def _reference_sync(model: StreamModel) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    first_gap: Fraction | None = None
    for seg in model.segments:
        v, a = seg.tracks[1], seg.tracks[2]
        a_end, v_end = Fraction(a.max_end_pts, a.timescale), Fraction(v.max_end_pts, v.timescale)
        if first_gap is None:
            offset = Fraction(a.min_pts, a.timescale) - Fraction(v.min_pts, v.timescale)
            first_gap = a_end - v_end
            if abs(offset) > Fraction(1, 10):
                out.append(("GEN-TIME-04", seg.file))
            continue
        if abs((a_end - v_end) - first_gap) > Fraction(1, 5):
            out.append(("GEN-TIME-05", seg.file))
            break
    return out


@settings(derandomize=True, max_examples=300, deadline=None)
@given(model=_av_model())
def test_offset_and_drift_decisions_are_exact(model: StreamModel) -> None:
    got = [(f.rule, f.file) for f in timeline.check(model, ValidateOptions())
           if f.rule in ("GEN-TIME-04", "GEN-TIME-05")]
    assert got == _reference_sync(model)


def _reference_extent(model: StreamModel, tid: int) -> tuple[Fraction, Fraction, str, str]:
    spans = [(seg, seg.tracks[tid]) for seg in model.segments]
    starts = [Fraction(sp.min_pts, sp.timescale) for _, sp in spans]
    ends = [Fraction(sp.max_end_pts, sp.timescale) for _, sp in spans]
    first = spans[starts.index(min(starts))][0]  # the first segment holding the minimum
    last = spans[ends.index(max(ends))][0]
    return min(starts), max(ends), first.file, last.file


@settings(derandomize=True, max_examples=200, deadline=None)
@given(video=_av_model(audio=False), audio=_av_model(video=False))
def test_cross_stream_extents_are_exact(video: StreamModel, audio: StreamModel) -> None:
    v = timeline._kind_extent(video, "video")
    a = timeline._kind_extent(audio, "audio")
    assert v is not None and a is not None
    assert (v[0], v[1], v[2].file, v[3].file) == _reference_extent(video, 1)
    assert (a[0], a[1], a[2].file, a[3].file) == _reference_extent(audio, 2)
    rules = [f.rule for f in timeline.check_pair([video, audio])]
    offset = a[0] - v[0]
    expected = ["GEN-TIME-04"] if abs(offset) > Fraction(1, 10) else []
    expected += ["GEN-TIME-05"] if abs((a[1] - v[1]) - offset) > Fraction(1, 2) else []
    assert rules == expected
