"""Mutated WebM streams: findings or ParseFailed, never an exception or a hang."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msetool.rules.engine import validate_stream
from msetool.source import BytesSource
from msetool.stream import ParseFailed
from msetool.webm.stream import WebmStreamParser
from msetool.webm.tree import walk
from tests.unit.webm import builder as B

SEED = (
    B.init_segment([B.Track(1, 1, "V_VP9", default_duration=33_333_333), B.Track(2, 2, "A_OPUS")],
                   duration_ms=80.0)
    + B.Cluster(0, [B.simple_block(1, 0), B.simple_block(2, 0, B.OPUS_20MS),
                    B.block_group(1, 33, duration=33, reference=-33),
                    B.simple_block(2, 20, B.OPUS_3X10MS)]).bytes()
    + B.Cluster(66, [B.simple_block(1, 0), B.simple_block(2, 0, B.OPUS_20MS)], unknown_size=True).bytes()
    + B.el(0x1C53BB6B, B.el(0xBB, B.uint(0xB3, 0)))
)

mutation = st.one_of(
    st.tuples(st.just("set"), st.integers(0, len(SEED) - 1), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.integers(0, len(SEED)), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), st.integers(0, len(SEED) - 1), st.integers(1, 16)),
    st.tuples(st.just("truncate"), st.integers(0, len(SEED)), st.just(0)),
)


def mutate(data: bytes, muts: list[tuple[str, int, object]]) -> bytes:
    buf = bytearray(data)
    for kind, at, arg in muts:
        pos = min(at, len(buf))
        if kind == "set" and pos < len(buf):
            buf[pos] = int(arg)  # type: ignore[call-overload]
        elif kind == "insert":
            buf[pos:pos] = arg  # type: ignore[assignment]
        elif kind == "delete":
            del buf[pos : pos + int(arg)]  # type: ignore[call-overload]
        elif kind == "truncate":
            del buf[pos:]
    return bytes(buf)


FUZZ = settings(derandomize=True, max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.lists(mutation, min_size=1, max_size=4), st.integers(1, 64), st.sampled_from(["chromium", "spec"]))
def test_parser_never_raises(muts: list[tuple[str, int, object]], chunk: int, profile: str) -> None:
    data = mutate(SEED, muts)
    p = WebmStreamParser(profile=profile)  # type: ignore[arg-type]
    failed = False
    for i in range(0, len(data), chunk):
        events = p.feed(data[i : i + chunk])
        failed |= any(isinstance(e, ParseFailed) for e in events)
    p.flush()
    p.reset()
    if failed:
        assert p.feed(SEED) == []


@FUZZ
@given(st.lists(mutation, min_size=1, max_size=4))
def test_walk_and_validate_never_raise(muts: list[tuple[str, int, object]]) -> None:
    data = mutate(SEED, muts)
    n = sum(1 for _ in walk(BytesSource(data)))
    assert n <= 4 * len(data) + 8  # every event moves forward: no loops
    findings = validate_stream([BytesSource(data, "f.webm")], 'video/webm; codecs="vp9,opus"').findings
    assert not [f for f in findings if f.rule == "GEN-INTERNAL-01"], findings
