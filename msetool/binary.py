"""Bounds-checked big-endian reading over bytes.

Every container format msetool reads (ISO BMFF, EBML, MPEG-2 TS, codec configuration records) is parsed
from untrusted bytes. :class:`Reader` is the one place that turns "ran out of bytes" into a
:class:`~msetool.errors.ParseError` carrying the absolute byte offset, so no parser needs its own length
checks and none can raise ``struct.error`` or ``IndexError``. :class:`BitReader` does the same for
bit-packed fields (SPS, AudioSpecificConfig, AV1 sequence headers).

Offsets: ``Reader(data, base=B)`` reports errors at ``B + position``, so a reader over one box's payload
still reports file offsets.
"""

from __future__ import annotations

import struct

from msetool.errors import ParseError

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_S32 = struct.Struct(">i")
_U64 = struct.Struct(">Q")
_S64 = struct.Struct(">q")
_S16 = struct.Struct(">h")


class Reader:
    """A cursor over ``data[start:end]`` reading big-endian integers; never reads past ``end``."""

    __slots__ = ("base", "data", "end", "path", "pos", "start")

    def __init__(
        self,
        data: bytes | bytearray | memoryview,
        start: int = 0,
        end: int | None = None,
        *,
        base: int = 0,
        path: str = "",
    ) -> None:
        self.data = data
        self.start = start
        self.pos = start
        self.end = len(data) if end is None else min(end, len(data))
        #: absolute offset of ``data[0]`` in the file/stream, for error messages
        self.base = base
        self.path = path

    # -- position ---------------------------------------------------------------------------------------
    @property
    def offset(self) -> int:
        """Absolute offset of the cursor."""
        return self.base + self.pos

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def fail(self, reason: str, at: int | None = None) -> ParseError:
        """A ParseError located at the cursor (or at relative position ``at``)."""
        return ParseError(reason, self.base + (self.pos if at is None else at), self.path)

    def need(self, n: int, what: str = "") -> None:
        if n < 0 or self.pos + n > self.end:
            label = f" for {what}" if what else ""
            raise self.fail(f"needs {n} bytes{label}, {max(self.end - self.pos, 0)} left")

    def skip(self, n: int) -> None:
        self.need(n)
        self.pos += n

    def seek(self, pos: int) -> None:
        if not self.start <= pos <= self.end:
            raise self.fail(f"position {pos - self.start} outside 0..{self.end - self.start}")
        self.pos = pos

    def sub(self, n: int, path: str | None = None) -> Reader:
        """A reader over the next ``n`` bytes; the cursor moves past them."""
        self.need(n)
        r = Reader(self.data, self.pos, self.pos + n, base=self.base,
                   path=self.path if path is None else path)
        self.pos += n
        return r

    # -- integers ---------------------------------------------------------------------------------------
    def u8(self) -> int:
        p = self.pos
        if p >= self.end:
            raise self.fail("needs 1 byte, 0 left")
        self.pos = p + 1
        return self.data[p]

    def u16(self) -> int:
        p = self.pos
        if p + 2 > self.end:
            self.need(2)
        self.pos = p + 2
        return int(_U16.unpack_from(self.data, p)[0])

    def s16(self) -> int:
        p = self.pos
        if p + 2 > self.end:
            self.need(2)
        self.pos = p + 2
        return int(_S16.unpack_from(self.data, p)[0])

    def u24(self) -> int:
        p = self.pos
        if p + 3 > self.end:
            self.need(3)
        self.pos = p + 3
        d = self.data
        return (d[p] << 16) | (d[p + 1] << 8) | d[p + 2]

    def u32(self) -> int:
        p = self.pos
        if p + 4 > self.end:
            self.need(4)
        self.pos = p + 4
        return int(_U32.unpack_from(self.data, p)[0])

    def s32(self) -> int:
        p = self.pos
        if p + 4 > self.end:
            self.need(4)
        self.pos = p + 4
        return int(_S32.unpack_from(self.data, p)[0])

    def u64(self) -> int:
        p = self.pos
        if p + 8 > self.end:
            self.need(8)
        self.pos = p + 8
        return int(_U64.unpack_from(self.data, p)[0])

    def s64(self) -> int:
        p = self.pos
        if p + 8 > self.end:
            self.need(8)
        self.pos = p + 8
        return int(_S64.unpack_from(self.data, p)[0])

    def uint(self, nbytes: int) -> int:
        """An unsigned integer of 1..8 bytes (variable-width fields such as avcC NAL length sizes)."""
        self.need(nbytes)
        v = int.from_bytes(self.data[self.pos : self.pos + nbytes], "big")
        self.pos += nbytes
        return v

    def fourcc(self) -> str:
        """Four bytes as a latin-1 string: every byte value maps to one character, so it never fails."""
        self.need(4)
        p = self.pos
        self.pos = p + 4
        return bytes(self.data[p : p + 4]).decode("latin-1")

    def fixed16_16(self) -> float:
        return self.s32() / 65536.0

    def ufixed16_16(self) -> float:
        return self.u32() / 65536.0

    def fixed8_8(self) -> float:
        return self.s16() / 256.0

    def read(self, n: int) -> bytes:
        self.need(n)
        p = self.pos
        self.pos = p + n
        return bytes(self.data[p : p + n])

    def rest(self) -> bytes:
        return self.read(self.end - self.pos)

    def cstring(self) -> str:
        """A NUL-terminated UTF-8 string (hdlr name, schm URI); unterminated runs to the end."""
        d = bytes(self.data[self.pos : self.end])
        i = d.find(b"\0")
        raw = d if i < 0 else d[:i]
        self.pos += len(d) if i < 0 else i + 1
        return raw.decode("utf-8", "replace")


