#!/usr/bin/env python3
"""Rebuild everything in samples/ from ffmpeg's synthetic sources (testsrc2 + sine). See samples/README.md.

    python3 samples/make_samples.py            # writes next to this script

ffmpeg: $MSETOOL_FFMPEG, else the imageio-ffmpeg wheel's binary (the one msetool's tests use).
The broken segment sets are made from the clean one by byte surgery in plain Python (no msetool import),
so they stay independent of the reader they are meant to test.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETS = HERE / "segments"
BITEXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"]
FRAG = ["-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-frag_duration", "1000000"]


def ffmpeg() -> str:
    exe = os.environ.get("MSETOOL_FFMPEG")
    if exe:
        return exe
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def run(args: list[str], out: Path) -> None:
    cmd = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args, *BITEXACT, str(out)]
    subprocess.run(cmd, check=True)


# ---------------------------------------------------------------------------------------------- box surgery


def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[str, int, int]]:
    """(type, offset, size) of the boxes in [start, end)."""
    end = len(data) if end is None else end
    out, pos = [], start
    while pos + 8 <= end:
        size, typ = struct.unpack_from(">I4s", data, pos)
        if size == 0:
            size = end - pos
        out.append((typ.decode("latin-1"), pos, size))
        pos += size
    return out


def child(data: bytes, parent: tuple[str, int, int], typ: str) -> tuple[str, int, int]:
    _, off, size = parent
    return next(b for b in boxes(data, off + 8, off + size) if b[0] == typ)


def set_u32(buf: bytearray, pos: int, value: int) -> None:
    struct.pack_into(">I", buf, pos, value)


def split(fmp4: Path, outdir: Path) -> None:
    """init.mp4 (ftyp+moov) and seg-NNNNN.m4s (one moof+mdat each) from a fragmented MP4."""
    data = fmp4.read_bytes()
    outdir.mkdir(parents=True, exist_ok=True)
    top = boxes(data)
    (outdir / "init.mp4").write_bytes(b"".join(data[o : o + s] for t, o, s in top if t in ("ftyp", "moov")))
    n, cur = 0, b""
    for t, o, s in top:
        if t in ("ftyp", "moov", "mfra"):
            continue
        cur += data[o : o + s]
        if t == "mdat":
            n += 1
            (outdir / f"seg-{n:05d}.m4s").write_bytes(cur)
            cur = b""


def mdhd_timescale(init: bytes) -> int:
    moov = next(b for b in boxes(init) if b[0] == "moov")
    mdhd = child(init, child(init, child(init, moov, "trak"), "mdia"), "mdhd")
    version = init[mdhd[1] + 8]
    return int(struct.unpack_from(">I", init, mdhd[1] + (28 if version == 1 else 20))[0])


def remove_tfdt(seg: bytes) -> bytes:
    """Cut the tfdt out of the first traf; fix moof/traf sizes and trun data_offset (moof-relative)."""
    buf = bytearray(seg)
    moof = next(b for b in boxes(seg) if b[0] == "moof")
    traf = child(seg, moof, "traf")
    _, t_off, t_size = child(seg, traf, "tfdt")
    _, r_off, _ = child(seg, traf, "trun")
    flags = struct.unpack_from(">I", seg, r_off + 8)[0] & 0xFFFFFF
    if flags & 0x1:
        set_u32(buf, r_off + 16, struct.unpack_from(">I", seg, r_off + 16)[0] - t_size)
    set_u32(buf, moof[1], moof[2] - t_size)
    set_u32(buf, traf[1], traf[2] - t_size)
    del buf[t_off : t_off + t_size]
    return bytes(buf)


def shift_tfdt(seg: bytes, ticks: int) -> bytes:
    buf = bytearray(seg)
    for moof in (b for b in boxes(seg) if b[0] == "moof"):
        for traf in (b for b in boxes(seg, moof[1] + 8, moof[1] + moof[2]) if b[0] == "traf"):
            _, off, _ = child(seg, traf, "tfdt")
            if seg[off + 8] == 1:
                struct.pack_into(">Q", buf, off + 12, struct.unpack_from(">Q", seg, off + 12)[0] + ticks)
            else:
                set_u32(buf, off + 12, struct.unpack_from(">I", seg, off + 12)[0] + ticks)
    return bytes(buf)


def add_base_data_offset(seg: bytes) -> bytes:
    """Rewrite tfhd from default-base-is-moof to an explicit base-data-offset (0 = this file's moof start),
    the way ffmpeg's plain fragmented output addresses data. 8 more bytes: fix sizes and data_offset."""
    buf = bytearray(seg)
    moof = next(b for b in boxes(seg) if b[0] == "moof")
    traf = child(seg, moof, "traf")
    _, h_off, h_size = child(seg, traf, "tfhd")
    _, r_off, _ = child(seg, traf, "trun")
    flags = struct.unpack_from(">I", seg, h_off + 8)[0]
    set_u32(buf, h_off + 8, (flags & ~0x020000) | 0x000001)
    if struct.unpack_from(">I", seg, r_off + 8)[0] & 0x1:
        set_u32(buf, r_off + 16, struct.unpack_from(">I", seg, r_off + 16)[0] + 8)
    set_u32(buf, moof[1], moof[2] + 8)
    set_u32(buf, traf[1], traf[2] + 8)
    set_u32(buf, h_off, h_size + 8)
    buf[h_off + 16 : h_off + 16] = struct.pack(">Q", moof[1])
    return bytes(buf)


def _trun_data_size(seg: bytes, traf: tuple[str, int, int]) -> tuple[int, int]:
    """(offset of trun's data_offset field, total sample bytes) of a traf's single trun."""
    _, h_off, _ = child(seg, traf, "tfhd")
    h_flags = struct.unpack_from(">I", seg, h_off + 8)[0] & 0xFFFFFF
    pos = h_off + 16 + (8 if h_flags & 0x1 else 0) + (4 if h_flags & 0x2 else 0) + (4 if h_flags & 0x8 else 0)
    default_size = struct.unpack_from(">I", seg, pos)[0] if h_flags & 0x10 else 0
    _, r_off, _ = child(seg, traf, "trun")
    flags = struct.unpack_from(">I", seg, r_off + 8)[0] & 0xFFFFFF
    count = struct.unpack_from(">I", seg, r_off + 12)[0]
    p = r_off + 16
    data_offset_at = p
    p += 4 if flags & 0x1 else 0
    p += 4 if flags & 0x4 else 0
    per = 4 * bin(flags & 0xF00).count("1")
    total = 0
    for i in range(count):
        q = p + i * per + (4 if flags & 0x100 else 0)
        total += struct.unpack_from(">I", seg, q)[0] if flags & 0x200 else default_size
    return data_offset_at, total


def clear_default_base_is_moof(seg: bytes) -> bytes:
    """Two-track fragment with neither base-data-offset nor default-base-is-moof, written the way the
    spec reads it: the first traf's data is addressed from the moof, each later traf's from the end of the
    previous traf's data (ISO/IEC 14496-12 8.8.7.1), so its trun data_offset shrinks accordingly."""
    buf = bytearray(seg)
    for moof in (b for b in boxes(seg) if b[0] == "moof"):
        base = moof[1]
        for traf in (b for b in boxes(seg, moof[1] + 8, moof[1] + moof[2]) if b[0] == "traf"):
            _, off, _ = child(seg, traf, "tfhd")
            set_u32(buf, off + 8, struct.unpack_from(">I", seg, off + 8)[0] & ~0x020000)
            at, size = _trun_data_size(seg, traf)
            data_offset = struct.unpack_from(">i", seg, at)[0]  # moof-relative as ffmpeg wrote it
            struct.pack_into(">i", buf, at, data_offset - (base - moof[1]))
            base = moof[1] + data_offset + size  # the next traf's base: end of this traf's data
    return bytes(buf)


def strip_asc(init: bytes) -> bytes:
    """Drop the DecoderSpecificInfo (AudioSpecificConfig) from esds, as ffmpeg 9 does for ADTS sources."""
    i = init.index(b"esds") - 4
    esds_size = struct.unpack_from(">I", init, i)[0]
    body = init[i + 12 : i + esds_size]
    # Descriptors written by ffmpeg use 4-byte sizes (0x80 0x80 0x80 len): ES(03) > DecConfig(04) > DSI(05).
    dsi = body.index(b"\x05\x80\x80\x80")
    dsi_len = 5 + body[dsi + 4]
    new_body = bytearray(body[:dsi] + body[dsi + dsi_len :])
    new_body[4] -= dsi_len  # ES_Descriptor length (after 03 80 80 80)
    dcd = new_body.index(b"\x04\x80\x80\x80")
    new_body[dcd + 4] -= dsi_len
    delta = dsi_len
    buf = bytearray(init[: i + 12] + bytes(new_body) + init[i + esds_size :])
    set_u32(buf, i, esds_size - delta)
    # Every ancestor of esds shrinks: moov/trak/mdia/minf/stbl/stsd/mp4a.
    for typ in ("moov", "trak", "mdia", "minf", "stbl", "stsd", "mp4a"):
        p = buf.index(typ.encode()) - 4
        set_u32(buf, p, struct.unpack_from(">I", buf, p)[0] - delta)
    return bytes(buf)


# ---------------------------------------------------------------------------------------------------- main


def main() -> int:
    vsrc = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30"]
    asrc = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:beep_factor=4"]
    run([*vsrc, *asrc, "-t", "10", "-map", "0:v", "-map", "1:a",
         "-c:v", "libx264", "-preset", "medium", "-profile:v", "high", "-pix_fmt", "yuv420p", "-threads", "1",
         "-b:v", "900k", "-maxrate", "1200k", "-bufsize", "1800k", "-g", "60", "-keyint_min", "60",
         "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart"], HERE / "sample.mp4")

    if SETS.exists():
        shutil.rmtree(SETS)
    small_v = ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30"]
    small_a = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    h264 = ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
            "-threads", "1", "-crf", "32", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-bf", "0"]
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        run([*small_v, "-t", "4", *h264, "-an", *FRAG], t / "v.mp4")
        run([*small_v, *small_a, "-t", "4", "-map", "0:v", "-map", "1:a", *h264, "-c:a", "aac", "-b:a", "48k",
             *FRAG], t / "av.mp4")
        run([*small_a, "-t", "4", "-c:a", "aac", "-b:a", "48k", *FRAG], t / "a.mp4")
        split(t / "v.mp4", SETS / "clean")
        split(t / "av.mp4", SETS / "clean-muxed")
        split(t / "a.mp4", SETS / "clean-audio")

    clean = SETS / "clean"
    segs = sorted(clean.glob("seg-*.m4s"))

    def derive(name: str, edit: dict[str, bytes]) -> Path:
        d = SETS / name
        shutil.copytree(clean, d)
        for fname, data in edit.items():
            (d / fname).write_bytes(data)
        return d

    derive("missing-tfdt", {segs[1].name: remove_tfdt(segs[1].read_bytes())})
    timescale = mdhd_timescale((clean / "init.mp4").read_bytes())
    derive("gap", {s.name: shift_tfdt(s.read_bytes(), timescale // 2) for s in segs[2:]})
    derive("base-data-offset", {s.name: add_base_data_offset(s.read_bytes()) for s in segs})
    d = SETS / "media-before-init"
    d.mkdir()
    order = [segs[0], clean / "init.mp4", *segs[1:]]
    for i, f in enumerate(order, 1):
        shutil.copy(f, d / f"{i}-{f.name}")
    mux = SETS / "clean-muxed"
    d = SETS / "muxed-no-base-flag"
    shutil.copytree(mux, d)
    for s in sorted(d.glob("seg-*.m4s")):
        s.write_bytes(clear_default_base_is_moof(s.read_bytes()))
    d = SETS / "aac-missing-asc"
    shutil.copytree(SETS / "clean-audio", d)
    (d / "init.mp4").write_bytes(strip_asc((d / "init.mp4").read_bytes()))

    total = sum(f.stat().st_size for f in HERE.rglob("*") if f.is_file())
    print(f"samples: sample.mp4 {(HERE / 'sample.mp4').stat().st_size / 1e6:.2f} MB, "
          f"samples/ total {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
