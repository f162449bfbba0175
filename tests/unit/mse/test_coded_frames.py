"""Coded frame processing, removal and buffered, driven by synthetic frames in both profiles and modes."""

from __future__ import annotations

import math
from typing import Any

import pytest

from msetool.mse.events import DOMException
from msetool.stream import FramesParsed, MediaSegmentStarted, ParseFailed
from tests.unit.mse.dsl import append, fmt, frames, init_event, make, offset_ms, segment

PROFILES = ["chromium", "spec"]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("mode", ["segments", "sequence"])
def test_contiguous_appends_make_one_range(profile: str, mode: str) -> None:
    _, sb = make("video", profile=profile, mode=mode)
    append(sb, segment(frames("0K 25 50 75", dur=25)))
    append(sb, segment(frames("100K 125", dur=25)))
    assert fmt(sb) == "{ [0,150) }"


@pytest.mark.parametrize("profile", PROFILES)
def test_jump_beyond_fudge_room_is_a_gap(profile: str) -> None:
    _, sb = make("video", profile=profile)
    append(sb, segment(frames("0K 25 50 75", dur=25)))
    append(sb, segment(frames("500K 525", dur=25)))
    assert fmt(sb) == "{ [0,100) [500,550) }"


@pytest.mark.parametrize(
    ("profile", "expected"), [("chromium", "{ [0,156) }"), ("spec", "{ [0,66) [90,156) }")]
)
def test_small_gap_coalesced_by_chromium_fudge_room(profile: str, expected: str) -> None:
    # 24 ms hole < 2 x 33 ms max inter-buffer distance: Chromium keeps one range, the spec reports the hole
    _, sb = make("video", profile=profile)
    append(sb, segment(frames("0K 33")))
    append(sb, segment(frames("90K 123")))
    assert fmt(sb) == expected


@pytest.mark.parametrize("profile", PROFILES)
def test_discontinuity_needs_random_access_point(profile: str) -> None:
    _, sb = make("video", profile=profile)
    append(sb, segment(frames("0K 25 50", dur=25)))
    append(sb, segment(frames("200 225K 250", dur=25)))  # 200 depends on a keyframe we never got
    assert fmt(sb) == "{ [0,75) [225,275) }"
    assert any(w.kind == "needRandomAccessPoint" for w in sb.ms.warnings)


@pytest.mark.parametrize("profile", PROFILES)
def test_media_segment_starting_without_rap_after_init(profile: str) -> None:
    _, sb = make("video", profile=profile)
    append(sb, segment(frames("0 25 50K 75", dur=25)))
    assert fmt(sb) == "{ [50,100) }"
    assert any(w.kind == "segmentNotRap" for w in sb.ms.warnings)


@pytest.mark.parametrize("profile", PROFILES)
def test_video_append_window_drops_whole_frames(profile: str) -> None:
    _, sb = make("video", profile=profile)
    sb.set_append_window_end(0.140)
    sb.set_append_window_start(0.030)
    append(sb, segment(frames("0K 25 50K 75 100 125", dur=25)))
    # 0 and 25 start before the window; 50 is the next RAP; 125 ends at 150 > 140
    assert fmt(sb) == "{ [50,125) }"


@pytest.mark.parametrize(("profile", "expected"), [("chromium", "{ [30,70) }"), ("spec", "{ [40,60) }")])
def test_audio_append_window_trims_partial_frames_in_chromium(profile: str, expected: str) -> None:
    _, sb = make("audio", profile=profile)
    sb.set_append_window_end(0.070)
    sb.set_append_window_start(0.030)
    append(sb, segment(frames("0K 20K 40K 60K", dur=20)))
    assert fmt(sb) == expected


@pytest.mark.parametrize("profile", PROFILES)
def test_overlap_removes_up_to_next_rap(profile: str) -> None:
    _, sb = make("video", profile=profile)
    append(sb, segment(frames("0K 25 50 75K 100 125", dur=25)))
    append(sb, segment(frames("40K 65", dur=25)))
    # 50 and 75K start inside [40, 90); 100 and 125 depend on 75K and go too
    assert fmt(sb) == "{ [0,90) }"
    assert any(w.kind == "overlap" for w in sb.ms.warnings)


@pytest.mark.parametrize("profile", PROFILES)
def test_same_segment_twice_is_idempotent(profile: str) -> None:
    _, sb = make("video", profile=profile)
    seg = segment(frames("0K 25 50 75", dur=25))
    append(sb, seg)
    append(sb, seg)
    assert fmt(sb) == "{ [0,100) }"


