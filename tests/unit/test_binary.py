"""The bounds-checked reader: every short read is a ParseError at the absolute offset, never IndexError."""

from __future__ import annotations

import pytest

from msetool.binary import BitReader, Reader, unescape_rbsp
from msetool.errors import ParseError


def test_integers_big_endian() -> None:
    r = Reader(bytes.fromhex("01 0203 040506 0708090a 0b0c0d0e0f101112 ffffffff 6d6f6f66"))
    assert r.u8() == 1
    assert r.u16() == 0x0203
    assert r.u24() == 0x040506
    assert r.u32() == 0x0708090A
    assert r.u64() == 0x0B0C0D0E0F101112
    assert r.s32() == -1
    assert r.fourcc() == "moof"
    assert r.remaining == 0


def test_fixed_point() -> None:
    r = Reader(bytes.fromhex("00018000 0100 ffff0000"))
    assert r.fixed16_16() == 1.5
    assert r.fixed8_8() == 1.0
    assert r.fixed16_16() == -1.0


def test_short_read_reports_absolute_offset() -> None:
    r = Reader(b"\x00\x00\x00\x01\x02", 0, base=1000, path="moof[0]/mfhd")
    r.u32()
    with pytest.raises(ParseError) as e:
        r.u32()
    assert e.value.offset == 1004
    assert e.value.path == "moof[0]/mfhd"
    assert "needs 4 bytes" in e.value.reason


def test_end_bound_is_respected_inside_larger_buffer() -> None:
    data = b"\x11\x22\x33\x44\x55\x66"
    r = Reader(data, 1, 3)
    assert r.u16() == 0x2233
    with pytest.raises(ParseError):
        r.u8()


def test_sub_reader_moves_parent_and_bounds_child() -> None:
    r = Reader(b"abcdefgh")
    sub = r.sub(3)
    assert r.pos == 3
    assert sub.read(3) == b"abc"
    with pytest.raises(ParseError):
        r.sub(10)


def test_fourcc_never_fails_on_binary() -> None:
    assert Reader(b"\xff\x00\x80\xa9").fourcc() == "\xff\x00\x80\xa9"


def test_cstring_with_and_without_terminator() -> None:
    r = Reader(b"urn:a\x00rest")
    assert r.cstring() == "urn:a"
    assert r.cstring() == "rest"


def test_bitreader_exp_golomb() -> None:
    # 1 | 010 | 011 | 00100 -> ue 0, 1, 2, 3
    b = BitReader(bytes([0b10100110, 0b01000000]))
    assert [b.ue(), b.ue(), b.ue(), b.ue()] == [0, 1, 2, 3]


def test_bitreader_signed_and_overrun() -> None:
    b = BitReader(bytes([0b01001100]))  # ue 1 -> se +1, ue 2 -> se -1
    assert b.se() == 1
    assert b.se() == -1
    with pytest.raises(ParseError):
        b.bits(8)


def test_unescape_rbsp() -> None:
    assert unescape_rbsp(b"\x00\x00\x03\x01\x00\x00\x03") == b"\x00\x00\x01\x00\x00"
    assert unescape_rbsp(b"\x67\x42") == b"\x67\x42"
