"""``fragment``: probe, plan, run ffmpeg into a temporary folder, read the result back, write manifests,
move into place. The only side effects are files under the output's parent and the injected Runner.

Safety: ffmpeg writes into ``<parent>/.<name>.msetool-XXXX``; only a complete, read-back output is renamed
to ``<name>``. A failure or Ctrl-C removes the temporary folder, so nothing half-written is left behind,
and an existing output is replaced only with ``force`` (and only after the new one is complete).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable

from msetool import __version__
from msetool.errors import FfmpegError, UsageError
from msetool.fragment.plan import (
    FFMPEG_MPD,
    REP_DIR,
    FragmentOptions,
    Plan,
    TrackOutput,
    build_plan,
    check_options,
    spelled,
)
from msetool.fragment.probe import MediaInfo, probe, probe_mp4
from msetool.fragment.runner import FfmpegBinary, SubprocessRunner, locate_ffmpeg, relevant_stderr
from msetool.records import Record

#: typing.TYPE_CHECKING without importing typing: this module loads before ffmpeg is started
TYPE_CHECKING = False
if TYPE_CHECKING:
    import mmap
    from pathlib import Path
    from typing import Protocol

    # read-back, manifests and the check load after ffmpeg has started (the watcher thread imports them
    # while ffmpeg runs): nothing of them is needed to build the command
    from msetool.fragment import layout
    from msetool.fragment.check import CheckReport, RenditionCheck, RenditionMonitor
    from msetool.fragment.manifests import Presentation, RenditionEntry, SegmentEntry
    from msetool.fragment.runner import Runner

Log = Callable[[str], None]


class FragmentResult(Record):
    """What :func:`fragment` wrote and found. A record (msetool.records), not a dataclass: this module loads
    before ffmpeg starts, and each @dataclass costs ~0.5 ms to create."""

    __slots__ = __match_args__ = (
        "output", "presentation", "info", "binary", "argv", "warnings", "traps", "ffmpeg_seconds",
        "total_seconds", "check",
    )  # fmt: skip

    output: Path
    presentation: Presentation
    info: MediaInfo
    binary: FfmpegBinary
    argv: list[str]
    warnings: list[str]
    #: Chromium traps found while reading the output back (base-data-offset, missing ASC, ...).
    traps: list[str]
    ffmpeg_seconds: float
    total_seconds: float
    #: The self-check, when it ran.
    check: CheckReport | None

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        output: Path,
        presentation: Presentation,
        info: MediaInfo,
        binary: FfmpegBinary,
        argv: list[str],
        warnings: list[str] | None = None,
        traps: list[str] | None = None,
        ffmpeg_seconds: float = 0.0,
        total_seconds: float = 0.0,
        check: CheckReport | None = None,
    ) -> None:
        self.output = output
        self.presentation = presentation
        self.info = info
        self.binary = binary
        self.argv = argv
        self.warnings = [] if warnings is None else warnings
        self.traps = [] if traps is None else traps
        self.ffmpeg_seconds = ffmpeg_seconds
        self.total_seconds = total_seconds
        self.check = check


def _within(path: str, folder: str) -> bool:
    """``Path(path).is_relative_to(folder)`` for two resolved paths."""
    return path == folder or path.startswith(folder if folder.endswith("/") else folder + "/")


def _check_paths(opts: FragmentOptions) -> tuple[str, str]:
    """The input (resolved) and the output (absolute, as given otherwise), once they pass the safety
    checks: the input exists and is a file, the output would not overwrite it, an existing output is
    replaced only with ``force``, and the output's folder can be written."""
    given = spelled(opts.input)
    try:
        st = os.stat(given)
    except (FileNotFoundError, NotADirectoryError):
        raise UsageError(f"{opts.input}: no such file") from None
    except OSError as e:
        raise UsageError(f"{opts.input}: cannot read ({e.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{opts.input}: is a directory, expected a media file")
    src = os.path.realpath(given)
    # absolute as Path.absolute() makes it: the working directory in front, ".." left for the system
    out = spelled(os.path.join(os.getcwd(), spelled(opts.output)))
    if _within(src, os.path.realpath(out)):
        raise UsageError(f"--out {opts.output}: would overwrite the input {opts.input}")
    if os.path.lexists(out) and not opts.force:
        raise UsageError(f"--out {opts.output}: already exists (use --force to replace it)")
    parent = os.path.dirname(out)
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {opts.output}: cannot create {parent} ({e.strerror})") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"--out {opts.output}: {parent} is not writable")
    return src, out


