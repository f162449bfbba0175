"""The validate fast path: skippable()/skip()/wanted() must give the events feeding every byte gives.

The engine asks the parser how many upcoming bytes it will not read and skips them (they are never read
from disk); these tests drive the parser the way the engine does, on ffmpeg media and on hand-built
segments (clean, muxed, with failures), and compare with plain feeding. With ``sample_checks="rap"`` only
the random-access samples' H.264 bytes are analysed, so only container-sync frames can differ, and on
clean media nothing does.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.bmff.stream import BmffStreamParser
from msetool.mime import parse_mime
from msetool.stream import FramesParsed, ParseFailed, ParserEvent
from tests import media
from tests.skipdrive import drive_skipping
from tests.unit.bmff import builder as B

AVC_AAC = 'video/mp4; codecs="avc1.42C00D,mp4a.40.2"'
AVC = 'video/mp4; codecs="avc1.42C00D"'


def drive(data: bytes, mime: str, *, checks: str = "all", chunk: int = 1 << 22,
          profile: str = "chromium") -> tuple[list[ParserEvent], int]:
    """Feed like the engine: skip what the parser says it will not read. Returns (events, bytes read)."""
    p = BmffStreamParser(mime=parse_mime(mime), profile=profile)  # type: ignore[arg-type]
    p.sample_checks = checks
    return drive_skipping(p, data, chunk)


def fed(data: bytes, mime: str, chunk: int = 1 << 22, profile: str = "chromium") -> list[ParserEvent]:
    p = BmffStreamParser(mime=parse_mime(mime), profile=profile)  # type: ignore[arg-type]
    out: list[ParserEvent] = []
    for i in range(0, len(data), chunk):
        out += p.feed(data[i : i + chunk])
    return out


def frames(events: list[ParserEvent]) -> list[tuple[object, ...]]:
    return [(f.track_id, f.dts, f.pts, f.duration, f.keyframe, f.size, f.offset)
            for e in events if isinstance(e, FramesParsed) for f in e.frames]


def others(events: list[ParserEvent]) -> list[tuple[str, int, str]]:
    return [(type(e).__name__, getattr(e, "offset", -1), getattr(e, "message", ""))
            for e in events if not isinstance(e, FramesParsed)]


@pytest.fixture(scope="module")
def ffmpeg_stream() -> bytes:
    return media.fmp4_avc_aac().read_bytes()


@pytest.mark.parametrize("checks", ["all", "rap"])
def test_ffmpeg_media_same_events_fewer_bytes(ffmpeg_stream: bytes, checks: str) -> None:
    mime = 'video/mp4; codecs="avc1.64001F,mp4a.40.2"'
    want = fed(ffmpeg_stream, mime)
    got, read = drive(ffmpeg_stream, mime, checks=checks)
    assert frames(got) == frames(want) and frames(want)
    assert others(got) == others(want)
    if checks == "rap":
        assert read < len(ffmpeg_stream) // 2  # most sample bytes were never read


def _muxed_fragment(seq: int, t0: int, video_sizes: list[int]) -> bytes:
    flags = [B.SYNC] + [B.NON_SYNC] * (len(video_sizes) - 1)
    v = B.Traf(track_id=1, decode_time=t0 * 512, runs=[B.Run(video_sizes, [512] * len(video_sizes), flags)])
    a = B.Traf(track_id=2, decode_time=t0 * 1024, runs=[B.Run([300] * 4, [1024] * 4)])
    return B.fragment([v, a], sequence_number=seq)


def _tracks() -> list[B.Track]:
    return [B.Track(), B.Track(track_id=2, handler="soun", timescale=48000, entry=B.audio_entry())]


@pytest.mark.parametrize("sizes", [[200_000, 50_000, 60_000], [100, 50, 50], [300_000] * 3])
def test_muxed_fragments_across_slices(sizes: list[int]) -> None:
    data = B.init_segment(_tracks()) + b"".join(_muxed_fragment(i + 1, i * 3, sizes) for i in range(4))
    want = fed(data, AVC_AAC)
    for checks in ("all", "rap"):
        got, _read = drive(data, AVC_AAC, checks=checks)
        assert frames(got) == frames(want)
        assert others(got) == others(want)
        # the frame processor's batches: coalescing never merges frames across a DTS step back
        assert [len(e.frames) for e in got if isinstance(e, FramesParsed)]


def test_bad_nal_lengths_in_a_random_access_sample_still_fail() -> None:
    frag = bytearray(_muxed_fragment(1, 0, [400, 200, 200]))
    mdat = frag.find(b"mdat") + 4
    frag[mdat : mdat + 4] = struct.pack(">I", 9999)  # first (sync) video sample: NAL length past the end
    data = B.init_segment(_tracks()) + bytes(frag)
    want = fed(data, AVC_AAC)
    assert isinstance(want[-1], ParseFailed)
    for checks in ("all", "rap"):
        got, _read = drive(data, AVC_AAC, checks=checks)
        assert others(got) == others(want)
        assert frames(got) == frames(want)


def test_bad_nal_lengths_in_a_non_sync_sample_need_deep() -> None:
    frag = bytearray(_muxed_fragment(1, 0, [400, 200, 200]))
    second = frag.find(b"mdat") + 4 + 400
    frag[second : second + 4] = struct.pack(">I", 9999)
    data = B.init_segment(_tracks()) + bytes(frag)
    want = fed(data, AVC_AAC)
    assert isinstance(want[-1], ParseFailed)
    deep, _ = drive(data, AVC_AAC, checks="all")
    assert others(deep) == others(want)
    fast, _ = drive(data, AVC_AAC, checks="rap")
    assert not any(isinstance(e, ParseFailed) for e in fast)  # documented: only --deep reads it


@pytest.mark.parametrize("profile", ["chromium", "spec"])
def test_box_size_zero_inside_the_segment(profile: str) -> None:
    data = B.init_segment() + B.fragment(mdat_size_zero=True) + B.fragment(sequence_number=2)
    want = fed(data, AVC, profile=profile)
    got, _ = drive(data, AVC, profile=profile)
    assert others(got) == others(want)
    assert frames(got) == frames(want)


def test_reset_after_skip_keeps_working() -> None:
    data = B.init_segment(_tracks()) + _muxed_fragment(1, 0, [200_000, 50_000, 60_000])
    p = BmffStreamParser(mime=parse_mime(AVC_AAC))
    p.sample_checks = "rap"
    p.feed(data[:1000])
    n = p.skippable()
    if n:
        p.skip(min(n, 5000))
    p.reset()
    events = p.feed(_muxed_fragment(2, 3, [100, 50, 50]))
    assert frames(events) and not any(isinstance(e, ParseFailed) for e in events)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(muts=st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 255)), min_size=1, max_size=4),
       chunk=st.sampled_from([7, 100, 4096, 1 << 22]))
def test_mutations_fast_path_matches_feeding(muts: list[tuple[int, int]], chunk: int) -> None:
    data = bytearray(B.init_segment(_tracks()) + _muxed_fragment(1, 0, [700, 300, 300])
                     + _muxed_fragment(2, 3, [700, 300, 300]))
    for pos, val in muts:
        if pos < len(data):
            data[pos] = val
    want = fed(bytes(data), AVC_AAC, chunk=chunk)
    got, _ = drive(bytes(data), AVC_AAC, checks="all", chunk=chunk)
    assert [type(e).__name__ for e in got if isinstance(e, ParseFailed)] == [
        type(e).__name__ for e in want if isinstance(e, ParseFailed)]
    assert others(got) == others(want)
    assert frames(got) == frames(want)
