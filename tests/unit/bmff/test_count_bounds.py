"""Count fields never drive allocation: every entry/sample count is bounded by the bytes that hold its
entries (or, where nothing in the bytes bounds it, by a fixed ceiling), so a corrupt count ends in an issue,
a model problem or ParseFailed, never a MemoryError, a hang or gigabytes of sample rows.

Each case is built byte by byte; the hypothesis test writes huge values over the count fields of a valid
segment.
"""

from __future__ import annotations

import resource
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.bmff import parse_bytes, read_boxes
from msetool.bmff.segments import iter_segments
from msetool.bmff.stream import BmffStreamParser
from msetool.mime import parse_mime
from msetool.source import BytesSource
from msetool.stream import FramesParsed, ParseFailed
from tests.unit.bmff import builder as B

MIME = parse_mime('video/mp4; codecs="avc1.42C00D"')
HUGE = 0xF0000000
#: A generous ceiling for what any single case may add to the process' peak memory.
MAX_GROWTH_KB = 200 * 1024


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _moof(*trafs: bytes) -> bytes:
    return B.box("moof", B.full("mfhd", 0, 0, b"\0\0\0\1") + b"".join(trafs))


def _traf(*children: bytes, flags: int = 0x020000, extra: bytes = b"") -> bytes:
    return B.box("traf", B.full("tfhd", 0, flags, b"\0\0\0\1" + extra) + B.full("tfdt", 0, 0, b"\0\0\0\0")
                 + b"".join(children))


def _outcome(data: bytes) -> list[object]:
    """Everything the reader, the model and both parser profiles say; asserts nothing grows unboundedly."""
    before = _peak_kb()
    tree = read_boxes(BytesSource(data))
    problems = [e.problem for e in iter_segments(BytesSource(data)) if e.kind == "problem"]
    problems += [p for e in iter_segments(BytesSource(data), dialect="chromium") if e.fragment
                 for p in e.fragment.problems]
    out: list[object] = [*tree.issues, *problems]
    for profile in ("chromium", "spec"):
        events = BmffStreamParser(mime=MIME, profile=profile).feed(data)
        fails = [i for i, e in enumerate(events) if isinstance(e, ParseFailed)]
        assert fails in ([], [len(events) - 1])
        frames = sum(len(e.frames) for e in events if isinstance(e, FramesParsed))
        assert frames < 1 << 16
        out += [e for e in events if isinstance(e, ParseFailed)]
    assert _peak_kb() - before < MAX_GROWTH_KB
    return out


def test_trun_without_fields_huge_count_fails_before_expanding() -> None:
    # the reported reproducer: no per-sample fields, sample_count 0xF00000, default size/duration in tfhd
    trun = B.full("trun", 0, 0x1, struct.pack(">Ii", 0xF00000, 0))
    traf = _traf(trun, flags=0x020000 | 0x8 | 0x10 | 0x20, extra=struct.pack(">III", 1, 1, B.SYNC))
    data = B.init_segment() + _moof(traf) + B.box("mdat", b"\0" * 64)
    out = _outcome(data)
    fails = [e for e in out if isinstance(e, ParseFailed)]
    assert len(fails) == 2 and all(f.rule == "BMFF-BOX-03" for f in fails)
    assert any("sample_count" in f.message for f in fails)


def test_many_small_truns_share_one_budget() -> None:
    # 2000 field-less truns of 2^17 samples each: each under the per-trun ceiling, together 2^28 samples.
    trun = B.full("trun", 0, 0, struct.pack(">I", 1 << 17))
    traf = _traf(*([trun] * 2000), flags=0x020000 | 0x10, extra=struct.pack(">I", 1))
    out = _outcome(B.init_segment() + _moof(traf))
    assert any(isinstance(e, ParseFailed) and "declares" in e.message for e in out)
    assert any(isinstance(e, tuple) and "declares" in e[0] for e in out)


def test_trun_fields_count_bounded_by_bytes() -> None:
    trun = B.full("trun", 0, 0x300, struct.pack(">I", HUGE) + b"\0" * 64)
    out = _outcome(B.init_segment() + _moof(_traf(trun)))
    assert any(isinstance(e, ParseFailed) and e.rule == "BMFF-BOX-03" for e in out)


