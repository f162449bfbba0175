"""Plain ``validate``/``codecs``/``simulate``/``fragment`` argument lists, parsed without click.

click and the modules it imports (inspect, uuid, platform, datetime, gettext, ...) take longer to import
than validating a small file, and ``fragment`` makes the user wait for them before ffmpeg starts. So the
common, unambiguous argument lists are parsed here and run the same function the click command runs
(:mod:`msetool.cli.validate_run`, ``simulate_run``, ``fragment_run``, with the same error handling).

Only what is certain to mean the same to click is taken: known options with their value in the next
argument, valid choices and numbers, flags, positional arguments that do not start with ``-``, each
option at most once (unless repeatable), required ones present. Anything else (help, ``--opt=value``,
``--``, bundled short options, unknown or repeated options, invalid values, unreadable paths, shell
completion) returns None and click parses it, with its own messages. ``tests/unit/test_cli_fast.py``
checks these tables against the click declarations.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Callable

#: typing.TYPE_CHECKING without importing typing: this module loads before ffmpeg is started
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: option kinds: "flag", "str", "float" (click.FLOAT), "posfloat" (click.FloatRange(min=0, min_open=True)),
#: "int:LO:HI" (click.IntRange(LO, HI)), "path" (click.Path()), "file" (click.Path(dir_okay=False)),
#: "pathobj" (click.Path(path_type=pathlib.Path)), or a tuple of choices (click.Choice, case-sensitive)
Kind = str | tuple[str, ...]


class Spec:
    """One command: its positional argument, the options, their defaults, the function click runs.

    ``nargs`` is the argument's (-1: any number, collected in a tuple; 1: exactly one). ``options`` maps
    every spelling (long and short) to (parameter name, kind); ``multiple`` names the repeatable options
    (a tuple of every value given), ``required`` the options that must be given.
    """

    __slots__ = ("arg_kind", "argument", "defaults", "multiple", "nargs", "options", "required", "target")

    def __init__(
        self,
        target: str,
        argument: str,
        options: dict[str, tuple[str, Kind]],
        defaults: dict[str, Any],
        *,
        nargs: int = -1,
        arg_kind: Kind = "path",
        required: frozenset[str] = frozenset(),
        multiple: frozenset[str] = frozenset(),
    ) -> None:
        self.target = target
        self.argument = argument
        self.nargs = nargs
        self.arg_kind = arg_kind
        self.options = options
        self.defaults = defaults
        self.required = required
        self.multiple = multiple


SPECS: dict[str, Spec] = {
    "validate": Spec(
        "msetool.cli.validate_run:run_validate",
        "inputs",
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
        {"--format": ("fmt", ("text", "json"))},
        {"fmt": "text"},
        required=frozenset({"files"}),
    ),
    "simulate": Spec(
        "msetool.cli.simulate_run:run_simulate",
        "files",
        {
            "--scenario": ("scenario_path", "pathobj"),
            "--type": ("type_", "str"),
            "--profile": ("profile", ("chromium", "spec")),
            "--format": ("fmt", ("text", "json")),
            "--html": ("html_path", "file"),
        },
        {"scenario_path": None, "type_": None, "profile": "chromium", "fmt": "text", "html_path": None},
        arg_kind="pathobj",
    ),
    "fragment": Spec(
        "msetool.cli.fragment_run:run_fragment",
        "input_file",
        {
            "--out": ("out", "path"),
            "-o": ("out", "path"),
            "--force": ("force", "flag"),
            "--segment-duration": ("segment_duration", "float"),
            "--copy": ("copy_", "flag"),
            "--muxed": ("muxed", "flag"),
            "--rendition": ("renditions", "str"),
            "--ladder": ("ladder", "flag"),
            "--video-codec": ("video_codec", "str"),
            "--audio-codec": ("audio_codec", "str"),
            "--audio-bitrate": ("audio_bitrate", "int:8:1024"),
            "--preset": ("preset", "str"),
            "--no-check": ("no_check", "flag"),
            "--verbose": ("verbose", "flag"),
            "-v": ("verbose", "flag"),
        },
        {
            "force": False,
            "segment_duration": 2.0,
            "copy_": False,
            "muxed": False,
            "renditions": (),
            "ladder": False,
            "video_codec": "h264",
            "audio_codec": "aac",
            "audio_bitrate": 128,
            "preset": "veryfast",
            "no_check": False,
            "verbose": False,
        },
        nargs=1,
        arg_kind="path",
        required=frozenset({"input_file", "out"}),
        multiple=frozenset({"renditions"}),
    ),
}

#: compiled on first use (re's cache): most argument lists have no number, and start-up is waited for
_DECIMAL = r"[0-9]+(\.[0-9]+)?"
_DIGITS = r"[0-9]+"


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
    if kind == "pathobj":
        if not _path_ok(value):
            return False, None
        from pathlib import Path

        return True, Path(value)
    if kind in ("float", "posfloat"):
        if not re.fullmatch(_DECIMAL, value):
            return False, None
        f = float(value)
        return kind == "float" or f > 0, f
    if kind.startswith("int:"):
        _, lo, hi = kind.split(":")
        if not re.fullmatch(_DIGITS, value):
            return False, None
        n = int(value)
        return int(lo) <= n <= int(hi), n
    return False, None


def parse(spec: Spec, args: list[str]) -> dict[str, Any] | None:
    """The keyword arguments click would call the command with (defaults included), or None when unsure."""
    positional: list[Any] = []
    values: dict[str, Any] = {}
    i = 0
    while i < len(args):
        tok = args[i]
        i += 1
        if not tok.startswith("-"):
            ok, converted = _convert(spec.arg_kind, tok)
            if not ok:
                return None
            positional.append(converted)
            continue
        opt = spec.options.get(tok)
        if opt is None:
            return None
        dest, kind = opt
        if dest in values and dest not in spec.multiple:
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
        values[dest] = (*values.get(dest, ()), converted) if dest in spec.multiple else converted
    if spec.nargs == 1:
        if len(positional) != 1:
            return None
        values[spec.argument] = positional[0]
    else:
        if spec.argument in spec.required and not positional:
            return None
        values[spec.argument] = tuple(positional)
    if any(name not in values for name in spec.required):
        return None
    return {**spec.defaults, **values}


def fast_command(argv: list[str]) -> Callable[[], None] | None:
    """A function that runs ``argv`` exactly as the click group would, or None when click must parse it."""
    if not argv or os.environ.get("_MSETOOL_COMPLETE"):
        return None
    spec = SPECS.get(argv[0])
    if spec is None:
        return None
    kwargs = parse(spec, argv[1:])
    if kwargs is None:
        return None

    def run() -> None:
        import importlib

        from msetool.cli.run import echo, handle_errors

        try:
            module, _, attr = spec.target.partition(":")
            fn = getattr(importlib.import_module(module), attr)
            handle_errors(fn)(**kwargs)  # as click calls a command: every parameter by name
        except (EOFError, KeyboardInterrupt):  # before the command's own handling (while importing)
            echo("", err=True)  # click's standalone mode: a new line, "Aborted!", exit 1
            echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(0)  # what click's standalone mode does when a command returns

    return run
