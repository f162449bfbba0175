"""``msetool simulate``: run appends (files, a folder, a manifest or a scenario) through the MSE model.

The click declaration; the work is in :mod:`msetool.cli.simulate_run` (re-exported here).
"""

from __future__ import annotations

from pathlib import Path

import click

from msetool.cli.common import CONTEXT_SETTINGS, handle_errors, profile_option
from msetool.cli.simulate_run import _scenario_from_files, render_text, run_simulate


@click.command("simulate", context_settings=CONTEXT_SETTINGS)
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(path_type=Path),
    help="Run the operations of a scenario file (the oracle's case.json format; JSON or YAML).",
)
@click.option(
    "--type", "type_", help="addSourceBuffer() type for FILES (default: derived from the init segment)."
)
@profile_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format (json: docs/simulate.md).",
)
@click.option(
    "--html", "html_path", type=click.Path(dir_okay=False), help="Also write a self-contained HTML report."
)
@handle_errors
def simulate(
    files: tuple[Path, ...],
    scenario_path: Path | None,
    type_: str | None,
    profile: str,
    fmt: str,
    *,
    html_path: str | None = None,
) -> None:
    """Simulate appends in an offline MediaSource/SourceBuffer model.

    FILES are appended in the order given (an init segment first); a folder appends all its files, one
    SourceBuffer per track set (or follows its mse.json manifest). Exit 0 when every operation succeeds,
    1 when an append ends in an error or a call throws, 2 on usage errors.
    """
    run_simulate(files, scenario_path, type_, profile, fmt, html_path=html_path)


__all__ = ["_scenario_from_files", "render_text", "simulate"]
