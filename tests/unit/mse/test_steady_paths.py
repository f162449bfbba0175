"""The steady-append shortcuts (one-run batches, regular tick steps, the stream's append to its only range)
must leave exactly the state the general code leaves."""

from __future__ import annotations

from operator import sub
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.mse.chromium_stream import ChromiumStream
from msetool.mse.source_buffer import SourceBuffer, _regular_steps
from msetool.stream import FrameColumns, FramesParsed, MediaSegmentEnded, MediaSegmentStarted
from tests.unit.mse.dsl import append, make

TIMESCALES = [1000, 15360, 44100, 48000, 90000, 1_000_000, 7]


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from([*TIMESCALES, 12800, 999_999]),
    st.integers(0, 10**12),
    st.integers(1, 200_000),
    st.integers(2, 40),
    st.integers(-5000, 5000),
)
def test_regular_steps_are_the_step_bounds(ts: int, a: int, s: int, n: int, shift: int) -> None:
    dt = [a + i * s for i in range(n)]
    pt = [max(0, a + shift) + i * s for i in range(n)]
    dd = [x * 1_000_000 // ts for x in dt]
    pu = [x * 1_000_000 // ts for x in pt]
    steps = list(map(sub, dd[1:], dd))
    psteps = list(map(sub, pu[1:], pu))
    assert _regular_steps(dt, pt, n, ts) == (max(steps), min(psteps), max(psteps))
    assert _regular_steps(dt, dt, n, ts) == (max(steps), min(steps), max(steps))


def test_regular_steps_refuses_irregular_runs() -> None:
    assert _regular_steps([0, 10, 21], [0, 10, 21], 3, 1000) is None
    assert _regular_steps([0, 10, 20], [0, 20, 10], 3, 1000) is None
    assert _regular_steps([0, 0, 0], [0, 0, 0], 3, 1000) is None
    assert _regular_steps((0, 10, 20), (0, 10, 20), 3, 1000) is None  # lists only


def _run_frames(draw: Any, audio: bool) -> list[list[tuple[int, int, int, bool]]]:
    """(dts, pts, duration, keyframe) of one track's segments: mostly contiguous runs of one step."""
    out: list[list[tuple[int, int, int, bool]]] = []
    t = draw(st.sampled_from([0, 0, 50]))
    step = draw(st.sampled_from([512, 1024, 1001, 3000]))
    shift = draw(st.sampled_from([0, 0, -1024, 2 * step])) if audio else draw(st.sampled_from([0, 0, step]))
    for _ in range(draw(st.integers(1, 7))):
        t += draw(st.sampled_from([0, 0, 0, 0, step // 3, -step, 7 * step, -2]))
        t = max(t, 0)
        n = draw(st.integers(1, 9))
        seg = []
        for i in range(n):
            d = draw(st.sampled_from([step, step, step, step + 1, step // 2, 0]))
            bframe = not audio and shift and i % 3 == 1
            pts = max(0, t + shift + (step if bframe else 0))
            seg.append((t, pts, d, audio or i == 0 or draw(st.booleans())))
            t += step
        out.append(seg)
    return out


@st.composite
def scenario(draw: Any) -> dict[str, Any]:
    audio = draw(st.booleans())
    return {
        "audio": audio,
        "ts": draw(st.sampled_from(TIMESCALES)),
        "segments": _run_frames(draw, audio),
        "offset": draw(st.sampled_from([0, 0, 0, 0.25, -0.01])),
        "aws": draw(st.sampled_from([0, 0, 0, 0.02])),
        "remove": draw(st.sampled_from([None, None, None, 1, 2])),
        "split": draw(st.booleans()),  # a segment in two batches
    }


def _state(ms: Any, sb: SourceBuffer) -> Any:
    out: list[Any] = []
    for tid in sb.track_order:
        tb = sb.tracks[tid]
        s = tb.stream
        assert s is not None
        out.append((
            [(r.start(), r.buffered_end(), list(r.frames), list(r.kpts), [k - r.kbase for k in r.kidx],
              r.mem, r.hi_pts, r.hi_dur) for r in s.ranges],
            s.ranges.index(s.rfna) if s.rfna is not None else None,
            (s.last_ts, s.last_dur, s.last_key, s.last_dts, s.hi_in_seq, s.hi_end_in_seq),
            (s.max_interbuffer_distance, s.cfg_start, s.new_cfg, s.overlap_removed, s.memory()),
            (tb.last_dts, tb.last_dur, tb.highest_end, tb.need_rap, tb.last_processed_dts,
             tb.pending_group_start_pts, tb.last_keyframe_pts, tb.flushed_since_group_start),
        ))
    return (
        out, sb.group_end, sb.timestamp_offset, ms.duration, list(sb.buffered()),
        [e.to_json() for e in ms.events], [(w.kind, w.message) for w in ms.warnings], list(sb.log),
        ms.last_append_error,
    )


def _simulate(sc: dict[str, Any], how: str) -> Any:
    kind = "audio" if sc["audio"] else "video"
    ms, sb = make(kind, profile="chromium")
    if how == "general":
        sb.fast_path = False
    elif how == "bulk":  # the bulk path as it was before the one-run shortcut
        sb._steady_column = lambda c, off: None  # type: ignore[method-assign]
    if sc["offset"]:
        sb.set_timestamp_offset(sc["offset"])
    if sc["aws"]:
        sb.set_append_window_start(sc["aws"])
    ts = sc["ts"]
    for i, seg in enumerate(sc["segments"]):
        runs = [seg[: len(seg) // 2], seg[len(seg) // 2 :]] if sc["split"] and len(seg) > 1 else [seg]
        batches = []
        for run in runs:
            dts, pts, dur, key = (list(x) for x in zip(*run, strict=True))
            col = FrameColumns(1, ts, dts, pts, dur, [100 + j for j in range(len(run))], [0] * len(run), key)
            batches.append(FramesParsed(columns=[col]))
        append(sb, [MediaSegmentStarted(0), *batches, MediaSegmentEnded(0)])
        if sc["remove"] is not None and i == sc["remove"]:
            r = list(sb.buffered())
            if r:
                sb.remove(float(r[0][0]) / 1e6, float(r[0][0]) / 1e6 + 0.01)
                sb.run_pending()
    return _state(ms, sb)


@settings(max_examples=250, deadline=None)
@given(scenario())
def test_one_run_batches_equal_the_general_paths(sc: dict[str, Any]) -> None:
    fast = _simulate(sc, "fast")
    assert fast == _simulate(sc, "bulk")
    ChromiumStream.fast_path = False
    try:
        assert fast == _simulate(sc, "general")
        assert fast == _simulate(sc, "bulk")
    finally:
        ChromiumStream.fast_path = True


def test_steady_appends_take_the_shortcuts() -> None:
    """A contiguous run of 44.1 kHz audio: every batch after the first is one regular run, appended to
    the stream's only range."""
    ms, sb = make("audio", profile="chromium")
    calls = {"column": 0, "shortcut": 0}
    column, cont = sb._steady_column, ChromiumStream._continues_only_range

    def counted_column(c: Any, off: int) -> bool | None:
        r = column(c, off)
        calls["column"] += r is True
        return r

    def counted_cont(self: ChromiumStream, frames: Any, sm: Any) -> bool:
        r = cont(self, frames, sm)
        calls["shortcut"] += r
        return r

    sb._steady_column = counted_column  # type: ignore[method-assign]
    ChromiumStream._continues_only_range = counted_cont  # type: ignore[method-assign]
    try:
        for n in range(5):
            t = [(n * 10 + i) * 1024 for i in range(10)]
            col = FrameColumns(1, 44100, t, t, [1024] * 10, [300] * 10, [0] * 10, [True] * 10)
            append(sb, [MediaSegmentStarted(0), FramesParsed(columns=[col]), MediaSegmentEnded(0)])
    finally:
        ChromiumStream._continues_only_range = cont  # type: ignore[method-assign]
    assert ms.last_append_error is None
    assert calls["column"] == 4 and calls["shortcut"] >= 3
