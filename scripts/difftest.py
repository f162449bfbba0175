#!/usr/bin/env python3
"""Differential testing: msetool's simulator and validator against real headless Chromium on NEW cases.

  python scripts/difftest.py [--work DIR] [--only PREFIX] [--rerecord] [--confirm] [--list] [-v]

1. Generates a corpus of cases in the oracle's format (case.json + segment files) under ``--work``
   (default benchmarks/work/difftest, git-ignored): ffmpeg-made media (fMP4 H.264/AV1/VP9/AAC/Opus/FLAC/MP3,
   WebM VP9/VP8 + Opus/Vorbis, MPEG-2 TS, ADTS, MP3) cut into segments, plus byte surgery for the broken
   ones, and scenarios of every pattern (append windows, timestampOffset, sequence mode, remove, abort,
   changeType, duration, endOfStream, re-init, overlaps, out-of-order, ranges, several SourceBuffers).
2. Records each case in Chromium through msetool.browser (one browser, a new page per case) into
   ``golden/<case>.json``; a record is reused while its case.json and files are unchanged.
3. Runs the simulator (chromium profile) and the validator on each case and compares them with the browser
   exactly as the oracle's score.py does: per step, every attached source buffer's buffered ranges (ends
   within 1 ms), failed-or-not, MediaSource readyState and duration; validate: an error-severity finding in
   or before the file the browser rejected, none when the browser appended everything.
   ``python /work/shared/oracle/score.py simulate --cases WORK/cases --golden WORK/golden`` gives the same
   verdicts.

Prints one line per disagreement and the totals. --confirm re-records every disagreeing case with the
harness's default (slower, media-log-complete) settle times before reporting it, so a timing artefact of
the fast settle is not reported as a simulator bug.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import media  # noqa: E402

WORK = ROOT / "benchmarks" / "work" / "difftest"
T = TypeVar("T")
Ops = list[dict[str, Any]]

# ---------------------------------------------------------------------------------------------------------
# ffmpeg media (cached by argument hash in WORK/media)


def ff(name: str, args: list[str], suffix: str, multi: str | None = None) -> Path:
    """Run ffmpeg once per argument set. ``multi``: an output pattern (segment muxer); returns the folder."""
    key = hashlib.sha1(("\0".join(args) + suffix + (multi or "")).encode()).hexdigest()[:10]
    base = WORK / "media"
    base.mkdir(parents=True, exist_ok=True)
    if multi:
        out = base / f"{name}-{key}"
        if (out / ".done").exists():
            return out
        out.mkdir(exist_ok=True)
        cmd = [media.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args, str(out / multi)]
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)
        (out / ".done").write_text("")
        return out
    out = base / f"{name}-{key}{suffix}"
    if out.exists():
        return out
    tmp = out.with_name(out.stem + ".part" + suffix)
    cmd = [media.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args, str(tmp)]
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)
    tmp.replace(out)
    return out


def vsrc(rate: str, size: str = "320x180") -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}"]


def asrc(sr: int, ch: int = 1) -> list[str]:
    layout = "mono" if ch == 1 else "stereo"
    return [
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=440:sample_rate={sr}",
        "-ac",
        str(ch),
        "-channel_layout",
        layout,
    ]


def h264(gop: int, bf: int = 0, profile: str = "main") -> list[str]:
    return [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast" if bf == 0 else "veryfast",
        "-profile:v",
        profile,
        "-pix_fmt",
        "yuv420p",
        "-g",
        str(gop),
        "-keyint_min",
        str(gop),
        "-sc_threshold",
        "0",
        "-bf",
        str(bf),
    ]


FRAG_KEY = ["-movflags", "+frag_keyframe+empty_moov+default_base_moof"]
FRAG_1S = ["-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-frag_duration", "1000000"]
VP9 = ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k", "-row-mt", "0"]


# ---------------------------------------------------------------------------------------------------------
# byte helpers: ISO BMFF


CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf", b"edts", b"dinf"}


def boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, offset, size) of the boxes in data[start:end] (one level)."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, typ = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = end - pos
        if size < 8:
            return
        yield typ, pos, size
        pos += size


def find_box(data: bytes, path: str, nth: int = 0) -> tuple[int, int, list[int]]:
    """Offset and size of the box at ``path`` ("moof/traf/trun"; the nth match of the last element) and
    the offsets of its ancestors."""
    parts = [p.encode() for p in path.split("/")]
    hits: list[tuple[int, int, list[int]]] = []

    def walk(start: int, end: int, depth: int, anc: list[int]) -> None:
        for typ, off, size in boxes(data, start, end):
            if typ != parts[depth]:
                continue
            if depth == len(parts) - 1:
                hits.append((off, size, anc))
            elif typ in CONTAINERS:
                walk(off + 8, off + size, depth + 1, [*anc, off])

    walk(0, len(data), 0, [])
    if nth >= len(hits):
        raise KeyError(path)
    return hits[nth]


def _adjust_sizes(data: bytearray, ancestors: list[int], delta: int) -> None:
    for a in ancestors:
        size = struct.unpack(">I", data[a : a + 4])[0]
        data[a : a + 4] = struct.pack(">I", size + delta)


def _adjust_trun_offsets(data: bytearray, moof: int, delta: int) -> None:
    """A moof shrank or grew by delta before its mdat: shift every trun data_offset in it."""
    msize = struct.unpack(">I", data[moof : moof + 4])[0]
    for typ, off, size in boxes(bytes(data), moof + 8, moof + msize):
        if typ != b"traf":
            continue
        for t2, o2, _s2 in boxes(bytes(data), off + 8, off + size):
            if t2 == b"trun":
                flags = int.from_bytes(data[o2 + 9 : o2 + 12], "big")
                if flags & 1:
                    p = o2 + 16
                    v = struct.unpack(">i", data[p : p + 4])[0]
                    data[p : p + 4] = struct.pack(">i", v + delta)


def remove_box(data: bytes, path: str, nth: int = 0) -> bytes:
    off, size, anc = find_box(data, path, nth)
    out = bytearray(data[:off] + data[off + size :])
    _adjust_sizes(out, anc, -size)
    if anc and path.startswith("moof"):
        _adjust_trun_offsets(out, anc[0], -size)
    return bytes(out)


def patch(data: bytes, at: int, value: bytes) -> bytes:
    return data[:at] + value + data[at + len(value) :]


def split_fmp4(path: Path) -> tuple[bytes, list[bytes]]:
    """init (ftyp+moov) and one bytes object per moof+mdat pair."""
    data = path.read_bytes()
    init, segs, cur = b"", [], b""
    for typ, off, size in boxes(data):
        b = data[off : off + size]
        if typ in (b"ftyp", b"moov"):
            init += b
        elif typ == b"mfra":
            continue
        else:
            if typ in (b"styp", b"sidx", b"moof") and b"mdat" in cur:
                segs.append(cur)
                cur = b""
            cur += b
    if cur:
        segs.append(cur)
    return init, segs


def avc_codec(init: bytes) -> str:
    at = init.index(b"avcC") + 4
    return "avc1." + init[at + 1 : at + 4].hex().upper()


# ---------------------------------------------------------------------------------------------------------
# byte helpers: EBML (WebM)


def vint(data: bytes, pos: int) -> tuple[int, int, bool]:
    """(value, length, unknown) of the EBML variable-size integer at pos."""
    first = data[pos]
    n = 1
    while n <= 8 and not first & (0x80 >> (n - 1)):
        n += 1
    val = first & (0xFF >> n)
    for b in data[pos + 1 : pos + n]:
        val = (val << 8) | b
    return val, n, val == (1 << (7 * n)) - 1


def ebml_id(data: bytes, pos: int) -> tuple[int, int]:
    first = data[pos]
    n = 1
    while n <= 4 and not first & (0x80 >> (n - 1)):
        n += 1
    return int.from_bytes(data[pos : pos + n], "big"), n


SEGMENT, CLUSTER = 0x18538067, 0x1F43B675


def split_webm(path: Path) -> tuple[bytes, list[bytes]]:
    """init (EBML header + Segment header + everything before the first Cluster) and the clusters."""
    data = path.read_bytes()
    _eid, n = ebml_id(data, 0)
    size, sn, _ = vint(data, n)
    pos = n + sn + size
    sid, n = ebml_id(data, pos)
    assert sid == SEGMENT
    _, sn, _ = vint(data, pos + n)
    body = pos + n + sn
    # Segment size rewritten as unknown (8-byte), as a live stream would have it.
    init = bytearray(data[: pos + n] + bytes([0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]))
    clusters: list[bytes] = []
    p = body
    while p < len(data):
        cid, cn = ebml_id(data, p)
        csize, csn, _ = vint(data, p + cn)
        el = data[p : p + cn + csn + csize]
        if cid == CLUSTER:
            clusters.append(el)
        elif not clusters and cid not in (0x1C53BB6B, 0x1254C367):  # drop Cues and Tags
            init += el
        p += cn + csn + csize
    return bytes(init), clusters


def sort_cluster_blocks(cl: bytes) -> bytes:
    """The cluster with its SimpleBlocks in timecode order (stable): ffmpeg 9 may write an Opus block 1 ms
    after a video block ahead of it, which Chromium rejects ("a timecode before the previous block")."""
    _cid, cn = ebml_id(cl, 0)
    _size, sn, _ = vint(cl, cn)
    p = cn + sn
    head: list[bytes] = []
    blocks: list[tuple[int, bytes]] = []
    while p < len(cl):
        eid, en = ebml_id(cl, p)
        esz, esn, _ = vint(cl, p + en)
        el = cl[p : p + en + esn + esz]
        if eid == 0xA3:
            b = p + en + esn
            _tn, tl, _ = vint(cl, b)
            blocks.append((int.from_bytes(cl[b + tl : b + tl + 2], "big", signed=True), el))
        else:
            head.append(el)
        p += en + esn + esz
    blocks.sort(key=lambda x: x[0])
    return cl[: cn + sn] + b"".join(head) + b"".join(el for _, el in blocks)


def unknown_size_cluster(cl: bytes) -> bytes:
    _cid, cn = ebml_id(cl, 0)
    _size, sn, _ = vint(cl, cn)
    return cl[:cn] + bytes([0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) + cl[cn + sn :]


# ---------------------------------------------------------------------------------------------------------
# byte helpers: ADTS and MPEG audio frames


def adts_frames(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos + 7 <= len(data) and data[pos] == 0xFF and data[pos + 1] & 0xF0 == 0xF0:
        ln = ((data[pos + 3] & 3) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
        out.append(data[pos : pos + ln])
        pos += ln
    return out


MP3_BR = {
    1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
}
MP3_SR = {3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000]}


def mp3_frames(data: bytes) -> tuple[bytes, list[bytes]]:
    """(leading bytes before the first frame, e.g. an ID3 tag; the frames)."""
    pos = 0
    if data[:3] == b"ID3":
        sz = 0
        for b in data[6:10]:
            sz = (sz << 7) | b
        pos = 10 + sz
    lead = data[:pos]
    out = []
    while pos + 4 <= len(data) and data[pos] == 0xFF and data[pos + 1] & 0xE0 == 0xE0:
        ver = (data[pos + 1] >> 3) & 3
        bri = data[pos + 2] >> 4
        sri = (data[pos + 2] >> 2) & 3
        pad = (data[pos + 2] >> 1) & 1
        br = MP3_BR[1 if ver == 3 else 2][bri] * 1000
        sr = MP3_SR[ver][sri]
        ln = (144 * br // sr if ver == 3 else 72 * br // sr) + pad
        out.append(data[pos : pos + ln])
        pos += ln
    return lead, out


# ---------------------------------------------------------------------------------------------------------
# media sources


class Src:
    """Lazily made media, split in segments (bytes)."""

    _cache: ClassVar[dict[str, Any]] = {}

    @classmethod
    def get(cls, name: str, make: Callable[[], T]) -> T:
        if name not in cls._cache:
            cls._cache[name] = make()
        out: T = cls._cache[name]
        return out


def fmp4(name: str, args: list[str]) -> tuple[bytes, list[bytes]]:
    return Src.get(name, lambda: split_fmp4(ff(name, args, ".mp4")))


def avc30() -> tuple[bytes, list[bytes]]:  # 6 s, 2 s GOPs, no B-frames
    return fmp4("avc30", [*vsrc("30"), "-t", "6", *h264(60), "-an", *FRAG_KEY])


def avc_bf25() -> tuple[bytes, list[bytes]]:  # 4 s, 1 s GOPs, B-frames (ctts)
    return fmp4("avcbf25", [*vsrc("25"), "-t", "4", *h264(25, 2), "-an", *FRAG_KEY])


def avc24() -> tuple[bytes, list[bytes]]:
    return fmp4("avc24", [*vsrc("24"), "-t", "4", *h264(48, 0, "high"), "-an", *FRAG_KEY])


def avc2997() -> tuple[bytes, list[bytes]]:
    return fmp4("avc2997", [*vsrc("30000/1001"), "-t", "3", *h264(15, 1), "-an", *FRAG_KEY])


def avc60() -> tuple[bytes, list[bytes]]:
    return fmp4("avc60", [*vsrc("60", "160x90"), "-t", "3", *h264(60, 0, "baseline"), "-an", *FRAG_KEY])


def avc_aac() -> tuple[bytes, list[bytes]]:  # muxed, 1 s fragments
    return fmp4(
        "avcaac",
        [*vsrc("30"), *asrc(48000, 2), "-t", "4", *h264(30), "-c:a", "aac", "-b:a", "64k", *FRAG_KEY],
    )


def avcbf_aac44() -> tuple[bytes, list[bytes]]:  # muxed B-frames + 44.1 kHz
    return fmp4(
        "avcbfaac44",
        [*vsrc("25"), *asrc(44100), "-t", "4", *h264(50, 3), "-c:a", "aac", "-b:a", "48k", *FRAG_KEY],
    )


def aac(sr: int) -> tuple[bytes, list[bytes]]:
    return fmp4(f"aac{sr}", [*asrc(sr, 2), "-t", "4", "-c:a", "aac", "-b:a", "64k", "-vn", *FRAG_1S])


def opus_mp4() -> tuple[bytes, list[bytes]]:
    return fmp4("opus", [*asrc(48000, 2), "-t", "4", "-c:a", "libopus", "-b:a", "48k", "-vn", *FRAG_1S])


def flac_mp4() -> tuple[bytes, list[bytes]]:
    return fmp4("flac", [*asrc(44100), "-t", "3", "-c:a", "flac", "-vn", "-strict", "-2", *FRAG_1S])


def mp3_mp4() -> tuple[bytes, list[bytes]]:
    return fmp4("mp3mp4", [*asrc(44100, 2), "-t", "3", "-c:a", "libmp3lame", "-b:a", "96k", "-vn", *FRAG_1S])


#: 3 s of 160x90 AV1 (libaom realtime, 1 s GOP), video only: shared by the MP4 and WebM AV1 cases.
AV1_3S = ["-c:v", "libaom-av1", "-cpu-used", "8", "-usage", "realtime", "-b:v", "100k",
          "-g", "30", "-keyint_min", "30", "-an", "-t", "3"]


def av1_mp4() -> tuple[bytes, list[bytes]]:
    return fmp4(
        "av1",
        [
            *vsrc("30", "160x90"),
            *AV1_3S,
            "-movflags",
            "+frag_keyframe+empty_moov+default_base_moof+delay_moov",
        ],
    )


def vp9_mp4() -> tuple[bytes, list[bytes]]:
    return fmp4("vp9mp4", [*vsrc("30"), "-t", "4", *VP9, "-g", "30", "-keyint_min", "30", "-an", *FRAG_KEY])


def webm(name: str, args: list[str], dash: bool = True) -> tuple[bytes, list[bytes]]:
    """``dash``: single-stream files start a cluster at every keyframe; muxed ones use a time limit."""
    extra = ["-dash", "1"] if dash else ["-cluster_time_limit", "999"]

    def make() -> tuple[bytes, list[bytes]]:
        init, clusters = split_webm(ff(name, [*args, "-f", "webm", *extra], ".webm"))
        return init, clusters if dash else [sort_cluster_blocks(c) for c in clusters]

    return Src.get(name, make)


def webm_vp9_opus() -> tuple[bytes, list[bytes]]:
    return webm(
        "vp9opus",
        [
            *vsrc("30"),
            *asrc(48000, 2),
            "-t",
            "4",
            *VP9,
            "-g",
            "30",
            "-keyint_min",
            "30",
            "-c:a",
            "libopus",
            "-b:a",
            "48k",
        ],
        dash=False,
    )


def webm_vp9_opus_raw() -> tuple[bytes, list[bytes]]:
    """ffmpeg's own block order (an Opus block 1 ms late ahead of a video block): Chromium rejects it."""
    return Src.get(
        "vp9opusraw",
        lambda: split_webm(
            ff(
                "vp9opus",
                [
                    *vsrc("30"),
                    *asrc(48000, 2),
                    "-t",
                    "4",
                    *VP9,
                    "-g",
                    "30",
                    "-keyint_min",
                    "30",
                    "-c:a",
                    "libopus",
                    "-b:a",
                    "48k",
                    "-f",
                    "webm",
                    "-cluster_time_limit",
                    "999",
                ],
                ".webm",
            )
        ),
    )


def webm_vp8_vorbis() -> tuple[bytes, list[bytes]]:
    return webm(
        "vp8vorbis",
        [
            *vsrc("25"),
            *asrc(44100, 2),
            "-t",
            "4",
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "200k",
            "-g",
            "25",
            "-keyint_min",
            "25",
            "-c:a",
            "libvorbis",
            "-q:a",
            "2",
        ],
        dash=False,
    )


def webm_opus() -> tuple[bytes, list[bytes]]:
    return webm("opusonly", [*asrc(48000, 2), "-t", "4", "-c:a", "libopus", "-b:a", "48k"], dash=False)


def webm_vp9() -> tuple[bytes, list[bytes]]:
    return webm("vp9only", [*vsrc("30"), "-t", "4", *VP9, "-g", "30", "-keyint_min", "30", "-an"])


def ts(name: str, args: list[str]) -> list[bytes]:
    def make() -> list[bytes]:
        d = ff(
            name,
            [*args, "-f", "segment", "-segment_time", "1", "-segment_format", "mpegts"],
            ".ts",
            multi="seg%d.ts",
        )
        return [p.read_bytes() for p in sorted(d.glob("seg*.ts"), key=lambda p: int(p.stem[3:]))]

    return Src.get(name, make)


def ts_avc_aac() -> list[bytes]:
    return ts("tsavcaac", [*vsrc("30"), *asrc(48000, 2), "-t", "4", *h264(30), "-c:a", "aac", "-b:a", "64k"])


def ts_avc_aac_offset() -> list[bytes]:  # PTS start 10 s (plus the muxer's 1.4 s), B-frames
    return ts(
        "tsoff",
        [
            *vsrc("25"),
            *asrc(44100),
            "-t",
            "3",
            *h264(25, 2),
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            "-output_ts_offset",
            "10",
        ],
    )


def ts_avc_only() -> list[bytes]:
    return ts("tsavc", [*vsrc("30"), "-t", "3", *h264(30), "-an", "-muxdelay", "0"])


def adts(sr: int) -> list[bytes]:
    return Src.get(
        f"adts{sr}",
        lambda: adts_frames(
            ff(
                f"adts{sr}", [*asrc(sr, 2), "-t", "4", "-c:a", "aac", "-b:a", "64k", "-f", "adts"], ".aac"
            ).read_bytes()
        ),
    )


def mp3(id3: bool, sr: int = 44100) -> tuple[bytes, list[bytes]]:
    args = [*asrc(sr, 2), "-t", "4", "-c:a", "libmp3lame", "-b:a", "128k", "-write_xing", "0", "-f", "mp3"]
    if not id3:
        args[-2:-2] = ["-id3v2_version", "0"]
    name = f"mp3{sr}{'id3' if id3 else ''}"
    return Src.get(name, lambda: mp3_frames(ff(name, args, ".mp3").read_bytes()))


# ---------------------------------------------------------------------------------------------------------
# cases

T_AVC = 'video/mp4; codecs="{}"'
CASES: dict[str, Callable[[], dict[str, Any]]] = {}


def case(name: str, category: str, description: str) -> Callable[[Callable[..., dict[str, Any]]], Any]:
    """Register a case builder (a lambda may bind loop variables through default arguments)."""

    def deco(fn: Callable[..., dict[str, Any]]) -> Any:
        def build() -> dict[str, Any]:
            out = fn()
            out.setdefault("id", name)
            out["category"] = category
            out["description"] = description
            return out

        CASES[name] = build
        return fn

    return deco


def sb(type_: str, id_: str = "sb0") -> dict[str, str]:
    return {"id": id_, "type": type_}


def ap(file: str, **kw: Any) -> dict[str, Any]:
    return {"op": "append", "file": file, **kw}


def segfiles(
    init: bytes, segs: list[bytes], prefix: str = "", ext: str = ".m4s", iext: str = ".mp4"
) -> dict[str, bytes]:
    out = {f"{prefix}init{iext}": init}
    for i, s in enumerate(segs, 1):
        out[f"{prefix}seg{i}{ext}"] = s
    return out


def inorder(n: int, prefix: str = "", ext: str = ".m4s", iext: str = ".mp4", sbid: str | None = None) -> Ops:
    kw = {"sb": sbid} if sbid else {}
    return [ap(f"{prefix}init{iext}", **kw)] + [ap(f"{prefix}seg{i}{ext}", **kw) for i in range(1, n + 1)]


def video_case(src: Callable[[], tuple[bytes, list[bytes]]], ops: Callable[[int], Ops]) -> dict[str, Any]:
    init, segs = src()
    return {
        "sourceBuffers": [sb(T_AVC.format(avc_codec(init)))],
        "ops": ops(len(segs)),
        "files": segfiles(init, segs),
    }


# --- fmp4 -------------------------------------------------------------------------------------------------

