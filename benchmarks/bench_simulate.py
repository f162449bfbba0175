#!/usr/bin/env python3
"""Time the MSE model on 2 h of 2 s muxed audio+video segments: 3,600 appends into one SourceBuffer.

  python benchmarks/bench_simulate.py [--hours 2] [--runs 3] [--profile chromium|spec] [--separate]

Simulator time only: the coded frames of every segment are built up front (30 fps H.264-like video with a
2 s GOP, 48 kHz AAC audio with 1024-sample frames, timescales 15360 and 48000 like ffmpeg writes them) and
handed to ``SourceBuffer.append_events``; the clock covers appendBuffer() + the buffer append (segment
parser loop, coded frame processing, the Chromium stream model, eviction checks) + reading ``buffered``
after each append, which is what a scenario step does. Times are CPU seconds of this process
(``time.process_time``), so other jobs on a shared machine disturb them less than wall time. Parsing
bytes is the parsers' cost, measured by the validate benchmark. ``--separate`` puts video and audio in
two SourceBuffers instead (7,200 appends). ``--columns`` hands each segment over as per-track columns
(``FramesParsed(columns=...)``, what the BMFF reader emits) instead of CodedFrame objects.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from msetool.mime import parse_mime
from msetool.model import CodedFrame, InitSegment, TrackInfo
from msetool.mse.media_source import MediaSource
from msetool.mse.source_buffer import SourceBuffer
from msetool.stream import (
    FrameColumns,
    FramesParsed,
    InitSegmentParsed,
    MediaSegmentEnded,
    MediaSegmentStarted,
)

SEG = 2
#: seconds a player keeps behind the newest data (it calls remove() for the rest, as shaka and hls.js do);
#: without it 2 h of media exceed Chromium's 150 MiB video / 12 MiB audio limits and appendBuffer() throws
#: QuotaExceededError, as it would in the browser with the element paused at 0. (600 s of this audio,
#: counted as Chromium does with sizeof(DecoderBuffer) + an ADTS header per frame, is already over 12 MiB.)
BACK_BUFFER = 300
V_TS, V_DUR, V_FPS = 15360, 512, 30
A_TS, A_DUR = 48000, 1024


def video_segment(n: int, track: int = 1) -> list[CodedFrame]:
    base = n * SEG * V_FPS
    return [
        CodedFrame(track, (base + i) * V_DUR, (base + i) * V_DUR, V_DUR, V_TS, i == 0, 6000 if i else 40000)
        for i in range(SEG * V_FPS)
    ]


def audio_segment(n: int, track: int = 2) -> list[CodedFrame]:
    first = (n * SEG * A_TS + A_DUR - 1) // A_DUR
    last = ((n + 1) * SEG * A_TS + A_DUR - 1) // A_DUR
    return [CodedFrame(track, k * A_DUR, k * A_DUR, A_DUR, A_TS, True, 300) for k in range(first, last)]


def events(frames: list[CodedFrame], columns: bool = False) -> list:  # type: ignore[type-arg]
    if columns:
        # one FrameColumns per track run, built before the clock starts (a reader's trun tables)
        cols = [FrameColumns.of(c.frames()) for c in FramesParsed(frames).columns]
        return [MediaSegmentStarted(0), FramesParsed(columns=cols), MediaSegmentEnded(0)]
    return [MediaSegmentStarted(0), FramesParsed(frames), MediaSegmentEnded(0)]


def run(hours: float, profile: str, muxed: bool, columns: bool = False) -> tuple[float, int, str]:
    segs = int(hours * 3600 / SEG)
    vt = TrackInfo(1, "video", "avc1.4D401F", V_TS)
    at = TrackInfo(2, "audio", "mp4a.40.2", A_TS, sample_rate=48000)
    ms = MediaSource(profile)
    if muxed:
        sb = SourceBuffer(ms, "av", parse_mime('video/mp4; codecs="avc1.4D401F,mp4a.40.2"'), None, ())
        ms.source_buffers.append(sb)
        plan = [(sb, [InitSegmentParsed(InitSegment("mp4", (vt, at)), 0)])]
        plan += [(sb, events(video_segment(n) + audio_segment(n), columns)) for n in range(segs)]
    else:
        v = SourceBuffer(ms, "video", parse_mime('video/mp4; codecs="avc1.4D401F"'), None, ())
        a = SourceBuffer(ms, "audio", parse_mime('audio/mp4; codecs="mp4a.40.2"'), None, ())
        ms.source_buffers += [v, a]
        plan = [
            (v, [InitSegmentParsed(InitSegment("mp4", (vt,)), 0)]),
            (
                a,
                [
                    InitSegmentParsed(
                        InitSegment("mp4", (TrackInfo(1, "audio", "mp4a.40.2", A_TS, sample_rate=48000),)), 0
                    )
                ],
            ),
        ]
        for n in range(segs):
            plan += [(v, events(video_segment(n, 1), columns)), (a, events(audio_segment(n, 1), columns))]
    appends = 0
    per_sb: dict[str, int] = {}
    t0 = time.process_time()
    for sb, evs in plan:
        sb.append_events(evs)
        sb.run_pending()
        r = sb.buffered()
        appends += 1
        per_sb[sb.id] = per_sb.get(sb.id, 0) + 1
        if per_sb[sb.id] % 30 == 0 and r and sb.profile.to_js(r.end) > BACK_BUFFER:
            # a player's back-buffer cleanup: keep BACK_BUFFER seconds behind the live edge
            sb.remove(0, sb.profile.to_js(r.end) - BACK_BUFFER)
            sb.run_pending()
    elapsed = time.process_time() - t0
    final = "; ".join(f"{sb.id} {sb.buffered()!r}" for sb in ms.source_buffers)
    if ms.last_append_error or ms.element_error:
        raise SystemExit(f"unexpected error: {ms.last_append_error or ms.element_error}")
    return elapsed, appends, final


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", choices=["chromium", "spec"], default="chromium")
    ap.add_argument("--separate", action="store_true", help="video and audio in two SourceBuffers")
    ap.add_argument("--columns", action="store_true", help="segments as per-track columns, not frame objects")
    args = ap.parse_args()
    times = []
    for _ in range(args.runs):
        t, n, final = run(args.hours, args.profile, not args.separate, args.columns)
        times.append(t)
    print(
        f"profile={args.profile} muxed={not args.separate} columns={args.columns} appends={n} "
        f"median={statistics.median(times):.3f}s min={min(times):.3f}s "
        f"per-append={statistics.median(times) / n * 1e6:.0f}us"
    )
    print(f"final buffered: {final}")


if __name__ == "__main__":
    main()
