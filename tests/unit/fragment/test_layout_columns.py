"""read_segment reads each trun as columns; it must give exactly what reading it sample by sample gives."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.fragment import layout

SETS = Path(__file__).resolve().parents[3] / "samples" / "segments"


def reference_read_segment(moofs: Iterable[tuple[int, bytes]], init: list[layout.TrackLayout], name: str = "",
                 size: int = 0) -> layout.SegmentTiming:
    """read_segment as it was, sample by sample: the reference the column-wise reader must equal."""
    by_id = {t.track_id: t for t in init}
    seg = layout.SegmentTiming(name, size)
    first_sample_checked: set[int] = set()
    for base_off, data in moofs:
        box = layout.Box("moof", 0, len(data), 8)
        seg.fragments += 1
        trafs = layout.find_all(data, "traf", box.body, box.end)
        for traf in trafs:
            tfhd = layout.find(data, "tfhd", traf.body, traf.end)
            if tfhd is None:
                raise AssertionError("traf without tfhd", base_off + traf.offset, "moof/traf", name)
            flags = struct.unpack_from(">I", data, tfhd.body)[0] & 0xFFFFFF
            tid = struct.unpack_from(">I", data, tfhd.body + 4)[0]
            pos = tfhd.body + 8
            where = f"{name}@{base_off + tfhd.offset} moof[{seg.fragments - 1}]/traf/tfhd"
            if flags & 0x1:
                seg.traps.append(f"{where}: base-data-offset present (Chromium rejects it)")
                pos += 8
            if flags & 0x2:
                pos += 4
            default_dur = by_id[tid].default_sample_duration if tid in by_id else 0
            if flags & 0x8:
                default_dur = struct.unpack_from(">I", data, pos)[0]
                pos += 4
            default_flags = None
            if flags & 0x10:
                pos += 4
            if flags & 0x20:
                default_flags = struct.unpack_from(">I", data, pos)[0]
            if len(trafs) > 1 and not flags & 0x1 and not flags & 0x020000:
                seg.traps.append(
                    f"{where}: multi-track fragment without default-base-is-moof "
                    "(Chromium fails to decode it)"
                )
            tfdt = layout.find(data, "tfdt", traf.body, traf.end)
            if tfdt is None:
                seg.traps.append(f"{name}@{base_off + traf.offset}: traf without tfdt")
                base = 0
            else:
                v = data[tfdt.body]
                base = (struct.unpack_from(">Q", data, tfdt.body + 4)[0] if v == 1
                        else struct.unpack_from(">I", data, tfdt.body + 4)[0])
            dts = base
            earliest: int | None = None
            track = by_id.get(tid)
            media_time = track.media_time if track else 0
            for trun in layout.find_all(data, "trun", traf.body, traf.end):
                tv = data[trun.body]
                tflags = struct.unpack_from(">I", data, trun.body)[0] & 0xFFFFFF
                count = struct.unpack_from(">I", data, trun.body + 4)[0]
                p = trun.body + 8
                if tflags & 0x1:
                    p += 4
                first_flags = None
                if tflags & 0x4:
                    first_flags = struct.unpack_from(">I", data, p)[0]
                    p += 4
                for i in range(count):
                    dur = default_dur
                    sflags = default_flags
                    cto = 0
                    if tflags & 0x100:
                        dur = struct.unpack_from(">I", data, p)[0]
                        p += 4
                    if tflags & 0x200:
                        p += 4
                    if tflags & 0x400:
                        sflags = struct.unpack_from(">I", data, p)[0]
                        p += 4
                    if tflags & 0x800:
                        cto = struct.unpack_from(">i" if tv else ">I", data, p)[0]
                        p += 4
                    if i == 0 and first_flags is not None:
                        sflags = first_flags
                    if (tid not in first_sample_checked and sflags is not None and track is not None
                            and track.kind == "video"):
                        first_sample_checked.add(tid)
                        if sflags & 0x10000:  # sample_is_non_sync_sample
                            seg.keyframe_start = False
                    pts = dts + cto - media_time
                    earliest = pts if earliest is None else min(earliest, pts)
                    dts += dur
            prev = seg.tracks.get(tid)
            e = earliest if earliest is not None else base - media_time
            if prev is None:
                seg.tracks[tid] = (e, base, dts - base)
            else:
                seg.tracks[tid] = (min(prev[0], e), prev[1], prev[2] + dts - base)
    return seg



def box(typ: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), typ) + body


def full(typ: bytes, version: int, flags: int, body: bytes) -> bytes:
    return box(typ, struct.pack(">I", (version << 24) | flags) + body)


U32 = st.integers(0, 0xFFFFFFFF)


@st.composite
def trun(draw: Any) -> bytes:
    bits = sum(draw(st.sets(st.sampled_from([0x1, 0x4, 0x100, 0x200, 0x400, 0x800]))))
    count = draw(st.integers(0, 6))
    body = struct.pack(">I", count)
    if bits & 0x1:
        body += struct.pack(">i", draw(st.integers(0, 1000)))
    if bits & 0x4:
        body += struct.pack(">I", draw(st.sampled_from([0, 0x10000, 0x2000000])))
    for _ in range(count):
        for b in (0x100, 0x200, 0x400, 0x800):
            if bits & b:
                v = draw(st.sampled_from([0, 0x10000, 0x1010000]) if b == 0x400 else
                         st.one_of(st.integers(0, 3000), U32))
                body += struct.pack(">I", v)
    return full(b"trun", draw(st.integers(0, 1)), bits, body)


@st.composite
def traf(draw: Any) -> bytes:
    tid = draw(st.sampled_from([1, 2, 3]))
    tflags = sum(draw(st.sets(st.sampled_from([0x1, 0x2, 0x8, 0x10, 0x20, 0x020000]))))
    body = struct.pack(">I", tid)
    if tflags & 0x1:
        body += struct.pack(">Q", 0)
    if tflags & 0x2:
        body += struct.pack(">I", 1)
    if tflags & 0x8:
        body += struct.pack(">I", draw(st.integers(0, 3000)))
    if tflags & 0x10:
        body += struct.pack(">I", 100)
    if tflags & 0x20:
        body += struct.pack(">I", draw(st.sampled_from([0, 0x10000])))
    out = full(b"tfhd", 0, tflags, body)
    if draw(st.integers(0, 5)):
        v = draw(st.integers(0, 1))
        out += full(b"tfdt", v, 0, struct.pack(">Q" if v else ">I", draw(st.integers(0, 1 << 31))))
    for t in draw(st.lists(trun(), min_size=0, max_size=3)):
        out += t
    return box(b"traf", out)


INIT = [
    layout.TrackLayout(1, "video", 15360, "avc1", "avc1.42C01F", media_time=1024,
                       default_sample_duration=512),
    layout.TrackLayout(2, "audio", 48000, "mp4a", "mp4a.40.2", default_sample_duration=1024),
]


def _moofs(data: Iterable[bytes]) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    for m in data:
        out.append((pos, m))
        pos += len(m) + 100
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(traf(), min_size=1, max_size=3), min_size=1, max_size=2))
def test_columns_equal_sample_by_sample(moofs: list[list[bytes]]) -> None:
    data = _moofs(box(b"moof", full(b"mfhd", 0, 0, struct.pack(">I", i + 1)) + b"".join(t))
                  for i, t in enumerate(moofs))
    assert layout.read_segment(data, INIT, "seg", 1) == reference_read_segment(data, INIT, "seg", 1)


@pytest.mark.parametrize("name", sorted(p.name for p in SETS.iterdir() if (p / "init.mp4").exists()))
def test_sample_sets_read_alike(name: str) -> None:
    init = layout.read_init((SETS / name / "init.mp4").read_bytes(), "init.mp4")
    files = sorted((SETS / name).glob("seg-*.m4s"))
    assert files
    for f in files:
        size, moofs = layout.moofs_in_file(f)
        assert layout.moofs_in_data(f.read_bytes(), f.name) == (size, moofs)
        got = layout.read_segment(moofs, init, f.name, size)
        assert got == reference_read_segment(moofs, init, f.name, size)
