"""The HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched at view time).

A timeline is read faster as a picture than as a table: each operation is a row, each source buffer (and
track, when known) a lane, buffered ranges are bars on a shared time axis, holes between ranges are marked
as gaps and frames the model dropped are ticks. Rows where the browser and the simulator disagree, and
operations that failed, are highlighted. Findings are listed in a table above.

Everything here is pure: :func:`render_html` takes plain data and returns a string. The commands build
the data with :func:`timeline_from_steps` from their JSON results.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

Range = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Dropped:
    """Coded frames dropped by the model (outside the append window, before a random access point...)."""

    start: float
    end: float
    reason: str = ""


@dataclass(frozen=True, slots=True)
class TimelineStep:
    index: int
    label: str
    #: lane name -> buffered ranges (seconds) after the operation; None when the lane is detached.
    lanes: Mapping[str, Sequence[Range] | None]
    error: str | None = None
    dropped: Mapping[str, Sequence[Dropped]] = field(default_factory=dict)
    #: Why this step disagrees with the other side (verify); empty when it agrees or nothing to compare.
    differences: Sequence[str] = ()
    #: Dropped-frame notes without a known time span ("60 coded frame(s) dropped by the append window").
    notes: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class Timeline:
    """One series of steps: "simulator", "browser", ... Several timelines share one time axis."""

    name: str
    steps: Sequence[TimelineStep]


@dataclass(frozen=True, slots=True)
class FindingRow:
    severity: str
    rule: str
    message: str
    file: str = ""
    offset: int | None = None
    box: str = ""


def _css() -> str:
    """The stylesheet, inlined into the page so the report opens offline."""
    return resources.files("msetool.report").joinpath("assets/report.css").read_text(encoding="utf-8")


# Geometry of the timeline SVG (user units; the SVG scales to the page width).
WIDTH = 1200
LEFT = 300
RIGHT = 20
LANE_H = 12
LANE_GAP = 3
ROW_PAD = 6
AXIS_H = 26


def _e(s: object) -> str:
    return html.escape(str(s), quote=True)


def _fmt(t: float) -> str:
    if math.isinf(t):
        return "∞" if t > 0 else "-∞"
    if math.isnan(t):
        return "NaN"
    return f"{t:.6f}".rstrip("0").rstrip(".")


def _finite(ranges: Sequence[Range] | None) -> list[Range]:
    out: list[Range] = []
    for s, e in ranges or ():
        if (
            isinstance(s, int | float)
            and isinstance(e, int | float)
            and math.isfinite(s)
            and math.isfinite(e)
        ):
            out.append((float(s), float(e)))
    return out


def gaps_of(ranges: Sequence[Range] | None, min_gap: float = 0.0) -> list[Range]:
    """Holes between consecutive buffered ranges: where playback would stall."""
    rs = sorted(_finite(ranges))
    return [(a[1], b[0]) for a, b in itertools.pairwise(rs) if b[0] - a[1] > min_gap]


def _axis_end(timelines: Sequence[Timeline]) -> float:
    hi = 0.0
    for tl in timelines:
        for st in tl.steps:
            for rs in st.lanes.values():
                for _, e in _finite(rs):
                    hi = max(hi, e)
            for ds in st.dropped.values():
                for d in ds:
                    if math.isfinite(d.end):
                        hi = max(hi, d.end)
    if hi <= 0:
        return 1.0
    hi *= 1.02  # a little room after the last end, so a range's end is never the plot's edge
    # Round the axis up to a "nice" value so ticks land on round numbers.
    step = _tick_step(hi)
    return math.ceil(hi / step - 1e-9) * step


def _tick_step(span: float) -> float:
    raw = span / 10
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return float(m * mag)
    return float(10 * mag)


def _lane_names(timelines: Sequence[Timeline]) -> list[str]:
    names: list[str] = []
    for tl in timelines:
        for st in tl.steps:
            for n in st.lanes:
                if n not in names:
                    names.append(n)
    return names


def timeline_svg(timelines: Sequence[Timeline], *, width: int = WIDTH) -> str:
    """The SVG plot: one row per operation, one lane per (series, source buffer/track)."""
    timelines = [t for t in timelines if t.steps]
    if not timelines:
        return '<p class="empty">No operations.</p>'
    lanes = _lane_names(timelines)
    series = [(si, tl) for si, tl in enumerate(timelines)]
    nrows = max(len(tl.steps) for tl in timelines)
    lanes_per_row = len(lanes) * len(series)
    # Room for the label and a dropped-frames note under it, whatever the number of lanes.
    row_h = max(lanes_per_row * (LANE_H + LANE_GAP) - LANE_GAP + 2 * ROW_PAD, 34)
    height = AXIS_H + nrows * row_h + 8
    t_end = _axis_end(timelines)
    plot_w = width - LEFT - RIGHT

    def x(t: float) -> float:
        t = min(max(t, 0.0), t_end)
        return LEFT + plot_w * t / t_end

    out: list[str] = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="buffered ranges after each operation" '
        f'data-axis-end="{_fmt(t_end)}">'
    ]
    # Axis and grid.
    out.append('<g class="axis">')
    tick = _tick_step(t_end)
    n_ticks = round(t_end / tick)
    for k in range(n_ticks + 1):
        t = k * tick
        xx = x(t)
        out.append(f'<line class="grid" x1="{xx:.1f}" y1="{AXIS_H - 4}" x2="{xx:.1f}" y2="{height - 8}"/>')
        out.append(f'<text x="{xx:.1f}" y="{AXIS_H - 10}" text-anchor="middle">{_e(_fmt(t))} s</text>')
    out.append("</g>")

    for r in range(nrows):
        y0 = AXIS_H + r * row_h
        ref = next((tl.steps[r] for tl in timelines if r < len(tl.steps)), None)
        if ref is None:
            continue
        errs = [tl.steps[r].error for tl in timelines if r < len(tl.steps) and tl.steps[r].error]
        diffs = [d for tl in timelines if r < len(tl.steps) for d in tl.steps[r].differences]
        cls = "row" + (" row-error" if errs else "") + (" row-diff" if diffs else "")
        out.append(f'<g class="{cls}" data-step="{ref.index}">')
        tip = ref.label + "".join(f"\n{s}" for s in errs) + "".join(f"\n≠ {d}" for d in diffs)
        out.append(f'<rect class="row-bg" x="0" y="{y0}" width="{width}" height="{row_h}"/>')
        label = ref.label if len(ref.label) <= 44 else ref.label[:43] + "…"
        mark = " ✗" if errs else (" ≠" if diffs else "")
        notes = [n for tl in timelines if r < len(tl.steps) for n in tl.steps[r].notes]
        if notes:
            tip += "".join(f"\n⚠ {n}" for n in notes)
        out.append(
            f'<text class="label" x="6" y="{y0 + ROW_PAD + 10}">{_e(ref.index)}. {_e(label)}{_e(mark)}</text>'
        )
        out.append(f"<title>{_e(tip)}</title>")
        if notes:
            out.append(
                f'<text class="note dropped-note" x="14" y="{y0 + ROW_PAD + 23}">⚠ {_e(notes[0][:48])}'
                f"{' (+' + str(len(notes) - 1) + ')' if len(notes) > 1 else ''}</text>"
            )
        li = 0
        for lane in lanes:
            for si, tl in series:
                ly = y0 + ROW_PAD + li * (LANE_H + LANE_GAP)
                li += 1
                if lanes_per_row > 1:
                    lane_label = lane if len(series) == 1 else f"{tl.name} · {lane}"
                    out.append(
                        f'<text x="{LEFT - 6}" y="{ly + LANE_H - 2}" text-anchor="end" '
                        f'class="lane-label">{_e(lane_label)}</text>'
                    )
                if r >= len(tl.steps):
                    continue
                st = tl.steps[r]
                kind = " track-lane" if " · " in lane else ""
                out.append(
                    f'<g class="lane series-{si}{kind}" data-series="{_e(tl.name)}" data-lane="{_e(lane)}" '
                    f'data-step="{st.index}">'
                )
                out.append(f'<rect class="lane-bg" x="{LEFT}" y="{ly}" width="{plot_w}" height="{LANE_H}"/>')
                ranges = st.lanes.get(lane)
                if ranges is None and lane in st.lanes:
                    out.append(
                        f'<rect class="detached" x="{LEFT}" y="{ly + 1}" width="{plot_w}" '
                        f'height="{LANE_H - 2}">'
                        f"<title>{_e(lane)}: detached (removed from the MediaSource)</title></rect>"
                    )
                for s, e in _finite(ranges):
                    x1, x2 = x(s), x(e)
                    out.append(
                        f'<rect class="range" x="{x1:.2f}" y="{ly}" width="{max(x2 - x1, 1.0):.2f}" '
                        f'height="{LANE_H}" data-start="{_fmt(s)}" data-end="{_fmt(e)}">'
                        f"<title>{_e(lane)}: [{_fmt(s)}, {_fmt(e)})</title></rect>"
                    )
                for s, e in gaps_of(ranges):
                    x1, x2 = x(s), x(e)
                    out.append(
                        f'<rect class="gap" x="{x1:.2f}" y="{ly - 1}" width="{max(x2 - x1, 2.0):.2f}" '
                        f'height="{LANE_H + 2}" data-start="{_fmt(s)}" data-end="{_fmt(e)}">'
                        f"<title>gap in {_e(lane)}: {_fmt(s)} → {_fmt(e)} ({_fmt(e - s)} s)</title></rect>"
                    )
                for d in st.dropped.get(lane, ()):
                    x1, x2 = x(d.start), x(d.end if math.isfinite(d.end) else d.start)
                    why = f" ({d.reason})" if d.reason else ""
                    out.append(
                        f'<line class="dropped" x1="{x1:.2f}" y1="{ly - 2}" x2="{max(x2, x1 + 1):.2f}" '
                        f'y2="{ly - 2}" data-start="{_fmt(d.start)}" data-end="{_fmt(d.end)}">'
                        f"<title>dropped in {_e(lane)}: {_fmt(d.start)} → {_fmt(d.end)}{_e(why)}</title>"
                        "</line>"
                    )
                out.append("</g>")
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def _findings_table(findings: Sequence[FindingRow]) -> str:
    if not findings:
        return '<p class="empty" id="no-findings">No findings.</p>'
    rows = []
    order = {"error": 0, "warning": 1, "info": 2}
    for f in sorted(findings, key=lambda f: (order.get(f.severity, 3), f.file, f.offset or 0)):
        off = "" if f.offset is None else str(f.offset)
        rows.append(
            f'<tr class="finding sev-{_e(f.severity)}" data-rule="{_e(f.rule)}">'
            f'<td class="sev">{_e(f.severity)}</td><td><code>{_e(f.rule)}</code></td>'
            f'<td>{_e(f.file)}</td><td class="num">{_e(off)}</td><td><code>{_e(f.box)}</code></td>'
            f"<td>{_e(f.message)}</td></tr>"
        )
    return (
        '<table id="findings"><thead><tr><th>severity</th><th>rule</th><th>file</th><th>offset</th>'
        "<th>box</th><th>message</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _steps_table(timelines: Sequence[Timeline]) -> str:
    timelines = [t for t in timelines if t.steps]
    if not timelines:
        return ""
    lanes = _lane_names(timelines)
    head = "".join(f"<th>{_e(tl.name)} · {_e(lane)}</th>" for lane in lanes for tl in timelines)
    rows = []
    nrows = max(len(tl.steps) for tl in timelines)
    for r in range(nrows):
        ref = next(tl.steps[r] for tl in timelines if r < len(tl.steps))
        diffs = [d for tl in timelines if r < len(tl.steps) for d in tl.steps[r].differences]
        cells = []
        for lane in lanes:
            for tl in timelines:
                st = tl.steps[r] if r < len(tl.steps) else None
                if st is None:
                    cells.append("<td></td>")
                    continue
                rs = st.lanes.get(lane)
                txt = (
                    "detached"
                    if rs is None and lane in st.lanes
                    else (" ".join(f"[{_fmt(s)}, {_fmt(e)})" for s, e in rs or []) or "—")
                )
                cells.append(f"<td><code>{_e(txt)}</code></td>")
        errs = "<br>".join(
            f"<b>{_e(tl.name)}:</b> {_e(tl.steps[r].error)}"
            for tl in timelines
            if r < len(tl.steps) and tl.steps[r].error
        )
        if diffs:
            errs += ("<br>" if errs else "") + "<br>".join(f"≠ {_e(d)}" for d in diffs)
        notes = [f"{tl.name}: {n}" for tl in timelines if r < len(tl.steps) for n in tl.steps[r].notes]
        if notes:
            errs += ("<br>" if errs else "") + "<br>".join(
                f'<span class="note">⚠ {_e(n)}</span>' for n in notes
            )
        rows.append(
            f'<tr class="step{" diff" if diffs else ""}" data-step="{ref.index}">'
            f'<td class="num">{ref.index}</td>'
            f"<td><code>{_e(ref.label)}</code></td>{''.join(cells)}<td>{errs}</td></tr>"
        )
    return (
        f'<table id="steps"><thead><tr><th>#</th><th>operation</th>{head}<th>errors / differences</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def render_html(
    *,
    title: str,
    command: str,
    findings: Iterable[FindingRow] = (),
    timelines: Sequence[Timeline] = (),
    meta: Mapping[str, str] | None = None,
    verdict: str = "",
) -> str:
    """The whole report page as one string (UTF-8 HTML5, no external resources)."""
    fl = list(findings)
    counts = {s: sum(1 for f in fl if f.severity == s) for s in ("error", "warning", "info")}
    pills = [
        f'<span class="pill {s}" data-count="{n}"><b>{n}</b> {s}{"s" if n != 1 else ""}</span>'
        for s, n in counts.items()
    ]
    shown = [t for t in timelines if t.steps]
    gap_count = (
        sum(len(gaps_of(rs)) for st in shown[0].steps[-1:] for rs in st.lanes.values()) if shown else 0
    )
    whose = f" ({shown[0].name})" if len(shown) > 1 else ""
    if shown:
        pills.append(
            f'<span class="pill" id="final-gaps" data-count="{gap_count}"><b>{gap_count}</b> '
            f"gap{'s' if gap_count != 1 else ''} at the end{_e(whose)}</span>"
        )
    if verdict:
        pills.append(f'<span class="pill" id="verdict">{_e(verdict)}</span>')
    meta_html = " · ".join(f"{_e(k)}: {_e(v)}" for k, v in (meta or {}).items())
    legend = (
        '<div class="legend"><span><i class="sw" style="background:var(--range)"></i>buffered'
        + (
            f" ({_e(timelines[0].name)})</span>"
            f'<span><i class="sw" style="background:var(--sim)"></i>buffered '
            f"({_e(timelines[1].name)})"
            if len([t for t in timelines if t.steps]) > 1
            else ""
        )
        + '</span><span><i class="sw" style="background:var(--gap);border:1px dashed var(--gapline)"></i>gap'
        '</span><span><i class="sw" style="border-top:2px solid var(--drop);height:2px"></i>dropped frames'
        "</span>"
        + (
            '<span><i class="sw" style="background:var(--diff)"></i>browser ≠ simulator</span>'
            if len([t for t in timelines if t.steps]) > 1
            else ""
        )
        + '<span style="color:var(--err)">✗ operation failed</span></div>'
    )
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_css()}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">msetool {_e(command)}{" · " + meta_html if meta_html else ""}</p>',
        f'<div class="summary">{"".join(pills)}</div>',
        "<h2>Findings</h2>",
        _findings_table(fl),
    ]
    if any(t.steps for t in timelines):
        parts += [
            "<h2>Timeline</h2>",
            legend,
            timeline_svg(timelines),
            "<h2>Operations</h2>",
            _steps_table(timelines),
        ]
    parts.append("</body></html>")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------------------
# Adapters from the commands' JSON results.


def _ranges(v: Any) -> list[Range] | None:
    if v is None:
        return None
    out: list[Range] = []
    for pair in v:
        try:
            s, e = _num(pair[0]), _num(pair[1])
        except (TypeError, ValueError, IndexError):
            continue
        out.append((s, e))
    return out


def _num(v: Any) -> float:
    if isinstance(v, str):
        return (
            {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(v, math.nan)
            if not _is_float(v)
            else float(v)
        )
    return float(v)


def _is_float(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def op_label(op: Mapping[str, Any]) -> str:
    """A one-line description of an operation: ``append seg2.m4s [0, 30259) → audio``."""
    name = str(op.get("op", "?"))
    if name == "batch":
        return "batch: " + "; ".join(op_label(o) for o in op.get("ops", []))
    bits = [name]
    if "file" in op:
        bits.append(str(op["file"]).replace("\\", "/").rsplit("/", 1)[-1])
    if "range" in op:
        r = op["range"]
        bits.append(f"[{r[0]}, {r[1]})")
    if name == "remove":
        bits.append(f"{op.get('start')}–{op.get('end')}")
    if name == "set":
        bits.append(", ".join(f"{k}={v}" for k, v in op.items() if k not in ("op", "sb")))
    if name == "changeType":
        bits.append(str(op.get("type")))
    if name == "endOfStream" and op.get("error"):
        bits.append(str(op["error"]))
    if op.get("sb") is not None:
        bits.append(f"→ {op['sb']}")
    return " ".join(bits)


def step_error(step: Mapping[str, Any]) -> str | None:
    """The failure of one step in words: the exception, the append error, or the rule msetool found."""
    exc = step.get("exception")
    if exc:
        if isinstance(exc, Mapping):
            return f"{exc.get('name', 'Error')}: {exc.get('message', '')}"
        msg = step.get("exceptionMessage")
        return f"{exc}: {msg}" if msg else str(exc)
    err = step.get("error")
    if err:
        if isinstance(err, Mapping):
            rule = err.get("rule")
            msg = err.get("message") or err.get("reason") or ""
            return f"{rule}: {msg}" if rule else str(msg)
        return str(err) if err is not True else "append error"
    wait = step.get("wait") or {}
    if wait.get("error") or step.get("sbErrorEvent"):
        video = ((step.get("state") or {}).get("video") or {}).get("error") or {}
        return str(video.get("message") or "append error (error event)")
    return None


def timeline_from_steps(
    name: str,
    steps: Sequence[Mapping[str, Any]],
    differences: Mapping[int, Sequence[str]] | None = None,
) -> Timeline:
    """Build a timeline from simulate-schema steps (``state.sourceBuffers[id].buffered``), as written by
    ``simulate --format json``, the browser side of ``verify`` or a recorded golden file.

    Per-track ranges (``sourceBuffers[id].tracks[track].buffered``) add one lane per track; dropped
    frames (``steps[i].dropped`` or ``sourceBuffers[id].dropped``: ``{start, end, reason}``) become
    ticks.
    """
    out: list[TimelineStep] = []
    for i, st in enumerate(steps):
        state = st.get("state") or {}
        lanes: dict[str, list[Range] | None] = {}
        dropped: dict[str, list[Dropped]] = {}
        for sb_id, sb_or_none in (state.get("sourceBuffers") or {}).items():
            sb = sb_or_none or {}
            attached = sb.get("attached", True)
            lanes[str(sb_id)] = _ranges(sb.get("buffered")) if attached else None
            tracks = sb.get("tracks") or {}
            if isinstance(tracks, Mapping):
                for tid, tr in tracks.items():
                    lane = (
                        f"{sb_id} · {tr.get('kind', 'track') if isinstance(tr, Mapping) else 'track'} {tid}"
                    )
                    lanes[lane] = _ranges((tr or {}).get("buffered")) if attached else None
            for d in sb.get("dropped") or []:
                dropped.setdefault(str(sb_id), []).append(_dropped(d))
        for d in st.get("dropped") or []:
            if isinstance(d, Mapping):
                dropped.setdefault(str(d.get("sb", next(iter(lanes), "sb0"))), []).append(_dropped(d))
        notes: list[str] = []
        for w in st.get("warnings") or []:
            if not isinstance(w, Mapping) or w.get("kind") == "gap":
                continue  # gaps are drawn from the ranges themselves
            msg = str(w.get("message", w.get("kind", "")))
            if "start" in w and "end" in w:
                lane = (
                    msg.split(":", 1)[0]
                    if ":" in msg and msg.split(":", 1)[0] in lanes
                    else next(iter(lanes), "sb0")
                )
                dropped.setdefault(lane, []).append(Dropped(_num(w["start"]), _num(w["end"]), msg))
            else:
                notes.append(msg)
        op = st.get("op") or {}
        out.append(
            TimelineStep(
                index=int(st.get("index", i)),
                label=op_label(op) if isinstance(op, Mapping) else str(op),
                lanes=lanes,
                error=step_error(st),
                dropped=dropped,
                differences=tuple((differences or {}).get(i, ())),
                notes=tuple(notes),
            )
        )
    return Timeline(name, out)


def _dropped(d: Any) -> Dropped:
    if isinstance(d, Mapping):
        s = _num(d.get("start", d.get("pts", 0.0)))
        e = _num(d.get("end", s))
        return Dropped(s, e, str(d.get("reason", "")))
    return Dropped(0.0, 0.0, str(d))


def finding_rows(findings: Iterable[Mapping[str, Any]], file: str = "") -> list[FindingRow]:
    """Findings as JSON objects (``Finding.to_json()``, optionally with ``file``/``path``) -> table rows."""
    rows = []
    for f in findings:
        rows.append(
            FindingRow(
                severity=str(f.get("severity", "info")),
                rule=str(f.get("rule", "")),
                message=str(f.get("message", "")),
                file=str(f.get("file") or f.get("path") or file),
                offset=f.get("offset") if isinstance(f.get("offset"), int) else None,
                box=str(f.get("box") or ""),
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------------------
# Pages for each command (the CLI's --html), and the one place a report is written to disk.


def simulated_steps(scenario: Any, profile: str = "chromium") -> list[dict[str, Any]] | None:
    """Simulate-schema steps for ``scenario``, with per-track ranges (``sourceBuffers[id].tracks``) for
    source buffers holding several tracks, so the timeline can show which track leaves a gap.

    None when the simulator cannot run it (the page then shows what it has: a report must never fail
    because a picture could not be drawn).
    """
    try:
        from msetool.mse.scenario_runner import ScenarioRunner

        runner = ScenarioRunner(scenario, profile)
        to_js = runner.ms.profile.to_js
        steps: list[dict[str, Any]] = []
        for i, op in enumerate(scenario.ops):
            st = runner.step(i, op)
            for sb_id, sb in runner.sb_objects.items():
                if sb.removed or len(sb.track_order) < 2:
                    continue
                tracks: dict[str, Any] = {}
                for tid in sb.track_order:
                    tb = sb.tracks[tid]
                    rs = tb.ranges(runner.ms.duration).map(lambda t: float(to_js(t)))
                    tracks[str(tid)] = {"kind": tb.kind, "buffered": rs}
                st["state"]["sourceBuffers"][sb_id]["tracks"] = tracks
            steps.append(st)
        return steps
    except Exception:
        return None


def validate_page(report: Any, scenario: Any = None, title: str = "msetool validate") -> str:
    """``validate --html``: the findings of a :class:`msetool.report.summary.Report`, and the timeline the
    simulator draws for the same appends (``scenario``: the --scenario path, else the report's streams)."""
    rows = [
        FindingRow(f.severity.value, f.rule, f.message, f.file, f.offset, f.box)
        for f in getattr(report, "findings", [])
    ]
    meta: dict[str, str] = {}
    streams = getattr(report, "streams", []) or []
    for st in streams:
        name = getattr(st, "id", "stream")
        kind = getattr(st, "type", None) or getattr(st, "mime", None) or getattr(st, "format", None)
        meta[str(name)] = str(kind or "?")
    timelines: list[Timeline] = []
    sc = _validate_scenario(scenario, streams)
    steps = simulated_steps(sc) if sc is not None else None
    if steps:
        timelines.append(timeline_from_steps("simulator", steps))
    return render_html(title=title, command="validate", findings=rows, timelines=timelines, meta=meta)


def _validate_scenario(scenario: Any, streams: Sequence[Any]) -> Any:
    """The scenario validate checked: loaded from its path, or one SourceBuffer per validated stream."""
    from pathlib import Path

    from msetool.errors import MseToolError
    from msetool.scenario import load_scenario, parse_scenario

    try:
        if scenario:
            return load_scenario(scenario)
        sbs, ops = [], []
        base: Path | None = None
        for i, st in enumerate(streams):
            files = [Path(f) for f in getattr(st, "files", [])]
            mime = getattr(st, "type", None)
            if not files or not mime:
                return None
            base = base or files[0].resolve().parent
            sb_id = str(getattr(st, "id", f"sb{i}"))
            sbs.append({"id": sb_id, "type": str(mime)})
            ops += [{"op": "append", "file": str(f.resolve()), "sb": sb_id} for f in files]
        if not sbs or base is None:
            return None
        return parse_scenario({"id": "validate", "sourceBuffers": sbs, "ops": ops}, base)
    except MseToolError:
        return None


def simulate_page(result: Mapping[str, Any], scenario: Any = None, title: str | None = None) -> str:
    """``simulate --html``: the simulated timeline (per track too when ``scenario`` is given); append
    errors (with their rule) and warnings as findings."""
    steps = list(result.get("steps", []))
    if scenario is not None:
        steps = simulated_steps(scenario, str(result.get("profile") or "chromium")) or steps
    rows: list[FindingRow] = []
    for st in steps:
        op = st.get("op") or {}
        err = st.get("error")
        if isinstance(err, Mapping) and err.get("message"):
            rows.append(
                FindingRow(
                    "error",
                    str(err.get("rule") or "append-error"),
                    f"step {st.get('index')}: {err.get('message')}",
                    str(err.get("file") or op.get("file") or ""),
                    err.get("offset") if isinstance(err.get("offset"), int) else None,
                    str(err.get("box") or ""),
                )
            )
        for w in st.get("warnings") or []:
            if isinstance(w, Mapping):
                rows.append(
                    FindingRow(
                        "warning",
                        str(w.get("kind", "warning")),
                        f"step {st.get('index')}: {w.get('message', '')}",
                        str(op.get("file") or ""),
                    )
                )
    name = str(result.get("scenario") or "")
    return render_html(
        title=title or f"msetool simulate {name}".strip(),
        command="simulate",
        findings=rows,
        timelines=[timeline_from_steps("simulator", steps)],
        meta={"profile": str(result.get("profile", ""))},
    )


def write_html(path: str, page: str) -> None:
    """Write a report via a temporary file and a rename: an interrupted run leaves no half page."""
    from pathlib import Path

    from msetool.errors import UsageError

    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(p)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"{p}: cannot write the HTML report: {e.strerror or e}") from None
