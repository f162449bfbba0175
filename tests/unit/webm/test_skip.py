"""The validate fast path for WebM: skippable()/skip()/wanted() must give the events feeding every byte gives.

The engine asks the parser how many upcoming bytes it will not read (a block payload past the bytes its
reader looks at) and skips them unread; these tests drive the parser the way the engine does, on ffmpeg
media and on hand-built streams (large blocks, unknown-size Clusters, BlockGroups, laced blocks, failures,
mutations), and compare with plain feeding.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.mime import parse_mime
from msetool.stream import FramesParsed, ParseFailed, ParserEvent
from msetool.webm.stream import WebmStreamParser
from tests.skipdrive import drive_skipping
from tests.unit.webm import builder as B

VIDEO = "video/webm; codecs=\"vp9\""
MUXED = "video/webm; codecs=\"vp9,opus\""


def drive(data: bytes, mime: str = VIDEO, *, chunk: int = 1 << 22,
          profile: str = "chromium") -> tuple[list[ParserEvent], int]:
    """Feed like the engine: skip what the parser says it will not read. Returns (events, bytes read)."""
    p = WebmStreamParser(mime=parse_mime(mime), profile=profile)  # type: ignore[arg-type]
    events, read = drive_skipping(p, data, chunk)
    return events + p.flush(), read


def fed(data: bytes, mime: str = VIDEO, chunk: int = 1 << 22, profile: str = "chromium") -> list[ParserEvent]:
    p = WebmStreamParser(mime=parse_mime(mime), profile=profile)  # type: ignore[arg-type]
    out: list[ParserEvent] = []
    for i in range(0, len(data), chunk):
        out += p.feed(data[i : i + chunk])
    return out + p.flush()


def frames(events: list[ParserEvent]) -> list[tuple[object, ...]]:
    """Each track's frames in order (how frames of different tracks with equal timestamps are batched
    follows the appends, as in Chromium: tests/unit/webm/test_stream.py)."""
    out = [(f.track_id, f.dts, f.pts, f.duration, f.keyframe, f.size, f.offset, f.decode_error)
           for e in events if isinstance(e, FramesParsed) for f in e.frames]
    return sorted(out, key=lambda t: int(t[0]))  # type: ignore[call-overload]  # stable: per-track order kept


def others(events: list[ParserEvent]) -> list[tuple[str, int, str]]:
    return [(type(e).__name__, getattr(e, "offset", -1), getattr(e, "message", ""))
            for e in events if not isinstance(e, FramesParsed)]


def same(data: bytes, mime: str = VIDEO, *, profile: str = "chromium", chunk: int = 1 << 22) -> int:
    """The fast path's events equal feeding's. Frames come out as soon as they are complete, so when the
    append fails the frames before the failing element are those that byte-by-byte feeding emits: in the
    chromium profile a feed drops the frames of the failing Cluster that it completed itself
    (test_cluster_failure.py), and the fast path's many small feed()/skip() calls keep the ones completed
    by earlier calls. Known difference from one feed of the whole append; closing it needs the engine to
    tell the parser where an append ends (frames could then be held until then)."""
    want = fed(data, mime, profile=profile, chunk=chunk)
    got, read = drive(data, mime, profile=profile, chunk=chunk)
    assert others(got) == others(want)
    if any(isinstance(e, ParseFailed) for e in want):
        want = fed(data, mime, profile=profile, chunk=1)
    assert frames(got) == frames(want)
    return read


@pytest.mark.parametrize("name", ["vp9_only", "vp9_opus", "ffmpeg_vp9_opus", "opus_only"])
def test_ffmpeg_media_same_events(name: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(name)
    data = path.read_bytes()
    mime = VIDEO if name == "vp9_only" else ("audio/webm; codecs=\"opus\"" if name == "opus_only" else MUXED)
    want = fed(data, mime)
    assert frames(want) or any(isinstance(e, ParseFailed) for e in want)
    same(data, mime)
    same(data, mime, chunk=1000)


def _vp9_key(size: int) -> bytes:
    """A VP9 key frame header (frame_marker 2, profile 0, sync code) padded to ``size`` bytes."""
    head = bytes([0x82, 0x49, 0x83, 0x42, 0x00])
    return (head + bytes(range(256)) * (size // 256 + 1))[:size]


def _init() -> bytes:
    return B.init_segment([B.Track(1, 1, "V_VP9", default_duration=33_333_333),
                           B.Track(2, 2, "A_OPUS", codec_private=b"OpusHead" + bytes([1, 2, 0x38, 1])
                                   + (48000).to_bytes(4, "little") + b"\0\0\0")])


def _clusters(unknown: bool, big: int) -> bytes:
    out = b""
    for c in range(3):
        blocks = [B.simple_block(1, 0, _vp9_key(big)), B.simple_block(2, 0, B.OPUS_20MS),
                  B.simple_block(2, 20, B.OPUS_20MS + b"\0" * 2000),
                  B.block_group(1, 33, _vp9_key(3000)[:1] + b"\0" * 2999, reference=-33),
                  B.simple_block(1, 66, b"\0" * 900, key=False)]
        out += B.Cluster(c * 100, blocks, unknown_size=unknown).bytes()
    return out


@pytest.mark.parametrize("unknown", [False, True])
@pytest.mark.parametrize("profile", ["chromium", "spec"])
@pytest.mark.parametrize("big", [200_000, 70_000, 1500])
def test_built_clusters_same_events_fewer_bytes(unknown: bool, profile: str, big: int) -> None:
    data = _init() + _clusters(unknown, big)
    want = fed(data, MUXED, profile=profile)
    assert len(frames(want)) >= 12
    read = same(data, MUXED, profile=profile)
    assert read < len(data) // 2  # most block payload bytes were never read


def test_undecodable_vp9_frame_still_marked() -> None:
    bad = B.simple_block(1, 0, b"\x00" + _vp9_key(50_000)[1:])  # frame_marker 0
    data = _init() + B.Cluster(0, [bad, B.simple_block(1, 33, _vp9_key(40_000))]).bytes()
    got, _ = drive(data, MUXED)
    errs = [f[-1] for f in frames(got)]
    assert errs[0] is not None and errs[1] is None
    same(data, MUXED)


def test_failures_same_events() -> None:
    init = _init()
    big = _vp9_key(100_000)
    cases = [
        B.Cluster(0, [B.simple_block(1, 10, big), B.simple_block(1, 5, big)]).bytes(),  # timecode goes back
        B.Cluster(0, [B.simple_block(7, 0, big)]).bytes(),  # undeclared track
        B.Cluster(None, [B.simple_block(1, 0, big)]).bytes(),  # block before the Cluster Timestamp
        B.Cluster(0, [B.simple_block(1, 0, big, lacing=1)]).bytes(),  # lacing (Chromium refuses it)
        B.el(0x1F43B675, B.uint(0xE7, 0) + B.simple_block(1, 0, big), size=50_000),  # block overruns
        B.Cluster(0, [B.el(0xA3, big, size=None)]).bytes(),  # unknown-size leaf: swallowed forever
    ]
    for cluster in cases:
        for profile in ("chromium", "spec"):
            data = init + cluster + B.Cluster(500, [B.simple_block(1, 0, _vp9_key(5000))]).bytes()
            same(data, MUXED, profile=profile)
            same(data, MUXED, profile=profile, chunk=777)


def test_large_top_level_elements_are_skipped() -> None:
    void = B.el(0xEC, b"\0" * 300_000)
    data = _init() + void + B.Cluster(0, [B.simple_block(1, 0, _vp9_key(5000))]).bytes() + void
    assert same(data, MUXED) < 50_000


def test_cluster_before_init_fails_the_same() -> None:
    data = B.Cluster(0, [B.simple_block(1, 0, _vp9_key(5000))]).bytes() + _init()
    got, _ = drive(data, MUXED)
    assert isinstance(got[-1], ParseFailed)
    same(data, MUXED)


def test_reset_after_skip_keeps_working() -> None:
    data = _init() + _clusters(False, 200_000)
    p = WebmStreamParser(mime=parse_mime(MUXED))
    p.feed(data[:2000])
    n = p.skippable()
    assert n
    p.skip(min(n, 5000))
    p.reset()
    events = p.feed(B.Cluster(1000, [B.simple_block(1, 0, _vp9_key(3000))]).bytes())
    assert frames(events) and not any(isinstance(e, ParseFailed) for e in events)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(muts=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), min_size=1, max_size=4),
       chunk=st.sampled_from([7, 100, 4096, 1 << 22]), profile=st.sampled_from(["chromium", "spec"]))
def test_mutations_fast_path_matches_feeding(muts: list[tuple[int, int]], chunk: int, profile: str) -> None:
    data = bytearray(_init() + _clusters(False, 3000))
    for pos, val in muts:
        if pos < len(data):
            data[pos] = val
    same(bytes(data), MUXED, profile=profile, chunk=chunk)
