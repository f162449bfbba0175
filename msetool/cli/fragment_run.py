"""``msetool fragment`` without click (see :mod:`msetool.cli.fast`); the click declaration and help text are
in :mod:`msetool.cli.fragment_cmd`. Packaging starts ffmpeg as early as possible, so the parser's imports
are start-up the user waits for before anything happens.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from msetool.cli.run import echo, fail
from msetool.report import exitcodes

#: typing.TYPE_CHECKING without importing typing: this module loads before ffmpeg is started
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from msetool.fragment.check import CheckReport
    from msetool.fragment.package import FragmentResult


def run_fragment(  # noqa: PLR0917 (the command's options, as click passes them)
    input_file: str, out: str, force: bool, segment_duration: float, copy_: bool, muxed: bool,
    renditions: tuple[str, ...], ladder: bool, video_codec: str, audio_codec: str, audio_bitrate: int,
    preset: str, no_check: bool, verbose: bool,
) -> None:
    """``msetool fragment`` (help text in :mod:`msetool.cli.fragment_cmd`).

    The cycle collector is off while the command runs: it made ~240 collections in a 20-minute --copy
    run (~65 ms of CPU; ~4 ms of them before ffmpeg starts, most of the rest in the self-check), and
    found ~300 objects in cycles all told. Nothing here relies on the collector to free or close
    anything (files are closed by ``with``), and reference counting still frees everything else.

    It is turned back on afterwards, except in the console script, which exits right after without
    teardown (:attr:`msetool.cli.main.Process.exits_after_main`): the first allocation after ``gc.enable()``
    started a collection over everything the run had allocated and kept (the modules it imported, ~20-30
    ms after a 20-minute run) that would only have delayed the exit.

    The interpreter's switch interval is 1 ms instead of 5 while it runs: the self-check thread holds the
    GIL most of the time, and once ffmpeg exits the main thread and the stderr reader each waited for it
    (up to an interval each) before the summary could start; 4-10 ms in some instrumented runs. The
    other threads sleep in reads and waits while ffmpeg runs, so the shorter interval costs nothing there.
    """
    import gc

    collecting = gc.isenabled()
    gc.disable()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, 0.001))
    try:
        _run_fragment(input_file, out, force, segment_duration, copy_, muxed, renditions, ladder, video_codec,
                      audio_codec, audio_bitrate, preset, no_check, verbose)
    finally:
        sys.setswitchinterval(interval)
        if collecting and not _exits_next():
            gc.enable()


def _exits_next() -> bool:
    main = sys.modules.get("msetool.cli.main")
    return main is not None and bool(main.Process.exits_after_main)


def _run_fragment(  # noqa: PLR0917 (as run_fragment)
    input_file: str, out: str, force: bool, segment_duration: float, copy_: bool, muxed: bool,
    renditions: tuple[str, ...], ladder: bool, video_codec: str, audio_codec: str, audio_bitrate: int,
    preset: str, no_check: bool, verbose: bool,
) -> None:
    from msetool.fragment.plan import FragmentOptions, parse_rendition

    opts = FragmentOptions(
        input=input_file, output=out, segment_duration=segment_duration, copy=copy_, muxed=muxed,
        renditions=tuple(parse_rendition(r) for r in renditions), ladder=ladder,
        video_codec=video_codec, audio_codec=audio_codec, audio_bitrate_k=audio_bitrate, preset=preset,
        force=force,
    )
    from msetool.fragment import package

    def log(msg: str) -> None:
        if verbose:
            echo(f"msetool: {msg}", err=True)

    progress = _progress_bar()
    try:
        with progress as on_progress:
            result = package.fragment(opts, on_progress=on_progress, log=log, check=not no_check)
    except KeyboardInterrupt:
        echo("msetool: interrupted; nothing was written", err=True)
        sys.exit(130)

    for w in result.warnings:
        echo(f"msetool: warning: {w}", err=True)
    report = result.check
    _summary(result, report)
    if result.traps and report is None:
        for t in result.traps:
            echo(f"msetool: error: {t}", err=True)
        fail(f"{len(result.traps)} Chromium trap(s) in the output", exitcodes.FINDINGS)
    if report is not None and report.errors:
        sys.exit(exitcodes.FINDINGS)


class _Progress:
    """A rich progress bar on a terminal; nothing at all otherwise (logs and pipes stay clean)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Callable[[float, float | None], None] | None:
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("ffmpeg"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TimeRemainingColumn(),
            console=Console(stderr=True), transient=True,
        )
        self.bar.__enter__()
        self.task = self.bar.add_task("ffmpeg", total=None)

        def update(pos: float, total: float | None) -> None:
            self.bar.update(self.task, completed=pos, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _progress_bar() -> _Progress:
    return _Progress()


def _fmt_ranges(ranges: list[tuple[float, float]]) -> str:
    return " ".join(f"[{a:.3f}, {b:.3f})" for a, b in ranges) or "(none)"


def _summary(result: FragmentResult, report: CheckReport | None) -> None:
    """One screen: what was written, the exact types, and what the self-check found."""
    p = result.presentation
    echo(f"{result.output}  duration {p.duration:.3f} s, target segment {p.segment_duration:g} s, "
         f"ffmpeg {result.ffmpeg_seconds:.1f} s")
    checks = {r.id: r for r in report.renditions} if report else {}
    for r in p.renditions:
        durs = [s.duration for s in r.segments]
        span = f"{min(durs):.3f}-{max(durs):.3f} s" if durs else "-"
        size = r.init_size + sum(s.size for s in r.segments)
        echo(f"  {r.id:<14} {len(r.segments):>4} segments ({span})  {size / 1e6:.2f} MB  "
             f"{r.bandwidth / 1000:.0f} kbit/s peak")
        echo(f"    type: {r.type}")
        c = checks.get(r.id)
        if c is not None:
            for kind, ranges in c.buffered.items():
                echo(f"    buffered {kind}: {_fmt_ranges(ranges)}  ({c.buffered_source})")
    echo("  manifests: mse.json, manifest.mpd, master.m3u8")
    if report is None:
        echo("  self-check: skipped (--no-check)")
        return
    findings = report.findings
    echo(f"  self-check ({report.validator}): {report.errors} error(s), {report.warnings} warning(s)")
    for f in findings[:12]:
        where = f"{f.file}@{f.offset}" if f.offset is not None else f.file
        echo(f"    {f.severity.value:<7} {f.rule:<10} {where}: {f.message}")
    if len(findings) > 12:
        echo(f"    ... and {len(findings) - 12} more (run msetool validate on {result.output})")
