"""The self-check after packaging: validate every rendition as the byte stream a SourceBuffer would get,
simulate appending it, and collect what a one-screen summary needs.

The seam is deliberately narrow: :func:`self_check` takes the output folder and the presentation and
returns plain data (:class:`CheckReport`); the CLI renders it. Validation is ``msetool validate``'s engine
(:func:`msetool.rules.engine.validate_stream`) fed ``init + segments`` with the exact ``type`` from
mse.json; buffered ranges come from the MSE simulator when it is available, otherwise from the timing
read back from the segments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from msetool.fragment import layout
from msetool.fragment.manifests import Presentation, RenditionEntry
from msetool.rules.findings import Finding, Severity

Range = tuple[float, float]


@dataclass(slots=True)
class RenditionCheck:
    id: str
    type: str
    findings: list[Finding] = field(default_factory=list)
    #: track kind -> buffered ranges after appending init + every segment in order.
    buffered: dict[str, list[Range]] = field(default_factory=dict)
    buffered_source: str = "segments"


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


def _trap_findings(traps: list[str], rid: str) -> list[Finding]:
    return [Finding("fragment-trap", Severity.ERROR, t, file=t.split("@", 1)[0].split(":", 1)[0])
            for t in traps if t.startswith(rid + "/")]


def merge_ranges(spans: list[Range], tolerance: float) -> list[Range]:
    out: list[Range] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1] + tolerance:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _timing_buffered(root: Path, r: RenditionEntry) -> dict[str, list[Range]]:
    """Per-track ranges from the segments' own timing: each segment covers [earliest PTS, + duration).

    The tolerance is Chromium's: gaps smaller than about one frame are bridged when coded frames are
    added, so they do not split a buffered range.
    """
    init = layout.read_init((root / r.init).read_bytes(), r.init)
    spans: dict[int, list[Range]] = {t.track_id: [] for t in init}
    for s in r.segments:
        size, moofs = layout.moofs_in_file(root / s.file)
        timing = layout.read_segment(moofs, init, s.file, size)
        for tid, (pts, _dts, dur) in timing.tracks.items():
            t = next(x for x in init if x.track_id == tid)
            # appendWindowStart is 0: frames before it (AAC priming behind an edit list) are dropped.
            start, end = max(0.0, pts / t.timescale), (pts + dur) / t.timescale
            if end > start:
                spans.setdefault(tid, []).append((start, end))
    out: dict[str, list[Range]] = {}
    for t in init:
        out[t.kind if t.kind not in out else f"{t.kind}{t.track_id}"] = merge_ranges(spans[t.track_id], 0.1)
    return out


def self_check(root: Path, p: Presentation, traps: list[str] | None = None) -> CheckReport:
    report = CheckReport()
    validate = _validator()
    report.validator = "msetool validate" if validate else "built-in"
    for r in p.renditions:
        rc = RenditionCheck(r.id, r.type)
        rc.findings += _trap_findings(traps or [], r.id)
        files = [root / r.init, *(root / s.file for s in r.segments)]
        if validate is not None:
            rc.findings += validate(root, files, r.type)
        rc.buffered = _timing_buffered(root, r)
        report.renditions.append(rc)
    return report


def _validator() -> Callable[[Path, list[Path], str], list[Finding]] | None:
    """``msetool validate``'s engine, or None if this build lacks it."""
    try:
        from msetool.rules.engine import validate_stream
        from msetool.source import FileSource
    except ImportError:
        return None

    def run(root: Path, files: list[Path], mime: str) -> list[Finding]:
        sources = [FileSource(f, name=str(f.relative_to(root))) for f in files]
        try:
            return list(validate_stream(sources, mime).findings)
        finally:
            for s in sources:
                s.close()

    return run
