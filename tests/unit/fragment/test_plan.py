"""plan.py: options + probed input -> ffmpeg argv. Pure, so every Chromium-driven choice is asserted here."""

from __future__ import annotations

from pathlib import Path

import pytest

from msetool.errors import UsageError
from msetool.fragment.plan import (
    DEFAULT_LADDER,
    FragmentOptions,
    Rendition,
    build_plan,
    parse_rendition,
)
from msetool.fragment.probe import MediaInfo, StreamInfo

V = StreamInfo(0, "video", "h264", "High", 1280, 720, 30.0)
A = StreamInfo(1, "audio", "aac", "LC", sample_rate=44100, channels="stereo")
AV = MediaInfo("in.mp4", "mov,mp4", 10.0, 0.0, (V, A))
WORK = Path("/tmp/work")


def opts(**kw: object) -> FragmentOptions:
    return FragmentOptions(input=Path("in.mp4"), output=Path("out"), **kw)  # type: ignore[arg-type]


def value(argv: list[str], flag: str) -> str:
    assert flag in argv, f"{flag} not in {argv}"
    return argv[argv.index(flag) + 1]


def values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("1280x720@3000k", Rendition(1280, 720, 3000)), (" 640 x 360 @ 800k ", Rendition(640, 360, 800)),
     ("1920x1080@6M", Rendition(1920, 1080, 6000)), ("320x180@300", Rendition(320, 180, 300))],
)
def test_parse_rendition(spec: str, expected: Rendition) -> None:
    assert parse_rendition(spec) == expected


@pytest.mark.parametrize("spec", ["720p", "1280x720", "1280x@3000k", "1281x720@3000k", "8x8@100k",
                                  "1280x720@0k", "axb@ck", ""])
def test_bad_rendition_is_a_usage_error(spec: str) -> None:
    with pytest.raises(UsageError, match="rendition"):
        parse_rendition(spec)


def test_default_uses_dash_muxer_one_track_per_output_with_forced_keyframes() -> None:
    plan = build_plan(opts(), AV, WORK, "ffmpeg")
    argv = plan.argv
    assert argv[0] == "ffmpeg"
    assert value(argv, "-f") == "dash"
    assert value(argv, "-seg_duration") == "2"
    assert value(argv, "-adaptation_sets") == "id=0,streams=v id=1,streams=a"
    assert value(argv, "-force_key_frames:v:0") == "expr:gte(t,n_forced*2)"
    assert value(argv, "-g:v:0") == "60"  # 2 s at 30 fps: the GOP is the segment
    assert value(argv, "-sc_threshold:v:0") == "0"  # no scene-cut keyframes between boundaries
    assert value(argv, "-c:v:0") == "libx264"
    assert value(argv, "-c:a:0") == "aac"
    assert "aresample=async=1:first_pts=0" in value(argv, "-filter:a:0")
    assert values(argv, "-map") == ["0:0", "0:1"]
    assert value(argv, "-progress") == "pipe:1"
    assert str(WORK / "ffmpeg.mpd") in argv
    tracks = [(t.id, t.kind, t.representation) for t in plan.tracks]
    assert tracks == [("video", "video", 0), ("audio", "audio", 1)]


def test_segment_duration_changes_boundaries_everywhere() -> None:
    argv = build_plan(opts(segment_duration=4.0), AV, WORK).argv
    assert value(argv, "-seg_duration") == "4"
    assert value(argv, "-g:v:0") == "120"
    assert value(argv, "-force_key_frames:v:0") == "expr:gte(t,n_forced*4)"


def test_renditions_share_keyframe_boundaries() -> None:
    r = (Rendition(1280, 720, 3000), Rendition(640, 360, 800))
    plan = build_plan(opts(renditions=r), AV, WORK)
    argv = plan.argv
    graph = value(argv, "-filter_complex")
    assert "split=2" in graph and "scale=1280:720" in graph and "scale=640:360" in graph
    assert value(argv, "-force_key_frames:v:0") == value(argv, "-force_key_frames:v:1")
    assert value(argv, "-g:v:0") == value(argv, "-g:v:1")
    assert value(argv, "-b:v:0") == "3000k" and value(argv, "-b:v:1") == "800k"
    assert [t.id for t in plan.tracks] == ["video-720p", "video-360p", "audio"]
    assert value(argv, "-adaptation_sets") == "id=0,streams=v id=1,streams=a"


def test_ladder_drops_rungs_above_the_source() -> None:
    small = MediaInfo("in.mp4", "mov", 10.0, 0.0, (StreamInfo(0, "video", "h264", width=640, height=360,
                                                              fps=25.0), A))
    plan = build_plan(opts(ladder=True), small, WORK)
    assert [t.rendition for t in plan.tracks if t.kind == "video"] == [DEFAULT_LADDER[-1]]
    plan = build_plan(opts(ladder=True), AV, WORK)
    assert len([t for t in plan.tracks if t.kind == "video"]) == len(DEFAULT_LADDER)


