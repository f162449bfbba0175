"""The reader-less decoders of the per-fragment boxes (``boxes.FAST_DECODERS``) agree with the Reader
decoders field for field, error for error.

The walker tries the fast decoder first and falls back to the Reader decoder when it declines, so the tree
must be the one the Reader decoder alone builds: the same fields in the same order (``inspect`` prints
them in order), the same ``decoded`` flag and the same issue (message and offset) for every payload,
whole, cut short at every length, or random bytes. The same holds for the reader's direct builder of
common moofs (``reader._plain_moof``) against the general walk.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.binary import Reader
from msetool.bmff.boxes import DECODERS, FAST_DECODERS
from msetool.bmff.reader import parse_bytes
from msetool.bmff.tree import Box, BoxIssue
from msetool.errors import ParseError
from tests.unit.bmff import builder as B

FAST_TYPES = sorted(FAST_DECODERS)


Decoded = tuple[list[tuple[str, Any]], bool, list[str]]


def reader_only(box_type: str, payload: bytes, base: int = 0) -> Decoded:
    """What the Reader decoder alone makes of ``payload``: (fields in order, decoded, issue texts)."""
    box = Box(box_type, base, 8 + len(payload), 8, box_type)
    r = Reader(payload, 0, len(payload), base=base + 8, path=box.path)
    issues = []
    try:
        DECODERS[box_type](r, box)
        box.decoded = True
    except ParseError as e:
        issues.append(f"{e.offset}: {e.reason}")
    return list(box.fields.items()), box.decoded, issues


def walked(box_type: str, payload: bytes, base: int = 0) -> Decoded:
    """What the walker (fast decoder first) makes of the same box."""
    issues: list[BoxIssue] = []
    (box,) = parse_bytes(B.box(box_type, payload), base=base, issues=issues)
    return list(box.fields.items()), box.decoded, [f"{i.offset}: {i.message}" for i in issues]


def payloads() -> list[tuple[str, bytes]]:
    """Every flag combination the decoders branch on, each payload whole."""
    out: list[tuple[str, bytes]] = [("mfhd", struct.pack(">II", 0, 7))]
    for flags in range(0x40):
        body = struct.pack(">I", 9)
        body += struct.pack(">Q", 1 << 40) if flags & 1 else b""
        bits = (2, 8, 0x10, 0x20)
        body += b"".join(struct.pack(">I", 100 + i) for i, bit in enumerate(bits) if flags & bit)
        for extra in (0, 0x010000, 0x020000):
            out.append(("tfhd", struct.pack(">I", flags | extra) + body))
    for version in (0, 1):
        t = struct.pack(">Q", (1 << 33) + 5) if version else struct.pack(">I", 12345)
        out.append(("tfdt", struct.pack(">I", version << 24) + t))
    for version in (0, 1):
        for flags in range(0x10):
            for n in (0, 1, 3):
                cols = [bit for bit in (0x100, 0x200, 0x400, 0x800) if (flags << 8) & bit]
                body = struct.pack(">I", n)
                body += struct.pack(">i", -8) if flags & 1 else b""  # bit 0: data_offset
                body += struct.pack(">I", 0x02000000) if flags & 2 else b""  # bit 1 -> first_sample_flags
                head = (1 if flags & 1 else 0) | (4 if flags & 2 else 0)
                body += b"".join(struct.pack(">I", 0xFFFFFF00 + i * 16 + c)
                                 for i in range(n) for c in range(len(cols)))
                out.append(("trun", struct.pack(">I", (version << 24) | head | (flags << 8)) + body))
    return out


@pytest.mark.parametrize("box_type", FAST_TYPES)
def test_every_flag_combination_and_every_truncation_agrees(box_type: str) -> None:
    cases = [p for t, p in payloads() if t == box_type]
    assert cases
    for payload in cases:
        for cut in range(len(payload) + 1):
            cut_short = payload[:cut]
            assert walked(box_type, cut_short, base=1000) == reader_only(box_type, cut_short, base=1000)


def test_signed_composition_offsets_in_version_1_only() -> None:
    for version, want in ((0, [0xFFFFFFFF, 5]), (1, [-1, 5])):
        payload = struct.pack(">III", (version << 24) | 0x800, 2, 0xFFFFFFFF) + struct.pack(">I", 5)
        fields = dict(walked("trun", payload)[0])
        assert fields["sample_composition_time_offset"] == want


def test_count_limits_give_the_reader_decoders_errors() -> None:
    huge = struct.pack(">II", 0x200, 1 << 25)  # sample sizes for 2^25 samples, no bytes behind
    uniform = struct.pack(">II", 0, (1 << 18) + 1)  # no per-sample fields, count over the limit
    for payload in (huge, uniform):
        got = walked("trun", payload)
        assert got == reader_only("trun", payload)
        assert not got[1] and got[2]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(box_type=st.sampled_from(FAST_TYPES), payload=st.binary(max_size=80))
def test_random_payloads_agree(box_type: str, payload: bytes) -> None:
    assert walked(box_type, payload) == reader_only(box_type, payload)


def test_a_real_fragment_tree_is_unchanged_by_the_fast_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    data = B.init_segment() + B.fragment([B.Traf(runs=[B.Run([10, 20], [512, 512], [B.SYNC, B.NON_SYNC],
                                                             ctos=[0, -512], version=1)])])
    fast = [b.to_json() for b in parse_bytes(data)]
    monkeypatch.setattr("msetool.bmff.reader.FAST_DECODERS", {})
    monkeypatch.setattr("msetool.bmff.reader._plain_moof", lambda *a: None)  # the direct moof builder too
    slow = [b.to_json() for b in parse_bytes(data)]
    assert fast == slow


def trees(data: bytes, max_depth: int = 24) -> tuple[list[Any], list[Any]]:
    issues: list[BoxIssue] = []
    boxes = parse_bytes(data, base=3, issues=issues, max_depth=max_depth)
    return [b.to_json() for b in boxes], [i.to_json() for i in issues]


def both_walks(data: bytes, monkeypatch: pytest.MonkeyPatch, max_depth: int = 24) -> None:
    """The tree of ``data`` with the direct moof builder equals the general walk's."""
    direct = trees(data, max_depth)
    with monkeypatch.context() as m:
        m.setattr("msetool.bmff.reader._plain_moof", lambda *a: None)
        walk = trees(data, max_depth)
    assert direct == walk


