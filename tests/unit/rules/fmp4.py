"""A tiny fragmented-MP4 writer for rule tests, independent of msetool's reader (plain struct packing).

Every malformed variant the rules must catch is one keyword away: no mvex, samples in moov, no tfdt,
base-data-offset, an unknown track, a short mdat, reserved sample flags, size 0, ...
"""

from __future__ import annotations

import struct

# H.264 Main@1.3 SPS/PPS (320x180), as in avcC of real ffmpeg output.
SPS = bytes.fromhex("674d400dda05067e7c0440000003004000000f03c50aa8")
PPS = bytes.fromhex("68ce0fc8")
KEY = 0x02000000  # sample_depends_on = 2: a sync sample
NONKEY = 0x01010000  # depends on others, sample_is_non_sync_sample


def sample(size: int, flags: int) -> bytes:
    """An AVC sample of ``size`` bytes: one length-prefixed NAL unit, IDR for sync samples."""
    nal = bytes([0x65 if not flags & 0x00010000 else 0x41]) + b"\x88" * (size - 5)
    return struct.pack(">I", size - 4) + nal


def box(t: str, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), t.encode("latin-1")) + payload


def full(t: str, version: int, flags: int, payload: bytes = b"") -> bytes:
    return box(t, struct.pack(">I", (version << 24) | flags) + payload)


def avc1(
    *, config: bool = True, profile: int = 0x4D, compat: int = 0x40, level: int = 0x0D, fourcc: str = "avc1"
) -> bytes:
    body = (
        b"\0" * 6
        + struct.pack(">H", 1)
        + b"\0" * 16
        + struct.pack(">HH", 320, 180)
        + struct.pack(">II", 0x480000, 0x480000)
        + b"\0" * 4
        + struct.pack(">H", 1)
        + b"\0" * 32
        + struct.pack(">Hh", 24, -1)
    )
    avcc = box(
        "avcC",
        bytes([1, profile, compat, level, 0xFF, 0xE1])
        + struct.pack(">H", len(SPS))
        + SPS
        + b"\x01"
        + struct.pack(">H", len(PPS))
        + PPS,
    )
    return box(fourcc, body + (avcc if config else b""))


def mp4a(asc: bytes = bytes.fromhex("1190")) -> bytes:
    def descr(tag: int, b: bytes) -> bytes:
        return bytes([tag, len(b)]) + b

    dcd = descr(0x04, bytes([0x40, 0x15]) + b"\0\0\0" + struct.pack(">II", 64000, 64000) + descr(0x05, asc))
    esds = full("esds", 0, 0, descr(0x03, struct.pack(">HB", 1, 0) + dcd + descr(0x06, b"\x02")))
    body = (
        b"\0" * 6
        + struct.pack(">H", 1)
        + b"\0" * 8
        + struct.pack(">HH", 2, 16)
        + b"\0" * 4
        + struct.pack(">I", 48000 << 16)
    )
    return box("mp4a", body + esds)


def trak(
    track_id: int = 1,
    *,
    handler: str = "vide",
    timescale: int = 1000,
    entry: bytes | None = None,
    stts_entries: int = 0,
    elst: list[tuple[int, int]] | None = None,
) -> bytes:
    tkhd = full(
        "tkhd",
        0,
        3,
        b"\0" * 8
        + struct.pack(">I", track_id)
        + b"\0" * 4
        + b"\0" * 4
        + b"\0" * 8
        + b"\0" * 8
        + b"\0" * 36
        + b"\0" * 8,
    )
    mdhd = full(
        "mdhd", 0, 0, b"\0" * 8 + struct.pack(">II", timescale, 0) + struct.pack(">H", 0x55C4) + b"\0\0"
    )
    hdlr = full("hdlr", 0, 0, b"\0" * 4 + handler.encode() + b"\0" * 12 + b"h\0")
    if entry is None:
        entry = avc1() if handler == "vide" else mp4a()
    stsd = full("stsd", 0, 0, struct.pack(">I", 1) + entry)
    stts = full("stts", 0, 0, struct.pack(">I", stts_entries) + b"\0\0\0\1\0\0\0\1" * stts_entries)
    rest = full("stsc", 0, 0, b"\0" * 4) + full("stsz", 0, 0, b"\0" * 8) + full("stco", 0, 0, b"\0" * 4)
    edts = b""
    if elst is not None:
        edts = box(
            "edts",
            full(
                "elst",
                0,
                0,
                struct.pack(">I", len(elst)) + b"".join(struct.pack(">IiHH", d, t, 1, 0) for d, t in elst),
            ),
        )
    minf = box("minf", box("stbl", stsd + stts + rest))
    return box("trak", tkhd + edts + box("mdia", mdhd + hdlr + minf))