for _n, _src, _d in [
    ("fmp4_avc30_inorder", avc30, "H.264 30 fps, 2 s GOP, no B-frames, in order, endOfStream"),
    ("fmp4_avc_bf25_inorder", avc_bf25, "H.264 25 fps with B-frames (ctts), 1 s GOP, in order, endOfStream"),
    ("fmp4_avc24_high", avc24, "H.264 High 24 fps, 2 s GOP, in order, endOfStream"),
    ("fmp4_avc2997_bf1", avc2997, "H.264 29.97 fps, 0.5 s GOP, 1 B-frame, in order, endOfStream"),
    ("fmp4_avc60_baseline", avc60, "H.264 Baseline 60 fps 160x90, in order, endOfStream"),
]:
    case(_n, "fmp4", _d)(lambda s=_src: video_case(s, lambda n: [*inorder(n), {"op": "endOfStream"}]))


@case("fmp4_avc_aac_muxed_1s", "fmp4", "H.264+AAC 48 kHz stereo muxed, 1 s fragments, in order, endOfStream")
def _c1() -> dict[str, Any]:
    init, segs = avc_aac()
    return {
        "sourceBuffers": [sb(f'video/mp4; codecs="{avc_codec(init)},mp4a.40.2"')],
        "ops": [*inorder(len(segs)), {"op": "endOfStream"}],
        "files": segfiles(init, segs),
    }


@case("fmp4_avcbf_aac44_muxed", "fmp4", "H.264 B-frames 25 fps + AAC 44.1 kHz mono muxed, in order")
def _c2() -> dict[str, Any]:
    init, segs = avcbf_aac44()
    return {
        "sourceBuffers": [sb(f'video/mp4; codecs="{avc_codec(init)},mp4a.40.2"')],
        "ops": [*inorder(len(segs)), {"op": "endOfStream"}],
        "files": segfiles(init, segs),
    }


for _sr in (44100, 48000):
    case(f"fmp4_aac{_sr}_inorder", "fmp4", f"AAC-LC {_sr} Hz stereo audio-only fMP4, 1 s fragments")(
        lambda sr=_sr: {
            "sourceBuffers": [sb('audio/mp4; codecs="mp4a.40.2"')],
            "ops": [*inorder(len(aac(sr)[1])), {"op": "endOfStream"}],
            "files": segfiles(*aac(sr)),
        }
    )

for _n, _src, _codec, _d in [
    ("fmp4_opus_1s", opus_mp4, "opus", "Opus in fMP4, 1 s fragments"),
    ("fmp4_flac", flac_mp4, "flac", "FLAC in fMP4 44.1 kHz mono"),
    ("fmp4_mp3", mp3_mp4, "mp4a.6B", "MP3 in fMP4 (mp4a.6B)"),
]:
    case(_n, "fmp4", _d)(
        lambda s=_src, c=_codec: {
            "sourceBuffers": [sb(f'audio/mp4; codecs="{c}"')],
            "ops": [*inorder(len(s()[1])), {"op": "endOfStream"}],
            "files": segfiles(*s()),
        }
    )

case("fmp4_av1_160", "fmp4", "AV1 (libaom realtime) 160x90 fMP4, 1 s GOP")(
    lambda: {
        "sourceBuffers": [sb('video/mp4; codecs="av01.0.00M.08"')],
        "ops": [*inorder(len(av1_mp4()[1])), {"op": "endOfStream"}],
        "files": segfiles(*av1_mp4()),
    }
)
case("fmp4_vp9", "fmp4", "VP9 in fMP4, 1 s GOP")(
    lambda: {
        "sourceBuffers": [sb('video/mp4; codecs="vp09.00.10.08"')],
        "ops": [*inorder(len(vp9_mp4()[1])), {"op": "endOfStream"}],
        "files": segfiles(*vp9_mp4()),
    }
)


@case(
    "fmp4_separate_sb_interleaved",
    "fmp4",
    "video (6 s) and AAC 44.1k (4 s) in two SourceBuffers, interleaved, endOfStream (duration = the longer)",
)
def _c3() -> dict[str, Any]:
    vi, vs = avc30()
    ai, as_ = aac(44100)
    files = {**segfiles(vi, vs, "v_"), **segfiles(ai, as_, "a_")}
    ops: Ops = [ap("v_init.mp4", sb="v"), ap("a_init.mp4", sb="a")]
    for i in range(max(len(vs), len(as_))):
        if i < len(vs):
            ops.append(ap(f"v_seg{i + 1}.m4s", sb="v"))
        if i < len(as_):
            ops.append(ap(f"a_seg{i + 1}.m4s", sb="a"))
    ops.append({"op": "endOfStream"})
    return {
        "sourceBuffers": [sb(T_AVC.format(avc_codec(vi)), "v"), sb('audio/mp4; codecs="mp4a.40.2"', "a")],
        "ops": ops,
        "files": files,
    }


@case("fmp4_multi_segments_one_append", "fmp4", "init+seg1 in one append, seg2+seg3 in one append")
def _c4() -> dict[str, Any]:
    init, segs = avc30()
    return {
        "sourceBuffers": [sb(T_AVC.format(avc_codec(init)))],
        "ops": [ap("a.mp4"), ap("b.m4s")],
        "files": {"a.mp4": init + segs[0], "b.m4s": segs[1] + segs[2]},
    }