def fragment(
    opts: FragmentOptions,
    *,
    runner: Runner | None = None,
    binary: FfmpegBinary | None = None,
    on_progress: Callable[[float, float | None], None] | None = None,
    log: Log | None = None,
    check: bool = True,
) -> FragmentResult:
    """Package ``opts.input`` into ``opts.output``. Raises UsageError / FfmpegError; never half-writes.

    With ``check``, the self-check (validate + simulate) runs on each segment while ffmpeg writes the
    next ones; its report is ``result.check``.
    """
    t0 = time.perf_counter()
    say: Log = log or (lambda _m: None)
    check_options(opts)
    src, out = _check_paths(opts)
    binary = binary or locate_ffmpeg()
    runner = runner or SubprocessRunner()
    say(f"ffmpeg: {binary.path} (from {binary.origin})")
    # --copy from a plain MP4 needs only the track list, read from the moov without a second ffmpeg
    fast = probe_mp4(src) if opts.copy else None
    info = fast or probe(src, runner, binary.path)
    say(f"input: {info.container}, {info.duration or 0:.3f} s, "
        + ", ".join(f"{s.kind} {s.codec}" for s in info.streams) + (" (from its moov)" if fast else ""))

    try:
        workdir = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.msetool-", dir=os.path.dirname(out))
    except OSError as e:
        raise UsageError(
            f"--out {opts.output}: cannot write in {os.path.dirname(out)} ({e.strerror})") from None
    watcher: _Watcher | None = None
    try:
        plan = build_plan(opts, info, workdir, binary.path)
        say("command: " + " ".join(_quote(a) for a in plan.argv))
        monitors: dict[str, RenditionMonitor] = {}
        checks: dict[str, RenditionCheck | None] = {}
        if plan.container == "dash":
            for t in plan.tracks:
                os.mkdir(os.path.join(workdir, REP_DIR.format(t.representation)))
            watcher = _Watcher(workdir, plan, check)
        t1 = time.perf_counter()
        total = info.duration
        progress = (lambda pos: on_progress(pos, total)) if on_progress else None
        try:
            if watcher is not None and isinstance(runner, SubprocessRunner):
                # the watcher thread starts once ffmpeg runs: started before, its imports held the GIL
                # while this thread was still spawning ffmpeg (up to a switch interval, 5 ms, each time)
                result = runner.run(plan.argv, progress, on_start=watcher.start,
                                    on_end=watcher.ffmpeg_finishing)
            else:
                if watcher is not None:
                    watcher.start()
                result = runner.run(plan.argv, progress)
        finally:
            if watcher is not None:
                watcher.ffmpeg_exited()
        ffmpeg_seconds = time.perf_counter() - t1
        from pathlib import Path  # (loaded by the watcher thread while ffmpeg ran)

        from msetool.fragment import manifests
        from msetool.fragment.check import CheckReport, RenditionMonitor, default_validator, duration_findings

        if result.returncode != 0:
            tail = relevant_stderr(result.stderr)
            raise FfmpegError(
                f"ffmpeg failed (exit {result.returncode}) on {opts.input}" + (f":\n{tail}" if tail else ""),
                plan.argv, tail,
            )
        say(f"ffmpeg finished after {ffmpeg_seconds:.3f} s")
        if watcher is not None:
            # finished before the renames: the last validation batch still reads ffmpeg's file names
            for tid, (mon, rc) in watcher.results().items():
                monitors[tid], checks[tid] = mon, rc
            say(f"read-back and self-check caught up {time.perf_counter() - t1 - ffmpeg_seconds:.3f} s later")
        else:
            validator = default_validator() if check else None
            monitors = {t.id: RenditionMonitor(t.id, validator, simulate=check) for t in plan.tracks}
        entries = watcher.entries if watcher is not None else {}
        work = Path(workdir)
        presentation, warnings, traps = _organize(plan, opts, work, monitors, entries)
        if watcher is None:
            checks = {t.id: (monitors[t.id].finish() if check else None) for t in plan.tracks}
        texts = {tid: e.texts for tid, e in entries.items()}
        for rel_path, text in manifests.all_manifests(presentation, texts).items():
            dest = work / rel_path
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
        report = None
        if check:
            report = CheckReport(validator="msetool validate" if default_validator() else "built-in")
            report.renditions = [rc for t in plan.tracks if (rc := checks.get(t.id)) is not None]
            for rc in report.renditions:
                rc.findings += duration_findings(presentation.duration, rc)
            sim_problems = {m.sim_problem for m in monitors.values() if m.sim_problem}
            if sim_problems:
                say("simulator unavailable, buffered ranges from segment timing: " + "; ".join(sim_problems))
        _move_into_place(work, Path(out))
        say(f"done in {time.perf_counter() - t0:.3f} s (ffmpeg started after {t1 - t0:.3f} s)")
    except BaseException:
        if watcher is not None:
            watcher.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return FragmentResult(
        output=Path(out), presentation=presentation, info=info, binary=binary, argv=plan.argv,
        warnings=[*plan.warnings, *warnings], traps=traps, ffmpeg_seconds=ffmpeg_seconds,
        total_seconds=time.perf_counter() - t0, check=report,
    )


