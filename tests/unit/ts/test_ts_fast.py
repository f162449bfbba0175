"""Validate's TS fast loops (TsStreamParser.fast, msetool.rules.ts.FAST) against the general per-packet path.

Both loops handle only packets that cannot change anything but a PES buffer or a continuity counter; these
tests run ffmpeg-made TS, damaged copies of it (lost sync, malformed adaptation fields, continuity gaps,
duplicates, transport errors, payload_unit_start flips) and arbitrary byte mutations through both paths and
require the same parser events and the same findings.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import msetool.rules.ts as rules_ts
from msetool.rules.engine import validate_stream
from msetool.source import BytesSource
from msetool.stream import ParserEvent
from msetool.ts.packets import plain_run
from msetool.ts.stream import TsStreamParser
from tests.unit.ts.helpers import MIME, feed_all, packets, pid_of


def _events(data: bytes, chunks: list[int] | None, fast: bool,
            monkeypatch: pytest.MonkeyPatch) -> list[ParserEvent]:
    with monkeypatch.context() as m:
        m.setattr(TsStreamParser, "fast", fast)
        p, events = feed_all(data, chunks)
        p.reset()
        return events + p.take_reset_events()


def _findings(data: bytes, fast: bool, monkeypatch: pytest.MonkeyPatch,
              chunk: int = 188 * 4096) -> list[tuple[object, ...]]:
    with monkeypatch.context() as m:
        m.setattr(rules_ts, "FAST", fast)
        m.setattr(rules_ts, "_CHUNK", chunk)
        m.setattr(TsStreamParser, "fast", fast)
        v = validate_stream([BytesSource(data, "seg.ts")], MIME)
    return [(f.rule, f.severity, f.offset, f.message) for f in v.findings]


def _same(data: bytes, monkeypatch: pytest.MonkeyPatch, chunks: list[int] | None = None) -> None:
    assert _events(data, chunks, True, monkeypatch) == _events(data, chunks, False, monkeypatch)
    for chunk in (188 * 4096, 188 * 7 + 5):
        assert _findings(data, True, monkeypatch, chunk) == _findings(data, False, monkeypatch, chunk)


@pytest.mark.parametrize("chunks", [None, [1000] * 200, [188 * 5 + 7] * 100, [188] * 300])
def test_ffmpeg_stream_same_events(ts_bytes: bytes, chunks: list[int] | None,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    events = _events(ts_bytes, chunks, True, monkeypatch)
    assert len(events) > 3
    assert events == _events(ts_bytes, chunks, False, monkeypatch)


def test_ffmpeg_stream_same_findings(ts_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    for chunk in (188 * 4096, 188 * 7 + 5, 188 * 4 + 1):
        assert _findings(ts_bytes, True, monkeypatch, chunk) == _findings(ts_bytes, False, monkeypatch, chunk)


def _damaged(ts_bytes: bytes) -> dict[str, bytes]:
    pk = packets(ts_bytes)
    vpid = pid_of(pk[40])
    media = [i for i in range(30, len(pk)) if pid_of(pk[i]) == vpid]
    out: dict[str, bytes] = {}
    d = bytearray(ts_bytes)
    d[188 * 50] = 0
    out["lost sync"] = bytes(d)
    out["cut"] = ts_bytes[: 188 * 60 + 17] + ts_bytes[188 * 61 :]
    out["cc gap"] = b"".join(p for i, p in enumerate(pk) if i != media[5])
    out["duplicate"] = b"".join(p * (2 if i == media[6] else 1) for i, p in enumerate(pk))
    d = bytearray(ts_bytes)
    d[188 * media[7] + 1] |= 0x80
    out["transport error"] = bytes(d)
    d = bytearray(ts_bytes)
    d[188 * media[8] + 1] ^= 0x40
    out["pusi flip"] = bytes(d)
    d = bytearray(ts_bytes)
    d[188 * media[9] + 3] = (d[188 * media[9] + 3] & 0xCF) | 0x30  # adaptation field in a payload packet
    d[188 * media[9] + 4] = 190
    out["bad adaptation field"] = bytes(d)
    out["no PAT"] = b"".join(p for p in pk if pid_of(p) != 0)
    return out


@pytest.mark.parametrize("name", ["lost sync", "cut", "cc gap", "duplicate", "transport error", "pusi flip",
                                  "bad adaptation field", "no PAT"])
def test_damaged_streams_same_events_and_findings(ts_bytes: bytes, name: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    data = _damaged(ts_bytes)[name]
    _same(data, monkeypatch)
    _same(data, monkeypatch, [188 * 3 + 11] * 200)


@settings(derandomize=True, max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(muts=st.lists(st.tuples(st.integers(0, 188 * 120), st.integers(0, 255)), min_size=1, max_size=6))
def test_mutations_same_events_and_findings(ts_bytes: bytes, muts: list[tuple[int, int]],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    data = bytearray(ts_bytes[: 188 * 400])
    for pos, val in muts:
        data[pos] = val
    _same(bytes(data), monkeypatch)


def _naive_run(buf: bytes, pos: int, n: int, next_cc: int) -> int:
    k = 0
    while k < n:
        p = pos + k * 188
        if buf[p + 1] != buf[pos + 1] or buf[p + 2] != buf[pos + 2] or buf[p + 3] & 0x30 != 0x10:
            break
        if next_cc >= 0 and buf[p + 3] != (buf[pos + 3] & 0xF0) | ((next_cc + k) & 15):
            break
        k += 1
    return k


@settings(derandomize=True, max_examples=200, deadline=None)
@given(heads=st.lists(st.tuples(st.sampled_from([0x01, 0x41, 0x81]), st.sampled_from([0x00, 0x01]),
                                st.integers(0, 255)), min_size=1, max_size=40),
       next_cc=st.integers(-1, 15))
def test_plain_run_matches_a_packet_by_packet_count(heads: list[tuple[int, int, int]], next_cc: int) -> None:
    buf = b"".join(bytes([0x47, b1, b2, b3]) + bytes(184) for b1, b2, b3 in heads)
    # a clean counter sequence now and then, so long runs are tested too
    if next_cc >= 0 and len(heads) > 3:
        buf = b"".join(bytes([0x47, 0x01, 0x00, 0x10 | ((next_cc + j) & 15)]) + bytes(184)
                       for j in range(len(heads) // 2)) + buf
    n = len(buf) // 188
    assert plain_run(buf, 0, n, next_cc=next_cc) == _naive_run(buf, 0, n, next_cc)
