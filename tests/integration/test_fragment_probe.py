"""The ``--copy`` fast probe (the moov read in Python) must describe a file exactly as ``ffmpeg -i`` does
where the plan depends on it (stream index, kind, codec), and step aside for anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from msetool.fragment.probe import MediaInfo, probe, probe_mp4
from msetool.fragment.runner import SubprocessRunner
from tests import media
from tests.integration.test_fragment_support import INPUTS, ROOT, make_input

PLAIN_MP4 = ["sample", "bframes", "oddgop", "latestart", "audio44k", "videoonly", "audioonly"]


def source(name: str) -> Path:
    return ROOT / "samples" / "sample.mp4" if name == "sample" else make_input(name)


def planned(info: MediaInfo) -> list[tuple[int, str, str]]:
    """What build_plan reads from a probe: the audio/video streams' index, kind and codec."""
    return [(s.index, s.kind, s.codec) for s in info.streams
            if s.kind in ("video", "audio") and not s.attached_pic]


@pytest.mark.parametrize("name", PLAIN_MP4)
def test_moov_read_agrees_with_ffmpeg(name: str) -> None:
    src = source(name)
    fast = probe_mp4(src)
    assert fast is not None, f"{name}: a plain MP4 should not need ffmpeg to be described"
    slow = probe(src, SubprocessRunner(), media.ffmpeg_exe())
    assert planned(fast) == planned(slow)
    assert fast.duration == pytest.approx(slow.duration, abs=0.05)
    for f, s in zip(fast.streams, slow.streams, strict=False):
        if f.kind == "video":
            assert (f.width, f.height) == (s.width, s.height)


@pytest.mark.parametrize("name", [n for n in INPUTS if n not in PLAIN_MP4])
def test_other_containers_are_left_to_ffmpeg(name: str) -> None:
    assert probe_mp4(make_input(name)) is None


def test_fragmented_and_unknown_codecs_are_left_to_ffmpeg() -> None:
    assert probe_mp4(media.fmp4_avc_aac()) is None
    mpeg4 = media.make("frag-probe-mp4v", ["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10", "-t", "1",
                                           "-c:v", "mpeg4"])
    assert probe_mp4(mpeg4) is None