def _mime_for(kind: str) -> Callable[[list[layout.TrackLayout]], str]:
    base = "audio/mp4" if kind == "audio" else "video/mp4"
    return lambda tracks: f'{base}; codecs="{",".join(t.codec for t in tracks)}"'


if TYPE_CHECKING:

    class _Events(Protocol):
        def is_set(self) -> bool: ...
        def wait(self, timeout: float | None = None) -> bool: ...
        def clear(self) -> None: ...


_NAP_MIN, _NAP_MAX = 0.002, 0.008


def _watch(work: str, tracks: tuple[TrackOutput, ...], monitors: dict[str, RenditionMonitor],
           exited: _Events, abort: _Events, *, finishing: _Events, wake: _Events,
           entries: dict[str, _Entries] | None = None) -> None:
    """Feed each finished ffmpeg file to its RenditionMonitor while ffmpeg is still running, and its
    timing to the track's :class:`_Entries` (made once the init segment is read) when ``entries`` is given.

    The dash muxer writes each representation's files in order (init, then seg 1, 2, ...), so a file is
    complete once the next one of the same representation exists, or once ffmpeg has exited. Where it
    writes each segment as ``<name>.tmp`` and renames it when complete (ffmpeg 5.1 and 9.0 do, to files),
    which the watcher knows once it has seen such a file, a segment is complete as soon as it exists: the
    last ones are then read before ffmpeg exits, not after. ``finishing`` is set when ffmpeg has written
    everything (its final progress report): the pending validation runs then, while ffmpeg exits.
    ``wake`` (set with any of the events) cuts a nap short. The existence checks, a few per segment and
    poll, use os.path: through pathlib they were ~13 ms of this thread's CPU in a 20-minute run, which a
    fast disk leaves to after ffmpeg's exit.
    """
    from pathlib import Path

    next_segment = {t.id: 0 for t in tracks}  # 0: init not read yet
    renamed: set[str] = set()  # tracks whose segments are seen to be written as <name>.tmp first
    exists, join = os.path.exists, os.path.join

    def advance(t: TrackOutput, done: bool) -> bool:
        folder, m = join(work, REP_DIR.format(t.representation)), monitors[t.id]
        progressed = False
        n = next_segment[t.id]
        if n == 0:
            init = join(folder, "init.mp4")
            if not (exists(init) and (done or exists(join(folder, "seg-00001.m4s")))):
                return False
            m.start(Path(init), f"{t.id}/init.mp4", _mime_for(t.kind))
            if entries is not None and m.tracks:
                entries[t.id] = _Entries(t.id, m.tracks)
            n = next_segment[t.id] = 1
            progressed = True
        built = entries.get(t.id) if entries is not None else None
        while not abort.is_set():
            seg = f"{folder}/seg-{n:05d}.m4s"
            if not exists(seg):
                break
            if not (done or t.id in renamed):
                nxt = f"{folder}/seg-{n + 1:05d}.m4s"
                if not exists(nxt):
                    if not exists(nxt + ".tmp"):
                        break
                    renamed.add(t.id)  # the next one is written under a .tmp name: so was this one
            timing = m.add_segment(Path(seg), f"{t.id}/seg-{n:05d}.m4s")
            if built is not None:
                built.add(timing)
            n = next_segment[t.id] = n + 1
            progressed = True
        return progressed

    # How long to sleep when no file is complete: short after progress, since the check runs about as fast
    # as ffmpeg writes a --copy output, and each ms asleep is work left for after ffmpeg exits (a fixed 50
    # ms had left ~20 ms on average); doubling while nothing comes (ffmpeg starting, or a transcode writing
    # a segment every few seconds), but only up to 8 ms: with up to 50 ms the watcher was often asleep
    # when ffmpeg's first segments came (it starts writing ~60 ms after the spawn), and where ffmpeg runs
    # as fast as a core (tmpfs) the check never made that time up (check left at ffmpeg's exit 61-89 ->
    # ~30 ms, 11 interleaved runs). A poll is a few stat calls: at 8 ms, ~0.3% of a core.
    nap = _NAP_MIN
    flushed = False
    while not abort.is_set():
        wake.clear()  # before the events are read: one set after this cuts the next nap short
        done = exited.is_set()
        progressed = False
        for t in tracks:
            progressed = advance(t, done) or progressed
        if done and not progressed:
            return
        if progressed:
            nap = _NAP_MIN
        else:
            if not flushed and finishing.is_set():
                flushed = True
                for m in monitors.values():
                    m.flush()
            else:
                for m in monitors.values():
                    m.idle()
            wake.wait(nap)
            nap = min(2 * nap, _NAP_MAX)


