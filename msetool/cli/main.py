"""Entry point. Subcommands live in their own modules and are imported only when invoked.

A plain ``validate``/``codecs`` invocation runs without click (:mod:`msetool.cli.fast`): importing click
and building the group costs more start-up than the validation of a small file. Everything else, and every
unusual argument list (help, errors, ``--opt=value``, ``--``), goes through the click group in
:mod:`msetool.cli.group`, available here as ``cli``.
"""

from __future__ import annotations

import sys

#: typing.TYPE_CHECKING without importing typing: this module loads before ffmpeg is started
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: command name -> "module:attribute" of a click.Command
COMMANDS: dict[str, tuple[str, str]] = {
    "inspect": ("msetool.cli.inspect_cmd:inspect", "Dump the box/element tree and segment model of files."),
    "validate": ("msetool.cli.validate_cmd:validate", "Check segments against the MSE byte stream rules."),
    "codecs": ("msetool.cli.validate_cmd:codecs", "Print the exact addSourceBuffer() type for files."),
    "simulate": ("msetool.cli.simulate_cmd:simulate", "Run appends through an offline MSE model."),
    "fragment": ("msetool.cli.fragment_cmd:fragment", "Package media into MSE-ready segments with ffmpeg."),
    "verify": ("msetool.cli.verify_cmd:verify", "Run a scenario in headless Chromium and the simulator."),
    "explain": ("msetool.cli.verify_cmd:explain", "Point a browser MSE error message at its cause."),
}


class Process:
    #: Set by :func:`entry`: the process ends as soon as :func:`main` returns (without teardown), so a
    #: command need not put back what only matters to code running after it (``fragment``'s cycle
    #: collector).
    exits_after_main = False


def main(argv: list[str] | None = None) -> Any:
    from msetool.cli.fast import fast_command

    run = fast_command(sys.argv[1:] if argv is None else list(argv))
    if run is not None:
        run()  # exits like click's standalone mode
    from msetool.cli.group import cli

    return cli.main(args=argv, prog_name="msetool")


def entry() -> None:
    """The ``msetool`` console script and ``python -m msetool``: :func:`main`, then exit without teardown.

    At exit the interpreter frees every object a run created and unloads every module, one by one: 10-30
    ms after a large validation, paid after the result is out. The output streams are flushed first, so
    nothing is lost; the normal exit is kept whenever something could still need it (another thread
    running, a stream that fails to flush, an exception nobody handled). Library callers and tests call
    :func:`main`, which exits normally.
    """
    import os
    import threading

    Process.exits_after_main = True
    try:
        main()
        code: object = 0
    except SystemExit as e:
        code = e.code
    if code is None:
        code = 0
    if not isinstance(code, int) or threading.active_count() > 1:
        raise SystemExit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise SystemExit(code) from None
    os._exit(code)


def __getattr__(name: str) -> Any:
    if name in ("cli", "LazyGroup"):
        from msetool.cli import group

        return getattr(group, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
