"""The fragment modules' records (msetool.records) behave as the dataclasses they replaced: the same
constructor, repr, equality, hashing, immutability, pickling and ``__match_args__``. They load before
ffmpeg starts, where each @dataclass cost ~0.5 ms to create (tests/unit/test_startup.py)."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.fragment.package import FragmentResult
from msetool.fragment.plan import FragmentOptions, Plan, Rendition, TrackOutput
from msetool.fragment.probe import MediaInfo, StreamInfo
from msetool.fragment.runner import FfmpegBinary, RunResult


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

_VALUE = st.none() | st.integers(-3, 3) | st.text(max_size=3) | st.booleans() | st.tuples(st.integers(0, 3))
_Args = tuple[tuple[Any, ...], dict[str, Any]]


def _outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except Exception as e:
        return type(e).__name__, str(e)


def _args(ref: type) -> st.SearchStrategy[_Args]:
    fs = dataclasses.fields(ref)
    missing = dataclasses.MISSING
    required = [f for f in fs if f.default is missing and f.default_factory is missing]
    # a default factory's field is ``None`` in the record's signature (meaning the factory's value)
    optional = {f.name: _VALUE if f.default_factory is missing else _VALUE.filter(lambda v: v is not None)
                for f in fs if f not in required}
    return st.tuples(st.tuples(*(_VALUE for _ in required)), st.fixed_dictionaries({}, optional=optional))


@pytest.mark.parametrize(("cls", "ref"), RECORDS, ids=[c[0].__name__ for c in RECORDS])
def test_record_behaves_as_the_dataclass(cls: type, ref: type) -> None:
    args = _args(ref)
    names = [f.name for f in dataclasses.fields(ref)]
    assert cls.__match_args__ == ref.__match_args__  # type: ignore[attr-defined]
    assert not hasattr(cls, "__dataclass_fields__")

    def same(x: object, rx: object) -> None:
        assert repr(x) == repr(rx).replace(ref.__qualname__ + "(", cls.__qualname__ + "(", 1)

    @settings(derandomize=True, max_examples=30, deadline=None)
    @given(a=args, b=args, name=st.sampled_from(names), value=_VALUE)
    def check(a: _Args, b: _Args, name: str, value: Any) -> None:
        x, rx = cls(*a[0], **a[1]), ref(*a[0], **a[1])
        y, ry = cls(*b[0], **b[1]), ref(*b[0], **b[1])
        same(x, rx)
        assert (x == y, x != y, x == cls(*a[0], **a[1])) == (rx == ry, rx != ry, rx == ref(*a[0], **a[1]))
        assert (x == 1) == (rx == 1)
        hx, hr = _outcome(lambda: hash(x)), _outcome(lambda: hash(rx))
        assert hx[0] == hr[0]
        if hx[0] == "ok":
            assert hash(x) == hash(rx)
        assert hasattr(x, "__dict__") == hasattr(rx, "__dict__")
        assert _outcome(lambda: setattr(x, name, value)) == _outcome(lambda: setattr(rx, name, value))
        assert _outcome(lambda: delattr(y, name)) == _outcome(lambda: delattr(ry, name))
        same(x, rx)
        same(pickle.loads(pickle.dumps(x)), rx)

    check()


def test_rendition_keeps_its_label_and_text() -> None:
    r = Rendition(1280, 720, 3000)
    assert (r.label, str(r)) == ("720p", "1280x720@3000k")
    assert MediaInfo("a", "mov", 1.0, 0.0).streams == ()
    assert RunResult(0).stderr == [] and RunResult(0).stderr is not RunResult(0).stderr
