"""The CLI's error handling and output without importing click.

``msetool validate``/``codecs`` run without click when their arguments are plain (see
:mod:`msetool.cli.fast`): click and what it imports are a fifth of msetool's start-up. So what every command
shares at run time (one-line errors with documented exit codes, writing to stdout/stderr) lives here and
behaves exactly as click.echo does whenever that can matter: when click is loaded, or a stream is not a
plain UTF-8 text file, click.echo itself writes.
"""

from __future__ import annotations

import functools
import io
import os
import re
import sys
from collections.abc import Callable

from msetool.errors import MseToolError
from msetool.report import exitcodes

#: typing.TYPE_CHECKING without importing typing: this module loads before ffmpeg is started
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])

#: click's pattern for the ANSI codes it strips when the stream is not a terminal (click/_compat.py)
_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")


def _plain(stream: Any) -> bool:
    """A real text stream in UTF-8: click.echo would write to it unchanged (no re-wrapping)."""
    return type(stream) is io.TextIOWrapper and str(stream.encoding).lower().replace("_", "-") in (
        "utf-8",
        "utf8",
    )


def echo(message: str, *, err: bool = False, nl: bool = True) -> None:
    """click.echo(message, err=err, nl=nl) for a str message, without importing click."""
    stream = sys.stderr if err else sys.stdout
    if "click" in sys.modules or not _plain(stream):
        import click

        click.echo(message, err=err, nl=nl)
        return
    out = message + "\n" if nl else message
    if not out:
        stream.flush()
        return
    try:
        tty = stream.isatty()
    except Exception:
        tty = False
    if not tty:
        out = _ANSI.sub("", out)
    stream.write(out)
    stream.flush()


def fail(message: str, code: int = exitcodes.USAGE) -> None:
    """Print ``msetool: error: ...`` to stderr and exit; the single way commands give up."""
    echo(f"msetool: error: {message}", err=True)
    sys.exit(code)


def _click_exit(e: Exception) -> bool:
    click = sys.modules.get("click")
    return click is not None and isinstance(e, (click.exceptions.Exit, click.ClickException))


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
            echo("msetool: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            sys.exit(exitcodes.OK)
        except Exception as e:
            if _click_exit(e):  # click's own exits and usage errors (only raised when click runs)
                raise
            if os.environ.get("MSETOOL_DEBUG"):
                raise
            fail(
                f"internal error ({type(e).__name__}: {e}); this is a bug in msetool, "
                "rerun with MSETOOL_DEBUG=1 for the traceback",
                exitcodes.INTERNAL,
            )
        return None

    return wrapper  # type: ignore[return-value]