TWO_TRACKS = B.fragment([B.Traf(runs=[B.Run([10, 20], [512, 512]), B.Run([5], [512])]),
                         B.Traf(track_id=2, runs=[B.Run([7, 7], [1024, 1024])])], sequence_number=4)


@pytest.mark.parametrize("name, data", [
    ("two trafs, two truns", TWO_TRACKS),
    ("no mfhd", B.box("moof", B.box("traf", B.full("tfhd", 0, 0x20000, b"\0\0\0\1")
                                    + B.full("tfdt", 0, 0, b"\0\0\0\0")))),
    ("traf without tfdt", B.fragment([B.Traf(decode_time=None)])),
    ("two tfhd", B.box("moof", B.full("mfhd", 0, 0, b"\0\0\0\1") + B.box(
        "traf", B.full("tfhd", 0, 0, b"\0\0\0\1") * 2 + B.full("tfdt", 0, 0, b"\0\0\0\0")))),
    ("sdtp in the traf", B.box("moof", B.full("mfhd", 0, 0, b"\0\0\0\1") + B.box(
        "traf", B.full("tfhd", 0, 0, b"\0\0\0\1") + B.full("tfdt", 0, 0, b"\0\0\0\0")
        + B.full("sdtp", 0, 0, b"\x10\x20")))),
    ("trailing bytes in the traf", B.box("moof", B.full("mfhd", 0, 0, b"\0\0\0\1") + B.box(
        "traf", B.full("tfhd", 0, 0, b"\0\0\0\1") + B.full("tfdt", 0, 0, b"\0\0\0\0") + b"\0\0\0"))),
    ("short tfhd", B.box("moof", B.full("mfhd", 0, 0, b"\0\0\0\1") + B.box(
        "traf", B.full("tfhd", 0, 0x8, b"\0\0\0\1") + B.full("tfdt", 0, 0, b"\0\0\0\0")))),
    ("cut short", TWO_TRACKS[:150]),
])
def test_direct_moof_builder_matches_the_walk(name: str, data: bytes,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for max_depth in (1, 2, 3, 24):
        both_walks(data, monkeypatch, max_depth)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(at=st.integers(0, len(TWO_TRACKS) - 1), new=st.binary(min_size=1, max_size=4))
def test_direct_moof_builder_matches_the_walk_on_mutations(at: int, new: bytes) -> None:
    mp = pytest.MonkeyPatch()
    try:
        both_walks(TWO_TRACKS[:at] + new + TWO_TRACKS[at + len(new):], mp)
    finally:
        mp.undo()
