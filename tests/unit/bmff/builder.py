"""Tiny ISO BMFF writer for tests: init segments and fragments built byte by byte, so malformed variants
(no mvex, base-data-offset, missing tfdt, unknown track, reserved flags, size 0, ...) are one argument away.

Written independently of msetool's reader (plain struct packing), so tests do not check the reader
against itself.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SPS = bytes.fromhex("6742c00dda0506 7e7c0440000003004000000f03c50aa8".replace(" ", ""))
PPS = bytes.fromhex("68ce0fc8")
ASC_LC_48K_STEREO = bytes.fromhex("1190")


def box(t: str, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), t.encode("latin-1")) + payload


def full(t: str, version: int, flags: int, payload: bytes = b"") -> bytes:
    return box(t, struct.pack(">I", (version << 24) | flags) + payload)


def avcc(*, profile: int = 0x42, compat: int = 0xC0, level: int = 0x0D, sps: bytes = SPS, pps: bytes = PPS,
         version: int = 1, length_size: int = 4) -> bytes:
    return box("avcC", bytes([version, profile, compat, level, 0xFC | (length_size - 1), 0xE1])
               + struct.pack(">H", len(sps)) + sps + b"\x01" + struct.pack(">H", len(pps)) + pps)


def visual_entry(fourcc: str = "avc1", children: bytes | None = None, width: int = 320,
                 height: int = 180) -> bytes:
    body = (b"\0" * 6 + struct.pack(">H", 1) + b"\0" * 16 + struct.pack(">HH", width, height)
            + struct.pack(">II", 0x480000, 0x480000) + b"\0" * 4 + struct.pack(">H", 1) + b"\0" * 32
            + struct.pack(">Hh", 24, -1))
    return box(fourcc, body + (avcc() if children is None else children))


def descr(tag: int, body: bytes) -> bytes:
    return bytes([tag, len(body)]) + body


def esds(asc: bytes = ASC_LC_48K_STEREO, oti: int = 0x40) -> bytes:
    dcd = descr(0x04, bytes([oti, 0x15]) + b"\0\0\0" + struct.pack(">II", 128000, 128000) + descr(0x05, asc))
    es = descr(0x03, struct.pack(">HB", 1, 0) + dcd + descr(0x06, b"\x02"))
    return full("esds", 0, 0, es)


def audio_entry(fourcc: str = "mp4a", children: bytes | None = None, channels: int = 2, samplesize: int = 16,
                rate: int = 48000) -> bytes:
    body = (b"\0" * 6 + struct.pack(">H", 1) + b"\0" * 8 + struct.pack(">HH", channels, samplesize)
            + b"\0" * 4 + struct.pack(">I", rate << 16))
    return box(fourcc, body + (esds() if children is None else children))


@dataclass
class Track:
    track_id: int = 1
    handler: str = "vide"
    timescale: int = 15360
    entry: bytes = field(default_factory=visual_entry)
    elst_media_time: int | None = None
    trex: bool = True
    trex_desc_index: int = 1
    trex_duration: int = 0
    trex_size: int = 0
    trex_flags: int = 0
    stts_entries: int = 0


def trak(t: Track) -> bytes:
    tkhd = full("tkhd", 0, 3, b"\0" * 8 + struct.pack(">I", t.track_id) + b"\0" * 4 + b"\0" * 4 + b"\0" * 8
                + b"\0" * 8 + b"\0" * 36 + b"\0" * 8)
    mdhd = full("mdhd", 0, 0, b"\0" * 8 + struct.pack(">II", t.timescale, 0) + struct.pack(">H", 0x55C4)
                + b"\0\0")
    hdlr = full("hdlr", 0, 0, b"\0" * 4 + t.handler.encode() + b"\0" * 12 + b"handler\0")
    stsd = full("stsd", 0, 0, struct.pack(">I", 1) + t.entry)
    stts = full("stts", 0, 0, struct.pack(">I", t.stts_entries) + b"\0\0\0\1\0\0\0\1" * t.stts_entries)
    empty = [full(x, 0, 0, b"\0\0\0\0") for x in ("stsc", "stco")]
    stsz = full("stsz", 0, 0, b"\0" * 8)
    stbl = box("stbl", stsd + stts + empty[0] + stsz + empty[1])
    minf = box("minf", stbl)
    edts = b""
    if t.elst_media_time is not None:
        edts = box("edts", full("elst", 0, 0, struct.pack(">IIiHH", 1, 0, t.elst_media_time, 1, 0)))
    return box("trak", tkhd + edts + box("mdia", mdhd + hdlr + minf))


def init_segment(tracks: list[Track] | None = None, *, mvex: bool = True, timescale: int = 1000) -> bytes:
    tracks = tracks if tracks is not None else [Track()]
    ftyp = box("ftyp", b"iso5\0\0\0\1iso5iso6mp41")
    mvhd = full("mvhd", 0, 0, b"\0" * 8 + struct.pack(">II", timescale, 0)
                + struct.pack(">IH", 0x10000, 0x100)
                + b"\0" * 10 + b"\0" * 36 + b"\0" * 24 + struct.pack(">I", 3))
    traks = b"".join(trak(t) for t in tracks)
    mv = b""
    if mvex:
        mv = box("mvex", b"".join(
            full("trex", 0, 0, struct.pack(">IIIII", t.track_id, t.trex_desc_index, t.trex_duration,
                                           t.trex_size, t.trex_flags))
            for t in tracks if t.trex))
    return ftyp + box("moov", mvhd + traks + mv)


SYNC = 0x02000000  # sample_depends_on = 2 (does not depend on others)
NON_SYNC = 0x01010000  # depends on others, non-sync


@dataclass
class Run:
    sizes: list[int]
    durations: list[int] | None = None
    flags: list[int] | None = None
    ctos: list[int] | None = None
    version: int = 0
    data_offset: bool = True
    first_flags: int | None = None


@dataclass
class Traf:
    track_id: int = 1
    decode_time: int | None = 0
    runs: list[Run] = field(default_factory=lambda: [Run([100, 50, 50], [512, 512, 512], [SYNC, NON_SYNC,
                                                                                            NON_SYNC])])
    default_base_is_moof: bool = True
    base_data_offset: int | None = None
    default_duration: int | None = None
    default_size: int | None = None
    default_flags: int | None = None
    tfdt_version: int = 1


def _trun(run: Run, data_offset: int) -> bytes:
    flags = 0
    if run.data_offset:
        flags |= 1
    if run.first_flags is not None:
        flags |= 4
    cols = []
    if run.durations is not None:
        flags |= 0x100
        cols.append(run.durations)
    flags |= 0x200
    cols.append(run.sizes)
    if run.flags is not None:
        flags |= 0x400
        cols.append(run.flags)
    if run.ctos is not None:
        flags |= 0x800
        cols.append([c & 0xFFFFFFFF for c in run.ctos])
    body = struct.pack(">I", len(run.sizes))
    if run.data_offset:
        body += struct.pack(">i", data_offset)
    if run.first_flags is not None:
        body += struct.pack(">I", run.first_flags)
    for i in range(len(run.sizes)):
        for c in cols:
            body += struct.pack(">I", c[i])
    return full("trun", run.version, flags, body)


def _traf(t: Traf, offsets: list[int]) -> bytes:
    flags = 0
    body = struct.pack(">I", t.track_id)
    if t.base_data_offset is not None:
        flags |= 1
        body += struct.pack(">Q", t.base_data_offset)
    if t.default_duration is not None:
        flags |= 8
        body += struct.pack(">I", t.default_duration)
    if t.default_size is not None:
        flags |= 0x10
        body += struct.pack(">I", t.default_size)
    if t.default_flags is not None:
        flags |= 0x20
        body += struct.pack(">I", t.default_flags)
    if t.default_base_is_moof:
        flags |= 0x020000
    out = full("tfhd", 0, flags, body)
    if t.decode_time is not None:
        out += full("tfdt", t.tfdt_version, 0,
                    struct.pack(">Q" if t.tfdt_version else ">I", t.decode_time))
    for run, off in zip(t.runs, offsets, strict=True):
        out += _trun(run, off)
    return box("traf", out)


def sample_payload(size: int, filler: int = 0xAB) -> bytes:
    """A sample Chromium's H.264 preparation accepts: one length-prefixed SEI NAL unit (no VCL unit, so the
    container's sync flag decides keyframes). Samples under 5 bytes cannot hold one and stay raw filler."""
    if size < 5:
        return bytes([filler]) * size
    return struct.pack(">I", size - 4) + b"\x06" + bytes([filler & 0x7F or 1]) * (size - 5)


