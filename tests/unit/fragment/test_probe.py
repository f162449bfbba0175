# ruff: noqa: E501  (canned ffmpeg output lines are kept verbatim)
"""probe.py parses ``ffmpeg -i`` text (the wheel has no ffprobe); canned outputs of real ffmpeg runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from msetool.errors import UsageError
from msetool.fragment.probe import parse_probe_output, probe_mp4

MP4 = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'samples/sample.mp4':
  Metadata:
    major_brand     : isom
  Duration: 00:00:10.01, start: 0.000000, bitrate: 999 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709, progressive), 640x360 [SAR 1:1 DAR 16:9], 893 kb/s, 30 fps, 30 tbr, 15360 tbn (default)
      Metadata:
        handler_name    : VideoHandler
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, mono, fltp, 96 kb/s (default)
  Stream #0:2[0x0]: Video: mjpeg (Baseline), yuvj420p(pc, bt470bg/unknown/unknown), 300x300, 90k tbr, 90k tbn (attached pic)
At least one output file must be specified
"""

TS = """\
Input #0, mpegts, from 'src.ts':
  Duration: 00:00:05.02, start: 1.443444, bitrate: 414 kb/s
  Program 1
  Stream #0:0[0x100]: Video: h264 (High) ([27][0][0][0] / 0x001B), yuv420p(progressive), 320x180 [SAR 1:1 DAR 16:9], 29.97 fps, 30 tbr, 90k tbn, start 1.466667
  Stream #0:1[0x101]: Audio: aac (LC) ([15][0][0][0] / 0x000F), 44100 Hz, stereo, fltp, 71 kb/s, start 1.443444
"""

NOT_MEDIA = """\
[in#0 @ 0x5651b6ee3c80] Error opening input: Invalid data found when processing input
Error opening input file x.txt.
Error opening input files: Invalid data found when processing input
"""


def test_mp4_streams() -> None:
    info = parse_probe_output(MP4, "samples/sample.mp4")
    assert info.container.startswith("mov,mp4")
    assert info.duration == pytest.approx(10.01)
    v, a = info.video, info.audio
    assert v is not None and a is not None
    assert (v.codec, v.profile, v.width, v.height, v.fps) == ("h264", "High", 640, 360, 30.0)
    assert (a.codec, a.sample_rate, a.channels, a.bitrate_k) == ("aac", 48000, "mono", 96)
    # cover art is a video stream for ffmpeg, but not the video to package
    assert info.streams[2].attached_pic and info.video is v


def test_ts_start_times_and_fractional_fps() -> None:
    info = parse_probe_output(TS, "src.ts")
    assert info.start == pytest.approx(1.443444)
    assert info.video is not None and info.video.fps == pytest.approx(29.97)
    assert info.video.start == pytest.approx(1.466667)
    assert info.audio is not None and info.audio.sample_rate == 44100 and info.audio.channels == "stereo"


def test_not_media_is_one_clear_usage_error() -> None:
    with pytest.raises(UsageError, match=r"x\.txt: not a media file ffmpeg can read \(.*Invalid data"):
        parse_probe_output(NOT_MEDIA, "x.txt")


def _box(typ: bytes, body: bytes) -> bytes:
    return (8 + len(body)).to_bytes(4, "big") + typ + body


@pytest.mark.parametrize("data", [
    b"",
    b"not media at all, just some text",
    _box(b"ftyp", b"isom\0\0\0\0isom"),  # no moov
    _box(b"ftyp", b"isom\0\0\0\0isom") + _box(b"moov", b"") + _box(b"mdat", b""),  # no mvhd, no track
    _box(b"ftyp", b"isom\0\0\0\0isom") + b"\0\0\xff\xffmoov",  # size runs past the file
    _box(b"mdat", b"") + _box(b"ftyp", b"isom\0\0\0\0isom"),  # not ftyp first
])
def test_fast_probe_steps_aside_on_anything_unclear(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "in.mp4"
    p.write_bytes(data)
    assert probe_mp4(p) is None
