"""validate on transport streams: the TS-* rules through the engine, and mutated streams never crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msetool.rules.engine import ValidateOptions, validate_stream
from msetool.rules.findings import Severity
from msetool.source import BytesSource
from tests.unit.ts.helpers import MIME, feed_all, inits, packets, pid_of


def _rules(data: bytes, mime: str = MIME, profile: str = "chromium") -> dict[str, Severity]:
    v = validate_stream([BytesSource(data, "seg.ts")], mime, ValidateOptions(profile=profile))  # type: ignore[arg-type]
    out: dict[str, Severity] = {}
    for f in v.findings:
        out.setdefault(f.rule, f.severity)
    return out


def _errors(data: bytes, mime: str = MIME) -> set[str]:
    v = validate_stream([BytesSource(data, "seg.ts")], mime)
    return {f.rule for f in v.findings if f.severity is Severity.ERROR}


def test_clean_stream_has_no_errors_or_warnings(ts_bytes: bytes) -> None:
    (init,) = inits(feed_all(ts_bytes)[1])
    mime = f'video/mp2t; codecs="{",".join(t.codec for t in init.init.tracks)}"'
    v = validate_stream([BytesSource(ts_bytes, "seg.ts")], mime)
    assert [f for f in v.findings if f.severity is not Severity.INFO] == []


def test_lost_sync_is_a_warning_for_chromium_and_an_error_for_the_spec(ts_bytes: bytes) -> None:
    damaged = bytearray(ts_bytes)
    damaged[188 * 50] = 0
    assert _rules(bytes(damaged))["TS-GEN-02"] is Severity.WARNING
    assert _rules(bytes(damaged), profile="spec")["TS-GEN-02"] is Severity.ERROR
    assert not _errors(bytes(damaged))


def test_continuity_gap_is_reported(ts_bytes: bytes) -> None:
    pk = packets(ts_bytes)
    vpid = pid_of(pk[40])
    drop = next(i for i in range(60, len(pk)) if pid_of(pk[i]) == vpid)
    data = b"".join(p for i, p in enumerate(pk) if i != drop)
    assert "TS-CC-01" in _rules(data)


def test_missing_pat_means_nothing_is_buffered(ts_bytes: bytes) -> None:
    data = b"".join(p for p in packets(ts_bytes) if pid_of(p) != 0)
    assert "TS-INIT-01" in _rules(data)
    _, events = feed_all(data)
    assert events == []


def test_transport_error_indicator_is_reported(ts_bytes: bytes) -> None:
    data = bytearray(ts_bytes)
    data[188 * 30 + 1] |= 0x80
    assert _rules(bytes(data))["TS-GEN-05"] is Severity.WARNING


def test_stream_not_in_codecs_is_reported(ts_bytes: bytes) -> None:
    assert "TS-CODEC-01" in _rules(ts_bytes, 'video/mp2t; codecs="avc1.4D401F"')


def test_parser_failures_become_error_findings(ts_bytes: bytes) -> None:
    pk = packets(ts_bytes)
    pat_i = next(i for i, p in enumerate(pk) if pid_of(p) == 0)
    bad = bytearray(ts_bytes)
    bad[pat_i * 188 + 5] = 0x01
    assert "TS-PSI-01" in _errors(bytes(bad))
    crc = bytearray(ts_bytes)
    crc[pat_i * 188 + 10] ^= 0xFF
    assert _rules(bytes(crc))["TS-PSI-02"] is Severity.WARNING
    assert not _errors(bytes(crc))


_SMALL = settings(max_examples=40, derandomize=True, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@_SMALL
@given(st.data())
def test_mutated_streams_give_findings_never_exceptions(ts_bytes: bytes, data: st.DataObject) -> None:
    buf = bytearray(ts_bytes[: 188 * 120])
    for _ in range(data.draw(st.integers(1, 12))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert", "zero"]))
        at = data.draw(st.integers(0, len(buf) - 1))
        if op == "flip":
            buf[at] ^= data.draw(st.integers(1, 255))
        elif op == "cut":
            del buf[at : at + data.draw(st.integers(1, 400))]
        elif op == "insert":
            buf[at:at] = data.draw(st.binary(min_size=1, max_size=64))
        else:
            buf[at : at + 8] = bytes(min(8, len(buf) - at))
        if len(buf) < 10:
            break
    p, _events = feed_all(bytes(buf), [97, 188, 1000])
    p.reset()
    p.take_reset_events()
    v = validate_stream([BytesSource(bytes(buf), "m.ts")], MIME)
    assert all(f.rule != "GEN-INTERNAL-01" for f in v.findings), v.findings
