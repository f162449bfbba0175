"""ffmpeg-python imported without python-future (msetool.fragment.ffmpeg_python): the same commands as a
plain ``import ffmpeg``, python-future never loaded, its ``past.builtins`` still the real one for anyone
importing it later, and a plain import when a release asks the stand-in for more. Each case runs in a
fresh interpreter, since the point is what a first import loads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

#: a graph through the places ffmpeg-python checks for "a str" with the class the stand-in provides:
#: stream selection by a string index (its nodes module), which it refuses for an int, and the output's
#: file name (_ffmpeg)
GRAPH = """
src = ffmpeg.input("in.mp4")
v = src["0"].filter_multi_output("split", 2)
a = v[0].filter("scale", 320, 180).filter("setsar", "1")
b = v[1].filter("crop", "trunc(iw/2)*2", "trunc(ih/2)*2")
out = ffmpeg.output(a, b, src["1"], "out/ffmpeg.mpd", f="dash", map_metadata=-1, sn=None,
                    **{"c:v:0": "libx264", "b:v:1": "400k"})
try:
    src[0]
    refused = False
except TypeError:
    refused = True
result = {"args": out.get_args(), "compiled": out.compile(cmd="ffmpeg"), "refused": refused}
"""


def run(code: str, *extra_path: Path) -> dict:
    prelude = f"import sys, json; sys.path[:0] = {[str(p) for p in (*extra_path, ROOT)]!r}\n"
    tail = "\nprint(json.dumps(result))"
    p = subprocess.run([sys.executable, "-c", prelude + code + tail], capture_output=True, text=True,
                       check=False, timeout=60)
    assert p.returncode == 0, p.stderr
    out: dict = json.loads(p.stdout.splitlines()[-1])
    return out


LEAN = "from msetool.fragment import ffmpeg_python\nffmpeg = ffmpeg_python.load()\n"


def test_builds_the_same_commands_as_a_plain_import() -> None:
    plain = run("import ffmpeg\n" + GRAPH)
    lean = run(LEAN + GRAPH)
    assert lean == plain
    assert plain["refused"] is True and "[0:0]split=2[s0][s1]" in " ".join(plain["args"])


def test_python_future_is_not_loaded_and_stays_importable() -> None:
    got = run(LEAN + """
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("past", "future", "libfuturize"))
import ffmpeg.nodes
checks = [isinstance(x, ffmpeg.nodes.basestring) for x in ("s", b"b", 1, None)]
from past.builtins import basestring as real
again = ffmpeg_python.load() is ffmpeg
result = {"loaded": loaded, "checks": checks, "real": real.__module__, "again": again}
""")
    assert got == {"loaded": [], "checks": [True, True, False, False], "real": "past.types.basestring",
                   "again": True}


def test_a_release_that_needs_more_of_python_future_is_imported_as_it_is(tmp_path: Path) -> None:
    fake = tmp_path / "ffmpeg"
    fake.mkdir()
    (fake / "__init__.py").write_text("from . import nodes\n")
    (fake / "nodes.py").write_text("from past.builtins import basestring, unicode\nOK = unicode is str\n")
    got = run(LEAN + """
import past.builtins
result = {"ok": ffmpeg.nodes.OK, "file": ffmpeg.__file__, "real": hasattr(past.builtins, "execfile")}
""", tmp_path)
    assert got == {"ok": True, "file": str(fake / "__init__.py"), "real": True}
