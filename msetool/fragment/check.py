"""The self-check after packaging: validate every rendition as the byte stream a SourceBuffer would get,
simulate appending it, and collect what a one-screen summary needs.

Why it is incremental: packaging in ``--copy`` mode is I/O bound and ffmpeg leaves the second core idle,
so :class:`RenditionMonitor` checks each segment while ffmpeg is still writing the next ones (fed by the
watcher thread in :mod:`msetool.fragment.package`). Only the last few segments are checked after ffmpeg
exits, which keeps msetool's overhead beyond ffmpeg small on long inputs.

- Validation is ``msetool validate``'s engine (:func:`msetool.rules.engine.validate_stream`) with the exact
  ``type`` from mse.json, run on ``init + segments`` in batches; consecutive batches overlap by one
  segment so continuity between batches is still checked, and repeated findings are dropped.
- Simulation appends init and every segment, in order, to a SourceBuffer of msetool's MSE model (Chromium
  profile) and reads ``buffered`` per track. If the simulator is unavailable or fails, buffered ranges
  come from the timing read back from the segments, and the summary says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from msetool.fragment import layout
from msetool.fragment.manifests import Presentation
from msetool.rules.findings import Finding, Severity

Range = tuple[float, float]
Validator = Callable[[list[tuple[Path, str]], str], list[Finding]]


@dataclass(slots=True)
class RenditionCheck:
    id: str
    type: str
    findings: list[Finding] = field(default_factory=list)
    #: track kind -> buffered ranges after appending init + every segment in order.
    buffered: dict[str, list[Range]] = field(default_factory=dict)
    #: "simulator" (msetool's MSE model) or "segment timing" (read-back fallback).
    buffered_source: str = "segment timing"


@dataclass(slots=True)
class CheckReport:
    renditions: list[RenditionCheck] = field(default_factory=list)
    validator: str = "none"

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.renditions for f in r.findings]

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.WARNING)


def trap_findings(traps: list[str], rid: str) -> list[Finding]:
    out = []
    for t in traps:
        if t.startswith(rid + "/"):
            where, _, msg = t.partition(": ")
            out.append(Finding("fragment-trap", Severity.ERROR, msg or t, file=where.split("@", 1)[0]))
    return out


def merge_ranges(spans: list[Range], tolerance: float) -> list[Range]:
    out: list[Range] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1] + tolerance:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def timing_buffered(
    tracks: list[layout.TrackLayout], timings: list[layout.SegmentTiming]
) -> dict[str, list[Range]]:
    """Per-track ranges from the segments' own timing: each segment covers [earliest PTS, + duration).

    Gaps up to 0.1 s are bridged (Chromium joins ranges across gaps smaller than about one frame when
    coded frames are added), and appendWindowStart 0 drops what lies before 0 (AAC priming).
    """
    spans: dict[int, list[Range]] = {t.track_id: [] for t in tracks}
    by_id = {t.track_id: t for t in tracks}
    for timing in timings:
        for tid, (pts, _dts, dur) in timing.tracks.items():
            t = by_id.get(tid)
            if t is None:
                continue
            start, end = max(0.0, pts / t.timescale), (pts + dur) / t.timescale
            if end > start:
                spans[tid].append((start, end))
    out: dict[str, list[Range]] = {}
    for t in tracks:
        out[t.kind if t.kind not in out else f"{t.kind}{t.track_id}"] = merge_ranges(spans[t.track_id], 0.1)
    return out


def default_validator() -> Validator | None:
    """``msetool validate``'s engine, or None if this build lacks it."""
    try:
        from msetool.rules.engine import validate_stream
        from msetool.source import FileSource
    except ImportError:
        return None

    def run(files: list[tuple[Path, str]], mime: str) -> list[Finding]:
        sources = [FileSource(path, name=name) for path, name in files]
        try:
            return list(validate_stream(sources, mime).findings)
        finally:
            for s in sources:
                s.close()

    return run


class _Simulation:
    """One SourceBuffer of msetool's MSE model (Chromium profile), fed append by append."""

    def __init__(self, mime: str) -> None:
        from msetool.mse.media_source import MediaSource

        self.ms: Any = MediaSource("chromium")
        self.sb: Any = self.ms.add_source_buffer("check", mime)
        self.error: str | None = None

        #: bytes appended per track id, compared with Chromium's per-stream memory limits at the end.
        self.appended = 0
        self.limits: dict[int, int] = {}

    def append(self, data: bytes, name: str) -> None:
        if self.error is not None:
            return
        self.sb.append_buffer(data, name)
        self.sb.run_pending()
        self.appended += len(data)
        err = self.ms.last_append_error
        if err is not None:
            self.error = f"{err.file or name}: {err.message}"
        self._lift_quota()

    def _lift_quota(self) -> None:
        """Appending a whole long presentation at once would fill Chromium's SourceBuffer (players
        remove() behind the playhead instead); the check is about timing and decodability, so the
        simulated memory limit is lifted and the would-be overflow reported separately."""
        for tid, tb in self.sb.tracks.items():
            if tid not in self.limits:
                self.limits[tid] = int(tb.memory_limit)
                tb.memory_limit = 1 << 62
                if getattr(tb, "stream", None) is not None:
                    tb.stream.memory_limit = 1 << 62

    def quota_note(self) -> str | None:
        limit = sum(self.limits.values())
        if limit and self.appended > limit:
            return (f"{self.appended / 1e6:.0f} MB appended in one go would exceed Chromium's "
                    f"{limit / 1e6:.0f} MB SourceBuffer limit: a player must remove() behind the playhead")
        return None

    def buffered(self) -> dict[str, list[Range]]:
        out: dict[str, list[Range]] = {}
        for tid in self.sb.track_order:
            tb = self.sb.tracks[tid]
            key = tb.kind if tb.kind not in out else f"{tb.kind}{tid}"
            js = self.ms.profile.to_js
            out[key] = [(js(a), js(b)) for a, b in tb.ranges(self.ms.duration)]
        return out


