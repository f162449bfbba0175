"""The fragment modules' records (msetool.records) behave as the dataclasses they replaced: the same
constructor, repr, equality, hashing, immutability, pickling and ``__match_args__``. They load before
ffmpeg starts, where each @dataclass cost ~0.5 ms to create (tests/unit/test_startup.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from msetool.fragment.package import FragmentResult
from msetool.fragment.plan import FragmentOptions, Plan, Rendition, TrackOutput
from msetool.fragment.probe import MediaInfo, StreamInfo
from msetool.fragment.runner import FfmpegBinary, RunResult
from tests.unit.test_records import assert_behaves_as_dataclass


@dataclass(frozen=True, slots=True)
class Rendition_:
    width: int
    height: int
    bitrate_k: int


@dataclass(frozen=True, slots=True)
class FragmentOptions_:
    input: Path
    output: Path
    segment_duration: float = 2.0
    copy: bool = False
    muxed: bool = False
    renditions: tuple[Rendition, ...] = ()
    ladder: bool = False
    video_codec: str = "h264"
    audio_codec: str = "aac"
    audio_bitrate_k: int = 128
    preset: str = "veryfast"
    force: bool = False


@dataclass(frozen=True, slots=True)
class TrackOutput_:
    id: str
    kind: str
    rendition: Rendition | None = None
    representation: int = -1
    muxed_file: str = ""


@dataclass(frozen=True, slots=True)
class Plan_:
    argv: list[str]
    tracks: tuple[TrackOutput, ...]
    container: str
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class StreamInfo_:
    index: int
    kind: str
    codec: str
    profile: str = ""
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    sample_rate: int | None = None
    channels: str = ""
    bitrate_k: int | None = None
    start: float | None = None
    attached_pic: bool = False


@dataclass(frozen=True, slots=True)
class MediaInfo_:
    path: str
    container: str
    duration: float | None
    start: float
    streams: tuple[StreamInfo, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class FfmpegBinary_:
    path: str
    origin: str


@dataclass(slots=True)
class RunResult_:
    returncode: int
    stderr: list[str] = field(default_factory=list)
    interrupted: bool = False


@dataclass(slots=True)
class FragmentResult_:
    output: Path
    presentation: Any
    info: Any
    binary: Any
    argv: list[str]
    warnings: list[str] = field(default_factory=list)
    traps: list[str] = field(default_factory=list)
    ffmpeg_seconds: float = 0.0
    total_seconds: float = 0.0
    check: Any = None


RECORDS = [(Rendition, Rendition_), (FragmentOptions, FragmentOptions_), (TrackOutput, TrackOutput_),
           (Plan, Plan_), (StreamInfo, StreamInfo_), (MediaInfo, MediaInfo_), (FfmpegBinary, FfmpegBinary_),
           (RunResult, RunResult_), (FragmentResult, FragmentResult_)]

@pytest.mark.parametrize(("cls", "ref"), RECORDS, ids=[c[0].__name__ for c in RECORDS])
def test_record_behaves_as_the_dataclass(cls: type, ref: type) -> None:
    assert_behaves_as_dataclass(cls, ref)


def test_rendition_keeps_its_label_and_text() -> None:
    r = Rendition(1280, 720, 3000)
    assert (r.label, str(r)) == ("720p", "1280x720@3000k")
    assert MediaInfo("a", "mov", 1.0, 0.0).streams == ()
    assert RunResult(0).stderr == [] and RunResult(0).stderr is not RunResult(0).stderr
