#!/usr/bin/env python3
"""Build a large fragmented MP4 for the validate benchmark, from ffmpeg's synthetic sources.

ffmpeg encodes BASE_SECONDS of 720p H.264 + AAC (testsrc2 + sine) with one fragment per second
(empty moov, default-base-is-moof). The fragments are then repeated, with every mfhd sequence_number and
tfdt baseMediaDecodeTime rewritten, until the file holds the requested number of fragments: a clean,
continuous stream of any size without hours of encoding. Written standalone (not with msetool's reader)
so the benchmark input does not depend on the code it measures.

  make_big_fmp4.py OUT --fragments 600
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
from pathlib import Path

BASE_SECONDS = 60


def ffmpeg() -> str:
    if os.environ.get("MSETOOL_FFMPEG"):
        return os.environ["MSETOOL_FFMPEG"]
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def boxes(data: bytes, start: int = 0, end: int | None = None):
    pos, end = start, len(data) if end is None else end
    while pos + 8 <= end:
        size, typ = struct.unpack_from(">I4s", data, pos)
        hdr = 8
        if size == 1:
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            hdr = 16
        elif size == 0:
            size = end - pos
        yield typ.decode("latin-1"), pos, hdr, size
        pos += size


def child(data: bytes, pos: int, hdr: int, size: int, want: str):
    for t, p, h, s in boxes(data, pos + hdr, pos + size):
        if t == want:
            yield p, h, s


def trex_defaults(moov: bytes) -> dict[int, int]:
    out = {}
    for t, p, h, s in boxes(moov):
        if t != "moov":
            continue
        for mp, mh, ms in child(moov, p, h, s, "mvex"):
            for xp, _xh, _xs in child(moov, mp, mh, ms, "trex"):
                track_id, _desc, dur = struct.unpack_from(">III", moov, xp + 12)
                out[track_id] = dur
    return out


def traf_info(moof: bytearray, trex: dict[int, int]):
    """Yield (tfdt_value_offset, tfdt_version, track_id, total_duration) per traf."""
    for mp, mh, ms in child(moof, 0, 8, len(moof), "traf"):
        track_id, default_dur, tfdt_at, tfdt_v, total = 0, 0, None, 0, 0
        for t, p, _h, _s in boxes(moof, mp + mh, mp + ms):
            if t == "tfhd":
                flags = struct.unpack_from(">I", moof, p + 8)[0] & 0xFFFFFF
                track_id = struct.unpack_from(">I", moof, p + 12)[0]
                q = p + 16
                if flags & 0x1:
                    q += 8
                if flags & 0x2:
                    q += 4
                default_dur = struct.unpack_from(">I", moof, q)[0] if flags & 0x8 else trex.get(track_id, 0)
            elif t == "tfdt":
                tfdt_v = moof[p + 8]
                tfdt_at = p + 12
            elif t == "trun":
                flags = struct.unpack_from(">I", moof, p + 8)[0] & 0xFFFFFF
                count = struct.unpack_from(">I", moof, p + 12)[0]
                q = p + 16 + (4 if flags & 0x1 else 0) + (4 if flags & 0x4 else 0)
                per = 4 * bin(flags & 0xF00).count("1")
                if flags & 0x100:
                    total += sum(struct.unpack_from(">I", moof, q + i * per)[0] for i in range(count))
                else:
                    total += default_dur * count
        yield tfdt_at, tfdt_v, track_id, total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--fragments", type=int, default=600)
    args = ap.parse_args()
    base = args.out.with_name("base-60s.mp4")
    if not base.exists():
        cmd = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
               "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
               "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(BASE_SECONDS),
               "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "14M", "-maxrate", "14M", "-bufsize", "14M",
               "-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-c:a", "aac", "-b:a", "128k",
               "-movflags", "+frag_keyframe+empty_moov+default_base_moof", str(base) + ".part.mp4"]
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)
        os.replace(str(base) + ".part.mp4", base)
    data = base.read_bytes()
    top = list(boxes(data))
    header = b"".join(data[p : p + s] for t, p, _h, s in top if t in ("ftyp", "moov"))
    trex = trex_defaults(b"".join(data[p : p + s] for t, p, _h, s in top if t == "moov"))
    pairs = []
    for i, (t, p, _h, s) in enumerate(top):
        if t == "moof":
            _t2, p2, _h2, s2 = top[i + 1]
            pairs.append((bytearray(data[p : p + s]), data[p2 : p2 + s2]))
    period: dict[int, int] = {}
    first: dict[int, int] = {}
    layout = []
    for moof, _ in pairs:
        infos = list(traf_info(moof, trex))
        layout.append(infos)
        for at, v, tid, total in infos:
            if at is not None:
                val = struct.unpack_from(">Q" if v else ">I", moof, at)[0]
                first.setdefault(tid, val)
            period[tid] = period.get(tid, 0) + total
    tmp = args.out.with_name(args.out.name + ".part")
    n = 0
    with open(tmp, "wb") as f:
        f.write(header)
        while n < args.fragments:
            rep = n // len(pairs)
            moof, mdat = pairs[n % len(pairs)]
            m = bytearray(moof)
            for mp, _mh, _ms in child(m, 0, 8, len(m), "mfhd"):
                struct.pack_into(">I", m, mp + 12, n + 1)
            for at, v, tid, _total in layout[n % len(pairs)]:
                if at is None:
                    continue
                val = struct.unpack_from(">Q" if v else ">I", m, at)[0] + rep * period[tid]
                struct.pack_into(">Q" if v else ">I", m, at, val)
            f.write(m)
            f.write(mdat)
            n += 1
    os.replace(tmp, args.out)
    print(f"{args.out}: {args.out.stat().st_size / 1e9:.2f} GB, {n} fragments", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
