#!/usr/bin/env python3
"""Build a large WebM (VP9, video only) for the validate benchmark, from ffmpeg's synthetic source.

VP9 is slow to encode, so ffmpeg encodes BASE_SECONDS of 720p VP9 once (libvpx realtime, cpu-used 8, about
14 Mbit/s, a keyframe and a Cluster every second); the Clusters are then repeated with every Cluster
Timecode rewritten until the file holds the requested number of Clusters: a clean, continuous stream of any
size. The Segment is written with an unknown size (as a live muxer would), Info loses its Duration, and
SeekHead/Cues/Tags are dropped (their offsets would be wrong). Video only: ffmpeg's VP9+Opus WebM has a
block timecode problem engineer E found. Written standalone (plain EBML walking), not with msetool's reader.

  make_big_webm.py OUT --clusters 770
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

BASE_SECONDS = 30
SEGMENT, INFO, TRACKS, CLUSTER = 0x18538067, 0x1549A966, 0x1654AE6B, 0x1F43B675
TIMECODE, DURATION = 0xE7, 0x4489


def ffmpeg() -> str:
    if os.environ.get("MSETOOL_FFMPEG"):
        return os.environ["MSETOOL_FFMPEG"]
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def read_id(data: bytes, pos: int) -> tuple[int, int]:
    first = data[pos]
    n = 1
    while n <= 4 and not first & (0x80 >> (n - 1)):
        n += 1
    return int.from_bytes(data[pos : pos + n], "big"), pos + n


def read_size(data: bytes, pos: int) -> tuple[int | None, int]:
    first = data[pos]
    n = 1
    while n <= 8 and not first & (0x80 >> (n - 1)):
        n += 1
    value = int.from_bytes(data[pos : pos + n], "big") & ((1 << (7 * n)) - 1)
    return (None if value == (1 << (7 * n)) - 1 else value), pos + n


def elements(data: bytes, start: int, end: int):
    """(id, element start, payload start, payload end) of the elements in data[start:end]."""
    pos = start
    while pos < end:
        eid, p = read_id(data, pos)
        size, p = read_size(data, p)
        stop = end if size is None else p + size
        yield eid, pos, p, stop
        pos = stop


def encode_id(eid: int) -> bytes:
    return eid.to_bytes((eid.bit_length() + 7) // 8, "big")


def element(eid: int, payload: bytes) -> bytes:
    return encode_id(eid) + (0x01 << 56 | len(payload)).to_bytes(8, "big") + payload


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--clusters", type=int, default=770)
    args = ap.parse_args()
    base = args.out.with_name(f"base-{BASE_SECONDS}s.webm")
    if not base.exists():
        cmd = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
               "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", str(BASE_SECONDS),
               "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "14M",
               "-minrate", "14M", "-maxrate", "14M", "-g", "30", "-an",
               "-cluster_time_limit", "1000", "-cluster_size_limit", "100000000",
               "-f", "webm", str(base) + ".part"]
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)
        os.replace(str(base) + ".part", base)
    data = base.read_bytes()
    top = list(elements(data, 0, len(data)))
    ebml_header = b"".join(data[s:e] for eid, s, _p, e in top if eid != SEGMENT)
    seg = next(t for t in top if t[0] == SEGMENT)
    head, clusters = b"", []
    for eid, s, p, e in elements(data, seg[2], seg[3]):
        if eid == INFO:
            head += element(INFO, b"".join(data[cs:ce] for cid, cs, _cp, ce in elements(data, p, e)
                                          if cid != DURATION))
        elif eid == TRACKS:
            head += data[s:e]
        elif eid == CLUSTER:
            kids = list(elements(data, p, e))
            tc = next(int.from_bytes(data[cp:ce], "big") for cid, _cs, cp, ce in kids if cid == TIMECODE)
            rest = b"".join(data[cs:ce] for cid, cs, _cp, ce in kids if cid != TIMECODE)
            clusters.append((tc, rest))
    period = BASE_SECONDS * 1000  # Cluster timecodes are in TimecodeScale units (1 ms, ffmpeg's default)
    tmp = args.out.with_name(args.out.name + ".part")
    with open(tmp, "wb") as f:
        f.write(ebml_header)
        f.write(encode_id(SEGMENT) + b"\x01\xff\xff\xff\xff\xff\xff\xff")  # unknown size
        f.write(head)
        for n in range(args.clusters):
            tc, rest = clusters[n % len(clusters)]
            tc += (n // len(clusters)) * period
            f.write(element(CLUSTER, element(TIMECODE, tc.to_bytes(8, "big")) + rest))
    os.replace(tmp, args.out)
    print(f"{args.out}: {args.out.stat().st_size / 1e9:.2f} GB, {args.clusters} clusters", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
