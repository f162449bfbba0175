"""fragment's path checks run before ffmpeg starts, on os.path instead of pathlib (importing pathlib cost
~4 ms of every run). They are held here to what the pathlib version decided, on generated paths through a
small tree with a symlink, a broken symlink, ``..``, ``.``, doubled and trailing slashes and ``~``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msetool.errors import UsageError
from msetool.fragment.package import _check_paths, _within
from msetool.fragment.plan import FragmentOptions, spelled

_PARTS = st.sampled_from(["a", "b", "..", ".", "", "in.mp4", "d", "link", "broken", "out", "x y"])
_SEPS = st.sampled_from(["/", "//", "///"])


@st.composite
def _paths(draw: st.DrawFn, absolute: bool | None = None) -> str:
    parts = draw(st.lists(_PARTS, max_size=6).filter(lambda ps: ps.count("..") <= 2))
    seps = draw(st.lists(_SEPS, min_size=len(parts), max_size=len(parts)))
    lead = draw(st.sampled_from(["", "/", "//", "///"])) if absolute is None else ("/" if absolute else "")
    body = "".join(p + s for p, s in zip(parts, seps, strict=True)).lstrip("/")  # (a first part "")
    return lead + (body if draw(st.booleans()) else body.rstrip("/"))


@given(_paths(), st.sampled_from(["", "~", "~/"]))
def test_spelled_is_how_pathlib_spells_a_path(p: str, tilde: str) -> None:
    try:
        expected = str(Path(tilde + p).expanduser())
    except RuntimeError:  # ~user of no such user: left as it is (pathlib raises), so "no such file" follows
        expected = str(PurePosixPath(tilde + p))
    assert spelled(tilde + p) == expected


@given(st.lists(st.sampled_from(["a", "b", "ab"]), max_size=4), st.lists(st.sampled_from(["a", "b", "ab"]),
                                                                          max_size=4),
       st.sampled_from(["/", "//"]))
def test_within_is_is_relative_to(a: list[str], b: list[str], root: str) -> None:
    pa, pb = root + "/".join(a), root + "/".join(b)
    assert _within(pa, pb) == PurePosixPath(pa).is_relative_to(pb)


def _pathlib_check(opts: FragmentOptions) -> tuple[Path, Path]:
    """The checks as they were written with pathlib (the reference)."""
    src = Path(opts.input).expanduser()
    if not src.exists():
        raise UsageError(f"{opts.input}: no such file")
    if src.is_dir():
        raise UsageError(f"{opts.input}: is a directory, expected a media file")
    src = src.resolve()
    out = Path(opts.output).expanduser().absolute()
    out_resolved = out.resolve()
    if out_resolved == src or src.is_relative_to(out_resolved):
        raise UsageError(f"--out {opts.output}: would overwrite the input {opts.input}")
    if (out.exists() or out.is_symlink()) and not opts.force:
        raise UsageError(f"--out {opts.output}: already exists (use --force to replace it)")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {opts.output}: cannot create {parent} ({e.strerror})") from None
    return src, out


def _outcome(check: object, opts: FragmentOptions) -> tuple[str, ...]:
    try:
        src, out = check(opts)  # type: ignore[operator]
    except UsageError as e:
        # the system's reason may differ: os.makedirs and Path.mkdir stop at different steps of a parent
        # that runs through a file ("Not a directory" / "File exists")
        msg = str(e)
        return ("error", msg.rsplit(" (", 1)[0] if ": cannot create " in msg else msg)
    return ("ok", str(src), str(out))


def _build(top: Path) -> Path:
    """The tree, two levels below ``top`` so no generated path (at most three ``..``) leads out of ``top``."""
    root = top / "x" / "w"
    (root / "d" / "a").mkdir(parents=True)
    (root / "in.mp4").write_bytes(b"media")
    (root / "d" / "in.mp4").write_bytes(b"media")
    (root / "out").mkdir()
    (root / "link").symlink_to(root / "d")
    (root / "d" / "link").symlink_to(root / "in.mp4")
    (root / "broken").symlink_to(root / "nowhere")
    return root


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the generated paths lead: built afresh for each check (both create the output's parent)."""
    monkeypatch.setenv("HOME", str(tmp_path / "t" / "x" / "w"))
    return tmp_path / "t"


def _fresh(top: Path, check: object, opts: FragmentOptions) -> tuple[str, ...]:
    shutil.rmtree(top, ignore_errors=True)
    os.chdir(_build(top) / "d")
    for p in (opts.input, opts.output):  # both checks create the output's parent: never outside the tree
        where = os.path.realpath(os.path.expanduser(os.fspath(p)))
        assert where == str(top) or where.startswith(f"{top}/"), f"{p} leads out of the test tree: {where}"
    return _outcome(check, opts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(src=_paths(absolute=False), out=_paths(absolute=False), tilde=st.sampled_from(["", "~/", "../"]),
       force=st.booleans(), as_path=st.booleans())
def test_same_verdicts_and_paths_as_pathlib(  # noqa: PLR0917 (fixtures and drawn values)
    tree: Path, monkeypatch: pytest.MonkeyPatch, src: str, out: str, tilde: str, force: bool, as_path: bool
) -> None:
    src, out = (tilde + src) or "in.mp4", out or "."
    opts = FragmentOptions(Path(src) if as_path else src, Path(out) if as_path else out, force=force)
    monkeypatch.chdir(tree.parent)  # (put back after the test)
    assert _fresh(tree, _check_paths, opts) == _fresh(tree, _pathlib_check, opts)


def test_a_directory_input_and_an_unreadable_name(tree: Path) -> None:
    root = _build(tree)
    with pytest.raises(UsageError, match="is a directory"):
        _check_paths(FragmentOptions(str(root / "d"), "o"))
    with pytest.raises(UsageError, match="cannot read"):
        _check_paths(FragmentOptions("x" * (os.pathconf("/", "PC_NAME_MAX") + 1), "o"))
