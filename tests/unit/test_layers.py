"""The dependency rules of docs/architecture.md, checked on the source: the core never reaches the edges."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "msetool"
CORE = ["model.py", "stream.py", "source.py", "mime.py", "scenario.py", "errors.py", "binary.py",
        "bmff", "webm", "ts", "mpeg", "codecs", "mse", "rules"]
EDGE_MODULES = {"click", "rich", "subprocess", "playwright", "ffmpeg", "msetool.cli", "msetool.browser",
                "msetool.fragment"}


def _files() -> list[Path]:
    out: list[Path] = []
    for entry in CORE:
        p = PKG / entry
        if p.is_dir():
            out.extend(sorted(p.rglob("*.py")))
        elif p.exists():
            out.append(p)
    return out


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(PKG)))
def test_core_does_not_import_edges(path: Path) -> None:
    bad = {n for n in _imports(path) for e in EDGE_MODULES if n == e or n.startswith(e + ".")}
    assert not bad, f"{path.relative_to(PKG)} imports edge modules {sorted(bad)}"
