"""Which fragments' prerolled samples get their decode check (BmffStreamParser.preroll_scope).

A paused element decodes only the first frames of the range it starts from, and once it has prerolled it
decodes nothing more while paused; validate reports only frames that may_preroll_at_start. So once the
simulated element has prerolled, the parser checks only those: what every consumer still reads, at a
fraction of the cost on a long output. Media: ffmpeg's fragmented AAC (4 fragments of ~1 s), with one
fragment's mdat payload replaced by seeded random bytes (sizes and boxes intact: valid MP4 that Chromium
appends but cannot decode; see tests/integration/test_simulate_cli.py).
"""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from msetool.bmff.stream import BmffStreamParser
from msetool.fragment.check import RenditionMonitor, default_validator
from msetool.mime import parse_mime
from msetool.mse.media_source import MediaSource
from msetool.rules.engine import _UNDECODABLE_KEPT, ValidateOptions, validate_stream
from msetool.source import FileSource
from msetool.stream import (
    PREROLL_MS,
    SEEK_TO_START_FUDGE,
    VIDEO_PREROLL_FRAMES,
    FramesParsed,
    may_preroll_at_start,
)
from tests import media

AAC = 'audio/mp4; codecs="mp4a.40.2"'


@pytest.fixture(scope="module")
def segments(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    init, segs = media.split_fmp4(media.fmp4_aac(), tmp_path_factory.mktemp("aac"))
    assert len(segs) >= 3
    return init, segs


def garbled(seg: Path, out: Path) -> Path:
    data = bytearray(seg.read_bytes())
    mdat = data.find(b"mdat")
    rnd = random.Random(7)
    data[mdat + 4 :] = bytes(rnd.randrange(256) for _ in range(len(data) - mdat - 4))
    out.write_bytes(data)
    return out


def validate_deep(files: list[Path]) -> list[tuple[str, str, int | None]]:
    """``msetool validate --deep`` (every sample analysed, the preroll decode checks included): the
    GEN-DECODE-01 findings, (rule, file, offset)."""
    sources = [FileSource(f, name=f.name) for f in files]
    try:
        found = validate_stream(sources, AAC, ValidateOptions(deep=True)).findings
    finally:
        for s in sources:
            s.close()
    return [(f.rule, f.file, f.offset) for f in found if f.rule == "GEN-DECODE-01"]


def decode_errors(parser: BmffStreamParser, data: bytes) -> list[tuple[int, int, int]]:
    """(pts, duration, timescale) of every frame the parser marks undecodable in ``data``."""
    out = []
    for ev in parser.feed(data):
        if isinstance(ev, FramesParsed):
            for c in ev.columns:
                out += [(c.pts[i], c.duration[i], c.timescale) for i in c.decode_errors]
    return out


@pytest.mark.parametrize("index", [0, 2])
def test_start_scope_checks_only_what_may_preroll_at_start(
    segments: tuple[Path, list[Path]], tmp_path: Path, index: int
) -> None:
    init, segs = segments
    bad = garbled(segs[index], tmp_path / "bad.m4s").read_bytes()
    found = {}
    for scope in ("all", "start"):
        p = BmffStreamParser(mime=parse_mime(AAC))
        p.preroll_scope = scope
        assert not decode_errors(p, init.read_bytes())
        found[scope] = decode_errors(p, bad)
    # "all": the fragment's first 200 ms are checked wherever it lies (not every garbled frame fails)
    assert found["all"]
    # "start": only the frames that may preroll at start (the first fragment's, not the third's)
    assert found["start"] == [f for f in found["all"] if may_preroll_at_start(*f)]
    assert bool(found["start"]) is (index == 0)


def test_the_source_buffer_narrows_its_parser_once_the_element_has_prerolled(
    segments: tuple[Path, list[Path]],
) -> None:
    init, segs = segments
    ms = MediaSource("chromium")
    sb = ms.add_source_buffer("a", AAC)
    assert isinstance(sb.parser, BmffStreamParser)
    for i, data in enumerate([init.read_bytes(), *(s.read_bytes() for s in segs[:3])]):
        sb.append_buffer(data, f"f{i}")
        sb.run_pending()
        # told on the append after the one that prerolled the element, never before
        assert sb.parser.preroll_scope == ("start" if i >= 2 else "all")
        assert ms.prerolled is (i >= 1)


def test_the_self_check_keeps_what_validate_reports(
    segments: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    """The self-check validates from the simulator parser's recorded events (every sample analysed, as
    ``validate --deep`` does), and that parser is narrowed once the element has prerolled. A fragment
    appended after that with frames at the start (the first one again, garbled) must still be reported
    as validate --deep reports it (GEN-DECODE-01); the simulator rightly ignores it: the element prerolled
    the good frames before it came."""
    init, segs = segments
    files = [*segs[:3], garbled(segs[0], tmp_path / "again.m4s")]
    validator = default_validator()
    assert validator is not None
    monitor = RenditionMonitor("audio", validator, simulate=True)
    monitor.start(init, init.name, lambda _tracks: AAC)
    for f in files:
        monitor.add_segment(f, f.name)
    report = monitor.finish()
    assert monitor.replayed  # validation did read the recorded events
    want = validate_deep([init, *files])
    assert [(r, f) for r, f, _o in want] == [("GEN-DECODE-01", "again.m4s")]
    assert [(f.rule, f.file, f.offset) for f in report.findings if f.rule == "GEN-DECODE-01"] == want
    assert not any(f.rule == "fragment-simulate" for f in report.findings)


def test_validate_finds_the_start_behind_many_undecodable_later_frames(
    segments: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    """Validate keeps a few undecodable frames per track to judge the preroll from; frames that cannot
    preroll at start (garbled third and fourth fragments appended first, more of them than those places)
    no longer take those places from the first fragment's, which the paused element does decode (the
    simulator fails the element too)."""
    init, segs = segments
    later = [garbled(segs[k], tmp_path / f"later{k}.m4s") for k in (2, 3)]
    first = garbled(segs[0], tmp_path / "first.m4s")
    p = BmffStreamParser(mime=parse_mime(AAC))
    decode_errors(p, init.read_bytes())
    assert sum(len(decode_errors(p, f.read_bytes())) for f in later) >= _UNDECODABLE_KEPT
    assert [f for _r, f, _o in validate_deep([init, *later, first])] == ["first.m4s"]
    ms = MediaSource("chromium")
    sb = ms.add_source_buffer("a", AAC)
    for f in (init, *later, first):
        sb.append_buffer(f.read_bytes(), f.name)
        sb.run_pending()
    assert ms.element_error is not None and "Failed to send audio packet" in ms.element_error[1]


@settings(max_examples=3000, deadline=None)
@given(
    timescale=st.integers(1, 10**6),
    duration=st.one_of(st.just(0), st.integers(0, 10**6)),
    start=st.fractions(max_value=Fraction(999_999, 10**6)),
    ahead=st.fractions(min_value=0, max_value=3),
    video=st.booleans(),
)
# audio deeper than video, and each window's end exactly (not in it)
@example(timescale=1000, duration=0, start=Fraction(999, 1000), ahead=Fraction(1, 10), video=False)
@example(timescale=1000, duration=100, start=Fraction(1, 2), ahead=Fraction(9, 10), video=True)
@example(timescale=1000, duration=0, start=Fraction(1, 2), ahead=Fraction(7, 10), video=False)
def test_every_frame_validate_could_report_may_preroll_at_start(
    timescale: int, duration: int, start: Fraction, ahead: Fraction, video: bool
) -> None:
    """GEN-DECODE-01 reports a frame at ``start <= pts < start + depth`` of a track that starts before
    SEEK_TO_START_FUDGE (depth: 4 of the frame's durations for video, PREROLL_MS for audio). Every such
    frame must pass the predicate the parser and validate filter with, and a frame beyond the deepest
    window must not."""
    pts = int((start + ahead) * timescale)
    depth = Fraction(VIDEO_PREROLL_FRAMES * duration, timescale) if video else Fraction(PREROLL_MS, 1000)
    if start < SEEK_TO_START_FUDGE and start <= Fraction(pts, timescale) < start + depth:
        assert may_preroll_at_start(pts, duration, timescale)
    deepest = max(Fraction(VIDEO_PREROLL_FRAMES * duration, timescale), Fraction(PREROLL_MS, 1000))
    if Fraction(pts, timescale) >= SEEK_TO_START_FUDGE + deepest:
        assert not may_preroll_at_start(pts, duration, timescale)


def test_the_self_checks_own_parser_is_narrowed(segments: tuple[Path, list[Path]]) -> None:
    """The self-check's parser sits behind the recorder that keeps its events for validation: the narrowing
    must reach it, or every fragment keeps paying for checks nothing reads."""
    init, segs = segments
    monitor = RenditionMonitor("audio", None, simulate=True)
    monitor.start(init, init.name, lambda _tracks: AAC)
    for f in segs[:3]:
        monitor.add_segment(f, f.name)
    sim = monitor._sim
    assert sim is not None and sim.recorder is not None
    assert sim.recorder.inner.preroll_scope == "start"
