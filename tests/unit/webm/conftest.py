"""ffmpeg-made WebM for the WebM tests: tiny, 1-2 s, cached by tests/media.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import media
from tests.unit.webm import builder

VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30"]
AUDIO = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
AUDIO44 = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
VP9 = ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", "15", "-b:v", "100k"]
CLUSTERS = ["-cluster_time_limit", "500"]


@pytest.fixture(scope="session")
def ffmpeg_vp9_opus() -> Path:
    """VP9 + Opus muxed by ffmpeg, 2 s. ffmpeg interleaves by exact time and then rounds block timecodes to
    the millisecond, so an Opus block can carry a timecode below the video block before it: Chromium
    rejects such Clusters ("Got a block with a timecode before the previous block.")."""
    return media.make("webm-vp9-opus", [*VIDEO, *AUDIO, "-t", "2", *VP9, "-c:a", "libopus", "-b:a", "32k",
                                        *CLUSTERS], suffix=".webm")


@pytest.fixture(scope="session")
def vp9_only() -> Path:
    return media.make("webm-vp9", [*VIDEO, "-t", "2", *VP9, *CLUSTERS], suffix=".webm")


@pytest.fixture(scope="session")
def opus_only() -> Path:
    return media.make("webm-opus", [*AUDIO, "-t", "2", "-c:a", "libopus", "-b:a", "32k", *CLUSTERS],
                      suffix=".webm")


@pytest.fixture(scope="session")
def vp9_opus(vp9_only: Path, opus_only: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """VP9 + Opus, ffmpeg's frames remuxed in timestamp order (tests/unit/webm/builder.remux): a muxed
    stream Chromium accepts, Clusters of about 0.5 s starting at keyframes."""
    init, clusters = builder.remux(vp9_only.read_bytes(), opus_only.read_bytes())
    out = tmp_path_factory.mktemp("webm") / "vp9-opus.webm"
    out.write_bytes(init + b"".join(clusters))
    return out


@pytest.fixture(scope="session")
def vp8_vorbis() -> Path:
    """VP8 + Vorbis muxed, 2 s (ffmpeg may interleave Vorbis blocks out of order inside a Cluster)."""
    return media.make("webm-vp8-vorbis", [*VIDEO, *AUDIO44, "-t", "2", "-c:v", "libvpx", "-g", "15",
                                          "-b:v", "100k", "-c:a", "libvorbis", *CLUSTERS], suffix=".webm")


@pytest.fixture(scope="session")
def vorbis_only() -> Path:
    return media.make("webm-vorbis", [*AUDIO44, "-t", "2", "-c:a", "libvorbis", *CLUSTERS], suffix=".webm")


@pytest.fixture(scope="session")
def av1() -> Path:
    """AV1 (libaom, fastest preset), 1 s: carries an AV1CodecConfigurationRecord in CodecPrivate."""
    return media.make("webm-av1", [*VIDEO, "-t", "1", "-c:v", "libaom-av1", "-cpu-used", "8", "-g", "15",
                                   "-b:v", "100k", *CLUSTERS], suffix=".webm")


@pytest.fixture(scope="session")
def vp9_live() -> Path:
    """VP9 written as a live stream: unknown-size Segment and Clusters."""
    return media.make("webm-vp9-live", [*VIDEO, "-t", "2", *VP9, "-live", "1", *CLUSTERS], suffix=".webm")