@pytest.mark.parametrize("profile", PROFILES)
def test_audio_overlap_splices_tail(profile: str) -> None:
    _, sb = make("audio", profile=profile)
    append(sb, segment(frames("0K 20K 40K 60K", dur=20)))
    append(sb, segment(frames("50K 70K", dur=20)))
    assert fmt(sb) == "{ [0,90) }"


@pytest.mark.parametrize("profile", PROFILES)
def test_bframes_pts_dts(profile: str) -> None:
    _, sb = make("video", profile=profile)
    append(sb, segment(frames("0|0K 75|25 25|50 50|75 100|100K", dur=25)))
    assert fmt(sb) == "{ [0,125) }"


@pytest.mark.parametrize("profile", PROFILES)
def test_sequence_mode_lays_segments_end_to_end(profile: str) -> None:
    _, sb = make("video", profile=profile, mode="sequence")
    append(sb, segment(frames("100K 125", dur=25)))
    assert offset_ms(sb) == "-100"
    append(sb, segment(frames("0K 25", dur=25)))
    assert offset_ms(sb) == "50"
    assert fmt(sb) == "{ [0,100) }"


@pytest.mark.parametrize("profile", PROFILES)
def test_timestamp_offset_shifts_frames(profile: str) -> None:
    _, sb = make("video", profile=profile)
    sb.set_timestamp_offset(10)
    append(sb, segment(frames("0K 25", dur=25)))
    assert fmt(sb) == "{ [10000,10050) }"


@pytest.mark.parametrize("profile", PROFILES)
def test_generate_timestamps_advances_offset(profile: str) -> None:
    _, sb = make("audio", profile=profile, type_="audio/aac")
    sb.generate_timestamps = True
    sb.set_mode("sequence")
    append(sb, segment(frames("0K 20K 40K", dur=20)))
    append(sb, segment(frames("0K 20K", dur=20)))
    assert fmt(sb) == "{ [0,100) }"
    assert offset_ms(sb) == "100"
    with pytest.raises(DOMException) as e:
        sb.set_mode("segments")
    assert e.value.name == "TypeError"


@pytest.mark.parametrize("profile", PROFILES)
def test_muxed_buffered_is_intersection_and_ended_extends(profile: str) -> None:
    ms, sb = make("video", "audio", profile=profile)
    append(
        sb,
        segment(frames("0K 25 50 75", dur=25, track=1), frames("0K 20K 40K 60K 80K 100K", dur=20, track=2)),
    )
    assert fmt(sb) == "{ [0,100) }"
    ms.end_of_stream()
    assert ms.ready_state == "ended"
    assert fmt(sb) == "{ [0,120) }"
    assert ms.duration_js() == pytest.approx(0.12)


@pytest.mark.parametrize("profile", PROFILES)
def test_remove_extends_to_next_keyframe(profile: str) -> None:
    _ms, sb = make("video", profile=profile)
    append(sb, segment(frames("0K 25 50 75 100K 125 150 175 200K 225", dur=25)))
    sb.remove(0.060, 0.110)
    sb.run_pending()
    # frames starting in [60, 200) go: the removal end moves to the keyframe at 200
    assert fmt(sb) == "{ [0,75) [200,250) }"


@pytest.mark.parametrize("profile", PROFILES)
def test_remove_validation(profile: str) -> None:
    _ms, sb = make("video", profile=profile)
    append(sb, segment(frames("0K 25", dur=25)))
    for start, end in [(-1, 1), (1, 1), (math.nan, 1)]:
        with pytest.raises(DOMException) as e:
            sb.remove(start, end)
        assert e.value.name == "TypeError"


@pytest.mark.parametrize("profile", PROFILES)
def test_setters_throw_while_updating_and_abort_cancels_append(profile: str) -> None:
    ms, sb = make("video", profile=profile)
    sb.append_events(segment(frames("0K 25", dur=25)))
    assert sb.updating
    for call in (
        lambda: sb.set_timestamp_offset(1),
        lambda: sb.set_mode("sequence"),
        lambda: sb.set_append_window_start(1),
        lambda: sb.remove(0, 1),
    ):
        with pytest.raises(DOMException) as e:
            call()
        assert e.value.name == "InvalidStateError"
    sb.abort()
    assert not sb.updating
    assert [e.type for e in ms.events][-2:] == ["abort", "updateend"]
    assert fmt(sb) == "{ }"


