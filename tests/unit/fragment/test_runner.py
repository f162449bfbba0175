"""runner.py: which ffmpeg, progress parsing, and which stderr lines explain a failure."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from msetool.errors import FfmpegError
from msetool.fragment.runner import locate_ffmpeg, parse_progress_line, relevant_stderr


def fake_exe(path: Path) -> Path:
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_env_wins_then_path_then_wheel(tmp_path: Path) -> None:
    exe = fake_exe(tmp_path / "my-ffmpeg")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake_exe(bindir / "ffmpeg")
    b = locate_ffmpeg({"MSETOOL_FFMPEG": str(exe), "PATH": str(bindir)})
    assert (b.path, b.origin) == (str(exe), "MSETOOL_FFMPEG")
    b = locate_ffmpeg({"PATH": str(bindir)})
    assert (b.path, b.origin) == (str(bindir / "ffmpeg"), "PATH")
    b = locate_ffmpeg({"PATH": str(tmp_path / "empty")})
    assert b.origin == "imageio-ffmpeg" and os.path.exists(b.path)


def test_bad_env_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FfmpegError, match="MSETOOL_FFMPEG"):
        locate_ffmpeg({"MSETOOL_FFMPEG": str(tmp_path / "nope"), "PATH": ""})


@pytest.mark.parametrize(("line", "expected"), [("out_time_us=1500000", 1.5), ("out_time_ms=250000\n", 0.25),
                                                ("out_time_us=N/A", None), ("frame=12", None), ("", None)])
def test_progress_lines(line: str, expected: float | None) -> None:
    assert parse_progress_line(line) == expected


def test_relevant_stderr_keeps_errors_not_banners() -> None:
    lines = ["  Stream #0:0 -> #0:0 (h264 (native) -> h264 (libx264))", "Press [q] to stop",
             "[libx264 @ 0x1] using cpu capabilities: none!",
             "[out#0/dash @ 0x2] Error opening output files: Permission denied"]
    assert relevant_stderr(lines) == "[out#0/dash @ 0x2] Error opening output files: Permission denied"