if TYPE_CHECKING:
    WatchResult = dict[str, tuple[RenditionMonitor, RenditionCheck | None]]


class _Watcher:
    """Runs :func:`_watch` for every track in one background thread while ffmpeg runs.

    One thread, not a process per track: the check is pure-Python CPU work, and on a two-core machine a
    process per track measured no faster (ffmpeg needs a core too) while adding fork and pickling.
    """

    def __init__(self, work: str, plan: Plan, check: bool) -> None:
        self.check = check
        self.tracks = plan.tracks
        #: made in the thread, so loading the validator and the simulator overlaps ffmpeg's start
        self.monitors: dict[str, RenditionMonitor] = {}
        #: each track's segment entries and their manifest text, made as its segments are read
        self.entries: dict[str, _Entries] = {}
        self.exited = threading.Event()
        self.finishing = threading.Event()
        self.aborted = threading.Event()
        self.wake = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(work,), daemon=True)

    def _run(self, work: str) -> None:
        try:
            from msetool.fragment.check import RenditionMonitor, default_validator, warm_up

            validator = default_validator() if self.check else None
            self.monitors = {t.id: RenditionMonitor(t.id, validator, simulate=self.check)
                             for t in self.tracks}
            if self.check:
                warm_up(validate=validator is not None)  # while ffmpeg starts (its first files come later)
            _watch(work, self.tracks, self.monitors, self.exited, self.aborted, finishing=self.finishing,
                   wake=self.wake, entries=self.entries)
        except BaseException as e:
            self.error = e

    def start(self) -> None:
        self.thread.start()

    def ffmpeg_finishing(self) -> None:
        self.finishing.set()
        self.wake.set()

    def ffmpeg_exited(self) -> None:
        self.exited.set()
        self.wake.set()

    def stop(self) -> None:
        self.aborted.set()
        self.exited.set()
        self.wake.set()
        if self.thread.ident is not None:  # not started when ffmpeg could not be
            self.thread.join(timeout=10)

    def results(self) -> WatchResult:
        self.thread.join()
        if self.error is not None:
            raise self.error
        return {tid: (m, m.finish() if self.check else None) for tid, m in self.monitors.items()}


def _quote(a: str) -> str:
    return a if re.fullmatch(r"[\w@%+=:,./-]+", a) else "'" + a.replace("'", "'\\''") + "'"


