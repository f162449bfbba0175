"""The byte-level readers behind the decode predicates (msetool.codecs.decodable) against bit-by-bit
references: their short cuts (whole fields at once, slice headers without emulation prevention bytes)
must read exactly what a one-bit-at-a-time reader reads, errors past the end included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.codecs.decodable import _RawBits, _rbsp, _rbsp_loop


def _bit_by_bit(data: bytes, pos: int, n: int) -> int:
    v = 0
    for _ in range(n):
        v = (v << 1) | ((data[pos >> 3] >> (7 - (pos & 7))) & 1)
        pos += 1
    return v


@settings(max_examples=2000, deadline=None)
@given(data=st.binary(max_size=20), widths=st.lists(st.integers(0, 40), max_size=10))
def test_raw_bits_reads_what_a_bit_by_bit_reader_reads(data: bytes, widths: list[int]) -> None:
    r = _RawBits(data)
    pos = 0
    for n in widths:
        if n and pos + n > 8 * len(data):
            try:
                r.read(n)
            except IndexError:
                return
            raise AssertionError("read past the end did not raise IndexError")
        assert r.read(n) == _bit_by_bit(data, pos, n)
        pos += n
        assert r.pos == pos


@settings(max_examples=3000, deadline=None)
@given(nal=st.lists(st.sampled_from([0, 0, 0, 3, 1, 0x65, 0xFF]), max_size=90).map(bytes),
       limit=st.sampled_from([1, 2, 4, 16, 64]))
def test_rbsp_removes_emulation_prevention_like_the_byte_loop(nal: bytes, limit: int) -> None:
    assert _rbsp(nal, limit) == _rbsp_loop(nal, limit)