@case(
    "fmp4_segment_split_ranges",
    "fmp4",
    "muxed seg2 appended in 4 ranges: inside moof header, inside trun, inside mdat, rest",
)
def _c5() -> dict[str, Any]:
    init, segs = avc_aac()
    s = segs[1]
    cuts = [0, 5, 60, 700, len(s) // 2, len(s)]
    ops = [ap("init.mp4"), ap("seg1.m4s")]
    ops += [ap("seg2.m4s", range=[a, b]) for a, b in itertools.pairwise(cuts)]
    ops.append(ap("seg3.m4s"))
    return {
        "sourceBuffers": [sb(f'video/mp4; codecs="{avc_codec(init)},mp4a.40.2"')],
        "ops": ops,
        "files": segfiles(init, segs),
    }


@case("fmp4_bf_out_of_order", "fmp4", "B-frame H.264 segments 3,1,4,2 (segments mode)")
def _c6() -> dict[str, Any]:
    return video_case(
        avc_bf25, lambda n: [ap("init.mp4"), ap("seg3.m4s"), ap("seg1.m4s"), ap("seg4.m4s"), ap("seg2.m4s")]
    )


@case("fmp4_aac_out_of_order", "fmp4", "AAC 48k segments 4,2,1,3")
def _c7() -> dict[str, Any]:
    init, segs = aac(48000)
    return {
        "sourceBuffers": [sb('audio/mp4; codecs="mp4a.40.2"')],
        "ops": [ap("init.mp4"), ap("seg4.m4s"), ap("seg2.m4s"), ap("seg1.m4s"), ap("seg3.m4s")],
        "files": segfiles(init, segs),
    }


# --- webm -------------------------------------------------------------------------------------------------

for _n, _src, _t, _d in [
    ("webm_vp9_opus_1s", webm_vp9_opus, 'video/webm; codecs="vp9,opus"', "VP9+Opus WebM, 1 s clusters"),
    ("webm_vp8_vorbis", webm_vp8_vorbis, 'video/webm; codecs="vp8,vorbis"', "VP8+Vorbis WebM 25 fps, 44.1k"),
    ("webm_opus_audio", webm_opus, 'audio/webm; codecs="opus"', "Opus-only WebM, 1 s clusters"),
    ("webm_vp9_video", webm_vp9, 'video/webm; codecs="vp9"', "VP9-only WebM, 1 s clusters"),
]:
    case(_n, "webm", _d)(
        lambda s=_src, t=_t: {
            "sourceBuffers": [sb(t)],
            "ops": [*inorder(len(s()[1]), ext=".webm", iext=".webm"), {"op": "endOfStream"}],
            "files": segfiles(s()[0], s()[1], ext=".webm", iext=".webm"),
        }
    )


@case(
    "webm_vp8_vorbis_unknown_gap", "webm", "VP8+Vorbis, unknown-size clusters, cluster 2 skipped, endOfStream"
)
def _w1() -> dict[str, Any]:
    init, cl = webm_vp8_vorbis()
    cl = [unknown_size_cluster(c) for c in cl]
    return {
        "sourceBuffers": [sb('video/webm; codecs="vp8,vorbis"')],
        "ops": [ap("init.webm"), ap("seg1.webm"), ap("seg3.webm"), ap("seg4.webm"), {"op": "endOfStream"}],
        "files": segfiles(init, cl, ext=".webm", iext=".webm"),
    }


@case("webm_opus_unknown_ranges", "webm", "Opus WebM unknown-size clusters, cluster 2 split in 3 ranges")
def _w2() -> dict[str, Any]:
    init, cl = webm_opus()
    cl = [unknown_size_cluster(c) for c in cl]
    n = len(cl[1])
    return {
        "sourceBuffers": [sb('audio/webm; codecs="opus"')],
        "ops": [
            ap("init.webm"),
            ap("seg1.webm"),
            ap("seg2.webm", range=[0, 7]),
            ap("seg2.webm", range=[7, n // 2]),
            ap("seg2.webm", range=[n // 2, n]),
            ap("seg3.webm"),
        ],
        "files": segfiles(init, cl, ext=".webm", iext=".webm"),
    }


@case("webm_vp9_opus_out_of_order", "webm", "VP9+Opus clusters 3,1,2 then timestampOffset=10 and cluster 4")
def _w3() -> dict[str, Any]:
    init, cl = webm_vp9_opus()
    return {
        "sourceBuffers": [sb('video/webm; codecs="vp9,opus"')],
        "ops": [
            ap("init.webm"),
            ap("seg3.webm"),
            ap("seg1.webm"),
            ap("seg2.webm"),
            {"op": "set", "timestampOffset": 10},
            ap("seg4.webm"),
        ],
        "files": segfiles(init, cl, ext=".webm", iext=".webm"),
    }


@case("webm_opus_sequence", "webm", "Opus WebM in sequence mode: clusters 3,1 then timestampOffset=0.5, 2")
def _w4() -> dict[str, Any]:
    init, cl = webm_opus()
    return {
        "sourceBuffers": [sb('audio/webm; codecs="opus"')],
        "ops": [
            {"op": "set", "mode": "sequence"},
            ap("init.webm"),
            ap("seg3.webm"),
            ap("seg1.webm"),
            {"op": "set", "timestampOffset": 0.5},
            ap("seg2.webm"),
        ],
        "files": segfiles(init, cl, ext=".webm", iext=".webm"),
    }


@case("webm_vp9_multi_clusters_append", "webm", "init+cluster1+cluster2 in one append, then clusters 3+4")
def _w5() -> dict[str, Any]:
    init, cl = webm_vp9()
    return {
        "sourceBuffers": [sb('video/webm; codecs="vp9"')],
        "ops": [ap("a.webm"), ap("b.webm"), {"op": "remove", "start": 1.5, "end": 2.5}],
        "files": {"a.webm": init + cl[0] + cl[1], "b.webm": b"".join(cl[2:4])},
    }


case(
    "webm_vp9_opus_ffmpeg_interleave",
    "webm",
    "VP9+Opus as ffmpeg 9 interleaves it (block timecodes not monotonic across tracks)",
)(
    lambda: {
        "sourceBuffers": [sb('video/webm; codecs="vp9,opus"')],
        "ops": inorder(3, ext=".webm", iext=".webm"),
        "files": segfiles(*webm_vp9_opus_raw(), ext=".webm", iext=".webm"),
    }
)

# --- ts ---------------------------------------------------------------------------------------------------

TS_AV = 'video/mp2t; codecs="avc1.4D401E,mp4a.40.2"'


def ts_files(segs: list[bytes]) -> dict[str, bytes]:
    return {f"seg{i}.ts": s for i, s in enumerate(segs, 1)}


@case("ts_avc_aac_1s_inorder", "ts", "TS H.264+AAC 1 s segments, in order, endOfStream")
def _t1() -> dict[str, Any]:
    s = ts_avc_aac()
    return {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [ap(f"seg{i}.ts") for i in range(1, len(s) + 1)] + [{"op": "endOfStream"}],
        "files": ts_files(s),
    }


@case("ts_offset10_bframes", "ts", "TS H.264 B-frames + AAC 44.1k, PTS start ~11.4 s, segments 2,1,3")
def _t2() -> dict[str, Any]:
    s = ts_avc_aac_offset()
    return {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [ap("seg2.ts"), ap("seg1.ts"), ap("seg3.ts")],
        "files": ts_files(s),
    }


@case("ts_avc_only_tso", "ts", "TS H.264 only, muxdelay 0, timestampOffset=-0.5 then segments")
def _t3() -> dict[str, Any]:
    s = ts_avc_only()
    return {
        "sourceBuffers": [sb('video/mp2t; codecs="avc1.4D401E"')],
        "ops": [{"op": "set", "timestampOffset": -0.5}] + [ap(f"seg{i}.ts") for i in range(1, len(s) + 1)],
        "files": ts_files(s),
    }


@case("ts_sequence_mode", "ts", "TS H.264+AAC in sequence mode, segments 3,1,2")
def _t4() -> dict[str, Any]:
    s = ts_avc_aac()
    return {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [{"op": "set", "mode": "sequence"}, ap("seg3.ts"), ap("seg1.ts"), ap("seg2.ts")],
        "files": ts_files(s),
    }


@case("ts_split_ranges_remove", "ts", "TS seg2 in 3 ranges (one mid-packet), then remove(0.5, 1.5)")
def _t5() -> dict[str, Any]:
    s = ts_avc_aac()
    n = len(s[1])
    return {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [
            ap("seg1.ts"),
            ap("seg2.ts", range=[0, 1000]),
            ap("seg2.ts", range=[1000, n // 2]),
            ap("seg2.ts", range=[n // 2, n]),
            ap("seg3.ts"),
            {"op": "remove", "start": 0.5, "end": 1.5},
        ],
        "files": ts_files(s),
    }


@case("ts_abort_midsegment", "ts", "TS seg1, half of seg2, abort, seg3, seg2")
def _t6() -> dict[str, Any]:
    s = ts_avc_aac()
    return {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [
            ap("seg1.ts"),
            ap("seg2.ts", range=[0, (len(s[1]) // 376) * 188]),
            {"op": "abort"},
            ap("seg3.ts"),
            ap("seg2.ts"),
        ],
        "files": ts_files(s),
    }


# --- adts / mp3 -------------------------------------------------------------------------------------------


def chunks(frames: list[bytes], n: int) -> list[bytes]:
    per = (len(frames) + n - 1) // n
    return [b"".join(frames[i : i + per]) for i in range(0, len(frames), per)]


for _sr in (44100, 48000):
    case(f"adts_aac{_sr}_inorder", "adts_mp3", f"ADTS AAC {_sr} Hz in 4 frame-aligned appends, endOfStream")(
        lambda sr=_sr: {
            "sourceBuffers": [sb("audio/aac")],
            "ops": [ap(f"part{i}.aac") for i in range(1, 5)] + [{"op": "endOfStream"}],
            "files": {f"part{i}.aac": c for i, c in enumerate(chunks(adts(sr), 4), 1)},
        }
    )


@case("adts_unaligned_parts", "adts_mp3", "ADTS AAC 44.1k cut at arbitrary bytes (frames span appends)")
def _a1() -> dict[str, Any]:
    data = b"".join(adts(44100))
    n = len(data)
    return {
        "sourceBuffers": [sb("audio/aac")],
        "ops": [ap("all.aac", range=[a, b]) for a, b in [(0, 3), (3, 1001), (1001, n // 2), (n // 2, n)]],
        "files": {"all.aac": data},
    }


@case("adts_sequence_tso", "adts_mp3", "ADTS in sequence mode: part3, part1, timestampOffset=10, part2")
def _a2() -> dict[str, Any]:
    parts = chunks(adts(48000), 4)
    return {
        "sourceBuffers": [sb("audio/aac")],
        "ops": [
            {"op": "set", "mode": "sequence"},
            ap("part3.aac"),
            ap("part1.aac"),
            {"op": "set", "timestampOffset": 10},
            ap("part2.aac"),
        ],
        "files": {f"part{i}.aac": c for i, c in enumerate(parts, 1)},
    }


@case(
    "adts_segments_tso",
    "adts_mp3",
    "ADTS segments mode: timestampOffset=2.5 part1, timestampOffset=0.3 part2 (overlap), remove(1.0, 1.5)",
)
def _a3() -> dict[str, Any]:
    parts = chunks(adts(44100), 4)
    return {
        "sourceBuffers": [sb("audio/aac")],
        "ops": [
            {"op": "set", "timestampOffset": 2.5},
            ap("part1.aac"),
            {"op": "set", "timestampOffset": 0.3},
            ap("part2.aac"),
            {"op": "remove", "start": 1.0, "end": 1.5},
        ],
        "files": {f"part{i}.aac": c for i, c in enumerate(parts, 1)},
    }


@case("mp3_id3_inorder", "adts_mp3", "MP3 44.1k with an ID3v2 tag first, 4 appends, endOfStream")
def _m1() -> dict[str, Any]:
    lead, frames = mp3(True)
    parts = chunks(frames, 4)
    parts[0] = lead + parts[0]
    return {
        "sourceBuffers": [sb("audio/mpeg")],
        "ops": [ap(f"part{i}.mp3") for i in range(1, 5)] + [{"op": "endOfStream"}],
        "files": {f"part{i}.mp3": c for i, c in enumerate(parts, 1)},
    }


@case(
    "mp3_48k_unaligned_sequence",
    "adts_mp3",
    "MP3 48 kHz cut at arbitrary bytes, sequence mode, timestampOffset=1.25",
)
def _m2() -> dict[str, Any]:
    _lead, frames = mp3(False, 48000)
    data = b"".join(frames)
    n = len(data)
    return {
        "sourceBuffers": [sb("audio/mpeg")],
        "ops": [{"op": "set", "mode": "sequence"}, {"op": "set", "timestampOffset": 1.25}]
        + [ap("all.mp3", range=[a, b]) for a, b in [(0, 500), (500, n // 3), (n // 3, n)]],
        "files": {"all.mp3": data},
    }


@case(
    "mp3_appendwindow", "adts_mp3", "MP3 appendWindowStart=0.5 appendWindowEnd=2.01, all, then remove(1,1.2)"
)
def _m3() -> dict[str, Any]:
    _lead, frames = mp3(False)
    return {
        "sourceBuffers": [sb("audio/mpeg")],
        "ops": [
            {"op": "set", "appendWindowStart": 0.5, "appendWindowEnd": 2.01},
            ap("all.mp3"),
            {"op": "remove", "start": 1, "end": 1.2},
        ],
        "files": {"all.mp3": b"".join(frames)},
    }


# --- patterns ---------------------------------------------------------------------------------------------


def aac_case(sr: int, ops: Ops) -> dict[str, Any]:
    init, segs = aac(sr)
    return {"sourceBuffers": [sb('audio/mp4; codecs="mp4a.40.2"')], "ops": ops, "files": segfiles(init, segs)}


def mux_case(ops: Ops) -> dict[str, Any]:
    init, segs = avc_aac()
    return {
        "sourceBuffers": [sb(f'video/mp4; codecs="{avc_codec(init)},mp4a.40.2"')],
        "ops": ops,
        "files": segfiles(init, segs),
    }


def v_case(ops: Ops, src: Callable[[], tuple[bytes, list[bytes]]] = avc30) -> dict[str, Any]:
    init, segs = src()
    return {"sourceBuffers": [sb(T_AVC.format(avc_codec(init)))], "ops": ops, "files": segfiles(init, segs)}


ALL4 = [ap("init.mp4"), ap("seg1.m4s"), ap("seg2.m4s"), ap("seg3.m4s"), ap("seg4.m4s")]
ALL3 = [ap("init.mp4"), ap("seg1.m4s"), ap("seg2.m4s"), ap("seg3.m4s")]

case("pat_aw_audio_partial", "pattern", "AAC 48k: appendWindowStart=0.51, appendWindowEnd=2.3 (mid-frame)")(
    lambda: aac_case(48000, [{"op": "set", "appendWindowStart": 0.51, "appendWindowEnd": 2.3}, *ALL4])
)
case("pat_aw_audio44_start_only", "pattern", "AAC 44.1k: appendWindowStart=1.0101 then all")(
    lambda: aac_case(44100, [{"op": "set", "appendWindowStart": 1.0101}, *ALL4])
)
case("pat_aw_muxed", "pattern", "H.264+AAC muxed: appendWindowStart=0.7 appendWindowEnd=2.9")(
    lambda: mux_case([{"op": "set", "appendWindowStart": 0.7, "appendWindowEnd": 2.9}, *ALL4])
)
case(
    "pat_aw_video_keyframe_start", "pattern", "video: appendWindowStart=2.0 (a keyframe), appendWindowEnd=4.5"
)(lambda: v_case([{"op": "set", "appendWindowStart": 2.0, "appendWindowEnd": 4.5}, *ALL3]))
case("pat_aw_bframes", "pattern", "B-frame video: appendWindowStart=0.5, appendWindowEnd=2.52")(
    lambda: v_case([{"op": "set", "appendWindowStart": 0.5, "appendWindowEnd": 2.52}, *ALL4], avc_bf25)
)
case("pat_aw_opus", "pattern", "Opus fMP4: appendWindowStart=0.3, appendWindowEnd=1.77")(
    lambda: {
        "sourceBuffers": [sb('audio/mp4; codecs="opus"')],
        "ops": [{"op": "set", "appendWindowStart": 0.3, "appendWindowEnd": 1.77}, *ALL4],
        "files": segfiles(*opus_mp4()),
    }
)
case("pat_aw_change_between", "pattern", "AAC: window [0,1.5) seg1+seg2, then window [1.5,inf) seg2 again")(
    lambda: aac_case(
        48000,
        [
            ap("init.mp4"),
            {"op": "set", "appendWindowEnd": 1.5},
            ap("seg1.m4s"),
            ap("seg2.m4s"),
            {"op": "set", "appendWindowEnd": "Infinity"},
            {"op": "set", "appendWindowStart": 1.5},
            ap("seg2.m4s"),
            ap("seg3.m4s"),
        ],
    )
)
case("pat_aw_invalid", "pattern", "appendWindowEnd <= appendWindowStart throws; NaN end; negative start")(
    lambda: v_case(
        [
            ap("init.mp4"),
            {"op": "set", "appendWindowStart": 2},
            {"op": "set", "appendWindowEnd": 1},
            {"op": "set", "appendWindowEnd": "NaN"},
            {"op": "set", "appendWindowStart": -1},
            ap("seg1.m4s"),
        ]
    )
)

case("pat_tso_negative", "pattern", "video timestampOffset=-1.0 then seg1..3 (frames before 0)")(
    lambda: v_case([{"op": "set", "timestampOffset": -1.0}, *ALL3])
)
case("pat_tso_fractional_audio", "pattern", "AAC timestampOffset=0.0123 then all, timestampOffset=7.77 seg1")(
    lambda: aac_case(
        44100,
        [
            {"op": "set", "timestampOffset": 0.0123},
            *ALL4,
            {"op": "set", "timestampOffset": 7.77},
            ap("seg1.m4s"),
        ],
    )
)
case("pat_tso_fractional_muxed", "pattern", "muxed timestampOffset=1/3 then seg2, seg1")(
    lambda: mux_case(
        [{"op": "set", "timestampOffset": 0.3333333}, ap("init.mp4"), ap("seg2.m4s"), ap("seg1.m4s")]
    )
)
case("pat_tso_bframes_negative", "pattern", "B-frames, timestampOffset=-0.04 (one frame) then all")(
    lambda: v_case([{"op": "set", "timestampOffset": -0.04}, *ALL4], avc_bf25)
)
case("pat_sequence_muxed", "pattern", "muxed A/V in sequence mode: segments 3,1,4,2")(
    lambda: mux_case(
        [
            {"op": "set", "mode": "sequence"},
            ap("init.mp4"),
            ap("seg3.m4s"),
            ap("seg1.m4s"),
            ap("seg4.m4s"),
            ap("seg2.m4s"),
        ]
    )
)
case(
    "pat_sequence_tso_mid",
    "pattern",
    "sequence mode video: seg2, timestampOffset=10, seg1, mode=segments, seg3",
)(
    lambda: v_case(
        [
            {"op": "set", "mode": "sequence"},
            ap("init.mp4"),
            ap("seg2.m4s"),
            {"op": "set", "timestampOffset": 10},
            ap("seg1.m4s"),
            {"op": "set", "mode": "segments"},
            ap("seg3.m4s"),
        ]
    )
)
case(
    "pat_sequence_audio_aw", "pattern", "AAC sequence mode with appendWindowEnd=2.2: seg3, seg1, seg2, seg4"
)(
    lambda: aac_case(
        48000,
        [
            {"op": "set", "mode": "sequence"},
            {"op": "set", "appendWindowEnd": 2.2},
            ap("init.mp4"),
            ap("seg3.m4s"),
            ap("seg1.m4s"),
            ap("seg2.m4s"),
            ap("seg4.m4s"),
        ],
    )
)
case("pat_sequence_bframes", "pattern", "B-frame video sequence mode: seg4, seg2, abort, seg3")(
    lambda: v_case(
        [
            {"op": "set", "mode": "sequence"},
            ap("init.mp4"),
            ap("seg4.m4s"),
            ap("seg2.m4s"),
            {"op": "abort"},
            ap("seg3.m4s"),
        ],
        avc_bf25,
    )
)

case("pat_remove_variety_video", "pattern", "video 0..6: remove(0,1), remove(2.5,3.1), remove(5,Infinity)")(
    lambda: v_case(
        [
            *ALL3,
            {"op": "remove", "start": 0, "end": 1},
            {"op": "remove", "start": 2.5, "end": 3.1},
            {"op": "remove", "start": 5, "end": "Infinity"},
        ]
    )
)
case("pat_remove_audio_mid", "pattern", "AAC: remove(1.01, 2.02), remove(0, 0.5), remove(3.99, 4.5)")(
    lambda: aac_case(
        48000,
        [
            *ALL4,
            {"op": "remove", "start": 1.01, "end": 2.02},
            {"op": "remove", "start": 0, "end": 0.5},
            {"op": "remove", "start": 3.99, "end": 4.5},
        ],
    )
)
case(
    "pat_remove_muxed_across_gap",
    "pattern",
    "muxed seg1, seg3, seg4; remove(0.5, 2.5) across the gap; remove(0, Infinity)",
)(
    lambda: mux_case(
        [
            ap("init.mp4"),
            ap("seg1.m4s"),
            ap("seg3.m4s"),
            ap("seg4.m4s"),
            {"op": "remove", "start": 0.5, "end": 2.5},
            {"op": "remove", "start": 0, "end": "Infinity"},
        ]
    )
)
case(
    "pat_remove_invalid",
    "pattern",
    "remove(3,2) and remove(-1,1) and remove(0,NaN) throw; remove past duration throws",
)(
    lambda: v_case(
        [
            *ALL3,
            {"op": "remove", "start": 3, "end": 2},
            {"op": "remove", "start": -1, "end": 1},
            {"op": "remove", "start": 0, "end": "NaN"},
            {"op": "remove", "start": 100, "end": 200},
            {"op": "remove", "start": 5.9, "end": 5.95},
        ]
    )
)
case("pat_remove_bframes_then_refill", "pattern", "B-frames: remove(1.3, 2.2) then append seg2 again")(
    lambda: v_case([*ALL4, {"op": "remove", "start": 1.3, "end": 2.2}, ap("seg2.m4s")], avc_bf25)
)
case("pat_remove_before_init", "pattern", "remove before any init (duration NaN) throws; append after")(
    lambda: v_case(
        [
            {"op": "remove", "start": 0, "end": 1},
            ap("init.mp4"),
            ap("seg1.m4s"),
            {"op": "remove", "start": 0, "end": 0.0001},
        ]
    )
)

case("pat_abort_init_half", "pattern", "half of init, abort, full init, seg1")(
    lambda: v_case([ap("init.mp4", range=[0, 300]), {"op": "abort"}, ap("init.mp4"), ap("seg1.m4s")])
)
case(
    "pat_abort_mid_reappend_tso",
    "pattern",
    "muxed: seg1, first 60% of seg2, abort, timestampOffset=5, seg2 whole",
)(
    lambda: mux_case(
        [
            ap("init.mp4"),
            ap("seg1.m4s"),
            ap("seg2.m4s", range=[0, 20000]),
            {"op": "abort"},
            {"op": "set", "timestampOffset": 5},
            ap("seg2.m4s"),
        ]
    )
)
case("pat_abort_batch_pending", "pattern", "append seg2 immediately aborted (batch), then seg3, seg2")(
    lambda: v_case(
        [
            ap("init.mp4"),
            ap("seg1.m4s"),
            {"op": "batch", "ops": [ap("seg2.m4s", wait=False), {"op": "abort"}]},
            ap("seg3.m4s"),
            ap("seg2.m4s"),
        ]
    )
)
case("pat_abort_sequence_resets", "pattern", "sequence mode audio: seg1, half seg2, abort, seg3")(
    lambda: aac_case(
        44100,
        [
            {"op": "set", "mode": "sequence"},
            ap("init.mp4"),
            ap("seg1.m4s"),
            ap("seg2.m4s", range=[0, 3000]),
            {"op": "abort"},
            ap("seg3.m4s"),
        ],
    )
)


@case(
    "pat_changetype_mp4_to_webm",
    "pattern",
    "H.264 fMP4 init+seg1, changeType to WebM VP9, WebM init + clusters 3,4 (after 2 s)",
)
def _p1() -> dict[str, Any]:
    init, segs = avc30()
    winit, cl = webm_vp9()
    files = {"init.mp4": init, "seg1.m4s": segs[0], "w_init.webm": winit, "w3.webm": cl[2], "w4.webm": cl[3]}
    return {
        "sourceBuffers": [sb(T_AVC.format(avc_codec(init)))],
        "ops": [
            ap("init.mp4"),
            ap("seg1.m4s"),
            {"op": "changeType", "type": 'video/webm; codecs="vp9"'},
            ap("w_init.webm"),
            ap("w3.webm"),
            ap("w4.webm"),
        ],
        "files": files,
    }


@case("pat_changetype_aac_to_opus", "pattern", "AAC fMP4 seg1,seg2; changeType opus; opus init, seg3, seg4")
def _p2() -> dict[str, Any]:
    ai, asg = aac(48000)
    oi, osg = opus_mp4()
    files = {
        "a_init.mp4": ai,
        "a1.m4s": asg[0],
        "a2.m4s": asg[1],
        "o_init.mp4": oi,
        "o3.m4s": osg[2],
        "o4.m4s": osg[3],
    }
    return {
        "sourceBuffers": [sb('audio/mp4; codecs="mp4a.40.2"')],
        "ops": [
            ap("a_init.mp4"),
            ap("a1.m4s"),
            ap("a2.m4s"),
            {"op": "changeType", "type": 'audio/mp4; codecs="opus"'},
            ap("o_init.mp4"),
            ap("o3.m4s"),
            ap("o4.m4s"),
            {"op": "endOfStream"},
        ],
        "files": files,
    }


@case(
    "pat_changetype_mp4_to_adts",
    "pattern",
    "AAC fMP4 seg1, changeType audio/aac, ADTS parts with timestampOffset=1",
)
def _p3() -> dict[str, Any]:
    ai, asg = aac(44100)
    parts = chunks(adts(44100), 4)
    return {
        "sourceBuffers": [sb('audio/mp4; codecs="mp4a.40.2"')],
        "ops": [
            ap("init.mp4"),
            ap("seg1.m4s"),
            {"op": "changeType", "type": "audio/aac"},
            {"op": "set", "timestampOffset": 1},
            ap("part2.aac"),
            ap("part3.aac"),
        ],
        "files": {"init.mp4": ai, "seg1.m4s": asg[0], "part2.aac": parts[1], "part3.aac": parts[2]},
    }


@case("pat_changetype_invalid", "pattern", "changeType to an unsupported type and to '' throw; then segments")
def _p4() -> dict[str, Any]:
    return v_case(
        [
            ap("init.mp4"),
            {"op": "changeType", "type": "video/x-nope"},
            {"op": "changeType", "type": ""},
            ap("seg1.m4s"),
        ]
    )


case(
    "pat_duration_lower_than_buffered",
    "pattern",
    "all, duration=3 (below buffered 6: InvalidStateError), duration=7, remove(4, Infinity), duration=4",
)(
    lambda: v_case(
        [
            *ALL3,
            {"op": "set", "duration": 3},
            {"op": "set", "duration": 7},
            {"op": "remove", "start": 4, "end": "Infinity"},
            {"op": "set", "duration": 4.5},
            {"op": "set", "duration": 2.1},
        ]
    )
)
case(
    "pat_duration_invalid_values",
    "pattern",
    "duration = -1, NaN throw; duration=Infinity; then segments, endOfStream, duration=10",
)(
    lambda: v_case(
        [
            ap("init.mp4"),
            {"op": "set", "duration": -1},
            {"op": "set", "duration": "NaN"},
            {"op": "set", "duration": "Infinity"},
            ap("seg1.m4s"),
            {"op": "endOfStream"},
            {"op": "set", "duration": 10},
            ap("seg2.m4s"),
        ]
    )
)
case("pat_duration_before_init_audio", "pattern", "AAC: duration=1.5 after init, all segments extend it")(
    lambda: aac_case(
        48000,
        [
            ap("init.mp4"),
            {"op": "set", "duration": 1.5},
            ap("seg1.m4s"),
            ap("seg2.m4s"),
            {"op": "endOfStream"},
        ],
    )
)
case(
    "pat_eos_decode_error_then_ops",
    "pattern",
    "seg1, endOfStream('decode'), then append, remove, endOfStream",
)(
    lambda: v_case(
        [
            ap("init.mp4"),
            ap("seg1.m4s"),
            {"op": "endOfStream", "error": "decode"},
            ap("seg2.m4s"),
            {"op": "remove", "start": 0, "end": 1},
            {"op": "endOfStream"},
        ]
    )
)
case(
    "pat_eos_network_error_before_data",
    "pattern",
    "init only, endOfStream('network') (HAVE_NOTHING), then seg1",
)(
    lambda: v_case(
        [
            ap("init.mp4"),
            {"op": "endOfStream", "error": "network"},
            ap("seg1.m4s"),
            {"op": "set", "duration": 3},
        ]
    )
)
case(
    "pat_eos_twice_remove_reopen",
    "pattern",
    "all, endOfStream, endOfStream, remove(5,6) reopens, append seg1, endOfStream",
)(
    lambda: v_case(
        [
            *ALL3,
            {"op": "endOfStream"},
            {"op": "endOfStream"},
            {"op": "remove", "start": 5, "end": 6},
            ap("seg1.m4s"),
            {"op": "endOfStream"},
        ]
    )
)
case("pat_eos_before_init", "pattern", "endOfStream before any append; then init")(
    lambda: v_case([{"op": "endOfStream"}, ap("init.mp4"), ap("seg1.m4s")])
)
case(
    "pat_eos_set_while_ended",
    "pattern",
    "all, endOfStream; set timestampOffset (reopens?), mode, appendWindowStart",
)(
    lambda: v_case(
        [
            *ALL3,
            {"op": "endOfStream"},
            {"op": "set", "timestampOffset": 1},
            {"op": "set", "appendWindowStart": 0.5},
            ap("seg1.m4s"),
        ]
    )
)


@case(
    "pat_reinit_codec_switch_no_changetype",
    "pattern",
    "H.264 init+seg1, then VP9-in-MP4 init without changeType",
)
def _p5() -> dict[str, Any]:
    init, segs = avc30()
    vi, vsg = vp9_mp4()
    return {
        "sourceBuffers": [sb(T_AVC.format(avc_codec(init)))],
        "ops": [ap("init.mp4"), ap("seg1.m4s"), ap("vp9_init.mp4"), ap("vp9_seg2.m4s")],
        "files": {"init.mp4": init, "seg1.m4s": segs[0], "vp9_init.mp4": vi, "vp9_seg2.m4s": vsg[1]},
    }


@case("pat_reinit_track_count", "pattern", "video-only init+seg1 on a muxed type, then muxed init (2 tracks)")
def _p6() -> dict[str, Any]:
    vi, vs = avc30()
    mi, ms = avc_aac()
    return {
        "sourceBuffers": [sb(f'video/mp4; codecs="{avc_codec(vi)},mp4a.40.2"')],
        "ops": [ap("v_init.mp4"), ap("v_seg1.m4s"), ap("m_init.mp4"), ap("m_seg3.m4s")],
        "files": {"v_init.mp4": vi, "v_seg1.m4s": vs[0], "m_init.mp4": mi, "m_seg3.m4s": ms[2]},
    }


@case(
    "pat_reinit_other_resolution",
    "pattern",
    "avc30 320x180 init+seg1, then avc60 160x90 init + seg2 (same codec, new params) with timestampOffset=2",
)
def _p7() -> dict[str, Any]:
    ai, as_ = avc30()
    bi, bs = avc60()
    return {
        "sourceBuffers": [sb(T_AVC.format(avc_codec(ai)))],
        "ops": [
            ap("a_init.mp4"),
            ap("a1.m4s"),
            {"op": "set", "timestampOffset": 2},
            ap("b_init.mp4"),
            ap("b1.m4s"),
            ap("b2.m4s"),
        ],
        "files": {"a_init.mp4": ai, "a1.m4s": as_[0], "b_init.mp4": bi, "b1.m4s": bs[0], "b2.m4s": bs[1]},
    }


@case(
    "pat_overlap_different_content",
    "pattern",
    "avc30 seg1..3 (0-6 s), then the 25 fps B-frame stream's "
    "init + seg2, seg3 over it at timestampOffset=2.3",
)
def _p8() -> dict[str, Any]:
    ai, as_ = avc30()
    bi, bs = avc_bf25()
    return {
        "sourceBuffers": [sb(T_AVC.format(avc_codec(ai)))],
        "ops": [
            ap("a_init.mp4"),
            ap("a1.m4s"),
            ap("a2.m4s"),
            ap("a3.m4s"),
            {"op": "set", "timestampOffset": 2.3},
            ap("b_init.mp4"),
            ap("b2.m4s"),
            ap("b3.m4s"),
        ],
        "files": {
            "a_init.mp4": ai,
            "a1.m4s": as_[0],
            "a2.m4s": as_[1],
            "a3.m4s": as_[2],
            "b_init.mp4": bi,
            "b2.m4s": bs[1],
            "b3.m4s": bs[2],
        },
    }


case(
    "pat_overlap_audio_shifted",
    "pattern",
    "AAC all, then timestampOffset=0.5, seg2 again (overlaps mid-frame)",
)(lambda: aac_case(48000, [*ALL4, {"op": "set", "timestampOffset": 0.5}, ap("seg2.m4s")]))
case(
    "pat_overlap_video_earlier",
    "pattern",
    "video seg2 then seg1 with timestampOffset=1.0 (overlapping mid-GOP of seg2)",
)(lambda: v_case([ap("init.mp4"), ap("seg2.m4s"), {"op": "set", "timestampOffset": 1.0}, ap("seg1.m4s")]))
case(
    "pat_set_while_updating_more",
    "pattern",
    "pending append then appendWindowStart, duration, abort in a batch",
)(
    lambda: v_case(
        [
            ap("init.mp4"),
            {
                "op": "batch",
                "ops": [
                    ap("seg1.m4s", wait=False),
                    {"op": "set", "appendWindowStart": 1},
                    {"op": "set", "duration": 9},
                    {"op": "abort"},
                ],
            },
            ap("seg2.m4s"),
        ]
    )
)


@case(
    "pat_two_sb_one_errors",
    "pattern",
    "two SourceBuffers: the audio one gets a broken segment; then video appends",
)
def _p9() -> dict[str, Any]:
    vi, vs = avc30()
    ai, as_ = aac(48000)
    bad = patch(as_[1], find_box(as_[1], "moof/traf/tfhd")[0] + 12, struct.pack(">I", 9))
    return {
        "sourceBuffers": [sb(T_AVC.format(avc_codec(vi)), "v"), sb('audio/mp4; codecs="mp4a.40.2"', "a")],
        "ops": [
            ap("v_init.mp4", sb="v"),
            ap("a_init.mp4", sb="a"),
            ap("v_seg1.m4s", sb="v"),
            ap("a_seg1.m4s", sb="a"),
            ap("a_seg2.m4s", sb="a"),
            ap("v_seg2.m4s", sb="v"),
            {"op": "endOfStream"},
        ],
        "files": {
            "v_init.mp4": vi,
            "v_seg1.m4s": vs[0],
            "v_seg2.m4s": vs[1],
            "a_init.mp4": ai,
            "a_seg1.m4s": as_[0],
            "a_seg2.m4s": bad,
        },
    }


# --- broken -----------------------------------------------------------------------------------------------


def brk_v(
    mutate: Callable[[bytes, list[bytes]], tuple[bytes, list[bytes]]],
    ops: Ops | None = None,
    src: Callable[[], tuple[bytes, list[bytes]]] = avc30,
) -> dict[str, Any]:
    init, segs = src()
    init, segs = mutate(init, list(segs))
    return {
        "sourceBuffers": [sb(T_AVC.format(avc_codec(src()[0])))],
        "ops": ops or ALL3,
        "files": segfiles(init, segs),
    }


def _seg(i: int, f: Callable[[bytes], bytes]) -> Callable[[bytes, list[bytes]], tuple[bytes, list[bytes]]]:
    def m(init: bytes, segs: list[bytes]) -> tuple[bytes, list[bytes]]:
        segs[i] = f(segs[i])
        return init, segs

    return m


def _init(f: Callable[[bytes], bytes]) -> Callable[[bytes, list[bytes]], tuple[bytes, list[bytes]]]:
    return lambda init, segs: (f(init), segs)


def moof_size(s: bytes) -> int:
    return find_box(s, "moof")[1]


case("brk_trunc_moof_in_trun", "broken", "seg2 cut inside its trun (moof incomplete), then seg3")(
    lambda: brk_v(_seg(1, lambda s: s[: find_box(s, "moof/traf/trun")[0] + 30]))
)
case("brk_trunc_mdat_then_next", "broken", "seg2's mdat cut in half, then seg3 (its bytes land in the mdat)")(
    lambda: brk_v(_seg(1, lambda s: s[: moof_size(s) + (len(s) - moof_size(s)) // 2]))
)
case("brk_trunc_init_moov", "broken", "init cut in the middle of moov, then seg1")(
    lambda: brk_v(_init(lambda i: i[: len(i) - 200]), [ap("init.mp4"), ap("seg1.m4s"), ap("seg2.m4s")])
)
case("brk_moof_size_too_small", "broken", "seg2's moof size field = 16 (smaller than its children)")(
    lambda: brk_v(_seg(1, lambda s: patch(s, 0, struct.pack(">I", 16))))
)
case("brk_moof_size_huge", "broken", "seg2's moof size field larger than the file; then seg3; endOfStream")(
    lambda: brk_v(
        _seg(1, lambda s: patch(s, 0, struct.pack(">I", 10_000_000))), [*ALL3, {"op": "endOfStream"}]
    )
)
case("brk_box_size_below_8", "broken", "seg2 starts with a box of size 4")(
    lambda: brk_v(_seg(1, lambda s: patch(s, 0, struct.pack(">I", 4))))
)
case("brk_init_no_mvex", "broken", "init without mvex (moov size fixed), then segments")(
    lambda: brk_v(_init(lambda i: remove_box(i, "moov/mvex")))
)
case("brk_seg_no_trun", "broken", "seg2 without trun (sizes fixed)")(
    lambda: brk_v(_seg(1, lambda s: remove_box(s, "moof/traf/trun")))
)
case("brk_seg_no_traf", "broken", "seg2's moof has only mfhd (traf removed), then seg3")(
    lambda: brk_v(_seg(1, lambda s: remove_box(s, "moof/traf")))
)
case("brk_seg_no_mfhd", "broken", "seg2 without mfhd")(
    lambda: brk_v(_seg(1, lambda s: remove_box(s, "moof/mfhd")))
)
case("brk_trex_wrong_track", "broken", "init's trex names track 5 (the trak is 1)")(
    lambda: brk_v(_init(lambda i: patch(i, find_box(i, "moov/mvex/trex")[0] + 12, struct.pack(">I", 5))))
)
case("brk_trun_count_too_big", "broken", "seg1's trun sample_count +5 (samples past the mdat)")(
    lambda: brk_v(
        _seg(
            0,
            lambda s: patch(
                s,
                find_box(s, "moof/traf/trun")[0] + 12,
                struct.pack(">I", struct.unpack(">I", s[find_box(s, "moof/traf/trun")[0] + 12 :][:4])[0] + 5),
            ),
        )
    )
)
case("brk_trun_data_offset_past_end", "broken", "seg2's trun data_offset points past the mdat")(
    lambda: brk_v(
        _seg(1, lambda s: patch(s, find_box(s, "moof/traf/trun")[0] + 16, struct.pack(">i", 1 << 20)))
    )
)
case("brk_garbage_between_segments", "broken", "seg1, 100 random bytes, seg2")(
    lambda: {**brk_v(lambda i, s: (i, [s[0], random.Random(7).randbytes(100), s[1]]))}
)
case("brk_garbage_in_same_append", "broken", "seg1 followed by 64 zero bytes in the same append, then seg2")(
    lambda: brk_v(_seg(0, lambda s: s + bytes(64)))
)
case("brk_free_box_between", "broken", "a 'free' box and a 'skip' box between segments (legal)")(
    lambda: brk_v(
        _seg(0, lambda s: s + struct.pack(">I4s", 16, b"free") + bytes(8) + struct.pack(">I4s", 8, b"skip"))
    )
)
case("brk_empty_appends_everywhere", "broken", "empty append before init, between, after")(
    lambda: {
        **brk_v(
            lambda i, s: (i, s),
            [
                ap("init.mp4", range=[0, 0]),
                ap("init.mp4"),
                ap("seg1.m4s", range=[5, 5]),
                ap("seg1.m4s"),
                ap("seg2.m4s", range=[0, 0]),
            ],
        )
    }
)
case("brk_init_ftyp_only_then_seg", "broken", "only the ftyp of init, then seg1")(
    lambda: brk_v(_init(lambda i: i[: find_box(i, "ftyp")[1]]), [ap("init.mp4"), ap("seg1.m4s")])
)
case("brk_two_inits_one_append", "broken", "init twice in one append, then seg1")(
    lambda: brk_v(_init(lambda i: i + i), [ap("init.mp4"), ap("seg1.m4s")])
)
case("brk_type_audio_only_init_av", "broken", "type says audio only (mp4a) but the init has video+audio")(
    lambda: {**mux_case(ALL3), "sourceBuffers": [sb('audio/mp4; codecs="mp4a.40.2"')]}
)
case("brk_type_video_only_init_av", "broken", "type says video only (avc1) but the init has video+audio")(
    lambda: {**mux_case(ALL3), "sourceBuffers": [sb(T_AVC.format(avc_codec(avc_aac()[0])))]}
)
case("brk_tfdt_huge", "broken", "seg2's tfdt v1 = 2^60 (out of range)")(
    lambda: brk_v(
        _seg(
            1,
            lambda s: (
                patch(s, find_box(s, "moof/traf/tfdt")[0] + 12, struct.pack(">Q", 1 << 60))
                if s[find_box(s, "moof/traf/tfdt")[0] + 8] == 1
                else patch(s, find_box(s, "moof/traf/tfdt")[0] + 12, struct.pack(">I", 0xFFFFFFF0))
            ),
        )
    )
)
case("brk_mdat_before_moof", "broken", "seg2 with mdat placed before its moof")(
    lambda: brk_v(_seg(1, lambda s: s[moof_size(s) :] + s[: moof_size(s)]))
)
case("brk_unknown_top_box", "broken", "an unknown top-level box 'xyzw' between init and seg1 (allowed?)")(
    lambda: brk_v(
        _init(lambda i: i + struct.pack(">I4s", 24, b"xyzw") + bytes(16)), [ap("init.mp4"), ap("seg1.m4s")]
    )
)
case(
    "brk_corrupt_h264_payload", "broken", "seg2's mdat payload overwritten with random bytes (decode error?)"
)(
    lambda: brk_v(
        _seg(1, lambda s: s[: moof_size(s) + 8] + random.Random(3).randbytes(len(s) - moof_size(s) - 8)),
        [*ALL3, ap("seg3.m4s")],
    )
)


def _trun_first_size_zero(s: bytes) -> bytes:
    off = find_box(s, "moof/traf/trun")[0]
    flags = int.from_bytes(s[off + 9 : off + 12], "big")
    p = off + 16 + (4 if flags & 1 else 0) + (4 if flags & 4 else 0) + (4 if flags & 0x100 else 0)
    return patch(s, p, bytes(4)) if flags & 0x200 else s


case("brk_audio_sample_size_zero", "broken", "AAC seg2 whose first trun sample_size is 0 (the rest shift)")(
    lambda: {
        **aac_case(48000, ALL4),
        "files": segfiles(
            aac(48000)[0], [aac(48000)[1][0], _trun_first_size_zero(aac(48000)[1][1]), *aac(48000)[1][2:]]
        ),
    }
)


def _webm_case(init: bytes, cl: list[bytes], t: str, ops: Ops | None = None) -> dict[str, Any]:
    return {
        "sourceBuffers": [sb(t)],
        "ops": ops or [ap("init.webm"), ap("seg1.webm"), ap("seg2.webm"), ap("seg3.webm")],
        "files": segfiles(init, cl, ext=".webm", iext=".webm"),
    }


case("brk_webm_bad_ebml_header", "broken", "WebM init whose EBML magic is corrupted")(
    lambda: _webm_case(b"\x1aE\xdf\xa4" + webm_vp9()[0][4:], webm_vp9()[1], 'video/webm; codecs="vp9"')
)
case("brk_webm_truncated_cluster", "broken", "VP9 cluster 2 cut in half, then cluster 3")(
    lambda: _webm_case(
        webm_vp9()[0],
        [webm_vp9()[1][0], webm_vp9()[1][1][: len(webm_vp9()[1][1]) // 2], webm_vp9()[1][2]],
        'video/webm; codecs="vp9"',
    )
)
case("brk_webm_garbage_between_clusters", "broken", "32 zero bytes between cluster 1 and 2")(
    lambda: _webm_case(
        webm_vp9()[0],
        [webm_vp9()[1][0] + bytes(32), webm_vp9()[1][1], webm_vp9()[1][2]],
        'video/webm; codecs="vp9"',
    )
)
case("brk_webm_codec_mismatch", "broken", "VP8+Vorbis WebM appended to a vp9,opus SourceBuffer")(
    lambda: _webm_case(*webm_vp8_vorbis(), 'video/webm; codecs="vp9,opus"')
)


def _block_tracknum(cl: bytes, new: int) -> bytes:
    """Rewrite the track number of the first SimpleBlock (0xA3) in a cluster."""
    at = cl.index(b"\xa3")
    _size, sn, _ = vint(cl, at + 1)
    p = at + 1 + sn
    return cl[:p] + bytes([0x80 | new]) + cl[p + 1 :]


case("brk_webm_block_unknown_track", "broken", "cluster 2's first SimpleBlock names track 9")(
    lambda: _webm_case(
        webm_vp9()[0],
        [webm_vp9()[1][0], _block_tracknum(webm_vp9()[1][1], 9), webm_vp9()[1][2]],
        'video/webm; codecs="vp9"',
    )
)


def _ts_corrupt(seg: bytes, f: Callable[[bytearray, int], None]) -> bytes:
    b = bytearray(seg)
    for k in range(0, len(b) // 188):
        f(b, k)
    return bytes(b)


def _zero_sync(b: bytearray, k: int) -> None:
    if k % 10 == 3:
        b[k * 188] = 0


def _drop_pat(seg: bytes) -> bytes:
    return b"".join(
        seg[i : i + 188] for i in range(0, len(seg), 188) if ((seg[i + 1] & 0x1F) << 8 | seg[i + 2]) != 0
    )


case("brk_ts_sync_every_10th", "broken", "TS seg2 with every 10th packet's sync byte zeroed")(
    lambda: {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [ap("seg1.ts"), ap("seg2.ts"), ap("seg3.ts")],
        "files": {
            "seg1.ts": ts_avc_aac()[0],
            "seg2.ts": _ts_corrupt(ts_avc_aac()[1], _zero_sync),
            "seg3.ts": ts_avc_aac()[2],
        },
    }
)
case("brk_ts_truncated_packet", "broken", "TS seg1 with its last packet cut to 100 bytes, then seg2")(
    lambda: {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [ap("seg1.ts"), ap("seg2.ts"), ap("seg3.ts")],
        "files": {"seg1.ts": ts_avc_aac()[0][:-88], "seg2.ts": ts_avc_aac()[1], "seg3.ts": ts_avc_aac()[2]},
    }
)
case("brk_ts_no_pat_first", "broken", "TS seg1 without PAT packets, then seg2 (has PAT)")(
    lambda: {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [ap("seg1.ts"), ap("seg2.ts"), ap("seg3.ts")],
        "files": {
            "seg1.ts": _drop_pat(ts_avc_aac()[0]),
            "seg2.ts": ts_avc_aac()[1],
            "seg3.ts": ts_avc_aac()[2],
        },
    }
)
case("brk_ts_garbage_prefix", "broken", "TS seg2 prefixed by 50 random bytes")(
    lambda: {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [ap("seg1.ts"), ap("seg2.ts"), ap("seg3.ts")],
        "files": {
            "seg1.ts": ts_avc_aac()[0],
            "seg2.ts": random.Random(5).randbytes(50) + ts_avc_aac()[1],
            "seg3.ts": ts_avc_aac()[2],
        },
    }
)
case("brk_adts_garbage_between", "broken", "ADTS part1, 40 zero bytes + part2, part3")(
    lambda: {
        "sourceBuffers": [sb("audio/aac")],
        "ops": [ap("p1.aac"), ap("p2.aac"), ap("p3.aac")],
        "files": {
            "p1.aac": chunks(adts(44100), 4)[0],
            "p2.aac": bytes(40) + chunks(adts(44100), 4)[1],
            "p3.aac": chunks(adts(44100), 4)[2],
        },
    }
)
case("brk_adts_bad_frame_length", "broken", "ADTS part2's 5th frame has frame_length 3 (below the header)")(
    lambda: {
        "sourceBuffers": [sb("audio/aac")],
        "ops": [ap("p1.aac"), ap("p2.aac"), ap("p3.aac")],
        "files": {
            "p1.aac": chunks(adts(44100), 4)[0],
            "p2.aac": _adts_badlen(adts(44100)),
            "p3.aac": chunks(adts(44100), 4)[2],
        },
    }
)
case("brk_mp3_garbage_between", "broken", "MP3 part1, 300 random bytes + part2")(
    lambda: {
        "sourceBuffers": [sb("audio/mpeg")],
        "ops": [ap("p1.mp3"), ap("p2.mp3"), ap("p3.mp3")],
        "files": {
            "p1.mp3": chunks(mp3(False)[1], 4)[0],
            "p2.mp3": random.Random(11).randbytes(300) + chunks(mp3(False)[1], 4)[1],
            "p3.mp3": chunks(mp3(False)[1], 4)[2],
        },
    }
)
case("brk_mp3_into_aac_sb", "broken", "MP3 frames appended to an audio/aac SourceBuffer")(
    lambda: {
        "sourceBuffers": [sb("audio/aac")],
        "ops": [ap("p1.mp3"), ap("p2.mp3")],
        "files": {"p1.mp3": chunks(mp3(False)[1], 4)[0], "p2.mp3": chunks(mp3(False)[1], 4)[1]},
    }
)


def _adts_badlen(frames: list[bytes]) -> bytes:
    per = (len(frames) + 3) // 4
    part = list(frames[per : 2 * per])
    f = bytearray(part[4])
    f[3] = f[3] & 0xFC
    f[4] = 0
    f[5] = (3 << 5) | (f[5] & 0x1F)
    part[4] = bytes(f)
    return b"".join(part)


# --- round 2: muxer variants, timescales, sync flags, more formats ---------------------------------------


def avc_variant(  # noqa: PLR0917
    name: str,
    movflags: str,
    extra: list[str] | None = None,
    rate: str = "30",
    gop: int = 30,
    bf: int = 0,
    secs: str = "4",
) -> tuple[bytes, list[bytes]]:
    return fmp4(name, [*vsrc(rate), "-t", secs, *h264(gop, bf), "-an", "-movflags", movflags, *(extra or [])])


def v_src_case(
    src: Callable[[], tuple[bytes, list[bytes]]], ops: Callable[[int], Ops] | None = None
) -> dict[str, Any]:
    return video_case(src, ops or (lambda n: [*inorder(n), {"op": "endOfStream"}]))


for _n, _flags, _extra, _d in [
    (
        "fmp4_no_default_base_moof",
        "+frag_keyframe+empty_moov",
        [],
        "tfhd base_data_offset (no default-base-is-moof)",
    ),
    (
        "fmp4_negative_cts_bframes",
        "+frag_keyframe+empty_moov+default_base_moof+negative_cts_offsets",
        ["-bf", "2"],
        "B-frames with trun v1 negative composition offsets",
    ),
    (
        "fmp4_timescale_1000",
        "+frag_keyframe+empty_moov+default_base_moof",
        ["-video_track_timescale", "1000"],
        "video timescale 1000",
    ),
    (
        "fmp4_frag_midgop",
        "+empty_moov+default_base_moof",
        ["-frag_duration", "400000"],
        "fragments every 0.4 s, most starting mid-GOP",
    ),
    ("fmp4_cmaf", "+frag_keyframe+empty_moov+default_base_moof+cmaf", [], "ffmpeg +cmaf flags"),
    (
        "fmp4_large_tfdt",
        "+frag_keyframe+empty_moov+default_base_moof",
        ["-output_ts_offset", "50000"],
        "timestamps start at 50000 s",
    ),
]:
    case(_n, "fmp4", _d)(
        lambda n=_n, f=_flags, e=_extra: v_src_case(
            lambda: avc_variant(n, f, [*e] if "-bf" not in e else e[2:], bf=2 if "-bf" in e else 0)
        )
    )

case("fmp4_2997_timescale_30000", "fmp4", "29.97 fps, timescale 30000, sequence mode (inexact µs durations)")(
    lambda: v_src_case(
        lambda: avc_variant(
            "v2997ts",
            "+frag_keyframe+empty_moov+default_base_moof",
            ["-video_track_timescale", "30000"],
            rate="30000/1001",
            gop=15,
        ),
        lambda n: [
            {"op": "set", "mode": "sequence"},
            ap("init.mp4"),
            ap("seg3.m4s"),
            ap("seg1.m4s"),
            ap("seg2.m4s"),
            ap("seg5.m4s"),
        ],
    )
)
case(
    "fmp4_frag_midgop_out_of_order", "fmp4", "0.4 s fragments (mid-GOP starts) appended 4,1,2,3,6: needs RAP"
)(
    lambda: v_src_case(
        lambda: avc_variant(
            "fmp4_frag_midgop", "+empty_moov+default_base_moof", ["-frag_duration", "400000"]
        ),
        lambda n: [
            ap("init.mp4"),
            ap("seg4.m4s"),
            ap("seg1.m4s"),
            ap("seg2.m4s"),
            ap("seg3.m4s"),
            ap("seg6.m4s"),
        ],
    )
)
case("fmp4_frag_midgop_abort", "fmp4", "0.4 s fragments: seg1, seg2, abort, seg4 (mid-GOP after abort)")(
    lambda: v_src_case(
        lambda: avc_variant(
            "fmp4_frag_midgop", "+empty_moov+default_base_moof", ["-frag_duration", "400000"]
        ),
        lambda n: [
            ap("init.mp4"),
            ap("seg1.m4s"),
            ap("seg2.m4s"),
            {"op": "abort"},
            ap("seg4.m4s"),
            ap("seg5.m4s"),
        ],
    )
)


@case("fmp4_separate_moof_muxed", "fmp4", "muxed A/V with +separate_moof (one moof+mdat per track)")
def _r1() -> dict[str, Any]:
    init, segs = fmp4(
        "sepmoof",
        [
            *vsrc("30"),
            *asrc(44100, 2),
            "-t",
            "3",
            *h264(30),
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            "-movflags",
            "+frag_keyframe+empty_moov+default_base_moof+separate_moof",
        ],
    )
    return {
        "sourceBuffers": [sb(f'video/mp4; codecs="{avc_codec(init)},mp4a.40.2"')],
        "ops": [ap("all.m4s")],
        "files": {"init.mp4": init, "all.m4s": init + b"".join(segs)},
    }


@case("fmp4_muxed_bframes_sequence", "fmp4", "muxed B-frames + AAC 44.1k in sequence mode: 3,1,2")
def _r2() -> dict[str, Any]:
    init, segs = avcbf_aac44()
    return {
        "sourceBuffers": [sb(f'video/mp4; codecs="{avc_codec(init)},mp4a.40.2"')],
        "ops": [{"op": "set", "mode": "sequence"}, ap("init.mp4"), ap("seg2.m4s"), ap("seg1.m4s")],
        "files": segfiles(init, segs),
    }


@case("fmp4_muxed_bframes_aw", "fmp4", "muxed B-frames + AAC 44.1k, appendWindow [0.3, 1.5)")
def _r3() -> dict[str, Any]:
    init, segs = avcbf_aac44()
    return {
        "sourceBuffers": [sb(f'video/mp4; codecs="{avc_codec(init)},mp4a.40.2"')],
        "ops": [{"op": "set", "appendWindowStart": 0.3, "appendWindowEnd": 1.5}, *inorder(len(segs))],
        "files": segfiles(init, segs),
    }


@case("fmp4_aac22050_sequence", "fmp4", "AAC 22.05 kHz mono, in order, then sequence mode seg1 again")
def _r4() -> dict[str, Any]:
    init, segs = fmp4(
        "aac22k",
        [
            *asrc(22050),
            "-t",
            "3",
            "-c:a",
            "aac",
            "-vn",
            "-movflags",
            "+empty_moov+default_base_moof",
            "-frag_duration",
            "1000000",
        ],
    )
    return {
        "sourceBuffers": [sb('audio/mp4; codecs="mp4a.40.2"')],
        "ops": [*inorder(len(segs)), {"op": "set", "mode": "sequence"}, ap("seg1.m4s")],
        "files": segfiles(init, segs),
    }


@case("fmp4_mpeg2_aac_type", "fmp4", "AAC fMP4 declared as mp4a.67 (MPEG-2 AAC LC) while esds says 0x40")
def _r5() -> dict[str, Any]:
    init, segs = aac(48000)
    return {
        "sourceBuffers": [sb('audio/mp4; codecs="mp4a.67"')],
        "ops": inorder(2),
        "files": segfiles(init, segs),
    }


@case(
    "fmp4_vp9_to_avc_changetype",
    "fmp4",
    "VP9 mp4 seg1, changeType avc1, avc init + seg2 with timestampOffset -1",
)
def _r6() -> dict[str, Any]:
    vi, vs = vp9_mp4()
    ai, as_ = avc30()
    return {
        "sourceBuffers": [sb('video/mp4; codecs="vp09.00.10.08"')],
        "ops": [
            ap("vp9_init.mp4"),
            ap("vp9_1.m4s"),
            {"op": "changeType", "type": T_AVC.format(avc_codec(ai))},
            {"op": "set", "timestampOffset": -1},
            ap("a_init.mp4"),
            ap("a2.m4s"),
        ],
        "files": {"vp9_init.mp4": vi, "vp9_1.m4s": vs[0], "a_init.mp4": ai, "a2.m4s": as_[1]},
    }


def webm_av1() -> tuple[bytes, list[bytes]]:
    return webm(
        "av1webm",
        [
            *vsrc("30", "160x90"),
            *AV1_3S,
        ],
    )


case("webm_av1", "webm", "AV1 in WebM, 1 s clusters")(
    lambda: {
        "sourceBuffers": [sb('video/webm; codecs="av01.0.00M.08"')],
        "ops": [*inorder(len(webm_av1()[1]), ext=".webm", iext=".webm"), {"op": "endOfStream"}],
        "files": segfiles(*webm_av1(), ext=".webm", iext=".webm"),
    }
)
case("webm_opus_aw_trim", "webm", "Opus WebM appendWindow [0.31, 2.05) (partial frames) then remove(1, 1.5)")(
    lambda: {
        "sourceBuffers": [sb('audio/webm; codecs="opus"')],
        "ops": [
            {"op": "set", "appendWindowStart": 0.31, "appendWindowEnd": 2.05},
            *inorder(len(webm_opus()[1]), ext=".webm", iext=".webm"),
            {"op": "remove", "start": 1, "end": 1.5},
        ],
        "files": segfiles(*webm_opus(), ext=".webm", iext=".webm"),
    }
)
case("webm_vorbis_sequence_tso", "webm", "VP8+Vorbis sequence mode, timestampOffset=0.777, clusters 2,1")(
    lambda: {
        "sourceBuffers": [sb('video/webm; codecs="vp8,vorbis"')],
        "ops": [
            {"op": "set", "mode": "sequence"},
            {"op": "set", "timestampOffset": 0.777},
            ap("init.webm"),
            ap("seg2.webm"),
            ap("seg1.webm"),
        ],
        "files": segfiles(*webm_vp8_vorbis(), ext=".webm", iext=".webm"),
    }
)
case("webm_void_between_clusters", "webm", "VP9: a Void element (0xEC) between clusters 1 and 2")(
    lambda: _webm_case(
        webm_vp9()[0],
        [webm_vp9()[1][0] + b"\xec\x85" + bytes(5), webm_vp9()[1][1], webm_vp9()[1][2]],
        'video/webm; codecs="vp9"',
    )
)
case("webm_vp9_remove_reappend", "webm", "VP9+Opus all, remove(0.5, 1.7), cluster 2 again, endOfStream")(
    lambda: {
        "sourceBuffers": [sb('video/webm; codecs="vp9,opus"')],
        "ops": [
            *inorder(len(webm_vp9_opus()[1]), ext=".webm", iext=".webm"),
            {"op": "remove", "start": 0.5, "end": 1.7},
            ap("seg2.webm"),
            {"op": "endOfStream"},
        ],
        "files": segfiles(*webm_vp9_opus(), ext=".webm", iext=".webm"),
    }
)


def ts_mp3() -> list[bytes]:
    return ts(
        "tsmp3", [*vsrc("25"), *asrc(44100, 2), "-t", "3", *h264(25), "-c:a", "libmp3lame", "-b:a", "96k"]
    )


def ts_aac_only() -> list[bytes]:
    return ts("tsaac", [*asrc(48000, 2), "-t", "3", "-c:a", "aac", "-b:a", "64k"])


case("ts_avc_mp3", "ts", "TS H.264 + MP3 audio")(
    lambda: {
        "sourceBuffers": [sb('video/mp2t; codecs="avc1.4D401E,mp4a.6B"')],
        "ops": [ap(f"seg{i}.ts") for i in range(1, len(ts_mp3()) + 1)] + [{"op": "endOfStream"}],
        "files": ts_files(ts_mp3()),
    }
)
case("ts_aac_only", "ts", "TS AAC-only, remove(0.5, 1), timestampOffset=5 seg1")(
    lambda: {
        "sourceBuffers": [sb('video/mp2t; codecs="mp4a.40.2"')],
        "ops": [ap(f"seg{i}.ts") for i in range(1, len(ts_aac_only()) + 1)]
        + [{"op": "remove", "start": 0.5, "end": 1}, {"op": "set", "timestampOffset": 5}, ap("seg1.ts")],
        "files": ts_files(ts_aac_only()),
    }
)
case("ts_bframes_sequence", "ts", "TS B-frames + AAC 44.1 (PTS 11.4) in sequence mode: 3,1,2")(
    lambda: {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [{"op": "set", "mode": "sequence"}, ap("seg3.ts"), ap("seg1.ts"), ap("seg2.ts")],
        "files": ts_files(ts_avc_aac_offset()),
    }
)
case("ts_aw_and_remove", "ts", "TS appendWindow [1.9, 3.3), all, remove(2.5, Infinity)")(
    lambda: {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [{"op": "set", "appendWindowStart": 1.9, "appendWindowEnd": 3.3}]
        + [ap(f"seg{i}.ts") for i in range(1, 5)]
        + [{"op": "remove", "start": 2.5, "end": "Infinity"}],
        "files": ts_files(ts_avc_aac()),
    }
)
case("ts_concat_one_append", "ts", "TS seg1..3 in one append then seg4 split at byte 777")(
    lambda: {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [ap("a.ts"), ap("seg4.ts", range=[0, 777]), ap("seg4.ts", range=[777, len(ts_avc_aac()[3])])],
        "files": {"a.ts": b"".join(ts_avc_aac()[:3]), "seg4.ts": ts_avc_aac()[3]},
    }
)
case("brk_ts_no_pmt", "broken", "TS seg1 without PMT packets (PID 4096), then seg2")(
    lambda: {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [ap("seg1.ts"), ap("seg2.ts")],
        "files": {
            "seg1.ts": b"".join(
                ts_avc_aac()[0][i : i + 188]
                for i in range(0, len(ts_avc_aac()[0]), 188)
                if ((ts_avc_aac()[0][i + 1] & 0x1F) << 8 | ts_avc_aac()[0][i + 2]) != 4096
            ),
            "seg2.ts": ts_avc_aac()[1],
        },
    }
)
case("brk_ts_cc_errors", "broken", "TS seg2 with every 7th packet dropped (continuity errors)")(
    lambda: {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [ap("seg1.ts"), ap("seg2.ts"), ap("seg3.ts")],
        "files": {
            "seg1.ts": ts_avc_aac()[0],
            "seg3.ts": ts_avc_aac()[2],
            "seg2.ts": b"".join(
                ts_avc_aac()[1][i : i + 188]
                for i in range(0, len(ts_avc_aac()[1]), 188)
                if (i // 188) % 7 != 6
            ),
        },
    }
)


@case("adts_rate_change", "adts_mp3", "ADTS 44.1k part1+part2, then 48k part2 (config change), endOfStream")
def _r7() -> dict[str, Any]:
    a = chunks(adts(44100), 4)
    b = chunks(adts(48000), 4)
    return {
        "sourceBuffers": [sb("audio/aac")],
        "ops": [ap("a1.aac"), ap("a2.aac"), ap("b2.aac"), {"op": "endOfStream"}],
        "files": {"a1.aac": a[0], "a2.aac": a[1], "b2.aac": b[1]},
    }


@case("adts_id3_prefix", "adts_mp3", "ADTS with an ID3v2 tag before the first frame and before part3")
def _r8() -> dict[str, Any]:
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x15" + b"TIT2\x00\x00\x00\x0b\x00\x00\x03hello world"
    a = chunks(adts(48000), 4)
    return {
        "sourceBuffers": [sb("audio/aac")],
        "ops": [ap("p1.aac"), ap("p2.aac"), ap("p3.aac")],
        "files": {"p1.aac": tag + a[0], "p2.aac": a[1], "p3.aac": tag + a[2]},
    }


@case(
    "mp3_xing_id3v1",
    "adts_mp3",
    "MP3 with a Xing/Info frame and an ID3v1 tag at the end, 2 appends, endOfStream",
)
def _r9() -> dict[str, Any]:
    data = ff(
        "mp3xing",
        [*asrc(44100, 2), "-t", "3", "-c:a", "libmp3lame", "-b:a", "128k", "-write_id3v1", "1", "-f", "mp3"],
        ".mp3",
    ).read_bytes()
    n = len(data)
    return {
        "sourceBuffers": [sb("audio/mpeg")],
        "ops": [ap("a.mp3", range=[0, n // 2]), ap("a.mp3", range=[n // 2, n]), {"op": "endOfStream"}],
        "files": {"a.mp3": data},
    }


@case(
    "mp3_mono_22k_remove",
    "adts_mp3",
    "MP3 MPEG-2 22.05 kHz mono, all, remove(0.3, 0.9), timestampOffset=-0.2 part1 again",
)
def _r10() -> dict[str, Any]:
    _l, frames = Src.get(
        "mp322k",
        lambda: mp3_frames(
            ff(
                "mp322k",
                [
                    *asrc(22050),
                    "-t",
                    "3",
                    "-c:a",
                    "libmp3lame",
                    "-b:a",
                    "32k",
                    "-write_xing",
                    "0",
                    "-id3v2_version",
                    "0",
                    "-f",
                    "mp3",
                ],
                ".mp3",
            ).read_bytes()
        ),
    )
    parts = chunks(frames, 3)
    return {
        "sourceBuffers": [sb("audio/mpeg")],
        "ops": [
            ap("p1.mp3"),
            ap("p2.mp3"),
            ap("p3.mp3"),
            {"op": "remove", "start": 0.3, "end": 0.9},
            {"op": "set", "timestampOffset": -0.2},
            ap("p1.mp3"),
        ],
        "files": {f"p{i}.mp3": c for i, c in enumerate(parts, 1)},
    }


def _first_sample_flags(s: bytes, flags: int) -> bytes:
    off = find_box(s, "moof/traf/trun")[0]
    tflags = int.from_bytes(s[off + 9 : off + 12], "big")
    if not tflags & 4:
        return s
    p = off + 16 + (4 if tflags & 1 else 0)
    return patch(s, p, struct.pack(">I", flags))


case(
    "brk_first_sample_not_sync",
    "broken",
    "seg2's first sample flagged non-sync: its GOP is dropped (need RAP)",
)(lambda: brk_v(_seg(1, lambda s: _first_sample_flags(s, 0x01010000)), [*ALL3]))
case("brk_first_segment_not_sync", "broken", "seg1's first sample flagged non-sync, then seg2, seg3")(
    lambda: brk_v(_seg(0, lambda s: _first_sample_flags(s, 0x01010000)), [*ALL3])
)
case("brk_tfhd_duration_zero", "broken", "seg2's tfhd default_sample_duration = 0")(
    lambda: brk_v(_seg(1, lambda s: _tfhd_field(s, 0x8, 0)))
)
case("brk_mfhd_seq_backwards", "broken", "mfhd sequence numbers decreasing (seg2 = 1, seg3 = 0)")(
    lambda: brk_v(
        lambda i, s: (
            i,
            [
                s[0],
                patch(s[1], find_box(s[1], "moof/mfhd")[0] + 12, struct.pack(">I", 1)),
                patch(s[2], find_box(s[2], "moof/mfhd")[0] + 12, struct.pack(">I", 0)),
            ],
        )
    )
)
case("brk_mdat_short", "broken", "seg2's mdat size 8 smaller than its samples (samples read past it)")(
    lambda: brk_v(_seg(1, lambda s: patch(s, moof_size(s), struct.pack(">I", len(s) - moof_size(s) - 8))))
)
case("brk_audio_into_video_sb", "broken", "an AAC init appended to an avc1 SourceBuffer")(
    lambda: {
        "sourceBuffers": [sb(T_AVC.format(avc_codec(avc30()[0])))],
        "ops": [ap("init.mp4"), ap("seg1.m4s")],
        "files": segfiles(*aac(48000)),
    }
)
case("brk_hdlr_unknown_track", "broken", "muxed init whose audio hdlr is 'meta' (track ignored?)")(
    lambda: {**mux_case(ALL3), "files": segfiles(_hdlr_patch(avc_aac()[0], 1, b"meta"), avc_aac()[1])}
)
case("brk_stsd_codec_swap", "broken", "video sample entry fourcc avc1 -> avc3 (in-band parameter sets)")(
    lambda: brk_v(_init(lambda i: i.replace(b"avc1", b"avc3", 1)))
)
case("brk_webm_no_tracks", "broken", "WebM init without its Tracks element, then a cluster")(
    lambda: _webm_case(_drop_ebml(webm_vp9()[0], 0x1654AE6B), webm_vp9()[1], 'video/webm; codecs="vp9"')
)
case("brk_webm_cluster_no_timecode", "broken", "WebM cluster 2 without its Timecode element")(
    lambda: _webm_case(
        webm_vp9()[0],
        [webm_vp9()[1][0], _drop_cluster_timecode(webm_vp9()[1][1]), webm_vp9()[1][2]],
        'video/webm; codecs="vp9"',
    )
)


def _tfhd_field(s: bytes, flag: int, value: int) -> bytes:
    off = find_box(s, "moof/traf/tfhd")[0]
    flags = int.from_bytes(s[off + 9 : off + 12], "big")
    if not flags & flag:
        return s
    p = off + 16
    for bit, size in ((0x1, 8), (0x2, 4), (0x8, 4), (0x10, 4), (0x20, 4)):
        if bit == flag:
            return patch(s, p, value.to_bytes(size, "big"))
        if flags & bit:
            p += size
    return s


def _hdlr_patch(init: bytes, nth: int, handler: bytes) -> bytes:
    off, _size, _ = find_box(init, "moov/trak/mdia/hdlr", nth)
    return patch(init, off + 16, handler)


def _drop_ebml(init: bytes, wanted: int) -> bytes:
    """Remove one top-level element (by ID) inside the unknown-size Segment of an init segment."""
    _eid, n = ebml_id(init, 0)
    size, sn, _ = vint(init, n)
    p = n + sn + size
    _sid, n2 = ebml_id(init, p)
    _s, sn2, _ = vint(init, p + n2)
    p += n2 + sn2
    while p < len(init):
        eid, en = ebml_id(init, p)
        esz, esn, _ = vint(init, p + en)
        if eid == wanted:
            return init[:p] + init[p + en + esn + esz :]
        p += en + esn + esz
    return init


def _drop_cluster_timecode(cl: bytes) -> bytes:
    _cid, cn = ebml_id(cl, 0)
    _size, sn, _unknown = vint(cl, cn)
    p = cn + sn
    eid, en = ebml_id(cl, p)
    if eid != 0xE7:
        return cl
    esz, esn, _ = vint(cl, p + en)
    body = cl[cn + sn : p] + cl[p + en + esn + esz :]
    return cl[:cn] + (0x0100000000000000 | len(body)).to_bytes(8, "big") + body


# --- round 3: fudge room, PARSING_MEDIA_SEGMENT setters, durations, sequence mode edges ------------------

for _gap in (0.01, 0.05, 0.07, 0.1):
    case(
        f"pat_gap_video_{int(_gap * 1000)}ms",
        "pattern",
        f"video seg1, then seg2 shifted by +{_gap} s (gap vs fudge room), seg3 shifted likewise",
    )(
        lambda g=_gap: v_case(
            [
                ap("init.mp4"),
                ap("seg1.m4s"),
                {"op": "set", "timestampOffset": g},
                ap("seg2.m4s"),
                ap("seg3.m4s"),
            ]
        )
    )
    case(
        f"pat_gap_audio_{int(_gap * 1000)}ms",
        "pattern",
        f"AAC seg1, seg2 shifted by +{_gap} s, seg3 shifted by -{_gap / 2} s (overlap)",
    )(
        lambda g=_gap: aac_case(
            44100,
            [
                ap("init.mp4"),
                ap("seg1.m4s"),
                {"op": "set", "timestampOffset": g},
                ap("seg2.m4s"),
                {"op": "set", "timestampOffset": -g / 2},
                ap("seg3.m4s"),
            ],
        )
    )


def _half_media(file_len: int) -> list[int]:
    return [0, file_len // 2]


case(
    "pat_set_tso_mid_media_segment_mp4",
    "pattern",
    "half of seg2 (mid media segment), then set timestampOffset "
    "and mode (InvalidStateError?), rest of seg2, set again",
)(
    lambda: {
        **v_case([]),
        "ops": [
            ap("init.mp4"),
            ap("seg1.m4s"),
            ap("seg2.m4s", range=[0, len(avc30()[1][1]) // 2]),
            {"op": "set", "timestampOffset": 1},
            {"op": "set", "mode": "sequence"},
            ap("seg2.m4s", range=[len(avc30()[1][1]) // 2, len(avc30()[1][1])]),
            {"op": "set", "timestampOffset": 1},
            ap("seg3.m4s"),
        ],
    }
)
case(
    "pat_set_tso_mid_moof_mp4",
    "pattern",
    "first 40 bytes of seg2 (inside moof), set timestampOffset, abort, set timestampOffset, seg2",
)(
    lambda: {
        **v_case([]),
        "ops": [
            ap("init.mp4"),
            ap("seg1.m4s"),
            ap("seg2.m4s", range=[0, 40]),
            {"op": "set", "timestampOffset": 0.5},
            {"op": "abort"},
            {"op": "set", "timestampOffset": 0.5},
            ap("seg2.m4s"),
        ],
    }
)
case("pat_set_tso_mid_cluster_webm", "pattern", "WebM: half a cluster, set timestampOffset, rest, set, next")(
    lambda: {
        "sourceBuffers": [sb('video/webm; codecs="vp9"')],
        "ops": [
            ap("init.webm"),
            ap("seg1.webm", range=[0, len(webm_vp9()[1][0]) // 2]),
            {"op": "set", "timestampOffset": 2},
            {"op": "set", "mode": "sequence"},
            ap("seg1.webm", range=[len(webm_vp9()[1][0]) // 2, len(webm_vp9()[1][0])]),
            {"op": "set", "timestampOffset": 2},
            ap("seg2.webm"),
        ],
        "files": segfiles(*webm_vp9(), ext=".webm", iext=".webm"),
    }
)
case("pat_set_tso_mid_ts", "pattern", "TS: half of seg1 then set timestampOffset and mode; rest; seg2")(
    lambda: {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [
            ap("seg1.ts", range=[0, 188 * 200]),
            {"op": "set", "timestampOffset": 3},
            {"op": "set", "mode": "sequence"},
            ap("seg1.ts", range=[188 * 200, len(ts_avc_aac()[0])]),
            ap("seg2.ts"),
        ],
        "files": ts_files(ts_avc_aac()),
    }
)
case("pat_set_tso_mid_adts", "pattern", "ADTS: part1 cut mid-frame, set timestampOffset, rest, part2")(
    lambda: {
        "sourceBuffers": [sb("audio/aac")],
        "ops": [
            ap("p1.aac", range=[0, 1001]),
            {"op": "set", "timestampOffset": 3},
            ap("p1.aac", range=[1001, len(chunks(adts(48000), 4)[0])]),
            ap("p2.aac"),
        ],
        "files": {"p1.aac": chunks(adts(48000), 4)[0], "p2.aac": chunks(adts(48000), 4)[1]},
    }
)
case(
    "pat_set_mode_mid_mp3",
    "pattern",
    "MP3: part1 whole, set mode=sequence, part3, set timestampOffset=0, part2",
)(
    lambda: {
        "sourceBuffers": [sb("audio/mpeg")],
        "ops": [
            ap("p1.mp3"),
            {"op": "set", "mode": "sequence"},
            ap("p3.mp3"),
            {"op": "set", "timestampOffset": 0},
            ap("p2.mp3"),
        ],
        "files": {f"p{i}.mp3": c for i, c in enumerate(chunks(mp3(False)[1], 3), 1)},
    }
)
case(
    "pat_mode_sequence_after_appends",
    "pattern",
    "video seg1, seg3 in segments mode, then mode=sequence, seg2 (lands at group end 6 s?)",
)(
    lambda: v_case(
        [ap("init.mp4"), ap("seg1.m4s"), ap("seg3.m4s"), {"op": "set", "mode": "sequence"}, ap("seg2.m4s")]
    )
)
case(
    "pat_sequence_aw_start",
    "pattern",
    "sequence mode + appendWindowStart=1.0 video: seg1 (dropped), seg2, seg3",
)(lambda: v_case([{"op": "set", "mode": "sequence"}, {"op": "set", "appendWindowStart": 1.0}, *ALL3]))
case(
    "pat_sequence_changetype_audio",
    "pattern",
    "sequence mode AAC seg1, changeType opus, opus init, seg3, seg1",
)(
    lambda: {
        "sourceBuffers": [sb('audio/mp4; codecs="mp4a.40.2"')],
        "ops": [
            {"op": "set", "mode": "sequence"},
            ap("a_init.mp4"),
            ap("a1.m4s"),
            {"op": "changeType", "type": 'audio/mp4; codecs="opus"'},
            ap("o_init.mp4"),
            ap("o3.m4s"),
            ap("o1.m4s"),
        ],
        "files": {
            "a_init.mp4": aac(48000)[0],
            "a1.m4s": aac(48000)[1][0],
            "o_init.mp4": opus_mp4()[0],
            "o3.m4s": opus_mp4()[1][2],
            "o1.m4s": opus_mp4()[1][0],
        },
    }
)
case(
    "pat_muxed_eos_unequal_ends",
    "pattern",
    "muxed A/V whose audio outlasts video: all, endOfStream, remove(3.5, Infinity), endOfStream",
)(
    lambda: (
        mux_case(
            [
                *ALL4,
                ap("seg5.m4s"),
                {"op": "endOfStream"},
                {"op": "remove", "start": 3.5, "end": "Infinity"},
                {"op": "endOfStream"},
            ]
        )
        if len(avc_aac()[1]) >= 5
        else mux_case(
            [
                *ALL4,
                {"op": "endOfStream"},
                {"op": "remove", "start": 3.5, "end": "Infinity"},
                {"op": "endOfStream"},
            ]
        )
    )
)


@case(
    "pat_two_sb_one_empty_eos", "pattern", "two SourceBuffers, only video gets media: endOfStream, duration"
)
def _q1() -> dict[str, Any]:
    vi, vs = avc30()
    ai, _as = aac(48000)
    return {
        "sourceBuffers": [sb(T_AVC.format(avc_codec(vi)), "v"), sb('audio/mp4; codecs="mp4a.40.2"', "a")],
        "ops": [
            ap("v_init.mp4", sb="v"),
            ap("a_init.mp4", sb="a"),
            ap("v1.m4s", sb="v"),
            {"op": "endOfStream"},
            {"op": "set", "duration": 1},
            {"op": "remove", "start": 0, "end": 1, "sb": "v"},
        ],
        "files": {"v_init.mp4": vi, "v1.m4s": vs[0], "a_init.mp4": ai},
    }


@case(
    "pat_two_sb_duration_and_remove",
    "pattern",
    "video 0-6 + audio 0-4: duration=5 (below video end), remove video (4, Inf), duration=4.5, endOfStream",
)
def _q2() -> dict[str, Any]:
    vi, vs = avc30()
    ai, as_ = aac(48000)
    ops: Ops = [ap("v_init.mp4", sb="v"), ap("a_init.mp4", sb="a")]
    ops += [ap(f"v{i}.m4s", sb="v") for i in range(1, 4)] + [
        ap(f"a{i}.m4s", sb="a") for i in range(1, len(as_) + 1)
    ]
    ops += [
        {"op": "set", "duration": 5},
        {"op": "remove", "start": 4, "end": "Infinity", "sb": "v"},
        {"op": "set", "duration": 4.5},
        {"op": "endOfStream"},
    ]
    files = {
        "v_init.mp4": vi,
        "a_init.mp4": ai,
        **{f"v{i}.m4s": s for i, s in enumerate(vs, 1)},
        **{f"a{i}.m4s": s for i, s in enumerate(as_, 1)},
    }
    return {
        "sourceBuffers": [sb(T_AVC.format(avc_codec(vi)), "v"), sb('audio/mp4; codecs="mp4a.40.2"', "a")],
        "ops": ops,
        "files": files,
    }


case(
    "pat_remove_end_at_keyframe",
    "pattern",
    "video: remove(1.0, 2.0) (end exactly on the 2 s keyframe), remove(3.9, 4.0), remove(0, 0.001)",
)(
    lambda: v_case(
        [
            *ALL3,
            {"op": "remove", "start": 1.0, "end": 2.0},
            {"op": "remove", "start": 3.9, "end": 4.0},
            {"op": "remove", "start": 0, "end": 0.001},
        ]
    )
)
case("pat_remove_tiny_audio", "pattern", "AAC: remove(1.0, 1.001), remove(2.0213, 2.0214)")(
    lambda: aac_case(
        48000,
        [
            *ALL4,
            {"op": "remove", "start": 1.0, "end": 1.001},
            {"op": "remove", "start": 2.0213, "end": 2.0214},
        ],
    )
)
case("pat_remove_then_append_middle", "pattern", "B-frames: remove(0.5, 3.5) then seg2 again, seg3 again")(
    lambda: v_case(
        [*ALL4, {"op": "remove", "start": 0.5, "end": 3.5}, ap("seg2.m4s"), ap("seg3.m4s")], avc_bf25
    )
)
case("pat_many_small_appends", "pattern", "muxed seg1 fed in 997-byte appends")(
    lambda: {
        **mux_case([]),
        "ops": [
            ap("init.mp4"),
            *[
                ap("seg1.m4s", range=[a, min(a + 997, len(avc_aac()[1][0]))])
                for a in range(0, len(avc_aac()[1][0]), 997)
            ][:40],
            ap("seg2.m4s"),
        ],
    }
)
case("pat_eos_while_updating", "pattern", "endOfStream while an append is pending (batch) throws")(
    lambda: v_case(
        [
            ap("init.mp4"),
            {"op": "batch", "ops": [ap("seg1.m4s", wait=False), {"op": "endOfStream"}]},
            {"op": "waitIdle"},
            {"op": "endOfStream"},
        ]
    )
)
case(
    "pat_remove_while_updating_other_sb",
    "pattern",
    "two SBs: pending video append, remove on audio in the same batch",
)(
    lambda: {
        **_q2(),
        "ops": [
            ap("v_init.mp4", sb="v"),
            ap("a_init.mp4", sb="a"),
            ap("a1.m4s", sb="a"),
            {
                "op": "batch",
                "ops": [
                    ap("v1.m4s", sb="v", wait=False),
                    {"op": "remove", "start": 0, "end": 0.5, "sb": "a"},
                ],
            },
            {"op": "waitIdle"},
        ],
    }
)
case(
    "pat_duration_nan_infinity_sequence",
    "pattern",
    "sequence mode, duration=1 before media, appends extend it",
)(
    lambda: v_case(
        [
            {"op": "set", "mode": "sequence"},
            ap("init.mp4"),
            {"op": "set", "duration": 1},
            ap("seg2.m4s"),
            {"op": "set", "duration": 2.5},
            ap("seg1.m4s"),
        ]
    )
)
case("pat_tso_large_fraction_bframes", "pattern", "B-frames timestampOffset=1234.5678, then seg1, seg2")(
    lambda: v_case(
        [{"op": "set", "timestampOffset": 1234.5678}, ap("init.mp4"), ap("seg1.m4s"), ap("seg2.m4s")],
        avc_bf25,
    )
)
case(
    "pat_aw_end_before_first_frame",
    "pattern",
    "appendWindowEnd=0.01: nothing from seg1; then window reset and seg1",
)(
    lambda: aac_case(
        44100,
        [
            {"op": "set", "appendWindowEnd": 0.01},
            ap("init.mp4"),
            ap("seg1.m4s"),
            {"op": "set", "appendWindowEnd": "Infinity"},
            ap("seg1.m4s"),
        ],
    )
)
case("pat_aw_video_mid_gop_start_bframes", "pattern", "B-frames appendWindowStart=1.45 appendWindowEnd=3.3")(
    lambda: v_case([{"op": "set", "appendWindowStart": 1.45, "appendWindowEnd": 3.3}, *ALL4], avc_bf25)
)


# --- round 4: WebM duration estimation, SBR signalling, more audio-only WebM --------------------------------

EBML_MASTERS = {0x1654AE6B, 0xAE, 0xE0, 0xE1}  # Tracks, TrackEntry, Video, Audio


def ebml_drop_in_init(init: bytes, target: int) -> bytes:
    """Remove every ``target`` element inside the init's Tracks (sizes of its masters fixed in place)."""
    _eid, n = ebml_id(init, 0)
    size, sn, _ = vint(init, n)
    seg = n + sn + size
    _sid, n2 = ebml_id(init, seg)
    _s, sn2, _ = vint(init, seg + n2)

    def rebuild(data: bytes, start: int, end: int) -> bytes:
        out = b""
        p = start
        while p < end:
            eid, en = ebml_id(data, p)
            esz, esn, _ = vint(data, p + en)
            body_at = p + en + esn
            if eid == target:
                p = body_at + esz
                continue
            if eid in EBML_MASTERS:
                body = rebuild(data, body_at, body_at + esz)
                out += data[p : p + en] + ((1 << (7 * esn)) | len(body)).to_bytes(esn, "big") + body
            else:
                out += data[p : body_at + esz]
            p = body_at + esz
        return out

    head = seg + n2 + sn2
    return init[:head] + rebuild(init, head, len(init))


def webm_vorbis() -> tuple[bytes, list[bytes]]:
    return webm("vorbisonly", [*asrc(44100, 2), "-t", "3", "-c:a", "libvorbis", "-q:a", "2"], dash=False)


def webm_vp8() -> tuple[bytes, list[bytes]]:
    return webm(
        "vp8only",
        [
            *vsrc("24"),
            "-t",
            "3",
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "200k",
            "-g",
            "24",
            "-keyint_min",
            "24",
            "-an",
        ],
    )


case("webm_vorbis_audio", "webm", "Vorbis-only WebM, in order, remove(1, 1.5), endOfStream")(
    lambda: {
        "sourceBuffers": [sb('audio/webm; codecs="vorbis"')],
        "ops": [
            *inorder(len(webm_vorbis()[1]), ext=".webm", iext=".webm"),
            {"op": "remove", "start": 1, "end": 1.5},
            {"op": "endOfStream"},
        ],
        "files": segfiles(*webm_vorbis(), ext=".webm", iext=".webm"),
    }
)
case(
    "webm_vp8_no_default_duration",
    "webm",
    "VP8 24 fps WebM whose TrackEntry has no DefaultDuration "
    "(last-frame duration estimated), clusters 1,3, endOfStream",
)(
    lambda: {
        "sourceBuffers": [sb('video/webm; codecs="vp8"')],
        "ops": [ap("init.webm"), ap("seg1.webm"), ap("seg3.webm"), {"op": "endOfStream"}],
        "files": segfiles(
            ebml_drop_in_init(webm_vp8()[0], 0x23E383), webm_vp8()[1], ext=".webm", iext=".webm"
        ),
    }
)
case(
    "webm_vp9_no_default_duration_seq",
    "webm",
    "VP9 WebM without DefaultDuration in sequence mode: clusters 3,1,2",
)(
    lambda: {
        "sourceBuffers": [sb('video/webm; codecs="vp9"')],
        "ops": [
            {"op": "set", "mode": "sequence"},
            ap("init.webm"),
            ap("seg3.webm"),
            ap("seg1.webm"),
            ap("seg2.webm"),
        ],
        "files": segfiles(
            ebml_drop_in_init(webm_vp9()[0], 0x23E383), webm_vp9()[1], ext=".webm", iext=".webm"
        ),
    }
)
case("webm_vp8_each_cluster_unknown_eos", "webm", "VP8 unknown-size clusters, endOfStream after each of 2")(
    lambda: {
        "sourceBuffers": [sb('video/webm; codecs="vp8"')],
        "ops": [
            ap("init.webm"),
            ap("seg1.webm"),
            {"op": "endOfStream"},
            ap("seg2.webm"),
            {"op": "endOfStream"},
        ],
        "files": segfiles(
            webm_vp8()[0], [unknown_size_cluster(c) for c in webm_vp8()[1]], ext=".webm", iext=".webm"
        ),
    }
)
case(
    "webm_opus_unknown_sequence_gap",
    "webm",
    "Opus unknown-size clusters in sequence mode 2,4 then timestampOffset=0, 1",
)(
    lambda: {
        "sourceBuffers": [sb('audio/webm; codecs="opus"')],
        "ops": [
            {"op": "set", "mode": "sequence"},
            ap("init.webm"),
            ap("seg2.webm"),
            ap("seg4.webm"),
            {"op": "set", "timestampOffset": 0},
            ap("seg1.webm"),
        ],
        "files": segfiles(
            webm_opus()[0], [unknown_size_cluster(c) for c in webm_opus()[1]], ext=".webm", iext=".webm"
        ),
    }
)
for _codec in ("mp4a.40.5", "mp4a.40.29", "mp4a.40.02", "mp4a.40"):
    case(
        f"fmp4_aac22k_type_{_codec.replace('.', '_')}",
        "fmp4",
        f"AAC-LC 22.05 kHz fMP4 declared as {_codec} (implicit SBR signalling?)",
    )(
        lambda c=_codec: {
            "sourceBuffers": [sb(f'audio/mp4; codecs="{c}"')],
            "ops": [ap("init.mp4"), ap("seg1.m4s"), ap("seg2.m4s"), {"op": "endOfStream"}],
            "files": segfiles(
                *fmp4(
                    "aac22k",
                    [
                        *asrc(22050),
                        "-t",
                        "3",
                        "-c:a",
                        "aac",
                        "-vn",
                        "-movflags",
                        "+empty_moov+default_base_moof",
                        "-frag_duration",
                        "1000000",
                    ],
                )
            ),
        }
    )


def adts22() -> list[bytes]:
    return Src.get(
        "adts22",
        lambda: adts_frames(
            ff(
                "adts22", [*asrc(22050), "-t", "3", "-c:a", "aac", "-b:a", "32k", "-f", "adts"], ".aac"
            ).read_bytes()
        ),
    )


case("adts_22k_aw", "adts_mp3", "ADTS 22.05 kHz mono, appendWindow [0.5, 1.9), endOfStream")(
    lambda: {
        "sourceBuffers": [sb("audio/aac")],
        "ops": [
            {"op": "set", "appendWindowStart": 0.5, "appendWindowEnd": 1.9},
            ap("a.aac"),
            {"op": "endOfStream"},
        ],
        "files": {"a.aac": b"".join(adts22())},
    }
)
case("mp3_in_ts_audio_only", "ts", "TS audio-only MP3 (mp4a.6B)")(
    lambda: {
        "sourceBuffers": [sb('video/mp2t; codecs="mp4a.6B"')],
        "ops": [ap(f"seg{i}.ts") for i in range(1, 4)],
        "files": ts_files(ts("tsmp3only", [*asrc(44100, 2), "-t", "3", "-c:a", "libmp3lame", "-b:a", "96k"])),
    }
)
case("ts_audio_mp2t_type", "ts", "AAC-only TS declared as audio/mp2t")(
    lambda: {
        "sourceBuffers": [sb('audio/mp2t; codecs="mp4a.40.2"')],
        "ops": [ap("seg1.ts"), ap("seg2.ts")],
        "files": ts_files(ts_aac_only()),
    }
)


# --- round 5: codec strings and types (addSourceBuffer support, init vs declared codecs) -------------------

_AVC_TYPES = [
    ("avc1_high_declared", 'video/mp4; codecs="avc1.64001F"'),
    ("avc1_baseline_declared", 'video/mp4; codecs="avc1.42E01E"'),
    ("avc3_declared", 'video/mp4; codecs="avc3.4D401E"'),
    ("avc1_lowercase", 'video/mp4; codecs="avc1.4d401e"'),
    ("avc1_upper_prefix", 'video/mp4; codecs="AVC1.4D401E"'),
    ("avc1_short", 'video/mp4; codecs="avc1.4D40"'),
    ("avc1_bare", 'video/mp4; codecs="avc1"'),
    ("avc1_bad_hex", 'video/mp4; codecs="avc1.4D40ZZ"'),
    ("avc1_unquoted", "video/mp4; codecs=avc1.4D401E"),
    ("avc1_level_99", 'video/mp4; codecs="avc1.4D4063"'),
    ("no_codecs", "video/mp4"),
    ("mime_uppercase", 'VIDEO/MP4; codecs="avc1.4D401E"'),
    ("avc1_in_audio_mp4", 'audio/mp4; codecs="avc1.4D401E"'),
    ("avc1_plus_unused_aac", 'video/mp4; codecs="avc1.4D401E, mp4a.40.2"'),
    ("avc1_and_opus_declared", 'video/mp4; codecs="avc1.4D401E,opus"'),
    ("vp9_short_in_mp4", 'video/mp4; codecs="vp9"'),
    ("hev1_declared", 'video/mp4; codecs="hev1.1.6.L93.B0"'),
    ("extra_param", 'video/mp4; codecs="avc1.4D401E"; foo=bar'),
]
for _n, _t in _AVC_TYPES:
    case(f"brk_codecs_{_n}", "broken", f"H.264 Main fMP4 appended to addSourceBuffer('{_t}')")(
        lambda t=_t: {**v_case([ap("init.mp4"), ap("seg1.m4s"), ap("seg2.m4s")]), "sourceBuffers": [sb(t)]}
    )

_AAC_TYPES = [
    ("aac_declared_he", 'audio/mp4; codecs="mp4a.40.5"'),
    ("aac_declared_mp4a_67", 'audio/mp4; codecs="mp4a.67"'),
    ("aac_declared_mp4a_40_1", 'audio/mp4; codecs="mp4a.40.1"'),
    ("aac_declared_mp4a_40_42", 'audio/mp4; codecs="mp4a.40.42"'),
    ("aac_declared_opus", 'audio/mp4; codecs="opus"'),
    ("aac_declared_flac", 'audio/mp4; codecs="flac"'),
    ("aac_in_video_mp4", 'video/mp4; codecs="mp4a.40.2"'),
    ("aac_declared_Opus_case", 'audio/mp4; codecs="Opus"'),
    ("aac_declared_ec3", 'audio/mp4; codecs="ec-3"'),
]
for _n, _t in _AAC_TYPES:
    case(f"brk_codecs_{_n}", "broken", f"AAC-LC fMP4 appended to addSourceBuffer('{_t}')")(
        lambda t=_t: {
            **aac_case(48000, [ap("init.mp4"), ap("seg1.m4s"), ap("seg2.m4s")]),
            "sourceBuffers": [sb(t)],
        }
    )

_WEBM_TYPES = [
    ("webm_vp9_declared_vp8", 'video/webm; codecs="vp8"'),
    ("webm_vp9_declared_vp09_long", 'video/webm; codecs="vp09.00.10.08"'),
    ("webm_vp9_declared_vp9_opus", 'video/webm; codecs="vp9,opus"'),
    ("webm_vp9_no_codecs", "video/webm"),
    ("webm_vp9_as_audio_webm", 'audio/webm; codecs="vp9"'),
    ("webm_vp9_declared_av1", 'video/webm; codecs="av01.0.00M.08"'),
]
for _n, _t in _WEBM_TYPES:
    case(f"brk_codecs_{_n}", "broken", f"VP9 WebM appended to addSourceBuffer('{_t}')")(
        lambda t=_t: _webm_case(*webm_vp9(), t)
    )
case("brk_codecs_ts_declared_video_only", "broken", "TS with H.264+AAC declared as avc1 only")(
    lambda: {
        "sourceBuffers": [sb('video/mp2t; codecs="avc1.4D401E"')],
        "ops": [ap("seg1.ts"), ap("seg2.ts")],
        "files": ts_files(ts_avc_aac()),
    }
)
case("brk_codecs_ts_declared_aac_only", "broken", "TS with H.264+AAC declared as mp4a.40.2 only")(
    lambda: {
        "sourceBuffers": [sb('video/mp2t; codecs="mp4a.40.2"')],
        "ops": [ap("seg1.ts"), ap("seg2.ts")],
        "files": ts_files(ts_avc_aac()),
    }
)
case("brk_codecs_ts_no_codecs", "broken", "TS with H.264+AAC declared as plain video/mp2t")(
    lambda: {
        "sourceBuffers": [sb("video/mp2t")],
        "ops": [ap("seg1.ts"), ap("seg2.ts")],
        "files": ts_files(ts_avc_aac()),
    }
)
case("brk_codecs_adts_with_codecs", "broken", 'ADTS declared as audio/aac; codecs="mp4a.40.2"')(
    lambda: {
        "sourceBuffers": [sb('audio/aac; codecs="mp4a.40.2"')],
        "ops": [ap("p1.aac"), ap("p2.aac")],
        "files": {"p1.aac": chunks(adts(48000), 4)[0], "p2.aac": chunks(adts(48000), 4)[1]},
    }
)
case("brk_codecs_mp3_codecs_param", "broken", 'MP3 declared as audio/mpeg; codecs="mp3"')(
    lambda: {
        "sourceBuffers": [sb('audio/mpeg; codecs="mp3"')],
        "ops": [ap("p1.mp3"), ap("p2.mp3")],
        "files": {"p1.mp3": chunks(mp3(False)[1], 4)[0], "p2.mp3": chunks(mp3(False)[1], 4)[1]},
    }
)
case("brk_codecs_adts_as_mpeg", "broken", "ADTS AAC appended to audio/mpeg")(
    lambda: {
        "sourceBuffers": [sb("audio/mpeg")],
        "ops": [ap("p1.aac"), ap("p2.aac")],
        "files": {"p1.aac": chunks(adts(48000), 4)[0], "p2.aac": chunks(adts(48000), 4)[1]},
    }
)
case("brk_codecs_mp3_as_audio_mp3", "broken", "MP3 declared as audio/mp3")(
    lambda: {
        "sourceBuffers": [sb("audio/mp3")],
        "ops": [ap("p1.mp3")],
        "files": {"p1.mp3": chunks(mp3(False)[1], 4)[0]},
    }
)


# --- round 6: decoder-level corruption, negative audio offsets ---------------------------------------------


def corrupt_nal_payloads(seg: bytes, seed: int) -> bytes:
    """Random bytes inside every slice NAL of the mdat (NAL lengths and headers kept): a decoder problem,
    not a container one."""
    rnd = random.Random(seed)
    m = moof_size(seg)
    out = bytearray(seg)
    p, end = m + 8, len(seg)
    while p + 4 <= end:
        n = struct.unpack(">I", out[p : p + 4])[0]
        if n == 0 or p + 4 + n > end:
            break
        if out[p + 4] & 0x1F in (1, 5) and n > 16:
            out[p + 4 + 8 : p + 4 + n] = rnd.randbytes(n - 8)
        p += 4 + n
    return bytes(out)


def corrupt_mdat(seg: bytes, seed: int) -> bytes:
    m = moof_size(seg)
    return seg[: m + 8] + random.Random(seed).randbytes(len(seg) - m - 8)


case("brk_video_nal_payload_garbage", "broken", "seg2's slice NAL payloads randomised (NAL framing intact)")(
    lambda: brk_v(_seg(1, lambda s: corrupt_nal_payloads(s, 1)), [*ALL3, {"op": "endOfStream"}])
)
case("brk_audio_payload_garbage", "broken", "AAC seg2's mdat payload randomised, then seg3, endOfStream")(
    lambda: {
        **aac_case(48000, [*ALL3, {"op": "endOfStream"}]),
        "files": segfiles(
            aac(48000)[0], [aac(48000)[1][0], corrupt_mdat(aac(48000)[1][1], 2), *aac(48000)[1][2:]]
        ),
    }
)
case("brk_opus_payload_garbage", "broken", "Opus seg2's mdat payload randomised")(
    lambda: {
        "sourceBuffers": [sb('audio/mp4; codecs="opus"')],
        "ops": [*ALL3, {"op": "endOfStream"}],
        "files": segfiles(
            opus_mp4()[0], [opus_mp4()[1][0], corrupt_mdat(opus_mp4()[1][1], 3), *opus_mp4()[1][2:]]
        ),
    }
)
case(
    "pat_tso_negative_audio",
    "pattern",
    "AAC timestampOffset=-0.5 (frames before 0 trimmed), all, then timestampOffset=-1.01 seg3",
)(
    lambda: aac_case(
        44100,
        [
            {"op": "set", "timestampOffset": -0.5},
            *ALL4,
            {"op": "set", "timestampOffset": -1.01},
            ap("seg3.m4s"),
        ],
    )
)
case("pat_tso_negative_opus", "pattern", "Opus timestampOffset=-0.25 then all")(
    lambda: {
        "sourceBuffers": [sb('audio/mp4; codecs="opus"')],
        "ops": [{"op": "set", "timestampOffset": -0.25}, *ALL4],
        "files": segfiles(*opus_mp4()),
    }
)
case("pat_tso_negative_muxed", "pattern", "muxed A/V timestampOffset=-0.5 then seg1, seg2")(
    lambda: mux_case([{"op": "set", "timestampOffset": -0.5}, ap("init.mp4"), ap("seg1.m4s"), ap("seg2.m4s")])
)
case("pat_tso_negative_adts", "adts_mp3", "ADTS timestampOffset=-0.3 then parts 1, 2")(
    lambda: {
        "sourceBuffers": [sb("audio/aac")],
        "ops": [{"op": "set", "timestampOffset": -0.3}, ap("p1.aac"), ap("p2.aac")],
        "files": {"p1.aac": chunks(adts(48000), 4)[0], "p2.aac": chunks(adts(48000), 4)[1]},
    }
)
case("pat_tso_negative_webm_opus", "webm", "Opus WebM timestampOffset=-0.4 then all")(
    lambda: {
        "sourceBuffers": [sb('audio/webm; codecs="opus"')],
        "ops": [{"op": "set", "timestampOffset": -0.4}, *inorder(3, ext=".webm", iext=".webm")],
        "files": segfiles(*webm_opus(), ext=".webm", iext=".webm"),
    }
)


case("brk_video_nal_garbage_first", "broken", "seg1's slice NAL payloads randomised (decoded at preroll)")(
    lambda: brk_v(_seg(0, lambda s: corrupt_nal_payloads(s, 4)), [*ALL3, {"op": "endOfStream"}])
)
case("brk_audio_payload_garbage_first", "broken", "AAC seg1's payload randomised (decoded at preroll)")(
    lambda: {
        **aac_case(48000, [*ALL3, {"op": "endOfStream"}]),
        "files": segfiles(aac(48000)[0], [corrupt_mdat(aac(48000)[1][0], 5), *aac(48000)[1][1:]]),
    }
)
case("brk_vp9_payload_garbage_first", "broken", "VP9 WebM cluster 1 block payloads randomised")(
    lambda: _webm_case(
        webm_vp9()[0], [_garble_blocks(webm_vp9()[1][0], 6), *webm_vp9()[1][1:3]], 'video/webm; codecs="vp9"'
    )
)


def _garble_blocks(cl: bytes, seed: int) -> bytes:
    rnd = random.Random(seed)
    out = bytearray(cl)
    _cid, cn = ebml_id(cl, 0)
    _size, sn, _ = vint(cl, cn)
    p = cn + sn
    while p < len(cl):
        eid, en = ebml_id(cl, p)
        esz, esn, _ = vint(cl, p + en)
        if eid == 0xA3 and esz > 8:
            b = p + en + esn
            out[b + 4 : b + esz] = rnd.randbytes(esz - 4)
        p += en + esn + esz
    return bytes(out)


# --- round 8: the audio memory limit (Chromium: 12 MiB per audio stream) ----------------------------------


def aac_big() -> tuple[bytes, list[bytes]]:
    return fmp4(
        "aacbig",
        [
            "-f",
            "lavfi",
            "-i",
            "anoisesrc=color=white:sample_rate=48000:amplitude=0.5",
            "-ac",
            "2",
            "-t",
            "440",
            "-c:a",
            "aac",
            "-b:a",
            "256k",
            "-vn",
            "-movflags",
            "+empty_moov+default_base_moof",
            "-frag_duration",
            "20000000",
        ],
    )


case(
    "pat_quota_audio_evict",
    "pattern",
    "~14 MB of AAC (256 kb/s, 20 s fragments) appended in order: the 12 MiB "
    "audio limit makes Chromium evict from the front (or throw QuotaExceededError)",
)(
    lambda: {
        "sourceBuffers": [sb('audio/mp4; codecs="mp4a.40.2"')],
        "ops": inorder(len(aac_big()[1])),
        "files": segfiles(*aac_big()),
    }
)
case(
    "pat_quota_audio_out_of_order",
    "pattern",
    "the 256 kb/s AAC: last 12 fragments first, then the first 11 (eviction around the playback position 0)",
)(
    lambda: {
        "sourceBuffers": [sb('audio/mp4; codecs="mp4a.40.2"')],
        "ops": [ap("init.mp4")]
        + [ap(f"seg{i}.m4s") for i in range(len(aac_big()[1]) - 11, len(aac_big()[1]) + 1)]
        + [ap(f"seg{i}.m4s") for i in range(1, 12)],
        "files": segfiles(*aac_big()),
    }
)


# --- round 9: memory accounting per format (ADTS, MP3, Opus) ------------------------------------------------

NOISE = ["-f", "lavfi", "-i", "anoisesrc=color=white:sample_rate=48000:amplitude=0.5", "-ac", "2"]


def big_frames(name: str, args: list[str], suffix: str) -> list[bytes]:
    def make() -> list[bytes]:
        data = ff(name, [*NOISE, "-t", "440", *args], suffix).read_bytes()
        return adts_frames(data) if suffix == ".aac" else mp3_frames(data)[1]

    return Src.get(name, make)


def _quota_parts(frames: list[bytes], n: int) -> dict[str, bytes]:
    return {f"p{i}": c for i, c in enumerate(chunks(frames, n), 1)}


def _quota_ops(n: int) -> Ops:
    return [ap(f"p{i}") for i in range(n - 11, n + 1)] + [ap(f"p{i}") for i in range(1, n - 11)]


case(
    "pat_quota_adts", "adts_mp3", "~14 MB of ADTS AAC (256 kb/s) in 22 parts, last 12 first: eviction sizes"
)(
    lambda: {
        "sourceBuffers": [sb("audio/aac")],
        "ops": _quota_ops(22),
        "files": _quota_parts(
            big_frames("adtsbig", ["-c:a", "aac", "-b:a", "256k", "-f", "adts"], ".aac"), 22
        ),
    }
)
case("pat_quota_mp3", "adts_mp3", "~17 MB of MP3 (320 kb/s) in 22 parts, last 12 first: eviction sizes")(
    lambda: {
        "sourceBuffers": [sb("audio/mpeg")],
        "ops": _quota_ops(22),
        "files": _quota_parts(
            big_frames(
                "mp3big",
                [
                    "-c:a",
                    "libmp3lame",
                    "-b:a",
                    "320k",
                    "-write_xing",
                    "0",
                    "-id3v2_version",
                    "0",
                    "-f",
                    "mp3",
                ],
                ".mp3",
            ),
            22,
        ),
    }
)


def opus_big() -> tuple[bytes, list[bytes]]:
    return fmp4(
        "opusbig",
        [
            *NOISE,
            "-t",
            "440",
            "-c:a",
            "libopus",
            "-b:a",
            "256k",
            "-vn",
            "-movflags",
            "+empty_moov+default_base_moof",
            "-frag_duration",
            "20000000",
        ],
    )


case(
    "pat_quota_opus_mp4", "pattern", "~14 MB of Opus fMP4 (256 kb/s), last 12 fragments first: eviction sizes"
)(
    lambda: {
        "sourceBuffers": [sb('audio/mp4; codecs="opus"')],
        "ops": [ap("init.mp4")]
        + [ap(f"seg{i}.m4s") for i in range(len(opus_big()[1]) - 11, len(opus_big()[1]) + 1)]
        + [ap(f"seg{i}.m4s") for i in range(1, len(opus_big()[1]) - 11)],
        "files": segfiles(*opus_big()),
    }
)


# --- round 10: edit lists ---------------------------------------------------------------------------------


def insert_elst(init: bytes, nth_trak: int, entries: list[tuple[int, int]], version: int = 0) -> bytes:
    """An edts/elst with (segment_duration, media_time) entries inserted before the nth trak's mdia."""
    elst_payload = bytes([version, 0, 0, 0]) + struct.pack(">I", len(entries))
    rate = b"\x00\x01\x00\x00"
    entries_b = b""
    for dur, mt in entries:
        entries_b += (struct.pack(">Qq", dur, mt) if version else struct.pack(">Ii", dur, mt)) + rate
    elst = struct.pack(">I4s", 8 + len(elst_payload) + len(entries_b), b"elst") + elst_payload + entries_b
    edts = struct.pack(">I4s", 8 + len(elst), b"edts") + elst
    off, _size, anc = find_box(init, "moov/trak/mdia", nth_trak)
    trak_off = off  # insert right before mdia
    out = bytearray(init[:trak_off] + edts + init[trak_off:])
    _adjust_sizes(out, anc, len(edts))
    return bytes(out)


def _aac_with_elst(entries: list[tuple[int, int]], sr: int = 48000) -> dict[str, bytes]:
    init, segs = aac(sr)
    return segfiles(remove_box(init, "moov/trak/edts") if b"edts" in init else init, segs) | {
        "init.mp4": insert_elst(remove_box(init, "moov/trak/edts") if b"edts" in init else init, 0, entries)
    }


case("fmp4_aac_elst_1024", "fmp4", "AAC 48k with an elst media_time=1024 (priming) added")(
    lambda: {**aac_case(48000, ALL4), "files": _aac_with_elst([(0, 1024)])}
)
case("fmp4_aac44_elst_2112", "fmp4", "AAC 44.1k with elst media_time=2112, segments 2,1")(
    lambda: {
        **aac_case(44100, [ap("init.mp4"), ap("seg2.m4s"), ap("seg1.m4s")]),
        "files": _aac_with_elst([(0, 2112)], 44100),
    }
)
case("fmp4_aac_elst_empty_edit", "fmp4", "AAC with an empty edit (media_time -1, 0.5 s) then a normal edit")(
    lambda: {**aac_case(48000, ALL3), "files": _aac_with_elst([(500, -1), (0, 0)])}
)
case("fmp4_aac_elst_two_edits", "fmp4", "AAC with two normal edits (media_time 1024 and 48000)")(
    lambda: {**aac_case(48000, ALL3), "files": _aac_with_elst([(1000, 1024), (1000, 48000)])}
)


def _video_with_elst(
    src: Callable[[], tuple[bytes, list[bytes]]], mt: int, version: int = 0
) -> dict[str, bytes]:
    init, segs = src()
    return segfiles(insert_elst(init, 0, [(0, mt)], version), segs)


case(
    "fmp4_bframes_elst_cancel",
    "fmp4",
    "B-frames 25 fps with elst media_time = 2 frames (cancels the composition delay), 3,1,2",
)(
    lambda: {
        **v_case([ap("init.mp4"), ap("seg3.m4s"), ap("seg1.m4s"), ap("seg2.m4s")], avc_bf25),
        "files": _video_with_elst(avc_bf25, 2 * 512),
    }
)
case("fmp4_video_elst_v1_large", "fmp4", "video elst v1 media_time = 1.5 s (content starts at -1.5 s)")(
    lambda: {**v_case(ALL3), "files": _video_with_elst(avc30, 15360 * 3 // 2, 1)}
)


# --- round 11: top-level boxes around segments (emsg, prft, styp, sidx, uuid), WebM DocType and Cues --------


def _box(typ: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), typ) + payload


EMSG = _box(
    b"emsg", bytes([0, 0, 0, 0]) + b"urn:test\x00" + b"1\x00" + struct.pack(">IIII", 1000, 0, 500, 7) + b"hi"
)
EMSG1 = _box(
    b"emsg", bytes([1, 0, 0, 0]) + struct.pack(">IQII", 1000, 0, 500, 7) + b"urn:test\x00" + b"1\x00" + b"hi"
)
STYP = _box(b"styp", b"msdh" + struct.pack(">I", 0) + b"msdhmsix")
PRFT = _box(b"prft", bytes([1, 0, 0, 0]) + struct.pack(">IQQ", 1, 0x1234, 0))
UUID = _box(b"uuid", bytes(16) + b"payload")


def _sidx(seg: bytes) -> bytes:
    return _box(
        b"sidx",
        bytes([0, 0, 0, 0])
        + struct.pack(">IIIIHH", 1, 15360, 0, 0, 0, 1)
        + struct.pack(">III", len(seg) & 0x7FFFFFFF, 2 * 15360, 0x90000000),
    )


for _n, _pre, _d in [
    ("emsg_v0", lambda s: EMSG + s, "an emsg v0 box before every moof"),
    ("emsg_v1", lambda s: EMSG1 + s, "an emsg v1 box before every moof"),
    ("styp_sidx", lambda s: STYP + _sidx(s) + s, "styp + sidx before every moof"),
    ("prft", lambda s: PRFT + s, "a prft box before every moof"),
    ("uuid", lambda s: UUID + s, "a uuid box before every moof"),
    (
        "emsg_between_moof_mdat",
        lambda s: s[: moof_size(s)] + EMSG + s[moof_size(s) :],
        "an emsg between moof and mdat (trun offsets now wrong)",
    ),
]:
    case(f"fmp4_box_{_n}", "fmp4", f"H.264 fMP4 with {_d}")(
        lambda p=_pre: brk_v(lambda i, s: (i, [p(x) for x in s]), [*ALL3, {"op": "endOfStream"}])
    )


def _webm_doctype(init: bytes, doctype: bytes) -> bytes:
    _eid, n = ebml_id(init, 0)
    size, sn, _ = vint(init, n)
    body = init[n + sn : n + sn + size]
    out = b""
    p = 0
    while p < len(body):
        eid, en = ebml_id(body, p)
        esz, esn, _ = vint(body, p + en)
        if eid == 0x4282:
            out += body[p : p + en] + bytes([0x80 | len(doctype)]) + doctype
        else:
            out += body[p : p + en + esn + esz]
        p += en + esn + esz
    return init[:n] + bytes([0x80 | len(out)]) + out + init[n + sn + size :]


case("webm_doctype_matroska", "webm", "VP9 WebM whose EBML DocType says 'matroska'")(
    lambda: _webm_case(_webm_doctype(webm_vp9()[0], b"matroska"), webm_vp9()[1], 'video/webm; codecs="vp9"')
)
case("webm_doctype_garbage", "broken", "VP9 WebM whose EBML DocType says 'xyz'")(
    lambda: _webm_case(_webm_doctype(webm_vp9()[0], b"xyz"), webm_vp9()[1], 'video/webm; codecs="vp9"')
)
case("webm_cues_between_clusters", "webm", "VP9: a Cues element (one CuePoint) between clusters 1 and 2")(
    lambda: _webm_case(
        webm_vp9()[0],
        [
            webm_vp9()[1][0] + bytes.fromhex("1C53BB6B8CBB8AB38100B785F78101F182"),
            webm_vp9()[1][1],
            webm_vp9()[1][2],
        ],
        'video/webm; codecs="vp9"',
    )
)
case("webm_tags_after_tracks", "webm", "VP9 init with a Tags element after Tracks")(
    lambda: _webm_case(
        webm_vp9()[0] + bytes.fromhex("1254C3678B73738867C88545A380448780"),
        webm_vp9()[1],
        'video/webm; codecs="vp9"',
    )
)


# --- round 12: TS aborts and discontinuities --------------------------------------------------------------

for _cut in (3, 40, 150, 333):
    case(f"ts_abort_after_{_cut}_packets", "ts", f"TS seg1, first {_cut} packets of seg2, abort, seg3, seg2")(
        lambda c=_cut: {
            "sourceBuffers": [sb(TS_AV)],
            "ops": [
                ap("seg1.ts"),
                ap("seg2.ts", range=[0, 188 * c]),
                {"op": "abort"},
                ap("seg3.ts"),
                ap("seg2.ts"),
            ],
            "files": ts_files(ts_avc_aac()),
        }
    )
case("ts_abort_bframes_mid", "ts", "TS B-frames seg1, half of seg2, abort, seg3")(
    lambda: {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [
            ap("seg1.ts"),
            ap("seg2.ts", range=[0, (len(ts_avc_aac_offset()[1]) // 376) * 188]),
            {"op": "abort"},
            ap("seg3.ts"),
        ],
        "files": ts_files(ts_avc_aac_offset()),
    }
)
case("ts_pts_jump_back_one_append", "ts", "TS from a PTS-11.4 encode then a PTS-1.4 encode in one append")(
    lambda: {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [ap("a.ts")],
        "files": {"a.ts": ts_avc_aac_offset()[0] + ts_avc_aac()[0]},
    }
)
case("ts_pts_jump_sequence", "ts", "sequence mode: PTS-11.4 TS seg1 then PTS-1.4 TS seg2 (separate appends)")(
    lambda: {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [{"op": "set", "mode": "sequence"}, ap("a.ts"), ap("b.ts"), ap("c.ts")],
        "files": {"a.ts": ts_avc_aac_offset()[0], "b.ts": ts_avc_aac()[1], "c.ts": ts_avc_aac()[2]},
    }
)
case("ts_abort_sequence_mode", "ts", "sequence mode TS: seg1, half of seg2, abort, seg3")(
    lambda: {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [
            {"op": "set", "mode": "sequence"},
            ap("seg1.ts"),
            ap("seg2.ts", range=[0, 188 * 300]),
            {"op": "abort"},
            ap("seg3.ts"),
        ],
        "files": ts_files(ts_avc_aac()),
    }
)
case("ts_audio_only_abort", "ts", "AAC-only TS: seg1, 100 packets of seg2, abort, seg2")(
    lambda: {
        "sourceBuffers": [sb('video/mp2t; codecs="mp4a.40.2"')],
        "ops": [ap("seg1.ts"), ap("seg2.ts", range=[0, 188 * 20]), {"op": "abort"}, ap("seg2.ts")],
        "files": ts_files(ts_aac_only()),
    }
)


# --- round 13: codecs Chromium may refuse, esds object types ----------------------------------------------


def _esds_oti(init: bytes, oti: int) -> bytes:
    """Rewrite the DecoderConfigDescriptor objectTypeIndication in the esds."""
    at = init.index(b"esds") + 8
    p = init.index(b"\x04", at)  # DecoderConfigDescrTag
    q = p + 1
    while init[q] & 0x80:
        q += 1
    return patch(init, q + 1, bytes([oti]))


for _n, _args, _t in [
    ("ac3", ["-c:a", "ac3", "-b:a", "128k", "-movflags", "+delay_moov"], 'audio/mp4; codecs="ac-3"'),
    ("eac3", ["-c:a", "eac3", "-b:a", "128k", "-movflags", "+delay_moov"], 'audio/mp4; codecs="ec-3"'),
    ("alac", ["-c:a", "alac"], 'audio/mp4; codecs="alac"'),
]:
    case(f"fmp4_{_n}_support", "fmp4", f"{_n} in fMP4 ({_t})")(
        lambda n=_n, a=_args, t=_t: {
            "sourceBuffers": [sb(t)],
            "ops": inorder(2),
            "files": segfiles(*fmp4(f"{n}mp4", [*asrc(48000, 2), "-t", "3", *a, "-vn", *FRAG_1S])),
        }
    )
case(
    "fmp4_esds_oti_67_declared_67", "fmp4", "AAC esds objectTypeIndication 0x67 (MPEG-2 AAC LC), type mp4a.67"
)(
    lambda: {
        **aac_case(48000, ALL3),
        "sourceBuffers": [sb('audio/mp4; codecs="mp4a.67"')],
        "files": segfiles(_esds_oti(aac(48000)[0], 0x67), aac(48000)[1]),
    }
)
case("fmp4_esds_oti_67_declared_40_2", "fmp4", "AAC esds objectTypeIndication 0x67, type mp4a.40.2")(
    lambda: {**aac_case(48000, ALL3), "files": segfiles(_esds_oti(aac(48000)[0], 0x67), aac(48000)[1])}
)
case("brk_esds_oti_6b_aac_payload", "broken", "AAC payload with esds objectTypeIndication 0x6B (MP3)")(
    lambda: {**aac_case(48000, ALL3), "files": segfiles(_esds_oti(aac(48000)[0], 0x6B), aac(48000)[1])}
)
case("brk_esds_oti_66_mpeg2_main", "broken", "AAC esds objectTypeIndication 0x66 (MPEG-2 AAC Main)")(
    lambda: {**aac_case(48000, ALL3), "files": segfiles(_esds_oti(aac(48000)[0], 0x66), aac(48000)[1])}
)
# --- round 14: truncation sweeps (a segment cut at many places, then the next one) --------------------------


def _cut_points(seg: bytes) -> dict[str, int]:
    m = moof_size(seg)
    tfhd = find_box(seg, "moof/traf/tfhd")[0]
    trun = find_box(seg, "moof/traf/trun")[0]
    return {
        "moof_hdr": 4,
        "mfhd": 20,
        "tfhd": tfhd + 10,
        "trun_hdr": trun + 6,
        "trun_mid": trun + 40,
        "mdat_hdr": m + 4,
        "mdat_first_sample": m + 100,
        "mdat_end": len(seg) - 1,
    }


for _where in (
    "moof_hdr",
    "mfhd",
    "tfhd",
    "trun_hdr",
    "trun_mid",
    "mdat_hdr",
    "mdat_first_sample",
    "mdat_end",
):
    case(f"brk_cut_{_where}", "broken", f"seg2 cut at {_where}, then seg3, endOfStream")(
        lambda w=_where: brk_v(_seg(1, lambda s: s[: _cut_points(s)[w]]), [*ALL3, {"op": "endOfStream"}])
    )
    case(f"brk_cut_{_where}_abort", "broken", f"seg2 cut at {_where}, abort, seg3")(
        lambda w=_where: brk_v(
            _seg(1, lambda s: s[: _cut_points(s)[w]]), [*ALL3[:3], {"op": "abort"}, ALL3[3]]
        )
    )

for _frac in (0.001, 0.3, 0.999):
    case(
        f"brk_webm_cut_{int(_frac * 1000)}",
        "broken",
        f"VP9 cluster 2 cut at {_frac:.1%}, then cluster 3, eos",
    )(
        lambda f=_frac: _webm_case(
            webm_vp9()[0],
            [webm_vp9()[1][0], webm_vp9()[1][1][: max(1, int(len(webm_vp9()[1][1]) * f))], webm_vp9()[1][2]],
            'video/webm; codecs="vp9"',
            [ap("init.webm"), ap("seg1.webm"), ap("seg2.webm"), ap("seg3.webm"), {"op": "endOfStream"}],
        )
    )
    case(
        f"brk_ts_cut_{int(_frac * 1000)}",
        "broken",
        f"TS seg2 cut at {_frac:.1%} (not packet aligned), then seg3",
    )(
        lambda f=_frac: {
            "sourceBuffers": [sb(TS_AV)],
            "ops": [ap("seg1.ts"), ap("seg2.ts"), ap("seg3.ts"), {"op": "endOfStream"}],
            "files": {
                "seg1.ts": ts_avc_aac()[0],
                "seg3.ts": ts_avc_aac()[2],
                "seg2.ts": ts_avc_aac()[1][: max(1, int(len(ts_avc_aac()[1]) * f))],
            },
        }
    )
    case(f"brk_adts_cut_{int(_frac * 1000)}", "broken", f"ADTS part2 cut at {_frac:.1%}, then part3, eos")(
        lambda f=_frac: {
            "sourceBuffers": [sb("audio/aac")],
            "ops": [ap("p1.aac"), ap("p2.aac"), ap("p3.aac"), {"op": "endOfStream"}],
            "files": {
                "p1.aac": chunks(adts(44100), 4)[0],
                "p3.aac": chunks(adts(44100), 4)[2],
                "p2.aac": chunks(adts(44100), 4)[1][: max(1, int(len(chunks(adts(44100), 4)[1]) * f))],
            },
        }
    )


# --- round 15: mdat cut sweep per codec (does the swallowed next segment fail the append?) -----------------


def _cut_mdat(seg: bytes, frac: float) -> bytes:
    m = moof_size(seg)
    return seg[: m + 8 + int((len(seg) - m - 8) * frac)]


for _frac in (0.01, 0.05, 0.2, 0.6, 0.9):
    _k = int(_frac * 100)
    case(
        f"brk_mdatcut_video_{_k}", "broken", f"video seg2's mdat cut at {_frac:.0%}, then seg3, endOfStream"
    )(lambda f=_frac: brk_v(_seg(1, lambda s: _cut_mdat(s, f)), [*ALL3, {"op": "endOfStream"}]))
    case(f"brk_mdatcut_bframes_{_k}", "broken", f"B-frame seg2's mdat cut at {_frac:.0%}, then seg3, seg4")(
        lambda f=_frac: brk_v(_seg(1, lambda s: _cut_mdat(s, f)), ALL4, avc_bf25)
    )
    case(f"brk_mdatcut_audio_{_k}", "broken", f"AAC seg2's mdat cut at {_frac:.0%}, then seg3, seg4")(
        lambda f=_frac: {
            **aac_case(48000, ALL4),
            "files": segfiles(
                aac(48000)[0], [aac(48000)[1][0], _cut_mdat(aac(48000)[1][1], f), *aac(48000)[1][2:]]
            ),
        }
    )
    case(f"brk_mdatcut_muxed_{_k}", "broken", f"muxed seg2's mdat cut at {_frac:.0%}, then seg3, seg4")(
        lambda f=_frac: {
            **mux_case(ALL4),
            "files": segfiles(
                avc_aac()[0], [avc_aac()[1][0], _cut_mdat(avc_aac()[1][1], f), *avc_aac()[1][2:]]
            ),
        }
    )


# --- round 16: one bad NAL length inside a non-key sample ---------------------------------------------------


def _bad_nal_length(seg: bytes, sample_index: int) -> bytes:
    """Overwrite the first NAL length of sample ``sample_index`` (by trun order) with a value past the
    sample's end."""
    off = find_box(seg, "moof/traf/trun")[0]
    flags = int.from_bytes(seg[off + 9 : off + 12], "big")
    n = struct.unpack(">I", seg[off + 12 : off + 16])[0]
    p = off + 16
    data_offset = struct.unpack(">i", seg[p : p + 4])[0] if flags & 1 else 0
    p += (4 if flags & 1 else 0) + (4 if flags & 4 else 0)
    per = sum(4 for b in (0x100, 0x200, 0x400, 0x800) if flags & b)
    tfhd = find_box(seg, "moof/traf/tfhd")[0]
    tflags = int.from_bytes(seg[tfhd + 9 : tfhd + 12], "big")
    q = tfhd + 16 + (8 if tflags & 1 else 0) + (4 if tflags & 2 else 0) + (4 if tflags & 8 else 0)
    default_size = struct.unpack(">I", seg[q : q + 4])[0] if tflags & 0x10 else 0
    pos = data_offset  # default-base-is-moof: relative to the moof at 0
    for i in range(min(n, sample_index + 1)):
        size = (
            struct.unpack(">I", seg[p + i * per + (4 if flags & 0x100 else 0) :][:4])[0]
            if flags & 0x200
            else default_size
        )
        if i == sample_index:
            return patch(seg, pos, struct.pack(">I", size + 1000))
        pos += size
    return seg


for _idx in (1, 7, 20):
    case(
        f"brk_nal_length_sample{_idx}",
        "broken",
        f"seg2's sample {_idx} (non-key) has a NAL length past its end",
    )(lambda i=_idx: brk_v(_seg(1, lambda s: _bad_nal_length(s, i)), [*ALL3, {"op": "endOfStream"}]))
case("brk_nal_length_bframes", "broken", "B-frame seg2's sample 3 has a NAL length past its end")(
    lambda: brk_v(_seg(1, lambda s: _bad_nal_length(s, 3)), ALL4, avc_bf25)
)


# --- round 17: corrupted H.264 elementary stream inside TS packets -----------------------------------------


def _ts_corrupt_video(seg: bytes, every: int, seed: int) -> bytes:
    """Random payload in every ``every``-th video packet that does not start a PES (headers kept)."""
    rnd = random.Random(seed)
    out = bytearray(seg)
    vid = None
    count = 0
    for k in range(len(out) // 188):
        p = k * 188
        pid = ((out[p + 1] & 0x1F) << 8) | out[p + 2]
        pusi = out[p + 1] & 0x40
        if vid is None and pusi and out[p + 4 : p + 7] == b"\x00\x00\x01" and 0xE0 <= out[p + 7] <= 0xEF:
            vid = pid
        if pid != vid or pusi or out[p + 3] & 0x20:  # keep PES starts and packets with adaptation fields
            continue
        count += 1
        if count % every == 0:
            out[p + 4 : p + 188] = rnd.randbytes(184)
    return bytes(out)


for _every in (5, 50):
    case(
        f"brk_ts_video_payload_garbage_{_every}",
        "broken",
        f"TS seg2: every {_every}th video packet's payload randomised",
    )(
        lambda e=_every: {
            "sourceBuffers": [sb(TS_AV)],
            "ops": [ap("seg1.ts"), ap("seg2.ts"), ap("seg3.ts")],
            "files": {
                "seg1.ts": ts_avc_aac()[0],
                "seg3.ts": ts_avc_aac()[2],
                "seg2.ts": _ts_corrupt_video(ts_avc_aac()[1], e, 9),
            },
        }
    )


# --- round 18: odd field values (robustness) ---------------------------------------------------------------


def _mdhd_timescale(init: bytes, value: int) -> bytes:
    off = find_box(init, "moov/trak/mdia/mdhd")[0]
    version = init[off + 8]
    at = off + 12 + (16 if version == 1 else 8)
    return patch(init, at, struct.pack(">I", value))


def _stsd_count(init: bytes, value: int) -> bytes:
    at = init.index(b"stsd") + 8
    return patch(init, at, struct.pack(">I", value))


def _tfhd_sdi(seg: bytes, value: int) -> bytes:
    off = find_box(seg, "moof/traf/tfhd")[0]
    flags = int.from_bytes(seg[off + 9 : off + 12], "big")
    if not flags & 2:
        # add sample_description_index by flag: rebuild is complex; use trex instead (caller)
        return seg
    at = off + 16 + (8 if flags & 1 else 0)
    return patch(seg, at, struct.pack(">I", value))


def _trex_sdi(init: bytes, value: int) -> bytes:
    off = find_box(init, "moov/mvex/trex")[0]
    return patch(init, off + 16, struct.pack(">I", value))


def _trun_count(seg: bytes, value: int) -> bytes:
    off = find_box(seg, "moof/traf/trun")[0]
    return patch(seg, off + 12, struct.pack(">I", value))


def _avcc_no_sps(init: bytes) -> bytes:
    at = init.index(b"avcC") + 4
    # numOfSequenceParameterSets lives in the low 5 bits of byte 5 of the avcC payload
    return patch(init, at + 5, bytes([init[at + 5] & 0xE0]))


case("brk_mdhd_timescale_zero", "broken", "init's mdhd timescale = 0")(
    lambda: brk_v(_init(lambda i: _mdhd_timescale(i, 0)))
)
case("brk_mdhd_timescale_one", "broken", "init's mdhd timescale = 1 (frame durations round to 0/1 s)")(
    lambda: brk_v(_init(lambda i: _mdhd_timescale(i, 1)))
)
case("brk_stsd_count_zero", "broken", "init's stsd entry_count = 0")(
    lambda: brk_v(_init(lambda i: _stsd_count(i, 0)))
)
case("brk_trex_sdi_zero", "broken", "trex default_sample_description_index = 0")(
    lambda: brk_v(_init(lambda i: _trex_sdi(i, 0)))
)
case("brk_trex_sdi_two", "broken", "trex default_sample_description_index = 2 (only one entry)")(
    lambda: brk_v(_init(lambda i: _trex_sdi(i, 2)))
)
case("brk_trun_count_huge", "broken", "seg2's trun sample_count = 0x7fffffff")(
    lambda: brk_v(_seg(1, lambda s: _trun_count(s, 0x7FFFFFFF)))
)
case("brk_trun_count_zero", "broken", "seg2's trun sample_count = 0")(
    lambda: brk_v(_seg(1, lambda s: _trun_count(s, 0)))
)
case("brk_avcc_no_sps", "broken", "avcC declares 0 SPS (the PPS bytes follow)")(
    lambda: brk_v(_init(_avcc_no_sps))
)
case("brk_audio_mdhd_timescale_zero", "broken", "AAC init's mdhd timescale = 0")(
    lambda: {**aac_case(48000, ALL3), "files": segfiles(_mdhd_timescale(aac(48000)[0], 0), aac(48000)[1])}
)


def mp2_data() -> bytes:
    return ff(
        "mp2", [*asrc(44100, 2), "-t", "3", "-c:a", "mp2", "-b:a", "192k", "-f", "mp2"], ".mp2"
    ).read_bytes()


case("mpeg_layer2_in_audio_mpeg", "adts_mp3", "MPEG-1 Layer II audio appended to audio/mpeg (2 byte ranges)")(
    lambda: {
        "sourceBuffers": [sb("audio/mpeg")],
        "ops": [
            ap("a.mp2", range=[0, len(mp2_data()) // 2]),
            ap("a.mp2", range=[len(mp2_data()) // 2, len(mp2_data())]),
            {"op": "endOfStream"},
        ],
        "files": {"a.mp2": mp2_data()},
    }
)


def _adts_with_crc(frames: list[bytes]) -> bytes:
    """ADTS frames rewritten with protection_absent = 0 and a (dummy) 16-bit CRC after the header."""
    out = b""
    for f in frames:
        h = bytearray(f[:7])
        h[1] &= 0xFE  # protection_absent = 0
        ln = len(f) + 2
        h[3] = (h[3] & 0xFC) | ((ln >> 11) & 3)
        h[4] = (ln >> 3) & 0xFF
        h[5] = ((ln & 7) << 5) | (h[5] & 0x1F)
        out += bytes(h) + b"\x00\x00" + f[7:]
    return out


case("adts_with_crc", "adts_mp3", "ADTS frames with protection_absent = 0 (CRC words present)")(
    lambda: {
        "sourceBuffers": [sb("audio/aac")],
        "ops": [ap("a.aac"), {"op": "endOfStream"}],
        "files": {"a.aac": _adts_with_crc(adts(48000)[:120])},
    }
)


# --- round 19: mixed formats across SourceBuffers ----------------------------------------------------------


@case(
    "pat_two_sb_webm_video_mp4_audio",
    "pattern",
    "WebM VP9 video + fMP4 AAC audio in two SourceBuffers, audio seg3 skipped, endOfStream",
)
def _m_1() -> dict[str, Any]:
    wi, wc = webm_vp9()
    ai, as_ = aac(48000)
    files = {
        "v_init.webm": wi,
        **{f"v{i}.webm": c for i, c in enumerate(wc, 1)},
        "a_init.mp4": ai,
        **{f"a{i}.m4s": s for i, s in enumerate(as_, 1)},
    }
    ops: Ops = [ap("v_init.webm", sb="v"), ap("a_init.mp4", sb="a")]
    for i in range(1, 5):
        ops.append(ap(f"v{i}.webm", sb="v"))
        if i != 3:
            ops.append(ap(f"a{i}.m4s", sb="a"))
    ops.append({"op": "endOfStream"})
    return {
        "sourceBuffers": [sb('video/webm; codecs="vp9"', "v"), sb('audio/mp4; codecs="mp4a.40.2"', "a")],
        "ops": ops,
        "files": files,
    }


@case(
    "pat_two_sb_ts_video_adts_audio",
    "pattern",
    "TS H.264-only video + ADTS audio in two SourceBuffers, sequence mode on the audio",
)
def _m_2() -> dict[str, Any]:
    v = ts_avc_only()
    parts = chunks(adts(48000), 4)
    files = {
        **{f"v{i}.ts": s for i, s in enumerate(v, 1)},
        **{f"a{i}.aac": p for i, p in enumerate(parts, 1)},
    }
    ops: Ops = [{"op": "set", "mode": "sequence", "sb": "a"}]
    for i in range(1, 4):
        ops += [ap(f"v{i}.ts", sb="v"), ap(f"a{i}.aac", sb="a")]
    ops.append({"op": "endOfStream"})
    return {
        "sourceBuffers": [sb('video/mp2t; codecs="avc1.4D401E"', "v"), sb("audio/aac", "a")],
        "ops": ops,
        "files": files,
    }


@case(
    "pat_changetype_webm_to_mp4_sequence",
    "pattern",
    "sequence mode: WebM Opus clusters 1,2, changeType to fMP4 AAC, AAC init + seg3, seg4",
)
def _m_3() -> dict[str, Any]:
    oi, oc = webm_opus()
    ai, as_ = aac(48000)
    return {
        "sourceBuffers": [sb('audio/webm; codecs="opus"')],
        "ops": [
            {"op": "set", "mode": "sequence"},
            ap("o_init.webm"),
            ap("o1.webm"),
            ap("o2.webm"),
            {"op": "changeType", "type": 'audio/mp4; codecs="mp4a.40.2"'},
            ap("a_init.mp4"),
            ap("a3.m4s"),
            ap("a4.m4s"),
            {"op": "endOfStream"},
        ],
        "files": {
            "o_init.webm": oi,
            "o1.webm": oc[0],
            "o2.webm": oc[1],
            "a_init.mp4": ai,
            "a3.m4s": as_[2],
            "a4.m4s": as_[3],
        },
    }


case("ts_video_only_eos", "ts", "TS H.264-only (muxdelay 0) segments 1..3 then endOfStream")(
    lambda: {
        "sourceBuffers": [sb('video/mp2t; codecs="avc1.4D401E"')],
        "ops": [ap("seg1.ts"), ap("seg2.ts"), ap("seg3.ts"), {"op": "endOfStream"}],
        "files": ts_files(ts_avc_only()),
    }
)
case(
    "ts_video_only_abort_end", "ts", "TS H.264-only segments 1..3 then abort (parser flush) and endOfStream"
)(
    lambda: {
        "sourceBuffers": [sb('video/mp2t; codecs="avc1.4D401E"')],
        "ops": [ap("seg1.ts"), ap("seg2.ts"), ap("seg3.ts"), {"op": "abort"}, {"op": "endOfStream"}],
        "files": ts_files(ts_avc_only()),
    }
)
case("ts_avc_aac_eos_only", "ts", "TS H.264+AAC segments 1..4 then endOfStream")(
    lambda: {
        "sourceBuffers": [sb(TS_AV)],
        "ops": [*(ap(f"seg{i}.ts") for i in range(1, 5)), {"op": "endOfStream"}],
        "files": ts_files(ts_avc_aac()),
    }
)


# ---------------------------------------------------------------------------------------------------------
# writing, recording, comparing


def write_case(name: str, work: Path) -> Path:
    c = CASES[name]()
    d = work / "cases" / name
    d.mkdir(parents=True, exist_ok=True)
    files = c.pop("files")
    meta = {}
    for fn, data in files.items():
        p = d / fn
        if not p.exists() or p.read_bytes() != data:
            p.write_bytes(data)
        meta[fn] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    doc = {
        "id": name,
        "category": c["category"],
        "description": c["description"],
        "sourceBuffers": c["sourceBuffers"],
        "ops": c["ops"],
        "files": meta,
    }
    text = json.dumps(doc, indent=1)
    cj = d / "case.json"
    if not cj.exists() or cj.read_text() != text:
        cj.write_text(text)
    return cj


def case_key(cj: Path) -> str:
    return hashlib.sha1(cj.read_bytes()).hexdigest()


def record(harness: Any, cj: Path, gold: Path) -> dict[str, Any]:
    from msetool.scenario import load_scenario

    rec: dict[str, Any] = harness.run(load_scenario(cj))
    rec["caseKey"] = case_key(cj)
    rec.pop("mediaLog", None)
    gold.write_text(json.dumps(rec, indent=1))
    return rec


def simulate_diffs(cj: Path, gold: dict[str, Any]) -> tuple[int, list[str]]:
    from msetool.browser.compare import step_differences
    from msetool.cli.verify_cmd import run_simulator
    from msetool.scenario import load_scenario

    try:
        sim = run_simulator(load_scenario(cj), "chromium")
    except Exception as e:  # a crash is a finding too
        return len(gold["steps"]), [f"simulator crashed: {type(e).__name__}: {e}"]
    bad = []
    for i, g in enumerate(gold["steps"]):
        m = sim["steps"][i] if i < len(sim["steps"]) else {}
        why = [w.replace("vs reference", "vs browser") for w in step_differences(m, g)]
        if why:
            op = g["op"]
            what = op.get("op") + (" " + op["file"] if "file" in op else "")
            bexc = (g.get("exception") or {}).get("name")
            verr = (((g.get("state") or {}).get("video") or {}).get("error") or {}).get("message")
            merr = m.get("error")
            extra = f" [browser exc={bexc} videoerr={verr!r}; sim error={merr!r} exc={m.get('exception')!r}]"
            bad.append(f"step {i} {what}: " + "; ".join(why) + extra)
    return len(gold["steps"]), bad


def validate_diff(cj: Path, gold: dict[str, Any]) -> str | None:
    """score.py validate's verdict; None when msetool agrees (or the case does not count)."""
    if not all(s.get("ok", True) for s in (gold.get("setup") or {}).get("addSourceBuffer", [])):
        return None
    first, seen = None, []
    for st in gold["steps"]:
        if st["op"].get("op") != "append":
            continue
        seen.append(st["op"]["file"])
        w = st.get("wait") or {}
        verr = ((st.get("state") or {}).get("video") or {}).get("error")
        if w.get("error") or st.get("sbErrorEvent") or (st.get("exception") is None and verr):
            first = st
            break
    for attempt in range(3):  # the tree is shared with engineers editing it: retry a transient failure
        p = subprocess.run(
            [sys.executable, "-m", "msetool", "validate", "--scenario", str(cj), "--format", "json"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        try:
            out = json.loads(p.stdout)
            break
        except ValueError:
            if attempt == 2:
                return f"validate gave no JSON: exit {p.returncode} {p.stderr.strip()[-200:]}"
            time.sleep(3)
    errors = [
        (os.path.basename(f.get("path", "")), x)
        for f in out.get("files", [])
        for x in f.get("findings", [])
        if x.get("severity") == "error"
    ]
    if first is None:
        if errors:
            shown = [(p_, x.get("rule"), str(x.get("message"))[:80]) for p_, x in errors][:3]
            return f"browser appended everything; msetool errors {shown}"
        return None
    if any(p_ in seen for p_, _ in errors):
        return None
    verr = ((first.get("state") or {}).get("video") or {}).get("error")
    return (
        f"browser rejected {first['op']['file']} at step {first['index']} ({(verr or {}).get('message')}); "
        f"msetool errors {[(p_, x.get('rule')) for p_, x in errors][:3]}"
    )


def main() -> int:
    global WORK  # noqa: PLW0603 - every helper writes under the chosen work folder
    ap_ = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap_.add_argument("--work", type=Path, default=WORK)
    ap_.add_argument("--only", default="", help="comma-separated name prefixes")
    ap_.add_argument("--rerecord", action="store_true", help="record again even when a record is current")
    ap_.add_argument("--confirm", action="store_true", help="re-record disagreeing cases with slow settle")
    ap_.add_argument("--list", action="store_true")
    ap_.add_argument("--no-browser", action="store_true", help="only compare with existing records")
    ap_.add_argument("-v", action="store_true")
    args = ap_.parse_args()
    WORK = args.work
    prefixes = [p for p in args.only.split(",") if p] or [""]
    names = [n for n in CASES if any(n.startswith(p) for p in prefixes)]
    if args.list:
        for n in names:
            print(n)
        return 0
    (WORK / "golden").mkdir(parents=True, exist_ok=True)
    from msetool.browser import ChromiumHarness, Settle

    fast = Settle(quiet_ms=150, min_ms=50, max_ms=800, media_log_ms=0)
    t0 = time.monotonic()
    results: list[tuple[str, str, int, list[str], str | None]] = []
    harness: Any = None
    try:
        for name in names:
            try:
                cj = write_case(name, WORK)
            except Exception as e:
                print(f"{name}: cannot build case: {type(e).__name__}: {e}")
                continue
            gold_path = WORK / "golden" / f"{name}.json"
            gold = json.loads(gold_path.read_text()) if gold_path.exists() else None
            if gold is None or args.rerecord or gold.get("caseKey") != case_key(cj):
                if args.no_browser:
                    print(f"{name}: no current record")
                    continue
                if harness is None:
                    harness = ChromiumHarness(settle=fast)
                    harness.start()
                gold = record(harness, cj, gold_path)
            nsteps, bad = simulate_diffs(cj, gold)
            vbad = validate_diff(cj, gold)
            if (bad or vbad) and args.confirm and not args.no_browser:
                if harness is None:
                    harness = ChromiumHarness(settle=fast)
                    harness.start()
                slow = ChromiumHarness(browser=harness._browser, settle=Settle())
                gold = record(slow, cj, gold_path)
                nsteps, bad = simulate_diffs(cj, gold)
                vbad = validate_diff(cj, gold)
            cat = json.loads(cj.read_text())["category"]
            results.append((name, cat, nsteps, bad, vbad))
            if bad or vbad or args.v:
                print(
                    f"{name} ({cat}): {nsteps - len(bad)}/{nsteps} steps agree"
                    + ("" if vbad is None else "; VALIDATE differs")
                )
                for line in bad:
                    print("   sim: " + line)
                if vbad:
                    print("   val: " + vbad)
                sys.stdout.flush()
    finally:
        if harness is not None:
            harness.close()
    steps = sum(r[2] for r in results)
    steps_ok = steps - sum(len(r[3]) for r in results)
    cases_ok = sum(not r[3] for r in results)
    vcases = sum(r[4] is None for r in results)
    print()
    print(f"{'category':10} {'cases':>5} {'sim cases ok':>12} {'steps ok':>12} {'validate ok':>11}")
    for cat in sorted({r[1] for r in results}):
        rs = [r for r in results if r[1] == cat]
        st = sum(r[2] for r in rs)
        print(
            f"{cat:10} {len(rs):5} {sum(not r[3] for r in rs):12} "
            f"{st - sum(len(r[3]) for r in rs):>6}/{st:<5} {sum(r[4] is None for r in rs):11}"
        )
    print(
        f"simulate: {steps_ok}/{steps} steps, {cases_ok}/{len(results)} cases agree; "
        f"validate: {vcases}/{len(results)} cases agree ({time.monotonic() - t0:.0f} s)"
    )
    return 0 if steps_ok == steps and vcases == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
