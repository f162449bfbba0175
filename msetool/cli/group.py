"""The click group: subcommands live in their own modules and are imported only when invoked."""

from __future__ import annotations

import importlib

import click

from msetool import __version__
from msetool.cli.main import COMMANDS


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        ref = COMMANDS[cmd_name][0]
        module, _, attr = ref.partition(":")
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name == module:
                return None
            raise
        cmd: click.Command = getattr(mod, attr)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, help_) in COMMANDS.items() if self.get_command(ctx, name)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="msetool")
def cli() -> None:
    """msetool prepares media for Media Source Extensions and proves, before anything ships, that it
    will play: fragment, validate, simulate, verify.

    Exit codes: 0 clean, 1 findings/append errors, 2 usage or I/O error, 3 internal error.
    """