def init(
    traks: list[bytes] | None = None,
    *,
    track_ids: list[int] | None = None,
    mvex: bool = True,
    ftyp: bool = True,
    movie_timescale: int = 1000,
) -> bytes:
    traks = traks if traks is not None else [trak()]
    ids = track_ids if track_ids is not None else list(range(1, len(traks) + 1))
    mvhd = full(
        "mvhd",
        0,
        0,
        b"\0" * 8
        + struct.pack(">II", movie_timescale, 0)
        + struct.pack(">IH", 0x10000, 0x100)
        + b"\0" * 10
        + b"\0" * 36
        + b"\0" * 24
        + struct.pack(">I", 3),
    )
    mv = (
        box("mvex", b"".join(full("trex", 0, 0, struct.pack(">IIIII", i, 1, 0, 0, 0)) for i in ids))
        if mvex
        else b""
    )
    head = box("ftyp", b"iso5\0\0\0\1iso5iso6mp41") if ftyp else b""
    return head + box("moov", mvhd + b"".join(traks) + mv)


def fragment(
    *,
    track_id: int = 1,
    decode_time: int | None = 0,
    sizes: tuple[int, ...] = (40, 20, 20),
    duration: int = 40,
    flags: tuple[int, ...] | None = None,
    sequence: int = 1,
    base_data_offset: bool = False,
    tfdt: bool = True,
    data_offset_delta: int = 0,
    mdat_shortfall: int = 0,
    mdat_size_zero: bool = False,
    trafs: int = 1,
    second_trun_without_offset: bool = False,
) -> bytes:
    """moof + mdat with one trun per traf whose data_offset points at the mdat payload."""
    flags = flags if flags is not None else (KEY,) + (NONKEY,) * (len(sizes) - 1)
    mfhd = full("mfhd", 0, 0, struct.pack(">I", sequence))

    def traf_bytes(offset: int) -> bytes:
        tf_flags = 0x020000 | (1 if base_data_offset else 0)
        tfhd = full(
            "tfhd",
            0,
            tf_flags,
            struct.pack(">I", track_id) + (struct.pack(">Q", 0) if base_data_offset else b""),
        )
        tfdt_box = (
            full("tfdt", 1, 0, struct.pack(">Q", decode_time or 0))
            if tfdt and decode_time is not None
            else b""
        )
        body = struct.pack(">Ii", len(sizes), offset) + b"".join(
            struct.pack(">III", duration, s, f) for s, f in zip(sizes, flags, strict=True)
        )
        trun = full("trun", 0, 0x001 | 0x100 | 0x200 | 0x400, body)
        if second_trun_without_offset:
            trun += full(
                "trun", 0, 0x100 | 0x200 | 0x400, struct.pack(">I", 1) + struct.pack(">III", duration, 4, KEY)
            )
        return box("traf", tfhd + tfdt_box + trun)

    n_traf = trafs
    moof_len = len(box("moof", mfhd + traf_bytes(0) * n_traf))
    moof = box("moof", mfhd + traf_bytes(moof_len + 8 + data_offset_delta) * n_traf)
    payload = b"".join(sample(s, f) for s, f in zip(sizes, flags, strict=True)) * n_traf
    payload += sample(4, KEY) if second_trun_without_offset else b""
    payload = payload[: len(payload) - mdat_shortfall] if mdat_shortfall else payload
    mdat = box("mdat", payload)
    if mdat_size_zero:
        mdat = b"\0\0\0\0" + mdat[4:]
    return moof + mdat
