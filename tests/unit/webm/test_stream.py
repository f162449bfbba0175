"""WebmStreamParser: the sans-IO segment parser simulate runs, on ffmpeg-made and byte-built streams."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from msetool.mime import parse_mime
from msetool.model import CodedFrame, TrackInfo
from msetool.source import BytesSource
from msetool.stream import (
    FramesParsed,
    InitSegmentParsed,
    MediaSegmentEnded,
    MediaSegmentStarted,
    ParseFailed,
    ParserEvent,
    parser_for,
)
from msetool.webm.stream import WebmStreamParser
from msetool.webm.tree import Element, read_payload, walk
from tests.unit.webm import builder as B

VIDEO = B.Track(1, 1, "V_VP9")
VIDEO_DD = B.Track(1, 1, "V_VP9", default_duration=33_333_333)
OPUS = B.Track(2, 2, "A_OPUS", codec_delay=6_500_000)


def feed_all(chunks: list[bytes], profile: str = "chromium") -> tuple[WebmStreamParser, list[ParserEvent]]:
    p = WebmStreamParser(profile=profile)  # type: ignore[arg-type]
    out: list[ParserEvent] = []
    for c in chunks:
        out.extend(p.feed(c))
    return p, out


def frames_of(events: list[ParserEvent]) -> list[CodedFrame]:
    return [f for e in events if isinstance(e, FramesParsed) for f in e.frames]


def failures(events: list[ParserEvent]) -> list[ParseFailed]:
    return [e for e in events if isinstance(e, ParseFailed)]


def block_times(path: Path) -> dict[int, list[int]]:
    """Block timestamps (ms) per track, read with the tree walker, independent of the stream parser."""
    src = BytesSource(path.read_bytes())
    out: dict[int, list[int]] = {}
    cluster_tc = 0
    for ev in walk(src):
        if isinstance(ev, Element):
            if ev.name == "Timestamp":
                cluster_tc = int.from_bytes(read_payload(src, ev), "big")
            elif ev.name in ("SimpleBlock", "Block"):
                head = read_payload(src, ev, 4)
                out.setdefault(head[0] & 0x7F, []).append(cluster_tc + int.from_bytes(head[1:3], "big",
                                                                                       signed=True))
    return out


# ------------------------------------------------------------------------------------------ real media
def test_registered_for_both_webm_types() -> None:
    assert isinstance(parser_for(parse_mime('video/webm; codecs="vp9,opus"')), WebmStreamParser)
    assert isinstance(parser_for(parse_mime("audio/webm")), WebmStreamParser)
    assert WebmStreamParser().generate_timestamps is False


def test_vp9_opus_init_and_frames(vp9_opus: Path) -> None:
    data = vp9_opus.read_bytes()
    _, events = feed_all([data])
    assert not failures(events)
    init = next(e.init for e in events if isinstance(e, InitSegmentParsed))
    kinds = {t.kind: t for t in init.tracks}
    assert kinds["video"].codec in ("vp9",) or kinds["video"].codec.startswith("vp09.")
    assert kinds["audio"].codec == "opus" and kinds["audio"].sample_rate == 48000
    assert init.duration is not None and 1.9 < float(init.duration) < 2.2
    frames = frames_of(events)
    times = block_times(vp9_opus)
    for track in init.tracks:
        mine = [f for f in frames if f.track_id == track.track_id]
        assert [f.pts // 1000 for f in mine] == times[track.track_id]
        assert all(f.dts == f.pts and f.timescale == 1_000_000 for f in mine)
        assert mine[0].keyframe
    # Opus durations come from the TOC byte (20 ms packets by default in libopus).
    audio = [f for f in frames if f.track_id == kinds["audio"].track_id]
    assert {f.duration for f in audio} == {20_000}
    starts = sum(isinstance(e, MediaSegmentStarted) for e in events)
    ends = sum(isinstance(e, MediaSegmentEnded) for e in events)
    assert starts == ends == len([1 for e in walk(BytesSource(data)) if isinstance(e, Element)
                                  and e.name == "Cluster"]) > 1


def test_frames_leave_in_timestamp_order_across_tracks(vp9_opus: Path) -> None:
    _, events = feed_all([vp9_opus.read_bytes()])
    for e in events:
        if isinstance(e, FramesParsed):
            pts = [f.pts for f in e.frames]
            assert pts == sorted(pts)


def test_av1_codec_string_from_codec_private(av1: Path) -> None:
    _, events = feed_all([av1.read_bytes()])
    init = next(e.init for e in events if isinstance(e, InitSegmentParsed))
    # libaom writes an AV1CodecConfigurationRecord: Main profile, 8 bit.
    assert init.tracks[0].codec.startswith("av01.0.") and init.tracks[0].codec.endswith(".08")
    assert frames_of(events)


@pytest.mark.parametrize("name", ["vp8_vorbis", "ffmpeg_vp9_opus"])
def test_ffmpeg_muxed_matches_the_block_order_rule(name: str, request: pytest.FixtureRequest) -> None:
    """Chromium fails a Cluster whose block timecodes go backwards; anything else parses fully."""
    path: Path = request.getfixturevalue(name)
    src = BytesSource(path.read_bytes())
    backwards = False
    last: int | None = None
    for ev in walk(src):
        if isinstance(ev, Element) and ev.name == "Cluster":
            last = None
        elif isinstance(ev, Element) and ev.name in ("SimpleBlock", "Block"):
            tc = int.from_bytes(read_payload(src, ev, 3)[1:3], "big", signed=True)
            backwards |= last is not None and tc < last
            last = tc
    _, events = feed_all([path.read_bytes()])
    init = next(e.init for e in events if isinstance(e, InitSegmentParsed))
    assert {t.codec for t in init.tracks} in ({"vp8", "vorbis"}, {"vp9", "opus"})
    if backwards:
        assert [f.rule for f in failures(events)] == ["WEBM-MEDIA-04"]
    else:
        assert not failures(events)


def test_unknown_size_segment(vp9_live: Path) -> None:
    _, events = feed_all([vp9_live.read_bytes()])
    assert not failures(events)
    assert frames_of(events)


# ---------------------------------------------------------------------------------- chunking invariance
def _flatten(events: list[ParserEvent]) -> tuple[list[object], dict[int, list[CodedFrame]]]:
    """Segment events in order, and each track's frames in order (how frames of different tracks with
    equal timestamps are batched follows the appends, as in Chromium)."""
    out: list[object] = []
    per_track: dict[int, list[CodedFrame]] = {}
    for e in events:
        if isinstance(e, FramesParsed):
            for f in e.frames:
                per_track.setdefault(f.track_id, []).append(f)
        else:
            out.append(e)
    return out, per_track


def test_byte_by_byte_equals_one_append(vp9_opus: Path) -> None:
    data = vp9_opus.read_bytes()[:40_000]
    _, whole = feed_all([data])
    _, bytewise = feed_all([data[i : i + 1] for i in range(len(data))])
    assert _flatten(bytewise) == _flatten(whole)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_cuts_equal_one_append(vp9_opus: Path, seed: int) -> None:
    data = vp9_opus.read_bytes()
    rnd = random.Random(seed)
    cuts = sorted(rnd.sample(range(1, len(data)), 40))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    assert _flatten(feed_all(chunks)[1]) == _flatten(feed_all([data])[1])


# ---------------------------------------------------------------------------------- durations (Chromium)
def test_last_block_estimates_max_duration_then_default() -> None:
    init = B.init_segment([VIDEO])
    c1 = B.Cluster(0, [B.simple_block(1, 0), B.simple_block(1, 33, key=False),
                       B.simple_block(1, 70, key=False)])
    c2 = B.Cluster(1000, [B.simple_block(1, 0)])
    _, events = feed_all([init, c1.bytes(), c2.bytes()])
    frames = frames_of(events)
    assert [(f.pts, f.duration, f.duration_estimated) for f in frames] == [
        (0, 33_000, False), (33_000, 37_000, False),
        (70_000, 37_000, True),  # the largest duration seen on the track
        (1_000_000, 37_000, True),
    ]
    _, events = feed_all([init, c2.bytes()])
    assert [(f.duration, f.duration_estimated) for f in frames_of(events)] == [(63_000, True)]
    audio_only = B.init_segment([B.Track(2, 2, "A_VORBIS", codec_private=b"\x02\x01\x01abc")])
    _, events = feed_all([audio_only, B.Cluster(0, [B.simple_block(2, 0)]).bytes()])
    assert [f.duration for f in frames_of(events)] == [23_000]


def test_duration_precedence_opus_toc_blockduration_default() -> None:
    init = B.init_segment([VIDEO_DD, OPUS])
    cluster = B.Cluster(0, [
        B.simple_block(1, 0), B.block_group(2, 0, B.OPUS_3X10MS, duration=100),
        B.block_group(1, 40, duration=50, reference=-40), B.simple_block(2, 40, B.OPUS_20MS),
    ])
    _, events = feed_all([init, cluster.bytes()])
    got = {(f.track_id, f.pts): f.duration for f in frames_of(events)}
    assert got[(2, 0)] == 30_000  # TOC beats BlockDuration
    assert got[(1, 40_000)] == 50_000  # BlockDuration beats DefaultDuration
    assert got[(1, 0)] == 33_000  # DefaultDuration capped to whole TimecodeScale units (33 ms)
    assert got[(2, 40_000)] == 20_000


def test_spec_profile_keeps_exact_nanoseconds() -> None:
    init = B.init_segment([VIDEO_DD])
    _, events = feed_all([init, B.Cluster(0, [B.simple_block(1, 0)]).bytes()], profile="spec")
    (f,) = frames_of(events)
    assert (f.timescale, f.duration) == (1_000_000_000, 33_333_333)


def test_held_back_block_delays_later_frames_of_all_tracks() -> None:
    init = B.init_segment([VIDEO, OPUS])
    body = [B.simple_block(1, 0), B.simple_block(2, 0, B.OPUS_20MS), B.simple_block(2, 20, B.OPUS_20MS)]
    cluster = B.Cluster(0, body).bytes()
    # Cut just before the end: the video block waits for its successor, so do the audio blocks after it.
    _, events = feed_all([init, cluster])
    assert frames_of(events)[0].pts == 0
    p, events = feed_all([init, cluster[:-1]])
    assert frames_of(events) == []
    assert p.in_media_segment


def test_timecode_scale_scales_timestamps() -> None:
    init = B.init_segment([VIDEO_DD], timecode_scale=100_000)  # 0.1 ms units
    cluster = B.Cluster(10, [B.simple_block(1, 5), B.simple_block(1, 338, key=False)])
    _, events = feed_all([init, cluster.bytes()])
    assert [f.pts for f in frames_of(events)] == [1_500, 34_800]


# ------------------------------------------------------------------------------- segment boundaries
def test_cluster_before_init_fails() -> None:
    _, events = feed_all([B.Cluster(0, [B.simple_block(1, 0)]).bytes()])
    (f,) = failures(events)
    assert f.message == "Found Cluster element before Info." and f.rule == "WEBM-INIT-03" and f.offset == 0


def test_after_failure_nothing_more() -> None:
    p, _ = feed_all([B.Cluster(0, [B.simple_block(1, 0)]).bytes()])
    assert p.feed(B.init_segment([VIDEO])) == []


def test_unknown_size_cluster_ends_at_next_cluster_and_flush_depends_on_profile() -> None:
    init = B.init_segment([VIDEO])
    c1 = B.Cluster(0, [B.simple_block(1, 0), B.simple_block(1, 33, key=False)], unknown_size=True).bytes()
    c2 = B.Cluster(66, [B.simple_block(1, 0)], unknown_size=True).bytes()
    p, events = feed_all([init, c1])
    assert [f.pts for f in frames_of(events)] == [0]  # the last block waits for a successor
    assert p.in_media_segment
    events = p.feed(c2)
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("MediaSegmentEnded") < kinds.index("MediaSegmentStarted")
    assert [f.pts for f in frames_of(events)] == [33_000]
    assert p.flush() == []  # Chromium never completes the open Cluster
    sp, _ = feed_all([init, c1, c2], profile="spec")
    tail = sp.flush()
    assert [f.pts for f in frames_of(tail)] == [66_000_000] and isinstance(tail[-1], MediaSegmentEnded)


def test_unknown_size_cluster_ends_at_cues_and_at_init() -> None:
    init = B.init_segment([VIDEO])
    c1 = B.Cluster(0, [B.simple_block(1, 0)], unknown_size=True).bytes()
    cues = B.el(0x1C53BB6B, B.el(0xBB, B.uint(0xB3, 0)))
    p, events = feed_all([init, c1, cues])
    assert not p.in_media_segment and len(frames_of(events)) == 1
    p, events = feed_all([init, c1, init])
    assert sum(isinstance(e, InitSegmentParsed) for e in events) == 2 and not failures(events)


def test_reset_drops_partial_cluster_keeps_init() -> None:
    init = B.init_segment([VIDEO_DD])
    c1 = B.Cluster(0, [B.simple_block(1, 0), B.simple_block(1, 33, key=False)]).bytes()
    p, events = feed_all([init, c1[: len(c1) - 3]])
    assert p.in_media_segment and len(frames_of(events)) == 1
    p.reset()
    assert not p.in_media_segment
    events = p.feed(B.Cluster(100, [B.simple_block(1, 0)]).bytes())
    assert [f.pts for f in frames_of(events)] == [100_000] and not failures(events)


def test_skipped_top_level_elements_and_missing_ebml_header() -> None:
    void = B.el(0xEC, b"\0" * 10)
    tags = B.el(0x1254C367, b"\x73\x73\x80")
    init = B.init_segment([VIDEO], ebml=False)
    _, events = feed_all([void + tags + init, B.Cluster(0, [B.simple_block(1, 0)]).bytes()])
    assert not failures(events) and len(frames_of(events)) == 1


# ---------------------------------------------------------------------------------- malformed bytes
def _fails(chunks: list[bytes], profile: str = "chromium") -> ParseFailed:
    _, events = feed_all(chunks, profile)
    found = failures(events)
    assert len(found) == 1, events
    return found[0]


def test_malformed_streams_fail_with_rule_and_offset() -> None:
    init = B.init_segment([VIDEO, OPUS])
    n = len(init)
    f = _fails([init, B.Cluster(0, [B.simple_block(1, 0), B.simple_block(3, 1)]).bytes()])
    assert (f.rule, f.message) == ("WEBM-MEDIA-08", "Unexpected track number 3")
    assert f.offset > n and f.path.endswith("SimpleBlock[2]")
    f = _fails([init, B.Cluster(0, [B.simple_block(1, 0)], timecode_last=True).bytes()])
    assert f.message == "Got a block before cluster timecode." and f.rule == "WEBM-MEDIA-03"
    f = _fails([init, B.Cluster(0, [B.simple_block(1, 10), B.simple_block(2, 5, B.OPUS_20MS)]).bytes()])
    assert f.rule == "WEBM-MEDIA-04"
    f = _fails([init, B.Cluster(None, []).bytes()])
    assert f.rule == "WEBM-MEDIA-03"
    f = _fails([init, B.Cluster(0, [B.el(0xA0, B.uint(0x9B, 5))]).bytes()])
    assert f.message == "Block missing from BlockGroup."
    f = _fails([init, B.Cluster(0, [B.el(0xAF, b"\x81\0\0\x80")]).bytes()])
    assert f.rule == "WEBM-EBML-02"
    f = _fails([init, B.Cluster(0, [B.el(0xA3, b"\x40\x01\0\0\x80\0")]).bytes()])
    assert f.message == "TrackNumber over 127 not supported"


def test_lacing_fails_in_chromium_and_splits_in_spec() -> None:
    init = B.init_segment([OPUS])
    laced = B.simple_block(2, 0, b"\x01" + bytes([8]) + B.OPUS_20MS + B.OPUS_20MS, lacing=1)
    cluster = B.Cluster(0, [laced]).bytes()
    assert _fails([init, cluster]).message == "Lacing 1 is not supported yet."
    _, events = feed_all([init, cluster], profile="spec")
    assert [(f.pts, f.duration, f.size, f.keyframe) for f in frames_of(events)] == [
        (0, 20_000_000, 8, True), (20_000_000, 20_000_000, 8, False)]  # Opus TOC per laced frame
    fixed = B.simple_block(2, 0, b"\x02" + b"\xfc" * 9, lacing=2)
    _, events = feed_all([init, B.Cluster(0, [fixed]).bytes()], profile="spec")
    assert [f.size for f in frames_of(events)] == [3, 3, 3]


def test_bad_vint_truncated_and_overrunning_elements() -> None:
    init = B.init_segment([VIDEO])
    assert _fails([init + b"\x00\x00\x00\x00"]).rule == "WEBM-EBML-01"
    # A child claiming more bytes than its Cluster holds.
    inner = B.uint(0xE7, 0) + B.el(0xA3, B.block_bytes(1, 0, 0x80, b"\0" * 4), size=100)
    bad = B.el(0x1F43B675, inner, size=len(inner))
    assert _fails([init, bad]).rule == "WEBM-EBML-01"
    # Truncated: not a failure, the parser waits for the rest (still inside the media segment).
    good = B.Cluster(0, [B.simple_block(1, 0)]).bytes()
    p, events = feed_all([init, good[:-2]])
    assert not failures(events) and p.in_media_segment


def test_init_segment_problems() -> None:
    ini = B.init_segment([VIDEO])
    tracks_at = ini.find(bytes.fromhex("1654AE6B"))
    f = _fails([ini[:tracks_at] + B.el(0xEC, b"\0\0") + ini[tracks_at:]])
    assert f.rule == "WEBM-INIT-03"
    f = _fails([B.init_segment([B.Track(1, 1, "V_MPEG4/ISO/AVC")])])
    assert f.rule == "WEBM-INIT-08" and "Unsupported video codec_id" in f.message
    f = _fails([B.init_segment([B.Track(1, 1, "V_VP9", default_duration=0)])])
    assert f.message == "Illegal 0ns video TrackEntry DefaultDuration"
    f = _fails([B.EBML_HEADER + B.el(0x7373, b"")])
    assert f.rule == "WEBM-INIT-04" and f.message == "Unexpected element ID 0x7373"


def test_extra_tracks_are_ignored_by_chromium_profile() -> None:
    init = B.init_segment([VIDEO, B.Track(3, 0x11, "D_WEBVTT/SUBTITLES"), B.Track(4, 1, "V_VP8")])
    c = B.Cluster(0, [B.simple_block(1, 0), B.simple_block(3, 0, b"hi"), B.simple_block(4, 0)]).bytes()
    _, events = feed_all([init, c])
    init_ev = next(e.init for e in events if isinstance(e, InitSegmentParsed))
    assert [t.track_id for t in init_ev.tracks] == [1]
    assert [f.track_id for f in frames_of(events)] == [1]


def test_absurd_values_are_findings_not_crashes() -> None:
    import struct

    nan_rate = B.Track(2, 2, "A_VORBIS", codec_private=b"x")
    nan_rate.extra = B.el(0xE1, B.el(0xB5, struct.pack(">d", float("nan"))))
    init = B.init_segment([VIDEO_DD, nan_rate], duration_ms=float("inf"))
    for profile in ("chromium", "spec"):
        _, events = feed_all([init], profile=profile)
        assert [f.rule for f in failures(events)] == ["WEBM-INIT-08"]  # no usable sampling frequency
    big = B.init_segment([VIDEO_DD], timecode_scale=2**62)
    f = _fails([big, B.Cluster(2**40, [B.simple_block(1, 0)]).bytes()])
    assert f.message == "Invalid cluster timecode."


def test_opus_head_the_decoder_refuses_marks_the_track_not_the_append() -> None:
    """Chromium 156 appends such an init segment (updateend), then the pipeline's decoder initialization
    fails (DECODER_ERROR_NOT_SUPPORTED): the parser accepts it and marks TrackInfo.decode_error."""
    head = b"OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0\0"  # mono, pre-skip 312, 48 kHz, family 0

    def audio_track(track: B.Track, profile: str = "chromium") -> TrackInfo:
        _, events = feed_all([B.init_segment([track])], profile=profile)
        assert not failures(events)
        (init,) = [e.init for e in events if isinstance(e, InitSegmentParsed)]
        return init.tracks[0]

    assert audio_track(B.Track(2, 2, "A_OPUS", codec_private=head, channels=1)).decode_error is None
    stereo = B.Track(2, 2, "A_OPUS", codec_private=head, channels=2)
    assert "channel" in (audio_track(stereo).decode_error or "")
    short = B.Track(2, 2, "A_OPUS", codec_private=head[:12], channels=1)
    assert "12 bytes" in (audio_track(short).decode_error or "")
    assert audio_track(B.Track(2, 2, "A_OPUS", channels=2)).decode_error is None
    # Decoder configuration is not byte stream format: the spec profile does not mark it.
    assert audio_track(stereo, profile="spec").decode_error is None


def test_large_elements_are_not_buffered_whole() -> None:
    """A 300 kB block or Void arriving in 4 kB appends: same frames, and the parser keeps only a few
    bytes of it (the validate engine feeds whole files through this parser)."""
    init = B.init_segment([VIDEO_DD, OPUS])
    big = b"\x82" + bytes(300_000)
    void = B.el(0xEC, bytes(200_000))
    cluster = B.Cluster(0, [B.simple_block(1, 0, big), B.simple_block(2, 0, B.OPUS_20MS),
                            B.block_group(1, 33, big, reference=-33)]).bytes()
    stream = init + void + cluster + B.Cluster(66, [B.simple_block(1, 0)], unknown_size=True).bytes()
    _, whole = feed_all([stream])
    p = WebmStreamParser()
    chunked: list[ParserEvent] = []
    peak = 0
    for i in range(0, len(stream), 4096):
        chunked.extend(p.feed(stream[i : i + 4096]))
        peak = max(peak, len(p._buf))
    assert _flatten(chunked) == _flatten(whole)
    assert [f.size for f in frames_of(whole) if f.track_id == 1][:2] == [len(big), len(big)]
    assert peak < 70_000
    # An element that never ends swallows what follows, as in Chromium (nothing is buffered either).
    p = WebmStreamParser()
    p.feed(init + B.el(0xEC, b"", size=None))
    assert p.feed(cluster) == [] and len(p._buf) == 0
