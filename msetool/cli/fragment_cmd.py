"""``msetool fragment``: package media into MSE-ready fMP4 segments + manifests, then check the result.

The click declaration; the work is in :mod:`msetool.cli.fragment_run` (plain argument lists reach it
without click, :mod:`msetool.cli.fast`).
"""

from __future__ import annotations

import click

from msetool.cli.common import CONTEXT_SETTINGS, handle_errors
from msetool.cli.fragment_run import run_fragment


@click.command("fragment", context_settings=CONTEXT_SETTINGS)
@click.argument("input_file", metavar="INPUT", type=click.Path())
@click.option("--out", "-o", "out", type=click.Path(), required=True,
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
    input_file: str, out: str, force: bool, segment_duration: float, copy_: bool, muxed: bool,
    renditions: tuple[str, ...], ladder: bool, video_codec: str, audio_codec: str, audio_bitrate: int,
    preset: str, no_check: bool, verbose: bool,
) -> None:
    """Package INPUT into fMP4 (CMAF) segments for Media Source Extensions.

    Writes, per track, init.mp4 + seg-NNNNN.m4s, then mse.json (exact addSourceBuffer() types, segment
    times), manifest.mpd (DASH) and master.m3u8 (HLS). Afterwards it validates and simulates its own
    output and prints a summary (exit 1 if that finds errors).
    """
    run_fragment(
        input_file=input_file, out=out, force=force, segment_duration=segment_duration, copy_=copy_,
        muxed=muxed, renditions=renditions, ladder=ladder, video_codec=video_codec, audio_codec=audio_codec,
        audio_bitrate=audio_bitrate, preset=preset, no_check=no_check, verbose=verbose,
    )