def _move_into_place(work: Path, out: Path) -> None:
    """Rename the finished folder to ``out``; an existing ``out`` is moved aside first, then deleted."""
    old: Path | None = None
    if out.exists() or out.is_symlink():
        old = out.with_name(f".{out.name}.msetool-old-{os.getpid()}")
        out.rename(old)
    try:
        work.rename(out)
    except OSError:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def _organize(plan: Plan, opts: FragmentOptions, work: Path, monitors: dict[str, RenditionMonitor],
              entries: dict[str, _Entries] | None = None) -> tuple[Presentation, list[str], list[str]]:
    """Give ffmpeg's files their final names (``<track>/init.mp4``, ``<track>/seg-00001.m4s``) and build
    the presentation from what the monitors read back (``entries``: a track's segment entries, made while
    its segments were read)."""
    from msetool.fragment.manifests import Presentation

    if plan.container == "dash":
        (work / FFMPEG_MPD).unlink(missing_ok=True)
        for t in plan.tracks:
            folder = work / REP_DIR.format(t.representation)
            for stray in _strays(folder):
                os.unlink(stray)
            if not (folder / "init.mp4").exists():
                raise FfmpegError(f"ffmpeg wrote no init segment for {t.id}", plan.argv)
            folder.rename(work / t.id)
    else:
        for t in plan.tracks:
            _split_muxed(work, t, opts.segment_duration)
            folder, mon = work / t.id, monitors[t.id]
            mon.start(folder / "init.mp4", f"{t.id}/init.mp4", _mime_for(t.kind))
            for f in sorted(folder.glob("seg-*.m4s")):
                mon.add_segment(f, f"{t.id}/{f.name}")

    renditions: list[RenditionEntry] = []
    warnings: list[str] = []
    traps: list[str] = []
    for t in plan.tracks:
        r, w = _rendition(t, monitors[t.id], (entries or {}).get(t.id))
        renditions.append(r)
        warnings += w
        traps += monitors[t.id].traps
    if opts.copy:
        warnings += _gop_warnings(renditions, opts.segment_duration)
        warnings += _start_warnings(renditions)
    duration = max((r.end for r in renditions), default=0.0)
    pres = Presentation(duration=duration, segment_duration=opts.segment_duration,
                        renditions=tuple(renditions), generator=f"msetool {__version__}")
    return pres, warnings, traps


def _strays(folder: Path) -> list[str]:
    """What ``folder.glob("*.tmp")`` finds (ffmpeg's unfinished files), listed with one scandir and no
    pattern matching (a folder of 600 segments took 1-2 ms through pathlib's glob)."""
    try:
        with os.scandir(folder) as entries:
            return [e.path for e in entries if e.name.endswith(".tmp")]
    except (FileNotFoundError, NotADirectoryError, PermissionError):  # as glob: no folder, no matches
        return []


def _split_muxed(work: Path, t: TrackOutput, seconds: float) -> None:
    import mmap  # here, not at the top: start-up before ffmpeg is waited for

    from msetool.fragment import layout

    src = work / t.muxed_file
    if not src.exists() or src.stat().st_size == 0:
        raise FfmpegError(f"ffmpeg wrote nothing for {t.id}")
    with src.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        data = bytes(mm[: _init_end(mm)])
        tracks = layout.read_init(data, t.muxed_file)
        video = next((x for x in tracks if x.kind == "video"), tracks[0])
        init, segments = layout.split_fragmented(
            mm, round(seconds * video.timescale), video.timescale, video.track_id  # type: ignore[arg-type]
        )
    folder = work / t.id
    folder.mkdir()
    (folder / "init.mp4").write_bytes(init)
    for i, seg in enumerate(segments, 1):
        (folder / f"seg-{i:05d}.m4s").write_bytes(seg)
    src.unlink()


def _init_end(data: mmap.mmap) -> int:
    from msetool.fragment import layout

    end = 0
    for b in layout.iter_boxes(data):  # type: ignore[arg-type]
        if b.type in ("moof", "mdat"):
            break
        end = b.end
    return end


class _Entries:
    """A track's :class:`SegmentEntry` list, made from its segments' timings one segment behind, and each
    entry's manifest text (:class:`msetool.fragment.manifests.SegmentTexts`).

    Durations end where the next segment starts (so the timeline has no rounding gaps) when that is within
    a tenth of a second of the segment's own end; the last segment keeps its own duration. So an entry is
    final once the next segment is read: the watcher feeds each timing as it reads the segment, and the
    entries and their text are made while ffmpeg still writes (they were ~7 ms after it exited).
    """

    def __init__(self, tid: str, tracks: list[layout.TrackLayout]) -> None:
        from msetool.fragment.manifests import SegmentEntry, SegmentTexts

        self._entry = SegmentEntry
        main = next((x for x in tracks if x.kind == "video"), tracks[0])
        self.track, self.timescale, self.slack = main.track_id, main.timescale, main.timescale // 10
        self.entries: list[SegmentEntry] = []
        self.texts = SegmentTexts(f"{tid}/")
        self.warnings: list[str] = []
        #: timings taken (to tell whether every segment of the monitor went through :meth:`add`)
        self.fed = 0
        self._held: tuple[str, int, int, int] | None = None  # (file, start, duration, size)

    def add(self, timing: layout.SegmentTiming) -> None:
        self.fed += 1
        times = timing.tracks.get(self.track)
        if times is None:
            self.warnings.append(f"{timing.file}: no samples of track {self.track}")
            return
        start, _dts, dur = times
        if self._held is not None:
            self._emit(self._held, start)
        self._held = (timing.file, start, dur, timing.size)

    def close(self) -> list[SegmentEntry]:
        if self._held is not None:
            self._emit(self._held, self._held[1])  # no next start: its own duration
            self._held = None
        return self.entries

    def _emit(self, row: tuple[str, int, int, int], nxt: int) -> None:
        file, start, dur, size = row
        fits = nxt > start and abs(nxt - (start + dur)) <= self.slack
        e = self._entry(file, start, nxt - start if fits else dur, self.timescale, size)
        self.entries.append(e)
        self.texts.add(e)


