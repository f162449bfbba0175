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


def _moov_info_through_layout(moov: bytes, path: str) -> object:
    """What probe's moov reading was when it went through msetool.fragment.layout: probe now reads the few
    boxes itself (layout loads only after ffmpeg has started), and must answer exactly as this."""
    import struct

    from msetool.fragment.layout import _esds, find, find_all, iter_boxes
    from msetool.fragment.probe import _MP4_CODECS, _MP4A_OTI, MediaInfo, StreamInfo

    body, end = 8, len(moov)
    if find(moov, "mvex", body, end) is not None:
        return None
    mvhd = find(moov, "mvhd", body, end)
    if mvhd is None:
        return None
    if moov[mvhd.body] == 1:
        timescale, duration = struct.unpack_from(">IQ", moov, mvhd.body + 20)
    else:
        timescale, duration = struct.unpack_from(">II", moov, mvhd.body + 12)
    streams: list[StreamInfo] = []
    for index, trak in enumerate(find_all(moov, "trak", body, end)):
        hdlr = find(moov, "mdia/hdlr", trak.body, trak.end)
        stsd = find(moov, "mdia/minf/stbl/stsd", trak.body, trak.end)
        if hdlr is None or stsd is None or struct.unpack_from(">I", moov, stsd.body + 4)[0] != 1:
            return None
        kind = {b"vide": "video", b"soun": "audio"}.get(moov[hdlr.body + 8 : hdlr.body + 12])
        entry = next(iter_boxes(moov, stsd.body + 8, stsd.end), None)
        if kind is None or entry is None:
            return None
        codec = _MP4_CODECS.get(entry.type)
        if entry.type == "mp4a":
            esds = next((b for b in iter_boxes(moov, entry.body + 28, entry.end) if b.type == "esds"), None)
            codec = _MP4A_OTI.get(_esds(moov, esds)[0]) if esds is not None else None
        if codec is None:
            return None
        if kind == "video":
            w, h = struct.unpack_from(">HH", moov, entry.body + 24)
            streams.append(StreamInfo(index, kind, codec, width=w, height=h))
        else:
            rate = struct.unpack_from(">I", moov, entry.body + 24)[0] >> 16
            streams.append(StreamInfo(index, kind, codec, sample_rate=rate or None))
    if not streams:
        return None
    seconds = duration / timescale if timescale and duration and duration != 0xFFFFFFFF else None
    return MediaInfo(path, "mov,mp4,m4a,3gp,3g2,mj2", seconds, 0.0, tuple(streams))


def test_moov_reading_answers_as_layout_does_on_damaged_moovs() -> None:
    """The sample's moov, and 3,000 damaged copies (bytes changed near box headers and the esds, cut short,
    bytes inserted): the same MediaInfo, None, or the same exception and message as through layout."""
    import random
    import struct

    from msetool.fragment.probe import _moov_info

    data = (Path(__file__).resolve().parents[3] / "samples" / "sample.mp4").read_bytes()
    pos = 0
    while struct.unpack_from(">4s", data, pos + 4)[0] != b"moov":
        pos += struct.unpack_from(">I", data, pos)[0]
    moov = data[pos : pos + struct.unpack_from(">I", data, pos)[0]]

    def outcome(fn: object, m: bytes) -> tuple[str, str]:
        try:
            return "ok", repr(fn(m, "p"))  # type: ignore[operator]
        except Exception as e:
            return type(e).__name__, str(e)

    assert outcome(_moov_info, moov) == outcome(_moov_info_through_layout, moov)
    assert outcome(_moov_info, moov)[1].startswith("MediaInfo(")
    rng = random.Random(4)
    marks = [b"esds", b"stsd", b"hdlr", b"trak", b"mvhd", b"mp4a", b"avc1", b"mvex"]
    for _ in range(3000):
        m = bytearray(moov)
        for _ in range(rng.randint(1, 4)):
            r = rng.random()
            if r < 0.6:
                near = m.find(rng.choice(marks)) + rng.randint(-8, 40)
                i = rng.randrange(len(m)) if rng.random() < 0.5 else min(len(m) - 1, max(0, near))
                m[i] = rng.randrange(256)
            elif r < 0.8:
                del m[rng.randrange(8, len(m) + 1):]
            else:
                i = rng.randrange(len(m))
                m[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        assert outcome(_moov_info, bytes(m)) == outcome(_moov_info_through_layout, bytes(m))
