"""Cross-segment rules, from segments built byte by byte and from hand-made models."""

from __future__ import annotations

from msetool.model import InitSegment, TrackInfo
from msetool.rules import timeline
from msetool.rules.engine import SegmentRecord, StreamModel, TrackSpan, ValidateOptions
from msetool.rules.findings import Severity
from tests.unit.rules import fmp4

from .conftest import RunValidation

INIT = fmp4.init()  # timescale 1000, 3 samples of 40 ticks per fragment -> 120 ms fragments


def by_rule(v: object, rule: str) -> list[object]:
    return [f for f in v.findings if f.rule == rule]  # type: ignore[attr-defined]


def test_contiguous_fragments_have_no_timeline_findings(run: RunValidation) -> None:
    v = run([INIT, fmp4.fragment(decode_time=0), fmp4.fragment(decode_time=120, sequence=2)])
    assert not [f for f in v.findings if f.rule.startswith("GEN-TIME")]


def test_gap_in_ms_and_frames(run: RunValidation) -> None:
    v = run([INIT, fmp4.fragment(decode_time=0), fmp4.fragment(decode_time=200, sequence=2)])
    (gap,) = by_rule(v, "GEN-TIME-01")
    assert gap.file == "part2.m4s"  # type: ignore[attr-defined]
    assert "80 ms, 2 frames" in gap.message  # type: ignore[attr-defined]
    assert gap.severity == Severity.WARNING  # type: ignore[attr-defined]


def test_tiny_gap_is_info(run: RunValidation) -> None:
    v = run([INIT, fmp4.fragment(decode_time=0), fmp4.fragment(decode_time=121, sequence=2)])
    (gap,) = by_rule(v, "GEN-TIME-01")
    assert gap.severity == Severity.INFO  # type: ignore[attr-defined]


def test_overlap_and_out_of_order(run: RunValidation) -> None:
    v = run([INIT, fmp4.fragment(decode_time=0), fmp4.fragment(decode_time=80, sequence=2)])
    assert "40 ms, 1 frame" in by_rule(v, "GEN-TIME-02")[0].message  # type: ignore[attr-defined]
    v = run([INIT, fmp4.fragment(decode_time=240), fmp4.fragment(decode_time=0, sequence=2)])
    assert by_rule(v, "GEN-TIME-03")


def test_segment_not_starting_on_a_keyframe(run: RunValidation) -> None:
    v = run([INIT, fmp4.fragment(flags=(fmp4.NONKEY, fmp4.KEY, fmp4.NONKEY))])
    assert by_rule(v, "GEN-RAP-01")
    v = run([INIT, fmp4.fragment()])
    assert not by_rule(v, "GEN-RAP-01")


def test_codec_change_needs_change_type(run: RunValidation) -> None:
    audio_init = fmp4.init([fmp4.trak(handler="soun", timescale=48000)])
    v = run([INIT, fmp4.fragment(), audio_init], mime=None)
    assert by_rule(v, "GEN-04")  # video -> audio: the track layout changed


def test_same_codec_reinit_is_clean(run: RunValidation) -> None:
    v = run([INIT, fmp4.fragment(), INIT, fmp4.fragment(decode_time=120, sequence=2)])
    assert not [f for f in v.findings if f.severity != Severity.INFO]


def _model(spans: list[tuple[int, int, int, int]]) -> StreamModel:
    """(audio start, audio end, video start, video end) in ms per segment."""
    init = InitSegment(
        "mp4", (TrackInfo(1, "video", "avc1.4D400D", 1000), TrackInfo(2, "audio", "mp4a.40.2", 1000))
    )
    m = StreamModel()
    for i, (a0, a1, v0, v1) in enumerate(spans):
        seg = SegmentRecord(i, f"s{i}", 0, "moof", 0, init)
        seg.tracks[1] = TrackSpan(
            1,
            1000,
            count=1,
            first_dts=v0,
            first_pts=v0,
            min_pts=v0,
            end_dts=v1,
            max_end_pts=v1,
            first_keyframe=True,
            last_duration=v1 - v0,
            max_duration=40,
        )
        seg.tracks[2] = TrackSpan(
            2,
            1000,
            count=1,
            first_dts=a0,
            first_pts=a0,
            min_pts=a0,
            end_dts=a1,
            max_end_pts=a1,
            first_keyframe=True,
            last_duration=a1 - a0,
            max_duration=21,
        )
        m.segments.append(seg)
    return m


def test_av_start_offset_and_drift() -> None:
    out = timeline.check(_model([(300, 2300, 0, 2000), (2300, 4300, 2000, 4000)]), ValidateOptions())
    assert [f.rule for f in out if f.rule == "GEN-TIME-04"] == ["GEN-TIME-04"]
    drift = timeline.check(
        _model([(0, 2000, 0, 2000), (2000, 4100, 2000, 4000), (4100, 6400, 4000, 6000)]), ValidateOptions()
    )
    hits = [f for f in drift if f.rule == "GEN-TIME-05"]
    assert len(hits) == 1 and hits[0].file == "s2"
    steady = timeline.check(_model([(0, 2010, 0, 2000), (2010, 4005, 2000, 4000)]), ValidateOptions())
    assert not [f for f in steady if f.rule in ("GEN-TIME-04", "GEN-TIME-05")]


def test_duration_spread_against_target() -> None:
    m = _model(
        [(0, 2000, 0, 2000), (2000, 4000, 2000, 4000), (4000, 9000, 4000, 9000), (9000, 10000, 9000, 10000)]
    )
    out = [f for f in timeline.check(m, ValidateOptions(target_duration=2.0)) if f.rule == "GEN-TIME-06"]
    assert [f.file for f in out] == ["s2"]  # the last, shorter segment is fine
    assert out[0].severity == Severity.WARNING


def test_separate_audio_and_video_streams_are_compared() -> None:
    def one(kind: str, start: int, end: int) -> StreamModel:
        init = InitSegment(
            "mp4", (TrackInfo(1, kind, "avc1.4D400D" if kind == "video" else "mp4a.40.2", 1000),)
        )  # type: ignore[arg-type]
        m = StreamModel()
        seg = SegmentRecord(0, f"{kind}.m4s", 0, "moof", 0, init)
        seg.tracks[1] = TrackSpan(
            1,
            1000,
            count=1,
            first_dts=start,
            first_pts=start,
            min_pts=start,
            end_dts=end,
            max_end_pts=end,
            first_keyframe=True,
            max_duration=20,
        )
        m.segments.append(seg)
        return m

    out = timeline.check_pair([one("video", 0, 10000), one("audio", 500, 9000)])
    assert sorted(f.rule for f in out) == ["GEN-TIME-04", "GEN-TIME-05"]
    assert all(f.file == "audio.m4s" for f in out)
    assert timeline.check_pair([one("video", 0, 10000), one("audio", 20, 10010)]) == []
