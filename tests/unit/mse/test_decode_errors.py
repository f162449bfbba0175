"""Decode errors: frames or decoder configurations a reader marks undecodable (``decode_error``).

The append succeeds; the media element errors only where the paused element's pipeline decodes: from the
start of each track's first range (if it starts within 1 s of 0) until it has PREROLL of it.
"""

from __future__ import annotations

import pytest

from msetool.model import CodedFrame, InitSegment, TrackInfo
from msetool.mse.events import DOMException
from msetool.mse.media_source import MediaSource
from msetool.stream import InitSegmentParsed
from tests.unit.mse.dsl import append, fmt, frames, make, segment

PROFILES = ["chromium", "spec"]


def bad(text: str, track: int = 1, dur: float = 33) -> list[CodedFrame]:
    return [f.replace(decode_error="reads other bytes") for f in frames(text, track, dur)]


def element_error(ms: MediaSource) -> tuple[int, str] | None:
    return ms.element_error


@pytest.mark.parametrize("profile", PROFILES)
def test_undecodable_first_frame_errors_the_element_after_the_append(profile: str) -> None:
    ms, sb = make("video", "audio", profile=profile)
    ms.events.clear()
    append(sb, segment(frames("0K 40 80K", dur=40, track=1), bad("0K 20K 40K 60K 80K 100K", dur=20, track=2)))
    # the append itself succeeded: no error event on the SourceBuffer, the element errors after updateend
    assert [e.type for e in ms.events][-2:] == ["updateend", "error"]
    assert ms.element_error is not None and ms.element_error[0] == 3
    assert "Failed to send audio packet for decoding: {timestamp=0 " in ms.element_error[1]
    assert ms.ready_state == "open" and fmt(sb) == "{ [0,120) }"
    with pytest.raises(DOMException) as e:
        sb.append_events(segment(frames("120K", dur=40, track=1)))
    assert e.value.name == "InvalidStateError"
    # every other call behaves as usual (measured in Chromium 156)
    sb.set_timestamp_offset(1)
    sb.abort()
    sb.remove(0, 0.05)
    sb.run_pending()
    ms.set_duration(3)
    ms.end_of_stream()
    assert ms.ready_state == "ended"


def test_chromium_end_of_stream_after_a_decode_error_keeps_duration() -> None:
    ms, sb = make("video", "audio", profile="chromium")
    append(sb, segment(frames("0K 40 80K", dur=40, track=1), bad("0K 20K 40K 60K 80K 100K", dur=20, track=2)))
    ms.events.clear()
    ms.end_of_stream()  # the demuxer is shut down: MarkEndOfStream returns at once
    assert [e.type for e in ms.events] == ["sourceended"]
    assert ms.duration_js() == float("inf") and fmt(sb) == "{ [0,120) }"


@pytest.mark.parametrize("profile", PROFILES)
def test_frames_after_the_preroll_are_not_decoded(profile: str) -> None:
    ms, sb = make("audio", profile=profile)
    append(sb, segment(frames(" ".join(f"{t}K" for t in range(0, 300, 20)), dur=20)))
    append(sb, segment(bad("300K 320K 340K", dur=20)))
    assert ms.element_error is None and fmt(sb) == "{ [0,360) }"


@pytest.mark.parametrize("profile", PROFILES)
def test_bad_frame_reached_before_the_element_has_enough_data(profile: str) -> None:
    ms, sb = make("audio", profile=profile)
    append(sb, segment(frames("0K 20K 40K 60K 80K", dur=20)))
    assert ms.element_error is None
    append(sb, segment(bad("100K 120K", dur=20)))
    err = element_error(ms)
    assert err is not None and "timestamp=100000 " in err[1]


@pytest.mark.parametrize("profile", PROFILES)
def test_bad_frames_in_a_range_the_pipeline_does_not_start_from(profile: str) -> None:
    ms, sb = make("audio", profile=profile)
    append(sb, segment(bad("1100K 1120K 1140K", dur=20)))  # starts beyond kSeekToStartFudgeRoom
    assert ms.element_error is None
    append(sb, segment(bad("5000K", dur=20)))
    assert element_error(ms) is None


@pytest.mark.parametrize("profile", PROFILES)
def test_decoder_configuration_refused_after_metadata_detaches(profile: str) -> None:
    ms, sb = make("audio", profile=profile, init=False)
    track = TrackInfo(1, "audio", "mp4a.40.2", 1000, sample_rate=48000, decode_error="bad OpusHead")
    append(sb, [InitSegmentParsed(InitSegment("mp4", (track,)), 0)])
    assert ms.element_error is not None and ms.element_error[0] == 4
    assert "DECODER_ERROR_NOT_SUPPORTED: audio decoder initialization failed" in ms.element_error[1]
    assert ms.ready_state == "closed" and sb.removed


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(("bad_at", "fails"), [(120, True), (160, False)])
def test_video_prerolls_four_frames(profile: str, bad_at: int, fails: bool) -> None:
    """The video renderer has enough with 4 frames (kMaxVideoFrames): at 25 fps a bad 4th frame (120 ms)
    is decoded while paused, a bad 5th (160 ms) is not (measured in Chromium 156 with VP9)."""
    ms, sb = make("video", profile=profile)
    good = frames(" ".join(f"{t}{'K' if t == 0 else ''}" for t in range(0, bad_at, 40)), dur=40)
    rest = bad(" ".join(str(t) for t in range(bad_at, 400, 40)), dur=40)
    append(sb, segment(good + rest))
    assert (element_error(ms) is not None) is fails
