"""Mutated segments give findings, never exceptions or hangs (hypothesis, derandomized)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msetool.rules.engine import Slice, validate_stream
from msetool.source import BytesSource
from tests.unit.rules import fmp4

BASE = fmp4.init() + fmp4.fragment() + fmp4.fragment(decode_time=120, sequence=2)

mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, len(BASE) - 1), st.integers(0, 255)),
    st.tuples(st.just("cut"), st.integers(0, len(BASE) - 1), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, len(BASE) - 1), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, len(BASE) - 1), st.integers(1, 16)),
)


def mutate(data: bytes, ops: list[tuple[str, int, int]]) -> bytes:
    b = bytearray(data)
    for kind, at, val in ops:
        pos = min(at, max(len(b) - 1, 0))
        if kind == "flip" and b:
            b[pos] = val
        elif kind == "cut":
            del b[pos:]
        elif kind == "insert":
            b[pos:pos] = bytes([val]) * 4
        elif kind == "delete":
            del b[pos : pos + val]
    return bytes(b)


@settings(max_examples=120, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(mutation, min_size=1, max_size=4), split=st.integers(0, len(BASE)))
def test_mutations_give_findings_not_exceptions(ops: list[tuple[str, int, int]], split: int) -> None:
    data = mutate(BASE, ops)
    split = min(split, len(data))
    parts = [Slice(BytesSource(data[:split], "a.mp4")), Slice(BytesSource(data[split:], "b.m4s"))]
    v = validate_stream(parts, 'video/mp4; codecs="avc1.4D400D"')
    assert not [f for f in v.findings if f.rule == "GEN-INTERNAL-01"], [f.message for f in v.findings]
    for f in v.findings:
        assert f.file in ("a.mp4", "b.m4s")


@settings(max_examples=40, derandomize=True, deadline=None)
@given(data=st.binary(min_size=0, max_size=300))
def test_random_bytes(data: bytes) -> None:
    v = validate_stream([BytesSource(data, "x.bin")], None)
    assert not [f for f in v.findings if f.rule == "GEN-INTERNAL-01"]


@pytest.fixture(scope="module")
def real_stream(avc_segments: tuple[Path, list[Path]]) -> bytes:
    """An ffmpeg-made init segment and first media segment, concatenated."""
    init, segs = avc_segments
    return init.read_bytes() + segs[0].read_bytes()


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutations_of_real_segments(real_stream: bytes, data: st.DataObject) -> None:
    n = len(real_stream)
    ops = data.draw(
        st.lists(
            st.one_of(
                st.tuples(st.just("flip"), st.integers(0, n - 1), st.integers(0, 255)),
                st.tuples(st.just("cut"), st.integers(0, n - 1), st.just(0)),
                st.tuples(st.just("insert"), st.integers(0, n - 1), st.integers(0, 255)),
                st.tuples(st.just("delete"), st.integers(0, n - 1), st.integers(1, 64)),
            ),
            min_size=1,
            max_size=3,
        )
    )
    mutated = mutate(real_stream, ops)
    v = validate_stream([BytesSource(mutated, "real.mp4")], None)
    assert not [f for f in v.findings if f.rule == "GEN-INTERNAL-01"], [f.message for f in v.findings]
