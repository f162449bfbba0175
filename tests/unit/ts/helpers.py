"""Byte-level helpers for building and damaging transport streams in tests (independent of msetool.ts)."""

from __future__ import annotations

from msetool.mime import parse_mime
from msetool.model import CodedFrame
from msetool.stream import FramesParsed, InitSegmentParsed, ParseFailed, ParserEvent
from msetool.ts.stream import TsStreamParser

MIME = 'video/mp2t; codecs="avc1.4D401F,mp4a.40.2"'


def crc32_mpeg(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def packets(data: bytes) -> list[bytes]:
    return [data[i : i + 188] for i in range(0, len(data) - 187, 188)]


def pid_of(pkt: bytes) -> int:
    return ((pkt[1] & 0x1F) << 8) | pkt[2]


def pusi(pkt: bytes) -> bool:
    return bool(pkt[1] & 0x40)


def payload_start(pkt: bytes) -> int:
    return 5 + pkt[4] if pkt[3] & 0x20 else 4


def psi_packet(pid: int, section_wo_crc: bytes, cc: int = 0) -> bytes:
    sec = section_wo_crc + crc32_mpeg(section_wo_crc).to_bytes(4, "big")
    body = b"\x00" + sec
    hdr = bytes([0x47, 0x40 | (pid >> 8), pid & 0xFF, 0x10 | cc])
    return hdr + body + b"\xff" * (184 - len(body))


def pat_section(programs: list[tuple[int, int]], version: int = 0) -> bytes:
    loop = b"".join(n.to_bytes(2, "big") + (0xE000 | pid).to_bytes(2, "big") for n, pid in programs)
    length = 5 + len(loop) + 4
    return bytes([0x00, 0xB0 | (length >> 8), length & 0xFF, 0, 1, 0xC1 | (version << 1), 0, 0]) + loop


def feed_all(data: bytes, chunks: list[int] | None = None, mime: str = MIME) -> tuple[TsStreamParser,
                                                                                    list[ParserEvent]]:
    p = TsStreamParser(parse_mime(mime), "chromium")
    events: list[ParserEvent] = []
    if chunks is None:
        events += p.feed(data)
    else:
        pos = 0
        for c in chunks:
            events += p.feed(data[pos : pos + c])
            pos += c
        events += p.feed(data[pos:])
    return p, events


def frames(events: list[ParserEvent], track: int | None = None) -> list[CodedFrame]:
    out = [f for e in events if isinstance(e, FramesParsed) for f in e.frames]
    return [f for f in out if track is None or f.track_id == track]


def failures(events: list[ParserEvent]) -> list[ParseFailed]:
    return [e for e in events if isinstance(e, ParseFailed)]


def inits(events: list[ParserEvent]) -> list[InitSegmentParsed]:
    return [e for e in events if isinstance(e, InitSegmentParsed)]