class BitReader:
    """MSB-first bit reader for bit-packed syntax (H.264 SPS with Exp-Golomb codes, AudioSpecificConfig)."""

    __slots__ = ("base", "bitend", "bitpos", "data")

    def __init__(self, data: bytes, *, base: int = 0) -> None:
        self.data = data
        self.bitpos = 0
        self.bitend = len(data) * 8
        self.base = base

    @property
    def bits_left(self) -> int:
        return self.bitend - self.bitpos

    def bits(self, n: int) -> int:
        if n < 0 or self.bitpos + n > self.bitend:
            raise self._short(n)
        v = 0
        for _ in range(n):
            byte = self.data[self.bitpos >> 3]
            v = (v << 1) | ((byte >> (7 - (self.bitpos & 7))) & 1)
            self.bitpos += 1
        return v

    def _short(self, n: int) -> ParseError:
        return ParseError(f"needs {n} bits, {self.bitend - self.bitpos} left", self.base + self.bitpos // 8)

    def flag(self) -> bool:
        return self.bits(1) == 1

    def skip(self, n: int) -> None:
        self.bits(n) if n <= 64 else self._skip_many(n)

    def _skip_many(self, n: int) -> None:
        if self.bitpos + n > self.bitend:
            raise self._short(n)
        self.bitpos += n

    def ue(self) -> int:
        """Exp-Golomb unsigned (H.264/H.265 ue(v))."""
        zeros = 0
        while self.bits(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ParseError("Exp-Golomb code longer than 32 bits", self.base + self.bitpos // 8)
        return (1 << zeros) - 1 + (self.bits(zeros) if zeros else 0)

    def se(self) -> int:
        """Exp-Golomb signed (se(v))."""
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)

    def leb128(self) -> int:
        """AV1 leb128() (byte aligned)."""
        v = 0
        for i in range(8):
            b = self.bits(8)
            v |= (b & 0x7F) << (7 * i)
            if not b & 0x80:
                break
        return v


def unescape_rbsp(nal: bytes) -> bytes:
    """Remove H.264/H.265 emulation prevention bytes (00 00 03 -> 00 00)."""
    if b"\x00\x00\x03" not in nal:
        return nal
    out = bytearray()
    zeros = 0
    for b in nal:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)
