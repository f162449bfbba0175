"""The preroll decode check of a track depends on its sample entry only, so the parser builds it once per
initialization segment (building it parses the codec configuration) and a new moov builds it again."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from msetool.bmff import stream
from msetool.bmff.segments import Mp4Track
from msetool.bmff.stream import BmffStreamParser
from msetool.mime import parse_mime
from msetool.stream import FramesParsed, MediaSegmentStarted, ParserEvent
from tests import media

AVC_AAC = 'video/mp4; codecs="avc1.42C00D,mp4a.40.2"'


def _run(data: bytes, times: int) -> list[ParserEvent]:
    p = BmffStreamParser(mime=parse_mime(AVC_AAC))
    out: list[ParserEvent] = []
    for _ in range(times):  # the whole file again: its moov is a new initialization segment
        out += p.feed(data)
    return out


def test_decode_check_built_once_per_track_and_init(monkeypatch: pytest.MonkeyPatch) -> None:
    data = media.fmp4_avc_aac().read_bytes()
    built: list[int] = []
    original = stream._decode_check

    def counting(track: Mp4Track) -> Callable[[bytes], str | None] | None:
        built.append(track.track_id)
        return original(track)

    monkeypatch.setattr(stream, "_decode_check", counting)
    events = _run(data, 2)
    moofs = sum(isinstance(e, MediaSegmentStarted) for e in events)
    assert moofs > 4
    assert sorted(built) == sorted([*set(built)] * 2)  # each track once per moov, never per moof
    frames = [e for e in events if isinstance(e, FramesParsed)]
    assert frames and not any(c.decode_errors for e in frames for c in e.columns)
