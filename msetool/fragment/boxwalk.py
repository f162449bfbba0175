"""The box walk of fragment's read-back and probe: box headers in a byte range, and the esds fields
packaging needs. Kept apart from :mod:`msetool.fragment.layout` so that the probe, which runs before
ffmpeg is spawned, reads the source's moov without loading layout's records (start-up is overhead the
user waits for); both read boxes through this one walk."""

from __future__ import annotations

import struct
from collections.abc import Iterator

from msetool.errors import ParseError

_HEAD = struct.Struct(">I4s")
_U64 = struct.Struct(">Q")


def walk(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(raw type, offset, size, header size) of each box in [start, end), lazily: a box that runs past
    ``end`` (or a truncated largesize) raises ParseError when the walk reaches it, so a search that stops
    early never sees what lies after its box."""
    pos = start
    while pos + 8 <= end:
        size, typ = _HEAD.unpack_from(data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise ParseError("truncated largesize", pos, typ.decode("latin-1"))
            size = _U64.unpack_from(data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ParseError(f"box size {size} runs past its parent", pos, typ.decode("latin-1"))
        yield typ, pos, size, header
        pos += size


def esds_fields(data: bytes, body: int, end: int) -> tuple[int, int]:
    """(objectTypeIndication, audioObjectType or 0 when there is no DecoderSpecificInfo) of the esds box
    whose body is [body, end)."""
    pos = body + 4
    oti = aot = 0
    while pos + 2 <= end:
        tag = data[pos]
        pos += 1
        size = 0
        for _ in range(4):
            byte = data[pos]
            pos += 1
            size = (size << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        if tag == 0x03:  # ES_Descriptor: ES_ID(2) + flags(1) [+ optional fields]
            flags = data[pos + 2]
            pos += 3
            if flags & 0x80:
                pos += 2
            if flags & 0x40:
                pos += 1 + data[pos]
            if flags & 0x20:
                pos += 2
            continue
        if tag == 0x04:  # DecoderConfigDescriptor
            oti = data[pos]
            pos += 13
            continue
        if tag == 0x05 and size:  # DecoderSpecificInfo = AudioSpecificConfig
            aot = data[pos] >> 3
            if aot == 31 and pos + 1 < end:
                aot = 32 + (((data[pos] & 7) << 3) | (data[pos + 1] >> 5))
            break
        pos += size
    return oti, aot
