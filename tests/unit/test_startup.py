"""What ``msetool validate``/``codecs`` import: only what the run needs (start-up is a large part of
validating a file; docs/performance.md). Checked on the modules a real run leaves in ``sys.modules``, not
on time: the terminal report's rich, the click parser (plain argument lists do not need it), the
simulator, the packager, the browser harness, the scenario reader and other formats' reports must not
load for a plain machine-readable validation.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLEAN = ROOT / "samples" / "segments" / "clean"

#: never needed by validate/codecs with a machine-readable format
HEAVY = {
    "click",
    "rich",
    "pymp4",
    "construct",
    "ffmpeg",
    "playwright",
    "subprocess",
    "statistics",
    "pathlib",
    "urllib",
    "ipaddress",
    "msetool.mse",
    "msetool.fragment",
    "msetool.browser",
    "msetool.scenario",
    "msetool.report.text",
    "msetool.report.html",
}

_DUMP = (
    "import sys, atexit; "
    "atexit.register(lambda: sys.__stderr__.write('\\nMODULES ' + ' '.join(sorted(sys.modules)) + '\\n')); "
)


def _modules(code: str, *argv: str) -> set[str]:
    p = subprocess.run(
        [sys.executable, "-c", _DUMP + code, *argv],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    line = [x for x in p.stderr.splitlines() if x.startswith("MODULES ")]
    assert line, p.stderr
    return set(line[-1].split()[1:])


def _loaded_by(argv: list[str]) -> set[str]:
    """Modules a run of ``msetool ARGV`` loads beyond what the interpreter itself starts with."""
    before = _modules("pass")
    after = _modules("import sys; sys.argv[0] = 'msetool'; from msetool.cli.main import main; main()", *argv)
    return after - before


def _heavy(mods: set[str], allowed: frozenset[str] = frozenset()) -> set[str]:
    return {m for m in mods for h in HEAVY - allowed if m == h or m.startswith(h + ".")}


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", str(CLEAN), "--format", "json"],
        ["validate", str(ROOT / "samples" / "segments" / "gap"), "--format", "github"],
        ["codecs", str(CLEAN / "init.mp4"), "--format", "json"],
        ["codecs", str(CLEAN / "init.mp4")],
    ],
    ids=["validate-json", "validate-github", "codecs-json", "codecs-text"],
)
def test_machine_readable_runs_load_nothing_heavy(argv: list[str]) -> None:
    mods = _loaded_by(argv)
    assert "msetool.rules.engine" in mods  # the run did validate
    assert not _heavy(mods), sorted(_heavy(mods))


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", str(CLEAN), "--format", "json"],
        ["validate", *sorted(map(str, CLEAN.iterdir())), "--format", "json"],
        ["validate", "--deep", str(ROOT / "samples" / "segments" / "clean-muxed"), "--format", "json"],
        ["validate", str(ROOT / "samples" / "sample.mp4"), "--format", "json"],
    ],
    ids=["folder", "files", "muxed-deep", "progressive"],
)
def test_mp4_validation_creates_no_dataclass_and_no_fraction(argv: list[str]) -> None:
    """Importing dataclasses costs ~8 ms (inspect, ast, dis, tokenize; the records are written out:
    msetool.records) and fractions ~3 ms (it imports decimal); a clean fMP4 builds no rational: the rules
    compare times in integers and import it where they build one."""
    mods = _loaded_by(argv)
    assert "msetool.bmff.segments" in mods  # the run did read MP4
    slow = {"dataclasses", "inspect", "fractions", "decimal"}
    assert not mods & slow, sorted(mods & slow)


def test_junit_needs_only_the_xml_writer_beyond_that() -> None:
    mods = _loaded_by(["validate", str(CLEAN), "--format", "junit"])
    assert "xml.etree.ElementTree" in mods
    assert not _heavy(mods), sorted(_heavy(mods))


def test_the_terminal_report_is_what_loads_rich() -> None:
    mods = _loaded_by(["validate", str(CLEAN)])
    assert "rich.console" in mods
    assert not _heavy(mods, frozenset({"rich", "msetool.report.text"})), sorted(_heavy(mods))


#: what ``msetool fragment`` must not load before ffmpeg is spawned: the read-back, the manifests and the
#: self-check load in the watcher thread while ffmpeg runs (fragment/package.py), click and rich never
#: load for a plain argument list off a terminal, no dataclass is created (~0.5 ms each, and importing
#: dataclasses), and the path checks use os.path (pathlib and the urllib.parse it imports: ~4 ms)
FRAGMENT_LATE = {
    "pathlib",
    "urllib",
    "ipaddress",
    "click",
    "rich",
    "pymp4",
    "construct",
    "playwright",
    "msetool.fragment.check",
    "msetool.fragment.layout",
    "msetool.fragment.manifests",
    "dataclasses",
    "msetool.bmff",
    "msetool.mse",
    "msetool.rules",
    "msetool.report.text",
    "msetool.browser",
    "msetool.scenario",
}

#: prints the modules loaded when the packaging ffmpeg (the one with ``-progress``) is spawned. Run with
#: ``-S`` and site-packages added by hand: the .pth files of a development set-up may load pathlib at start
_AT_SPAWN = (
    "import sys, site; sys.path.extend(site.getsitepackages()); "
    "sys.addaudithook(lambda ev, a: ev == 'subprocess.Popen' and '-progress' in a[1] and "
    "sys.__stderr__.write('\\nSPAWN ' + ' '.join(sorted(sys.modules)) + '\\n')); "
    "sys.argv[0] = 'msetool'; from msetool.cli.main import main; main()"
)


def _modules_at_spawn(tmp_path: Path) -> set[str]:
    """The modules loaded when ``msetool fragment`` spawns its ffmpeg (sample.mp4, --copy, --no-check)."""
    from msetool.errors import FfmpegError
    from msetool.fragment.runner import locate_ffmpeg

    try:
        locate_ffmpeg()
    except FfmpegError:
        pytest.skip("no ffmpeg")
    out = tmp_path / "out"
    argv = ["fragment", str(ROOT / "samples" / "sample.mp4"), "--out", str(out), "--copy", "--no-check"]
    p = subprocess.run([sys.executable, "-S", "-c", _AT_SPAWN, *argv], check=False, capture_output=True,
                       text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr
    line = [x for x in p.stderr.splitlines() if x.startswith("SPAWN ")]
    assert len(line) == 1, p.stderr
    assert (out / "mse.json").is_file()  # and the run went on to the end
    return set(line[0].split()[1:])


def test_fragment_spawns_ffmpeg_before_the_check_loads(tmp_path: Path) -> None:
    """Start-up before ffmpeg runs is waited for (docs/performance.md): only what builds and spawns the
    command loads first; the watcher thread imports the rest while ffmpeg runs."""
    mods = _modules_at_spawn(tmp_path)
    assert "ffmpeg" in mods and "msetool.fragment.plan" in mods  # ffmpeg-python built the command
    late = {m for m in mods for h in FRAGMENT_LATE if m == h or m.startswith(h + ".")}
    assert not late, sorted(late)


def test_fragment_modules_before_ffmpeg_need_no_typing(tmp_path: Path) -> None:
    """Nothing else loads typing before ffmpeg starts (~2 ms): msetool's modules that load by then keep
    it for the type checker (``TYPE_CHECKING = False``). Checked by importing each of them where typing
    cannot be imported (the interpreter of a development set-up may have loaded it already)."""
    ours = sorted(m for m in _modules_at_spawn(tmp_path) if m == "msetool" or m.startswith("msetool."))
    assert "msetool.fragment.package" in ours
    code = ("import importlib, sys; sys.modules['typing'] = None; "
            "[importlib.import_module(m) for m in sys.argv[1:]]")
    p = subprocess.run([sys.executable, "-c", code, *ours], check=False, capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr


def test_fragment_modules_before_ffmpeg_create_no_dataclass() -> None:
    """Each @dataclass costs ~0.5 ms to create; the modules loaded before ffmpeg starts use records
    (msetool.records) instead."""
    import importlib

    for name in ("msetool.fragment.plan", "msetool.fragment.probe", "msetool.fragment.runner",
                 "msetool.fragment.package", "msetool.cli.fragment_run", "msetool.cli.fast"):
        module = importlib.import_module(name)
        made = [k for k, v in vars(module).items()
                if isinstance(v, type) and v.__module__ == name and hasattr(v, "__dataclass_fields__")]
        assert not made, (name, made)
