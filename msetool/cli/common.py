"""Shared CLI plumbing: one-line errors with documented exit codes instead of tracebacks."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from msetool.errors import MseToolError
from msetool.report import exitcodes

F = TypeVar("F", bound=Callable[..., Any])

#: Every command takes -h as well as --help, also when it is invoked on its own (tests, docs generator):
#: click caches a command's help option from the first context that builds it.
CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}


def fail(message: str, code: int = exitcodes.USAGE) -> None:
    """Print ``msetool: error: ...`` to stderr and exit; the single way commands give up."""
    click.echo(f"msetool: error: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: F) -> F:
    """Turn MseToolError into one line + its exit code, and any other exception into exit 3.

    Set MSETOOL_DEBUG=1 to see the traceback of an internal error.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MseToolError as e:
            fail(str(e), e.exit_code)
        except KeyboardInterrupt:
            click.echo("msetool: interrupted", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except BrokenPipeError:
            sys.exit(exitcodes.OK)
        except Exception as e:
            if os.environ.get("MSETOOL_DEBUG"):
                raise
            fail(
                f"internal error ({type(e).__name__}: {e}); this is a bug in msetool, "
                "rerun with MSETOOL_DEBUG=1 for the traceback",
                exitcodes.INTERNAL,
            )
        return None

    return wrapper  # type: ignore[return-value]


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
