"""A compact notation for driving the MSE model with synthetic coded frames.

Frames: ``"0K 33 66 100K"`` - times in milliseconds, ``K`` marks a random access point, ``10|5`` is PTS|DTS
(DTS defaults to PTS), ``:20`` after a frame gives its duration (default: the ``dur`` argument), ``E``
marks the duration as estimated (WebM's last block of a Cluster).
Ranges: ``"{ [0,133) }"`` in milliseconds (decimals when not whole, e.g. ``[0,99.999)``).
"""

from __future__ import annotations

import math
from typing import Any

from msetool.mime import parse_mime
from msetool.model import CodedFrame, InitSegment, TrackInfo
from msetool.mse.media_source import MediaSource
from msetool.mse.source_buffer import SourceBuffer
from msetool.stream import (
    FramesParsed,
    InitSegmentParsed,
    MediaSegmentEnded,
    MediaSegmentStarted,
    ParserEvent,
)

CODEC = {"video": "avc1.4D401E", "audio": "mp4a.40.2"}


def frames(text: str, track: int = 1, dur: float = 33, timescale: int = 1000) -> list[CodedFrame]:
    out = []
    for raw in text.split():
        key = "K" in raw
        est = "E" in raw
        tok = raw.replace("K", "").replace("E", "")
        d = dur
        if ":" in tok:
            tok, ds = tok.split(":")
            d = float(ds)
        pts_s, _, dts_s = tok.partition("|")
        pts = float(pts_s)
        dts = float(dts_s) if dts_s else pts
        out.append(
            CodedFrame(
                track_id=track,
                dts=round(dts * timescale / 1000),
                pts=round(pts * timescale / 1000),
                duration=round(d * timescale / 1000),
                timescale=timescale,
                keyframe=key,
                size=100,
                duration_estimated=est,
            )
        )
    return out


def init_event(*kinds: str, duration: Any = None) -> InitSegmentParsed:
    tracks = tuple(
        TrackInfo(
            track_id=i + 1,
            kind=k,
            codec=CODEC[k],
            timescale=1000,  # type: ignore[arg-type]
            sample_rate=48000 if k == "audio" else None,
        )
        for i, k in enumerate(kinds)
    )
    return InitSegmentParsed(InitSegment("mp4", tracks, duration=duration), 0)


def segment(*frame_lists: list[CodedFrame]) -> list[ParserEvent]:
    """One media segment; several lists = one parser batch holding all of them (muxed)."""
    allf = [f for fl in frame_lists for f in fl]
    return [MediaSegmentStarted(0), FramesParsed(allf), MediaSegmentEnded(0)]


def make(
    *kinds: str,
    profile: str = "chromium",
    mode: str = "segments",
    type_: str = "video/mp4",
    init: bool = True,
) -> tuple[MediaSource, SourceBuffer]:
    ms = MediaSource(profile)
    sb = SourceBuffer(ms, "sb0", parse_mime(type_), None, ())
    ms.source_buffers.append(sb)
    if init:
        append(sb, [init_event(*(kinds or ("video",)))])
    if mode == "sequence":
        sb.set_mode("sequence")
    return ms, sb


def append(sb: SourceBuffer, events: list[ParserEvent]) -> None:
    sb.append_events(events)
    sb.run_pending()


def ms_num(v: Any) -> str:
    x = float(v) * 1000
    if abs(x - round(x)) < 1e-9:
        return str(round(x))
    return f"{x:.3f}".rstrip("0")


def fmt(sb: SourceBuffer) -> str:
    r = sb.buffered()
    to_js = sb.profile.to_js
    if not r:
        return "{ }"
    return "{ " + " ".join(f"[{ms_num(to_js(s))},{ms_num(to_js(e))})" for s, e in r) + " }"


def offset_ms(sb: SourceBuffer) -> str:
    return ms_num(sb.profile.to_js(sb.timestamp_offset))


def is_nan(v: float) -> bool:
    return math.isnan(v)