def test_copy_keeps_streams_and_repairs_adts_aac() -> None:
    argv = build_plan(opts(copy=True), AV, WORK).argv
    assert value(argv, "-c:v:0") == "copy" and value(argv, "-c:a:0") == "copy"
    assert value(argv, "-bsf:a:0") == "aac_adtstoasc"  # MPEG-TS/ADTS sources still get an ASC in esds
    assert value(argv, "-tag:v:0") == "avc1" and value(argv, "-tag:a:0") == "mp4a"
    assert "-force_key_frames:v:0" not in argv and "-filter_complex" not in argv


def test_copy_refuses_codecs_mse_mp4_cannot_carry() -> None:
    v = StreamInfo(0, "video", "mpeg2video", width=720, height=576)
    mpeg2 = MediaInfo("in.ts", "mpegts", 10.0, 0.0, (v,))
    with pytest.raises(UsageError, match="mpeg2video"):
        build_plan(opts(copy=True), mpeg2, WORK)
    mp2 = MediaInfo("in.ts", "mpegts", 10.0, 0.0, (V, StreamInfo(1, "audio", "mp2", sample_rate=48000)))
    with pytest.raises(UsageError, match="mp2"):
        build_plan(opts(copy=True), mp2, WORK)


def test_copy_and_renditions_conflict() -> None:
    with pytest.raises(UsageError, match="--copy"):
        build_plan(opts(copy=True, renditions=(Rendition(640, 360, 800),)), AV, WORK)


def test_muxed_uses_default_base_is_moof_and_one_output_per_rendition() -> None:
    r = (Rendition(1280, 720, 3000), Rendition(640, 360, 800))
    plan = build_plan(opts(muxed=True, renditions=r), AV, WORK)
    argv = plan.argv
    assert plan.container == "mp4"
    flags = values(argv, "-movflags")
    assert len(flags) == 2 and all("default_base_moof" in f and "frag_keyframe" in f for f in flags)
    assert [t.muxed_file for t in plan.tracks] == ["muxed-720p.mp4", "muxed-360p.mp4"]
    # each output re-numbers its own video stream from 0
    assert values(argv, "-b:v:0") == ["3000k", "800k"]


def test_audio_only_and_video_only() -> None:
    audio = MediaInfo("a.m4a", "mov", 5.0, 0.0, (A,))
    plan = build_plan(opts(), audio, WORK)
    assert [t.id for t in plan.tracks] == ["audio"]
    assert value(plan.argv, "-adaptation_sets") == "id=0,streams=a"
    video = MediaInfo("v.mp4", "mov", 5.0, 0.0, (V,))
    plan = build_plan(opts(muxed=True), video, WORK)
    assert plan.container == "dash" and [t.id for t in plan.tracks] == ["video"]
    with pytest.raises(UsageError, match="no video"):
        build_plan(opts(renditions=(Rendition(640, 360, 800),)), audio, WORK)


def test_codec_choices() -> None:
    argv = build_plan(opts(video_codec="vp9", audio_codec="opus"), AV, WORK).argv
    assert value(argv, "-c:v:0") == "libvpx-vp9" and value(argv, "-c:a:0") == "libopus"
    assert value(argv, "-ar:a:0") == "48000"  # Opus runs at 48 kHz
    assert value(build_plan(opts(video_codec="av1"), AV, WORK).argv, "-c:v:0") == "libsvtav1"
    with pytest.raises(UsageError, match="unsupported video codec"):
        build_plan(opts(video_codec="mpeg4"), AV, WORK)


@pytest.mark.parametrize("seconds", [0.0, 0.1, 61.0, float("nan")])
def test_bad_segment_duration(seconds: float) -> None:
    with pytest.raises(UsageError, match="segment-duration"):
        build_plan(opts(segment_duration=seconds), AV, WORK)


def test_nothing_to_package() -> None:
    subs = MediaInfo("s.mkv", "matroska", 5.0, 0.0, (StreamInfo(0, "subtitle", "ass"),))
    with pytest.raises(UsageError, match="no audio or video"):
        build_plan(opts(), subs, WORK)


def test_odd_source_size_is_cropped_to_even() -> None:
    v = StreamInfo(0, "video", "h264", width=321, height=181, fps=30.0)
    odd = MediaInfo("in.mp4", "mov", 5.0, 0.0, (v,))
    assert "crop=trunc(iw/2)*2:trunc(ih/2)*2" in value(build_plan(opts(), odd, WORK).argv, "-filter_complex")
    assert "-filter_complex" not in build_plan(opts(), AV, WORK).argv
