"""The click-free argument path (msetool/cli/fast.py) must mean exactly what click means.

Its tables restate the click declarations of ``validate`` and ``codecs``: the first test fails when an
option is added, renamed or changed on one side only. The property test feeds both parsers the same
argument lists (options, values, existing files, folders, missing paths) and requires every list the fast
path takes to give click's parameters exactly; the last tests run both paths on real files and compare
stdout, stderr and the exit code.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.cli import fast
from msetool.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
CLEAN = ROOT / "samples" / "segments" / "clean"


def _command(name: str) -> click.Command:
    cmd = cli.get_command(click.Context(cli), name)
    assert isinstance(cmd, click.Command)
    return cmd


def _kind(p: click.Parameter) -> fast.Kind:
    t = p.type
    if isinstance(p, click.Option) and p.is_flag:
        return "flag"
    if isinstance(t, click.Choice):
        assert t.case_sensitive
        return tuple(str(c) for c in t.choices)
    if isinstance(t, click.FloatRange):
        assert (t.min, t.min_open, t.max, t.clamp) == (0, True, None, False)
        return "posfloat"
    if isinstance(t, click.IntRange):
        assert not t.min_open and not t.max_open and not t.clamp
        return f"int:{t.min}:{t.max}"
    if isinstance(t, click.Path):
        assert not t.exists and t.readable and t.file_okay and not t.allow_dash and not t.resolve_path
        assert not t.writable and not t.executable
        if t.type is Path:
            assert t.dir_okay
            return "pathobj"
        assert t.type is None
        return "path" if t.dir_okay else "file"
    if t is click.FLOAT:
        return "float"
    assert t is click.STRING, f"{p.name}: type {t!r} has no fast-path kind"
    return "str"


@pytest.mark.parametrize("name", sorted(fast.SPECS))
def test_tables_restate_the_click_declarations(name: str) -> None:
    spec = fast.SPECS[name]
    cmd = _command(name)
    args = [p for p in cmd.params if isinstance(p, click.Argument)]
    options = [p for p in cmd.params if isinstance(p, click.Option) and not p.hidden]
    assert [(a.name, a.nargs) for a in args] == [(spec.argument, spec.nargs)]
    assert _kind(args[0]) == spec.arg_kind
    declared: dict[str, tuple[str, fast.Kind]] = {}
    required = {a.name for a in args if a.required}
    multiple = set()
    for p in options:
        if p.name == "help":
            assert not set(p.opts) & set(spec.options)  # help always goes to click
            continue
        assert p.nargs == 1 and p.envvar is None and p.callback is None
        assert p.name is not None
        for opt in p.opts + p.secondary_opts:
            declared[opt] = (p.name, _kind(p))
        if p.required:
            required.add(p.name)
        if p.multiple:
            multiple.add(p.name)
    assert declared == spec.options
    assert required == spec.required
    assert multiple == spec.multiple
    # what click passes for options not given
    ctx = cmd.make_context(name, [str(CLEAN)] + (["--out", "x"] if "out" in spec.required else []))
    defaults = {k: v for k, v in ctx.params.items() if k != spec.argument and k not in spec.required}
    assert defaults == spec.defaults


_VALUES = ["json", "text", "junit", "github", "xml", "error", "warning", "info", "spec", "chromium", "2",
           "0", "-1", "1.5", "1e3", "inf", "", "x", "--", "-", "-h", "7", "8", "1024", "1025", "010",
           "1280x720@3000k", "vp9"]


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    d = tmp_path_factory.mktemp("fastargs")
    (d / "file.mp4").write_bytes(b"\0\0\0\x08free")
    (d / "folder").mkdir()
    locked = d / "locked.mp4"
    locked.write_bytes(b"")
    locked.chmod(0)
    return [str(d / "file.mp4"), str(d / "folder"), str(d / "missing.mp4"), str(locked), str(CLEAN)]


def _click_params(name: str, argv: list[str]) -> dict[str, Any] | None:
    cmd = _command(name)
    try:
        ctx = cmd.make_context(name, list(argv), resilient_parsing=False)
    except (click.exceptions.Exit, click.ClickException):
        return None
    return dict(ctx.params)


@settings(derandomize=True, max_examples=600, deadline=None)
@given(data=st.data())
def test_what_the_fast_path_takes_click_parses_the_same(data: st.DataObject, paths: list[str]) -> None:
    name = data.draw(st.sampled_from(sorted(fast.SPECS)))
    spec = fast.SPECS[name]
    token = st.one_of(
        st.sampled_from([*spec.options, "--help", "-h", "--format=json", "--", "--bogus", "-ox", "-vo"]),
        st.sampled_from(_VALUES),
        st.sampled_from(paths),
    )
    argv = data.draw(st.lists(token, max_size=7))
    got = fast.parse(spec, argv)
    if got is None:
        return
    assert got == _click_params(name, argv), argv


def test_an_unreadable_or_odd_argument_goes_to_click(paths: list[str]) -> None:
    spec = fast.SPECS["validate"]
    if os.geteuid() != 0:  # root reads anything: click would not refuse the locked file either
        assert not os.stat(paths[3]).st_mode & stat.S_IRUSR
        assert fast.parse(spec, [paths[3]]) is None
    assert fast.parse(spec, ["--html", paths[1], paths[0]]) is None  # a folder where a file is needed
    assert fast.parse(spec, ["--format=json", paths[0]]) is None
    assert fast.parse(spec, [paths[0], "--format", "json", "--format", "text"]) is None
    assert fast.parse(spec, ["--target-duration", "1e3", paths[0]]) is None
    assert fast.parse(fast.SPECS["codecs"], []) is None  # click's "Missing argument"
    frag = fast.SPECS["fragment"]
    assert fast.parse(frag, [paths[0]]) is None  # --out is required
    assert fast.parse(frag, [paths[0], paths[0], "-o", "out"]) is None  # one INPUT
    assert fast.parse(frag, [paths[0], "-o", "out", "--audio-bitrate", "2000"]) is None
    got = fast.parse(frag, [paths[0], "-o", "out", "--rendition", "640x360@800k", "--rendition", "1x1@1k"])
    assert got is not None and got["renditions"] == ("640x360@800k", "1x1@1k") and got["out"] == "out"
    assert fast.fast_command(["validate", "-h"]) is None
    assert fast.fast_command(["inspect", paths[0]]) is None


def _run(argv: list[str], fast_path: bool) -> subprocess.CompletedProcess[bytes]:
    """msetool through main() (fast path when possible) or straight through the click group."""
    entry = (
        "from msetool.cli.main import main; main()"
        if fast_path
        else "from msetool.cli.group import cli; cli.main(prog_name='msetool')"
    )
    return subprocess.run(
        [sys.executable, "-c", f"import sys; sys.argv[0] = 'msetool'; {entry}", *argv],
        check=False,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", str(CLEAN), "--format", "json"],
        ["validate", str(ROOT / "samples" / "segments" / "gap"), "--format", "github", "--strict"],
        ["validate", str(ROOT / "samples" / "segments" / "missing-tfdt"), "--format", "junit"],
        ["validate", str(ROOT / "samples" / "segments" / "base-data-offset"), "--target-duration", "1"],
        ["validate", str(CLEAN), "--type", 'video/mp4; codecs="avc1.42E01E"', "--format", "json"],
        ["validate", "does-not-exist.mp4"],
        ["validate"],
        ["codecs", str(CLEAN / "init.mp4"), "--format", "json"],
        ["codecs", str(CLEAN / "seg-00001.m4s")],
        ["simulate", str(CLEAN), "--format", "json"],
        ["simulate", str(ROOT / "samples" / "segments" / "missing-tfdt")],
        ["simulate", "--scenario", "no-such-case.json"],
        ["fragment", "does-not-exist.mp4", "-o", "never-written"],
        ["fragment", str(ROOT / "samples" / "sample.mp4"), "--out", str(ROOT / "samples")],
        ["fragment", str(ROOT / "samples" / "sample.mp4"), "-o", "never-written", "--rendition", "12x"],
    ],
    ids=lambda a: " ".join(Path(x).name if "/" in x else x for x in a),
)
def test_both_paths_print_the_same(argv: list[str]) -> None:
    assert fast.fast_command(argv) is not None
    a, b = _run(argv, True), _run(argv, False)
    assert (a.stdout, a.stderr, a.returncode) == (b.stdout, b.stderr, b.returncode)


def test_ctrl_c_while_loading_the_command_ends_as_in_click() -> None:
    """Ctrl-C before the command's own handling runs (while its modules load): click's "Aborted!", exit 1."""
    interrupt = (
        "import sys\n"
        "class Stop:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'msetool.cli.validate_run':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Stop())\n"
        "sys.argv[0] = 'msetool'\n"
    )
    argv = ["validate", str(CLEAN), "--format", "json"]
    runs = []
    for entry in ("from msetool.cli.main import main; main()",
                  "from msetool.cli.group import cli; cli.main(prog_name='msetool')"):
        runs.append(subprocess.run([sys.executable, "-c", interrupt + entry, *argv], check=False,
                                   capture_output=True, cwd=ROOT, timeout=120))
    a, b = runs
    assert (a.stdout, a.stderr, a.returncode) == (b.stdout, b.stderr, b.returncode)
    assert (a.stdout, a.stderr, a.returncode) == (b"", b"\nAborted!\n", 1)
