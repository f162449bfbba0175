"""``msetool validate`` and ``msetool codecs`` as click commands. The work is in
:mod:`msetool.cli.validate_run` (importable without click); the names tests and other modules use are
re-exported here.
"""

from __future__ import annotations

import click

from msetool.cli.common import CONTEXT_SETTINGS, handle_errors
from msetool.cli.validate_run import (
    _validate_scenario,
    expand_inputs,
    expand_streams,
    natural_key,
    run_codecs,
    run_validate,
    scenario_streams,
    type_for,
)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("inputs", nargs=-1, type=click.Path())
@click.option(
    "--type",
    "mime",
    metavar="MIME",
    help="Declared type, as passed to addSourceBuffer(): 'video/mp4; codecs=\"avc1.64001F\"'. "
    "Sniffed from the content when omitted (codec checks are then skipped).",
)
@click.option(
    "--scenario",
    type=click.Path(),
    metavar="CASE.json",
    help="Validate each SourceBuffer of a scenario: its appends in op order, against its type.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit", "github"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1); same as --fail-on warning.")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    default=None,
    help="Lowest severity that makes the exit code 1 [default: error].",
)
@click.option(
    "--target-duration",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Expected segment duration; segments far from it are reported.",
)
@click.option(
    "--profile",
    type=click.Choice(["chromium", "spec"]),
    default="chromium",
    show_default=True,
    help="Parser profile: chromium reproduces Chromium's parser, spec the letter of the spec.",
)
@click.option(
    "--html", "html_path", type=click.Path(dir_okay=False), help="Also write a self-contained HTML report."
)
@click.option(
    "--deep",
    is_flag=True,
    help="Read and check every sample's bytes (H.264 NAL lengths and IDR analysis of every frame). By "
    "default only the samples that decide random access are read and other sample data is skipped.",
)
@handle_errors
def validate(
    inputs: tuple[str, ...],
    *,
    mime: str | None,
    scenario: str | None,
    fmt: str,
    strict: bool,
    fail_on: str | None,
    target_duration: float | None,
    profile: str,
    html_path: str | None = None,
    deep: bool = False,
) -> None:
    """Check segments against the MSE byte stream format rules and the declared codecs.

    INPUTS are files in append order; a folder stands for its init segment followed by its segments in
    natural order (seg2 before seg10); a single fMP4 holding many fragments works too.

    Exit codes: 0 clean, 1 errors found (or warnings with --strict), 2 usage or I/O error.
    """
    run_validate(
        inputs,
        mime=mime,
        scenario=scenario,
        fmt=fmt,
        strict=strict,
        fail_on=fail_on,
        target_duration=target_duration,
        profile=profile,
        html_path=html_path,
        deep=deep,
    )


# --------------------------------------------------------------------------------------------------------
# msetool codecs


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@handle_errors
def codecs(files: tuple[str, ...], fmt: str) -> None:
    """Print the exact addSourceBuffer() type for each file's initialization segment, e.g.
    video/mp4; codecs="avc1.64001F,mp4a.40.2".

    Exit codes: 0 printed a type for every file, 1 a file holds no initialization segment, 2 usage or I/O.
    """
    run_codecs(files, fmt)


__all__ = [
    "_validate_scenario",
    "codecs",
    "expand_inputs",
    "expand_streams",
    "natural_key",
    "scenario_streams",
    "type_for",
    "validate",
]