def fragment(trafs: list[Traf] | None = None, *, sequence_number: int = 1, payload_byte: int = 0xAB,
             mdat_size_zero: bool = False) -> bytes:
    """moof + mdat whose trun data offsets point into the mdat, runs laid out in order."""
    trafs = trafs if trafs is not None else [Traf()]
    mfhd = full("mfhd", 0, 0, struct.pack(">I", sequence_number))
    # First pass with zero offsets to learn the moof size (offsets do not change sizes).
    zero = [[0] * len(t.runs) for t in trafs]
    moof_size = len(box("moof", mfhd + b"".join(_traf(t, z) for t, z in zip(trafs, zero, strict=True))))
    pos = moof_size + 8
    offsets = []
    total = 0
    for t in trafs:
        offs = []
        for r in t.runs:
            offs.append(pos)
            n = sum(r.sizes)
            pos += n
            total += n
        offsets.append(offs)
    moof = box("moof", mfhd + b"".join(_traf(t, o) for t, o in zip(trafs, offsets, strict=True)))
    assert len(moof) == moof_size
    data = b"".join(sample_payload(n, payload_byte) for t in trafs for r in t.runs for n in r.sizes)
    assert len(data) == total
    mdat = box("mdat", data)
    if mdat_size_zero:
        mdat = b"\0\0\0\0" + mdat[4:]
    return moof + mdat