class RenditionMonitor:
    """Reads back, validates and simulates one rendition as its files appear (see module docstring)."""

    def __init__(
        self, rid: str, validator: Validator | None, simulate: bool = True, batch: int = 200
    ) -> None:
        self.rid = rid
        self.validator = validator
        self.want_simulation = simulate
        self.batch = batch
        self.tracks: list[layout.TrackLayout] = []
        self.init_bytes = b""
        self.mime = ""
        self.timings: list[layout.SegmentTiming] = []
        self.traps: list[str] = []
        self.findings: list[Finding] = []
        self._seen: set[tuple[str, str, int | None, str]] = set()
        self._init: tuple[Path, str] | None = None
        self._pending: list[tuple[Path, str]] = []
        self._validated_any = False
        self._sim: _Simulation | None = None
        self.sim_problem: str | None = None

    def start(
        self, init_path: Path, init_name: str, mime_of: Callable[[list[layout.TrackLayout]], str]
    ) -> None:
        self.init_bytes = init_path.read_bytes()
        self.tracks = layout.read_init(self.init_bytes, init_name)
        self.traps += [
            f"{init_name}: AAC sample entry without AudioSpecificConfig (Chromium cannot decode it)"
            for t in self.tracks if t.missing_asc
        ]
        self.mime = mime_of(self.tracks)
        self._init = (init_path, init_name)
        if self.want_simulation:
            try:
                self._sim = _Simulation(self.mime)
                self._sim.append(self.init_bytes, init_name)
            except Exception as e:  # the simulator is another engineer's moving part: never fail packaging
                self._sim, self.sim_problem = None, f"{type(e).__name__}: {e}"

    def add_segment(self, path: Path, name: str) -> layout.SegmentTiming:
        size, moofs = layout.moofs_in_file(path)
        timing = layout.read_segment(moofs, self.tracks, name, size)
        if not timing.keyframe_start:
            timing.traps.append(f"{name}: does not start with a keyframe (not independently decodable)")
        self.timings.append(timing)
        self.traps += timing.traps
        if self._sim is not None:
            try:
                self._sim.append(path.read_bytes(), name)
            except Exception as e:
                self._sim, self.sim_problem = None, f"{type(e).__name__}: {e}"
        if self.validator is not None:
            self._pending.append((path, name))
            if len(self._pending) > self.batch:
                self._validate()
        return timing

    def idle(self) -> None:
        """The watcher has nothing new to read: spend the wait validating what is pending, so little is
        left for after ffmpeg exits."""
        if self.validator is not None and len(self._pending) > 16:
            self._validate()

    def _validate(self) -> None:
        assert self.validator is not None and self._init is not None
        for f in self.validator([self._init, *self._pending], self.mime):
            key = (f.rule, f.file, f.offset, f.message)
            if key not in self._seen:
                self._seen.add(key)
                self.findings.append(f)
        self._validated_any = True
        self._pending = self._pending[-1:]  # overlap: the next batch re-reads the boundary segment

    def finish(self) -> RenditionCheck:
        if self.validator is not None and self._init is not None and (
                len(self._pending) > 1 or not self._validated_any):
            self._validate()
        rc = RenditionCheck(self.rid, self.mime)
        rc.findings = trap_findings(self.traps, self.rid) + self.findings
        if self._sim is not None:
            try:
                rc.buffered = self._sim.buffered()
                rc.buffered_source = "simulator"
                if self._sim.error:
                    rc.findings.append(Finding("fragment-simulate", Severity.ERROR,
                                               f"simulated append failed: {self._sim.error}"))
                note = self._sim.quota_note()
                if note:
                    rc.findings.append(Finding("fragment-quota", Severity.INFO, note))
            except Exception as e:
                self.sim_problem = f"{type(e).__name__}: {e}"
        if rc.buffered_source != "simulator":
            rc.buffered = timing_buffered(self.tracks, self.timings)
        return rc


def _fixed(mime: str) -> Callable[[list[layout.TrackLayout]], str]:
    def get(_tracks: list[layout.TrackLayout]) -> str:
        return mime

    return get


def self_check(root: Path, p: Presentation, traps: list[str] | None = None,
               validator: Validator | None = None, simulate: bool = True) -> CheckReport:
    """Check an output folder after the fact (the packaging path uses RenditionMonitor directly)."""
    validator = validator or default_validator()
    report = CheckReport(validator="msetool validate" if validator else "built-in")
    for r in p.renditions:
        m = RenditionMonitor(r.id, validator, simulate)
        m.start(root / r.init, r.init, _fixed(r.type))
        for s in r.segments:
            m.add_segment(root / s.file, s.file)
        rc = m.finish()
        rc.findings[:0] = trap_findings([t for t in traps or [] if t not in m.traps], r.id)
        report.renditions.append(rc)
    return report