def _rendition(t: TrackOutput, mon: RenditionMonitor, built: _Entries | None = None
               ) -> tuple[RenditionEntry, list[str]]:
    """The rendition's entry from what ``mon`` read; ``built``: its segment entries made as they were read
    (used when every segment went through it, else made here)."""
    from msetool.fragment.manifests import RenditionEntry

    tracks = mon.tracks
    if not tracks:
        raise FfmpegError(f"ffmpeg wrote an init segment without tracks for {t.id}")
    main = next((x for x in tracks if x.kind == "video"), tracks[0])
    if built is None or built.fed != len(mon.timings) or built.track != main.track_id:
        built = _Entries(t.id, tracks)
        for timing in mon.timings:
            built.add(timing)
    fixed = built.close()
    audio = next((x for x in tracks if x.kind == "audio"), None)
    rendition = RenditionEntry(
        id=t.id,
        kind=t.kind,
        mime="audio/mp4" if t.kind == "audio" else "video/mp4",
        codecs=tuple(x.codec for x in tracks),
        init=f"{t.id}/init.mp4",
        init_size=len(mon.init_bytes),
        timescale=main.timescale,
        segments=tuple(fixed),
        width=main.width,
        height=main.height,
        sample_rate=(audio.sample_rate if audio else None),
        channels=(audio.channels if audio else None),
        target_bitrate=(t.rendition.bitrate_k * 1000 if t.rendition else None),
        media_end=_media_end(tracks, mon.timings),
    )
    return rendition, list(built.warnings)


def _media_end(tracks: list[layout.TrackLayout], timings: list[layout.SegmentTiming]) -> float | None:
    """Where the last-ending track ends (s): each track's last segment's earliest presentation time plus
    its duration (a segment's frames cover that span once reordered)."""
    ends: dict[int, float] = {}
    for timing in reversed(timings):
        for t in tracks:
            if t.track_id not in ends and t.track_id in timing.tracks:
                pts, _dts, dur = timing.tracks[t.track_id]
                ends[t.track_id] = (pts + dur) / t.timescale
        if len(ends) == len(tracks):
            break
    return max(ends.values(), default=None)


def _start_warnings(renditions: list[RenditionEntry]) -> list[str]:
    """--copy cannot pad: say when one kind of track starts well after the other (playback waits for
    both, so the first part of the earlier one is never seen from a start at 0)."""
    starts = {r.kind: r.segments[0].start for r in renditions if r.segments}
    if "video" in starts and "audio" in starts and abs(starts["video"] - starts["audio"]) > 0.1:
        late = "audio" if starts["audio"] > starts["video"] else "video"
        return [f"{late} starts {abs(starts['video'] - starts['audio']):.3f} s after the other track: "
                "buffered ranges will not line up at the start; drop --copy to pad it"]
    return []


def _gop_warnings(renditions: list[RenditionEntry], target: float) -> list[str]:
    """--copy cuts only at the source's keyframes: say where that made segments miss the target."""
    out = []
    for r in renditions:
        if r.kind == "audio" or not r.segments:
            continue
        body = r.segments[:-1] if len(r.segments) > 1 else r.segments
        off = [s for s in body if abs(s.duration - target) > target * 0.1]
        if off:
            longest = max(s.duration for s in body)
            out.append(
                f"{r.id}: the source's keyframes do not fit --segment-duration {target:g}: "
                f"{len(off)} of {len(r.segments)} segments are more than 10% off target "
                f"(longest {longest:.3f} s); "
                "re-encode (drop --copy) for exact boundaries"
            )
    return out
