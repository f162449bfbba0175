"""TS test media: one small H.264 + AAC transport stream made by ffmpeg (cached by tests/media.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import media

#: 1 s GOPs, no B-frames: two IDR pictures, 60 video frames, ~94 AAC frames.
TS_ARGS = [*media.VIDEO_SRC, *media.AUDIO_SRC, "-t", "2", *media.H264, *media.AAC, "-f", "mpegts"]


@pytest.fixture(scope="session")
def ts_file() -> Path:
    return media.make("ts-avc-aac", TS_ARGS, suffix=".ts")


@pytest.fixture(scope="session")
def ts_bytes(ts_file: Path) -> bytes:
    return ts_file.read_bytes()
