# ruff: noqa: E501  (canned ffmpeg output lines are kept verbatim)
"""package.py safety, with an injected Runner: failures and Ctrl-C leave nothing behind; outputs are never
overwritten without force, inputs never."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from msetool.errors import FfmpegError, UsageError
from msetool.fragment.package import fragment
from msetool.fragment.plan import FragmentOptions
from msetool.fragment.runner import FfmpegBinary, ProgressCallback, RunResult

PROBE = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'in.mp4':
  Duration: 00:00:04.00, start: 0.000000, bitrate: 500 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 320x180, 400 kb/s, 30 fps, 30 tbr, 15360 tbn
At least one output file must be specified"""

BIN = FfmpegBinary("ffmpeg", "test")


class FailingRunner:
    """Answers the probe, then writes a partial segment and fails (or is interrupted) like ffmpeg would."""

    def __init__(self, interrupt: bool = False) -> None:
        self.interrupt = interrupt
        self.workdir: Path | None = None

    def run(self, argv: Sequence[str], on_progress: ProgressCallback | None = None) -> RunResult:
        if "-progress" not in argv:
            return RunResult(1, PROBE.splitlines())
        mpd = Path(next(a for a in argv if a.endswith("ffmpeg.mpd")))
        self.workdir = mpd.parent
        (self.workdir / "init-0.mp4").write_bytes(b"\0\0\0\x08free")
        (self.workdir / "seg-0-00001.m4s").write_bytes(b"partial")
        if on_progress:
            on_progress(1.0)
        if self.interrupt:
            raise KeyboardInterrupt
        return RunResult(1, ["  Stream #0:0 -> #0:0", "[libx264 @ 0x1] Error: something broke", "Conversion failed!"])


@pytest.fixture
def src(tmp_path: Path) -> Path:
    p = tmp_path / "in.mp4"
    p.write_bytes(b"not really media; the runner is fake")
    return p


def test_ffmpeg_failure_leaves_nothing_and_quotes_stderr(tmp_path: Path, src: Path) -> None:
    runner = FailingRunner()
    out = tmp_path / "out" / "pkg"
    with pytest.raises(FfmpegError, match="something broke") as e:
        fragment(FragmentOptions(src, out), runner=runner, binary=BIN)
    assert "Stream #0:0" not in str(e.value)
    assert runner.workdir is not None and not runner.workdir.exists()
    assert not out.exists() and list((tmp_path / "out").iterdir()) == []


def test_ctrl_c_leaves_nothing(tmp_path: Path, src: Path) -> None:
    runner = FailingRunner(interrupt=True)
    out = tmp_path / "pkg"
    with pytest.raises(KeyboardInterrupt):
        fragment(FragmentOptions(src, out), runner=runner, binary=BIN)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_existing_output_needs_force_and_survives_a_failed_run(tmp_path: Path, src: Path) -> None:
    out = tmp_path / "pkg"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    with pytest.raises(UsageError, match="already exists"):
        fragment(FragmentOptions(src, out), runner=FailingRunner(), binary=BIN)
    with pytest.raises(FfmpegError):
        fragment(FragmentOptions(src, out, force=True), runner=FailingRunner(), binary=BIN)
    assert (out / "keep.txt").read_text() == "old"


def test_never_overwrites_the_input(tmp_path: Path, src: Path) -> None:
    with pytest.raises(UsageError, match="overwrite the input"):
        fragment(FragmentOptions(src, src, force=True), runner=FailingRunner(), binary=BIN)
    with pytest.raises(UsageError, match="overwrite the input"):
        fragment(FragmentOptions(src, tmp_path, force=True), runner=FailingRunner(), binary=BIN)
    assert src.exists()


def test_missing_input_and_unwritable_output(tmp_path: Path, src: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        fragment(FragmentOptions(tmp_path / "nope.mp4", tmp_path / "o"), runner=FailingRunner(), binary=BIN)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="cannot create"):
        fragment(FragmentOptions(src, blocker / "sub" / "o"), runner=FailingRunner(), binary=BIN)
