"""MPEG audio test media made by ffmpeg (cached): ADTS AAC and MP3 with and without ID3v2/Info."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import media

SINE_44K = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]


@pytest.fixture(scope="session")
def adts_bytes() -> bytes:
    args = [*media.AUDIO_SRC, "-t", "1", *media.AAC, "-f", "adts"]
    return media.make("adts", args, suffix=".aac").read_bytes()


@pytest.fixture(scope="session")
def adts44_bytes() -> bytes:
    return media.make("adts44", [*SINE_44K, "-t", "1", *media.AAC, "-f", "adts"], suffix=".aac").read_bytes()


@pytest.fixture(scope="session")
def mp3_plain_bytes() -> bytes:
    args = [*media.AUDIO_SRC, "-t", "1", "-c:a", "libmp3lame", "-b:a", "128k", "-write_xing", "0",
            "-id3v2_version", "0", "-f", "mp3"]
    return media.make("mp3-plain", args, suffix=".mp3").read_bytes()


@pytest.fixture(scope="session")
def mp3_tagged_file() -> Path:
    """ffmpeg's default MP3 output: an ID3v2 tag, then a Xing/Info frame, then audio."""
    args = [*media.AUDIO_SRC, "-t", "1", "-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"]
    return media.make("mp3-tagged", args, suffix=".mp3")
