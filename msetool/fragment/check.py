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
- The byte stream parser runs once per segment, not twice: it is most of the check's cost, and validation
  and simulation need the same events. The simulator's parser is wrapped in a :class:`_Recorder` that
  keeps each append's events; validation then gets a :class:`_Replay` parser that hands them back (through
  ``ValidateOptions.parser_factory``) and never reads the segments' sample bytes. Replay is used only
  where it cannot change the result: every file of the batch was appended once, whole, in order, to a
  parser that never failed. Anything else (a failed append, simulation off or broken, an engine without
  the hook) validates with a fresh parser as ``msetool validate`` does.
"""

from __future__ import annotations

import bisect
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from msetool.fragment import layout
from msetool.fragment.manifests import Presentation
from msetool.rules.findings import Finding, Severity

if TYPE_CHECKING:  # imported where used: nothing of the check need load before ffmpeg starts
    from msetool.stream import ParserEvent

Range = tuple[float, float]
ParserFactory = Callable[[Any, Any], Any]


class Validator(Protocol):
    """Validates ``files`` (path, name) as one SourceBuffer's appends of type ``mime``; ``parser_factory``
    (optional) builds the byte stream parser instead of the format registry."""

    def __call__(self, files: list[tuple[Path, str]], mime: str,
                 parser_factory: ParserFactory | None = None) -> list[Finding]: ...


@dataclass(slots=True)
class RenditionCheck:
    id: str
    type: str
    findings: list[Finding] = field(default_factory=list)
    #: track kind -> buffered ranges after appending init + every segment in order.
    buffered: dict[str, list[Range]] = field(default_factory=dict)
    #: "simulator" (msetool's MSE model) or "segment timing" (read-back fallback).
    buffered_source: str = "segment timing"
    #: files validated from the simulator's recorded parser events (not parsed a second time)
    replayed: int = 0


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


def duration_findings(duration: float, rc: RenditionCheck) -> list[Finding]:
    """An error for each track whose simulated media ends after the presentation's duration.

    The duration (mse.json, and the MPD's ``mediaPresentationDuration``) is computed from the read-back
    timing; the buffered ranges come independently from the simulator. A DASH player takes the duration as
    where the media ends: dash.js, past it before Chromium fires ``ended``, ends playback itself and
    pauses short of the end (a muxed rendition whose AAC outlasts its video once did this). Only the
    simulator's ranges are compared (the read-back fallback is where the duration came from), with 1 ms
    of slack for Chromium's microsecond timestamps."""
    if rc.buffered_source != "simulator":
        return []
    out = []
    for kind, ranges in rc.buffered.items():
        if ranges and ranges[-1][1] > duration + 0.001:
            out.append(Finding(
                "fragment-duration", Severity.ERROR,
                f"{rc.id} {kind} is buffered to {ranges[-1][1]:.6f} s, after the presentation's duration "
                f"{duration:.6f} s: a DASH player would end playback short of it"))
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


#: what the first append of a segment and the first validation batch import, when not imported yet
_FIRST_USE = (
    "msetool.mse.media_source",  # the simulator: SourceBuffer, track buffers, Chromium's stream model
    "msetool.bmff.stream",  # the byte stream parser the SourceBuffer makes for video/mp4 and audio/mp4
    "msetool.bmff.audio",  # its AAC configuration reader
    "msetool.codecs.values",  # the codec strings' typed values, made on first use
)
_FIRST_VALIDATION = ("msetool.rules.bmff", "msetool.rules.timeline", "msetool.rules.codecs")


def warm_up(validate: bool = True) -> None:
    """Import now what the check's first segments would import.

    Why: the packager's watcher starts as ffmpeg does, and ffmpeg writes its first segments ~60 ms
    later; imported inside the first segments' check instead, these modules (~20 ms) were time the check
    never made up where ffmpeg runs as fast as a core (tmpfs, interleaved A/B, 11 runs each, three
    rounds: check left at ffmpeg's exit 9/11/9 -> 1/5/8 ms).
    """
    import importlib

    for name in _FIRST_USE + (_FIRST_VALIDATION if validate else ()):
        importlib.import_module(name)


def default_validator() -> Validator | None:
    """``msetool validate``'s engine, or None if this build lacks it."""
    try:
        from msetool.rules.engine import validate_stream
        from msetool.source import FileSource, PrefixSource
    except ImportError:
        return None

    try:
        from msetool.rules.engine import ValidateOptions

        hook = "parser_factory" in ValidateOptions.__match_args__
    except ImportError:
        hook = False

    def run(files: list[tuple[Path, str]], mime: str, parser_factory: ParserFactory | None = None
            ) -> list[Finding]:
        # files the simulator has just read: their sizes and heads are known, no need to open them
        recs = getattr(getattr(parser_factory, "replay", None), "files", None)
        if recs is not None and len(recs) == len(files):
            sources: list[Any] = [PrefixSource(path, r.size, r.head, name=name)
                                  for (path, name), r in zip(files, recs, strict=True)]
        else:
            sources = [FileSource(path, name=name) for path, name in files]
        try:
            options = ValidateOptions(parser_factory=parser_factory) if hook and parser_factory else None
            return list(validate_stream(sources, mime, options).findings)
        finally:
            for s in sources:
                s.close()

    return run


@dataclass(slots=True)
class _Recorded:
    """What the simulator's parser returned for one append: a whole file, fed in one piece."""

    name: str
    start: int  # parser offset of the file's first byte
    size: int
    events: list[ParserEvent]
    in_media_segment: bool
    #: the file's first bytes (what validation reads of it: box headers, moof)
    head: bytes = b""


#: bytes of each appended file kept for validation (a fragment's styp, sidx, moof and mdat header)
_HEAD = 4096


class _Recorder:
    """Wraps the simulator's byte stream parser and keeps every append's events (see the module docstring).

    The SourceBuffer feeds it exactly what a player would (one file per appendBuffer), so the recorded
    events are those of the one real parser run; ``failed`` is set once any of them is a ParseFailed, after
    which nothing is recorded (validation then re-parses, restarting as ``msetool validate`` does).
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.generate_timestamps = bool(inner.generate_timestamps)
        self.fed = 0
        self.name = ""
        self.records: dict[str, _Recorded] = {}
        self.failed = False

    def __getattr__(self, attr: str) -> Any:  # anything else the SourceBuffer asks of its parser
        return getattr(self.inner, attr)

    @property
    def in_media_segment(self) -> bool:
        return bool(self.inner.in_media_segment)

    @property
    def preroll_scope(self) -> str | None:
        """The inner parser's (msetool.stream.PrerollScoped), set through: the recorded events feed
        validation, and "start" keeps every decode check validate reads."""
        return getattr(self.inner, "preroll_scope", None)

    @preroll_scope.setter
    def preroll_scope(self, scope: str) -> None:
        if hasattr(self.inner, "preroll_scope"):
            self.inner.preroll_scope = scope

    def feed(self, data: bytes) -> list[ParserEvent]:
        from msetool.stream import ParseFailed

        events: list[ParserEvent] = self.inner.feed(data)
        start, self.fed = self.fed, self.fed + len(data)
        if not self.failed:
            if any(isinstance(e, ParseFailed) for e in events) or self.name in self.records:
                self.failed = True
                self.records.clear()
            else:
                self.records[self.name] = _Recorded(self.name, start, len(data), events,
                                                    self.in_media_segment, data[:_HEAD])
        return events

    def reset(self) -> None:
        self.failed = True  # a reset would make replayed events depend on where it happened
        self.records.clear()
        self.inner.reset()

    def flush(self) -> list[ParserEvent]:
        events: list[ParserEvent] = self.inner.flush()
        return events

    def replay(self, names: list[str]) -> _Replay | None:
        """A parser replaying ``names`` (the files of one validation run, in order), or None when any of
        them was not recorded whole and cleanly."""
        if self.failed:
            return None
        recs = [self.records.get(n) for n in names]
        if any(r is None for r in recs):
            return None
        return _Replay([r for r in recs if r is not None])

    def forget(self, keep: set[str]) -> None:
        """Drop the events of files validation will not replay again (memory stays per batch)."""
        for n in [n for n in self.records if n not in keep]:
            del self.records[n]


class _Replay:
    """A byte stream parser that returns what :class:`_Recorder` recorded for the same files.

    Each file's events come back when its last byte is fed, with offsets moved from the simulator's
    parser's coordinates to this parser's (bytes fed since it was created). Frame offsets are left as they
    were: validation reads only the events' offsets. It declares every byte skippable, so validation never
    reads sample data.
    """

    generate_timestamps = False

    def __init__(self, files: list[_Recorded]) -> None:
        self.files = files
        self.ends: list[int] = []
        pos = 0
        for f in files:
            pos += f.size
            self.ends.append(pos)
        self.sim_starts = [f.start for f in files]
        self.fed = 0
        self.i = 0  # next file whose events are due

    @property
    def in_media_segment(self) -> bool:
        return self.files[self.i - 1].in_media_segment if self.i else False

    def feed(self, data: bytes) -> list[ParserEvent]:
        return self.skip(len(data))

    def skippable(self) -> int:
        return self.ends[self.i] - self.fed if self.i < len(self.files) else 0

    def skip(self, n: int) -> list[ParserEvent]:
        from msetool.stream import FramesParsed

        self.fed += n
        out: list[ParserEvent] = []
        files, ends = self.files, self.ends
        while self.i < len(files) and ends[self.i] <= self.fed:
            i = self.i
            f = files[i]
            lo, hi = f.start, f.start + f.size
            delta = ends[i] - f.size - lo
            # an event at the file's end offset is at the start of the next file of the run when that one, not
            # empty, was appended right after (where _moved puts it)
            upto = hi + 1 if i + 1 < len(files) and files[i + 1].start == hi and files[i + 1].size else hi
            for e in f.events:
                if isinstance(e, FramesParsed):
                    out.append(e)
                elif lo <= e.offset < upto:  # the common case: an event about the file that emitted it
                    out.append(_with_offset(e, e.offset + delta) if delta else e)
                else:
                    out.append(self._moved(e))
            self.i += 1
        return out

    def _moved(self, ev: ParserEvent) -> ParserEvent:
        from msetool.stream import FramesParsed

        if isinstance(ev, FramesParsed):
            return ev
        j = bisect.bisect_right(self.sim_starts, ev.offset) - 1
        if j < 0 or ev.offset >= self.sim_starts[j] + self.files[j].size:
            # refers to bytes outside this run: pin it to the start of the file that emitted it
            return _with_offset(ev, self.ends[self.i] - self.files[self.i].size)
        here = self.ends[j] - self.files[j].size
        return _with_offset(ev, ev.offset - self.sim_starts[j] + here)

    def reset(self) -> None:
        pass

    def flush(self) -> list[ParserEvent]:
        return []


def _with_offset(ev: ParserEvent, offset: int) -> ParserEvent:
    """The event at another offset (every event but FramesParsed, which carries none, is a record)."""
    return ev.replace(offset=offset)  # type: ignore[union-attr]


class _ReplayFactory:
    """``ValidateOptions.parser_factory`` for one validation run: the replay first; a real parser when the
    engine asks again (it restarts after a failure, primed with the init segment, which the replay, bound to
    the run's files in order, cannot follow)."""

    def __init__(self, replay: _Replay) -> None:
        self.replay: _Replay | None = replay
        self.used = False

    def __call__(self, mime: Any, profile: Any) -> Any:
        if self.replay is not None:
            r, self.replay, self.used = self.replay, None, True
            return r
        from msetool.stream import parser_for

        return parser_for(mime, profile)


class _Simulation:
    """One SourceBuffer of msetool's MSE model (Chromium profile), fed append by append."""

    def __init__(self, mime: str) -> None:
        from msetool.mse.media_source import MediaSource

        self.ms: Any = MediaSource("chromium")
        self.sb: Any = self.ms.add_source_buffer("check", mime)
        self.error: str | None = None
        self.recorder: _Recorder | None = None
        if self.sb.parser is not None:
            self.recorder = self.sb.parser = _Recorder(self.sb.parser)

        #: bytes appended per track id, compared with Chromium's per-stream memory limits at the end.
        self.appended = 0
        self.limits: dict[int, int] = {}

    def append(self, data: bytes, name: str) -> None:
        if self.error is not None:
            return
        if self.recorder is not None:
            self.recorder.name = name
        self.sb.append_buffer(data, name)
        self.sb.run_pending()
        self.appended += len(data)
        err = self.ms.last_append_error
        if err is not None:
            self.error = f"{err.file or name}: {err.message}"
        elif self.ms.element_error is not None:
            # a decode error after an append that itself succeeded (later appends would throw)
            self.error = f"{name}: the media element fails: {self.ms.element_error[1]}"
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


def read_whole(path: Path) -> bytes:
    """A file's bytes, read the way the check reads each segment (~1,200 times in a 20-minute run).

    One ``read`` of the file's size, into memory the heap can reuse. ``Path.read_bytes`` asked for one
    byte more than the file and shrank the buffer after, and glibc serves every allocation above its
    mmap threshold (128 KiB at start) with a new mapping: each segment of a few hundred KB faulted in and
    zeroed fresh pages, then unmapped them. glibc raises that threshold to the size of the first mapped
    block that is freed, so one 16 MiB block is allocated (calloc'd: mapped, never touched) and freed
    first. The reads of a 20-minute output (240 MB) went from ~75 to ~45 ms of CPU. Elsewhere than glibc
    it is one harmless allocation.
    """
    _raise_mmap_threshold()
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        chunks = [os.read(fd, size)]
        got = len(chunks[0])
        while got < size and (more := os.read(fd, size - got)):  # short reads: over 2 GB on Linux
            chunks.append(more)
            got += len(more)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


@functools.cache
def _raise_mmap_threshold() -> None:
    bytes(16 << 20)


#: Segments per validation batch. Where the check runs behind a fast ffmpeg (tmpfs), what is pending when
#: ffmpeg exits is validated after it: on a 20-minute output (1,200 segments) the last validation took
#: ~20 ms with batches of 200 and ~3 ms with 32. The check's CPU is the same from 25 to 200 (replayed
#: parser events make a batch cheap to start) and grows below ~16.
BATCH = 32


class RenditionMonitor:
    """Reads back, validates and simulates one rendition as its files appear (see module docstring)."""

    def __init__(
        self, rid: str, validator: Validator | None, simulate: bool = True, batch: int = BATCH
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
        #: files validated from the simulator's recorded parser events instead of a second parse
        self.replayed = 0

    def start(
        self, init_path: Path, init_name: str, mime_of: Callable[[list[layout.TrackLayout]], str]
    ) -> None:
        self.init_bytes = read_whole(init_path)
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
        # the simulator appends the whole file, so it is read once and the moofs are taken from it
        data = read_whole(path) if self._sim is not None else None
        size, moofs = layout.moofs_in_file(path) if data is None else layout.moofs_in_data(data, name)
        timing = layout.read_segment(moofs, self.tracks, name, size)
        if not timing.keyframe_start:
            timing.traps.append(f"{name}: does not start with a keyframe (not independently decodable)")
        self.timings.append(timing)
        self.traps += timing.traps
        if self._sim is not None and data is not None:
            try:
                self._sim.append(data, name)
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

    def flush(self) -> None:
        """ffmpeg has written its last file: validate what is pending now, while it exits, so that
        :meth:`finish` has nothing left to validate unless more segments come after all."""
        if self.validator is not None and self._init is not None and len(self._pending) > 1:
            self._validate()

    def _validate(self) -> None:
        assert self.validator is not None and self._init is not None
        files = [self._init, *self._pending]
        factory = None
        recorder = self._sim.recorder if self._sim is not None else None
        if recorder is not None:
            replay = recorder.replay([name for _p, name in files])
            factory = _ReplayFactory(replay) if replay is not None else None
            recorder.forget({self._init[1], self._pending[-1][1]} if self._pending else {self._init[1]})
        for f in self.validator(files, self.mime, factory):
            key = (f.rule, f.file, f.offset, f.message)
            if key not in self._seen:
                self._seen.add(key)
                self.findings.append(f)
        if factory is not None and factory.used:
            self.replayed += len(files)
        self._validated_any = True
        self._pending = self._pending[-1:]  # overlap: the next batch re-reads the boundary segment

    def finish(self) -> RenditionCheck:
        if self.validator is not None and self._init is not None and (
                len(self._pending) > 1 or not self._validated_any):
            self._validate()
        rc = RenditionCheck(self.rid, self.mime, replayed=self.replayed)
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
               validator: Validator | None = None, simulate: bool = True, *, batch: int = BATCH
               ) -> CheckReport:
    """Check an output folder after the fact (the packaging path uses RenditionMonitor directly)."""
    validator = validator or default_validator()
    report = CheckReport(validator="msetool validate" if validator else "built-in")
    for r in p.renditions:
        m = RenditionMonitor(r.id, validator, simulate, batch)
        m.start(root / r.init, r.init, _fixed(r.type))
        for s in r.segments:
            m.add_segment(root / s.file, s.file)
        rc = m.finish()
        rc.findings[:0] = trap_findings([t for t in traps or [] if t not in m.traps], r.id)
        rc.findings += duration_findings(p.duration, rc)
        report.renditions.append(rc)
    return report
