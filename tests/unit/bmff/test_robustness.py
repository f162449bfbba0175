"""No input, however broken, makes the reader, the model or the stream parser raise or hang.

Mutations of real ffmpeg segments (hypothesis, derandomized) and hand-built pathological inputs: the
only allowed outcomes are issues/problems (reader, model) and ParseFailed as the last event (parser).
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msetool.bmff import read_boxes
from msetool.bmff.segments import iter_segments
from msetool.bmff.stream import BmffStreamParser
from msetool.codecs.derive import derive
from msetool.mime import parse_mime
from msetool.source import BytesSource
from msetool.stream import ParseFailed, ParserEvent
from tests import media
from tests.unit.bmff import builder as B

MIME = parse_mime('video/mp4; codecs="avc1.42C00D,mp4a.40.2"')


@pytest.fixture(scope="module")
def seed_stream() -> bytes:
    """A real init segment + first fragment, with the mdat cut short so mutations land on headers."""
    p = media.make("avc-aac-1s", [*media.VIDEO_SRC, *media.AUDIO_SRC, "-t", "1", *media.H264, *media.AAC,
                                  "-movflags", "+frag_keyframe+empty_moov+default_base_moof",
                                  "-frag_duration", "500000"])
    data = p.read_bytes()
    moof = data.find(b"moof") - 4
    mdat = data.find(b"mdat", moof) - 4
    return data[: mdat + 8 + 3000]


def check_everything(data: bytes) -> None:
    tree = read_boxes(BytesSource(data))
    for b in tree.walk():
        if b.path.count("/") and b.path.split("/")[-2].startswith("stsd"):
            derive(b)
    for _ in iter_segments(BytesSource(data)):
        pass
    for profile in ("chromium", "spec"):
        whole = BmffStreamParser(mime=MIME, profile=profile).feed(data)
        assert_well_formed(whole)
        p = BmffStreamParser(mime=MIME, profile=profile)
        split = p.feed(data[: len(data) // 3]) + p.feed(data[len(data) // 3 :])
        assert_well_formed(split)
        assert [type(e) for e in whole if isinstance(e, ParseFailed)] == [
            type(e) for e in split if isinstance(e, ParseFailed)]


def assert_well_formed(events: list[ParserEvent]) -> None:
    fails = [i for i, e in enumerate(events) if isinstance(e, ParseFailed)]
    assert fails in ([], [len(events) - 1])


mutation = st.tuples(st.integers(min_value=0, max_value=4000), st.integers(min_value=0, max_value=255))


@settings(derandomize=True, max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(muts=st.lists(mutation, min_size=1, max_size=6),
       cut=st.none() | st.integers(min_value=0, max_value=6000))
def test_mutated_real_segments_never_raise(seed_stream: bytes, muts: list[tuple[int, int]],
                                           cut: int | None) -> None:
    data = bytearray(seed_stream)
    for pos, val in muts:
        if pos < len(data):
            data[pos] = val
    if cut is not None:
        data = data[:cut]
    check_everything(bytes(data))


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    check_everything(data)
    check_everything(B.init_segment() + data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\0",
        b"\0\0\0\x08",
        b"\0\0\0\0moov",
        b"\0\0\0\x01moof",
        b"\0\0\0\x01moof" + struct.pack(">Q", 4),
        b"\0\0\0\x01moof" + struct.pack(">Q", 1 << 63),
        b"\xff\xff\xff\xffmoov",
        struct.pack(">I4s", 8, b"uuid"),
        B.box("moov", B.box("trak", b"")),
        B.init_segment() + B.box("moof", B.box("traf", b"")),
        B.init_segment() + B.box("moof", B.full("mfhd", 0, 0, b"\0\0\0\1")
                                 + B.box("traf", B.full("tfhd", 0, 0))),
    ],
    ids=lambda d: d[:12].hex() or "empty",
)
def test_pathological_inputs(data: bytes) -> None:
    check_everything(data)


def test_deeply_nested_boxes() -> None:
    inner = B.box("free")
    for _ in range(5000):
        inner = B.box("moov", inner)
    tree = read_boxes(BytesSource(inner))
    assert any(i.kind == "too-deep" for i in tree.issues)
    events = BmffStreamParser(mime=MIME).feed(inner)
    assert isinstance(events[-1], ParseFailed)


def test_oversize_box_does_not_allocate() -> None:
    # A moof claiming 2 GiB: the reader keeps it opaque-and-truncated, the parser waits for data.
    data = B.init_segment() + struct.pack(">I4s", 0x7FFFFFF0, b"moof") + b"\0" * 100
    tree = read_boxes(BytesSource(data))
    assert tree.boxes[-1].truncated
    p = BmffStreamParser(mime=parse_mime('video/mp4; codecs="avc1.42C00D"'))
    events = p.feed(data)
    assert not [e for e in events if isinstance(e, ParseFailed)]
    assert len(p._buf) < 1 << 20  # nothing was pre-allocated for the declared size


def test_huge_trun_sample_count_is_refused() -> None:
    trun = B.full("trun", 0, 0x200, struct.pack(">I", 0xFFFFFFFF))
    moof = B.box("moof", B.full("mfhd", 0, 0, b"\0\0\0\1") + B.box(
        "traf", B.full("tfhd", 0, 0x020000, b"\0\0\0\1") + B.full("tfdt", 0, 0, b"\0\0\0\0") + trun))
    events = BmffStreamParser(mime=parse_mime("video/mp4")).feed(B.init_segment() + moof)
    assert isinstance(events[-1], ParseFailed) and events[-1].rule == "BMFF-BOX-03"