@pytest.mark.parametrize(
    "box",
    [
        B.full("sbgp", 0, 0, b"seig" + struct.pack(">I", HUGE) + b"\0" * 16),
        B.full("sgpd", 1, 0, b"seig" + struct.pack(">II", 0, HUGE) + b"\0" * 16),
        B.full("sgpd", 0, 0, b"seig" + struct.pack(">I", HUGE) + b"\0" * 16),
        B.full("sgpd", 2, 0, b"seig" + struct.pack(">II", 0, HUGE) + b"\0" * 16),
        B.full("sgpd", 2, 0, b"roll" + struct.pack(">II", 0, HUGE)),
        B.full("sgpd", 1, 0, b"roll" + struct.pack(">II", 0, HUGE) + b"\0" * 8),
        B.full("sgpd", 1, 0, b"roll" + struct.pack(">II", 2, HUGE) + b"\0" * 8),
        B.full("senc", 0, 2, struct.pack(">I", HUGE) + b"\0" * 16),
        B.full("saiz", 0, 0, b"\0" + struct.pack(">I", HUGE) + b"\0" * 16),
        B.full("saio", 1, 0, struct.pack(">I", HUGE) + b"\0" * 16),
        B.full("sdtp", 0, 0, b"\x10" * 32),
    ],
    ids=["sbgp", "sgpd-v1", "sgpd-v0-seig", "sgpd-v2-seig", "sgpd-v2-roll", "sgpd-v1-roll-varlen",
         "sgpd-v1-roll-fixed", "senc", "saiz", "saio", "sdtp"],
)
def test_traf_tables_with_huge_counts(box: bytes) -> None:
    trun = B.full("trun", 0, 0x201, struct.pack(">Ii", 1, 0) + struct.pack(">I", 4))
    _outcome(B.init_segment() + _moof(_traf(trun, box)) + B.box("mdat", b"\0\0\0\0"))
    # the reader alone, without the parser's acceptance rules
    boxes = parse_bytes(box)
    assert len(str(boxes[0].fields)) < 10_000


@pytest.mark.parametrize(
    "box",
    [
        B.full("stts", 0, 0, struct.pack(">I", HUGE)),
        B.full("ctts", 0, 0, struct.pack(">I", HUGE)),
        B.full("stsz", 0, 0, struct.pack(">II", 0, HUGE)),
        B.full("stsc", 0, 0, struct.pack(">I", HUGE)),
        B.full("stco", 0, 0, struct.pack(">I", HUGE)),
        B.full("elst", 0, 0, struct.pack(">I", HUGE) + b"\0" * 12),
        B.full("elst", 1, 0, struct.pack(">I", HUGE) + b"\0" * 20),
        B.full("sidx", 0, 0, b"\0" * 16 + struct.pack(">HH", 0, 0xFFFF) + b"\0" * 12),
        B.full("pssh", 1, 0, b"\0" * 16 + struct.pack(">I", HUGE)),
        B.full("stsd", 0, 0, struct.pack(">I", HUGE)),
        B.full("dref", 0, 0, struct.pack(">I", HUGE)),
    ],
    ids=["stts", "ctts", "stsz", "stsc", "stco", "elst-v0", "elst-v1", "sidx", "pssh", "stsd", "dref"],
)
def test_table_boxes_with_huge_counts(box: bytes) -> None:
    before = _peak_kb()
    boxes = parse_bytes(box)
    assert boxes and len(str(boxes[0].fields)) < 10_000
    read_boxes(BytesSource(B.init_segment() + box))
    assert _peak_kb() - before < MAX_GROWTH_KB


def test_sample_entry_counts_and_nesting_in_stsd() -> None:
    # stsd claiming 2^32-1 entries holding thousands of nested boxes: bounded by bytes and depth
    inner = B.box("free")
    for _ in range(200):
        inner = B.box("avc1", b"\0" * 78 + inner)
    stsd = B.full("stsd", 0, 0, struct.pack(">I", 0xFFFFFFFF) + inner)
    moov = B.box("moov", B.box("trak", B.box("mdia", B.box("minf", B.box("stbl", stsd)))))
    _outcome(B.init_segment() + moov + _moof(_traf()))


count_field = st.sampled_from([0xFFFFFFFF, 0xF0000000, 0x7FFFFFFF, 0x01000000, 0x00F00000, 0x00040001,
                               0x0000FFFF])


@settings(derandomize=True, max_examples=60, deadline=None)
@given(which=st.integers(min_value=0, max_value=40), value=count_field,
       trun_flags=st.sampled_from([0x000, 0x001, 0x005, 0x100, 0x200, 0x301, 0xF01]))
def test_count_mutations_never_scale_memory(which: int, value: int, trun_flags: int) -> None:
    """Overwrite one 32-bit word after a count-bearing box header with a huge count."""
    trun = B.full("trun", 0, trun_flags, struct.pack(">I", 2) + b"\0" * 40)
    traf = _traf(trun, B.full("sbgp", 0, 0, b"seig" + struct.pack(">I", 1) + b"\0" * 8),
                 B.full("sgpd", 1, 0, b"seig" + struct.pack(">II", 20, 1) + b"\0" * 20),
                 B.full("saiz", 0, 0, b"\x08" + struct.pack(">I", 2)),
                 B.full("saio", 0, 0, struct.pack(">II", 1, 0)),
                 flags=0x020000 | 0x10, extra=struct.pack(">I", 4))
    data = bytearray(B.init_segment() + _moof(traf) + B.box("mdat", b"\0" * 64))
    spots = [i for i in range(len(data) - 8) if data[i + 4 : i + 8] in (
        b"trun", b"sbgp", b"sgpd", b"saiz", b"saio", b"elst", b"stsd", b"stts", b"stsz", b"trex", b"tfhd")]
    targets = [s + 12 + k * 4 for s in spots for k in range(3)]
    pos = targets[which % len(targets)]
    if pos + 4 <= len(data):
        data[pos : pos + 4] = struct.pack(">I", value)
    _outcome(bytes(data))
