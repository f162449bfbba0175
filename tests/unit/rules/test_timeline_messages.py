"""The A/V sync messages print the exact rationals' floats.

timeline.py keeps the start offset and drift as integer pairs and divides ints (correctly rounded, as
``float(Fraction)`` is) instead of importing fractions on every run; the messages must read exactly as
when they were formatted from Fractions (the text below is that former formatting).
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings

from msetool.rules import timeline
from msetool.rules.engine import StreamModel, ValidateOptions
from tests.unit.rules.test_timeline_exact import _av_model


def _reference_messages(model: StreamModel) -> list[str]:
    out: list[str] = []
    first_gap: Fraction | None = None
    for seg in model.segments:
        v, a = seg.tracks[1], seg.tracks[2]
        a_end, v_end = Fraction(a.max_end_pts, a.timescale), Fraction(v.max_end_pts, v.timescale)
        if first_gap is None:
            a_start, v_start = Fraction(a.min_pts, a.timescale), Fraction(v.min_pts, v.timescale)
            offset = a_start - v_start
            first_gap = a_end - v_end
            if abs(offset) > Fraction(1, 10):
                lead = "audio" if offset < 0 else "video"
                out.append(
                    f"audio starts at {float(a_start):.3f} s, video at {float(v_start):.3f} s: "
                    f"{lead} leads by {abs(float(offset)) * 1000:.1f} ms"
                )
            continue
        drift = (a_end - v_end) - first_gap
        if abs(drift) > Fraction(1, 5):
            out.append(
                f"by this segment audio ends at {float(a_end):.3f} s and video at {float(v_end):.3f} s: "
                f"{float(drift) * 1000:+.0f} ms of drift since the first segment"
            )
            break
    return out


@settings(derandomize=True, max_examples=300, deadline=None)
@given(model=_av_model())
def test_sync_messages_read_as_from_fractions(model: StreamModel) -> None:
    sync = ("GEN-TIME-04", "GEN-TIME-05")
    got = [f.message for f in timeline.check(model, ValidateOptions()) if f.rule in sync]
    assert got == _reference_messages(model)


def test_ms_is_the_fraction_in_milliseconds() -> None:
    for ticks, ts in [(1, 3), (-7, 90000), (123456789, 48000), (10**20 + 1, 7), (0, 1)]:
        v = float(Fraction(ticks, ts) * 1000)
        assert timeline._ms(ticks, ts) == f"{v:.3f}".rstrip("0").rstrip(".") + " ms"