@pytest.mark.parametrize("profile", PROFILES)
def test_abort_resets_append_window(profile: str) -> None:
    _, sb = make("video", profile=profile)
    sb.set_append_window_end(5)
    sb.set_append_window_start(1)
    sb.abort()
    assert (sb.aws_js, sb.awe_js) == (0.0, math.inf)


@pytest.mark.parametrize("profile", PROFILES)
def test_media_segment_before_init_closes_media_source(profile: str) -> None:
    ms, sb = make("video", profile=profile, init=False)
    append(sb, segment(frames("0K 25", dur=25)))
    assert ms.ready_state == "closed"
    assert sb.removed
    assert ms.last_append_error is not None and ms.last_append_error.rule == "GEN-11"
    with pytest.raises(DOMException) as e:
        sb.append_events(segment(frames("0K", dur=25)))
    assert e.value.name == "InvalidStateError"


@pytest.mark.parametrize("profile", PROFILES)
def test_parse_failure_after_metadata_ends_with_decode_error(profile: str) -> None:
    ms, sb = make("video", profile=profile)
    append(sb, segment(frames("0K 25", dur=25)))
    append(sb, [MediaSegmentStarted(0), ParseFailed("bad box", 10, "moof/traf")])
    assert ms.ready_state == "ended"
    assert ms.element_error is not None and ms.element_error[0] == 3
    assert fmt(sb) == "{ [0,50) }"  # an append error does not mark the demuxer ended
    with pytest.raises(DOMException) as e:
        sb.append_events(segment(frames("50K", dur=25)))
    assert e.value.name == "InvalidStateError"
    with pytest.raises(DOMException):
        ms.end_of_stream()


def test_chromium_rejects_decreasing_dts_in_one_batch() -> None:
    ms, sb = make("video", "audio", profile="chromium")
    bad = (
        frames("0K 25 50", dur=25, track=1)
        + frames("0K 20K", dur=20, track=2)
        + frames("10K", dur=25, track=1)
    )
    append(sb, [MediaSegmentStarted(0), FramesParsed(bad)])
    assert ms.last_append_error is not None
    assert ms.last_append_error.message == "Parsed buffers not in DTS sequence"


@pytest.mark.parametrize("profile", PROFILES)
def test_duration_setter(profile: str) -> None:
    ms, sb = make("video", profile=profile)
    append(sb, segment(frames("0K 25 50 75", dur=25)))
    with pytest.raises(DOMException) as e:
        ms.set_duration(0.050)  # below the highest buffered presentation timestamp (75 ms)
    assert e.value.name == "InvalidStateError"
    with pytest.raises(DOMException) as e:
        ms.set_duration(-1)
    assert e.value.name == "TypeError"
    ms.set_duration(0.090)
    # spec: never below the highest end (100 ms); Chromium keeps 90 ms and clips buffered
    assert ms.duration_js() == pytest.approx(0.090 if profile == "chromium" else 0.1)
    assert fmt(sb) == ("{ [0,90) }" if profile == "chromium" else "{ [0,100) }")


@pytest.mark.parametrize("profile", PROFILES)
def test_duration_grows_with_appends(profile: str) -> None:
    ms, sb = make("video", profile=profile)
    ms.set_duration(0.05)
    append(sb, segment(frames("0K 25 50 75", dur=25)))
    assert ms.duration_js() == pytest.approx(0.1)


def test_chromium_codec_mismatch_fails_init() -> None:
    from msetool.mime import parse_mime
    from msetool.mse.media_source import MediaSource
    from msetool.mse.source_buffer import SourceBuffer

    ms = MediaSource("chromium")
    sb = SourceBuffer(ms, "sb0", parse_mime('video/mp4; codecs="vp09.00.10.08"'), None, ("vp9",))
    ms.source_buffers.append(sb)
    append(sb, [init_event("video")])
    assert ms.last_append_error is not None
    assert ms.last_append_error.message == "Video stream codec h264 doesn't match SourceBuffer codecs."
    assert ms.ready_state == "closed"


def test_spec_track_count_must_match_first_init() -> None:
    ms, sb = make("video", profile="spec")
    append(sb, [init_event("video", "audio")])
    assert ms.last_append_error is not None and ms.last_append_error.rule == "GEN-04"


