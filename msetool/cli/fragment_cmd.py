"""``msetool fragment``: package media into MSE-ready fMP4 segments + manifests, then check the result."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from msetool.cli.common import CONTEXT_SETTINGS, fail, handle_errors
from msetool.report import exitcodes

if TYPE_CHECKING:
    from msetool.fragment.check import CheckReport
    from msetool.fragment.package import FragmentResult


@click.command("fragment", context_settings=CONTEXT_SETTINGS)
@click.argument("input_file", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--out", "-o", "out", type=click.Path(path_type=Path), required=True,
              help="Output folder (created; must not exist unless --force).")
@click.option("--force", is_flag=True, help="Replace an existing output folder.")
@click.option("--segment-duration", type=float, default=2.0, show_default=True, metavar="S",
              help="Target segment duration in seconds.")
@click.option("--copy", "copy_", is_flag=True,
              help="Keep the coded streams; cut at the source's existing keyframes.")
@click.option("--muxed", is_flag=True, help="Put audio and video in one set of segments.")
@click.option("--rendition", "renditions", multiple=True, metavar="WxH@BITRATEk",
              help="A video rendition to encode, e.g. 1280x720@3000k (repeatable).")
@click.option("--ladder", is_flag=True,
              help="Encode the default ladder (720p/480p/360p, up to the source size).")
@click.option("--video-codec", default="h264", show_default=True, metavar="h264|av1|vp9",
              help="Video encoder when transcoding.")
@click.option("--audio-codec", default="aac", show_default=True, metavar="aac|opus",
              help="Audio encoder when transcoding.")
@click.option("--audio-bitrate", type=click.IntRange(8, 1024), default=128, show_default=True, metavar="KBPS")
@click.option("--preset", default="veryfast", show_default=True, help="x264 preset (h264 only).")
@click.option("--no-check", is_flag=True, help="Skip validating and simulating the output.")
@click.option("--verbose", "-v", is_flag=True, help="Say which ffmpeg runs and the exact command.")
@handle_errors
def fragment(  # noqa: PLR0917 (click passes every option)
    input_file: Path, out: Path, force: bool, segment_duration: float, copy_: bool, muxed: bool,
    renditions: tuple[str, ...], ladder: bool, video_codec: str, audio_codec: str, audio_bitrate: int,
    preset: str, no_check: bool, verbose: bool,
) -> None:
    """Package INPUT into fMP4 (CMAF) segments for Media Source Extensions.

    Writes, per track, init.mp4 + seg-NNNNN.m4s, then mse.json (exact addSourceBuffer() types, segment
    times), manifest.mpd (DASH) and master.m3u8 (HLS). Afterwards it validates and simulates its own
    output and prints a summary (exit 1 if that finds errors).
    """
    from msetool.fragment.plan import FragmentOptions, parse_rendition

    opts = FragmentOptions(
        input=input_file, output=out, segment_duration=segment_duration, copy=copy_, muxed=muxed,
        renditions=tuple(parse_rendition(r) for r in renditions), ladder=ladder,
        video_codec=video_codec, audio_codec=audio_codec, audio_bitrate_k=audio_bitrate, preset=preset,
        force=force,
    )
    from msetool.fragment.package import fragment as run_fragment

    def log(msg: str) -> None:
        if verbose:
            click.echo(f"msetool: {msg}", err=True)

    progress = _progress_bar()
    try:
        with progress as on_progress:
            result = run_fragment(opts, on_progress=on_progress, log=log, check=not no_check)
    except KeyboardInterrupt:
        click.echo("msetool: interrupted; nothing was written", err=True)
        sys.exit(130)

    for w in result.warnings:
        click.echo(f"msetool: warning: {w}", err=True)
    report = result.check
    _summary(result, report)
    if result.traps and report is None:
        for t in result.traps:
            click.echo(f"msetool: error: {t}", err=True)
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
    echo = click.echo
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
