"""EBML element headers: variable-length IDs and sizes (RFC 8794 §4).

Everything here works on a bytes-like window and an offset, so the same code serves the incremental
stream parser (a growing byte queue) and the file walker (windows read from a ByteSource). A header that is
cut short is "need more data" (None); a header no EBML reader could accept raises :class:`EbmlError` with
the offset, because the caller must then report a finding or a ParseFailed rather than guess.

Limits follow what WebM readers accept in practice (Chromium's webm_parser.cc): IDs are at most 4 bytes,
sizes at most 8 bytes; a size whose value bits are all ones means "unknown size".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

#: Maximum ID length (EBMLMaxIDLength default) and size length (EBMLMaxSizeLength default).
MAX_ID_LENGTH = 4
MAX_SIZE_LENGTH = 8

#: Nesting limit for walkers: real WebM nests 7 levels at most (Segment/Tracks/TrackEntry/Video/Colour/
#: MasteringMetadata/...); anything deeper is corrupt data, not a file to recurse into.
MAX_DEPTH = 16

Buffer = bytes | bytearray | memoryview


class EbmlError(Exception):
    """Bytes that cannot be an EBML element header (or value) at ``offset``."""

    def __init__(self, reason: str, offset: int) -> None:
        self.reason = reason
        self.offset = offset
        super().__init__(f"@{offset}: {reason}")


@dataclass(frozen=True, slots=True)
class Header:
    """An element header: ``id`` keeps its length marker (0x1A45DFA3), ``size`` is None when unknown."""

    id: int
    size: int | None
    header_size: int

    @property
    def unknown_size(self) -> bool:
        return self.size is None


def vint_length(first: int, max_len: int) -> int:
    """Length in bytes announced by the leading zero bits of ``first``; 0 if longer than ``max_len``."""
    for i in range(max_len):
        if first & (0x80 >> i):
            return i + 1
    return 0


def parse_header(buf: Buffer, pos: int = 0, end: int | None = None, base: int = 0) -> Header | None:
    """Parse the element header at ``buf[pos:]``; None when ``buf`` ends inside it.

    ``base`` is added to offsets in errors so they count from the start of the stream or file.
    """
    if end is None:
        end = len(buf)
    if pos >= end:
        return None
    first = buf[pos]
    id_len = vint_length(first, MAX_ID_LENGTH)
    if id_len == 0:
        raise EbmlError(f"invalid element ID: first byte 0x{first:02X} announces over 4 bytes", base + pos)
    if pos + id_len > end:
        return None
    eid = int.from_bytes(buf[pos : pos + id_len], "big")
    spos = pos + id_len
    if spos >= end:
        return None
    sfirst = buf[spos]
    size_len = vint_length(sfirst, MAX_SIZE_LENGTH)
    if size_len == 0:
        raise EbmlError("invalid element size: first byte 0x00 (VINT_WIDTH over 8 bytes)", base + spos)
    if spos + size_len > end:
        return None
    mask = (1 << (7 * size_len)) - 1
    raw = int.from_bytes(buf[spos : spos + size_len], "big") & mask
    size: int | None = None if raw == mask else raw
    return Header(eid, size, id_len + size_len)


def read_uint(data: Buffer) -> int:
    """Unsigned integer element value (0-8 bytes, big-endian; empty means 0 per RFC 8794 §7.2)."""
    if len(data) > 8:
        raise ValueError("unsigned integer longer than 8 bytes")
    return int.from_bytes(data, "big") if data else 0


def read_float(data: Buffer) -> float:
    """Float element value: 0, 4 or 8 bytes (RFC 8794 §7.3)."""
    n = len(data)
    if n == 0:
        return 0.0
    if n == 4:
        return float(struct.unpack(">f", bytes(data))[0])
    if n == 8:
        return float(struct.unpack(">d", bytes(data))[0])
    raise ValueError(f"float element of {n} bytes (must be 0, 4 or 8)")


def read_string(data: Buffer) -> str:
    """ASCII/UTF-8 string element value, cut at the first NUL (RFC 8794 §7.4-7.5)."""
    raw = bytes(data)
    nul = raw.find(b"\0")
    if nul >= 0:
        raw = raw[:nul]
    return raw.decode("utf-8", errors="replace")