@pytest.mark.parametrize("profile", PROFILES)
def test_quota_exceeded(profile: str) -> None:
    _ms, sb = make("video", profile=profile)
    big = [
        f.__class__(**{**{s: getattr(f, s) for s in f.__slots__}, "size": 100 * 1024 * 1024})
        for f in frames("0K", dur=25)
    ]
    append(sb, segment(big))
    with pytest.raises(DOMException) as e:
        sb.append_events(
            segment(
                [
                    f.__class__(**{**{s: getattr(f, s) for s in f.__slots__}, "pts": 25, "dts": 25})
                    for f in big
                ]
            )
        )
    assert e.value.name == "QuotaExceededError"


@pytest.mark.parametrize("profile", PROFILES)
def test_end_of_stream_then_append_reopens(profile: str) -> None:
    ms, sb = make("video", profile=profile)
    append(sb, segment(frames("0K 25", dur=25)))
    ms.end_of_stream()
    append(sb, segment(frames("50K 75", dur=25)))
    assert ms.ready_state == "open"
    assert "sourceopen" in [e.type for e in ms.events]
    assert ms.duration_js() == pytest.approx(0.1)


def test_chromium_refines_estimated_video_duration_from_next_append() -> None:
    _, sb = make("video", profile="chromium")
    append(sb, segment(frames("0K 25 50E:40", dur=25)))
    assert fmt(sb) == "{ [0,90) }"  # the estimate counts until something follows
    append(sb, segment(frames("75K", dur=25)))
    sb.remove(0.075, math.inf)
    sb.run_pending()
    assert fmt(sb) == "{ [0,75) }"  # the estimated frame now ends where the next one started


class _HoldingParser:
    """A parser that holds every frame back until it is reset, like Chromium's MP2T parser on abort()."""

    generate_timestamps = False
    in_media_segment = False

    def __init__(self, held: list[Any]) -> None:
        self.held = held
        self.reset_events: list[Any] = []

    def feed(self, data: bytes) -> list[Any]:
        return [init_event("video"), MediaSegmentStarted(0)] if data == b"init" else []

    def reset(self) -> None:
        self.reset_events, self.held = self.held, []

    def take_reset_events(self) -> list[Any]:
        out, self.reset_events = self.reset_events, []
        return out

    def flush(self) -> list[Any]:
        return []


@pytest.mark.parametrize("profile", PROFILES)
def test_abort_processes_frames_the_parser_completes_on_reset(profile: str) -> None:
    from msetool.mime import parse_mime
    from msetool.mse.media_source import MediaSource
    from msetool.mse.source_buffer import SourceBuffer

    ms = MediaSource(profile)
    parser = _HoldingParser([FramesParsed(frames("0K 25 50", dur=25))])
    sb = SourceBuffer(ms, "sb0", parse_mime("video/mp2t"), parser, ())  # type: ignore[arg-type]
    ms.source_buffers.append(sb)
    for data in (b"init", b"pes"):
        sb.append_buffer(data)
        sb.run_pending()
    assert fmt(sb) == "{ }"
    sb.abort()  # reset parser state step 1: complete frames are processed first
    assert fmt(sb) == "{ [0,75) }"


def test_chromium_dts_ties_across_tracks_put_audio_first() -> None:
    """MergeBufferQueues takes audio queues first: a video frame sharing the audio frame's DTS comes after
    it, so the group starts at the audio PTS and the video range (B-frames, first PTS 80) starts at 0."""
    _, sb = make("video", "audio", profile="chromium")
    video = frames("80|0K 160|40 120|80 240|120K 200|160", dur=40, track=1)
    audio = frames(" ".join(str(t) for t in range(0, 240, 20)), dur=20, track=2)
    append(sb, segment(video, audio))
    assert fmt(sb) == "{ [0,240) }"


def test_chromium_counts_decoder_buffer_overhead_per_frame() -> None:
    """SourceBufferRange counts DecoderBuffer::GetMemoryUsage(): data + sizeof(DecoderBuffer), and AAC from
    MP4 carries a prepended 7-byte ADTS header; eviction and QuotaExceededError see that size."""
    _, sb = make("video", "audio", profile="chromium")
    append(sb, segment(frames("0K 40", dur=40, track=1), frames("0K 20K 40K 60K", dur=20, track=2)))
    video, audio = sb.tracks[1], sb.tracks[2]
    assert video.memory() == 2 * (100 + 104)
    assert audio.memory() == 4 * (100 + 104 + 7)
