"""The BMFF checker's tree-less path for common moofs (``rules.bmff.plain_moof``) reports exactly what the
box-tree path reports.

The checker reads a moof of the usual shape (mfhd, trafs of tfhd/tfdt/trun) from its fields and falls back
to the box tree whenever a rule could fire. Each test runs ``check_stream`` twice, once as shipped and once
with the fast path switched off, and compares every finding (rule, severity, message, offset, box) and
their order: on ffmpeg output, on hand-built fragments that break one rule each, and on hypothesis
mutations of moof bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msetool.rules import bmff as rb
from msetool.rules.engine import CheckContext, ValidateOptions
from msetool.rules.findings import Finding
from msetool.source import BytesSource
from tests import media
from tests.unit.bmff import builder as B


def check(data: bytes, *, abort: bool = False, timeline: bool = True) -> list[Finding]:
    ctx = CheckContext(BytesSource(data), None, [], ValidateOptions(raw_timeline=timeline), {}, abort, (0,))
    return rb.check_stream(ctx)


def both(data: bytes, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> tuple[list[Finding], list[Finding], int]:
    """(findings with the fast path, findings with the tree only, moofs the fast path proved clean)."""
    clean = 0
    real = rb._plain_moof_clean

    def counting(*a: Any, **k: Any) -> bool:
        nonlocal clean
        ok = real(*a, **k)
        clean += ok
        return ok

    with monkeypatch.context() as m:
        m.setattr(rb, "_plain_moof_clean", counting)
        fast = check(data, **kw)
    with monkeypatch.context() as m:
        m.setattr(rb, "plain_moof", lambda box, data: None)
        slow = check(data, **kw)
    return fast, slow, clean


@pytest.fixture(scope="module")
def ffmpeg_stream() -> bytes:
    return media.fmp4_avc_aac().read_bytes()


def test_clean_ffmpeg_stream_goes_tree_less_and_agrees(ffmpeg_stream: bytes,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for kw in ({}, {"abort": True}, {"timeline": False}):
        fast, slow, clean = both(ffmpeg_stream, monkeypatch, **kw)
        assert fast == slow
        # every fragment after the first (whose first frames are checked from the tree) is proved clean
        assert clean >= ffmpeg_stream.count(b"moof") - 2


def _frag(seq: int, time: int | None, **traf: Any) -> bytes:
    return B.fragment([B.Traf(decode_time=time, **traf)], sequence_number=seq)


def _bump_offset(frag: bytes, by: int) -> bytes:
    """The trun's data_offset moved ``by`` bytes (its samples then lie past the mdat)."""
    i = frag.find(b"trun") + 4 + 8
    (off,) = struct.unpack_from(">i", frag, i)
    return frag[:i] + struct.pack(">i", off + by) + frag[i + 4:]


def _overlap() -> bytes:
    """Two trafs whose runs start at the same byte."""
    frag = B.fragment([B.Traf(decode_time=1536, runs=[B.Run([10, 10], [512, 512])]),
                       B.Traf(track_id=2, decode_time=4800, runs=[B.Run([10, 10], [1024, 1024])])])
    first = frag.find(b"trun") + 12
    second = frag.find(b"trun", first) + 12
    return frag[:second] + frag[first:first + 4] + frag[second + 4:]


AUDIO = B.Track(track_id=2, handler="soun", timescale=48000, entry=B.audio_entry())
#: one fragment per rule the fast path must leave to the tree (the clean one after it must still agree)
BROKEN: dict[str, Callable[[], bytes]] = {
    "repeated sequence_number": lambda: _frag(1, 1536) + _frag(1, 3072),
    "zero-size sample": lambda: _frag(1, 1536, runs=[B.Run([100, 0, 50], [512] * 3, [B.SYNC, B.NON_SYNC,
                                                                                     B.NON_SYNC])]),
    "reserved sample_depends_on": lambda: _frag(1, 1536, runs=[B.Run([10, 10], [512, 512],
                                                                     [0x03000000, B.NON_SYNC])]),
    "large v0 composition offset": lambda: _frag(1, 1536, runs=[B.Run([10], [512], [B.SYNC],
                                                                      ctos=[0x80000000])]),
    "base-data-offset": lambda: _frag(1, 1536, base_data_offset=0),
    "unknown track": lambda: _frag(1, 1536, track_id=9),
    "no data_offset": lambda: _frag(1, 1536, runs=[B.Run([10], [512], [B.SYNC], data_offset=False)]),
    "no tfdt": lambda: _frag(1, None),
    "default flags non-sync": lambda: _frag(1, 1536, runs=[B.Run([10, 10], [512, 512])],
                                            default_flags=0x03000000),
    "audio non-sync": lambda: B.fragment([B.Traf(track_id=2, decode_time=4800, runs=[
        B.Run([10, 10], [1024, 1024], [B.NON_SYNC, B.NON_SYNC])])], sequence_number=1),
    "two trafs without default-base-is-moof": lambda: B.fragment(
        [B.Traf(decode_time=1536, default_base_is_moof=False),
         B.Traf(track_id=2, decode_time=4800, default_base_is_moof=False,
                runs=[B.Run([10, 10], [1024, 1024])])]),
    "samples past the mdat": lambda: _bump_offset(_frag(1, 1536), 1000),
    "last sample one byte past the mdat": lambda: _bump_offset(_frag(1, 1536), 1),
    "first sample inside the mdat header": lambda: _bump_offset(_frag(1, 1536), -1),
    "overlapping runs": _overlap,
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_rule_the_fast_path_guards_still_reports(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    init = B.init_segment([B.Track(), AUDIO])
    clean_first = B.fragment([B.Traf(decode_time=0), B.Traf(track_id=2, decode_time=0,
                                                            runs=[B.Run([10, 10], [1024, 1024])])],
                             sequence_number=0)
    data = init + clean_first + BROKEN[name]() + _frag(50, 1 << 20)
    fast, slow, _ = both(data, monkeypatch)
    assert fast == slow
    assert {f.rule for f in slow} - {f.rule for f in check(init + clean_first, timeline=True)}, (
        f"{name}: the broken fragment should give a finding")


@pytest.fixture(scope="module")
def seed(ffmpeg_stream: bytes) -> tuple[bytes, list[tuple[int, int]]]:
    """The ffmpeg stream and the (start, end) of each moof, where mutations land."""
    spans = []
    pos = 0
    while pos + 8 <= len(ffmpeg_stream):
        size, kind = struct.unpack_from(">I4s", ffmpeg_stream, pos)
        if kind == b"moof":
            spans.append((pos, pos + size))
        pos += max(size, 8)
    return ffmpeg_stream, spans


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=st.tuples(st.integers(0, 10_000), st.integers(0, 10_000), st.binary(min_size=1, max_size=4)),
       abort=st.booleans())
def test_moof_mutations_agree(seed: tuple[bytes, list[tuple[int, int]]], mutation: tuple[int, int, bytes],
                              abort: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    data, spans = seed
    which, at, new = mutation
    start, end = spans[which % len(spans)]
    i = start + at % (end - start)
    mutated = data[:i] + new + data[i + len(new):]
    fast, slow, _ = both(mutated, monkeypatch, abort=abort)
    assert fast == slow
