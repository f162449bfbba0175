"""validate names files exactly as pathlib would, without importing it (msetool/cli/validate_run.py).

The report prints these names, so the string helpers must agree with ``str(Path(raw))``, ``Path(d) / n``,
``.name`` and ``.suffix`` for any spelling, and a folder must expand to the same streams as the pathlib
version of the same rules (kept here as the reference).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.cli import validate_run as vr

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the string helpers defer to pathlib elsewhere")

_PART = st.sampled_from(["", ".", "..", "a", "b.mp4", ".hidden", "x.", "seg.1", "~", " ", "init.m4s"])
_RAW = st.lists(_PART, max_size=6).map("/".join)


@settings(derandomize=True, max_examples=500, deadline=None)
@given(raw=_RAW, lead=st.sampled_from(["", "/", "//", "///", "./", "../"]), name=_PART.filter(lambda n: n))
def test_spelling_agrees_with_pathlib(raw: str, lead: str, name: str) -> None:
    text = lead + raw
    p = Path(text)
    norm = vr._norm(text)
    assert norm == str(p)
    assert vr._name(norm) == p.name
    assert vr._suffix(norm) == p.suffix
    if name not in (".", ".."):
        assert vr._child(norm, name) == str(p / name)


def _reference(paths: tuple[str, ...]) -> list[list[str]]:
    """The pathlib version of expand_streams (the rules of validate_run, spelled with Path)."""

    def looks_like_init(path: Path) -> bool:
        if "init" in path.name.lower():
            return True
        with open(path, "rb") as fh:
            head = fh.read(8)
        return head[4:8] in (b"ftyp", b"moov") or head[:4] == b"\x1a\x45\xdf\xa3"

    def folder_streams(p: Path) -> list[list[Path]]:
        files = sorted(
            (
                c
                for c in p.iterdir()
                if c.is_file() and not c.name.startswith(".") and c.suffix.lower() not in vr._NOT_MEDIA
            ),
            key=lambda c: vr.natural_key(c.name),
        )
        if all(re.match(r"\d+[-_. ]", f.name) for f in files):
            return [files]
        inits = [f for f in files if looks_like_init(f)]
        rest = [f for f in files if f not in inits]
        prefixed = [f for f in inits if "init" in f.name.lower()]
        if len(inits) <= 1 or len(prefixed) != len(inits):
            return [inits + rest]
        prefixes = {f: f.name[: f.name.lower().index("init")] for f in inits}
        groups: dict[Path, list[Path]] = {f: [f] for f in inits}
        for f in rest:
            best = max(inits, key=lambda i: (f.name.startswith(prefixes[i]), len(prefixes[i])))
            groups[best].append(f)
        return list(groups.values())

    files: list[Path] = []
    folders: list[list[Path]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            folders.extend(folder_streams(p))
        else:
            assert p.exists()
            files.append(p)
    return [[str(x) for x in s] for s in ([files] if files else []) + folders]


def test_folders_expand_like_the_pathlib_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = tmp_path / "one"
    one.mkdir()
    names = ["seg10.m4s", "seg2.m4s", "seg1.m4s", "init.mp4", ".hidden.m4s", "mse.json", "x.", "notes.MD"]
    for name in names:
        (one / name).write_bytes(b"\0\0\0\x08free")
    (one / "sub").mkdir()
    two = tmp_path / "two"
    two.mkdir()
    for name in ["v_init.mp4", "a_init.mp4", "v_seg1.m4s", "a_seg1.m4s", "a_seg2.m4s", "v_seg10.m4s"]:
        (two / name).write_bytes(b"\0\0\0\x08free")
    three = tmp_path / "three"
    three.mkdir()
    (three / "movie.mp4").write_bytes(b"\0\0\0\x18ftypisom")
    (three / "frag2.m4s").write_bytes(b"\0\0\0\x08moof")
    (three / "frag1.m4s").write_bytes(b"\0\0\0\x08moof")
    monkeypatch.chdir(tmp_path)
    spellings = [
        ("one",),
        ("./one/",),
        ("one//",),
        (str(one),),
        ("/" + str(one),),
        ("two", "three/./"),
        ("one/seg2.m4s", "one/seg1.m4s", "two"),
        ("./three/frag1.m4s",),
    ]
    for paths in spellings:
        assert vr.expand_streams(paths) == _reference(paths), paths
