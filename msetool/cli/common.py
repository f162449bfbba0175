"""Shared CLI plumbing: one-line errors with documented exit codes instead of tracebacks
(:mod:`msetool.cli.run`, re-exported here) and the options several commands share."""

from __future__ import annotations

from typing import Any

import click

from msetool.cli.run import fail, handle_errors

#: Every command takes -h as well as --help, also when it is invoked on its own (tests, docs generator):
#: click caches a command's help option from the first context that builds it.
CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "junit", "github"]),
    default="text",
    show_default=True,
    help="Output format.",
)
profile_option = click.option(
    "--profile",
    type=click.Choice(["chromium", "spec"]),
    default="chromium",
    show_default=True,
    help="chromium: what Chromium does; spec: the letter of the W3C spec.",
)

__all__ = ["CONTEXT_SETTINGS", "fail", "format_option", "handle_errors", "profile_option"]
