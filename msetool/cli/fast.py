"""Plain ``validate``/``codecs`` argument lists, parsed without click.

click and the modules it imports (inspect, uuid, platform, datetime, gettext, ...) take longer to import
than validating a small file, and ``msetool validate`` is run once per file by CI jobs and by
``msetool fragment``'s users. So the common, unambiguous argument lists are parsed here and run the same
function the click command runs (:mod:`msetool.cli.validate_run`, wrapped in the same error handling).

Only what is certain to mean the same to click is taken: known long options with their value in the next
argument, valid choices, flags, positional arguments that do not start with ``-``, each option at most
once. Anything else (help, ``--opt=value``, ``--``, short options, unknown or repeated options, invalid
values, unreadable paths, shell completion) returns None and click parses it, with its own messages.
``tests/unit/test_cli_fast.py`` checks these tables against the click declarations.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Callable
from typing import Any

#: option kinds: "flag", "str", "path" (click.Path()), "file" (click.Path(dir_okay=False)), "posfloat"
#: (click.FloatRange(min=0, min_open=True)), or a tuple of choices (click.Choice, case-sensitive)
Kind = str | tuple[str, ...]


class Spec:
    """One command: its positional argument (nargs=-1), the options, their defaults, the function."""

    __slots__ = ("argument", "defaults", "options", "required", "target")

    def __init__(
        self,
        target: str,
        argument: str,
        required: bool,
        options: dict[str, tuple[str, Kind]],
        defaults: dict[str, Any],
    ) -> None:
        self.target = target
        self.argument = argument
        self.required = required
        self.options = options
        self.defaults = defaults


SPECS: dict[str, Spec] = {
    "validate": Spec(
        "msetool.cli.validate_run:run_validate",
        "inputs",
        False,
        {
            "--type": ("mime", "str"),
            "--scenario": ("scenario", "path"),
            "--format": ("fmt", ("text", "json", "junit", "github")),
            "--strict": ("strict", "flag"),
            "--fail-on": ("fail_on", ("error", "warning", "info")),
            "--target-duration": ("target_duration", "posfloat"),
            "--profile": ("profile", ("chromium", "spec")),
            "--html": ("html_path", "file"),
            "--deep": ("deep", "flag"),
        },
        {
            "mime": None,
            "scenario": None,
            "fmt": "text",
            "strict": False,
            "fail_on": None,
            "target_duration": None,
            "profile": "chromium",
            "html_path": None,
            "deep": False,
        },
    ),
    "codecs": Spec(
        "msetool.cli.validate_run:run_codecs",
        "files",
        True,
        {"--format": ("fmt", ("text", "json"))},
        {"fmt": "text"},
    ),
}

_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")


def _path_ok(value: str, dir_okay: bool = True) -> bool:
    """click.Path(...).convert would return ``value`` unchanged (it fails on an existing path that is not
    readable, or a folder where only files are allowed)."""
    try:
        st = os.stat(value)
    except ValueError:  # a NUL byte: click fails on it its own way
        return False
    except OSError:  # no such path: click.Path() passes it on as given
        return True
    if not dir_okay and stat.S_ISDIR(st.st_mode):
        return False
    return os.access(value, os.R_OK)


def _convert(kind: Kind, value: str) -> tuple[bool, Any]:
    if isinstance(kind, tuple):
        return value in kind, value
    if kind == "str":
        return True, value
    if kind == "path":
        return _path_ok(value), value
    if kind == "file":
        return _path_ok(value, dir_okay=False), value
    if kind == "posfloat":
        if not _DECIMAL.fullmatch(value):
            return False, None
        f = float(value)
        return f > 0, f
    return False, None


def parse(spec: Spec, args: list[str]) -> tuple[tuple[str, ...], dict[str, Any]] | None:
    """(positional values, keyword values with defaults) as click would pass them, or None when unsure."""
    positional: list[str] = []
    values: dict[str, Any] = {}
    i = 0
    while i < len(args):
        tok = args[i]
        i += 1
        if not tok.startswith("-"):
            if not _path_ok(tok):
                return None
            positional.append(tok)
            continue
        opt = spec.options.get(tok)
        if opt is None:
            return None
        dest, kind = opt
        if dest in values:
            return None
        if kind == "flag":
            values[dest] = True
            continue
        if i >= len(args) or args[i].startswith("-"):
            return None
        ok, converted = _convert(kind, args[i])
        i += 1
        if not ok:
            return None
        values[dest] = converted
    if spec.required and not positional:
        return None
    return tuple(positional), {**spec.defaults, **values}


def fast_command(argv: list[str]) -> Callable[[], None] | None:
    """A function that runs ``argv`` exactly as the click group would, or None when click must parse it."""
    if not argv or os.environ.get("_MSETOOL_COMPLETE"):
        return None
    spec = SPECS.get(argv[0])
    if spec is None:
        return None
    parsed = parse(spec, argv[1:])
    if parsed is None:
        return None
    positional, kwargs = parsed

    def run() -> None:
        import importlib

        from msetool.cli.run import handle_errors

        module, _, attr = spec.target.partition(":")
        fn = getattr(importlib.import_module(module), attr)
        handle_errors(fn)(positional, **kwargs)
        sys.exit(0)  # what click's standalone mode does when a command returns

    return run
