"""Byte-by-byte WebM construction for tests (independent of msetool's reader).

Element IDs and layouts are written from the Matroska/WebM specification; every helper returns bytes, so a
test can corrupt exactly the byte it wants.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

UNKNOWN = None


def vint(value: int | None, length: int = 0) -> bytes:
    """An EBML size of ``length`` bytes (shortest when 0); None is "unknown size" (all value bits set)."""
    if value is None:
        n = length or 8
        return bytes([0xFF >> (n - 1)]) + b"\xff" * (n - 1)
    n = length or 1
    while not length and value >= (1 << (7 * n)) - 1:
        n += 1
    return (value | (1 << (7 * n))).to_bytes(n, "big")


def el(eid: int, payload: bytes, size: int | str | None = "auto", size_len: int = 0) -> bytes:
    """An element; ``size`` overrides the written size (None: unknown) to build lying headers."""
    idb = eid.to_bytes((eid.bit_length() + 7) // 8, "big")
    if size == "auto":
        return idb + vint(len(payload), size_len) + payload
    assert size is None or isinstance(size, int)
    return idb + vint(size, size_len) + payload


def uint(eid: int, value: int) -> bytes:
    n = max(1, (value.bit_length() + 7) // 8)
    return el(eid, value.to_bytes(n, "big"))


def flt(eid: int, value: float) -> bytes:
    return el(eid, struct.pack(">d", value))


def string(eid: int, value: str) -> bytes:
    return el(eid, value.encode())


EBML_HEADER = el(0x1A45DFA3, uint(0x4286, 1) + uint(0x42F7, 1) + uint(0x42F2, 4) + uint(0x42F3, 8)
                 + string(0x4282, "webm") + uint(0x4287, 4) + uint(0x4285, 2))


@dataclass
class Track:
    number: int
    type: int  # 1 video, 2 audio
    codec: str
    default_duration: int | None = None
    codec_private: bytes = b""
    codec_delay: int | None = None
    extra: bytes = b""
    channels: int = 2

    def entry(self) -> bytes:
        body = (uint(0xD7, self.number) + uint(0x73C5, self.number) + uint(0x83, self.type)
                + string(0x86, self.codec))
        if self.default_duration is not None:
            body += uint(0x23E383, self.default_duration)
        if self.codec_private:
            body += el(0x63A2, self.codec_private)
        if self.codec_delay is not None:
            body += uint(0x56AA, self.codec_delay)
        if self.type == 1:
            body += el(0xE0, uint(0xB0, 160) + uint(0xBA, 90))
        elif self.type == 2:
            body += el(0xE1, flt(0xB5, 48000.0) + uint(0x9F, self.channels))
        return el(0xAE, body + self.extra)


def init_segment(tracks: Iterable[Track], *, duration_ms: float | None = None,
                 timecode_scale: int = 1_000_000, segment_size: int | None = UNKNOWN,
                 ebml: bool = True) -> bytes:
    info = uint(0x2AD7B1, timecode_scale) + string(0x4D80, "test") + string(0x5741, "test")
    if duration_ms is not None:
        info += flt(0x4489, duration_ms)
    body = el(0x1549A966, info) + el(0x1654AE6B, b"".join(t.entry() for t in tracks))
    seg = el(0x18538067, body, size=segment_size)
    return (EBML_HEADER if ebml else b"") + seg


def block_bytes(track: int, timecode: int, flags: int, payload: bytes) -> bytes:
    return vint(track) + struct.pack(">hB", timecode, flags) + payload


def simple_block(track: int, timecode: int, payload: bytes = b"\0" * 8, *, key: bool = True,
                 lacing: int = 0) -> bytes:
    return el(0xA3, block_bytes(track, timecode, (0x80 if key else 0) | (lacing << 1), payload))


def block_group(track: int, timecode: int, payload: bytes = b"\0" * 8, *, duration: int | None = None,
                reference: int | None = None) -> bytes:
    body = el(0xA1, block_bytes(track, timecode, 0, payload))
    if duration is not None:
        body += uint(0x9B, duration)
    if reference is not None:
        body += el(0xFB, struct.pack(">b", reference))
    return el(0xA0, body)


@dataclass
class Cluster:
    timecode: int | None
    blocks: list[bytes] = field(default_factory=list)
    unknown_size: bool = False
    timecode_last: bool = False

    def bytes(self) -> bytes:
        tc = uint(0xE7, self.timecode) if self.timecode is not None else b""
        body = (b"".join(self.blocks) + tc) if self.timecode_last else (tc + b"".join(self.blocks))
        return el(0x1F43B675, body, size=None if self.unknown_size else "auto")


#: An Opus TOC byte for one 20 ms frame (config 31: CELT FB 20 ms, code 0).
OPUS_20MS = bytes([0xFC]) + b"\0" * 7
#: An Opus TOC byte for a code-3 packet of 3 frames of 10 ms (config 30).
OPUS_3X10MS = bytes([0xF3, 0x03]) + b"\0" * 6


def _read(data: bytes, pos: int) -> tuple[int, int | None, int]:
    """(id, size or None, header length) of the element at ``pos`` (test-side, minimal)."""
    first = data[pos]
    n = 1
    while not first & (0x80 >> (n - 1)):
        n += 1
    eid = int.from_bytes(data[pos : pos + n], "big")
    s0 = data[pos + n]
    m = 1
    while not s0 & (0x80 >> (m - 1)):
        m += 1
    raw = int.from_bytes(data[pos + n : pos + n + m], "big") & ((1 << (7 * m)) - 1)
    return eid, (None if raw == (1 << (7 * m)) - 1 else raw), n + m


def simple_blocks(data: bytes) -> list[tuple[int, bool, bytes]]:
    """(absolute timecode, keyframe, frame bytes) of every SimpleBlock (and BlockGroup Block, taken as a
    keyframe: ffmpeg writes audio with durations that way) of a one-track WebM file."""
    out: list[tuple[int, bool, bytes]] = []
    pos, cluster_tc = 0, 0
    while pos < len(data):
        eid, size, hl = _read(data, pos)
        if eid in (0x18538067, 0x1F43B675, 0xA0):  # descend into Segment, Cluster, BlockGroup
            pos += hl
            continue
        end = len(data) if size is None else pos + hl + size
        body = data[pos + hl : end]
        if eid == 0xE7:
            cluster_tc = int.from_bytes(body, "big")
        elif eid in (0xA3, 0xA1):
            key = bool(body[3] & 0x80) or eid == 0xA1
            out.append((cluster_tc + struct.unpack(">h", body[1:3])[0], key, body[4:]))
        pos = end
    return out


def codec_private(data: bytes) -> bytes:
    i = data.find(b"\x63\xa2")
    if i < 0:
        return b""
    _, size, hl = _read(data, i)
    return data[i + hl : i + hl + (size or 0)]


def remux(video: bytes, audio: bytes, cluster_ms: int = 500) -> tuple[bytes, list[bytes]]:
    """A VP9 (track 1) + Opus (track 2) WebM with blocks in timestamp order and Clusters starting at
    video keyframes: (init segment, [cluster bytes])."""
    events = sorted([(t, 1, k, p) for t, k, p in simple_blocks(video)]
                    + [(t, 2, k, p) for t, k, p in simple_blocks(audio)], key=lambda e: (e[0], e[1]))
    head = codec_private(audio)
    init = init_segment([Track(1, 1, "V_VP9", default_duration=33_333_333),
                         Track(2, 2, "A_OPUS", codec_private=head, codec_delay=6_500_000,
                               channels=head[9] if len(head) > 9 else 2)],
                        duration_ms=float(events[-1][0] + 20))
    clusters: list[Cluster] = []
    for t, track, key, payload in events:
        if track == 1 and key and (not clusters or t - (clusters[-1].timecode or 0) >= cluster_ms):
            clusters.append(Cluster(t, []))
        if clusters:
            c = clusters[-1]
            c.blocks.append(simple_block(track, t - (c.timecode or 0), payload, key=key))
    return init, [c.bytes() for c in clusters]
